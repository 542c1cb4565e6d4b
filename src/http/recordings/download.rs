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

use super::find;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::IdPath;
use crate::http::openapi::Unauthorized;

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
}
