//! Accounts on the web: HR adds accounts, gives a manager new workplaces after a transfer,
//! sets a new password and disables an account, and reads the audit log of what accounts
//! did; everyone changes their own password.
//! Every POST needs the session's CSRF token; every `/hr/…` route an HR account.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::error::AppError;
use super::extract::{carries_csrf, CsrfOnly, Hr, HrWithCsrf, SignedIn, WithCsrf};
use super::pages::{language, PageLang};
use super::password_check::{audit_failure, throttled_password_check, PasswordCheck};
use super::redirect;
use super::session::TypedSession;
use super::AppState;
use crate::accounts::{self, Account, AccountError, AccountSummary, Role};
use crate::audit::{AuditEntry, AuditRow};
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

carries_csrf!(NewAccount, WorkplacesForm, PasswordForm, OwnPasswordForm);

async fn add_account(
    state: web::Data<AppState>,
    WithCsrf(Hr(account), form): HrWithCsrf<NewAccount>,
) -> Result<HttpResponse, AppError> {
    let role = match form.role.as_deref() {
        None => Role::Manager,
        Some(role) => Role::parse(role).ok_or(AppError::BadRequest)?,
    };
    let login = form.login.trim().to_string();
    let detail = format!("{login} ({})", role.as_str());
    let (password, workplaces) = (form.password, workplace_codes(&form.workplaces));
    state
        .with_argon2(move |conn, memory| {
            accounts::add_user_in(conn, memory, &login, role, &password, &workplaces)
        })
        .await?;
    let row = AuditRow::with_detail(account.id, "add account", detail);
    state.audit(row).await?;
    Ok(redirect("/dashboard"))
}

/// The account HR acts on.
async fn find_account(state: &web::Data<AppState>, id: i32) -> Result<AccountSummary, AppError> {
    state
        .with_conn(move |conn| accounts::summary(conn, id))
        .await?
        .ok_or(AppError::NotFound)
}

async fn account_page(
    state: web::Data<AppState>,
    PageLang(lang): PageLang,
    session: TypedSession,
    path: web::Path<i32>,
    Hr(account): Hr,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
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

#[derive(Deserialize)]
struct WorkplacesForm {
    csrf: String,
    workplaces: String,
}

async fn set_workplaces(
    state: web::Data<AppState>,
    path: web::Path<i32>,
    WithCsrf(Hr(account), form): HrWithCsrf<WorkplacesForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let target = find_account(&state, id).await?;
    let workplaces = workplace_codes(&form.workplaces);
    let detail = format!("{}: {}", target.login, workplaces.join(", "));
    state
        .with_conn(move |conn| accounts::set_workplaces(conn, &target.login, &workplaces))
        .await?;
    let row = AuditRow::with_detail(account.id, "change workplaces", detail);
    state.audit(row).await?;
    Ok(redirect(&format!("/hr/accounts/{id}")))
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: String,
    password: String,
}

async fn reset_password(
    state: web::Data<AppState>,
    session: TypedSession,
    path: web::Path<i32>,
    WithCsrf(Hr(account), form): HrWithCsrf<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let target = find_account(&state, id).await?;
    let (login, password) = (target.login.clone(), form.password);
    let epoch = state
        .with_argon2(move |conn, memory| accounts::set_password_in(conn, memory, &login, &password))
        .await?;
    // The account's other sessions end; HR resetting their own keeps this one.
    if target.id == account.id {
        session.renew_epoch(epoch)?;
    }
    let row = AuditRow::with_detail(account.id, "set password", target.login);
    state.audit(row).await?;
    Ok(redirect(&format!("/hr/accounts/{id}")))
}

async fn disable(
    state: web::Data<AppState>,
    path: web::Path<i32>,
    WithCsrf(Hr(account), _): HrWithCsrf<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let target = find_account(&state, path.into_inner()).await?;
    let login = target.login.clone();
    state
        .with_conn(move |conn| accounts::disable(conn, &login))
        .await?;
    let row = AuditRow::with_detail(account.id, "disable account", target.login);
    state.audit(row).await?;
    Ok(redirect("/dashboard"))
}

#[derive(Deserialize)]
struct AuditQuery {
    /// One account's entries only.
    login: Option<String>,
    /// From 0, newest first.
    page: Option<i64>,
}

async fn audit_log(
    state: web::Data<AppState>,
    PageLang(lang): PageLang,
    session: TypedSession,
    query: web::Query<AuditQuery>,
    _: Hr,
) -> Result<HttpResponse, AppError> {
    let login = query.login.clone().filter(|l| !l.trim().is_empty());
    let page = query.page.unwrap_or(0).max(0);
    let filter = login.clone();
    let (entries, more, accounts) = state
        .with_conn(move |conn| {
            let (entries, more) = crate::audit::recent(conn, filter.as_deref(), page)?;
            Ok::<_, AppError>((entries, more, accounts::list(conn)?))
        })
        .await?;
    let mut context = state.pages.context(lang);
    let switch = format!("/hr/audit?lang={}", lang.other().code());
    context.insert("lang_switch_href", &switch);
    context.insert("csrf", &session.csrf_token());
    context.insert("entries", &localised_entries(&state, lang, entries));
    context.insert("accounts", &accounts);
    let newer = (page > 0).then(|| audit_href(&login, page - 1));
    context.insert("newer_href", &newer);
    context.insert("older_href", &more.then(|| audit_href(&login, page + 1)));
    context.insert("login", &login.unwrap_or_default());
    Ok(state.pages.html(StatusCode::OK, "audit.html", &context))
}

/// Audit entries as HR reads them: the time in the configured zone, the action in `lang`
/// (an action the catalogue does not know is shown as stored).
fn localised_entries(state: &AppState, lang: Lang, entries: Vec<AuditEntry>) -> Vec<AuditEntry> {
    let zone = &state.settings.time_zone;
    entries
        .into_iter()
        .map(|entry| {
            let key = crate::audit::action_key(&entry.action);
            let words = state.pages.message(lang, &key);
            AuditEntry {
                at: crate::audit::local_time(&entry.at, zone),
                action: if words == key {
                    entry.action.clone()
                } else {
                    words.to_string()
                },
                ..entry
            }
        })
        .collect()
}

/// The audit log's page `page`, of one account's entries where `login` is given.
fn audit_href(login: &Option<String>, page: i64) -> String {
    let mut pairs = vec![("page", page.to_string())];
    pairs.extend(login.iter().map(|login| ("login", login.clone())));
    format!(
        "/hr/audit?{}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
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
    PageLang(lang): PageLang,
    session: TypedSession,
    SignedIn(account): SignedIn,
) -> Result<HttpResponse, AppError> {
    let view = OwnAccountView {
        login: &account.login,
        role: account.role.as_str(),
    };
    Ok(render_own_account(&state, &session, lang, &view, None))
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
    WithCsrf(SignedIn(account), form): WithCsrf<SignedIn, OwnPasswordForm>,
) -> Result<HttpResponse, AppError> {
    let lang = language(&req, None);
    let outcome = match change_password(&state, &req, &account, form).await? {
        Ok(epoch) => {
            session.renew_epoch(epoch)?;
            state
                .audit(AuditRow::new(account.id, "change own password"))
                .await?;
            ("password_changed", StatusCode::OK)
        }
        Err(refusal) => refusal,
    };
    let view = OwnAccountView {
        login: &account.login,
        role: account.role.as_str(),
    };
    Ok(render_own_account(
        &state,
        &session,
        lang,
        &view,
        Some(outcome),
    ))
}

/// Checks the form and the current password and sets the new one: the account's new session
/// epoch, or the message and status to answer with. The current password is a password check
/// like a sign-in: it counts toward the same throttle (the account's login and the client
/// address), and a wrong one is audited.
async fn change_password(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    account: &Account,
    form: OwnPasswordForm,
) -> Result<Result<i32, (&'static str, StatusCode)>, AppError> {
    if form.new != form.confirm {
        return Ok(Err(("password_mismatch", StatusCode::BAD_REQUEST)));
    }
    let (id, current, new) = (account.id, form.current, form.new);
    let check = throttled_password_check(state, req, &account.login, move |conn, memory| {
        Ok(
            match accounts::change_own_password(conn, memory, id, &current, &new) {
                Err(AccountError::WrongPassword) => Err(()),
                other => Ok(other),
            },
        )
    });
    Ok(match check.await? {
        PasswordCheck::Throttled => Err(("login_throttled", StatusCode::TOO_MANY_REQUESTS)),
        PasswordCheck::Wrong((), lockout) => {
            let failed = Some((account.id, account.login.clone()));
            audit_failure(state, failed, "wrong current password", lockout).await;
            Err(("password_wrong", StatusCode::BAD_REQUEST))
        }
        PasswordCheck::Right(Err(AccountError::WeakPassword)) => {
            Err(("password_weak", StatusCode::BAD_REQUEST))
        }
        PasswordCheck::Right(changed) => Ok(changed?),
    })
}
