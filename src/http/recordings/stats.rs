//! `GET /api/v1/recordings/stats/summary`: the store's counts, served as they are, plus the
//! dead-letter depth that only the queue knows.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::openapi::Unauthorized;
use crate::store::Stats;

#[derive(Debug, Serialize, ToSchema)]
pub struct StatsSummary {
    #[serde(flatten)]
    pub stats: Stats,
    /// Messages in the dead-letter queue.
    pub dead_lettered: u64,
    /// Alerts given up after retrying for a day.
    pub alerts_failed: u64,
}

/// Counts over the stored recordings; `deleted` and `purged` ones only under `by_status`.
#[utoipa::path(
    get,
    path = "/api/v1/recordings/stats/summary",
    responses(
        (status = 200, description = "Statistics", body = StatsSummary),
        Unauthorized,
        (status = 503, description = "Database or queue unavailable", body = ErrorBody),
    ),
    tag = "recordings"
)]
pub async fn stats_summary(State(state): State<AppState>) -> Result<Json<StatsSummary>, ApiError> {
    let stats = state.store.stats().await?;
    let depth = state.publisher.depth().await?;
    Ok(Json(StatsSummary {
        stats,
        dead_lettered: depth.dead,
        alerts_failed: state.store.alerts_failed().await?,
    }))
}
