//! `GET /`: the calls, searched and filtered through the URL, with the overview.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};

use super::format::{self, Chart};
use super::{PageError, PageQuery, render};
use crate::access::Principal;
use crate::domain::{ProcessingStatus, Recording};
use crate::http::AppState;
use crate::http::recordings::SearchParams;
use crate::store::{RecordingSearch, SearchHit};

const PAGE_SIZE: u64 = 50;
const CHART_DAYS: i64 = 30;

#[derive(askama::Template)]
#[template(path = "calls.html")]
struct CallsPage {
    signed_in: Option<Principal>,
    form: FormValues,
    statuses: Vec<&'static str>,
    sentiments: Vec<&'static str>,
    /// Tracker names for the filter.
    trackers: Vec<String>,
    error: Option<String>,
    overview_status: Vec<(String, u64)>,
    overview_sentiment: Vec<(String, u64)>,
    chart: Chart,
    range: String,
    rows: Vec<CallRow>,
    prev_href: Option<String>,
    next_href: Option<String>,
}

/// What the filter form shows: the URL's values, as typed.
#[derive(Default)]
struct FormValues {
    q: String,
    from_date: String,
    to_date: String,
    status: String,
    sentiment: String,
    end_sentiment: String,
    language: String,
    participant: String,
    tracker: String,
    any_filter: bool,
}

struct CallRow {
    id: String,
    href: String,
    time: String,
    caller: String,
    callee: String,
    duration: String,
    language: String,
    sentiment: Option<&'static str>,
    status: &'static str,
    topics: Vec<String>,
    /// Built from escaped text with only `<mark>` added (see `search::highlight`).
    highlight: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    principal: Principal,
    PageQuery(mut params): PageQuery<SearchParams>,
) -> Result<Response, PageError> {
    params.limit = None;
    // A bad value in a hand-edited URL is a 400 page naming it, with the form to correct it
    // and no list (a list ignoring the filter would look like its answer).
    let (search, error) = match params.to_search() {
        Ok(search) => (search, None),
        Err(e) => (RecordingSearch::default(), Some(e.to_string())),
    };
    let search = RecordingSearch {
        limit: PAGE_SIZE,
        ..search
    };
    let page = match error {
        None => state.store.search_recordings(&search).await?,
        Some(_) => crate::store::SearchPage {
            total: 0,
            hits: Vec::new(),
        },
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut trackers: Vec<String> = state
        .store
        .list_trackers()
        .await?
        .into_iter()
        .map(|t| t.definition.name)
        .collect();
    // A bookmarked filter on a tracker since deleted still shows what it asks for.
    if let Some(asked) = given(&params.tracker)
        && !trackers.iter().any(|t| t == asked)
    {
        trackers.push(asked.to_string());
    }
    let overview = state
        .store
        .overview(Utc::now() - Duration::days(CHART_DAYS - 1))
        .await?;

    let shown = page.hits.len() as u64;
    let range = match (page.total, shown) {
        (0, _) => "No calls".to_string(),
        (total, 0) => format!("{}; none on this page", format::count(total, "call")),
        (1, _) => "1 call".to_string(),
        (total, n) => format!(
            "{}–{} of {total} calls{}",
            search.skip + 1,
            search.skip + n,
            if search.q.is_some() {
                ", most relevant first"
            } else {
                ", newest first"
            }
        ),
    };
    let href_at = |skip: u64| {
        let mut p = params.clone();
        p.skip = (skip > 0).then(|| skip.to_string());
        page_href(&p)
    };
    let prev_href = (search.skip > 0).then(|| href_at(search.skip.saturating_sub(PAGE_SIZE)));
    let next_href = (search.skip + shown < page.total).then(|| href_at(search.skip + PAGE_SIZE));

    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let form = FormValues {
        q: value(&params.q),
        from_date: value(&params.from_date),
        to_date: value(&params.to_date),
        status: value(&params.status),
        sentiment: value(&params.sentiment),
        end_sentiment: value(&params.end_sentiment),
        language: value(&params.language),
        participant: value(&params.participant),
        tracker: value(&params.tracker),
        any_filter: [
            &params.from_date,
            &params.to_date,
            &params.status,
            &params.sentiment,
            &params.end_sentiment,
            &params.language,
            &params.participant,
            &params.tracker,
        ]
        .iter()
        .any(|v| v.as_deref().is_some_and(|v| !v.is_empty())),
    };
    let page = render(&CallsPage {
        signed_in: Some(principal),
        form,
        statuses: ProcessingStatus::ALL.iter().map(|s| s.as_str()).collect(),
        sentiments: vec!["positive", "neutral", "negative"],
        trackers,
        error,
        overview_status: overview.by_status.into_iter().collect(),
        overview_sentiment: overview.by_sentiment.into_iter().collect(),
        chart: format::chart(&overview.per_day),
        range,
        rows: page.hits.into_iter().map(row).collect(),
        prev_href,
        next_href,
    })?;
    Ok((status, page).into_response())
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// `/?…` with every given parameter, so a page of results can be bookmarked.
fn page_href(params: &SearchParams) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(params) {
        for (name, value) in fields {
            if let Some(v) = value.as_str().filter(|v| !v.is_empty()) {
                query.append_pair(&name, v);
            }
        }
    }
    format!("/?{}", query.finish())
}

fn row(hit: SearchHit) -> CallRow {
    let r: Recording = hit.recording;
    let person = |name: &Option<String>, number: &Option<String>| {
        name.clone()
            .or_else(|| number.clone())
            .unwrap_or_else(|| "Unknown".into())
    };
    CallRow {
        id: r.recording_id.as_str().to_string(),
        href: format!("/recordings/{}", r.recording_id.as_str()),
        time: format::time(r.timestamp.or(Some(r.created_at))),
        caller: person(&r.caller_name, &r.caller),
        callee: person(&r.callee_name, &r.callee),
        duration: format::duration(r.duration),
        language: r.detected_language.unwrap_or_else(|| "—".into()),
        sentiment: r.sentiment.map(|s| format::sentiment(s.label)),
        status: r.processing_status.as_str(),
        topics: r.key_topics,
        highlight: hit.highlight,
    }
}
