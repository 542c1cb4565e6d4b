//! Speech-to-text through an OpenAI-compatible `/audio/transcriptions` endpoint
//! (OpenAI Whisper, faster-whisper-server, whisper.cpp server, ...).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;
use tokio_util::io::ReaderStream;
use tracing::debug;
use url::Url;

use super::endpoint::Endpoint;
use super::error::AiError;
use call_analysis::transcript::{Cue, Transcript};

pub const DEFAULT_STT_MODEL: &str = "whisper-1";
/// Uploading and transcribing an hour of audio can take minutes.
pub const DEFAULT_STT_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
pub struct SttConfig {
    /// API root, e.g. `https://api.openai.com/v1`; `/audio/transcriptions` is appended.
    pub base_url: Url,
    /// Local servers often need no key; without one no `Authorization` is sent.
    pub api_key: Option<SecretString>,
    pub model: String,
    /// Bound on each whole HTTP request, upload included.
    pub timeout: Duration,
}

impl SttConfig {
    /// A config with the default model, timeout and no key.
    pub fn new(base_url: Url) -> Self {
        Self {
            base_url,
            api_key: None,
            model: DEFAULT_STT_MODEL.to_string(),
            timeout: DEFAULT_STT_TIMEOUT,
        }
    }
}

/// Everything a transcription returns, for callers that want more than cues.
#[derive(Debug, Clone, PartialEq)]
pub struct SttOutput {
    pub transcript: Transcript,
    /// As the server names it (OpenAI answers e.g. `spanish`, not `es`).
    pub language: Option<String>,
    pub duration_seconds: Option<f64>,
}

/// Cheap to clone: clones share the HTTP connection pool.
/// `Debug` shows where and which model, never the key ([`Endpoint`]).
#[derive(Clone, Debug)]
pub struct SttClient {
    endpoint: Arc<Endpoint>,
}

#[derive(Deserialize)]
struct TranscriptionResponse {
    text: Option<String>,
    language: Option<String>,
    duration: Option<f64>,
    segments: Option<Vec<Segment>>,
}

#[derive(Deserialize)]
struct Segment {
    start: f64,
    end: f64,
    #[serde(default)]
    text: String,
    /// Only diarising servers send it, some as a name, some as a number.
    #[serde(default)]
    speaker: Option<Value>,
}

impl SttClient {
    pub fn new(config: SttConfig) -> Result<Self, AiError> {
        Ok(Self {
            endpoint: Arc::new(Endpoint::new(
                &config.base_url,
                "audio/transcriptions",
                config.timeout,
                config.api_key,
                config.model,
            )?),
        })
    }

    /// The timed cues of the speech in `audio_path`.
    pub async fn transcribe(
        &self,
        audio_path: &Path,
        language_hint: Option<&str>,
    ) -> Result<Transcript, AiError> {
        Ok(self
            .transcribe_detailed(audio_path, language_hint)
            .await?
            .transcript)
    }

    /// Like [`transcribe`](Self::transcribe), also returning the language and
    /// duration the server reports.
    pub async fn transcribe_detailed(
        &self,
        audio_path: &Path,
        language_hint: Option<&str>,
    ) -> Result<SttOutput, AiError> {
        // Streamed from disk: recordings can be hundreds of MB. The length is
        // given so the multipart body gets a Content-Length (some servers
        // refuse chunked uploads).
        let file = tokio::fs::File::open(audio_path).await?;
        let length = file.metadata().await?.len();
        let file_name = audio_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "audio".to_string());
        let part =
            Part::stream_with_length(reqwest::Body::wrap_stream(ReaderStream::new(file)), length)
                .file_name(file_name)
                .mime_str(mime_type(audio_path))
                .map_err(AiError::http)?;

        let mut form = Form::new()
            .part("file", part)
            .text("model", self.endpoint.model.clone())
            .text("response_format", "verbose_json")
            .text("timestamp_granularities[]", "segment");
        if let Some(language) = language_hint.and_then(iso_639_1) {
            form = form.text("language", language);
        }

        debug!(bytes = length, "uploading audio for transcription");
        let body = self.endpoint.post(|r| r.multipart(form)).await?;
        let parsed: TranscriptionResponse = serde_json::from_str(&body).map_err(|e| {
            AiError::InvalidResponse(format!("not a verbose_json transcription: {e}"))
        })?;
        Ok(to_output(parsed))
    }
}

fn to_output(response: TranscriptionResponse) -> SttOutput {
    let mut cues: Vec<Cue> = response
        .segments
        .unwrap_or_default()
        .into_iter()
        .filter_map(|s| {
            let text = s.text.trim();
            if text.is_empty() {
                return None;
            }
            let start_ms = seconds_to_ms(s.start);
            Some(Cue {
                start_ms,
                // Never let a cue end before it starts, whatever the server says.
                end_ms: seconds_to_ms(s.end).max(start_ms),
                speaker: speaker_name(s.speaker),
                text: text.to_string(),
            })
        })
        .collect();

    // No segments (a server that ignores verbose_json): one cue with the whole text.
    if cues.is_empty()
        && let Some(text) = response.text.as_deref().map(str::trim)
        && !text.is_empty()
    {
        cues.push(Cue {
            start_ms: 0,
            end_ms: response.duration.map(seconds_to_ms).unwrap_or(0),
            speaker: None,
            text: text.to_string(),
        });
    }
    // Transcript promises time order; stable so equal starts keep server order.
    cues.sort_by_key(|c| c.start_ms);

    SttOutput {
        transcript: Transcript { cues },
        language: response.language.filter(|l| !l.trim().is_empty()),
        duration_seconds: response.duration.filter(|d| d.is_finite() && *d >= 0.0),
    }
}

fn seconds_to_ms(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 {
        // `as` saturates for absurdly large values instead of wrapping.
        (seconds * 1000.0).round() as u64
    } else {
        0
    }
}

fn speaker_name(speaker: Option<Value>) -> Option<String> {
    match speaker? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn mime_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("mp3") => "audio/mpeg",
        Some("wav") => "audio/wav",
        _ => "application/octet-stream",
    }
}

/// The API wants ISO 639-1 (`es`); accept locale tags like `es-ES` / `es_ES` too.
fn iso_639_1(hint: &str) -> Option<String> {
    let primary = hint.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    (!primary.is_empty()).then_some(primary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_hint_is_reduced_to_primary_subtag() {
        assert_eq!(iso_639_1("es-ES").as_deref(), Some("es"));
        assert_eq!(iso_639_1(" EN_us ").as_deref(), Some("en"));
        assert_eq!(iso_639_1("ca").as_deref(), Some("ca"));
        assert_eq!(iso_639_1("  "), None);
    }

    #[test]
    fn mime_types_by_extension() {
        assert_eq!(mime_type(Path::new("/a/b.MP3")), "audio/mpeg");
        assert_eq!(mime_type(Path::new("b.wav")), "audio/wav");
        assert_eq!(mime_type(Path::new("b.ogg")), "application/octet-stream");
        assert_eq!(mime_type(Path::new("noext")), "application/octet-stream");
    }

    #[test]
    fn seconds_convert_and_clamp() {
        assert_eq!(seconds_to_ms(1.2345), 1235);
        assert_eq!(seconds_to_ms(-3.0), 0);
        assert_eq!(seconds_to_ms(f64::NAN), 0);
    }

    #[test]
    fn no_segments_gives_one_cue_with_duration() {
        let out = to_output(TranscriptionResponse {
            text: Some(" Hola a todos. ".into()),
            language: Some("spanish".into()),
            duration: Some(12.5),
            segments: None,
        });
        assert_eq!(
            out.transcript.cues,
            vec![Cue {
                start_ms: 0,
                end_ms: 12_500,
                speaker: None,
                text: "Hola a todos.".into()
            }]
        );
        assert_eq!(out.language.as_deref(), Some("spanish"));

        let out = to_output(TranscriptionResponse {
            text: Some("x".into()),
            language: None,
            duration: None,
            segments: Some(vec![]),
        });
        assert_eq!(out.transcript.cues[0].end_ms, 0);

        let empty = to_output(TranscriptionResponse {
            text: None,
            language: None,
            duration: None,
            segments: None,
        });
        assert!(empty.transcript.cues.is_empty());
    }
}
