//! `GET /audit`: the audit log for auditors and admins, newest first, filtered and paged through
//! the URL, with links to the API's CSV and JSON export of the same filters and, on request, the
//! hash chain's verification (it reads the whole log, so only when asked).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{PageError, PageQuery, render};
use crate::access::Principal;
use crate::domain::RecordingId;
use crate::http::AppState;
use crate::http::compliance::{MAX_AUDIT_LIMIT, audit_time as time};
use crate::store::{AuditEntry, AuditFilter};

const PAGE_SIZE: u64 = 50;

#[derive(askama::Template)]
#[template(path = "audit.html")]
struct AuditPage {
    signed_in: Option<Principal>,
    form: AuditParams,
    error: Option<String>,
    /// The chain's state, when asked for.
    chain: Option<Chain>,
    known_actions: &'static [&'static str],
    verify_href: String,
    range: String,
    rows: Vec<AuditRow>,
    csv_href: String,
    json_href: String,
    prev_href: Option<String>,
    next_href: Option<String>,
}

struct Chain {
    intact: bool,
    text: String,
}

/// Offered in the action filter (any other action can be typed).
const KNOWN_ACTIONS: &[&str] = &[
    "recording.view",
    "recording.audio",
    "recording.search",
    "recording.reprocess",
    "recording.delete",
    "hold.set",
    "hold.release",
    "tracker.create",
    "tracker.update",
    "tracker.delete",
    "audit.read",
    "purge",
    "key.create",
    "key.revoke",
    "login",
    "login.failed",
    "forbidden",
];

struct AuditRow {
    at: String,
    actor: String,
    role: String,
    action: String,
    /// (link to the call, the id as recorded).
    recording: Option<(Option<String>, String)>,
    ip: String,
    status: u16,
    detail: String,
}

/// The filter form's fields as typed; every one is kept in the URL.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AuditParams {
    from: String,
    to: String,
    actor: String,
    action: String,
    recording_id: String,
    page: String,
    /// Any value: verify the hash chain on this view.
    verify: String,
}

impl AuditParams {
    /// The filters and page, for links that keep them.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("actor", self.actor.clone()),
            ("action", self.action.clone()),
            ("recording_id", self.recording_id.clone()),
            ("page", self.page.clone()),
        ]
    }
}

pub async fn page(
    State(state): State<AppState>,
    principal: Principal,
    PageQuery(params): PageQuery<AuditParams>,
) -> Result<Response, PageError> {
    // A bad value in a hand-edited URL is a 400 page naming it, with no entries (a log that
    // ignored the filter would look like its answer).
    let (filter, error) = match to_filter(&params) {
        Ok(filter) => (filter, None),
        Err(e) => (
            AuditFilter {
                limit: PAGE_SIZE,
                ..AuditFilter::default()
            },
            Some(e),
        ),
    };
    let (total, items) = match error {
        None => state.store.list_audit(&filter).await?,
        Some(_) => (0, Vec::new()),
    };
    let chain = if params.verify.is_empty() {
        None
    } else {
        Some(match state.store.verify_audit().await? {
            Ok(n) => Chain {
                intact: true,
                text: format!("{n} entries, chain intact"),
            },
            Err(broken) => Chain {
                intact: false,
                text: format!("The chain is broken: {broken}"),
            },
        })
    };
    let shown = items.len() as u64;
    let range = match (total, shown) {
        (0, _) => "No entries".to_string(),
        (total, 0) => format!("{total} entries; none on this page"),
        (total, n) => format!(
            "{}–{} of {total} entries, newest first",
            filter.skip + 1,
            filter.skip + n
        ),
    };
    let page_number = filter.skip / PAGE_SIZE + 1;
    let at_page = |page: u64| {
        let mut p = params.clone();
        p.page = if page > 1 {
            page.to_string()
        } else {
            String::new()
        };
        href("/audit", &p.pairs())
    };
    let prev_href = (page_number > 1).then(|| at_page(page_number - 1));
    let next_href = (filter.skip + shown < total).then(|| at_page(page_number + 1));
    let mut json_export = export_params(&filter);
    json_export.push(("limit", MAX_AUDIT_LIMIT.to_string()));
    let mut csv_export = json_export.clone();
    csv_export.push(("format", "csv".into()));
    let mut verify = params.pairs();
    verify.push(("verify", "1".into()));
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    // A date field shown a value that is no time at all is an error in the browser's console.
    let mut form = params;
    for date in [&mut form.from, &mut form.to] {
        if time(date, "", false).is_err() {
            date.clear();
        }
    }
    let page = render(&AuditPage {
        signed_in: Some(principal),
        chain,
        known_actions: KNOWN_ACTIONS,
        verify_href: href("/audit", &verify),
        range,
        rows: items.into_iter().map(row).collect(),
        csv_href: href("/api/v1/audit", &csv_export),
        json_href: href("/api/v1/audit", &json_export),
        prev_href,
        next_href,
        form,
        error,
    })?;
    Ok((status, page).into_response())
}

/// The form's values as the store's filter; a bad one is named.
fn to_filter(p: &AuditParams) -> Result<AuditFilter, String> {
    let page = match p.page.trim() {
        "" => 1,
        raw => raw
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=i64::MAX as u64 / PAGE_SIZE).contains(n))
            .ok_or_else(|| format!("page: expected a page number, got {raw:?}"))?,
    };
    let text = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    Ok(AuditFilter {
        from: time(&p.from, "from", false)?,
        to: time(&p.to, "to", true)?,
        actor: text(&p.actor),
        action: text(&p.action),
        recording_id: text(&p.recording_id),
        skip: (page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
    })
}

/// The API's parameters for the same filters (times as RFC 3339).
fn export_params(f: &AuditFilter) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut put = |name, value: Option<String>| {
        if let Some(v) = value {
            out.push((name, v));
        }
    };
    put("from", f.from.map(|t| t.to_rfc3339()));
    put("to", f.to.map(|t| t.to_rfc3339()));
    put("actor", f.actor.clone());
    put("action", f.action.clone());
    put("recording_id", f.recording_id.clone());
    out
}

/// `path?…` with the pairs that have a value.
fn href(path: &str, pairs: &[(&str, String)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        query.append_pair(name, value);
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

fn row(item: AuditEntry) -> AuditRow {
    let e = item.entry;
    AuditRow {
        at: e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        actor: e.actor,
        role: e.role.unwrap_or_default(),
        action: e.action,
        // Linked only when it is a valid id (a refused request may carry anything there).
        recording: e.recording_id.map(|id| {
            let href = RecordingId::parse(&id)
                .ok()
                .map(|valid| format!("/recordings/{}", valid.as_str()));
            (href, id)
        }),
        ip: e.ip.unwrap_or_default(),
        status: e.status,
        detail: e.detail.unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_to_day_is_included_whole_and_bad_values_are_named() {
        let params = AuditParams {
            from: "2026-12-01".into(),
            to: "2026-12-01".into(),
            page: "3".into(),
            ..AuditParams::default()
        };
        let filter = to_filter(&params).expect("valid");
        assert_eq!(
            filter.from.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-12-01T00:00:00+00:00")
        );
        assert_eq!(
            filter.to.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-12-02T00:00:00+00:00")
        );
        assert_eq!(filter.skip, 2 * PAGE_SIZE);
        for (from, page, named) in [
            ("soon", "", "from:"),
            ("", "0", "page:"),
            ("", "x", "page:"),
        ] {
            let bad = AuditParams {
                from: from.into(),
                page: page.into(),
                ..AuditParams::default()
            };
            assert!(
                to_filter(&bad).is_err_and(|e| e.starts_with(named)),
                "{from} {page}"
            );
        }
    }
}
