//! Sign-in and sign-out for HR and managers, and the check every dashboard route makes.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::error::AppError;
use super::extract::{carries_csrf, CsrfOnly, WithCsrf};
use super::pages::{language, LangQuery};
use super::redirect;
use super::session::TypedSession;
use super::AppState;
use diesel::SqliteConnection;

use super::throttle::Lockout;
use crate::accounts::{self, HashMemory};
use crate::audit::AuditRow;
use crate::i18n::Lang;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/login")
            .route(web::get().to(login_page))
            .route(web::post().to(sign_in)),
    );
    cfg.service(web::resource("/logout").route(web::post().to(sign_out)));
}

carries_csrf!(LoginForm);

#[derive(Deserialize)]
struct LoginForm {
    login: String,
    password: String,
    csrf: String,
}

fn render_login(
    state: &AppState,
    lang: Lang,
    session: &TypedSession,
    status: StatusCode,
    error: Option<&str>,
) -> HttpResponse {
    let mut context = state.pages.context(lang);
    context.insert(
        "lang_switch_href",
        &format!("/login?lang={}", lang.other().code()),
    );
    context.insert("csrf", &session.csrf_token());
    context.insert(
        "error",
        &error.map(|key| state.pages.message(lang, key).to_string()),
    );
    state.pages.html(status, "login.html", &context)
}

async fn login_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    query: web::Query<LangQuery>,
) -> HttpResponse {
    let lang = language(&req, query.lang.as_deref());
    if session.signed_in().is_some() {
        return redirect("/dashboard");
    }
    super::pages::remember_language(
        render_login(&state, lang, &session, StatusCode::OK, None),
        query.lang.as_deref(),
    )
}

async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    WithCsrf((), form): WithCsrf<(), LoginForm>,
) -> Result<HttpResponse, AppError> {
    let lang = language(&req, None);
    let login = form.login.trim().to_string();
    let answer = |status, key| Ok(render_login(&state, lang, &session, status, Some(key)));
    let (checked_login, password) = (login.clone(), form.password);
    let check = throttled_password_check(&state, &req, &login, move |conn, memory| {
        let credentials = accounts::credentials(conn, &checked_login)?;
        Ok(credentials
            .check(memory, &password)
            .ok_or(credentials.account_id()))
    });
    match check.await? {
        PasswordCheck::Throttled => answer(StatusCode::TOO_MANY_REQUESTS, "login_throttled"),
        PasswordCheck::Wrong(account_id, lockout) => {
            let account = account_id.map(|id| (id, login));
            audit_failure(&state, account, "failed sign-in", lockout).await;
            answer(StatusCode::UNAUTHORIZED, "login_failed")
        }
        PasswordCheck::Right(signed_in) => {
            session.sign_in(signed_in, state.settings.session_lifetime)?;
            state
                .audit_quietly(AuditRow::new(signed_in.account_id, "sign in"))
                .await;
            Ok(redirect("/dashboard"))
        }
    }
}

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

/// Signing out ends the session everywhere: the account's session epoch moves on, so a copy
/// of this cookie (or the account's sessions in other browsers) no longer signs anyone in.
async fn sign_out(
    state: web::Data<AppState>,
    session: TypedSession,
    _: WithCsrf<(), CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    if let Some(signed_in) = session.signed_in() {
        let ended = state
            .with_conn(move |conn| accounts::end_sessions(conn, signed_in))
            .await
            // The cookie goes, but copies of it would live on: say so.
            .inspect_err(|_| session.sign_out())?;
        if ended {
            let row = AuditRow::new(signed_in.account_id, "sign out");
            state.audit_quietly(row).await;
        }
    }
    session.sign_out();
    Ok(redirect("/login"))
}
