//! Step `transcript`: the Webex VTT transcript, parsed; without one, speech-to-text when
//! configured. Every transcript is redacted here, and the VTT saved to the store at
//! `transcripts/YYYY/MM/DD/{id}.vtt` is the redacted one.

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use super::notes::FileNotes;
use super::step::{PipelineStep, StepError, Work};
use crate::ai::SttClient;
use crate::storage::{Storage, StorageKey};
use crate::webex::WebexClient;
use call_analysis::redact::Redactor;
use call_analysis::transcript::{Transcript, render, vtt};

/// Webex can make the transcript after the audio (webex-api.md): without a transcript link,
/// try again this many attempts before going on without it (speech-to-text, or none). A retry
/// reuses the audio already downloaded.
const TRANSCRIPT_WAIT_ATTEMPTS: u32 = 3;

/// A VTT larger than this is not a call transcript; refusing it keeps memory bounded.
const MAX_VTT_BYTES: usize = 32 * 1024 * 1024;

pub(super) struct TranscriptStep {
    pub webex: WebexClient,
    pub storage: Storage,
    pub notes: FileNotes,
    /// Speech-to-text for recordings without a Webex transcript.
    pub stt: Option<SttClient>,
    /// `REDACT`: applied here, where every transcript enters, before any of it is kept.
    pub redactor: Redactor,
}

#[async_trait]
impl PipelineStep for TranscriptStep {
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
                    let key = w
                        .audio_key
                        .as_ref()
                        .ok_or_else(|| StepError::Failed("no audio file to transcribe".into()))?;
                    // The service takes a file: the stored one, or a temporary copy from S3.
                    let audio = self.storage.local_file(key).await.map_err(|e| {
                        StepError::Transient(format!("reading the stored audio: {e}"))
                    })?;
                    let t = stt.transcribe(audio.path(), None).await.map_err(|e| {
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
            let key = StorageKey::transcript(&w.rec.recording_id, w.recorded_on());
            let vtt = render::to_vtt(&redacted.transcript);
            self.notes.note(&w.rec.recording_id, &key).await?;
            self.storage
                .put_bytes(&key, Bytes::from(vtt))
                .await
                .map_err(|e| StepError::Transient(format!("storing the transcript: {e}")))?;
            w.rec.transcript_vtt_path = Some(self.storage.location(&key));
        }
        w.rec.redactions = redacted.redactions;
        w.rec.transcript_text = Some(redacted.transcript.text());
        w.rec.transcript_source = Some(source.into());
        w.rec.transcript_cues = Some(redacted.transcript);
        Ok(())
    }
}

impl TranscriptStep {
    /// The Webex VTT, parsed from memory: the raw file is never stored (only the redacted
    /// rendering of its cues is).
    async fn webex_transcript(&self, link: &str) -> Result<Transcript, StepError> {
        let raw = self.download_vtt(link).await?;
        // The error quotes the bad line, which may hold what was said: redacted like the text.
        vtt::parse(&String::from_utf8_lossy(&raw)).map_err(|e| {
            let quoted = self.redactor.text(&e.to_string());
            StepError::Failed(format!(
                "the Webex transcript is not valid WebVTT: {quoted}"
            ))
        })
    }

    /// The VTT in memory: it is small, and parsed whole anyway.
    async fn download_vtt(&self, link: &str) -> Result<Bytes, StepError> {
        let webex_error = |e| StepError::from_webex("transcript download", &e);
        let download = self
            .webex
            .open_download(link, None)
            .await
            .map_err(webex_error)?;
        let mut chunks = std::pin::pin!(download.chunks());
        let mut raw = BytesMut::new();
        while let Some(chunk) = chunks.next().await {
            raw.extend_from_slice(&chunk.map_err(webex_error)?);
            if raw.len() > MAX_VTT_BYTES {
                return Err(StepError::Failed(format!(
                    "the Webex transcript is larger than {} MiB",
                    MAX_VTT_BYTES / (1024 * 1024)
                )));
            }
        }
        Ok(raw.freeze())
    }
}
