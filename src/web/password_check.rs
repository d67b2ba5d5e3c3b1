//! A password check under the sign-in throttle, and the audit of a failed one: shared by
//! signing in (`auth`) and changing one's own password (`accounts`), so that neither handler
//! file imports the other.

use actix_web::{web, HttpRequest};
use diesel::SqliteConnection;

use super::error::AppError;
use super::throttle::Lockout;
use super::AppState;
use crate::accounts::HashMemory;

/// The outcome of a password check counted by the sign-in throttle.
pub enum PasswordCheck<T, W> {
    /// The login or the client address has used up its attempts: nothing was checked.
    Throttled,
    /// The password was right (or never checked): the attempt does not count.
    Right(T),
    /// The password was wrong: the attempt counts, and may have locked the login or address.
    Wrong(W, Lockout),
}

/// A password check (a sign-in, or the current password of a password change) under the
/// sign-in throttle: the attempt is reserved before the argon2 work, so concurrent attempts
/// cannot outrun the limit; `check` answers `Err` for a wrong password. An attempt that was
/// never checked (busy, or the database did not answer) does not count.
pub async fn throttled_password_check<T, W, F>(
    state: &AppState,
    req: &HttpRequest,
    login: &str,
    check: F,
) -> Result<PasswordCheck<T, W>, AppError>
where
    F: FnOnce(&mut SqliteConnection, &mut HashMemory) -> Result<Result<T, W>, AppError>
        + Send
        + 'static,
    T: Send + 'static,
    W: Send + 'static,
{
    let ip = super::security::client_address(req, state.settings.trust_proxy);
    let Some(attempt) = state.login_throttle.reserve(login, ip) else {
        return Ok(PasswordCheck::Throttled);
    };
    match state.with_argon2(check).await {
        Ok(Ok(right)) => {
            state.login_throttle.release(attempt);
            Ok(PasswordCheck::Right(right))
        }
        Ok(Err(wrong)) => Ok(PasswordCheck::Wrong(
            wrong,
            state.login_throttle.failed(attempt),
        )),
        Err(error) => {
            state.login_throttle.release(attempt);
            Err(error)
        }
    }
}

/// Audits a failed password check (a sign-in, or the current password of a password change)
/// and the lockout it caused. A failed audit write is logged; it does not change the answer.
pub async fn audit_failure(
    state: &web::Data<AppState>,
    account: Option<(i32, String)>,
    action: &'static str,
    lockout: Lockout,
) {
    let written = state
        .with_conn(move |conn| {
            let account = account.as_ref().map(|(id, login)| (*id, login.as_str()));
            crate::audit::record_sign_in(conn, account, action)?;
            if lockout.login {
                crate::audit::record_sign_in(conn, account, "sign-in locked")?;
            }
            if lockout.address {
                crate::audit::record_sign_in(conn, account, "sign-ins from one address locked")?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .await;
    if let Err(error) = written {
        tracing::warn!(%error, "a failed sign-in could not be audited");
    }
}
