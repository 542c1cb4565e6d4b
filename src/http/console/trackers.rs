//! `/trackers`: every tracker with its match count and re-evaluation progress; create, edit
//! (rules as JSON) and delete for the roles that manage trackers, read-only for the others.
//! Validation is the API's (`TrackerDefinition`); a refused form comes back with its error.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::format;
use super::timeline::calls_with_tracker;
use super::{PageError, PageForm, PagePath, PageQuery, SameOrigin, render};
use crate::access::{Permission, Principal};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::trackers::named;
use crate::store::StoredTracker;
use crate::trackers::{TrackerDefinition, existing_name};

/// What the rules box holds for a new tracker: one rule of each common kind to edit from.
const EXAMPLE_RULES: &str = r#"[
  {"phrase": ["cancel my contract", "darme de baja"], "speaker": "caller"},
  {"sentiment_below": -0.3}
]"#;

#[derive(askama::Template)]
#[template(path = "trackers.html")]
struct TrackersPage {
    signed_in: Option<Principal>,
    can_manage: bool,
    notice: Option<&'static str>,
    error: Option<String>,
    rows: Vec<TrackerRow>,
    form: TrackerForm,
}

#[derive(askama::Template)]
#[template(path = "tracker.html")]
struct TrackerPage {
    signed_in: Option<Principal>,
    can_manage: bool,
    notice: Option<&'static str>,
    error: Option<String>,
    row: TrackerRow,
    form: TrackerForm,
}

struct TrackerRow {
    name: String,
    href: String,
    calls_href: String,
    match_mode: String,
    /// `1 rule`, `3 rules`.
    rules: String,
    matches: u64,
    evaluated: u64,
    total: u64,
    done: bool,
    /// The stored rules, pretty-printed.
    rules_json: String,
}

/// The form's fields as typed, so a refused form comes back unchanged.
#[derive(Deserialize, Default)]
pub struct TrackerForm {
    #[serde(default)]
    name: String,
    #[serde(default, rename = "match")]
    match_mode: String,
    #[serde(default)]
    rules: String,
}

#[derive(Deserialize)]
pub struct NoticeParam {
    notice: Option<String>,
}

fn notice(param: &NoticeParam) -> Option<&'static str> {
    // Only fixed texts: the URL cannot put words on the page.
    match param.notice.as_deref() {
        Some("created") => Some("Tracker created. Stored calls are being evaluated against it."),
        Some("saved") => Some("Tracker saved. Stored calls are being evaluated again."),
        Some("deleted") => Some("Tracker deleted."),
        _ => None,
    }
}

impl From<StoredTracker> for TrackerRow {
    fn from(t: StoredTracker) -> Self {
        let json = t.definition.to_json();
        let name = t.definition.name;
        Self {
            href: tracker_href(&name),
            calls_href: calls_with_tracker(&name),
            match_mode: json["match"].as_str().unwrap_or("all").to_string(),
            rules: format::count(t.definition.rules.len() as u64, "rule"),
            rules_json: serde_json::to_string_pretty(&json["rules"]).unwrap_or_default(),
            matches: t.matches,
            evaluated: t.evaluated,
            total: t.total,
            done: t.done,
            name,
        }
    }
}

/// Names are letters, digits, `-_.` and spaces (`validate_name`): only the space needs escaping.
fn tracker_href(name: &str) -> String {
    format!("/trackers/{}", name.replace(' ', "%20"))
}

pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    PageQuery(param): PageQuery<NoticeParam>,
) -> Result<Response, PageError> {
    let form = TrackerForm {
        match_mode: "any".into(),
        rules: EXAMPLE_RULES.into(),
        ..TrackerForm::default()
    };
    list_page(
        &state,
        principal,
        notice(&param),
        None,
        form,
        StatusCode::OK,
    )
    .await
}

async fn list_page(
    state: &AppState,
    principal: Principal,
    notice: Option<&'static str>,
    error: Option<String>,
    form: TrackerForm,
    status: StatusCode,
) -> Result<Response, PageError> {
    let rows = state.store.list_trackers().await?;
    answer(
        status,
        &TrackersPage {
            can_manage: principal.role.may(Permission::Operate),
            signed_in: Some(principal),
            notice,
            error,
            rows: rows.into_iter().map(TrackerRow::from).collect(),
            form,
        },
    )
}

pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    _: SameOrigin,
    PageForm(form): PageForm<TrackerForm>,
) -> Result<Response, PageError> {
    let refused = match definition(form.name.trim(), &form) {
        Ok(tracker) => match state.store.create_tracker(&tracker, Utc::now()).await? {
            true => {
                tracing::info!(actor = %principal.actor, tracker = %tracker.name, "tracker created");
                let to = format!("{}?notice=created", tracker_href(&tracker.name));
                return Ok((named(&tracker.name), Redirect::to(&to)).into_response());
            }
            false => ApiError::Conflict(format!("a tracker named {:?} exists", tracker.name)),
        },
        Err(e) => e,
    };
    let status = refused.status();
    list_page(
        &state,
        principal,
        None,
        Some(refused.to_string()),
        form,
        status,
    )
    .await
}

pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    PagePath(raw): PagePath<String>,
    PageQuery(param): PageQuery<NoticeParam>,
) -> Result<Response, PageError> {
    tracker_page(&state, principal, &raw, notice(&param), None, None).await
}

/// One tracker's page; `form` (a refused edit) replaces the stored rules in the edit box.
async fn tracker_page(
    state: &AppState,
    principal: Principal,
    raw_name: &str,
    notice: Option<&'static str>,
    error: Option<ApiError>,
    form: Option<TrackerForm>,
) -> Result<Response, PageError> {
    let row: TrackerRow = stored(state, raw_name).await?.into();
    let form = form.unwrap_or_else(|| TrackerForm {
        name: row.name.clone(),
        match_mode: row.match_mode.clone(),
        rules: row.rules_json.clone(),
    });
    answer(
        error.as_ref().map_or(StatusCode::OK, ApiError::status),
        &TrackerPage {
            can_manage: principal.role.may(Permission::Operate),
            signed_in: Some(principal),
            notice,
            error: error.map(|e| e.to_string()),
            row,
            form,
        },
    )
}

/// A tracker page with `status`: 200, or a refused form's status with the form shown again.
fn answer(status: StatusCode, page: &impl askama::Template) -> Result<Response, PageError> {
    Ok((status, render(page)?).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    PagePath(raw): PagePath<String>,
    _: SameOrigin,
    PageForm(form): PageForm<TrackerForm>,
) -> Result<Response, PageError> {
    let name = stored(&state, &raw).await?.definition.name;
    match definition(&name, &form) {
        Ok(tracker) => {
            if !state.store.update_tracker(&tracker, Utc::now()).await? {
                return Err(no_tracker(&name));
            }
            tracing::info!(actor = %principal.actor, tracker = %name, "tracker changed");
            let to = format!("{}?notice=saved", tracker_href(&name));
            Ok((named(&name), Redirect::to(&to)).into_response())
        }
        Err(refused) => {
            tracker_page(&state, principal, &raw, None, Some(refused), Some(form)).await
        }
    }
}

pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    PagePath(raw): PagePath<String>,
    _: SameOrigin,
) -> Result<Response, PageError> {
    let name = existing_name(&raw).map_err(|_| no_tracker(&raw))?;
    if !state.store.delete_tracker(&name).await? {
        return Err(no_tracker(&name));
    }
    tracing::info!(actor = %principal.actor, tracker = %name, "tracker deleted");
    Ok((named(&name), Redirect::to("/trackers?notice=deleted")).into_response())
}

async fn stored(state: &AppState, raw_name: &str) -> Result<StoredTracker, PageError> {
    let name = existing_name(raw_name).map_err(|_| no_tracker(raw_name))?;
    state
        .store
        .get_tracker(&name)
        .await?
        .ok_or_else(|| no_tracker(&name))
}

fn no_tracker(name: &str) -> PageError {
    PageError(ApiError::NotFound(format!("no tracker {name:?}")))
}

/// The form as the API's body, validated by the API's own rules.
fn definition(name: &str, form: &TrackerForm) -> Result<TrackerDefinition, ApiError> {
    let rules: Value = serde_json::from_str(&form.rules).map_err(|e| {
        ApiError::BadRequest(format!(
            "rules: not valid JSON ({e}); write a list such as [{{\"phrase\": [\"cancel\"]}}]"
        ))
    })?;
    let mut body = json!({"name": name, "rules": rules});
    if !form.match_mode.is_empty() {
        body["match"] = Value::String(form.match_mode.clone());
    }
    Ok(TrackerDefinition::from_json(&body)?)
}
