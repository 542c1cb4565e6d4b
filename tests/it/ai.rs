//! The AI clients against a fake OpenAI-compatible server (wiremock on loopback).

use std::time::{Duration, Instant};

use call_analysis::transcript::Cue;
use call_analysis::{SentimentLabel, SummarySource};
use secrecy::SecretString;
use serde_json::{Value, json};
use url::Url;
use webex_recordings::ai::{AiError, ChatClient, ChatConfig, SttClient, SttConfig};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, Respond, ResponseTemplate};

const KEY: &str = "sk-test-secret-123";
const CHAT_PATH: &str = "/v1/chat/completions";
const STT_PATH: &str = "/v1/audio/transcriptions";

fn chat_config(server: &MockServer) -> ChatConfig {
    // Trailing slash on purpose: the client must not double it or drop `v1`.
    let base = Url::parse(&format!("{}/v1/", server.uri())).unwrap();
    let mut config = ChatConfig::new(base, SecretString::from(KEY), "test-model");
    config.timeout = Duration::from_secs(10);
    config
}

fn chat_client(server: &MockServer) -> ChatClient {
    ChatClient::new(chat_config(server)).unwrap()
}

/// A chat completion whose first choice says `content`.
fn completion(content: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "test-model",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"
        }]
    }))
}

fn valid_analysis_json() -> String {
    json!({
        "summary": "El cliente llamó por una factura duplicada. Se acordó anularla.",
        "bullet_points": ["Factura duplicada de marzo", "Se anulará la segunda"],
        "key_topics": ["facturación", "anulación"],
        "action_items": ["Enviar factura rectificativa antes del viernes"],
        "sentiment": {"score": -0.25, "label": "negative"}
    })
    .to_string()
}

/// A mock of the chat-completions endpoint.
fn chat_mock() -> MockBuilder {
    Mock::given(method("POST")).and(path(CHAT_PATH))
}

/// A fake server whose chat-completions endpoint always answers `reply`.
async fn chat_server(reply: impl Respond + 'static) -> MockServer {
    let server = MockServer::start().await;
    chat_mock().respond_with(reply).mount(&server).await;
    server
}

/// A mock of the transcriptions endpoint.
fn stt_mock() -> MockBuilder {
    Mock::given(method("POST")).and(path(STT_PATH))
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

fn body_json(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).map(|v| v.to_str().unwrap())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------
// analyse
// ---------------------------------------------------------------------------

#[tokio::test]
async fn analyse_parses_valid_json_and_sends_model_key_and_json_mode() {
    let server = MockServer::start().await;
    chat_mock()
        .respond_with(completion(&valid_analysis_json()))
        .expect(1)
        .mount(&server)
        .await;

    let analysis = chat_client(&server)
        .analyse("Ana: Hola, me han cobrado dos veces.", "Spanish")
        .await
        .unwrap();

    assert_eq!(
        analysis.summary,
        "El cliente llamó por una factura duplicada. Se acordó anularla."
    );
    assert_eq!(
        analysis.bullet_points,
        ["Factura duplicada de marzo", "Se anulará la segunda"]
    );
    assert_eq!(analysis.key_topics, ["facturación", "anulación"]);
    assert_eq!(
        analysis.action_items,
        ["Enviar factura rectificativa antes del viernes"]
    );
    assert_eq!(analysis.sentiment.score, -0.25);
    assert_eq!(analysis.sentiment.label, SentimentLabel::Negative);
    assert_eq!(analysis.source, SummarySource::Llm);

    let received = requests(&server).await;
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(
        header(request, "authorization"),
        Some("Bearer sk-test-secret-123")
    );
    let body = body_json(request);
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["response_format"]["type"], "json_object");
    assert_eq!(body["temperature"], 0.2);
    assert_eq!(body["messages"][0]["role"], "system");
    let system = body["messages"][0]["content"].as_str().unwrap();
    assert!(
        system.contains("2-3 sentences written in Spanish"),
        "{system}"
    );
    assert_eq!(body["messages"][1]["role"], "user");
    let user = body["messages"][1]["content"].as_str().unwrap();
    assert!(
        user.contains("Ana: Hola, me han cobrado dos veces."),
        "{user}"
    );
}

#[tokio::test]
async fn analyse_retries_once_after_invalid_json() {
    let server = MockServer::start().await;
    // Mounted first, so it answers the first request only; then the valid one takes over.
    chat_mock()
        .respond_with(completion("Sure! Here is the summary: the call went well."))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    chat_mock()
        .respond_with(completion(&valid_analysis_json()))
        .mount(&server)
        .await;

    let analysis = chat_client(&server)
        .analyse("Ana: hola", "es")
        .await
        .unwrap();
    assert_eq!(analysis.key_topics, ["facturación", "anulación"]);

    let received = requests(&server).await;
    assert_eq!(received.len(), 2);
    // The retry repeats the request and adds the reminder.
    let retry = body_json(&received[1]);
    let messages = retry["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3);
    assert_eq!(
        messages[..2],
        body_json(&received[0])["messages"].as_array().unwrap()[..]
    );
    let reminder = messages[2]["content"].as_str().unwrap();
    assert!(reminder.starts_with("Return only valid JSON matching the schema"));
}

#[tokio::test]
async fn analyse_fails_after_two_invalid_replies() {
    let server = chat_server(completion("{\"summary\": \"unterminated")).await;

    let err = chat_client(&server)
        .analyse("Ana: hola", "es")
        .await
        .unwrap_err();
    assert!(matches!(err, AiError::InvalidResponse(_)), "{err:?}");
    assert!(!err.is_transient());
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn analyse_accepts_fenced_json_and_derives_missing_label() {
    let fenced = "```json\n{\"summary\": \"Llamada breve.\", \"bullet_points\": [], \
                  \"key_topics\": [\"saludo\"], \"action_items\": [], \
                  \"sentiment\": {\"score\": 0.6}}\n```";
    let server = chat_server(completion(fenced)).await;

    let analysis = chat_client(&server)
        .analyse("Ana: hola", "es")
        .await
        .unwrap();
    assert_eq!(analysis.summary, "Llamada breve.");
    assert_eq!(analysis.key_topics, ["saludo"]);
    assert_eq!(analysis.sentiment.score, 0.6);
    assert_eq!(analysis.sentiment.label, SentimentLabel::Positive);
    // Fences are not a schema failure: no retry was needed.
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn analyse_rejects_out_of_range_score() {
    let out_of_range = json!({
        "summary": "Todo bien.",
        "sentiment": {"score": 3.0, "label": "positive"}
    })
    .to_string();
    let server = chat_server(completion(&out_of_range)).await;

    let err = chat_client(&server)
        .analyse("Ana: hola", "es")
        .await
        .unwrap_err();
    let AiError::InvalidResponse(reason) = &err else {
        panic!("expected InvalidResponse, got {err:?}");
    };
    assert!(reason.contains("outside -1..1"), "{reason}");
    // 3.0 is rejected (not clamped), which triggers the one retry.
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn analyse_retries_without_response_format_when_unsupported() {
    let server = MockServer::start().await;
    chat_mock()
        .and(|r: &Request| body_json(r).get("response_format").is_some())
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {"message": "Unsupported parameter: 'response_format'"}
        })))
        .mount(&server)
        .await;
    chat_mock()
        .and(|r: &Request| body_json(r).get("response_format").is_none())
        .respond_with(completion(&valid_analysis_json()))
        .mount(&server)
        .await;

    let client = chat_client(&server);
    let analysis = client.analyse("Ana: hola", "es").await.unwrap();
    assert_eq!(analysis.sentiment.label, SentimentLabel::Negative);
    assert_eq!(requests(&server).await.len(), 2);

    // Remembered: the next call goes straight to plain mode (one request),
    // also through a clone of the client.
    client.clone().analyse("Ana: adiós", "es").await.unwrap();
    let received = requests(&server).await;
    assert_eq!(received.len(), 3);
    assert!(body_json(&received[2]).get("response_format").is_none());
}

#[tokio::test]
async fn analyse_trims_long_transcript_before_sending() {
    let server = chat_server(completion(&valid_analysis_json())).await;

    let mut config = chat_config(&server);
    config.max_input_chars = 1_000;
    let transcript = format!(
        "PRINCIPIO {} FINAL",
        "Señora Muñoz: ¿Cuándo llegará el pedido? ".repeat(200)
    );
    ChatClient::new(config)
        .unwrap()
        .analyse(&transcript, "es")
        .await
        .unwrap();

    let body = body_json(&requests(&server).await[0]);
    let user = body["messages"][1]["content"].as_str().unwrap();
    let sent = user.strip_prefix("Call transcript:\n\n").unwrap();
    assert!(sent.chars().count() <= 1_000, "{}", sent.chars().count());
    assert!(sent.starts_with("PRINCIPIO") && sent.ends_with("FINAL"));
    assert!(sent.contains("\n[…]\n"));
}

#[tokio::test]
async fn server_error_is_transient_and_client_error_is_not() {
    let server = MockServer::start().await;
    chat_mock()
        .respond_with(ResponseTemplate::new(500).set_body_string("upstream exploded"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    chat_mock()
        .respond_with(ResponseTemplate::new(401).set_body_string("invalid api key"))
        .mount(&server)
        .await;
    let client = chat_client(&server);

    let err = client.analyse("Ana: hola", "es").await.unwrap_err();
    match &err {
        AiError::Status { status, body } => {
            assert_eq!(status.as_u16(), 500);
            assert_eq!(body, "upstream exploded");
        }
        other => panic!("expected Status, got {other:?}"),
    }
    assert!(err.is_transient());
    // No hidden retries of HTTP errors here: the caller's job queue decides.
    assert_eq!(requests(&server).await.len(), 1);

    let err = client.analyse("Ana: hola", "es").await.unwrap_err();
    assert!(matches!(&err, AiError::Status { status, .. } if status.as_u16() == 401));
    assert!(!err.is_transient());
    // The key never leaks into error text.
    assert!(!format!("{err} {err:?}").contains(KEY));
}

#[tokio::test]
async fn slow_server_times_out_as_transient_error() {
    let server =
        chat_server(completion(&valid_analysis_json()).set_delay(Duration::from_secs(3))).await;

    let mut config = chat_config(&server);
    config.timeout = Duration::from_millis(200);
    let client = ChatClient::new(config).unwrap();

    let started = Instant::now();
    let err = client.analyse("Ana: hola", "es").await.unwrap_err();
    let elapsed = started.elapsed();

    assert!(matches!(err, AiError::Http(_)), "{err:?}");
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.is_transient());
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    assert!(!format!("{err} {err:?}").contains(KEY));
}

// ---------------------------------------------------------------------------
// translate
// ---------------------------------------------------------------------------

#[tokio::test]
async fn translate_returns_the_translation() {
    let server = chat_server(completion("  Ana: Hello, good morning.\n")).await;

    let out = chat_client(&server)
        .translate("Ana: Hola, buenos días.", "English")
        .await
        .unwrap();
    assert_eq!(out, "Ana: Hello, good morning.");

    let received = requests(&server).await;
    assert_eq!(received.len(), 1);
    let body = body_json(&received[0]);
    assert!(body.get("response_format").is_none());
    assert_eq!(body["model"], "test-model");
    let system = body["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("into English"), "{system}");
    assert_eq!(body["messages"][1]["content"], "Ana: Hola, buenos días.");
}

#[tokio::test]
async fn translate_splits_long_text_and_joins_in_order() {
    // Echo "translator": upper-cases whatever it is sent, so order and joins
    // are visible in the result.
    let server = chat_server(|r: &Request| {
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        let text = body["messages"][1]["content"].as_str().unwrap();
        completion(&text.to_uppercase())
    })
    .await;

    let mut config = chat_config(&server);
    config.max_translate_chunk_chars = 60;
    let lines: Vec<String> = (1..=12)
        .map(|i| format!("línea {i}: señal número {i} ñandú"))
        .collect();
    let text = lines.join("\n");

    let out = ChatClient::new(config)
        .unwrap()
        .translate(&text, "English")
        .await
        .unwrap();
    assert_eq!(out, text.to_uppercase());

    let received = requests(&server).await;
    assert!(received.len() > 1, "only {} request(s)", received.len());
    let mut sent_lines = Vec::new();
    for request in &received {
        let body = body_json(request);
        let chunk = body["messages"][1]["content"].as_str().unwrap();
        assert!(chunk.chars().count() <= 60, "chunk too long: {chunk:?}");
        sent_lines.extend(chunk.lines().map(str::to_string));
    }
    // Whole lines, each sent once, in order.
    assert_eq!(sent_lines, lines);
}

// ---------------------------------------------------------------------------
// speech-to-text
// ---------------------------------------------------------------------------

fn stt_config(server: &MockServer, key: Option<&str>) -> SttConfig {
    let mut config = SttConfig::new(Url::parse(&format!("{}/v1", server.uri())).unwrap());
    config.api_key = key.map(SecretString::from);
    config.timeout = Duration::from_secs(10);
    config
}

fn verbose_json() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "task": "transcribe",
        "language": "spanish",
        "duration": 5.125,
        "text": "Hola, buenos días. ¿En qué puedo ayudarle?",
        "segments": [
            {"id": 0, "start": 0.0, "end": 2.5, "text": " Hola, buenos días.", "speaker": "Ana"},
            {"id": 1, "start": 2.5, "end": 5.125, "text": " ¿En qué puedo ayudarle?"}
        ]
    }))
}

/// An audio file large enough to be streamed in many reads.
fn audio_bytes() -> Vec<u8> {
    (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test]
async fn stt_uploads_multipart_and_maps_segments_to_cues() {
    let server = MockServer::start().await;
    stt_mock()
        .respond_with(verbose_json())
        .expect(1)
        .mount(&server)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let audio_path = dir.path().join("call.mp3");
    let audio = audio_bytes();
    std::fs::write(&audio_path, &audio).unwrap();

    let client = SttClient::new(stt_config(&server, Some(KEY))).unwrap();
    let transcript = client.transcribe(&audio_path, Some("es-ES")).await.unwrap();

    assert_eq!(
        transcript.cues,
        vec![
            Cue {
                start_ms: 0,
                end_ms: 2_500,
                speaker: Some("Ana".into()),
                text: "Hola, buenos días.".into(),
            },
            Cue {
                start_ms: 2_500,
                end_ms: 5_125,
                speaker: None,
                text: "¿En qué puedo ayudarle?".into(),
            },
        ]
    );

    let received = requests(&server).await;
    assert_eq!(received.len(), 1);
    let request = &received[0];
    let content_type = header(request, "content-type").unwrap();
    assert!(
        content_type.starts_with("multipart/form-data; boundary="),
        "{content_type}"
    );
    assert_eq!(
        header(request, "authorization"),
        Some("Bearer sk-test-secret-123")
    );
    // Streamed with a known length, so the upload is not chunked.
    assert_eq!(
        header(request, "content-length"),
        Some(request.body.len().to_string().as_str())
    );

    let body = &request.body;
    for field in [
        "name=\"model\"\r\n\r\nwhisper-1\r\n",
        "name=\"response_format\"\r\n\r\nverbose_json\r\n",
        "name=\"timestamp_granularities[]\"\r\n\r\nsegment\r\n",
        "name=\"language\"\r\n\r\nes\r\n",
    ] {
        assert!(find(body, field.as_bytes()).is_some(), "missing {field:?}");
    }
    let file_header = b"name=\"file\"; filename=\"call.mp3\"\r\nContent-Type: audio/mpeg\r\n\r\n";
    let start = find(body, file_header).expect("file part header") + file_header.len();
    assert_eq!(&body[start..start + audio.len()], &audio[..]);
    assert_eq!(&body[start + audio.len()..start + audio.len() + 2], b"\r\n");
}

#[tokio::test]
async fn stt_without_key_sends_no_authorization_and_no_language() {
    let server = MockServer::start().await;
    stt_mock()
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "text": "Solo texto, sin segmentos.",
            "duration": 3.2
        })))
        .mount(&server)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let audio_path = dir.path().join("call.wav");
    std::fs::write(&audio_path, b"RIFF....WAVEfmt ").unwrap();

    let output = SttClient::new(stt_config(&server, None))
        .unwrap()
        .transcribe_detailed(&audio_path, None)
        .await
        .unwrap();
    assert_eq!(
        output.transcript.cues,
        vec![Cue {
            start_ms: 0,
            end_ms: 3_200,
            speaker: None,
            text: "Solo texto, sin segmentos.".into(),
        }]
    );
    assert_eq!(output.duration_seconds, Some(3.2));

    let received = requests(&server).await;
    assert_eq!(received.len(), 1);
    assert!(received[0].headers.get("authorization").is_none());
    let body = &received[0].body;
    assert!(find(body, b"Content-Type: audio/wav\r\n").is_some());
    assert!(find(body, b"name=\"language\"").is_none());
    assert!(find(body, b"RIFF....WAVEfmt ").is_some());
}

#[tokio::test]
async fn stt_errors_are_classified() {
    let server = MockServer::start().await;
    stt_mock()
        .respond_with(ResponseTemplate::new(503).set_body_string("busy"))
        .mount(&server)
        .await;
    let client = SttClient::new(stt_config(&server, Some(KEY))).unwrap();
    let dir = tempfile::tempdir().unwrap();

    let audio_path = dir.path().join("x.mp3");
    std::fs::write(&audio_path, b"ID3").unwrap();
    let err = client.transcribe(&audio_path, None).await.unwrap_err();
    assert!(matches!(&err, AiError::Status { status, .. } if status.as_u16() == 503));
    assert!(err.is_transient());

    // A missing file fails locally, permanently, without a request.
    let err = client
        .transcribe(&dir.path().join("missing.mp3"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, AiError::Io(_)), "{err:?}");
    assert!(!err.is_transient());
    assert_eq!(requests(&server).await.len(), 1);
}
