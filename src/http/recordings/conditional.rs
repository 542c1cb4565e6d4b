//! HTTP conditional and range requests (RFC 9110 §13, §14) for a representation of known
//! length, whatever stores it: which of 304, 200, 206 or 416 a download answers.

use axum::http::{HeaderMap, header};
use chrono::{DateTime, Utc};

use crate::http::error::ApiError;

/// The validators of the representation being served.
#[derive(Debug, Default)]
pub struct Validators {
    /// A strong entity tag, quoted.
    pub etag: Option<String>,
    /// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
    pub last_modified: Option<String>,
}

/// What to send.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    NotModified,
    Whole,
    /// Inclusive byte positions.
    Part {
        start: u64,
        end: u64,
    },
}

/// An HTTP date (IMF-fixdate), second precision as the format allows.
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Decides the answer from the request headers. `If-None-Match` first; then `Range`, which an
/// `If-Range` that no longer matches turns into a request for the whole file.
pub fn plan(headers: &HeaderMap, validators: &Validators, len: u64) -> Result<Plan, ApiError> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let (Some(inm), Some(tag)) = (text(header::IF_NONE_MATCH), &validators.etag)
        && etag_matches(inm, tag)
    {
        return Ok(Plan::NotModified);
    }
    let Some(range) = text(header::RANGE) else {
        return Ok(Plan::Whole);
    };
    if let Some(if_range) = headers.get(header::IF_RANGE)
        && !if_range_matches(if_range.to_str().unwrap_or_default(), validators)
    {
        return Ok(Plan::Whole);
    }
    Ok(match parse_range(range, len)? {
        Some((start, end)) => Plan::Part { start, end },
        None => Plan::Whole,
    })
}

/// `If-Range`: an entity tag matches only by strong comparison (a weak tag never does); a date
/// only when it is exactly the `Last-Modified` sent. Anything unreadable does not match.
fn if_range_matches(if_range: &str, validators: &Validators) -> bool {
    let if_range = if_range.trim();
    if if_range.starts_with('"') || if_range.starts_with("W/") {
        return validators.etag.as_deref() == Some(if_range);
    }
    validators.last_modified.as_deref() == Some(if_range)
}

fn etag_matches(if_none_match: &str, tag: &str) -> bool {
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
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(n, v)| (n.clone(), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn if_range_keeps_the_range_only_while_the_validator_matches() {
        let v = Validators {
            etag: Some("\"ab12\"".into()),
            last_modified: Some("Sun, 06 Nov 1994 08:49:37 GMT".into()),
        };
        let part = Plan::Part { start: 0, end: 9 };
        let cases = [
            ("\"ab12\"", part),
            (
                "Sun, 06 Nov 1994 08:49:37 GMT",
                Plan::Part { start: 0, end: 9 },
            ),
            ("\"other\"", Plan::Whole),
            ("W/\"ab12\"", Plan::Whole),
            ("Mon, 07 Nov 1994 08:49:37 GMT", Plan::Whole),
            ("garbage", Plan::Whole),
        ];
        for (if_range, expected) in cases {
            let h = headers(&[(header::RANGE, "bytes=0-9"), (header::IF_RANGE, if_range)]);
            assert_eq!(plan(&h, &v, 100).unwrap(), expected, "{if_range}");
        }
        let h = headers(&[(header::IF_NONE_MATCH, "\"ab12\"")]);
        assert_eq!(plan(&h, &v, 100).unwrap(), Plan::NotModified);
    }

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
