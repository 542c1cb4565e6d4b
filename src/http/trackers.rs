//! `/api/v1/trackers`: create, list, read, replace and delete trackers. Reading needs any
//! role, changing needs `Operate`: the access layer decides, from its route table. A GET shows
//! the match count and the progress of the background re-evaluation that every change starts.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, IntoResponses, ToSchema};

use super::AppState;
use super::access::AuditDetail;
use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use super::openapi::{JsonBodyRefused, Unauthorized};
use crate::access::Principal;
use crate::store::StoredTracker;
use crate::trackers::{InvalidTracker, TrackerDefinition, existing_name};

/// How far the re-evaluation of stored recordings has come.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reevaluation {
    pub evaluated: u64,
    pub total: u64,
    /// Whether every stored recording has been evaluated with the current rules.
    pub done: bool,
}

/// A tracker: its definition as given, plus what it found.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackerAnswer {
    pub name: String,
    /// `all` or `any`.
    #[serde(rename = "match")]
    pub match_mode: String,
    #[schema(value_type = Vec<Object>)]
    pub rules: Value,
    /// Recordings the tracker matches now.
    pub matches: u64,
    pub reevaluation: Reevaluation,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<StoredTracker> for TrackerAnswer {
    fn from(t: StoredTracker) -> Self {
        let json = t.definition.to_json();
        Self {
            name: t.definition.name,
            match_mode: json["match"].as_str().unwrap_or("all").to_string(),
            rules: json["rules"].clone(),
            matches: t.matches,
            reevaluation: Reevaluation {
                evaluated: t.evaluated,
                total: t.total,
                done: t.done,
            },
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrackerList {
    pub items: Vec<TrackerAnswer>,
}

impl From<InvalidTracker> for ApiError {
    fn from(e: InvalidTracker) -> Self {
        Self::BadRequest(e.0)
    }
}

/// The `{name}` of the path, validated like a tracker name.
pub struct TrackerName(pub String);

/// The `{name}` path parameter as documented.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct TrackerNameParam {
    /// Tracker name
    #[param(pattern = r"^[A-Za-z0-9._-][A-Za-z0-9 ._-]{0,63}$")]
    name: String,
}

/// What a change can be refused with besides its own errors.
#[derive(IntoResponses)]
#[allow(dead_code)]
enum ChangeRefused {
    #[response(status = 401, description = "Missing or wrong API token")]
    Unauthorized(ErrorBody),
    #[response(status = 403, description = "The role may not manage trackers")]
    Forbidden(ErrorBody),
}

/// A `{name}` that is not a tracker's.
#[derive(IntoResponses)]
#[allow(dead_code)]
enum NoSuchTracker {
    #[response(status = 400, description = "Invalid tracker name")]
    InvalidName(ErrorBody),
    #[response(status = 404, description = "Unknown tracker")]
    Unknown(ErrorBody),
}

impl<S: Send + Sync> FromRequestParts<S> for TrackerName {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await?;
        Ok(Self(existing_name(&raw)?))
    }
}

/// The audit entry of a change names its tracker (the console's too).
pub(crate) fn named(name: &str) -> Extension<AuditDetail> {
    Extension(AuditDetail(format!("tracker {name:?}")))
}

async fn answer(state: &AppState, name: &str) -> Result<TrackerAnswer, ApiError> {
    state
        .store
        .get_tracker(name)
        .await?
        .map(TrackerAnswer::from)
        .ok_or_else(|| ApiError::NotFound(format!("no tracker {name:?}")))
}

/// Create a tracker; every stored recording is then evaluated against it in the background.
#[utoipa::path(
    post,
    path = "/api/v1/trackers",
    request_body(content = Object, description = r#"{"name", "match": "all"|"any", "rules": [RULE, …]}"#),
    responses(
        (status = 201, description = "Created", body = TrackerAnswer),
        (status = 400, description = "Invalid tracker, naming the problem", body = ErrorBody),
        ChangeRefused,
        JsonBodyRefused,
        (status = 409, description = "A tracker of that name exists", body = ErrorBody),
    ),
    tag = "trackers"
)]
pub async fn create_tracker(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Extension<AuditDetail>, Json<TrackerAnswer>), ApiError> {
    let tracker = TrackerDefinition::from_json(&body)?;
    if !state.store.create_tracker(&tracker, Utc::now()).await? {
        return Err(ApiError::Conflict(format!(
            "a tracker named {:?} exists; change it with PUT",
            tracker.name
        )));
    }
    tracing::info!(actor = %principal.actor, tracker = %tracker.name, "tracker created");
    Ok((
        StatusCode::CREATED,
        named(&tracker.name),
        Json(answer(&state, &tracker.name).await?),
    ))
}

/// Every tracker, by name.
#[utoipa::path(
    get,
    path = "/api/v1/trackers",
    responses((status = 200, description = "Trackers", body = TrackerList), Unauthorized),
    tag = "trackers"
)]
pub async fn list_trackers(State(state): State<AppState>) -> Result<Json<TrackerList>, ApiError> {
    let items = state.store.list_trackers().await?;
    Ok(Json(TrackerList {
        items: items.into_iter().map(TrackerAnswer::from).collect(),
    }))
}

/// One tracker with its match count and re-evaluation progress.
#[utoipa::path(
    get,
    path = "/api/v1/trackers/{name}",
    params(TrackerNameParam),
    responses(
        (status = 200, description = "The tracker", body = TrackerAnswer),
        Unauthorized,
        NoSuchTracker,
    ),
    tag = "trackers"
)]
pub async fn get_tracker(
    State(state): State<AppState>,
    TrackerName(name): TrackerName,
) -> Result<Json<TrackerAnswer>, ApiError> {
    Ok(Json(answer(&state, &name).await?))
}

/// Replace a tracker's rules; its matches are re-evaluated from scratch in the background.
#[utoipa::path(
    put,
    path = "/api/v1/trackers/{name}",
    params(TrackerNameParam),
    request_body(content = Object, description = r#"{"match": "all"|"any", "rules": [RULE, …]}"#),
    responses(
        (status = 200, description = "Replaced", body = TrackerAnswer),
        (status = 400, description = "Invalid tracker, naming the problem", body = ErrorBody),
        ChangeRefused,
        JsonBodyRefused,
        (status = 404, description = "Unknown tracker", body = ErrorBody),
    ),
    tag = "trackers"
)]
pub async fn put_tracker(
    State(state): State<AppState>,
    principal: Principal,
    TrackerName(name): TrackerName,
    ApiJson(body): ApiJson<Value>,
) -> Result<(Extension<AuditDetail>, Json<TrackerAnswer>), ApiError> {
    let tracker = TrackerDefinition::from_json_named(&name, &body)?;
    if !state.store.update_tracker(&tracker, Utc::now()).await? {
        return Err(ApiError::NotFound(format!("no tracker {name:?}")));
    }
    tracing::info!(actor = %principal.actor, tracker = %name, "tracker changed");
    Ok((named(&name), Json(answer(&state, &name).await?)))
}

/// Delete a tracker and its matches.
#[utoipa::path(
    delete,
    path = "/api/v1/trackers/{name}",
    params(TrackerNameParam),
    responses((status = 204, description = "Deleted"), ChangeRefused, NoSuchTracker),
    tag = "trackers"
)]
pub async fn delete_tracker(
    State(state): State<AppState>,
    principal: Principal,
    TrackerName(name): TrackerName,
) -> Result<(Extension<AuditDetail>, StatusCode), ApiError> {
    if !state.store.delete_tracker(&name).await? {
        return Err(ApiError::NotFound(format!("no tracker {name:?}")));
    }
    tracing::info!(actor = %principal.actor, tracker = %name, "tracker deleted");
    Ok((named(&name), StatusCode::NO_CONTENT))
}
