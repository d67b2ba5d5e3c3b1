//! HR's psychometrics report of a closed wave (docs/methodology.md §10): a page and a CSV.
//! Organisation-wide figures only; the report itself refuses a wave the guard would not show.

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::error::AppError;
use super::extract::Hr;
use super::pages::PageLang;
use super::results::audit_view;
use super::session::TypedSession;
use super::AppState;
use crate::accounts::Account;
use crate::aggregation::frozen::wave_psychometrics;
use crate::aggregation::psychometrics::{self, DimensionReport, PsychometricsReport};
use crate::i18n::Lang;
use crate::survey::SurveyDefinition;
use crate::waves::WaveForm;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/hr/waves/{id}/psychometrics").route(web::get().to(page)));
    cfg.service(web::resource("/hr/waves/{id}/psychometrics.csv").route(web::get().to(csv)));
}

async fn page(
    state: web::Data<AppState>,
    path: web::Path<i32>,
    PageLang(lang): PageLang,
    session: TypedSession,
    Hr(account): Hr,
) -> Result<HttpResponse, AppError> {
    let wave_id = path.into_inner();
    let (report, form) = report_for(&state, &account, wave_id, "view psychometrics").await?;
    let mut context = state.pages.context(lang);
    context.insert(
        "lang_switch_href",
        &format!(
            "/hr/waves/{wave_id}/psychometrics?lang={}",
            lang.other().code()
        ),
    );
    context.insert("csrf", &session.csrf_token());
    context.insert("report", &report);
    context.insert("respondents", &report.respondents.to_string());
    context.insert(
        "dimensions",
        &dimension_views(&report, &form.definition, lang),
    );
    context.insert("thresholds", &Thresholds::default());
    Ok(state
        .pages
        .html(StatusCode::OK, "psychometrics.html", &context))
}

async fn csv(
    state: web::Data<AppState>,
    path: web::Path<i32>,
    Hr(account): Hr,
) -> Result<HttpResponse, AppError> {
    let wave_id = path.into_inner();
    let (report, _) = report_for(&state, &account, wave_id, "export psychometrics (CSV)").await?;
    let body = psychometrics::to_csv(&report).map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"anshin-wave-{wave_id}-psychometrics.csv\""),
        ))
        .body(body))
}

/// The report of a closed wave with the definition it was answered on; the view is audited.
async fn report_for(
    state: &web::Data<AppState>,
    account: &Account,
    wave_id: i32,
    action: &'static str,
) -> Result<(PsychometricsReport, Arc<WaveForm>), AppError> {
    let app = state.clone();
    let (report, form) = state
        .with_conn(move |conn| {
            let report = wave_psychometrics(conn, wave_id)?;
            let form = app.definitions.load(conn, wave_id)?;
            Ok::<_, AppError>((report, form))
        })
        .await?;
    audit_view(state, account, action, wave_id).await?;
    Ok((report, form))
}

/// The flags' thresholds, shown beside the figures they judge (as text, for the messages'
/// placeholders).
#[derive(Serialize)]
struct Thresholds {
    alpha: String,
    omega: String,
    item_rest: String,
    htmt: String,
    icc2: String,
}

impl Default for Thresholds {
    fn default() -> Self {
        let text = |value: f64| format!("{value:.2}");
        Thresholds {
            alpha: text(psychometrics::LOW_ALPHA),
            omega: text(psychometrics::LOW_OMEGA),
            item_rest: text(psychometrics::LOW_ITEM_REST),
            htmt: text(psychometrics::HIGH_HTMT),
            icc2: text(psychometrics::LOW_ICC2),
        }
    }
}

/// A dimension as the page shows it: its name and each item's wording in the reader's
/// language beside the report's figures.
#[derive(Serialize)]
struct DimensionView<'a> {
    name: &'a str,
    report: &'a DimensionReport,
    item_texts: Vec<&'a str>,
}

fn dimension_views<'a>(
    report: &'a PsychometricsReport,
    definition: &'a SurveyDefinition,
    lang: Lang,
) -> Vec<DimensionView<'a>> {
    report
        .dimensions
        .iter()
        .map(|dimension| DimensionView {
            name: match lang {
                Lang::Ja => &dimension.name_ja,
                Lang::En => &dimension.name_en,
            },
            report: dimension,
            item_texts: dimension
                .items
                .iter()
                .map(|item| {
                    definition
                        .items
                        .iter()
                        .find(|i| i.id == item.item)
                        .map_or("", |i| i.text.get(lang))
                })
                .collect(),
        })
        .collect()
}
