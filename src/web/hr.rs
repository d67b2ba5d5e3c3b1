//! HR's actions: open and close waves, issue invitation codes as a printable sheet of slips
//! (QR code, link and code) or as a CSV. Every action needs an HR session and its CSRF token
//! ([`HrWithCsrf`]) and is written to the audit log.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use qrcode::render::svg;
use qrcode::QrCode;
use serde::{Deserialize, Serialize};

use super::error::AppError;
use super::extract::{carries_csrf, CsrfOnly, Hr, HrWithCsrf, WithCsrf};
use super::pages::{language, PageLang};
use super::redirect;
use super::session::TypedSession;
use super::AppState;
use crate::aggregation::guard::{Thresholds, DEFAULT_K2};
use crate::audit::AuditRow;
use crate::codes::{self, InvitationCode, IssueRequest};
use crate::participation::stepped;

/// Slips on one printed sheet request at most (a larger batch: use the CSV or the CLI).
const MAX_SHEET_CODES: usize = 1_000;
/// Codes one dashboard request issues at most, as CSV: a batch is stored in one write
/// transaction, and a staff member's submission must not wait long behind it. Larger batches:
/// `anshin codes issue` on the command line.
pub const MAX_DASHBOARD_CODES: usize = 2_000;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/hr/waves").route(web::post().to(create_wave)));
    cfg.service(web::resource("/hr/waves/{id}/close").route(web::post().to(close_wave)));
    cfg.service(web::resource("/hr/waves/{id}/confirm-close").route(web::get().to(confirm_close)));
    cfg.service(web::resource("/hr/waves/{id}/codes").route(web::post().to(issue_codes)));
}

carries_csrf!(NewWave, IssueForm);

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
    WithCsrf(Hr(account), form): HrWithCsrf<NewWave>,
) -> Result<HttpResponse, AppError> {
    let thresholds = Thresholds::new(form.k, form.k2.unwrap_or(DEFAULT_K2.max(form.k)))
        .map_err(|_| AppError::BadRequest)?;
    let baseline = match form.baseline.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(id) => Some(id.parse::<i32>().map_err(|_| AppError::BadRequest)?),
    };
    let (survey, name) = (form.survey.trim().to_string(), form.name);
    let dir = state.settings.definitions_dir.clone();
    // A unit below k, an empty name, a broken definition, a missing or unusable baseline:
    // the request's fault, with its reason.
    let wave = state
        .with_conn(move |conn| {
            crate::waves::definition_source(&dir, &survey)
                .and_then(|(text, origin)| {
                    crate::waves::create(conn, &name, &text, &origin, thresholds, baseline)
                })
                .map_err(AppError::wave_refused)
        })
        .await?;
    let detail = format!("wave {}", wave.id);
    state
        .audit(AuditRow::with_detail(account.id, "create wave", detail))
        .await?;
    Ok(redirect("/dashboard"))
}

/// The step before closing: what closing does and cannot undo, the wave's responses so far
/// (in steps of k), and the form that closes it (404 unknown, 410 already closed).
async fn confirm_close(
    state: web::Data<AppState>,
    session: TypedSession,
    path: web::Path<i32>,
    PageLang(lang): PageLang,
    Hr(_): Hr,
) -> Result<HttpResponse, AppError> {
    let wave_id = path.into_inner();
    let (wave, count) = state
        .with_conn(move |conn| {
            let wave = crate::waves::find(conn, wave_id)?;
            let count = crate::waves::response_count(conn, wave_id)?;
            Ok::<_, AppError>((wave, count))
        })
        .await?;
    if !wave.is_open() {
        return Err(AppError::WaveClosed);
    }
    let mut context = state.pages.context(lang);
    let switch = format!(
        "/hr/waves/{wave_id}/confirm-close?lang={}",
        lang.other().code()
    );
    context.insert("lang_switch_href", &switch);
    context.insert("csrf", &session.csrf_token());
    context.insert("wave_id", &wave.id);
    context.insert("wave_name", &wave.name);
    context.insert("responses", &stepped(count, wave.min_group_size).range());
    Ok(state
        .pages
        .html(StatusCode::OK, "confirm_close.html", &context))
}

async fn close_wave(
    state: web::Data<AppState>,
    session: TypedSession,
    path: web::Path<i32>,
    WithCsrf(Hr(account), _): HrWithCsrf<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let wave_id = path.into_inner();
    let wave = state
        .with_conn(move |conn| crate::waves::close(conn, wave_id))
        .await?;
    let detail = format!("wave {wave_id}");
    state
        .audit(AuditRow::with_detail(account.id, "close wave", detail))
        .await?;
    session.leave_notice("wave_closed_notice", &wave.name)?;
    Ok(redirect("/dashboard"))
}

#[derive(Deserialize)]
struct IssueForm {
    csrf: String,
    workplace: String,
    count: usize,
    /// "sheet" (printable slips) or "csv".
    format: String,
}

/// How a dashboard batch of codes is handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handover {
    /// A printable sheet of slips (QR code, link and code).
    Sheet,
    /// A CSV download.
    Csv,
}

impl Handover {
    /// The form's way of handing `count` codes over; 400 for an unknown way, a refusal with
    /// the limit for too many codes.
    fn for_batch(word: &str, count: usize) -> Result<Self, AppError> {
        let handover = Handover::parse(word).ok_or(AppError::BadRequest)?;
        if count > handover.max_codes() {
            let max = handover.max_codes();
            return Err(AppError::Rejected(super::refusals::dashboard_batch(max)));
        }
        Ok(handover)
    }

    fn parse(word: &str) -> Option<Self> {
        match word {
            "sheet" => Some(Handover::Sheet),
            "csv" => Some(Handover::Csv),
            _ => None,
        }
    }

    /// Codes one request may issue this way.
    fn max_codes(self) -> usize {
        match self {
            Handover::Sheet => MAX_SHEET_CODES,
            Handover::Csv => MAX_DASHBOARD_CODES,
        }
    }
}

async fn issue_codes(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i32>,
    WithCsrf(Hr(account), form): HrWithCsrf<IssueForm>,
) -> Result<HttpResponse, AppError> {
    let wave_id = path.into_inner();
    let handover = Handover::for_batch(&form.format, form.count)?;
    let workplace = form.workplace.trim().to_string();
    let (workplace_name, issued) = issue(&state, wave_id, &workplace, form.count).await?;
    let detail = format!("wave {wave_id}: {} codes for {workplace}", issued.len());
    state
        .audit(AuditRow::with_detail(account.id, "issue codes", detail))
        .await?;
    match handover {
        Handover::Csv => codes_csv(&state, wave_id, &workplace, &issued),
        Handover::Sheet => {
            let mut context = state.pages.context(language(&req, None));
            context.insert("workplace_name", &workplace_name);
            context.insert("slips", &slips(&state.settings.base_url, &issued)?);
            Ok(state
                .pages
                .html(StatusCode::OK, "codes_sheet.html", &context))
        }
    }
}

/// Issues `count` codes for a workplace of a wave: the workplace's name and the codes.
async fn issue(
    state: &web::Data<AppState>,
    wave_id: i32,
    workplace: &str,
    count: usize,
) -> Result<(String, Vec<InvitationCode>), AppError> {
    let (app, code) = (state.clone(), workplace.to_string());
    let issued = state
        .with_conn(move |conn| {
            let request = IssueRequest {
                wave_id,
                workplace_code: &code,
                count,
                base_url: &app.settings.base_url,
            };
            codes::issue(conn, &app.secret, &request)
        })
        .await?;
    Ok(issued)
}

fn codes_csv(
    state: &AppState,
    wave_id: i32,
    workplace: &str,
    issued: &[InvitationCode],
) -> Result<HttpResponse, AppError> {
    let mut body = Vec::new();
    codes::write_codes(&mut body, workplace, issued, &state.settings.base_url)
        .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"anshin-wave-{wave_id}-codes.csv\""),
        ))
        .body(body))
}

#[derive(Serialize)]
struct Slip {
    code: String,
    url: String,
    qr_svg: String,
}

/// One printable slip a code: its QR code, link and the code to type.
fn slips(base_url: &str, issued: &[InvitationCode]) -> Result<Vec<Slip>, AppError> {
    issued
        .iter()
        .map(|code| {
            let url = codes::invitation_url(base_url, code);
            let qr = QrCode::new(url.as_bytes()).map_err(AppError::internal)?;
            let qr_svg = qr
                .render::<svg::Color<'_>>()
                .min_dimensions(140, 140)
                .build();
            Ok(Slip {
                code: code.display_form(),
                url,
                qr_svg,
            })
        })
        .collect()
}
