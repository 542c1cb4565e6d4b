//! Legal holds (`PUT`/`DELETE /api/v1/recordings/{id}/hold`) and the audit log
//! (`GET /api/v1/audit`, JSON or CSV). Who may call them is decided by the access layer.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use call_analysis::redact::Redactor;
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, IntoResponses, ToSchema};

use super::AppState;
use super::access::{AuditContext, Audited};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery, IdPath};
use super::openapi::{IdParam, JsonBodyRefused, Unauthorized, date_or_date_time};
use crate::domain::{LegalHold, RecordingId};
use crate::store::{AuditEntry, AuditFilter, HoldChange};

pub const DEFAULT_AUDIT_LIMIT: u64 = 100;
pub const MAX_AUDIT_LIMIT: u64 = 1000;

#[derive(Debug, Deserialize, ToSchema)]
pub struct HoldRequest {
    /// Why the recording must be kept (a case number, a complaint).
    /// Not blank; at most 500 characters once trimmed.
    #[schema(min_length = 1, max_length = 500, pattern = "^[^\\x00]*\\S[^\\x00]*$")]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HoldAnswer {
    #[serde(rename = "recordingId")]
    pub recording_id: String,
    pub legal_hold: Option<LegalHold>,
}

/// What a hold change can be refused with besides a bad request.
#[derive(IntoResponses)]
#[allow(dead_code)]
enum HoldRefused {
    #[response(status = 401, description = "Missing or wrong API token")]
    Unauthorized(ErrorBody),
    #[response(
        status = 403,
        description = "The key's role may not set or release holds"
    )]
    Forbidden(ErrorBody),
    #[response(status = 404, description = "Unknown or purged recording")]
    Unknown(ErrorBody),
}

/// Puts a recording on legal hold: it can no longer be purged, deleted or reprocessed.
#[utoipa::path(
    put,
    path = "/api/v1/recordings/{id}/hold",
    params(IdParam),
    request_body = HoldRequest,
    responses(
        (status = 200, description = "Held", body = HoldAnswer),
        (status = 400, description = "Invalid id or reason", body = ErrorBody),
        HoldRefused,
        JsonBodyRefused,
    ),
    tag = "compliance"
)]
pub async fn set_hold(
    State(state): State<AppState>,
    Extension(context): Extension<AuditContext>,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<HoldRequest>,
) -> Result<HoldChanged, ApiError> {
    answer_change(&state, &context, id, Some(&body.reason)).await
}

/// Releases a recording's legal hold.
#[utoipa::path(
    delete,
    path = "/api/v1/recordings/{id}/hold",
    params(IdParam),
    responses(
        (status = 200, description = "Released", body = HoldAnswer),
        (status = 400, description = "Invalid id", body = ErrorBody),
        HoldRefused,
    ),
    tag = "compliance"
)]
pub async fn release_hold(
    State(state): State<AppState>,
    Extension(context): Extension<AuditContext>,
    IdPath(id): IdPath,
) -> Result<HoldChanged, ApiError> {
    answer_change(&state, &context, id, None).await
}

/// The answer carries [`Audited`]: the change and its audit entry were committed together, so
/// the access layer adds no second.
type HoldChanged = (Extension<Audited>, Json<HoldAnswer>);

/// The API's set and release: the hold as it now is (`None` once released).
async fn answer_change(
    state: &AppState,
    context: &AuditContext,
    id: RecordingId,
    reason: Option<&str>,
) -> Result<HoldChanged, ApiError> {
    let legal_hold = change_hold(state, context, &id, reason, 200).await?;
    let answer = HoldAnswer {
        recording_id: id.as_str().to_string(),
        legal_hold,
    };
    Ok((Extension(Audited), Json(answer)))
}

/// Sets (`Some(reason)`) or releases a hold, with its audit entry in the same transaction: the
/// API's and the console's. `status` is what the caller answers on success, for the entry.
pub async fn change_hold(
    state: &AppState,
    context: &AuditContext,
    id: &RecordingId,
    reason: Option<&str>,
    status: u16,
) -> Result<Option<LegalHold>, ApiError> {
    let reason = reason.map(str::trim);
    if reason.is_some_and(|r| r.is_empty() || r.chars().count() > 500) {
        return Err(ApiError::BadRequest(
            "reason: give why the recording is held (1 to 500 characters)".into(),
        ));
    }
    if reason.is_some_and(|r| r.contains('\0')) {
        return Err(ApiError::BadRequest(
            "reason: contains a NUL character".into(),
        ));
    }
    // A reason is free text kept for ever (in the audit log too): a card number in it is not.
    let redacted = reason.map(|r| Redactor::new(state.config.redact.clone()).text(r));
    let reason = redacted.as_deref();
    let action = if reason.is_some() {
        "hold.set"
    } else {
        "hold.release"
    };
    let entry = context.entry(action, Some(id.as_str()), status, reason.map(str::to_owned));
    let change = match reason {
        Some(reason) => state.store.set_hold(id, reason, &entry).await?,
        None => state.store.release_hold(id, &entry).await?,
    };
    match change {
        HoldChange::NoSuchRecording => Err(no_recording(id)),
        HoldChange::Done => {
            context.entry_committed();
            Ok(reason.map(|reason| LegalHold {
                reason: reason.to_string(),
                by: entry.actor,
                at: entry.at,
            }))
        }
    }
}

fn no_recording(id: &RecordingId) -> ApiError {
    ApiError::NotFound(format!("no recording {} (or it was purged)", id.as_str()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// From this time (RFC 3339) or day (`YYYY-MM-DD`), inclusive.
    #[param(schema_with = date_or_date_time)]
    pub from: Option<String>,
    /// Until this time (RFC 3339), exclusive, or to the end of this day (`YYYY-MM-DD`).
    #[param(schema_with = date_or_date_time)]
    pub to: Option<String>,
    #[param(pattern = "^[^\\x00]*$")]
    pub actor: Option<String>,
    /// e.g. `recording.view`, `hold.set`, `login.failed`.
    #[param(pattern = "^[^\\x00]*$")]
    pub action: Option<String>,
    #[param(pattern = "^[^\\x00]*$")]
    pub recording_id: Option<String>,
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    pub skip: Option<u64>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// `json` (default) or `csv`.
    #[param(pattern = "^(json|csv)$")]
    pub format: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub total: u64,
    pub skip: u64,
    pub limit: u64,
    pub items: Vec<AuditEntry>,
}

/// The audit log, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    params(AuditParams),
    responses(
        (status = 200, description = "Entries (JSON, or CSV with `format=csv`)", content(
            (AuditPage = "application/json"), (String = "text/csv"),
        )),
        (status = 400, description = "Invalid parameter", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The key's role may not read the audit log", body = ErrorBody),
    ),
    tag = "compliance"
)]
pub async fn list_audit(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    let limit = params.limit.unwrap_or(DEFAULT_AUDIT_LIMIT);
    if !(1..=MAX_AUDIT_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit: expected 1 to {MAX_AUDIT_LIMIT}"
        )));
    }
    let csv = match params.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::BadRequest("format: expected json or csv".into())),
    };
    let skip = params.skip.unwrap_or(0);
    if skip > i64::MAX as u64 {
        return Err(ApiError::BadRequest("skip is too large".into()));
    }
    let window = |raw: &Option<String>, name: &str, end| match raw.as_deref() {
        // The console's form sends an unfilled field empty; an API client has made a mistake.
        Some(v) if v.trim().is_empty() => Err(ApiError::BadRequest(format!(
            "{name}: is empty; leave it out instead"
        ))),
        v => audit_time(v.unwrap_or_default(), name, end).map_err(ApiError::BadRequest),
    };
    let filter = AuditFilter {
        from: window(&params.from, "from", false)?,
        to: window(&params.to, "to", true)?,
        actor: params.actor,
        action: params.action,
        recording_id: params.recording_id,
        skip,
        limit,
    };
    let (total, items) = state.store.list_audit(&filter).await?;
    if csv {
        let mut response = to_csv(&items).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        return Ok(response);
    }
    Ok(Json(AuditPage {
        total,
        skip,
        limit,
        items,
    })
    .into_response())
}

const CSV_HEADER: &str = "id,at,actor,role,action,recording_id,ip,user_agent,status,detail";

fn to_csv(items: &[AuditEntry]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for item in items {
        let e = &item.entry;
        let fields = [
            item.id.to_string(),
            e.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            e.actor.clone(),
            e.role.clone().unwrap_or_default(),
            e.action.clone(),
            e.recording_id.clone().unwrap_or_default(),
            e.ip.clone().unwrap_or_default(),
            e.user_agent.clone().unwrap_or_default(),
            e.status.to_string(),
            e.detail.clone().unwrap_or_default(),
        ];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// Quoted where needed; a leading `= + - @` is defused so a spreadsheet never runs it.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// An audit window's end: `YYYY-MM-DD` (a `to` day is included whole) or RFC 3339. The API
/// and the console's page read them alike.
pub fn audit_time(
    raw: &str,
    name: &str,
    end_of_day: bool,
) -> Result<Option<DateTime<Utc>>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let day = if end_of_day {
            day.checked_add_days(Days::new(1))
        } else {
            Some(day)
        };
        return Ok(day
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc()));
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| {
            format!("{name}: expected a date (YYYY-MM-DD) or an RFC 3339 time, got {raw:?}")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(x)"), "'=HYPERLINK(x)");
    }
}
