//! Sign-in and sign-out for HR and managers, and the check every dashboard route makes.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::error::AppError;
use super::extract::{carries_csrf, CsrfOnly, WithCsrf};
use super::pages::{language, LangQuery};
use super::password_check::{audit_failure, throttled_password_check, PasswordCheck};
use super::redirect;
use super::session::TypedSession;
use super::AppState;
use crate::accounts;
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
