//! `POST /api/v1/recordings/{id}/swap-roles`: agent and customer the other way round, with
//! everything that depends on them re-derived (per-speaker sentiment, per-role figures, tracker
//! matches). Audited by the access layer as `recording.swap_roles`.

use axum::Json;
use axum::extract::State;
use chrono::Utc;

use super::find;
use crate::domain::{Recording, RecordingId, swap_roles};
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::IdPath;
use crate::http::openapi::{IdParam, RecordingErrors};
use crate::trackers::evaluate_all;

/// Swaps who is the agent and who the customer (when the automatic attribution got it wrong).
#[utoipa::path(
    post,
    path = "/api/v1/recordings/{id}/swap-roles",
    params(IdParam),
    responses(
        (status = 200, description = "The recording with its roles swapped and its per-role figures re-derived", body = Recording),
        RecordingErrors,
        (status = 403, description = "The key's role may not swap roles", body = ErrorBody),
        (status = 409, description = "The recording has no roles (no transcript with two speakers), or it changed meanwhile", body = ErrorBody),
    ),
    tag = "recordings"
)]
pub async fn swap_recording_roles(
    State(state): State<AppState>,
    IdPath(id): IdPath,
) -> Result<Json<Recording>, ApiError> {
    Ok(Json(swap_and_store(&state, &id).await?))
}

/// The swap behind the API and the console: re-derived, re-evaluated against the trackers, and
/// stored only if nothing rewrote the record meanwhile.
pub async fn swap_and_store(state: &AppState, id: &RecordingId) -> Result<Recording, ApiError> {
    let mut rec = find(state, id).await?;
    let read_updated_at = rec.updated_at;
    swap_roles(&mut rec).map_err(|e| ApiError::Conflict(e.to_string()))?;
    rec.updated_at = Utc::now().max(read_updated_at + chrono::TimeDelta::milliseconds(1));
    let trackers = state.store.tracker_definitions().await?;
    rec.trackers = evaluate_all(&rec, &trackers);
    if !state
        .store
        .store_swapped_roles(&rec, read_updated_at)
        .await?
    {
        return Err(ApiError::Conflict(format!(
            "recording {} changed while its roles were being swapped; try again",
            id.as_str()
        )));
    }
    Ok(rec)
}
