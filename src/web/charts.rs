//! Chart routes: SVG drawn from the guarded, scoped results (`results`). A manager's charts
//! may show only their own workplaces highlighted; other groups appear as unlabelled
//! background points.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::error::AppError;
use super::extract::{Hr, SignedIn};
use super::pages::PageLang;
use super::results::{audit_chart, cached_results, chart_for};
use super::AppState;
use crate::accounts::{Account, Role};
use crate::aggregation::WaveResults;
use crate::charts::{self, Others, QuadrantOptions};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/charts/waves/{id}/quadrant.svg").route(web::get().to(quadrant)));
    cfg.service(web::resource("/charts/waves/{id}/anxieties.svg").route(web::get().to(anxieties)));
    cfg.service(web::resource("/charts/waves/{id}/heatmap.svg").route(web::get().to(heatmap)));
    cfg.service(web::resource("/charts/trend.svg").route(web::get().to(trend)));
}

#[derive(Deserialize)]
struct ChartQuery {
    workplace: Option<String>,
}

/// The quadrant's options: a workplace to highlight, and one level of the organisation
/// (1 = 部, 2 = 課, 3 = 係) instead of all.
#[derive(Deserialize)]
struct QuadrantQuery {
    workplace: Option<String>,
    level: Option<u32>,
}

fn svg(body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml; charset=utf-8")
        .body(body)
}

/// The workplace a chart is about: the requested one if the account may see it; for a
/// manager without a request, their first own workplace.
fn chart_workplace(account: &Account, requested: Option<&str>) -> Result<Option<String>, AppError> {
    match requested {
        Some(code) if account.may_see(code) => Ok(Some(code.to_string())),
        Some(_) => Err(AppError::Forbidden),
        None if account.role == Role::Manager => Ok(account.own_workplaces.first().cloned()),
        None => Ok(None),
    }
}

/// A chart about a workplace the wave's results do not know is a 404, not an empty chart.
fn require_group(results: &WaveResults, workplace: Option<&str>) -> Result<(), AppError> {
    match workplace {
        Some(code)
            if !results
                .groups
                .iter()
                .any(|g| g.workplace.as_deref() == Some(code)) =>
        {
            Err(AppError::NotFound)
        }
        _ => Ok(()),
    }
}

async fn quadrant(
    state: web::Data<AppState>,
    PageLang(lang): PageLang,
    path: web::Path<i32>,
    query: web::Query<QuadrantQuery>,
    SignedIn(account): SignedIn,
) -> Result<HttpResponse, AppError> {
    let highlight = chart_workplace(&account, query.workplace.as_deref())?;
    let level = query.level;
    let others = match (account.role, &highlight) {
        (Role::Hr, None) => Others::Labelled,
        _ => Others::Unlabelled,
    };
    let key = format!(
        "quadrant {highlight:?} {others:?} {level:?} {}",
        lang.code()
    );
    let action = "view quadrant chart";
    let drawn = chart_for(&state, &account, *path, action, key, |results| {
        require_group(results, highlight.as_deref())?;
        let options = QuadrantOptions {
            lang,
            highlight,
            others,
        };
        Ok(match level {
            Some(level) => charts::quadrant_of_level(results, &options, level),
            None => charts::quadrant(results, &options),
        })
    });
    Ok(svg(drawn.await?))
}

async fn anxieties(
    state: web::Data<AppState>,
    PageLang(lang): PageLang,
    path: web::Path<i32>,
    query: web::Query<ChartQuery>,
    SignedIn(account): SignedIn,
) -> Result<HttpResponse, AppError> {
    let workplace =
        chart_workplace(&account, query.workplace.as_deref())?.ok_or(AppError::BadRequest)?;
    let key = format!("anxieties {workplace} {}", lang.code());
    let action = "view anxieties chart";
    let drawn = chart_for(&state, &account, *path, action, key, |results| {
        require_group(results, Some(&workplace))?;
        Ok(charts::anxieties(results, &workplace, lang))
    });
    Ok(svg(drawn.await?))
}

async fn heatmap(
    state: web::Data<AppState>,
    PageLang(lang): PageLang,
    path: web::Path<i32>,
    Hr(account): Hr,
) -> Result<HttpResponse, AppError> {
    let key = format!("heatmap {}", lang.code());
    let drawn = chart_for(&state, &account, *path, "view heatmap", key, |results| {
        Ok(charts::heatmap(results, lang))
    });
    Ok(svg(drawn.await?))
}

#[derive(Deserialize)]
struct TrendQuery {
    workplace: String,
    dimension: String,
}

/// One dimension of one workplace across every closed wave of the latest wave's survey;
/// a wave where the cell is hidden leaves a gap.
async fn trend(
    state: web::Data<AppState>,
    PageLang(lang): PageLang,
    query: web::Query<TrendQuery>,
    SignedIn(account): SignedIn,
) -> Result<HttpResponse, AppError> {
    if !account.may_see(&query.workplace) {
        return Err(AppError::Forbidden);
    }
    let waves = state
        .with_conn(crate::waves::closed_of_latest_survey)
        .await?;
    let latest = *waves.last().ok_or(AppError::NotFound)?;
    audit_chart(&state, &account, "view trend chart", latest).await?;
    let mut points = Vec::new();
    let mut meta = None;
    for wave_id in waves {
        let (_, results) = cached_results(&state, wave_id).await?;
        let score = results
            .group(&query.workplace)
            .and_then(|g| g.scores.get(&query.dimension));
        meta = meta.or_else(|| results.dimension(&query.dimension).cloned());
        points.push((results.wave_name.clone(), score.map(|s| s.mean)));
    }
    let meta = meta.ok_or(AppError::NotFound)?;
    let scale = (meta.scale_min, meta.scale_max);
    let chart = charts::trend(&points, meta.name(lang), scale, lang);
    Ok(svg(web::Bytes::from(chart)))
}
