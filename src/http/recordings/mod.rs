//! REST API under `/api/v1/recordings`, plus `/api/v1/openapi.json`: one file per job.

mod actions;
mod conditional;
mod download;
mod insight;
mod item;
mod list;
mod stats;

use std::sync::Arc;

use axum::routing::get;
use axum::{Extension, Router, middleware};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::openapi::{self, ApiDoc};
use super::{AppState, access, compliance, trackers};
use crate::domain::{Recording, RecordingId, ReprocessRefused};

pub use actions::{FetchAnswer, enqueue_reprocess, run_access_check, run_fetch};
pub use conditional::parse_range;
pub use insight::swap_and_store;
pub use item::{get_recording, soft_delete};
pub use list::{DEFAULT_LIMIT, MAX_LIMIT, SearchParams, parse_date};

/// Every documented route; the paths come from each handler's `#[utoipa::path]`.
fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(list::list_recordings))
        .routes(routes!(item::get_recording, item::delete_recording))
        .routes(routes!(actions::reprocess_recording))
        .routes(routes!(insight::swap_recording_roles))
        .routes(routes!(actions::fetch_recordings))
        .routes(routes!(actions::webex_access))
        .routes(routes!(stats::stats_summary))
        .routes(routes!(download::download_audio))
        .routes(routes!(openapi::openapi_json))
        .routes(routes!(trackers::create_tracker, trackers::list_trackers))
        .routes(routes!(
            trackers::get_tracker,
            trackers::put_tracker,
            trackers::delete_tracker
        ))
        .routes(routes!(compliance::set_hold, compliance::release_hold))
        .routes(routes!(compliance::list_audit))
}

/// The OpenAPI document of this API.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    documented_routes().into_openapi()
}

pub fn router(state: &AppState) -> Router<AppState> {
    let (routes, doc) = documented_routes().split_for_parts();
    routes
        // The seed's clients list without the trailing slash; not a second documented path.
        .route("/api/v1/recordings", get(list::list_recordings))
        .layer(Extension::<openapi::Document>(Arc::new(doc)))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            access::enforce,
        ))
}

async fn find(state: &AppState, id: &RecordingId) -> Result<Recording, ApiError> {
    state
        .store
        .get_recording(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no recording {}", id.as_str())))
}

/// 409 for a deletion that cannot happen (`Recording::may_be_deleted`).
fn refuse_deletion(rec: &Recording) -> Result<(), ApiError> {
    rec.may_be_deleted().map_err(|refused| match refused {
        ReprocessRefused::Held(_) => ApiError::LegalHold(refused.to_string()),
        _ => ApiError::Conflict(refused.to_string()),
    })
}

/// The Webex client, or 503 when no credentials are configured.
fn webex_client(state: &AppState) -> Result<&crate::webex::WebexClient, ApiError> {
    state.webex.as_ref().ok_or_else(|| {
        ApiError::Unavailable(
            "no Webex credentials are configured (WEBEX_ACCESS_TOKEN or OAuth)".into(),
        )
    })
}
