//! Sign-in and sign-out for HR and managers, and the check every dashboard route makes.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::pages::{language, AppError, LangQuery};
use super::session::TypedSession;
use super::AppState;
use crate::accounts::{self, Account};
use crate::i18n::Lang;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/login")
            .route(web::get().to(login_page))
            .route(web::post().to(sign_in)),
    );
    cfg.service(web::resource("/logout").route(web::post().to(sign_out)));
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
    password: String,
    csrf: String,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

/// The signed-in account, or `NotSignedIn`.
pub async fn current_account(
    state: &web::Data<AppState>,
    session: &TypedSession,
) -> Result<Account, AppError> {
    let signed_in = session.signed_in().ok_or(AppError::NotSignedIn)?;
    let account = state
        .with_conn(move |conn| {
            accounts::load_account(conn, signed_in).map_err(AppError::unavailable)
        })
        .await?;
    account.ok_or_else(|| {
        session.sign_out();
        AppError::NotSignedIn
    })
}

/// The signed-in account if it is HR's; `Forbidden` for a manager.
pub async fn current_hr(
    state: &web::Data<AppState>,
    session: &TypedSession,
) -> Result<Account, AppError> {
    let account = current_account(state, session).await?;
    if account.role != accounts::Role::Hr {
        return Err(AppError::Forbidden);
    }
    Ok(account)
}

/// A dashboard page's error: not signed in goes to the login page, the rest is a page.
pub fn page_error(state: &AppState, lang: Lang, error: AppError) -> HttpResponse {
    match error {
        AppError::NotSignedIn => redirect("/login"),
        other => state.pages.error(lang, &other),
    }
}

pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
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
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let lang = language(&req, None);
    if !session.csrf_matches(&form.csrf) {
        return state.pages.error(lang, &AppError::Forbidden);
    }
    let login = form.login.trim().to_string();
    let ip = super::security::client_address(&req, state.settings.trust_proxy);
    // Counted before the password is checked, so concurrent attempts cannot outrun the limit.
    let Some(attempt) = state.login_throttle.reserve(&login, ip) else {
        return render_login(
            &state,
            lang,
            &session,
            StatusCode::TOO_MANY_REQUESTS,
            Some("login_throttled"),
        );
    };
    let password = form.password.clone();
    let checked_login = login.clone();
    let verified = state
        .with_argon2(move |conn, memory| {
            let credentials =
                accounts::credentials(conn, &checked_login).map_err(AppError::unavailable)?;
            Ok((
                credentials.account_id(),
                credentials.check(memory, &password),
            ))
        })
        .await;
    match verified {
        Ok((_, Some(signed_in))) => {
            state.login_throttle.release(attempt);
            let account_id = signed_in.account_id;
            if session
                .sign_in(signed_in, state.settings.session_lifetime)
                .is_err()
            {
                return state
                    .pages
                    .error(lang, &AppError::internal("cannot write the session"));
            }
            let _ = state
                .writer
                .audit(crate::collection::writer::AuditRow {
                    account_id,
                    action: "sign in",
                    detail: String::new(),
                })
                .await;
            redirect("/dashboard")
        }
        Ok((account_id, None)) => {
            let lockout = state.login_throttle.failed(attempt);
            let account = account_id.map(|id| (id, login));
            audit_failure(&state, account, "failed sign-in", lockout).await;
            render_login(
                &state,
                lang,
                &session,
                StatusCode::UNAUTHORIZED,
                Some("login_failed"),
            )
        }
        Err(error) => {
            // Never checked (busy, or the database did not answer): it does not count.
            state.login_throttle.release(attempt);
            state.pages.error(lang, &error)
        }
    }
}

/// Audits a failed password check (a sign-in, or the current password of a password change)
/// and the lockout it caused. A failed audit write is logged; it does not change the answer.
pub async fn audit_failure(
    state: &web::Data<AppState>,
    account: Option<(i32, String)>,
    action: &'static str,
    lockout: super::throttle::Lockout,
) {
    let written = state
        .with_conn(move |conn| {
            let account = account.as_ref().map(|(id, login)| (*id, login.as_str()));
            let mut record = |action| {
                crate::audit::record_sign_in(conn, account, action).map_err(AppError::unavailable)
            };
            record(action)?;
            if lockout.login {
                record("sign-in locked")?;
            }
            if lockout.address {
                record("sign-ins from one address locked")?;
            }
            Ok(())
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
    req: HttpRequest,
    session: TypedSession,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let lang = language(&req, None);
    if !session.csrf_matches(&form.csrf) {
        return state.pages.error(lang, &AppError::Forbidden);
    }
    if let Some(signed_in) = session.signed_in() {
        let ended = state
            .with_conn(move |conn| {
                accounts::end_sessions(conn, signed_in).map_err(AppError::unavailable)
            })
            .await;
        match ended {
            Ok(true) => {
                let _ = state
                    .writer
                    .audit(crate::collection::writer::AuditRow {
                        account_id: signed_in.account_id,
                        action: "sign out",
                        detail: String::new(),
                    })
                    .await;
            }
            Ok(false) => {}
            // The cookie goes, but copies of it would live on: say so.
            Err(error) => {
                session.sign_out();
                return state.pages.error(lang, &error);
            }
        }
    }
    session.sign_out();
    redirect("/login")
}
