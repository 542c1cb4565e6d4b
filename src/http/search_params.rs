//! The query parameters of a recordings search, read the same way by `GET /api/v1/recordings/`
//! and by the console's calls page (whose form fills them in the URL).

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::error::ApiError;
use crate::analysis::SentimentLabel;
use crate::domain::ProcessingStatus;
use crate::search::SearchQuery;
use crate::store::RecordingSearch;

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 500;

/// Every value arrives as text and is parsed here, so a bad one is answered with its parameter's
/// name. An empty value counts as absent: that is what an unfilled form field sends.
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Full-text search over transcript, translation, summary, bullet points, topics, action
    /// items, caller, callee and their names; case- and accent-insensitive; every word must
    /// match; `"a phrase"` matches in order. Results then come by relevance and carry `highlight`.
    pub q: Option<String>,
    /// Rows to skip (default 0).
    pub skip: Option<String>,
    /// Rows to return (default 50, max 500).
    pub limit: Option<String>,
    /// A processing status; without it, deleted and purged recordings are left out.
    pub status: Option<String>,
    /// Earliest recording time: RFC 3339 or `YYYY-MM-DD` (start of that day, UTC).
    pub from_date: Option<String>,
    /// Latest recording time: RFC 3339 or `YYYY-MM-DD` (end of that day, UTC).
    pub to_date: Option<String>,
    /// `positive`, `neutral` or `negative`.
    pub sentiment: Option<String>,
    /// Two-letter language code.
    pub language: Option<String>,
    /// Case-insensitive part of the caller, callee or their names.
    pub participant: Option<String>,
    /// Shortest duration, seconds.
    pub min_duration: Option<String>,
    /// Longest duration, seconds.
    pub max_duration: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn bad(name: &str, detail: String) -> ApiError {
    ApiError::BadRequest(format!("{name}: {detail}"))
}

impl SearchParams {
    pub fn to_search(&self) -> Result<RecordingSearch, ApiError> {
        let limit = match given(&self.limit) {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|l| (1..=MAX_LIMIT).contains(l))
                .ok_or_else(|| {
                    bad("limit", format!("must be between 1 and {MAX_LIMIT}, got {raw:?}"))
                })?,
        };
        let skip = match given(&self.skip) {
            None => 0,
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|s| i64::try_from(*s).is_ok())
                .ok_or_else(|| bad("skip", format!("must be a whole number ≥ 0, got {raw:?}")))?,
        };
        let status = given(&self.status)
            .map(|raw| {
                ProcessingStatus::parse(raw).ok_or_else(|| {
                    let known: Vec<&str> =
                        ProcessingStatus::ALL.iter().map(|s| s.as_str()).collect();
                    bad(
                        "status",
                        format!("unknown status {raw:?}; one of {}", known.join(", ")),
                    )
                })
            })
            .transpose()?;
        let from = given(&self.from_date)
            .map(|raw| parse_date("from_date", raw, false))
            .transpose()?;
        let to = given(&self.to_date)
            .map(|raw| parse_date("to_date", raw, true))
            .transpose()?;
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(bad("from_date", "is after to_date".into()));
        }
        let sentiment = given(&self.sentiment)
            .map(|raw| match raw {
                "positive" => Ok(SentimentLabel::Positive),
                "neutral" => Ok(SentimentLabel::Neutral),
                "negative" => Ok(SentimentLabel::Negative),
                _ => Err(bad(
                    "sentiment",
                    format!("one of positive, neutral, negative; got {raw:?}"),
                )),
            })
            .transpose()?;
        let language = given(&self.language)
            .map(|raw| {
                let code = raw.to_ascii_lowercase();
                if code.len() == 2 && code.chars().all(|c| c.is_ascii_lowercase()) {
                    Ok(code)
                } else {
                    Err(bad("language", format!("a two-letter code, got {raw:?}")))
                }
            })
            .transpose()?;
        let min_duration = seconds("min_duration", given(&self.min_duration))?;
        let max_duration = seconds("max_duration", given(&self.max_duration))?;
        if let (Some(min), Some(max)) = (min_duration, max_duration)
            && min > max
        {
            return Err(bad("min_duration", "is above max_duration".into()));
        }
        Ok(RecordingSearch {
            q: given(&self.q).and_then(SearchQuery::parse),
            status,
            from,
            to,
            sentiment,
            language,
            participant: given(&self.participant).map(str::to_string),
            min_duration,
            max_duration,
            skip,
            limit,
        })
    }
}

fn seconds(name: &str, raw: Option<&str>) -> Result<Option<f64>, ApiError> {
    raw.map(|raw| {
        raw.parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .ok_or_else(|| bad(name, format!("a number of seconds ≥ 0, got {raw:?}")))
    })
    .transpose()
}

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
    Err(bad(
        name,
        format!("must be RFC 3339 (2025-03-01T12:00:00Z) or YYYY-MM-DD, got {raw:?}"),
    ))
}
