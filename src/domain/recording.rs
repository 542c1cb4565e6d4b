use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::RecordingId;
use call_analysis::insight::Roles;
use call_analysis::redact::Redaction;
use call_analysis::transcript::Transcript;
use call_analysis::{CallMetrics, SummarySource};

use super::CallSentiment;

/// Where a recording is in its life. Names (serde and strum agree) are what the API, the
/// database and the `status` filter use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::VariantArray)]
#[strum(serialize_all = "lowercase")]
pub enum ProcessingStatus {
    Pending,
    Processing,
    Completed,
    Partial,
    Failed,
    Deleted,
    /// Past retention: only a tombstone is left (id, time, parties, duration, `purged_at`).
    Purged,
}

impl ProcessingStatus {
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    /// Left out of the default list and the totals: a user asks for them by status.
    pub const HIDDEN: [Self; 2] = [Self::Deleted, Self::Purged];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(raw: &str) -> Option<Self> {
        raw.parse().ok()
    }
}

/// The pipeline's steps, in the order they run. Names are what users see in
/// `processing_steps_completed` and as keys of `processing_errors`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Step {
    Details,
    Metadata,
    Audio,
    Transcript,
    Analysis,
    Language,
    Translation,
    CallMetrics,
    Trackers,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One consolidated recording: what is stored and what the API returns.
/// Field names are the seed's, so its `jq` recipes work as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recording {
    #[serde(rename = "recordingId")]
    #[schema(value_type = String)]
    pub recording_id: RecordingId,
    /// When the call was recorded.
    pub timestamp: Option<DateTime<Utc>>,
    pub caller: Option<String>,
    pub callee: Option<String>,
    pub caller_name: Option<String>,
    pub callee_name: Option<String>,
    /// Seconds.
    pub duration: Option<f64>,
    pub participants: Vec<String>,
    pub audio_url: Option<String>,
    pub audio_local_path: Option<String>,
    pub audio_format: Option<String>,
    pub audio_size_bytes: Option<i64>,
    pub audio_sha256: Option<String>,
    pub transcript_text: Option<String>,
    pub transcript_vtt_path: Option<String>,
    /// `webex` or `whisper`.
    pub transcript_source: Option<String>,
    /// The timed cues behind `transcript_text`, kept for analysis; not part of the API.
    #[serde(skip)]
    #[schema(ignore)]
    pub transcript_cues: Option<Transcript>,
    pub has_webex_transcript: bool,
    pub summary_text: Option<String>,
    pub summary_bullet_points: Vec<String>,
    pub key_topics: Vec<String>,
    pub action_items: Vec<String>,
    #[schema(value_type = Option<String>)]
    pub summary_source: Option<SummarySource>,
    /// The call's sentiment, with each side's and each quarter's.
    pub sentiment: Option<CallSentiment>,
    pub detected_language: Option<String>,
    pub language_confidence: Option<f64>,
    pub translated_text: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub call_metrics: Option<CallMetrics>,
    /// Which transcript speaker is the agent (our Webex user) and which the customer; null
    /// without a transcript of two speakers. `swap-roles` corrects it.
    #[schema(value_type = Option<super::insight::RolesDoc>)]
    pub roles: Option<Roles>,
    /// The LLM's answers to `INSIGHT_QUESTIONS`, by question key; null without an LLM, without
    /// questions, or when the LLM's answer was invalid twice.
    pub insights: Option<BTreeMap<String, String>>,
    /// Someone swapped the roles (`swap-roles`): a later run that decides them again swaps its
    /// decision too, so a correction survives a reprocess. Not part of the record's JSON.
    #[serde(skip)]
    pub roles_swapped: bool,
    /// Where card and personal data were replaced by `[KIND]`: `{kind, start, end}` with
    /// seconds into the call, never the value found.
    #[schema(value_type = Vec<Object>)]
    pub redactions: Vec<Redaction>,
    pub processing_status: ProcessingStatus,
    pub processing_steps_completed: Vec<String>,
    /// Step name → why it failed.
    pub processing_errors: BTreeMap<String, String>,
    /// Share (0..1) of the pipeline's steps that succeeded.
    pub quality_score: Option<f64>,
    #[schema(value_type = Option<Object>)]
    pub webex_metadata: Option<serde_json::Value>,
    /// Trackers that match this recording, with where their rules held.
    #[serde(default)]
    pub trackers: Vec<crate::trackers::TrackerMatch>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set by an auditor or admin: nothing may purge or delete the recording while it is held.
    /// Never written by the pipeline's upsert.
    pub legal_hold: Option<LegalHold>,
    /// When retention purged it (status `purged`; only the tombstone fields are left).
    pub purged_at: Option<DateTime<Utc>>,
}

/// Who put a recording on hold, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LegalHold {
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Why a recording may not be processed again, or deleted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReprocessRefused {
    /// Reprocessing rewrites the record, deleting removes it: not while it is held.
    #[error("recording {0} is under legal hold; release the hold first")]
    Held(RecordingId),
    /// A worker drops the run of a deleted or purged recording: answering "queued" would lie.
    #[error("recording {0} was {1}; it is not processed again")]
    Gone(RecordingId, &'static str),
    /// Nothing of a purged recording is left here, and Webex is not asked either.
    #[error("recording {0} was purged; nothing is left to delete")]
    Purged(RecordingId),
}

impl Recording {
    /// Whether a reprocess may be sent for it (the API's, the console's and the CLI's).
    pub fn may_be_reprocessed(&self) -> Result<(), ReprocessRefused> {
        let id = &self.recording_id;
        if self.legal_hold.is_some() {
            return Err(ReprocessRefused::Held(id.clone()));
        }
        if ProcessingStatus::HIDDEN.contains(&self.processing_status) {
            let status = self.processing_status.as_str();
            return Err(ReprocessRefused::Gone(id.clone(), status));
        }
        Ok(())
    }

    /// Whether it may be deleted (the API's and the console's delete; deleting again is fine).
    pub fn may_be_deleted(&self) -> Result<(), ReprocessRefused> {
        let id = &self.recording_id;
        if self.legal_hold.is_some() {
            return Err(ReprocessRefused::Held(id.clone()));
        }
        if self.processing_status == ProcessingStatus::Purged {
            return Err(ReprocessRefused::Purged(id.clone()));
        }
        Ok(())
    }

    /// Removes U+0000 from the text a model or Webex handed us. PostgreSQL text cannot hold it
    /// (SQLite can): one stray NUL would make every save of the call fail there, and each
    /// retry pay for its AI requests again. Dropped on both backends, so both store the same.
    pub fn drop_nul_characters(&mut self) {
        fn scrub(text: &mut String) {
            if text.contains('\0') {
                text.retain(|c| c != '\0');
            }
        }
        let optional = [
            &mut self.caller,
            &mut self.callee,
            &mut self.caller_name,
            &mut self.callee_name,
            &mut self.transcript_text,
            &mut self.summary_text,
            &mut self.translated_text,
        ];
        optional.into_iter().flatten().for_each(scrub);
        self.participants
            .iter_mut()
            .chain(&mut self.summary_bullet_points)
            .chain(&mut self.key_topics)
            .chain(&mut self.action_items)
            .chain(self.processing_errors.values_mut())
            .chain(self.insights.iter_mut().flat_map(|i| i.values_mut()))
            .for_each(scrub);
        for cue in self.transcript_cues.iter_mut().flat_map(|t| &mut t.cues) {
            scrub(&mut cue.text);
            cue.speaker.iter_mut().for_each(scrub);
        }
    }

    /// A row for a recording we know of but have not processed yet.
    pub fn pending(recording_id: RecordingId, now: DateTime<Utc>) -> Self {
        Self {
            recording_id,
            timestamp: None,
            caller: None,
            callee: None,
            caller_name: None,
            callee_name: None,
            duration: None,
            participants: Vec::new(),
            audio_url: None,
            audio_local_path: None,
            audio_format: None,
            audio_size_bytes: None,
            audio_sha256: None,
            transcript_text: None,
            transcript_vtt_path: None,
            transcript_source: None,
            transcript_cues: None,
            has_webex_transcript: false,
            summary_text: None,
            summary_bullet_points: Vec::new(),
            key_topics: Vec::new(),
            action_items: Vec::new(),
            summary_source: None,
            sentiment: None,
            detected_language: None,
            language_confidence: None,
            translated_text: None,
            call_metrics: None,
            roles: None,
            insights: None,
            roles_swapped: false,
            redactions: Vec::new(),
            processing_status: ProcessingStatus::Pending,
            processing_steps_completed: Vec::new(),
            processing_errors: BTreeMap::new(),
            quality_score: None,
            webex_metadata: None,
            trackers: Vec::new(),
            created_at: now,
            updated_at: now,
            legal_hold: None,
            purged_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use strum::VariantArray;

    use super::*;

    /// The database and the `status` filter use `as_str`/`parse`, the API uses serde: one name.
    #[test]
    fn status_names_are_the_same_for_serde_and_strum() {
        for status in ProcessingStatus::VARIANTS {
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json, status.as_str());
            assert_eq!(ProcessingStatus::parse(status.as_str()), Some(*status));
        }
        assert_eq!(ProcessingStatus::parse("done"), None);
        assert_eq!(
            serde_json::to_value(Step::CallMetrics).unwrap(),
            Step::CallMetrics.as_str()
        );
        assert_eq!(Step::CallMetrics.as_str(), "call_metrics");
    }

    #[test]
    fn nul_characters_are_dropped_from_every_text() {
        let mut rec = Recording::pending(RecordingId::parse("r1").unwrap(), Utc::now());
        rec.caller_name = Some("Ana\0".into());
        rec.summary_text = Some("fac\0tura".into());
        rec.key_topics = vec!["\0pago".into()];
        rec.insights = Some(BTreeMap::from([("q".into(), "sí\0".into())]));
        rec.processing_errors.insert("stt".into(), "bad\0".into());
        rec.transcript_cues = Some(call_analysis::transcript::Transcript {
            cues: vec![call_analysis::transcript::Cue {
                start_ms: 0,
                end_ms: 1,
                speaker: Some("A\0".into()),
                text: "ho\0la".into(),
            }],
        });
        rec.drop_nul_characters();
        let json = serde_json::to_string(&rec).unwrap();
        assert!(!json.contains("\\u0000"), "{json}");
        assert_eq!(rec.summary_text.as_deref(), Some("factura"));
        assert_eq!(rec.key_topics, ["pago"]);
        let cue = &rec.transcript_cues.as_ref().unwrap().cues[0];
        assert_eq!(
            (cue.speaker.as_deref(), cue.text.as_str()),
            (Some("A"), "hola")
        );
    }
}
