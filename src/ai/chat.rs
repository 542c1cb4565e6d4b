//! Chat-completions client: call analysis (strict JSON) and translation.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tracing::{debug, warn};
use url::Url;

use super::endpoint::Endpoint;
use super::error::AiError;
use super::questions::InsightQuestions;
use call_analysis::{Analysis, Sentiment, SentimentLabel, SummarySource};

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
/// Put where the middle of an over-long transcript was cut out.
const TRIM_MARKER: &str = "\n[…]\n";
/// A trim cut moves back to a word boundary if one is this close (in chars).
const SNAP_WINDOW_CHARS: usize = 64;
// Caps keep one runaway answer from bloating the stored record.
const MAX_SUMMARY_CHARS: usize = 2_000;
const MAX_LIST_ITEMS: usize = 20;
const MAX_ITEM_CHARS: usize = 500;

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

// ---------------------------------------------------------------------------
// Reply validation
// ---------------------------------------------------------------------------

/// Validate a model reply against the analysis schema; the `Err` says why not.
fn parse_analysis(content: &str) -> Result<Analysis, String> {
    let obj = parse_json_object(content)?;

    let summary = match obj.get("summary") {
        Some(Value::String(s)) if !s.trim().is_empty() => cap_chars(s.trim(), MAX_SUMMARY_CHARS),
        Some(Value::String(_)) => return Err("summary is empty".into()),
        None | Some(Value::Null) => return Err("summary is missing".into()),
        Some(_) => return Err("summary is not a string".into()),
    };
    let sentiment = match obj.get("sentiment") {
        Some(Value::Object(s)) => parse_sentiment(s)?,
        None | Some(Value::Null) => return Err("sentiment is missing".into()),
        Some(_) => return Err("sentiment is not an object".into()),
    };

    Ok(Analysis {
        summary,
        bullet_points: string_list(&obj, "bullet_points")?,
        key_topics: string_list(&obj, "key_topics")?,
        action_items: string_list(&obj, "action_items")?,
        sentiment,
        source: SummarySource::Llm,
    })
}

/// The JSON object in a reply, tolerating ```json fences and, as a last
/// resort, prose around the object (some models add it despite JSON mode).
pub(super) fn parse_json_object(content: &str) -> Result<Map<String, Value>, String> {
    let unfenced = strip_code_fences(content);
    let first_error = match serde_json::from_str::<Value>(unfenced) {
        Ok(Value::Object(map)) => return Ok(map),
        Ok(_) => "top level is not an object".to_string(),
        Err(e) => e.to_string(),
    };
    if let (Some(start), Some(end)) = (unfenced.find('{'), unfenced.rfind('}'))
        && start < end
        && let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&unfenced[start..=end])
    {
        return Ok(map);
    }
    Err(format!("reply is not a JSON object: {first_error}"))
}

fn strip_code_fences(content: &str) -> &str {
    let trimmed = content.trim();
    let Some(rest) = trimmed.strip_prefix("```") else {
        return trimmed;
    };
    // Drop the info string (`json`) that ends the opening fence line.
    let rest = match rest.find('\n') {
        Some(newline) => &rest[newline + 1..],
        None => rest,
    };
    let rest = rest.trim_end();
    rest.strip_suffix("```").unwrap_or(rest).trim()
}

fn parse_sentiment(obj: &Map<String, Value>) -> Result<Sentiment, String> {
    let score = match obj.get("score") {
        Some(Value::Number(n)) => n.as_f64().ok_or("sentiment.score is not a number")?,
        None | Some(Value::Null) => return Err("sentiment.score is missing".into()),
        Some(_) => return Err("sentiment.score is not a number".into()),
    };
    // Out of range is rejected rather than clamped: a 3.0 means the model used
    // another scale (1..5?), so clamping would record a misleading extreme.
    if !score.is_finite() || !(-1.0..=1.0).contains(&score) {
        return Err(format!("sentiment.score {score} is outside -1..1"));
    }
    let label = match obj.get("label") {
        None | Some(Value::Null) => SentimentLabel::from_score(score),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "positive" => SentimentLabel::Positive,
            "neutral" => SentimentLabel::Neutral,
            "negative" => SentimentLabel::Negative,
            other => {
                return Err(format!(
                    "sentiment.label {other:?} is not positive/neutral/negative"
                ));
            }
        },
        Some(_) => return Err("sentiment.label is not a string".into()),
    };
    Ok(Sentiment { score, label })
}

/// A list of strings; missing or null is an empty list (a call may have no
/// action items), blank entries are dropped, length and count are capped.
fn string_list(obj: &Map<String, Value>, key: &str) -> Result<Vec<String>, String> {
    let items = match obj.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(format!("{key} is not an array")),
    };
    let mut out = Vec::with_capacity(items.len().min(MAX_LIST_ITEMS));
    for item in items {
        let Value::String(s) = item else {
            return Err(format!("{key} holds a non-string item"));
        };
        let s = s.trim();
        if !s.is_empty() && out.len() < MAX_LIST_ITEMS {
            out.push(cap_chars(s, MAX_ITEM_CHARS));
        }
    }
    Ok(out)
}

fn cap_chars(s: &str, max: usize) -> String {
    prefix_chars(s, max).to_string()
}

// ---------------------------------------------------------------------------
// Text budgets
// ---------------------------------------------------------------------------

/// `text` cut to at most `max_chars` chars (Unicode scalar values, not bytes),
/// keeping its beginning and its end with a `[…]` marker line between them:
/// the start of a call says what it is about, the end what was agreed.
/// Cuts move back to a nearby word boundary; returns `text` itself when it fits.
pub fn trim_middle(text: &str, max_chars: usize) -> Cow<'_, str> {
    let total = text.chars().count();
    if total <= max_chars {
        return Cow::Borrowed(text);
    }
    let marker_chars = TRIM_MARKER.chars().count();
    if max_chars <= marker_chars {
        // No room for both ends and the marker: keep the beginning.
        return Cow::Owned(prefix_chars(text, max_chars).to_string());
    }
    let room = max_chars - marker_chars;
    let head_chars = room.div_ceil(2);
    let tail_chars = room - head_chars;
    let head = snap_head(prefix_chars(text, head_chars));
    let tail = snap_tail(suffix_chars(text, tail_chars));
    Cow::Owned(format!("{head}{TRIM_MARKER}{tail}"))
}

/// The first `n` chars of `s` (all of it if shorter); always a char boundary.
fn prefix_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((cut, _)) => &s[..cut],
        None => s,
    }
}

/// The last `n` chars of `s` (all of it if shorter); always a char boundary.
fn suffix_chars(s: &str, n: usize) -> &str {
    if n == 0 {
        return "";
    }
    match s.char_indices().rev().nth(n - 1) {
        Some((cut, _)) => &s[cut..],
        None => s,
    }
}

/// Drop a partial last word if a word boundary is near the end.
fn snap_head(head: &str) -> &str {
    match head.rfind(char::is_whitespace) {
        Some(pos) if head[pos..].chars().count() <= SNAP_WINDOW_CHARS => head[..pos].trim_end(),
        _ => head,
    }
}

/// Drop a partial first word if a word boundary is near the start.
fn snap_tail(tail: &str) -> &str {
    match tail.find(char::is_whitespace) {
        Some(pos) if tail[..pos].chars().count() <= SNAP_WINDOW_CHARS => tail[pos..].trim_start(),
        _ => tail,
    }
}

/// One piece of a text to translate, and what joins it to the previous piece.
#[derive(Debug, PartialEq)]
struct Chunk {
    /// `"\n"` between lines, `" "` between word groups of an over-long line,
    /// `""` inside a word longer than the budget.
    sep: &'static str,
    text: String,
}

/// Split `text` into chunks of at most `max_chars` chars, on line boundaries
/// where possible; a single line over the budget is split on whitespace, and a
/// single word over it on chars.
fn split_for_translation(text: &str, max_chars: usize) -> Vec<Chunk> {
    let max_chars = max_chars.max(1);
    let mut chunks = Vec::new();
    // The lines gathered so far, and their length in chars with the newlines.
    let mut current: Option<(String, usize)> = None;

    for line in text.lines() {
        let line_chars = line.chars().count();
        if line_chars > max_chars {
            if let Some((text, _)) = current.take() {
                chunks.push(Chunk { sep: "\n", text });
            }
            let mut pieces = split_long_line(line, max_chars);
            if pieces.is_empty() {
                // A line of only whitespace: keep it as an (untranslated) blank line.
                pieces.push(Chunk {
                    sep: "\n",
                    text: String::new(),
                });
            }
            for (i, mut piece) in pieces.into_iter().enumerate() {
                if i == 0 {
                    piece.sep = "\n";
                }
                chunks.push(piece);
            }
            continue;
        }
        match &mut current {
            Some((acc, acc_chars)) if *acc_chars + 1 + line_chars <= max_chars => {
                acc.push('\n');
                acc.push_str(line);
                *acc_chars += 1 + line_chars;
            }
            _ => {
                if let Some((text, _)) = current.take() {
                    chunks.push(Chunk { sep: "\n", text });
                }
                current = Some((line.to_string(), line_chars));
            }
        }
    }
    if let Some((text, _)) = current {
        chunks.push(Chunk { sep: "\n", text });
    }
    chunks
}

fn split_long_line(line: &str, max_chars: usize) -> Vec<Chunk> {
    let mut pieces: Vec<Chunk> = Vec::new();
    let mut current = String::new();
    let mut current_chars = 0;
    for word in line.split_whitespace() {
        let word_chars = word.chars().count();
        if current_chars > 0 && current_chars + 1 + word_chars <= max_chars {
            current.push(' ');
            current.push_str(word);
            current_chars += 1 + word_chars;
            continue;
        }
        if current_chars > 0 {
            pieces.push(Chunk {
                sep: " ",
                text: std::mem::take(&mut current),
            });
            current_chars = 0;
        }
        if word_chars <= max_chars {
            current.push_str(word);
            current_chars = word_chars;
        } else {
            // A "word" longer than the whole budget (e.g. text without spaces).
            let mut rest = word;
            let mut first = true;
            while !rest.is_empty() {
                let part = prefix_chars(rest, max_chars);
                rest = &rest[part.len()..];
                pieces.push(Chunk {
                    sep: if first { " " } else { "" },
                    text: part.to_string(),
                });
                first = false;
            }
        }
    }
    if current_chars > 0 {
        pieces.push(Chunk {
            sep: " ",
            text: current,
        });
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> usize {
        s.chars().count()
    }

    #[test]
    fn trim_keeps_short_text_untouched() {
        let text = "Hola, ¿qué tal? Señor Muñoz.";
        assert!(matches!(trim_middle(text, 100), Cow::Borrowed(t) if t == text));
        assert!(matches!(trim_middle(text, chars(text)), Cow::Borrowed(_)));
    }

    #[test]
    fn trim_multibyte_keeps_both_ends_within_budget() {
        // Every char is multi-byte, so a byte-based cut would panic or overshoot.
        let text = format!("INICIO {} FIN", "ñandú acción pingüino ".repeat(500));
        for budget in [20, 21, 50, 99, 100, 101, 1_000, 4_321] {
            let trimmed = trim_middle(&text, budget);
            assert!(
                chars(&trimmed) <= budget,
                "budget {budget}: {}",
                chars(&trimmed)
            );
            assert!(trimmed.contains("[…]"), "budget {budget}: no marker");
            assert!(trimmed.starts_with("INICIO"), "budget {budget}: lost start");
            assert!(trimmed.ends_with("FIN"), "budget {budget}: lost end");
        }
        // Large budgets use nearly all of it (snapping only drops part of a word).
        let trimmed = trim_middle(&text, 1_000);
        assert!(chars(&trimmed) > 1_000 - 2 * 30, "{}", chars(&trimmed));
    }

    #[test]
    fn trim_without_whitespace_cuts_on_char_boundaries() {
        let text = "é".repeat(1_000) + &"日本".repeat(1_000);
        let trimmed = trim_middle(&text, 301);
        assert_eq!(chars(&trimmed), 301);
        assert!(trimmed.starts_with('é') && trimmed.ends_with('本'));
        assert!(trimmed.contains("\n[…]\n"));
    }

    #[test]
    fn trim_with_tiny_budget_keeps_the_beginning() {
        let trimmed = trim_middle("ñññññññññññ", 3);
        assert_eq!(trimmed, "ñññ");
        assert_eq!(trim_middle("ñññ", 0), "");
    }

    #[test]
    fn fenced_json_is_unwrapped() {
        let reply = "```json\n{\"summary\":\"Resumen.\",\"sentiment\":{\"score\":0.5}}\n```";
        let a = parse_analysis(reply).unwrap();
        assert_eq!(a.summary, "Resumen.");
        assert_eq!(a.sentiment.label, SentimentLabel::Positive);
        let inline = "```{\"summary\":\"x\",\"sentiment\":{\"score\":0}}```";
        assert_eq!(parse_analysis(inline).unwrap().summary, "x");
        let prose =
            "Here it is: {\"summary\":\"y\",\"sentiment\":{\"score\":-0.5}} Hope this helps";
        let a = parse_analysis(prose).unwrap();
        assert_eq!(a.summary, "y");
        assert_eq!(a.sentiment.label, SentimentLabel::Negative);
    }

    #[test]
    fn schema_violations_are_rejected() {
        let cases = [
            ("{\"sentiment\":{\"score\":0}}", "summary is missing"),
            (
                "{\"summary\":\"  \",\"sentiment\":{\"score\":0}}",
                "summary is empty",
            ),
            ("{\"summary\":\"s\"}", "sentiment is missing"),
            (
                "{\"summary\":\"s\",\"sentiment\":{\"score\":3.0}}",
                "outside -1..1",
            ),
            (
                "{\"summary\":\"s\",\"sentiment\":{\"score\":\"0.3\"}}",
                "not a number",
            ),
            (
                "{\"summary\":\"s\",\"sentiment\":{\"score\":0,\"label\":\"happy\"}}",
                "label",
            ),
            (
                "{\"summary\":\"s\",\"sentiment\":{\"score\":0},\"key_topics\":\"a\"}",
                "not an array",
            ),
            (
                "{\"summary\":\"s\",\"sentiment\":{\"score\":0},\"action_items\":[{\"t\":1}]}",
                "non-string",
            ),
            ("[1,2]", "not a JSON object"),
            ("", "not a JSON object"),
        ];
        for (reply, expected) in cases {
            let err = parse_analysis(reply).expect_err(reply);
            assert!(err.contains(expected), "{reply}: {err}");
        }
    }

    #[test]
    fn lists_are_trimmed_and_capped() {
        let many: Vec<String> = (0..30).map(|i| format!(" item {i} ")).collect();
        let long = "ü".repeat(MAX_ITEM_CHARS + 50);
        let reply = serde_json::json!({
            "summary": "s",
            "bullet_points": many,
            "key_topics": ["", "  ", long],
            "sentiment": {"score": 0.0, "label": "NEUTRAL"}
        })
        .to_string();
        let a = parse_analysis(&reply).unwrap();
        assert_eq!(a.bullet_points.len(), MAX_LIST_ITEMS);
        assert_eq!(a.bullet_points[0], "item 0");
        assert_eq!(a.key_topics.len(), 1);
        assert_eq!(chars(&a.key_topics[0]), MAX_ITEM_CHARS);
        assert!(a.action_items.is_empty());
        assert_eq!(a.sentiment.label, SentimentLabel::Neutral);
    }

    fn rejoin(chunks: &[Chunk]) -> String {
        let mut out = String::new();
        for (i, c) in chunks.iter().enumerate() {
            if i > 0 {
                out.push_str(c.sep);
            }
            out.push_str(&c.text);
        }
        out
    }

    #[test]
    fn split_respects_budget_and_round_trips() {
        let text = "Ana: hola\nLuis: buenos días, señora\n\nAna: ¿cómo está?\nLuis: bien";
        for budget in [12, 20, 40, 1_000] {
            let chunks = split_for_translation(text, budget);
            assert!(
                chunks.iter().all(|c| chars(&c.text) <= budget),
                "{chunks:?}"
            );
            assert_eq!(rejoin(&chunks), text, "budget {budget}");
        }
        assert_eq!(split_for_translation(text, 1_000).len(), 1);
        assert!(split_for_translation("", 10).is_empty());
    }

    #[test]
    fn split_breaks_over_long_lines_and_words() {
        let line = "uno dos tres cuatro cinco";
        let chunks = split_for_translation(line, 9);
        assert!(chunks.iter().all(|c| chars(&c.text) <= 9), "{chunks:?}");
        assert_eq!(rejoin(&chunks), line);

        let word = "ñ".repeat(25);
        let chunks = split_for_translation(&format!("a\n{word}\nb"), 10);
        let texts: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            ["a", &"ñ".repeat(10), &"ñ".repeat(10), &"ñ".repeat(5), "b"]
        );
        assert_eq!(rejoin(&chunks), format!("a\n{word}\nb"));
    }
}
