//! `GET /recordings/{id}`: one call with its player and transcript; the actions the role allows.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, Redirect};
use serde::Deserialize;

use super::format;
use super::insight::InsightView;
use super::timeline::{HoldView, Timeline};
use super::{PageError, render, require_same_origin};
use crate::access::{Permission, Principal};
use crate::domain::{Recording, RecordingId};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::recordings::{enqueue_reprocess, soft_delete};
use call_analysis::transcript::Cue;

#[derive(askama::Template)]
#[template(path = "call.html")]
struct CallPage {
    signed_in: Option<Principal>,
    notice: Option<&'static str>,
    id: String,
    title: String,
    when: String,
    duration: String,
    status: &'static str,
    quality: String,
    language: String,
    /// Label and signed score.
    sentiment: Option<(&'static str, String)>,
    has_audio: bool,
    audio_src: String,
    can_reprocess: bool,
    can_delete: bool,
    /// Set and release forms (auditor, admin).
    can_hold: bool,
    hold: Option<HoldView>,
    timeline: Timeline,
    turns: Vec<Turn>,
    plain_transcript: Option<String>,
    summary: Option<String>,
    bullets: Vec<String>,
    topics: Vec<String>,
    actions: Vec<String>,
    metrics: Vec<(String, String)>,
    steps: Vec<String>,
    errors: Vec<(String, String)>,
    insight: InsightView,
}

/// Consecutive cues of one speaker, shown as one chat bubble group.
struct Turn {
    speaker: String,
    /// `left` for the first voice heard, `right` for the others.
    side: &'static str,
    cues: Vec<CueView>,
}

struct CueView {
    /// Seconds, for `data-start` (the player seeks there).
    start: String,
    stamp: String,
    text: String,
}

#[derive(Deserialize)]
pub struct PageParams {
    notice: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    principal: Principal,
    Path(raw_id): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Html<String>, PageError> {
    let id = parse_id(&raw_id)?;
    let r = state
        .store
        .get_recording(&id)
        .await?
        .ok_or_else(|| PageError(ApiError::NotFound(format!("no recording {raw_id}"))))?;
    // Only fixed texts: the URL cannot put words on the page.
    let notice = match params.notice.as_deref() {
        Some("reprocess") => Some("Sent for processing again."),
        Some("deleted") => Some("The recording is deleted."),
        Some("swapped") => Some("Agent and customer swapped."),
        Some("held") => Some("The recording is on legal hold."),
        Some("released") => Some("The legal hold is released."),
        _ => None,
    };
    render(&view(r, principal, notice))
}

pub async fn reprocess(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
) -> Result<Redirect, PageError> {
    let id = form_on_recording(&state, &principal, &headers, &raw_id, Permission::Operate)?;
    enqueue_reprocess(&state, &id).await?;
    Ok(call_with_notice(&id, "reprocess"))
}

pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
) -> Result<Redirect, PageError> {
    let id = form_on_recording(
        &state,
        &principal,
        &headers,
        &raw_id,
        Permission::Administer,
    )?;
    soft_delete(&state, &id, false).await?;
    Ok(call_with_notice(&id, "deleted"))
}

/// An id that is not a recording id cannot name a call: "not found" rather than "bad request".
/// Back to the call page after a form, with one of the page's fixed notices.
pub(super) fn call_with_notice(id: &RecordingId, notice: &str) -> Redirect {
    Redirect::to(&format!("/recordings/{}?notice={notice}", id.as_str()))
}

/// A form posted from the console itself, by a role with `permission`, about a recording id.
pub(super) fn form_on_recording(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    raw_id: &str,
    permission: Permission,
) -> Result<RecordingId, PageError> {
    require_same_origin(state, headers)?;
    principal.require(permission)?;
    parse_id(raw_id)
}

pub(super) fn parse_id(raw: &str) -> Result<RecordingId, PageError> {
    RecordingId::parse(raw)
        .map_err(|_| PageError(ApiError::NotFound(format!("no recording {raw}"))))
}

fn view(r: Recording, principal: Principal, notice: Option<&'static str>) -> CallPage {
    let person = |name: &Option<String>, number: &Option<String>| match (name, number) {
        (Some(name), Some(number)) => format!("{name} ({number})"),
        (Some(one), None) | (None, Some(one)) => one.clone(),
        (None, None) => "Unknown".into(),
    };
    let id = r.recording_id.as_str().to_string();
    let turns = r
        .transcript_cues
        .as_ref()
        .map(|t| turns(&t.cues))
        .unwrap_or_default();
    CallPage {
        notice,
        title: format!(
            "{} → {}",
            person(&r.caller_name, &r.caller),
            person(&r.callee_name, &r.callee)
        ),
        when: format::time(r.timestamp.or(Some(r.created_at))),
        duration: format::duration(r.duration),
        status: r.processing_status.as_str(),
        quality: r
            .quality_score
            .map(format::percent)
            .unwrap_or_else(|| "—".into()),
        language: r.detected_language.clone().unwrap_or_else(|| "—".into()),
        sentiment: r
            .sentiment
            .as_ref()
            .map(|s| (format::sentiment(s.label), format!("{:+.2}", s.score))),
        has_audio: r.audio_local_path.is_some(),
        audio_src: format!("/api/v1/recordings/download/{id}/audio"),
        // A held recording may be neither reprocessed nor deleted: no button that would fail.
        can_reprocess: principal.role.may(Permission::Operate) && r.legal_hold.is_none(),
        can_delete: principal.role.may(Permission::Administer)
            && r.processing_status != crate::domain::ProcessingStatus::Deleted
            && r.legal_hold.is_none(),
        can_hold: principal.role.may(Permission::Audit),
        hold: r.legal_hold.as_ref().map(HoldView::from),
        timeline: Timeline::of(&r),
        plain_transcript: if turns.is_empty() {
            r.transcript_text.clone()
        } else {
            None
        },
        turns,
        summary: r.summary_text.clone(),
        bullets: r.summary_bullet_points.clone(),
        topics: r.key_topics.clone(),
        actions: r.action_items.clone(),
        metrics: metrics(&r),
        steps: r.processing_steps_completed.clone(),
        errors: r.processing_errors.clone().into_iter().collect(),
        insight: InsightView::of(&r, &principal),
        id,
        signed_in: Some(principal),
    }
}

fn turns(cues: &[Cue]) -> Vec<Turn> {
    let first_voice = cues.iter().find_map(|c| c.speaker.clone());
    let mut turns: Vec<Turn> = Vec::new();
    for cue in cues {
        let speaker = cue.speaker.clone().unwrap_or_else(|| "Speaker".into());
        let view = CueView {
            start: format!("{}", cue.start_ms as f64 / 1000.0),
            stamp: format::clock(cue.start_ms as f64 / 1000.0),
            text: cue.text.clone(),
        };
        match turns.last_mut() {
            Some(turn) if turn.speaker == speaker => turn.cues.push(view),
            _ => turns.push(Turn {
                side: if cue.speaker == first_voice {
                    "left"
                } else {
                    "right"
                },
                speaker,
                cues: vec![view],
            }),
        }
    }
    turns
}

fn metrics(r: &Recording) -> Vec<(String, String)> {
    let Some(m) = &r.call_metrics else {
        return Vec::new();
    };
    let mut rows: Vec<(String, String)> = m
        .speakers
        .iter()
        .map(|s| {
            (
                format!("Talk: {}", s.speaker),
                format!(
                    "{} ({})",
                    format::percent(s.talk_share),
                    format::clock(s.talk_time_seconds)
                ),
            )
        })
        .collect();
    rows.push(("Silence".into(), format::percent(m.silence_share)));
    rows.push(("Turns".into(), m.turns.to_string()));
    rows.push(("Interruptions".into(), m.interruptions.to_string()));
    rows.push((
        "Longest monologue".into(),
        match &m.longest_monologue_speaker {
            Some(who) => format!("{} ({who})", format::clock(m.longest_monologue_seconds)),
            None => format::clock(m.longest_monologue_seconds),
        },
    ));
    rows
}
