//! `GET /api/v1/recordings/download/{id}/audio`: a small range server of our own.
//!
//! Not tower-http's `ServeFile`: audio is about to come from S3 as well as from `DATA_DIR`, and
//! `ServeFile` only reads local files; this handler's `Range`/`ETag` logic works on any source
//! that can report a length and stream from an offset.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::conditional::{Plan, Validators, http_date, plan};
use super::find;
use crate::domain::ProcessingStatus;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::IdPath;
use crate::http::openapi::{IdParam, Unauthorized};
use crate::storage::{StorageError, StorageKey};

/// The stored audio, from whichever store holds it (DATA_DIR or S3): `Range`, `If-Range`,
/// `If-None-Match` honoured; `ETag` from the SHA-256, `Last-Modified` from the store. A deleted
/// recording's audio is gone (410).
#[utoipa::path(
    get,
    path = "/api/v1/recordings/download/{id}/audio",
    params(
        IdParam,
        ("Range" = Option<String>, Header, description = "bytes=START-END, bytes=START- or bytes=-LAST"),
        ("If-Range" = Option<String>, Header, description = "ETag or HTTP date: the range only if the file is still that one, else the whole file"),
        ("If-None-Match" = Option<String>, Header, description = "ETag of a cached copy"),
    ),
    responses(
        (status = 200, description = "The whole file", content(
            (Vec<u8> = "audio/mpeg"), (Vec<u8> = "audio/wav"), (Vec<u8> = "audio/mp4"),
            (Vec<u8> = "audio/ogg"), (Vec<u8> = "audio/opus"), (Vec<u8> = "audio/webm"),
            (Vec<u8> = "audio/flac"), (Vec<u8> = "application/octet-stream"),
        )),
        (status = 206, description = "Part of the file", content(
            (Vec<u8> = "audio/mpeg"), (Vec<u8> = "audio/wav"), (Vec<u8> = "audio/mp4"),
            (Vec<u8> = "audio/ogg"), (Vec<u8> = "audio/opus"), (Vec<u8> = "audio/webm"),
            (Vec<u8> = "audio/flac"), (Vec<u8> = "application/octet-stream"),
        )),
        (status = 304, description = "Not modified"),
        (status = 400, description = "Invalid id", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "Unknown recording or no stored audio", body = ErrorBody),
        (status = 410, description = "The recording was deleted", body = ErrorBody),
        (status = 416, description = "Range not satisfiable", body = ErrorBody),
        (status = 503, description = "The audio store is unavailable", body = ErrorBody),
    ),
    tag = "recordings"
)]
pub async fn download_audio(
    State(state): State<AppState>,
    IdPath(id): IdPath,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let rec = find(&state, &id).await?;
    if ProcessingStatus::HIDDEN.contains(&rec.processing_status) {
        return Err(ApiError::Gone(format!(
            "recording {} was {}; its audio is no longer served",
            id.as_str(),
            rec.processing_status.as_str()
        )));
    }
    let Some(stored) = rec.audio_local_path.as_deref() else {
        return Err(ApiError::NotFound(format!(
            "recording {} has no stored audio",
            id.as_str()
        )));
    };
    // Only this recording's own key is ever read, whatever the stored location says.
    let Some(key) = StorageKey::audio_in_location(&id, stored) else {
        tracing::warn!(recording_id = %id, location = stored, "stored audio location is not this recording's; refused");
        return Err(missing());
    };
    let info = state.storage.head(&key).await.map_err(storage_error)?;
    let len = info.size;
    let validators = Validators {
        etag: rec
            .audio_sha256
            .as_deref()
            .filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit()) && !s.is_empty())
            .map(|s| format!("\"{s}\"")),
        last_modified: info.last_modified.map(|t| http_date(t.into())),
    };

    let mut base = HeaderMap::new();
    let content_type = content_type(rec.audio_format.as_deref(), key.extension());
    base.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    base.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let validator_headers = [
        (header::ETAG, &validators.etag),
        (header::LAST_MODIFIED, &validators.last_modified),
    ];
    for (name, value) in validator_headers {
        if let Some(v) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            base.insert(name, v);
        }
    }

    let (status, range) = match plan(&headers, &validators, len)? {
        Plan::NotModified => return Ok((StatusCode::NOT_MODIFIED, base).into_response()),
        Plan::Whole => (StatusCode::OK, None),
        Plan::Part { start, end } => {
            let cr = format!("bytes {start}-{end}/{len}");
            if let Ok(v) = HeaderValue::from_str(&cr) {
                base.insert(header::CONTENT_RANGE, v);
            }
            (StatusCode::PARTIAL_CONTENT, Some(start..end + 1))
        }
    };
    let object = state
        .storage
        .get(&key, range)
        .await
        .map_err(storage_error)?;
    base.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(object.range.end - object.range.start),
    );
    Ok((status, base, Body::from_stream(object.body)).into_response())
}

fn missing() -> ApiError {
    ApiError::NotFound("the stored audio file is missing".into())
}

/// Not there is 404; anything else is the store being unreachable (detail in the log only).
fn storage_error(e: StorageError) -> ApiError {
    match e {
        StorageError::NotFound(_) => missing(),
        StorageError::InvalidRange { size, .. } => ApiError::RangeNotSatisfiable(size),
        other => {
            tracing::warn!(error = %other, "audio store error");
            ApiError::Unavailable("the audio store is unavailable; try again later".into())
        }
    }
}

fn content_type(format: Option<&str>, extension: &str) -> &'static str {
    let ext = format.unwrap_or(extension).to_ascii_lowercase();
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

