//! `GET /api/v1/recordings/stats/summary`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::openapi::Unauthorized;

#[derive(Debug, Serialize, ToSchema)]
pub struct StatsSummary {
    pub total_recordings: u64,
    /// Status → count.
    pub by_status: BTreeMap<String, u64>,
    pub with_transcripts: u64,
    pub with_summaries: u64,
    pub average_quality_score: Option<f64>,
    pub total_storage_mb: f64,
    /// Messages in the dead-letter queue.
    pub dead_lettered: u64,
    /// Alerts given up after retrying for a day.
    pub alerts_failed: u64,
}

/// Counts over all stored recordings.
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
        total_recordings: stats.total_recordings,
        by_status: stats.by_status,
        with_transcripts: stats.with_transcripts,
        with_summaries: stats.with_summaries,
        average_quality_score: stats.average_quality_score,
        total_storage_mb: stats.total_storage_mb,
        dead_lettered: depth.dead,
        alerts_failed: state.store.alerts_failed().await?,
    }))
}
