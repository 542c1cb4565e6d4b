//! `/healthz` (process up), `/readyz` (database and queue reachable), `/metrics` (Prometheus).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let database = state.store.ping().await.err().map(|e| e.to_string());
    let queue = state
        .publisher
        .check_ready()
        .await
        .err()
        .map(|e| e.to_string());
    let ready = database.is_none() && queue.is_none();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "ready": ready,
        "database": database.unwrap_or_else(|| "ok".into()),
        "queue": queue.unwrap_or_else(|| "ok".into()),
    });
    (status, Json(body))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    if let Ok(depth) = state.publisher.depth().await {
        metrics::gauge!("queue_messages_ready").set(depth.ready as f64);
        metrics::gauge!("queue_messages_dead").set(depth.dead as f64);
    }
    crate::telemetry::collect_process_metrics();
    let body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    ([("content-type", "text/plain; version=0.0.4")], body)
}
