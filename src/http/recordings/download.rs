//! `GET /api/v1/recordings/download/{id}/audio`: a small range server of our own.
//!
//! Not tower-http's `ServeFile`: audio is about to come from S3 as well as from `DATA_DIR`, and
//! `ServeFile` only reads local files; this handler's `Range`/`ETag` logic works on any source
//! that can report a length and stream from an offset.

use std::io::SeekFrom;
use std::path::{Path as FsPath, PathBuf};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::conditional::{Plan, Validators, http_date, plan};
use super::find;
use crate::domain::ProcessingStatus;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::IdPath;
use crate::http::openapi::{IdParam, Unauthorized};

/// The stored audio: `Range`, `If-Range`, `If-None-Match` honoured; `ETag` from the SHA-256,
/// `Last-Modified` from the file. A deleted recording's audio is gone (410).
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
    let path = contained_path(&state.config.data_dir, stored).await?;
    let mut file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| ApiError::NotFound("the stored audio file is missing".into()))?;
    let metadata = file
        .metadata()
        .await
        .map_err(|e| ApiError::Internal(format!("stat {}: {e}", path.display())))?;
    let len = metadata.len();
    let validators = Validators {
        etag: rec
            .audio_sha256
            .as_deref()
            .filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit()) && !s.is_empty())
            .map(|s| format!("\"{s}\"")),
        last_modified: metadata.modified().ok().map(http_date),
    };

    let mut base = HeaderMap::new();
    let content_type = content_type(rec.audio_format.as_deref(), &path);
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

    let (status, start, count) = match plan(&headers, &validators, len)? {
        Plan::NotModified => return Ok((StatusCode::NOT_MODIFIED, base).into_response()),
        Plan::Whole => (StatusCode::OK, 0, len),
        Plan::Part { start, end } => {
            let cr = format!("bytes {start}-{end}/{len}");
            if let Ok(v) = HeaderValue::from_str(&cr) {
                base.insert(header::CONTENT_RANGE, v);
            }
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
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
