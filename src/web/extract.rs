//! Who may call a route, stated in its signature: [`SignedIn`], [`Hr`] and [`Manager`] load
//! the session's account and check its role; [`WithCsrf`] reads a form and checks its CSRF
//! token against the session's. A failed check is an [`AppError`], rendered like any other.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use super::error::AppError;
use super::session::TypedSession;
use super::AppState;
use crate::accounts::{self, Account, Role};

type Extracted<T> = Pin<Box<dyn Future<Output = Result<T, actix_web::Error>>>>;

/// The signed-in account, whatever its role; without a live session, `NotSignedIn`.
pub struct SignedIn(pub Account);

/// The signed-in account if it is HR's; `Forbidden` for a manager.
pub struct Hr(pub Account);

/// The signed-in account if it is a manager's; `Forbidden` for HR.
pub struct Manager(pub Account);

/// A form of a signed-in route: `W` says who may post it, and the form's CSRF token must be
/// the session's. The form is read first (a malformed body is refused as it is), then the
/// account, then the token.
pub struct WithCsrf<W, F>(pub W, pub F);

/// An HR form.
pub type HrWithCsrf<F> = WithCsrf<Hr, F>;

/// A form that carries the session's CSRF token.
pub trait CarriesCsrf {
    fn csrf(&self) -> &str;
}

/// Implements [`CarriesCsrf`] for forms with a `csrf` field.
macro_rules! carries_csrf {
    ($($form:ty),+ $(,)?) => {
        $(impl $crate::web::extract::CarriesCsrf for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })+
    };
}
pub(super) use carries_csrf;

/// A form with nothing but its token (sign-out, disabling an account, closing a wave).
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    pub csrf: String,
}

carries_csrf!(CsrfOnly);

fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::internal("the application state is missing"))
}

/// The session's account, or `NotSignedIn` (a session whose account was disabled or whose
/// epoch moved on is ended here).
async fn signed_in_account(req: &HttpRequest) -> Result<Account, AppError> {
    let state = state_of(req)?;
    let session = TypedSession::of(req);
    let signed_in = session.signed_in().ok_or(AppError::NotSignedIn)?;
    let account = state
        .with_conn(move |conn| accounts::load_account(conn, signed_in))
        .await?;
    account.ok_or_else(|| {
        session.sign_out();
        AppError::NotSignedIn
    })
}

async fn account_with_role(req: &HttpRequest, role: Role) -> Result<Account, AppError> {
    let account = signed_in_account(req).await?;
    if account.role != role {
        return Err(AppError::Forbidden);
    }
    Ok(account)
}

impl FromRequest for SignedIn {
    type Error = actix_web::Error;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(SignedIn(signed_in_account(&req).await?)) })
    }
}

impl FromRequest for Hr {
    type Error = actix_web::Error;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(Hr(account_with_role(&req, Role::Hr).await?)) })
    }
}

impl FromRequest for Manager {
    type Error = actix_web::Error;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(Manager(account_with_role(&req, Role::Manager).await?)) })
    }
}

impl<W, F> FromRequest for WithCsrf<W, F>
where
    W: FromRequest + 'static,
    W::Error: Into<actix_web::Error>,
    F: DeserializeOwned + CarriesCsrf + 'static,
{
    type Error = actix_web::Error;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<F>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let form = form.await?.into_inner();
            let who = W::extract(&req).await.map_err(Into::into)?;
            if !TypedSession::of(&req).csrf_matches(form.csrf()) {
                return Err(AppError::Forbidden.into());
            }
            Ok(WithCsrf(who, form))
        })
    }
}
