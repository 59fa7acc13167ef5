//! Operator endpoints: Prometheus metrics, liveness and readiness.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::HttpState;

/// `GET /metrics`: Prometheus text exposition.
pub(crate) async fn metrics(state: web::Data<HttpState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.exchange.render_metrics())
}

/// `GET /healthz`: the process is up.
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the store answers; 503 otherwise (take this replica out of rotation).
pub(crate) async fn readyz(state: web::Data<HttpState>) -> HttpResponse {
    match state.exchange.ready().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Err(error) => HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "unavailable", "code": error.code() })),
    }
}
