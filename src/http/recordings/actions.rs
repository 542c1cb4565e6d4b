//! Actions: reprocess one recording, backfill now, check the Webex token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{find, webex_client};
use crate::domain::{QueueMessage, RecordingId, ReprocessRefused};
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiQuery, IdPath};
use crate::http::openapi::{IdParam, RecordingErrors, Unauthorized};

#[derive(Debug, Serialize, ToSchema)]
pub struct ReprocessAnswer {
    pub queued: bool,
    #[serde(rename = "recordingId")]
    pub recording_id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FetchParams {
    /// Hours back from now (default 24, 1..=168).
    #[param(minimum = 1, maximum = 168)]
    pub hours: Option<i64>,
    /// Most recordings to enqueue (default 100, 1..=1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FetchAnswer {
    pub success: bool,
    /// How many recordings were enqueued.
    pub processed_count: u64,
    /// Their ids.
    pub recordings: Vec<String>,
}

/// Enqueue a stored recording for processing again.
#[utoipa::path(
    post,
    path = "/api/v1/recordings/{id}/reprocess",
    params(IdParam),
    responses(
        (status = 202, description = "Queued", body = ReprocessAnswer),
        RecordingErrors,
        (status = 403, description = "The key's role may not reprocess", body = ErrorBody),
        (status = 409, description = "Under legal hold, or deleted", body = ErrorBody),
        (status = 503, description = "Queue unavailable", body = ErrorBody),
    ),
    tag = "recordings"
)]
pub async fn reprocess_recording(
    State(state): State<AppState>,
    IdPath(id): IdPath,
) -> Result<(StatusCode, Json<ReprocessAnswer>), ApiError> {
    enqueue_reprocess(&state, &id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ReprocessAnswer {
            queued: true,
            recording_id: id.as_str().to_string(),
        }),
    ))
}

/// Sends a stored recording for processing again (the API's and the console's reprocess).
pub async fn enqueue_reprocess(state: &AppState, id: &RecordingId) -> Result<(), ApiError> {
    find(state, id)
        .await?
        .may_be_reprocessed()
        .map_err(|refused| match refused {
            ReprocessRefused::Held(_) => ApiError::LegalHold(refused.to_string()),
            ReprocessRefused::Gone(..) | ReprocessRefused::Purged(_) => {
                ApiError::Conflict(refused.to_string())
            }
        })?;
    let message = QueueMessage::reprocess(id.clone());
    state.publisher.publish(&message).await?;
    Ok(())
}

/// Backfill now: list the window at Webex and enqueue what is missing.
#[utoipa::path(
    post,
    path = "/api/v1/recordings/fetch",
    params(FetchParams),
    responses(
        (status = 200, description = "Backfill done", body = FetchAnswer),
        (status = 400, description = "Bad parameter", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The key's role may not fetch from Webex", body = ErrorBody),
        (status = 503, description = "Backfill unavailable", body = ErrorBody),
    ),
    tag = "recordings"
)]
pub async fn fetch_recordings(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<FetchParams>,
) -> Result<Json<FetchAnswer>, ApiError> {
    let hours = params.hours.unwrap_or(24);
    if !(1..=168).contains(&hours) {
        return Err(ApiError::BadRequest(format!(
            "hours: must be between 1 and 168, got {hours}"
        )));
    }
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit: must be between 1 and 1000, got {limit}"
        )));
    }
    let to = Utc::now();
    let from = to - chrono::TimeDelta::hours(hours);
    // Both are range-checked above.
    let limit = u32::try_from(limit).unwrap_or(1000);
    Ok(Json(run_fetch(&state, from, to, limit).await?))
}

/// The backfill behind `POST /fetch`: one reconcile of the window, now.
pub async fn run_fetch(
    state: &AppState,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u32,
) -> Result<FetchAnswer, ApiError> {
    let webex = webex_client(state)?;
    let options = crate::reconciler::ReconcileOptions {
        limit: Some(u64::from(limit)),
        dry_run: false,
        scope: None,
        services: state.config.reconcile_service_types,
    };
    let report = crate::reconciler::reconcile(
        webex,
        &state.store,
        state.publisher.as_ref(),
        crate::reconciler::Window { from, to },
        &options,
        &|_| {},
    )
    .await?;
    Ok(FetchAnswer {
        success: true,
        processed_count: report.enqueued,
        recordings: report
            .enqueued_ids
            .iter()
            .map(ToString::to_string)
            .collect(),
    })
}

/// The same checks as `webhook-setup verify`, as JSON.
#[utoipa::path(
    get,
    path = "/api/v1/recordings/test/webex-access",
    responses(
        (status = 200, description = "Access report", body = Object),
        Unauthorized,
        (status = 503, description = "Not available", body = ErrorBody),
    ),
    tag = "recordings"
)]
pub async fn webex_access(
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    run_access_check(&state).await.map(Json)
}

/// `webhook-setup verify`'s report, for this service's own token.
pub async fn run_access_check(state: &AppState) -> Result<serde_json::Value, ApiError> {
    let webex = webex_client(state)?;
    let report = crate::webex::access::check_access(webex).await;
    serde_json::to_value(report).map_err(|e| ApiError::Internal(e.to_string()))
}
