//! Results for signed-in accounts: the JSON API and HR's CSV download, each scoped to the
//! account and audited (`results`).

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::error::AppError;
use super::extract::{Hr, SignedIn};
use super::results::results_for;
use super::AppState;
use crate::aggregation::export;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/waves/{id}/results").route(web::get().to(results_json)));
    cfg.service(web::resource("/hr/waves/{id}/results.csv").route(web::get().to(results_csv)));
}

async fn results_json(
    state: web::Data<AppState>,
    path: web::Path<i32>,
    SignedIn(account): SignedIn,
) -> Result<HttpResponse, AppError> {
    let results = results_for(&state, &account, *path, "view results (JSON)").await?;
    let json = export::to_json(&results)?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(json))
}

/// HR's CSV download for Excel.
async fn results_csv(
    state: web::Data<AppState>,
    path: web::Path<i32>,
    Hr(account): Hr,
) -> Result<HttpResponse, AppError> {
    let wave_id = path.into_inner();
    let results = results_for(&state, &account, wave_id, "export results (CSV)").await?;
    let mut body = Vec::new();
    export::write_csv(&results, &mut body)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"anshin-wave-{wave_id}-results.csv\""),
        ))
        .body(body))
}
