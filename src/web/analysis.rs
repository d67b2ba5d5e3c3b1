//! HR's analysis pages: the results by job level (職層) of a closed wave, the organisation's
//! trend across waves for every dimension, and the Excel-shaped sheet beside the long CSV.
//! HR only (403 for a manager); every figure comes from the guarded results (`results`).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::error::AppError;
use super::extract::Hr;
use super::pages::PageLang;
use super::results::{audit_view, cached_results, results_for, scoped};
use super::session::TypedSession;
use super::AppState;
use crate::aggregation::{export, views, WaveResults};
use crate::charts;
use crate::i18n::Lang;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/hr/waves/{id}/job-levels").route(web::get().to(job_levels)));
    cfg.service(web::resource("/hr/trends").route(web::get().to(trends)));
    cfg.service(
        web::resource("/hr/waves/{id}/results-sheet.csv").route(web::get().to(results_sheet)),
    );
}

/// A page's context: the language, its switch back to `path`, the sign-out form's token.
fn context(state: &AppState, session: &TypedSession, lang: Lang, path: &str) -> tera::Context {
    let mut context = state.pages.context(lang);
    let switch = format!("{path}?lang={}", lang.other().code());
    context.insert("lang_switch_href", &switch);
    context.insert("csrf", &session.csrf_token());
    context
}

/// The question that asked for the job level, from the wave's own definition snapshot.
async fn job_level_question(
    state: &AppState,
    wave_id: i32,
) -> Result<Option<crate::survey::JobLevelQuestion>, AppError> {
    state
        .with_conn(move |conn| {
            let wave = crate::waves::find(conn, wave_id)?;
            let definition = wave.definition().map_err(AppError::internal)?;
            Ok::<_, AppError>(definition.job_level)
        })
        .await
}

#[derive(Serialize)]
struct JobLevelView {
    name: String,
    level: String,
    n: Option<u32>,
    /// One cell per dimension: the mean with two decimals, or nothing where hidden.
    means: Vec<Option<String>>,
    hidden_reason: Option<String>,
}

async fn job_levels(
    state: web::Data<AppState>,
    session: TypedSession,
    path: web::Path<i32>,
    PageLang(lang): PageLang,
    Hr(account): Hr,
) -> Result<HttpResponse, AppError> {
    let wave_id = path.into_inner();
    let question = job_level_question(&state, wave_id).await?;
    let results = results_for(&state, &account, wave_id, "view job levels").await?;
    let rows = job_level_views(&state, &results, question.as_ref(), lang);
    let chart = charts::job_level_heatmap(&results, question.as_ref(), lang);
    let page_path = format!("/hr/waves/{wave_id}/job-levels");
    let mut context = context(&state, &session, lang, &page_path);
    context.insert("wave_name", &results.wave_name);
    context.insert("k2", &results.k2);
    context.insert("dimensions", &dimension_names(&results, lang));
    context.insert("colspan", &(results.dimensions.len() + 1));
    context.insert("rows", &rows);
    context.insert("chart_svg", &chart);
    Ok(state
        .pages
        .html(StatusCode::OK, "hr_job_levels.html", &context))
}

fn dimension_names(results: &WaveResults, lang: Lang) -> Vec<String> {
    results
        .dimensions
        .iter()
        .map(|d| d.name(lang).to_string())
        .collect()
}

fn job_level_views(
    state: &AppState,
    results: &WaveResults,
    question: Option<&crate::survey::JobLevelQuestion>,
    lang: Lang,
) -> Vec<JobLevelView> {
    views::job_level_rows(results, question)
        .into_iter()
        .map(|row| JobLevelView {
            name: match row.total {
                None => state.pages.message(lang, "organisation").to_string(),
                Some(_) => row.total_name.clone(),
            },
            level: match lang {
                Lang::Ja => row.label_ja.clone(),
                Lang::En => row.label_en.clone(),
            },
            n: row.n,
            means: results
                .dimensions
                .iter()
                .map(|d| row.means.get(&d.id).map(|m| format!("{m:.2}")))
                .collect(),
            // A cut needs k2 responses: its "fewer than {k}" is k2.
            hidden_reason: row.hidden_reason.map(|reason| {
                state
                    .pages
                    .message(lang, reason.message_key())
                    .replace("{k}", &results.k2.to_string())
            }),
        })
        .collect()
}

#[derive(Serialize)]
struct TrendRow {
    dimension: String,
    /// One cell per wave: the organisation's mean, or nothing where hidden or not measured.
    means: Vec<Option<String>>,
}

impl TrendRow {
    fn new(trend: &views::DimensionTrend, lang: Lang) -> Self {
        TrendRow {
            dimension: trend.dimension.name(lang).to_string(),
            means: trend
                .points
                .iter()
                .map(|(_, mean)| mean.map(|m| format!("{m:.2}")))
                .collect(),
        }
    }
}

/// Every closed wave of the latest closed wave's survey, the organisation's mean of every
/// dimension in each: as panels and as a table.
async fn trends(
    state: web::Data<AppState>,
    session: TypedSession,
    PageLang(lang): PageLang,
    Hr(account): Hr,
) -> Result<HttpResponse, AppError> {
    let wave_ids = state
        .with_conn(crate::waves::closed_of_latest_survey)
        .await?;
    let latest = *wave_ids.last().ok_or(AppError::NotFound)?;
    audit_view(&state, &account, "view organisation trend", latest).await?;
    let mut waves = Vec::new();
    for wave_id in wave_ids {
        let (_, results) = cached_results(&state, wave_id).await?;
        waves.push(scoped(results, &account));
    }
    let trends = views::organisation_trends(&waves);
    let rows: Vec<TrendRow> = trends.iter().map(|t| TrendRow::new(t, lang)).collect();
    let wave_names: Vec<&str> = waves.iter().map(|w| w.wave_name.as_str()).collect();
    let mut context = context(&state, &session, lang, "/hr/trends");
    context.insert("wave_names", &wave_names);
    context.insert("rows", &rows);
    context.insert("chart_svg", &charts::organisation_trends(&trends, lang));
    Ok(state.pages.html(StatusCode::OK, "hr_trends.html", &context))
}

/// The closed wave's results one row per group, with Japanese headers and zone names, for
/// Excel (UTF-8 with BOM).
async fn results_sheet(
    state: web::Data<AppState>,
    path: web::Path<i32>,
    Hr(account): Hr,
) -> Result<HttpResponse, AppError> {
    let wave_id = path.into_inner();
    let question = job_level_question(&state, wave_id).await?;
    let action = "export results (Excel sheet)";
    let results = results_for(&state, &account, wave_id, action).await?;
    let mut body = Vec::new();
    export::write_sheet_csv(&results, question.as_ref(), &mut body)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"anshin-wave-{wave_id}-sheet.csv\""),
        ))
        .body(body))
}
