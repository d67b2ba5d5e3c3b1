//! The JSON API. Until accounts and roles exist it is mounted only with `--dev-open-api`.

use actix_web::{web, HttpResponse};

use super::pages::AppError;
use super::AppState;
use crate::aggregation::{export, load};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/waves/{id}/results", web::get().to(wave_results));
}

async fn wave_results(state: web::Data<AppState>, path: web::Path<i32>) -> HttpResponse {
    let wave_id = path.into_inner();
    let computed = state
        .with_conn(move |conn| {
            load::wave_results(conn, wave_id).map_err(|error| match error {
                load::ResultsError::Wave(crate::waves::WaveError::NotFound(_)) => {
                    AppError::NotFound
                }
                load::ResultsError::WaveOpen(_) => AppError::WaveStillOpen,
                other => AppError::internal(other),
            })
        })
        .await;
    let body = computed.and_then(|results| export::to_json(&results).map_err(AppError::internal));
    match body {
        Ok(json) => HttpResponse::Ok()
            .content_type("application/json")
            .body(json),
        Err(error) => {
            if let AppError::Internal(cause) = &error {
                tracing::error!(cause = %cause, "results failed");
            }
            HttpResponse::build(error.status())
                .content_type("application/json")
                .body(format!(
                    "{{\"error\":\"{}\"}}",
                    error.status().canonical_reason().unwrap_or("error")
                ))
        }
    }
}
