//! Step `transcript`: the Webex VTT transcript, saved to
//! `DATA_DIR/transcripts/YYYY/MM/DD/{id}.vtt` and parsed; without one, speech-to-text when
//! configured.

use super::{Pipeline, StepError, Work};
use call_analysis::transcript::{Transcript, vtt};

/// Webex can make the transcript after the audio (webex-api.md): without a transcript link,
/// try again this many attempts before going on without it (speech-to-text, or none). A retry
/// reuses the audio already downloaded.
const TRANSCRIPT_WAIT_ATTEMPTS: u32 = 3;

pub(super) async fn run(p: &Pipeline, w: &mut Work) -> Result<(), StepError> {
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
        Some(link) => (webex_transcript(p, w, &link).await?, "webex"),
        None => match &p.deps.stt {
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

async fn webex_transcript(p: &Pipeline, w: &mut Work, link: &str) -> Result<Transcript, StepError> {
    let path = p
        .data_dir()
        .join("transcripts")
        .join(w.date_dirs())
        .join(format!("{}.vtt", w.rec.recording_id));
    p.deps
        .webex
        .download_to_file(link, &path, None)
        .await
        .map_err(|e| StepError::from_webex("transcript download", &e))?;
    let raw = tokio::fs::read(&path)
        .await
        .map_err(|e| StepError::Failed(format!("reading {}: {e}", path.display())))?;
    let transcript = vtt::parse(&String::from_utf8_lossy(&raw))
        .map_err(|e| StepError::Failed(format!("the Webex transcript is not valid WebVTT: {e}")))?;
    w.rec.transcript_vtt_path = Some(path.display().to_string());
    Ok(transcript)
}
