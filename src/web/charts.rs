//! Chart routes: SVG drawn from the guarded, scoped results. A manager's charts may show only
//! their own workplaces highlighted; other groups appear as unlabelled background points.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::api::chart_for;
use super::auth::current_account;
use super::pages::{language, AppError};
use super::session::TypedSession;
use super::AppState;
use crate::accounts::{Account, Role};
use crate::charts::{self, Others, QuadrantOptions};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/charts/waves/{id}/quadrant.svg", web::get().to(quadrant))
        .route("/charts/waves/{id}/anxieties.svg", web::get().to(anxieties))
        .route("/charts/waves/{id}/heatmap.svg", web::get().to(heatmap));
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

async fn heatmap(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: TypedSession,
    path: web::Path<i32>,
    query: web::Query<ChartQuery>,
) -> HttpResponse {
    let lang = language(&req, query.lang.as_deref());
    let result = async {
        let account = current_account(&state, &session).await?;
        if account.role != Role::Hr {
            return Err(AppError::Forbidden);
        }
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
