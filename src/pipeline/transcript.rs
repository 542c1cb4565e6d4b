//! Step `transcript`: the Webex VTT transcript, saved to
//! `DATA_DIR/transcripts/YYYY/MM/DD/{id}.vtt` and parsed; without one, speech-to-text when
//! configured.

use std::path::PathBuf;

use async_trait::async_trait;

use super::step::{PipelineStep, StepError, Work};
use crate::ai::SttClient;
use crate::domain::Step;
use crate::webex::WebexClient;
use call_analysis::transcript::{Transcript, vtt};

/// Webex can make the transcript after the audio (webex-api.md): without a transcript link,
/// try again this many attempts before going on without it (speech-to-text, or none). A retry
/// reuses the audio already downloaded.
const TRANSCRIPT_WAIT_ATTEMPTS: u32 = 3;

pub(super) struct TranscriptStep {
    pub webex: WebexClient,
    /// `DATA_DIR`.
    pub data_dir: PathBuf,
    /// Speech-to-text for recordings without a Webex transcript.
    pub stt: Option<SttClient>,
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
            Some(link) => (self.webex_transcript(w, &link).await?, "webex"),
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
        w.rec.transcript_text = Some(transcript.text());
        w.rec.transcript_source = Some(source.into());
        w.rec.transcript_cues = Some(transcript);
        Ok(())
    }
}

impl TranscriptStep {
    async fn webex_transcript(&self, w: &mut Work, link: &str) -> Result<Transcript, StepError> {
        let path = self
            .data_dir
            .join("transcripts")
            .join(w.date_dirs())
            .join(format!("{}.vtt", w.rec.recording_id));
        self.webex
            .download_to_file(link, &path, None)
            .await
            .map_err(|e| StepError::from_webex("transcript download", &e))?;
        let raw = tokio::fs::read(&path)
            .await
            .map_err(|e| StepError::Failed(format!("reading {}: {e}", path.display())))?;
        let transcript = vtt::parse(&String::from_utf8_lossy(&raw)).map_err(|e| {
            StepError::Failed(format!("the Webex transcript is not valid WebVTT: {e}"))
        })?;
        w.rec.transcript_vtt_path = Some(path.display().to_string());
        Ok(transcript)
    }
}
