//! REST API under `/api/v1/recordings` (issue: REST API), plus `/api/v1/openapi.json`.

use std::collections::BTreeMap;
use std::io::SeekFrom;
use std::path::{Path as FsPath, PathBuf};

use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router, middleware};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::AppState;
use super::auth;
use super::error::{ApiError, ErrorBody};
use crate::domain::{
    MessageSource, ProcessingStatus, QueueMessage, Recording, RecordingEvent, RecordingId,
};
use crate::store::ListFilter;

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 500;

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/recordings", get(list_recordings))
        .route("/api/v1/recordings/", get(list_recordings))
        .route("/api/v1/recordings/fetch", post(fetch_recordings))
        .route("/api/v1/recordings/stats/summary", get(stats_summary))
        .route("/api/v1/recordings/test/webex-access", get(webex_access))
        .route(
            "/api/v1/recordings/download/{id}/audio",
            get(download_audio),
        )
        .route(
            "/api/v1/recordings/{id}/reprocess",
            post(reprocess_recording),
        )
        .route(
            "/api/v1/recordings/{id}",
            get(get_recording).merge(delete(delete_recording)),
        )
        .route("/api/v1/openapi.json", get(openapi_json))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_principal,
        ))
}

// ---------------------------------------------------------------------------------------------
// Extractors whose rejections are `ApiError`s (JSON bodies, 400).

/// `Query` whose failures answer 400 with the JSON error body.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Query(value) = Query::<T>::try_from_uri(&parts.uri)?;
        Ok(Self(value))
    }
}

/// The `{id}` path segment, validated as a [`RecordingId`] before anything else sees it.
pub struct IdPath(pub RecordingId);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await?;
        Ok(Self(RecordingId::parse(&raw)?))
    }
}

// ---------------------------------------------------------------------------------------------
// Schemas.

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Rows to skip (default 0).
    pub skip: Option<u64>,
    /// Rows to return (default 50, max 500).
    #[param(maximum = 500)]
    pub limit: Option<u64>,
    /// `pending`, `processing`, `completed`, `partial`, `failed` or `deleted`.
    pub status: Option<String>,
    /// Earliest recording time: RFC 3339 or `YYYY-MM-DD` (start of that day, UTC).
    pub from_date: Option<String>,
    /// Latest recording time: RFC 3339 or `YYYY-MM-DD` (end of that day, UTC).
    pub to_date: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingList {
    /// Recordings matching the filters, before skip and limit.
    pub total: u64,
    pub skip: u64,
    pub limit: u64,
    pub items: Vec<Recording>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReprocessAnswer {
    pub queued: bool,
    #[serde(rename = "recordingId")]
    pub recording_id: String,
}

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

// ---------------------------------------------------------------------------------------------
// Handlers.

/// Parses `RFC 3339` or `YYYY-MM-DD` (start of day, or end of day when `end_of_day`).
pub fn parse_date(name: &str, raw: &str, end_of_day: bool) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let time = if end_of_day {
            NaiveTime::from_hms_milli_opt(23, 59, 59, 999)
        } else {
            NaiveTime::from_hms_opt(0, 0, 0)
        };
        if let Some(time) = time {
            return Ok(d.and_time(time).and_utc());
        }
    }
    Err(ApiError::BadRequest(format!(
        "{name} must be RFC 3339 (2025-03-01T12:00:00Z) or YYYY-MM-DD, got {raw:?}"
    )))
}

fn list_filter(p: &ListParams) -> Result<ListFilter, ApiError> {
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}, got {limit}"
        )));
    }
    let skip = p.skip.unwrap_or(0);
    if skip > i64::MAX as u64 {
        return Err(ApiError::BadRequest("skip is too large".into()));
    }
    let status = match p.status.as_deref() {
        None => None,
        Some(raw) => Some(ProcessingStatus::parse(raw).ok_or_else(|| {
            let known: Vec<&str> = ProcessingStatus::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::BadRequest(format!(
                "unknown status {raw:?}; one of {}",
                known.join(", ")
            ))
        })?),
    };
    let from = p
        .from_date
        .as_deref()
        .map(|raw| parse_date("from_date", raw, false))
        .transpose()?;
    let to = p
        .to_date
        .as_deref()
        .map(|raw| parse_date("to_date", raw, true))
        .transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::BadRequest(
            "from_date is after to_date".to_string(),
        ));
    }
    Ok(ListFilter {
        status,
        from,
        to,
        skip,
        limit,
    })
}

/// List recordings, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/recordings/",
    params(ListParams),
    responses(
        (status = 200, description = "A page of recordings", body = RecordingList),
        (status = 400, description = "Bad query parameter", body = ErrorBody),
        Unauthorized,
    ),
    tag = "recordings"
)]
pub async fn list_recordings(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<RecordingList>, ApiError> {
    let filter = list_filter(&params)?;
    let page = state.store.list_recordings(&filter).await?;
    Ok(Json(RecordingList {
        total: page.total,
        skip: filter.skip,
        limit: filter.limit,
        items: page.items,
    }))
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

async fn find(state: &AppState, id: &RecordingId) -> Result<Recording, ApiError> {
    state
        .store
        .get_recording(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no recording {}", id.as_str())))
}

/// Enqueue a stored recording for processing again.
#[utoipa::path(
    post,
    path = "/api/v1/recordings/{id}/reprocess",
    params(("id" = String, Path, description = "Webex recording id")),
    responses(
        (status = 202, description = "Queued", body = ReprocessAnswer),
        (status = 400, description = "Invalid id", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "Unknown recording", body = ErrorBody),
        (status = 503, description = "Queue unavailable", body = ErrorBody),
    ),
    tag = "recordings"
)]
pub async fn reprocess_recording(
    State(state): State<AppState>,
    IdPath(id): IdPath,
) -> Result<(StatusCode, Json<ReprocessAnswer>), ApiError> {
    find(&state, &id).await?;
    let message = QueueMessage::new(
        MessageSource::Reprocess,
        RecordingEvent::Created,
        id.clone(),
        None,
        None,
    );
    state.publisher.publish(&message).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ReprocessAnswer {
            queued: true,
            recording_id: id.as_str().to_string(),
        }),
    ))
}

/// Soft delete (status `deleted`); with `delete_from_webex=true` also at Webex.
#[utoipa::path(
    delete,
    path = "/api/v1/recordings/{id}",
    params(("id" = String, Path, description = "Webex recording id"), DeleteParams),
    responses(
        (status = 200, description = "Deleted", body = DeleteAnswer),
        (status = 400, description = "Invalid id or parameter", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "Unknown recording", body = ErrorBody),
        (status = 502, description = "Deleted here, but Webex refused the deletion", body = ErrorBody),
        (status = 503, description = "Deleted here; no Webex credentials to delete it there", body = ErrorBody),
    ),
    tag = "recordings"
)]
pub async fn delete_recording(
    State(state): State<AppState>,
    IdPath(id): IdPath,
    ApiQuery(params): ApiQuery<DeleteParams>,
) -> Result<Json<DeleteAnswer>, ApiError> {
    find(&state, &id).await?;
    state.store.mark_recording_deleted(&id, Utc::now()).await?;
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
    }))
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
            "hours must be between 1 and 168, got {hours}"
        )));
    }
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and 1000, got {limit}"
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

/// The Webex client, or 503 when no credentials are configured.
fn webex_client(state: &AppState) -> Result<&crate::webex::WebexClient, ApiError> {
    state.webex.as_ref().ok_or_else(|| {
        ApiError::Unavailable(
            "no Webex credentials are configured (WEBEX_ACCESS_TOKEN or OAuth)".into(),
        )
    })
}

/// `webhook-setup verify`'s report, for this service's own token.
pub async fn run_access_check(state: &AppState) -> Result<serde_json::Value, ApiError> {
    let webex = webex_client(state)?;
    let report = crate::webex::access::check_access(webex).await;
    serde_json::to_value(report).map_err(|e| ApiError::Internal(e.to_string()))
}

/// The stored audio; `Range: bytes=…` honoured, `ETag` from the SHA-256.
#[utoipa::path(
    get,
    path = "/api/v1/recordings/download/{id}/audio",
    params(
        ("id" = String, Path, description = "Webex recording id"),
        ("Range" = Option<String>, Header, description = "bytes=START-END"),
        ("If-None-Match" = Option<String>, Header, description = "ETag of a cached copy"),
    ),
    responses(
        (status = 200, description = "The whole file", content_type = "audio/mpeg", body = Vec<u8>),
        (status = 206, description = "Part of the file", content_type = "audio/mpeg", body = Vec<u8>),
        (status = 304, description = "Not modified"),
        (status = 400, description = "Invalid id", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "Unknown recording or no stored audio", body = ErrorBody),
        (status = 416, description = "Range not satisfiable", body = ErrorBody),
    ),
    tag = "recordings"
)]
pub async fn download_audio(
    State(state): State<AppState>,
    IdPath(id): IdPath,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let rec = find(&state, &id).await?;
    let Some(stored) = rec.audio_local_path.as_deref() else {
        return Err(ApiError::NotFound(format!(
            "recording {} has no stored audio",
            id.as_str()
        )));
    };
    let path = contained_path(&state.config.data_dir, stored).await?;
    let mut file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| ApiError::NotFound("the stored audio file is missing".into()))?;
    let len = file
        .metadata()
        .await
        .map_err(|e| ApiError::Internal(format!("stat {}: {e}", path.display())))?
        .len();

    let etag = rec
        .audio_sha256
        .as_deref()
        .filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit()) && !s.is_empty())
        .and_then(|s| HeaderValue::from_str(&format!("\"{s}\"")).ok());
    let content_type = content_type(rec.audio_format.as_deref(), &path);

    let mut base = HeaderMap::new();
    base.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    base.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(tag) = &etag {
        base.insert(header::ETAG, tag.clone());
        if let Some(inm) = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            && etag_matches(inm, tag)
        {
            return Ok((StatusCode::NOT_MODIFIED, base).into_response());
        }
    }

    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|r| parse_range(r, len))
        .transpose()?
        .flatten();
    let (status, start, count) = match range {
        Some((start, end)) => {
            let cr = format!("bytes {start}-{end}/{len}");
            if let Ok(v) = HeaderValue::from_str(&cr) {
                base.insert(header::CONTENT_RANGE, v);
            }
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        None => (StatusCode::OK, 0, len),
    };
    if start > 0 {
        file.seek(SeekFrom::Start(start))
            .await
            .map_err(|e| ApiError::Internal(format!("seek {}: {e}", path.display())))?;
    }
    base.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    let body = Body::from_stream(ReaderStream::new(file.take(count)));
    Ok((status, base, body).into_response())
}

/// The stored path, resolved, if it lies under `data_dir`; else 404 (logged).
async fn contained_path(data_dir: &FsPath, stored: &str) -> Result<PathBuf, ApiError> {
    let missing = || ApiError::NotFound("the stored audio file is missing".into());
    let root = tokio::fs::canonicalize(data_dir)
        .await
        .map_err(|_| missing())?;
    let candidate = PathBuf::from(stored);
    // Absolute, or relative to the working directory as DATA_DIR is: taken as is.
    let candidate = if candidate.is_absolute() || candidate.starts_with(data_dir) {
        candidate
    } else {
        data_dir.join(candidate)
    };
    let resolved = tokio::fs::canonicalize(&candidate)
        .await
        .map_err(|_| missing())?;
    if !resolved.starts_with(&root) {
        tracing::warn!(path = %resolved.display(), "stored audio path lies outside DATA_DIR; refused");
        return Err(missing());
    }
    Ok(resolved)
}

fn content_type(format: Option<&str>, path: &FsPath) -> &'static str {
    let ext = format
        .map(str::to_ascii_lowercase)
        .or_else(|| {
            path.extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
        })
        .unwrap_or_default();
    match ext.trim_start_matches('.') {
        "mp3" | "mpeg" => "audio/mpeg",
        "wav" | "wave" => "audio/wav",
        "m4a" | "mp4" | "aac" => "audio/mp4",
        "ogg" | "oga" => "audio/ogg",
        "opus" => "audio/opus",
        "webm" => "audio/webm",
        "flac" => "audio/flac",
        _ => "application/octet-stream",
    }
}

fn etag_matches(if_none_match: &str, tag: &HeaderValue) -> bool {
    let tag = tag.to_str().unwrap_or_default();
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == tag)
}

/// One `bytes=` range → inclusive `(start, end)`. `Ok(None)`: not a single byte range we
/// understand (the whole file is sent, as RFC 9110 allows). Unsatisfiable → 416.
pub fn parse_range(raw: &str, len: u64) -> Result<Option<(u64, u64)>, ApiError> {
    let Some(spec) = raw.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ok(None),
        // bytes=-N: the last N bytes.
        (true, false) => {
            let Ok(n) = b.parse::<u64>() else {
                return Ok(None);
            };
            if n == 0 || len == 0 {
                return Err(ApiError::RangeNotSatisfiable(len));
            }
            (len.saturating_sub(n), len - 1)
        }
        (false, _) => {
            let Ok(start) = a.parse::<u64>() else {
                return Ok(None);
            };
            let end = if b.is_empty() {
                u64::MAX
            } else {
                let Ok(end) = b.parse::<u64>() else {
                    return Ok(None);
                };
                if end < start {
                    return Ok(None);
                }
                end
            };
            if start >= len {
                return Err(ApiError::RangeNotSatisfiable(len));
            }
            (start, end.min(len - 1))
        }
    };
    Ok(Some(range))
}

// ---------------------------------------------------------------------------------------------
// OpenAPI.

struct BearerSecurity;

/// The 401 every operation can answer (a missing or wrong `API_TOKEN`).
#[derive(utoipa::IntoResponses)]
#[response(status = 401, description = "Missing or wrong API token")]
struct Unauthorized(#[allow(dead_code)] ErrorBody);

impl utoipa::Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document itself.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    responses((status = 200, description = "This document", body = Object)),
    tag = "meta"
)]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[derive(OpenApi)]
#[openapi(
    info(title = "webex-recordings", description = "Webex Calling recordings: transcripts, summaries, audio"),
    paths(
        list_recordings,
        get_recording,
        reprocess_recording,
        delete_recording,
        stats_summary,
        fetch_recordings,
        webex_access,
        download_audio,
        openapi_json,
    ),
    components(schemas(
        Recording,
        ProcessingStatus,
        RecordingList,
        ReprocessAnswer,
        DeleteAnswer,
        StatsSummary,
        FetchAnswer,
        ErrorBody
    )),
    modifiers(&BearerSecurity),
    // Every operation here is behind the API token.
    security(("bearer" = []))
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100).unwrap(), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100).unwrap(), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100).unwrap(), Some((90, 99)));
        assert_eq!(parse_range("bytes=95-200", 100).unwrap(), Some((95, 99)));
        assert_eq!(parse_range("bytes=-200", 100).unwrap(), Some((0, 99)));
        assert!(parse_range("bytes=100-", 100).is_err());
        assert!(parse_range("bytes=-0", 100).is_err());
        assert_eq!(parse_range("bytes=0-1,5-6", 100).unwrap(), None);
        assert_eq!(parse_range("items=0-1", 100).unwrap(), None);
        assert_eq!(parse_range("bytes=x-1", 100).unwrap(), None);
        assert_eq!(parse_range("bytes=5-1", 100).unwrap(), None);
    }

    #[test]
    fn dates() {
        let d = parse_date("from_date", "2025-03-01", false).unwrap();
        assert_eq!(d.to_rfc3339(), "2025-03-01T00:00:00+00:00");
        let d = parse_date("to_date", "2025-03-01", true).unwrap();
        assert_eq!(d.timestamp_millis() % 1000, 999);
        assert!(parse_date("x", "2025-03-01T10:00:00+02:00", false).is_ok());
        assert!(parse_date("x", "yesterday", false).is_err());
        assert!(parse_date("x", "2025-13-01", false).is_err());
    }
}
