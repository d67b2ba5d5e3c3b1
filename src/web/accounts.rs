//! Accounts on the web: HR adds accounts, gives a manager new workplaces after a transfer,
//! sets a new password and disables an account, and reads the audit log of what accounts
//! did; everyone changes their own password.
//! Every POST needs the session's CSRF token; every `/hr/…` route an HR account.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::{current_account, current_hr, page_error, redirect, CsrfForm};
use super::hr::{audit, hr_with_token};
use super::pages::{language, AppError, LangQuery};
use super::session::TypedSession;
use super::AppState;
use crate::accounts::{self, Account, AccountError, AccountSummary, Role};
use crate::i18n::Lang;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/hr/users").route(web::post().to(add_account)));
    cfg.service(web::resource("/hr/accounts/{id}").route(web::get().to(account_page)));
    cfg.service(
        web::resource("/hr/accounts/{id}/workplaces").route(web::post().to(set_workplaces)),
    );
    cfg.service(web::resource("/hr/accounts/{id}/password").route(web::post().to(reset_password)));
    cfg.service(web::resource("/hr/accounts/{id}/disable").route(web::post().to(disable)));
    cfg.service(web::resource("/hr/audit").route(web::get().to(audit_log)));
    cfg.service(web::resource("/account").route(web::get().to(own_account_page)));
    cfg.service(web::resource("/account/password").route(web::post().to(change_own_password)));
}

/// A domain refusal becomes a 400 with its reason; storage trouble stays a 503.
fn refusal(error: AccountError) -> AppError {
    match error {
        AccountError::Database(e) => AppError::unavailable(e),
        AccountError::Hash(e) => AppError::internal(e),
        other => AppError::Rejected(super::refusals::account(&other)),
    }
}

/// Workplace codes as typed: separated by commas (ASCII or Japanese) or spaces.
fn workplace_codes(typed: &str) -> Vec<String> {
    typed
        .split([',', ' ', '、', '　'])
        .map(str::trim)
        .filter(|code| !code.is_empty())
        .map(str::to_string)
        .collect()
}

#[derive(Deserialize)]
struct NewAccount {
    csrf: String,
    login: String,
    password: String,
    /// "manager" (the default) or "hr".
    role: Option<String>,
    /// A manager's workplace codes; empty for HR.
    #[serde(default)]
    workplaces: String,
}

async fn add_account(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    form: web::Form<NewAccount>,
) -> HttpResponse {
    let lang = language(&req, None);
    let result = async {
        let account = hr_with_token(&state, &session, &form.csrf).await?;
        let role = match form.role.as_deref() {
            None => Role::Manager,
            Some(role) => Role::parse(role).ok_or(AppError::BadRequest)?,
        };
        let login = form.login.trim().to_string();
        let password = form.password.clone();
        let workplaces = workplace_codes(&form.workplaces);
        let detail = format!("{login} ({})", role.as_str());
        state
            .with_argon2(move |conn, memory| {
                accounts::add_user_in(conn, memory, &login, role, &password, &workplaces)
                    .map_err(refusal)
            })
            .await?;
        audit(&state, account.id, "add account", detail).await?;
        Ok(redirect("/dashboard"))
    }
    .await;
    result.unwrap_or_else(|error| page_error(&state, lang, error))
}

async fn find_account(state: &web::Data<AppState>, id: i32) -> Result<AccountSummary, AppError> {
    state
        .with_conn(move |conn| accounts::summary(conn, id).map_err(AppError::unavailable))
        .await?
        .ok_or(AppError::NotFound)
}

/// The signed-in HR account (token checked) and the account it acts on.
async fn hr_and_target(
    state: &web::Data<AppState>,
    session: &TypedSession,
    csrf: &str,
    id: i32,
) -> Result<(Account, AccountSummary), AppError> {
    let account = hr_with_token(state, session, csrf).await?;
    Ok((account, find_account(state, id).await?))
}

async fn account_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    path: web::Path<i32>,
    query: web::Query<LangQuery>,
) -> HttpResponse {
    let lang = language(&req, query.lang.as_deref());
    let id = path.into_inner();
    let result = async {
        let account = current_hr(&state, &session).await?;
        let target = find_account(&state, id).await?;
        let mut context = state.pages.context(lang);
        context.insert(
            "lang_switch_href",
            &format!("/hr/accounts/{id}?lang={}", lang.other().code()),
        );
        context.insert("csrf", &session.csrf_token());
        context.insert("account", &target);
        context.insert("is_self", &(target.id == account.id));
        Ok(state
            .pages
            .html(StatusCode::OK, "account_hr.html", &context))
    }
    .await;
    result.unwrap_or_else(|error| page_error(&state, lang, error))
}

#[derive(Deserialize)]
struct WorkplacesForm {
    csrf: String,
    workplaces: String,
}

async fn set_workplaces(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    path: web::Path<i32>,
    form: web::Form<WorkplacesForm>,
) -> HttpResponse {
    let lang = language(&req, None);
    let id = path.into_inner();
    let result = async {
        let (account, target) = hr_and_target(&state, &session, &form.csrf, id).await?;
        let workplaces = workplace_codes(&form.workplaces);
        let detail = format!("{}: {}", target.login, workplaces.join(", "));
        state
            .with_conn(move |conn| {
                accounts::set_workplaces(conn, &target.login, &workplaces).map_err(refusal)
            })
            .await?;
        audit(&state, account.id, "change workplaces", detail).await?;
        Ok(redirect(&format!("/hr/accounts/{id}")))
    }
    .await;
    result.unwrap_or_else(|error| page_error(&state, lang, error))
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: String,
    password: String,
}

async fn reset_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    path: web::Path<i32>,
    form: web::Form<PasswordForm>,
) -> HttpResponse {
    let lang = language(&req, None);
    let id = path.into_inner();
    let result = async {
        let (account, target) = hr_and_target(&state, &session, &form.csrf, id).await?;
        let (login, password) = (target.login.clone(), form.password.clone());
        let epoch = state
            .with_argon2(move |conn, memory| {
                accounts::set_password_in(conn, memory, &login, &password).map_err(refusal)
            })
            .await?;
        // The account's other sessions end; HR resetting their own keeps this one.
        if target.id == account.id {
            session
                .renew_epoch(epoch)
                .map_err(|e| AppError::internal(e.to_string()))?;
        }
        audit(&state, account.id, "set password", target.login).await?;
        Ok(redirect(&format!("/hr/accounts/{id}")))
    }
    .await;
    result.unwrap_or_else(|error| page_error(&state, lang, error))
}

async fn disable(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    path: web::Path<i32>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let lang = language(&req, None);
    let id = path.into_inner();
    let result = async {
        let (account, target) = hr_and_target(&state, &session, &form.csrf, id).await?;
        let login = target.login.clone();
        state
            .with_conn(move |conn| accounts::disable(conn, &login).map_err(refusal))
            .await?;
        audit(&state, account.id, "disable account", target.login).await?;
        Ok(redirect("/dashboard"))
    }
    .await;
    result.unwrap_or_else(|error| page_error(&state, lang, error))
}

#[derive(Deserialize)]
struct AuditQuery {
    lang: Option<String>,
    /// One account's entries only.
    login: Option<String>,
    /// From 0, newest first.
    page: Option<i64>,
}

async fn audit_log(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    query: web::Query<AuditQuery>,
) -> HttpResponse {
    let lang = language(&req, query.lang.as_deref());
    let result = async {
        current_hr(&state, &session).await?;
        let login = query.login.clone().filter(|l| !l.trim().is_empty());
        let page = query.page.unwrap_or(0).max(0);
        let filter = login.clone();
        let (entries, more, accounts) = state
            .with_conn(move |conn| {
                let (entries, more) = crate::audit::recent(conn, filter.as_deref(), page)
                    .map_err(AppError::unavailable)?;
                let accounts = accounts::list(conn).map_err(AppError::unavailable)?;
                Ok((entries, more, accounts))
            })
            .await?;
        let mut context = state.pages.context(lang);
        context.insert(
            "lang_switch_href",
            &format!("/hr/audit?lang={}", lang.other().code()),
        );
        context.insert("csrf", &session.csrf_token());
        context.insert("entries", &entries);
        context.insert("accounts", &accounts);
        let page_href = |page: i64| {
            let mut pairs = vec![("page", page.to_string())];
            pairs.extend(login.iter().map(|login| ("login", login.clone())));
            format!(
                "/hr/audit?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            )
        };
        context.insert("newer_href", &(page > 0).then(|| page_href(page - 1)));
        context.insert("older_href", &more.then(|| page_href(page + 1)));
        context.insert("login", &login.unwrap_or_default());
        Ok(state.pages.html(StatusCode::OK, "audit.html", &context))
    }
    .await;
    result.unwrap_or_else(|error| page_error(&state, lang, error))
}

#[derive(Serialize)]
struct OwnAccountView<'a> {
    login: &'a str,
    role: &'a str,
}

fn render_own_account(
    state: &AppState,
    session: &TypedSession,
    lang: Lang,
    view: &OwnAccountView,
    outcome: Option<(&str, StatusCode)>,
) -> HttpResponse {
    let mut context = state.pages.context(lang);
    context.insert(
        "lang_switch_href",
        &format!("/account?lang={}", lang.other().code()),
    );
    context.insert("csrf", &session.csrf_token());
    context.insert("account", view);
    let status = outcome.map_or(StatusCode::OK, |(_, status)| status);
    context.insert(
        "outcome",
        &outcome.map(|(key, _)| state.pages.message(lang, key).to_string()),
    );
    context.insert("failed", &!status.is_success());
    state.pages.html(status, "account.html", &context)
}

async fn own_account_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    query: web::Query<LangQuery>,
) -> HttpResponse {
    let lang = language(&req, query.lang.as_deref());
    let result = async {
        let account = current_account(&state, &session).await?;
        let view = OwnAccountView {
            login: &account.login,
            role: account.role.as_str(),
        };
        Ok(render_own_account(&state, &session, lang, &view, None))
    }
    .await;
    result.unwrap_or_else(|error| page_error(&state, lang, error))
}

#[derive(Deserialize)]
struct OwnPasswordForm {
    csrf: String,
    current: String,
    new: String,
    confirm: String,
}

async fn change_own_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    form: web::Form<OwnPasswordForm>,
) -> HttpResponse {
    let lang = language(&req, None);
    let result = async {
        let account = current_account(&state, &session).await?;
        if !session.csrf_matches(&form.csrf) {
            return Err(AppError::Forbidden);
        }
        let view = OwnAccountView {
            login: &account.login,
            role: account.role.as_str(),
        };
        let refuse = |key| {
            render_own_account(
                &state,
                &session,
                lang,
                &view,
                Some((key, StatusCode::BAD_REQUEST)),
            )
        };
        if form.new != form.confirm {
            return Ok(refuse("password_mismatch"));
        }
        // The current password is a password check like a sign-in: it counts toward the
        // same throttle (the account's login and the client address).
        let ip = super::security::client_address(&req, state.settings.trust_proxy);
        let Some(attempt) = state.login_throttle.reserve(&account.login, ip) else {
            return Ok(render_own_account(
                &state,
                &session,
                lang,
                &view,
                Some(("login_throttled", StatusCode::TOO_MANY_REQUESTS)),
            ));
        };
        let (id, current, new) = (account.id, form.current.clone(), form.new.clone());
        let changed = state
            .with_argon2(move |conn, memory| {
                Ok(accounts::change_own_password(
                    conn, memory, id, &current, &new,
                ))
            })
            .await;
        let epoch = match changed {
            Ok(Ok(epoch)) => {
                state.login_throttle.release(attempt);
                epoch
            }
            Ok(Err(AccountError::WrongPassword)) => {
                let lockout = state.login_throttle.failed(attempt);
                let failed = Some((account.id, account.login.clone()));
                super::auth::audit_failure(&state, failed, "wrong current password", lockout).await;
                return Ok(refuse("password_wrong"));
            }
            Ok(Err(other)) => {
                // The current password was right (or never checked): it does not count.
                state.login_throttle.release(attempt);
                return match other {
                    AccountError::WeakPassword => Ok(refuse("password_weak")),
                    other => Err(refusal(other)),
                };
            }
            Err(error) => {
                state.login_throttle.release(attempt);
                return Err(error);
            }
        };
        session
            .renew_epoch(epoch)
            .map_err(|e| AppError::internal(e.to_string()))?;
        audit(&state, account.id, "change own password", String::new()).await?;
        Ok(render_own_account(
            &state,
            &session,
            lang,
            &view,
            Some(("password_changed", StatusCode::OK)),
        ))
    }
    .await;
    result.unwrap_or_else(|error| page_error(&state, lang, error))
}
