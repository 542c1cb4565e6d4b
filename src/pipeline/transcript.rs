//! Step `transcript`: the Webex VTT transcript, saved to
//! `DATA_DIR/transcripts/YYYY/MM/DD/{id}.vtt` and parsed; without one, speech-to-text when
//! configured.

use std::path::PathBuf;

use async_trait::async_trait;

use super::step::{PipelineStep, StepError, Work};
use crate::ai::SttClient;
use crate::domain::Step;
use crate::webex::WebexClient;
use call_analysis::redact::Redactor;
use call_analysis::transcript::{Transcript, render, vtt};

/// Webex can make the transcript after the audio (webex-api.md): without a transcript link,
/// try again this many attempts before going on without it (speech-to-text, or none). A retry
/// reuses the audio already downloaded.
const TRANSCRIPT_WAIT_ATTEMPTS: u32 = 3;
/// A Webex VTT is held in memory until redacted; an hour of speech is well under 1 MiB.
const MAX_VTT_BYTES: u64 = 32 * 1024 * 1024;

pub(super) struct TranscriptStep {
    pub webex: WebexClient,
    /// `DATA_DIR`.
    pub data_dir: PathBuf,
    /// Speech-to-text for recordings without a Webex transcript.
    pub stt: Option<SttClient>,
    /// `REDACT`: applied here, where every transcript enters, before any of it is kept.
    pub redactor: Redactor,
}

#[async_trait]
impl PipelineStep for TranscriptStep {
    fn step(&self) -> Step {
        Step::Transcript
    }

    async fn run(&self, w: &mut Work) -> Result<(), StepError> {
        let link = w
            .details
            .as_ref()
            .and_then(|d| d.transcript_link())
            .map(str::to_owned);
        w.rec.has_webex_transcript = link.is_some();
        if link.is_none() && w.attempt < TRANSCRIPT_WAIT_ATTEMPTS {
            return Err(StepError::Transient(
                "Webex has no transcript for this recording yet; trying again later".into(),
            ));
        }
        let (transcript, source) = match link {
            Some(link) => (self.webex_transcript(&link).await?, "webex"),
            None => match &self.stt {
                Some(stt) => {
                    let audio = w
                        .audio_path
                        .as_ref()
                        .ok_or_else(|| StepError::Failed("no audio file to transcribe".into()))?;
                    let t = stt.transcribe(audio, None).await.map_err(|e| {
                        let reason = format!("speech-to-text: {e}");
                        if e.is_transient() {
                            StepError::Transient(reason)
                        } else {
                            StepError::Failed(reason)
                        }
                    })?;
                    (t, "whisper")
                }
                None => {
                    return Err(StepError::Failed(
                        "Webex made no transcript for this recording and no speech-to-text \
                     service is configured (STT_API_URL)"
                            .into(),
                    ));
                }
            },
        };
        if transcript.is_empty() {
            return Err(StepError::Failed("the transcript has no speech".into()));
        }
        // The one point every transcript passes, Webex VTT and speech-to-text alike: from
        // here on only the redacted cues exist, so nothing later can store or send the rest.
        let redacted = self.redactor.transcript(&transcript);
        drop(transcript);
        if source == "webex" {
            let path = self.save_vtt(w, &redacted.transcript).await?;
            w.rec.transcript_vtt_path = Some(path.display().to_string());
        }
        w.rec.redactions = redacted.redactions;
        w.rec.transcript_text = Some(redacted.transcript.text());
        w.rec.transcript_source = Some(source.into());
        w.rec.transcript_cues = Some(redacted.transcript);
        Ok(())
    }
}

impl TranscriptStep {
    /// The Webex VTT, read into memory only (it is written to disk once redacted).
    async fn webex_transcript(&self, link: &str) -> Result<Transcript, StepError> {
        let raw = self
            .webex
            .download_text(link, MAX_VTT_BYTES)
            .await
            .map_err(|e| StepError::from_webex("transcript download", &e))?;
        vtt::parse(&raw).map_err(|e| {
            StepError::Failed(format!("the Webex transcript is not valid WebVTT: {e}"))
        })
    }

    /// Writes the redacted cues, timings kept, to `DATA_DIR/transcripts/YYYY/MM/DD/{id}.vtt`
    /// through a temporary file, so a reader never sees half a file.
    async fn save_vtt(&self, w: &Work, transcript: &Transcript) -> Result<PathBuf, StepError> {
        let dir = self.data_dir.join("transcripts").join(w.date_dirs());
        let path = dir.join(format!("{}.vtt", w.rec.recording_id));
        let partial = dir.join(format!(".{}.vtt.part", w.rec.recording_id));
        let failed =
            |e: std::io::Error| StepError::Failed(format!("writing {}: {e}", path.display()));
        tokio::fs::create_dir_all(&dir).await.map_err(failed)?;
        tokio::fs::write(&partial, render::to_vtt(transcript))
            .await
            .map_err(failed)?;
        tokio::fs::rename(&partial, &path).await.map_err(failed)?;
        Ok(path)
    }
}
