//! The dashboard session: a signed and encrypted cookie (actix-session) holding only the
//! account id with its session epoch, a CSRF token, the time of the last request and the
//! time the session ends at the latest.
//!
//! Ending a session on the server: the account's `session_epoch` (in the database) must match
//! the cookie's. Signing out, a new password and disabling the account move it on, so every
//! copy of the cookie stops working at once (`auth::sign_out`, `accounts::end_sessions`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use rand::RngCore;

use crate::accounts::SignIn;

/// Sessions end after this long without a request.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

const ACCOUNT: &str = "account";
const EPOCH: &str = "epoch";
const CSRF: &str = "csrf";
const LAST_SEEN: &str = "last_seen";
const UNTIL: &str = "until";
const NOTICE: &str = "notice";

/// Typed access to the session (no stringly-typed keys in handlers).
pub struct TypedSession(Session);

impl TypedSession {
    /// Starts a signed-in session: a fresh session id and a fresh CSRF token. It ends after
    /// `lifetime` however active it is (on top of the idle timeout).
    pub fn sign_in(
        &self,
        signed_in: SignIn,
        lifetime: Duration,
    ) -> Result<(), actix_session::SessionInsertError> {
        self.0.renew();
        self.0.insert(ACCOUNT, signed_in.account_id)?;
        self.0.insert(EPOCH, signed_in.epoch)?;
        self.0
            .insert(UNTIL, now().saturating_add(lifetime.as_secs()))?;
        self.0.insert(CSRF, new_token())?;
        self.touch()
    }

    /// Keeps this session signed in after its own password change moved the epoch on.
    pub fn renew_epoch(&self, epoch: i32) -> Result<(), actix_session::SessionInsertError> {
        self.0.insert(EPOCH, epoch)
    }

    pub fn sign_out(&self) {
        self.0.purge();
    }

    /// The signed-in account, unless the session is missing, has been idle too long or has
    /// reached the end of its lifetime. (Whether its epoch is still the account's is checked
    /// against the database by `accounts::load_account`.)
    pub fn signed_in(&self) -> Option<SignIn> {
        let account_id = self.0.get::<i32>(ACCOUNT).ok().flatten()?;
        let epoch = self.0.get::<i32>(EPOCH).ok().flatten()?;
        let last_seen = self.0.get::<u64>(LAST_SEEN).ok().flatten().unwrap_or(0);
        // A session from before lifetimes existed has none: it has ended.
        let until = self.0.get::<u64>(UNTIL).ok().flatten().unwrap_or(0);
        if now().saturating_sub(last_seen) > IDLE_TIMEOUT.as_secs() || now() >= until {
            self.0.purge();
            return None;
        }
        // Refreshing at most once a minute keeps the cookie from being rewritten on every
        // request.
        if now().saturating_sub(last_seen) > 60 {
            let _ = self.touch();
        }
        Some(SignIn { account_id, epoch })
    }

    /// The session's CSRF token, created on first use (the login form needs one too).
    pub fn csrf_token(&self) -> String {
        match self.0.get::<String>(CSRF).ok().flatten() {
            Some(token) => token,
            None => {
                let token = new_token();
                let _ = self.0.insert(CSRF, &token);
                token
            }
        }
    }

    /// Whether a submitted form carries this session's token.
    pub fn csrf_matches(&self, submitted: &str) -> bool {
        let expected = self.0.get::<String>(CSRF).ok().flatten();
        expected.is_some_and(|token| constant_time_eq(token.as_bytes(), submitted.as_bytes()))
    }

    /// Leaves a message (its catalogue key and a value: a `{name}` placeholder's or the workplace it concerns) for the
    /// next page this session shows: what an action that redirects has done.
    pub fn leave_notice(
        &self,
        key: &str,
        name: &str,
    ) -> Result<(), actix_session::SessionInsertError> {
        self.0.insert(NOTICE, (key, name))
    }

    /// The message left by [`TypedSession::leave_notice`], once.
    pub fn take_notice(&self) -> Option<(String, String)> {
        // `remove` marks the session changed even when there is nothing to remove, and a
        // changed session is encrypted and sent again: look first, so that a page without a
        // notice leaves the cookie alone.
        if !self.0.entries().contains_key(NOTICE) {
            return None;
        }
        self.0.remove_as::<(String, String)>(NOTICE)?.ok()
    }

    fn touch(&self) -> Result<(), actix_session::SessionInsertError> {
        self.0.insert(LAST_SEEN, now())
    }
}

impl TypedSession {
    /// The request's session.
    pub fn of(req: &HttpRequest) -> Self {
        TypedSession(req.get_session())
    }
}

impl FromRequest for TypedSession {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<TypedSession, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(Ok(TypedSession::of(req)))
    }
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
