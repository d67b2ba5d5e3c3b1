//! Chart routes: SVG drawn from the guarded, scoped results. A manager's charts may show only
//! their own workplaces highlighted; other groups appear as unlabelled background points.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::api::chart_for;
use super::auth::{current_account, current_hr};
use super::pages::{language, AppError};
use super::session::TypedSession;
use super::AppState;
use crate::accounts::{Account, Role};
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
    lang: Option<String>,
}

fn svg(body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml; charset=utf-8")
        .body(body)
}

fn chart_error(error: &AppError) -> HttpResponse {
    if let AppError::Internal(cause) | AppError::Unavailable(cause) = error {
        tracing::error!(cause = %cause, "chart request failed");
    }
    HttpResponse::build(error.status()).finish()
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
fn require_group(
    results: &crate::aggregation::WaveResults,
    workplace: Option<&str>,
) -> Result<(), AppError> {
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
    req: HttpRequest,
    session: TypedSession,
    path: web::Path<i32>,
    query: web::Query<ChartQuery>,
) -> HttpResponse {
    let lang = language(&req, query.lang.as_deref());
    let result = async {
        let account = current_account(&state, &session).await?;
        let highlight = chart_workplace(&account, query.workplace.as_deref())?;
        let others = match (account.role, &highlight) {
            (Role::Hr, None) => Others::Labelled,
            _ => Others::Unlabelled,
        };
        let key = format!("quadrant {highlight:?} {others:?} {}", lang.code());
        chart_for(
            &state,
            &account,
            path.into_inner(),
            "view quadrant chart",
            key,
            |results| {
                require_group(results, highlight.as_deref())?;
                Ok(charts::quadrant(
                    results,
                    &QuadrantOptions {
                        lang,
                        highlight,
                        others,
                    },
                ))
            },
        )
        .await
    }
    .await;
    result.map(svg).unwrap_or_else(|error| chart_error(&error))
}

async fn anxieties(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    path: web::Path<i32>,
    query: web::Query<ChartQuery>,
) -> HttpResponse {
    let lang = language(&req, query.lang.as_deref());
    let result = async {
        let account = current_account(&state, &session).await?;
        let workplace =
            chart_workplace(&account, query.workplace.as_deref())?.ok_or(AppError::BadRequest)?;
        let key = format!("anxieties {workplace} {}", lang.code());
        chart_for(
            &state,
            &account,
            path.into_inner(),
            "view anxieties chart",
            key,
            |results| {
                require_group(results, Some(&workplace))?;
                Ok(charts::anxieties(results, &workplace, lang))
            },
        )
        .await
    }
    .await;
    result.map(svg).unwrap_or_else(|error| chart_error(&error))
}

#[derive(Deserialize)]
struct TrendQuery {
    workplace: String,
    dimension: String,
    lang: Option<String>,
}

/// One dimension of one workplace across every closed wave of the latest wave's survey;
/// a wave where the cell is hidden leaves a gap.
async fn trend(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    query: web::Query<TrendQuery>,
) -> HttpResponse {
    let lang = language(&req, query.lang.as_deref());
    let result = async {
        let account = current_account(&state, &session).await?;
        if !account.may_see(&query.workplace) {
            return Err(AppError::Forbidden);
        }
        let closed: Vec<(i32, String)> = state
            .with_conn(|conn| {
                Ok(crate::waves::list(conn)
                    .map_err(AppError::unavailable)?
                    .into_iter()
                    .filter(|w| !w.is_open())
                    .map(|w| (w.id, w.survey_id))
                    .collect())
            })
            .await?;
        let Some((latest, survey)) = closed.last().cloned() else {
            return Err(AppError::NotFound);
        };
        super::api::audit(&state, &account, "view trend chart", latest).await?;
        let mut points = Vec::new();
        let mut meta = None;
        for (wave_id, _) in closed.iter().filter(|(_, s)| *s == survey) {
            let (_, results) = super::api::cached_results(&state, *wave_id).await?;
            let score = results
                .groups
                .iter()
                .find(|g| {
                    g.workplace.as_deref() == Some(query.workplace.as_str())
                        && g.job_level.is_none()
                })
                .and_then(|g| g.scores.get(&query.dimension))
                .map(|s| s.mean);
            meta = meta.or_else(|| {
                results
                    .dimensions
                    .iter()
                    .find(|d| d.id == query.dimension)
                    .cloned()
            });
            points.push((results.wave_name.clone(), score));
        }
        let meta = meta.ok_or(AppError::NotFound)?;
        let name = if lang == crate::i18n::Lang::Ja {
            &meta.name_ja
        } else {
            &meta.name_en
        };
        Ok(web::Bytes::from(charts::trend(
            &points,
            name,
            (meta.scale_min, meta.scale_max),
            lang,
        )))
    }
    .await;
    result.map(svg).unwrap_or_else(|error| chart_error(&error))
}

async fn heatmap(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    path: web::Path<i32>,
    query: web::Query<ChartQuery>,
) -> HttpResponse {
    let lang = language(&req, query.lang.as_deref());
    let result = async {
        let account = current_hr(&state, &session).await?;
        let key = format!("heatmap {}", lang.code());
        chart_for(
            &state,
            &account,
            path.into_inner(),
            "view heatmap",
            key,
            |results| Ok(charts::heatmap(results, lang)),
        )
        .await
    }
    .await;
    result.map(svg).unwrap_or_else(|error| chart_error(&error))
}
