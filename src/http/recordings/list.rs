//! `GET /api/v1/recordings/`: the filtered, paged list and full-text search. The console's calls
//! page reads the same parameters (its form fills them in the URL) through [`SearchParams`].

use axum::Json;
use axum::extract::{RawQuery, State};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::{ProcessingStatus, Recording};
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiQuery;
use crate::http::openapi::{Unauthorized, date_or_date_time};
use crate::search::SearchQuery;
use crate::store::{RecordingSearch, SearchHit};
use call_analysis::SentimentLabel;

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 500;

/// Every value arrives as text and is parsed here, so a bad one is answered with its parameter's
/// name. An empty value counts as absent: that is what an unfilled form field sends.
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Full-text search over transcript, translation, summary, bullet points, topics, action
    /// items, caller, callee and their names; case- and accent-insensitive; every word must
    /// match; `"a phrase"` matches in order. Results then come by relevance, then newest, and
    /// carry `highlight`. Relevance orders the 10,000 most recent matches (SQLite: most recently
    /// stored); any older matches follow them, newest first. `total` counts every match.
    #[param(pattern = "^[^\\x00]*$", max_length = 1000)]
    pub q: Option<String>,
    /// Rows to skip (default 0).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_i64)]
    pub skip: Option<String>,
    /// Rows to return (default 50, max 500).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
    /// A processing status; without it, deleted and purged recordings are left out.
    #[param(value_type = Option<ProcessingStatus>)]
    pub status: Option<String>,
    /// Earliest recording time: RFC 3339 or `YYYY-MM-DD` (start of that day, UTC).
    #[param(schema_with = date_or_date_time)]
    pub from_date: Option<String>,
    /// Latest recording time: RFC 3339 or `YYYY-MM-DD` (end of that day, UTC). Before
    /// `from_date`: an empty window, so an empty list.
    #[param(schema_with = date_or_date_time)]
    pub to_date: Option<String>,
    /// `positive`, `neutral` or `negative`.
    #[param(pattern = "^(positive|neutral|negative)$")]
    pub sentiment: Option<String>,
    /// How the call ended: the label of its last quarter, `positive`, `neutral` or `negative`.
    #[param(pattern = "^(positive|neutral|negative)$")]
    pub end_sentiment: Option<String>,
    /// Two-letter language code.
    #[param(pattern = "^[A-Za-z]{2}$")]
    pub language: Option<String>,
    /// Case-insensitive part of the caller, callee or their names.
    #[param(pattern = "^[^\\x00]*$", max_length = 200)]
    pub participant: Option<String>,
    /// Shortest duration, seconds.
    #[param(value_type = Option<f64>, minimum = 0)]
    pub min_duration: Option<String>,
    /// Longest duration, seconds.
    #[param(value_type = Option<f64>, minimum = 0)]
    pub max_duration: Option<String>,
    /// Name of a tracker the recording matched.
    #[param(pattern = "^[^\\x00]*$", max_length = 200)]
    pub tracker: Option<String>,
}

/// The console's form sends unfilled fields empty and they count as absent there; an API client
/// that sends `limit=` has made a mistake the document calls invalid, so the API says so.
fn refuse_empty_typed_values(raw: Option<&str>) -> Result<(), ApiError> {
    const TYPED: [&str; 10] = [
        "skip",
        "limit",
        "status",
        "from_date",
        "to_date",
        "sentiment",
        "end_sentiment",
        "language",
        "min_duration",
        "max_duration",
    ];
    let Some(raw) = raw else { return Ok(()) };
    match url::form_urlencoded::parse(raw.as_bytes())
        .find(|(k, v)| TYPED.contains(&k.as_ref()) && v.trim().is_empty())
    {
        Some((name, _)) => Err(bad(&name, "is empty; leave it out instead".into())),
        None => Ok(()),
    }
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The longest `participant` or `tracker` value taken, in characters.
const MAX_FILTER_CHARS: usize = 200;

fn at_most<'a>(name: &str, value: Option<&'a str>) -> Result<Option<&'a str>, ApiError> {
    match value {
        Some(v) if v.chars().count() > MAX_FILTER_CHARS => {
            Err(bad(name, format!("at most {MAX_FILTER_CHARS} characters")))
        }
        _ => Ok(value),
    }
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
                    bad(
                        "limit",
                        format!("must be between 1 and {MAX_LIMIT}, got {raw}"),
                    )
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
                        format!("unknown value {raw:?}; one of {}", known.join(", ")),
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
        // A window that ends before it starts is simply empty (the document cannot express the
        // rule, so refusing it would make a valid-looking request fail).
        let sentiment = label("sentiment", given(&self.sentiment))?;
        let end_sentiment = label("end_sentiment", given(&self.end_sentiment))?;
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
        // As with dates, a duration range that ends before it starts is simply empty.
        let min_duration = seconds("min_duration", given(&self.min_duration))?;
        let max_duration = seconds("max_duration", given(&self.max_duration))?;
        let q = given(&self.q);
        if q.is_some_and(SearchQuery::too_long) {
            let most = SearchQuery::MAX_CHARS;
            return Err(bad("q", format!("at most {most} characters")));
        }
        let participant = at_most("participant", given(&self.participant))?;
        let tracker = at_most("tracker", given(&self.tracker))?;
        Ok(RecordingSearch {
            q: q.and_then(SearchQuery::parse),
            status,
            from,
            to,
            sentiment,
            end_sentiment,
            language,
            participant: participant.map(str::to_string),
            tracker: tracker.map(str::to_string),
            min_duration,
            max_duration,
            skip,
            limit,
        })
    }
}

fn label(name: &str, raw: Option<&str>) -> Result<Option<SentimentLabel>, ApiError> {
    raw.map(|raw| match raw {
        "positive" => Ok(SentimentLabel::Positive),
        "neutral" => Ok(SentimentLabel::Neutral),
        "negative" => Ok(SentimentLabel::Negative),
        _ => Err(bad(
            name,
            format!("one of positive, neutral, negative; got {raw:?}"),
        )),
    })
    .transpose()
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

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingList {
    /// Recordings matching the filters, before skip and limit.
    pub total: u64,
    pub skip: u64,
    pub limit: u64,
    pub items: Vec<RecordingListItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingListItem {
    #[serde(flatten)]
    pub recording: Recording,
    /// With `q`: an excerpt (≤ 300 characters) with the matched words in `<mark>…</mark>` and
    /// everything else HTML-escaped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub highlight: Option<String>,
}

impl From<SearchHit> for RecordingListItem {
    fn from(hit: SearchHit) -> Self {
        Self {
            recording: hit.recording,
            highlight: hit.highlight,
        }
    }
}

/// List recordings: newest first, or by relevance with `q`.
#[utoipa::path(
    get,
    path = "/api/v1/recordings/",
    params(SearchParams),
    responses(
        (status = 200, description = "A page of recordings", body = RecordingList),
        (status = 400, description = "Bad query parameter (named in `detail`)", body = ErrorBody),
        Unauthorized,
    ),
    tag = "recordings"
)]
pub async fn list_recordings(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Json<RecordingList>, ApiError> {
    refuse_empty_typed_values(raw.as_deref())?;
    let search = params.to_search()?;
    let page = state.store.search_recordings(&search).await?;
    Ok(Json(RecordingList {
        total: page.total,
        skip: search.skip,
        limit: search.limit,
        items: page.hits.into_iter().map(Into::into).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_bad_value_is_refused_naming_its_parameter() {
        for (name, value) in [
            ("sentiment", "angry"),
            ("end_sentiment", "happy"),
            ("language", "spanish"),
            ("min_duration", "-3"),
            ("max_duration", "long"),
            ("limit", "501"),
            ("status", "done"),
        ] {
            let params: SearchParams =
                serde_json::from_value(serde_json::json!({ name: value })).expect(name);
            let err = params.to_search().expect_err(name).to_string();
            assert!(err.starts_with(name), "{err}");
        }
        let empty_form = SearchParams {
            q: Some(" ".into()),
            sentiment: Some(String::new()),
            ..Default::default()
        };
        let search = empty_form.to_search().expect("empty fields are absent");
        assert!(search.q.is_none() && search.sentiment.is_none());
    }
}
