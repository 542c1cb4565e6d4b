//! `GET` and `DELETE /api/v1/recordings/{id}`.

use axum::extract::State;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{find, refuse_deletion, webex_client};
use crate::domain::{Recording, RecordingId};
use crate::http::AppState;
use crate::http::access::{AuditContext, Audited};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiQuery, IdPath};
use crate::http::openapi::{IdParam, RecordingErrors, Unauthorized};
use crate::retention::remove_recording_files;
use crate::webex::{DeletionNote, WebexDeletion, WebexError};

/// What Webex's permanent deletion records as the reason (compliance officer tokens).
const WEBEX_DELETION_NOTE: DeletionNote<'static> = DeletionNote {
    reason: "Deleted through the webex-recordings API",
    comment: "DELETE /api/v1/recordings/{id}?delete_from_webex=true",
};

/// The write scopes one of which `delete_from_webex=true` needs, for the 403 message.
const WRITE_SCOPES: &str =
    "spark:recordings_write, spark-admin:recordings_write or spark-compliance:recordings_write";

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
    /// How Webex removed it; null when `delete_from_webex` was not asked for.
    pub webex_deletion: Option<WebexDeletion>,
}

/// One recording with every field.
#[utoipa::path(
    get,
    path = "/api/v1/recordings/{id}",
    params(IdParam),
    responses((status = 200, description = "The recording", body = Recording), RecordingErrors),
    tag = "recordings"
)]
pub async fn get_recording(
    State(state): State<AppState>,
    IdPath(id): IdPath,
) -> Result<Json<Recording>, ApiError> {
    Ok(Json(find(&state, &id).await?))
}

/// Soft delete (status `deleted`; the stored audio and transcript are removed); with
/// `delete_from_webex=true` at Webex first, and here only once Webex has said yes (recycle bin,
/// permanent deletion, or already gone). A recording under legal hold is deleted nowhere.
#[utoipa::path(
    delete,
    path = "/api/v1/recordings/{id}",
    params(IdParam, DeleteParams),
    responses(
        (status = 200, description = "Deleted", body = DeleteAnswer),
        (status = 400, description = "Invalid id or parameter", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The key's role may not delete recordings", body = ErrorBody),
        (status = 404, description = "Unknown recording", body = ErrorBody),
        (status = 409, description = "Under legal hold, or purged; nothing was deleted", body = ErrorBody),
        (status = 502, description = "Webex refused the deletion; nothing was deleted", body = ErrorBody),
        (status = 503, description = "No Webex credentials to delete it there (nothing was deleted), or the stored files could not be removed yet (delete again)", body = ErrorBody),
    ),
    tag = "recordings"
)]
pub async fn delete_recording(
    State(state): State<AppState>,
    Extension(context): Extension<AuditContext>,
    IdPath(id): IdPath,
    ApiQuery(params): ApiQuery<DeleteParams>,
) -> Result<(Extension<Audited>, Json<DeleteAnswer>), ApiError> {
    let at_webex = params.delete_from_webex.unwrap_or(false);
    let webex_deletion = soft_delete(&state, &context, &id, at_webex, 200).await?;
    let answer = DeleteAnswer {
        deleted: true,
        recording_id: id.as_str().to_string(),
        deleted_from_webex: at_webex,
        webex_deletion,
    };
    Ok((Extension(Audited), Json(answer)))
}

/// The API's and the console's delete: refused under legal hold or once purged; with `at_webex` deleted at
/// Webex first, and here only once Webex said yes; then the stored files are removed. The mark
/// and its audit entry (`status`: what the caller answers on success) commit together; the
/// caller's answer then carries [`Audited`], so the access layer writes no second entry.
pub async fn soft_delete(
    state: &AppState,
    context: &AuditContext,
    id: &RecordingId,
    at_webex: bool,
    status: u16,
) -> Result<Option<crate::webex::WebexDeletion>, ApiError> {
    let rec = find(state, id).await?;
    refuse_deletion(&rec)?;
    let webex_deletion = if at_webex {
        let webex = webex_client(state)?;
        let deletion = webex
            .delete_as_allowed(id.as_str(), owner_email(&rec), &WEBEX_DELETION_NOTE)
            .await
            .map_err(|e| refused_at_webex(id.as_str(), &e))?;
        Some(deletion)
    } else {
        None
    };
    let entry = context.entry("recording.delete", Some(id.as_str()), status, None);
    let marked = state
        .store
        .mark_recording_deleted_audited(id, &entry)
        .await?;
    if marked {
        context.entry_committed();
    } else {
        // Held or purged since the first read.
        refuse_deletion(&find(state, id).await?)?;
        return Err(ApiError::Conflict(format!(
            "recording {} changed meanwhile; delete it again",
            id.as_str()
        )));
    }
    // After the mark, so a failure here is put right by deleting again; and read again after
    // it, as a run may have recorded its files since the first read (nothing can after).
    let marked = state.store.get_recording(id).await.ok().flatten();
    remove_recording_files(
        &state.store,
        &state.storage,
        marked.as_ref().unwrap_or(&rec),
    )
    .await
    .map_err(|e| {
        tracing::warn!(recording_id = %id, error = %e, "could not remove the stored files");
        ApiError::Unavailable(format!(
            "recording {} is marked deleted, but its stored files could not be removed; \
             try the deletion again",
            id.as_str()
        ))
    })?;
    Ok(webex_deletion)
}

/// The owner's e-mail as stored from the recording's details, for admin-on-behalf-of deletes.
fn owner_email(rec: &Recording) -> Option<&str> {
    rec.webex_metadata
        .as_ref()
        .and_then(|m| m.pointer("/recording/ownerEmail"))
        .and_then(|v| v.as_str())
}

fn refused_at_webex(id: &str, e: &WebexError) -> ApiError {
    if let WebexError::Auth(_) = e {
        tracing::warn!(recording_id = id, error = %e, "no Webex credentials to delete it there");
        return ApiError::Unavailable(format!(
            "recording {id} was not deleted: {}",
            crate::http::error::NO_WEBEX_CREDENTIALS
        ));
    }
    let hint = if e.status() == Some(403) {
        format!("; the token needs {WRITE_SCOPES}")
    } else {
        String::new()
    };
    // The cause (which may name Webex's hosts) goes to the log, not to the client.
    tracing::warn!(recording_id = id, error = %e, "Webex refused the deletion");
    let answered = e.status().map_or_else(
        || "could not be reached".to_string(),
        |s| format!("answered {s}"),
    );
    ApiError::BadGateway(format!(
        "recording {id} was not deleted: Webex {answered}{hint}"
    ))
}
