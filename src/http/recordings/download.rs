//! `GET /api/v1/recordings/download/{id}/audio`: a small range server of our own.
//!
//! Not tower-http's `ServeFile`: audio comes from S3 as well as from `DATA_DIR`, and `ServeFile`
//! only reads local files; this handler's `Range`/`If-Range`/`ETag` logic works on anything the
//! [`Storage`](crate::storage::Storage) serves.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::find;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::IdPath;
use crate::http::openapi::Unauthorized;
use crate::storage::{StorageError, StorageKey};

/// `Last-Modified` and `If-Range` dates (RFC 9110 IMF-fixdate).
const HTTP_DATE: &str = "%a, %d %b %Y %H:%M:%S GMT";

/// The stored audio, from whichever store holds it; `Range: bytes=…` honoured (with `If-Range`),
/// `ETag` from the SHA-256.
#[utoipa::path(
    get,
    path = "/api/v1/recordings/download/{id}/audio",
    params(
        ("id" = String, Path, description = "Webex recording id"),
        ("Range" = Option<String>, Header, description = "bytes=START-END"),
        ("If-Range" = Option<String>, Header, description = "Send the range only if the audio still has this ETag (or Last-Modified date); else all of it"),
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

    let etag = rec
        .audio_sha256
        .as_deref()
        .filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit()) && !s.is_empty())
        .and_then(|s| HeaderValue::from_str(&format!("\"{s}\"")).ok());
    let content_type = content_type(rec.audio_format.as_deref(), key.extension());

    let mut base = HeaderMap::new();
    base.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    base.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(modified) = info.last_modified
        && let Ok(v) = HeaderValue::from_str(&modified.format(HTTP_DATE).to_string())
    {
        base.insert(header::LAST_MODIFIED, v);
    }
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
        .filter(|_| if_range_holds(&headers, etag.as_ref(), info.last_modified))
        .map(|r| parse_range(r, len))
        .transpose()?
        .flatten();
    let status = match range {
        Some((start, end)) => {
            let cr = format!("bytes {start}-{end}/{len}");
            if let Ok(v) = HeaderValue::from_str(&cr) {
                base.insert(header::CONTENT_RANGE, v);
            }
            StatusCode::PARTIAL_CONTENT
        }
        None => StatusCode::OK,
    };
    let object = state
        .storage
        .get(&key, range.map(|(start, end)| start..end + 1))
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

/// RFC 9110 §13.1.5: without `If-Range` a range is honoured; with it, only when the validator
/// still matches (a strong ETag, or exactly the `Last-Modified` date); else the whole file.
fn if_range_holds(
    headers: &HeaderMap,
    etag: Option<&HeaderValue>,
    last_modified: Option<DateTime<Utc>>,
) -> bool {
    let Some(condition) = headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) else {
        return headers.get(header::IF_RANGE).is_none();
    };
    let condition = condition.trim();
    if condition.starts_with('"') {
        return etag.is_some_and(|tag| tag.as_bytes() == condition.as_bytes());
    }
    match (DateTime::parse_from_rfc2822(condition), last_modified) {
        (Ok(date), Some(modified)) => date.timestamp() == modified.timestamp(),
        _ => false,
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
