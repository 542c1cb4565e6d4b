//! `/healthz` (process up), `/readyz` (database, queue and file store reachable), `/metrics` (Prometheus).

use std::time::Duration;

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

/// A check slower than this counts as failed: a webhook would not be answered in time either.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The cause goes to the log; the public answer only says which part is not ready.
fn outcome<E: std::fmt::Display>(
    part: &str,
    result: Result<Result<(), E>, tokio::time::error::Elapsed>,
) -> Option<String> {
    match result {
        Ok(Ok(())) => None,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "{part} not ready");
            Some("unavailable".into())
        }
        Err(_) => {
            tracing::warn!("{part} did not answer within {CHECK_TIMEOUT:?}");
            Some("timed out".into())
        }
    }
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    // A write, not `SELECT 1`: ready must mean that a webhook could be queued now.
    let (database, queue, storage) = tokio::join!(
        tokio::time::timeout(CHECK_TIMEOUT, state.store.probe_write()),
        tokio::time::timeout(CHECK_TIMEOUT, state.publisher.check_ready()),
        tokio::time::timeout(CHECK_TIMEOUT, state.storage.check()),
    );
    let database = outcome("database", database);
    let queue = outcome("queue", queue);
    let storage = outcome("storage", storage);
    let ready = database.is_none() && queue.is_none() && storage.is_none();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "ready": ready,
        "database": database.unwrap_or_else(|| "ok".into()),
        "queue": queue.unwrap_or_else(|| "ok".into()),
        "storage": storage.unwrap_or_else(|| "ok".into()),
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
