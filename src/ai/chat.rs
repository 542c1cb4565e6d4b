//! Chat-completions client: call analysis (strict JSON) and translation.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tracing::{debug, warn};
use url::Url;

use super::budget::{split_for_translation, trim_middle};
use super::endpoint::Endpoint;
use super::error::AiError;
use super::questions::InsightQuestions;
use super::reply::parse_analysis;
use call_analysis::Analysis;

/// About 12k tokens: fits the context of every model we target with room for
/// the prompt and the answer.
pub const DEFAULT_MAX_INPUT_CHARS: usize = 48_000;
/// Translation output is about as long as its input, and many models cap their
/// output well below their context (often 4k-8k tokens), so translation chunks
/// are smaller than the analysis input budget.
pub const DEFAULT_TRANSLATE_CHUNK_CHARS: usize = 12_000;
pub const DEFAULT_CHAT_TIMEOUT: Duration = Duration::from_secs(120);

/// Low temperature: we want faithful summaries and parseable JSON, not creativity.
const TEMPERATURE: f64 = 0.2;

const RETRY_PROMPT: &str = "Return only valid JSON matching the schema: one object with \
\"summary\", \"bullet_points\", \"key_topics\", \"action_items\" and \"sentiment\" \
({\"score\": number from -1 to 1, \"label\": \"positive\"|\"neutral\"|\"negative\"}). \
No prose, no code fences.";

#[derive(Debug, Clone)]
pub struct ChatConfig {
    /// API root, e.g. `https://openrouter.ai/api/v1`; `/chat/completions` is appended.
    pub base_url: Url,
    pub api_key: SecretString,
    pub model: String,
    /// Bound on each whole HTTP request.
    pub timeout: Duration,
    /// Transcripts longer than this (in chars) are cut in the middle before analysis.
    pub max_input_chars: usize,
    /// Texts longer than this (in chars) are translated in several requests.
    pub max_translate_chunk_chars: usize,
    /// `INSIGHT_QUESTIONS`, answered after the analysis of each call.
    pub insight_questions: Option<Arc<InsightQuestions>>,
}

impl ChatConfig {
    /// A config with the default timeout and budgets.
    pub fn new(base_url: Url, api_key: SecretString, model: impl Into<String>) -> Self {
        Self {
            base_url,
            api_key,
            model: model.into(),
            timeout: DEFAULT_CHAT_TIMEOUT,
            max_input_chars: DEFAULT_MAX_INPUT_CHARS,
            max_translate_chunk_chars: DEFAULT_TRANSLATE_CHUNK_CHARS,
            insight_questions: None,
        }
    }
}

/// Cheap to clone: clones share the HTTP connection pool.
#[derive(Clone)]
pub struct ChatClient {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: Endpoint,
    max_input_chars: usize,
    translate_chunk_chars: usize,
    insight_questions: Option<Arc<InsightQuestions>>,
    /// Set once the server rejected `response_format`, so later calls skip it
    /// instead of paying for a failed request every time.
    json_mode_unsupported: AtomicBool,
}

impl fmt::Debug for ChatClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ChatClient")
            .field(&self.inner.endpoint)
            .finish()
    }
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: &'a [Message<'a>],
    temperature: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<ResponseFormat>,
}

#[derive(Serialize)]
struct ResponseFormat {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
pub(super) struct Message<'a> {
    role: &'static str,
    content: Cow<'a, str>,
}

impl<'a> Message<'a> {
    pub(super) fn system(content: impl Into<Cow<'a, str>>) -> Self {
        Self {
            role: "system",
            content: content.into(),
        }
    }

    pub(super) fn user(content: impl Into<Cow<'a, str>>) -> Self {
        Self {
            role: "user",
            content: content.into(),
        }
    }
}

#[derive(Deserialize)]
struct ChatResponse {
    #[serde(default)]
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: ChoiceMessage,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ChoiceMessage {
    content: Option<String>,
}

impl ChatClient {
    pub fn new(config: ChatConfig) -> Result<Self, AiError> {
        Ok(Self {
            inner: Arc::new(Inner {
                endpoint: Endpoint::new(
                    &config.base_url,
                    "chat/completions",
                    config.timeout,
                    Some(config.api_key),
                    config.model,
                )?,
                // A zero budget could never make progress; one char at least.
                max_input_chars: config.max_input_chars.max(1),
                translate_chunk_chars: config.max_translate_chunk_chars.max(1),
                insight_questions: config.insight_questions,
                json_mode_unsupported: AtomicBool::new(false),
            }),
        })
    }

    /// The `INSIGHT_QUESTIONS` this client answers for each call, if any.
    pub fn insight_questions(&self) -> Option<&InsightQuestions> {
        self.inner.insight_questions.as_deref()
    }

    /// The transcript cut in the middle to the input budget.
    pub(super) fn trim_for_input<'t>(&self, transcript_text: &'t str) -> Cow<'t, str> {
        trim_middle(transcript_text, self.inner.max_input_chars)
    }

    /// Summary, points, topics, action items and sentiment of a call transcript.
    ///
    /// A reply that is not JSON of the asked shape gets one retry; a second
    /// bad reply is `AiError::InvalidResponse`.
    pub async fn analyse(
        &self,
        transcript_text: &str,
        summary_language: &str,
    ) -> Result<Analysis, AiError> {
        let transcript = trim_middle(transcript_text, self.inner.max_input_chars);
        if let Cow::Owned(_) = transcript {
            debug!(
                original_chars = transcript_text.chars().count(),
                budget = self.inner.max_input_chars,
                "transcript trimmed for analysis"
            );
        }
        let mut messages = vec![
            Message::system(analysis_prompt(summary_language)),
            Message::user(format!("Call transcript:\n\n{transcript}")),
        ];

        let first = self.complete(&messages, true).await?;
        match parse_analysis(&first) {
            Ok(analysis) => return Ok(analysis),
            Err(reason) => warn!(%reason, "LLM analysis did not fit the schema; retrying once"),
        }

        messages.push(Message::user(RETRY_PROMPT));
        let second = self.complete(&messages, true).await?;
        parse_analysis(&second).map_err(|reason| {
            AiError::InvalidResponse(format!("analysis still invalid after retry: {reason}"))
        })
    }

    /// `text` translated into `target_language`; long texts go in several
    /// requests split on line boundaries, joined back in order.
    pub async fn translate(&self, text: &str, target_language: &str) -> Result<String, AiError> {
        let chunks = split_for_translation(text, self.inner.translate_chunk_chars);
        if chunks.len() > 1 {
            debug!(chunks = chunks.len(), "translating in chunks");
        }
        let system = translate_prompt(target_language);
        let mut out = String::with_capacity(text.len());
        for (i, chunk) in chunks.iter().enumerate() {
            if i > 0 {
                out.push_str(chunk.sep);
            }
            // Blank stretches need no model, and models answer them with chatter.
            if chunk.text.trim().is_empty() {
                out.push_str(&chunk.text);
                continue;
            }
            let messages = [
                Message::system(system.as_str()),
                Message::user(chunk.text.as_str()),
            ];
            let translated = self.complete(&messages, false).await?;
            let translated = translated.trim();
            if translated.is_empty() {
                return Err(AiError::InvalidResponse(format!(
                    "empty translation for chunk {} of {}",
                    i + 1,
                    chunks.len()
                )));
            }
            // Keep the chunk's own leading/trailing blank lines, which the
            // model (and the trim above) would drop.
            let leading = &chunk.text[..chunk.text.len() - chunk.text.trim_start().len()];
            let trailing = &chunk.text[chunk.text.trim_end().len()..];
            out.push_str(leading);
            out.push_str(translated);
            out.push_str(trailing);
        }
        Ok(out)
    }

    /// One completion, falling back to no `response_format` when the server
    /// rejects it (some local servers do not implement JSON mode).
    pub(super) async fn complete(
        &self,
        messages: &[Message<'_>],
        json_mode: bool,
    ) -> Result<String, AiError> {
        let json_mode = json_mode && !self.inner.json_mode_unsupported.load(Ordering::Relaxed);
        match self.post(messages, json_mode).await {
            Err(AiError::Status { status, body })
                if json_mode
                    && status == StatusCode::BAD_REQUEST
                    && body.to_ascii_lowercase().contains("response_format") =>
            {
                warn!("server rejected response_format; retrying without JSON mode");
                self.inner
                    .json_mode_unsupported
                    .store(true, Ordering::Relaxed);
                self.post(messages, false).await
            }
            other => other,
        }
    }

    /// POST one chat completion and return the first choice's content.
    async fn post(&self, messages: &[Message<'_>], json_mode: bool) -> Result<String, AiError> {
        let request = ChatRequest {
            model: &self.inner.endpoint.model,
            messages,
            temperature: TEMPERATURE,
            response_format: json_mode.then_some(ResponseFormat {
                kind: "json_object",
            }),
        };
        let body = self.inner.endpoint.post(|r| r.json(&request)).await?;
        let parsed: ChatResponse = serde_json::from_str(&body)
            .map_err(|e| AiError::InvalidResponse(format!("not a chat completion: {e}")))?;
        let choice =
            parsed.choices.into_iter().next().ok_or_else(|| {
                AiError::InvalidResponse("chat completion without choices".into())
            })?;
        if choice.finish_reason.as_deref() == Some("length") {
            warn!("model output was cut off at its token limit");
        }
        // A null content (refusal, filtered) is treated as an empty answer so the
        // caller's validation decides what to do with it.
        Ok(choice.message.content.unwrap_or_default())
    }
}

fn analysis_prompt(language: &str) -> String {
    format!(
        "You analyse transcripts of business phone calls. Reply with one JSON object and \
nothing else, exactly of this shape:\n\
{{\"summary\": string, \"bullet_points\": [string], \"key_topics\": [string], \
\"action_items\": [string], \"sentiment\": {{\"score\": number, \"label\": \
\"positive\" | \"neutral\" | \"negative\"}}}}\n\
Rules:\n\
- summary: 2-3 sentences written in {language}.\n\
- bullet_points: the main points of the call, at most 8, written in {language}.\n\
- key_topics: short topic names of 1-3 words, at most 8, written in {language}.\n\
- action_items: concrete follow-ups agreed in the call, written in {language}; [] if none.\n\
- sentiment.score: overall tone of the call from -1 (very negative) to 1 (very positive); \
label \"positive\" if score >= 0.15, \"negative\" if score <= -0.15, else \"neutral\".\n\
- Use only what the transcript says. Where the transcript was shortened it shows \"[…]\"."
    )
}

fn translate_prompt(language: &str) -> String {
    format!(
        "You are a professional translator. Translate the user's text into {language}. \
Keep the line breaks and any leading speaker labels (\"Name:\") unchanged. \
Reply with the translation only: no notes, no quotes, no code fences."
    )
}
