//! What every pipeline step is: a [`PipelineStep`] holding only the clients and settings it
//! needs, working on the one [`Work`] of a recording, failing with the one [`StepError`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{ProcessingStatus, Recording, Step};
use crate::storage::StorageKey;
use crate::webex::{RecordingDetails, WebexError};

/// The work of one pipeline step. Which step it is, and when the runner attempts it, are in the
/// pipeline's table of [`Stage`](super::Stage)s (`stages.rs`): the order and the rules in one
/// place.
#[async_trait]
pub trait PipelineStep: Send + Sync {
    /// Whether the step belongs to this recording's pipeline at all (translation only when the
    /// spoken language differs from `TRANSLATE_TO`). A step that does not apply is left out of
    /// the quality score.
    fn applies(&self, _work: &Work) -> bool {
        true
    }

    async fn run(&self, work: &mut Work) -> Result<(), StepError>;
}

/// How a step went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// Trying again later may work: the whole recording is retried.
    #[error("{0}")]
    Transient(String),
    /// This step will not work for this recording; recorded in `processing_errors`.
    #[error("{0}")]
    Failed(String),
}

impl StepError {
    /// Webex errors that a later attempt may get past: rate limits, server errors, network
    /// trouble, and downloads that came out short.
    pub fn from_webex(context: &str, e: &WebexError) -> Self {
        let transient =
            e.is_transient() || matches!(e, WebexError::Http(_) | WebexError::SizeMismatch { .. });
        let reason = format!("{context}: {e}");
        if transient {
            Self::Transient(reason)
        } else {
            Self::Failed(reason)
        }
    }
}

/// The recording under work plus what steps hand to later steps.
#[derive(Debug)]
pub struct Work {
    pub rec: Recording,
    /// Delivery attempt, 1 for the first.
    pub attempt: u32,
    /// Fresh details with the short-lived download links (never stored).
    pub details: Option<RecordingDetails>,
    /// Where the `audio` step stored the audio.
    pub audio_key: Option<StorageKey>,
    /// Whether audio already stored may stand for the download (not on reprocess).
    pub reuse_audio: bool,
    /// Steps that apply to this recording, attempted or not: the quality score's denominator.
    pub(super) applicable: usize,
}

impl Work {
    pub(super) fn new(mut rec: Recording, attempt: u32, reuse_audio: bool) -> Self {
        // The record shows this run's steps and errors only (quality and status follow them).
        rec.processing_steps_completed.clear();
        rec.processing_errors.clear();
        Self {
            rec,
            attempt,
            details: None,
            audio_key: None,
            reuse_audio,
            applicable: 0,
        }
    }

    /// Whether the recording has a transcript with words in it.
    pub fn has_transcript(&self) -> bool {
        self.rec
            .transcript_cues
            .as_ref()
            .is_some_and(|t| !t.is_empty())
    }

    pub(super) fn record(&mut self, step: Step, result: Result<(), String>) {
        match result {
            Ok(()) => {
                self.rec
                    .processing_steps_completed
                    .push(step.as_str().to_string());
            }
            Err(reason) => {
                tracing::warn!(step = step.as_str(), %reason, "step failed");
                self.rec
                    .processing_errors
                    .insert(step.as_str().to_string(), reason);
            }
        }
    }

    /// Status and quality; `fatal`: an essential step failed. Quality is the share of all
    /// applicable steps that succeeded, those never attempted included, so a call without a
    /// transcript (and so without analysis) scores low.
    pub(super) fn finish(mut self, fatal: bool) -> Recording {
        let succeeded = self.rec.processing_steps_completed.len();
        let planned = self.applicable.max(succeeded);
        self.rec.quality_score = (planned > 0).then(|| succeeded as f64 / planned as f64);
        self.rec.processing_status = if fatal {
            ProcessingStatus::Failed
        } else if succeeded == planned {
            ProcessingStatus::Completed
        } else {
            ProcessingStatus::Partial
        };
        self.rec.updated_at = Utc::now();
        self.rec.drop_nul_characters();
        self.rec
    }

    /// The date stored files are filed under: when the recording was made, else when we
    /// first saw it.
    pub fn recorded_on(&self) -> DateTime<Utc> {
        self.rec.timestamp.unwrap_or(self.rec.created_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(status: u16) -> WebexError {
        WebexError::Api {
            status,
            message: "answer".into(),
            tracking_id: None,
        }
    }

    #[test]
    fn webex_errors_a_later_attempt_may_get_past_are_transient() {
        let cases = [
            (api_error(429), true),
            (api_error(503), true),
            (api_error(404), false),
            (api_error(403), false),
            (
                WebexError::RetriesExhausted {
                    attempts: 5,
                    last: Box::new(api_error(502)),
                },
                true,
            ),
            (
                WebexError::SizeMismatch {
                    expected: 10,
                    actual: 4,
                },
                true,
            ),
            (WebexError::Auth("refresh refused".into()), false),
        ];
        for (error, transient) in cases {
            let step_error = StepError::from_webex("details", &error);
            assert_eq!(
                matches!(step_error, StepError::Transient(_)),
                transient,
                "{error}"
            );
            assert!(step_error.to_string().starts_with("details: "), "{error}");
        }
    }
}
