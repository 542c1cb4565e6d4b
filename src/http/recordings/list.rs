//! `GET /api/v1/recordings/`: the filtered, paged list.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::{ProcessingStatus, Recording};
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiQuery;
use crate::http::openapi::Unauthorized;
use crate::store::ListFilter;

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 500;

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
    /// Name of a tracker the recording matched.
    pub tracker: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingList {
    /// Recordings matching the filters, before skip and limit.
    pub total: u64,
    pub skip: u64,
    pub limit: u64,
    pub items: Vec<Recording>,
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
        tracker: p.tracker.as_deref().map(str::trim).map(str::to_string),
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
}
