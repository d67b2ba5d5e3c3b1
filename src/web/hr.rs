//! HR's actions: open and close waves, issue invitation codes as a printable sheet of slips
//! (QR code, link and code) or as a CSV. Every action needs an HR session and its CSRF token.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use qrcode::render::svg;
use qrcode::QrCode;
use serde::{Deserialize, Serialize};

use super::auth::{current_hr, page_error, redirect, CsrfForm};
use super::pages::{language, AppError};
use super::session::TypedSession;
use super::AppState;
use crate::accounts::Account;
use crate::aggregation::guard::{Thresholds, DEFAULT_K2};
use crate::codes::{self, IssueRequest};

/// Slips on one printed sheet request at most (a larger batch: use the CSV or the CLI).
const MAX_SHEET_CODES: usize = 1_000;
/// Codes one dashboard request issues at most, as CSV: a batch is stored in one write
/// transaction, and a staff member's submission must not wait long behind it. Larger batches:
/// `anshin codes issue` on the command line.
pub const MAX_DASHBOARD_CODES: usize = 2_000;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/hr/waves").route(web::post().to(create_wave)));
    cfg.service(web::resource("/hr/waves/{id}/close").route(web::post().to(close_wave)));
    cfg.service(web::resource("/hr/waves/{id}/codes").route(web::post().to(issue_codes)));
}

/// The signed-in HR account, after checking the form's CSRF token.
pub(super) async fn hr_with_token(
    state: &web::Data<AppState>,
    session: &TypedSession,
    csrf: &str,
) -> Result<Account, AppError> {
    let account = current_hr(state, session).await?;
    if !session.csrf_matches(csrf) {
        return Err(AppError::Forbidden);
    }
    Ok(account)
}

pub(super) async fn audit(
    state: &web::Data<AppState>,
    account_id: i32,
    action: &'static str,
    detail: String,
) -> Result<(), AppError> {
    state
        .with_conn(move |conn| {
            crate::audit::record(conn, account_id, action, &detail).map_err(AppError::internal)
        })
        .await
}

#[derive(Deserialize)]
struct NewWave {
    csrf: String,
    survey: String,
    name: String,
    k: u32,
    k2: Option<u32>,
    /// A closed wave's id, or empty: the select's "none".
    baseline: Option<String>,
}

async fn create_wave(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    form: web::Form<NewWave>,
) -> HttpResponse {
    let lang = language(&req, None);
    let result = async {
        let account = hr_with_token(&state, &session, &form.csrf).await?;
        let thresholds = Thresholds::new(form.k, form.k2.unwrap_or(DEFAULT_K2.max(form.k)))
            .map_err(|_| AppError::BadRequest)?;
        let (survey, name) = (form.survey.trim().to_string(), form.name.clone());
        let baseline = match form.baseline.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(id) => Some(id.parse::<i32>().map_err(|_| AppError::BadRequest)?),
        };
        let dir = state.settings.definitions_dir.clone();
        let wave = state
            .with_conn(move |conn| {
                let (text, origin) = crate::waves::definition_source(&dir, &survey)
                    .map_err(|error| AppError::Rejected(super::refusals::wave(&error)))?;
                crate::waves::create(conn, &name, &text, &origin, thresholds, baseline).map_err(
                    |error| match error {
                        crate::waves::WaveError::Database(e) => AppError::unavailable(e),
                        crate::waves::WaveError::Definition(e) => {
                            tracing::warn!(error = %e, "a survey definition cannot be used");
                            AppError::Rejected(super::refusals::wave(
                                &crate::waves::WaveError::Definition(e),
                            ))
                        }
                        // A unit below k, an empty name, a broken definition, a missing or
                        // unusable baseline: the request's fault, with its reason.
                        other => AppError::Rejected(super::refusals::wave(&other)),
                    },
                )
            })
            .await?;
        audit(
            &state,
            account.id,
            "create wave",
            format!("wave {}", wave.id),
        )
        .await?;
        Ok(redirect("/dashboard"))
    }
    .await;
    result.unwrap_or_else(|error| page_error(&state, lang, error))
}

async fn close_wave(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    path: web::Path<i32>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let lang = language(&req, None);
    let wave_id = path.into_inner();
    let result = async {
        let account = hr_with_token(&state, &session, &form.csrf).await?;
        state
            .with_conn(move |conn| {
                crate::waves::close(conn, wave_id).map_err(|error| match error {
                    crate::waves::WaveError::NotFound(_) => AppError::NotFound,
                    crate::waves::WaveError::AlreadyClosed(_) => AppError::WaveClosed,
                    other => AppError::internal(other),
                })
            })
            .await?;
        audit(&state, account.id, "close wave", format!("wave {wave_id}")).await?;
        Ok(redirect("/dashboard"))
    }
    .await;
    result.unwrap_or_else(|error| page_error(&state, lang, error))
}

#[derive(Deserialize)]
struct IssueForm {
    csrf: String,
    workplace: String,
    count: usize,
    /// "sheet" (printable slips) or "csv".
    format: String,
}

#[derive(Serialize)]
struct Slip {
    code: String,
    url: String,
    qr_svg: String,
}

async fn issue_codes(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    path: web::Path<i32>,
    form: web::Form<IssueForm>,
) -> HttpResponse {
    let lang = language(&req, None);
    let wave_id = path.into_inner();
    let result = async {
        let account = hr_with_token(&state, &session, &form.csrf).await?;
        let as_sheet = match form.format.as_str() {
            "sheet" => true,
            "csv" => false,
            _ => return Err(AppError::BadRequest),
        };
        let max = if as_sheet {
            MAX_SHEET_CODES
        } else {
            MAX_DASHBOARD_CODES
        };
        if form.count > max {
            return Err(AppError::Rejected(super::refusals::dashboard_batch(max)));
        }
        let workplace = form.workplace.trim().to_string();
        let count = form.count;
        let app = state.clone();
        let (workplace_name, issued) = state
            .with_conn(move |conn| {
                let request = IssueRequest {
                    wave_id,
                    workplace_code: &workplace,
                    count,
                    base_url: &app.settings.base_url,
                };
                let (workplace_id, issued) =
                    codes::prepare_codes(conn, &request).map_err(|error| match error {
                        codes::IssueError::Database(e) => AppError::unavailable(e),
                        codes::IssueError::WaveClosed(_) => AppError::WaveClosed,
                        other => AppError::Rejected(super::refusals::codes(&other)),
                    })?;
                codes::store_new_codes(conn, &app.secret, wave_id, workplace_id, &issued, |_| {})
                    .map_err(AppError::unavailable)?;
                let name = crate::org::load_all(conn)
                    .map_err(AppError::unavailable)?
                    .into_iter()
                    .find(|w| w.id == workplace_id)
                    .map(|w| w.name)
                    .unwrap_or_default();
                Ok((name, issued))
            })
            .await?;
        let detail = format!(
            "wave {wave_id}: {} codes for {}",
            issued.len(),
            form.workplace.trim()
        );
        audit(&state, account.id, "issue codes", detail).await?;
        let base_url = &state.settings.base_url;
        if !as_sheet {
            let mut body = Vec::new();
            codes::write_codes(&mut body, form.workplace.trim(), &issued, base_url)
                .map_err(AppError::internal)?;
            return Ok(HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"anshin-wave-{wave_id}-codes.csv\""),
                ))
                .body(body));
        }
        let slips = issued
            .iter()
            .map(|code| {
                let url = codes::invitation_url(base_url, code);
                let qr_svg = QrCode::new(url.as_bytes())
                    .map(|qr| {
                        qr.render::<svg::Color<'_>>()
                            .min_dimensions(140, 140)
                            .build()
                    })
                    .map_err(AppError::internal)?;
                Ok(Slip {
                    code: code.display_form(),
                    url,
                    qr_svg,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let mut context = state.pages.context(lang);
        context.insert("workplace_name", &workplace_name);
        context.insert("slips", &slips);
        Ok(state
            .pages
            .html(StatusCode::OK, "codes_sheet.html", &context))
    }
    .await;
    result.unwrap_or_else(|error| page_error(&state, lang, error))
}
