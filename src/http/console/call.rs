//! `GET /recordings/{id}`: one call with its player and transcript; the actions the role allows.

use axum::Extension;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::format;
use super::insight::InsightView;
use super::timeline::{HoldView, Timeline};
use super::{PageError, PagePath, PageQuery, SameOrigin, render};
use crate::access::{Permission, Principal};
use crate::domain::{Recording, RecordingId};
use crate::http::AppState;
use crate::http::access::{AuditContext, Audited};
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
    PagePath(raw_id): PagePath<String>,
    PageQuery(params): PageQuery<PageParams>,
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

pub async fn reprocess(call: RecordingForm) -> Result<Redirect, PageError> {
    enqueue_reprocess(&call.state, &call.id).await?;
    Ok(call.back("reprocess"))
}

pub async fn delete(
    Extension(context): Extension<AuditContext>,
    call: RecordingForm,
) -> Result<(Extension<Audited>, Redirect), PageError> {
    soft_delete(&call.state, &context, &call.id, false, 303).await?;
    Ok((Extension(Audited), call.back("deleted")))
}

/// A form about one call, sent from the console's own pages, with what acting on it needs. The
/// role was already checked by the access layer's route table.
pub(super) struct RecordingForm {
    pub state: AppState,
    pub id: RecordingId,
}

impl RecordingForm {
    /// Back to the call page after the form, with one of the page's fixed notices.
    pub fn back(&self, notice: &str) -> Redirect {
        Redirect::to(&format!("/recordings/{}?notice={notice}", self.id.as_str()))
    }
}

impl FromRequestParts<AppState> for RecordingForm {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let PagePath(raw) = PagePath::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        SameOrigin::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let id = parse_id(&raw).map_err(IntoResponse::into_response)?;
        Ok(Self {
            state: state.clone(),
            id,
        })
    }
}

/// An id that is not a recording id cannot name a call: "not found" rather than "bad request".
fn parse_id(raw: &str) -> Result<RecordingId, PageError> {
    RecordingId::parse(raw)
        .map_err(|_| PageError(ApiError::NotFound(format!("no recording {raw}"))))
}

fn view(r: Recording, principal: Principal, notice: Option<&'static str>) -> CallPage {
    let gone = crate::domain::ProcessingStatus::HIDDEN.contains(&r.processing_status);
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
        // A deleted or purged call's audio is no longer served (410).
        has_audio: r.audio_local_path.is_some() && !gone,
        audio_src: format!("/api/v1/recordings/download/{id}/audio"),
        // No button that would fail: a held call may be neither reprocessed nor deleted, a
        // deleted one not reprocessed (the rule is the API's).
        can_reprocess: principal.role.may(Permission::Operate) && r.may_be_reprocessed().is_ok(),
        can_delete: principal.role.may(Permission::Administer) && !gone && r.legal_hold.is_none(),
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
