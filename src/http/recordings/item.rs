//! `GET` and `DELETE /api/v1/recordings/{id}`.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{find, held, refuse_if_held};
use crate::domain::Recording;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiQuery, IdPath};
use crate::http::openapi::Unauthorized;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteParams {
    /// Also delete the recording at Webex (default false).
    pub delete_from_webex: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeleteAnswer {
    pub deleted: bool,
    #[serde(rename = "recordingId")]
    pub recording_id: String,
    pub deleted_from_webex: bool,
}

/// One recording with every field.
#[utoipa::path(
    get,
    path = "/api/v1/recordings/{id}",
    params(("id" = String, Path, description = "Webex recording id")),
    responses(
        (status = 200, description = "The recording", body = Recording),
        (status = 400, description = "Invalid id", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "Unknown recording", body = ErrorBody),
    ),
    tag = "recordings"
)]
pub async fn get_recording(
    State(state): State<AppState>,
    IdPath(id): IdPath,
) -> Result<Json<Recording>, ApiError> {
    Ok(Json(find(&state, &id).await?))
}

/// Soft delete (status `deleted`; the stored audio and transcript are removed); with
/// `delete_from_webex=true` also at Webex.
#[utoipa::path(
    delete,
    path = "/api/v1/recordings/{id}",
    params(("id" = String, Path, description = "Webex recording id"), DeleteParams),
    responses(
        (status = 200, description = "Deleted", body = DeleteAnswer),
        (status = 400, description = "Invalid id or parameter", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "Unknown recording", body = ErrorBody),
        (status = 409, description = "Under legal hold", body = ErrorBody),
        (status = 502, description = "Deleted here, but Webex refused the deletion", body = ErrorBody),
        (status = 503, description = "Deleted here; no Webex credentials to delete it there, or the stored files could not be removed yet", body = ErrorBody),
    ),
    tag = "recordings"
)]
pub async fn delete_recording(
    State(state): State<AppState>,
    IdPath(id): IdPath,
    ApiQuery(params): ApiQuery<DeleteParams>,
) -> Result<Json<DeleteAnswer>, ApiError> {
    let rec = find(&state, &id).await?;
    refuse_if_held(&rec)?;
    if !state.store.mark_recording_deleted(&id, Utc::now()).await? {
        return Err(held(&id));
    }
    // After the mark, so a failure here is put right by deleting again.
    state.storage.delete_files_of(&rec).await.map_err(|e| {
        tracing::warn!(recording_id = %id, error = %e, "could not remove the stored files");
        ApiError::Unavailable(format!(
            "recording {} is marked deleted, but its stored files could not be removed; \
             try the deletion again",
            id.as_str()
        ))
    })?;
    let at_webex = params.delete_from_webex.unwrap_or(false);
    if at_webex {
        let Some(webex) = &state.webex else {
            return Err(ApiError::Unavailable(format!(
                "recording {} is marked deleted here, but it was not deleted at Webex: \
                 no Webex credentials are configured",
                id.as_str()
            )));
        };
        webex
            .delete_recording(id.as_str(), None, None)
            .await
            .map_err(|e| {
                ApiError::BadGateway(format!(
                    "recording {} is marked deleted here, but deleting it at Webex failed: {e}",
                    id.as_str()
                ))
            })?;
    }
    Ok(Json(DeleteAnswer {
        deleted: true,
        recording_id: id.as_str().to_string(),
        deleted_from_webex: at_webex,
    }))
}
