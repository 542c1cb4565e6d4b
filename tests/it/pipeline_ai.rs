//! The pipeline's LLM, translation and speech-to-text paths end to end: a fake Webex and a fake
//! OpenAI-compatible server (both wiremock), SQLite and the embedded queue.

use std::sync::Arc;
use std::time::Duration;

use call_analysis::redact::RedactKinds;
use call_analysis::{SentimentLabel, SummarySource};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use url::Url;
use webex_recordings::ai::{ChatClient, ChatConfig, SttClient, SttConfig};
use webex_recordings::domain::{
    MessageSource, ProcessingStatus, QueueMessage, Recording, RecordingEvent, RecordingId,
};
use webex_recordings::pipeline::{Pipeline, PipelineDeps, PipelineSettings, run_consumer};
use webex_recordings::queue::embedded::{EmbeddedQueue, EmbeddedSettings};
use webex_recordings::queue::{Consumer, Publisher};
use webex_recordings::retry::RetryPolicy;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::fake_webex::*;
use crate::support::{Db, TestDb};

const KEY: &str = "sk-pipeline-key-42";
const MODEL: &str = "fake-model-7";
pub(crate) const CHAT_PATH: &str = "/v1/chat/completions";
const STT_PATH: &str = "/v1/audio/transcriptions";

const STT_SEGMENTS: [&str; 3] = [
    "Hola, buenos días. Llamo porque la factura de este mes tiene un error importante.",
    "Lo siento mucho, vamos a revisar la factura ahora mismo y le enviaremos una corrección.",
    "Perfecto, muchas gracias por la ayuda. Espero el correo con la factura corregida mañana.",
];

const TRANSLATION: &str = "Ana García: Good morning, the invoice this month has an important error.\nCarlos Ruiz: We will check the invoice right now.";

// ---------------------------------------------------------------------------
// Fake Webex (as in pipeline.rs)
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// Fake OpenAI-compatible server
// ---------------------------------------------------------------------------

pub(crate) fn chat_client(ai: &MockServer, timeout: Duration) -> ChatClient {
    let base = Url::parse(&format!("{}/v1", ai.uri())).unwrap();
    let mut config = ChatConfig::new(base, SecretString::from(KEY), MODEL);
    config.timeout = timeout;
    ChatClient::new(config).unwrap()
}

fn stt_client(ai: &MockServer) -> SttClient {
    let mut config = SttConfig::new(Url::parse(&format!("{}/v1", ai.uri())).unwrap());
    config.timeout = Duration::from_secs(10);
    SttClient::new(config).unwrap()
}

pub(crate) fn completion(content: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": MODEL,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"
        }]
    }))
}

fn analysis_json() -> String {
    json!({
        "summary": "Ana llamó por un error en la factura; Carlos la revisará y enviará una corrección.",
        "bullet_points": ["Error en la factura del mes", "Se enviará una factura corregida"],
        "key_topics": ["facturación", "corrección"],
        "action_items": ["Enviar la factura corregida mañana"],
        "sentiment": {"score": 0.4, "label": "positive"}
    })
    .to_string()
}

fn body_json(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

/// An analysis request asks for JSON mode; a translation request does not.
fn is_analysis(request: &Request) -> bool {
    serde_json::from_slice::<Value>(&request.body)
        .is_ok_and(|b| b["response_format"]["type"] == "json_object")
}

fn is_translation(request: &Request) -> bool {
    serde_json::from_slice::<Value>(&request.body).is_ok_and(|b| {
        b.get("response_format").is_none_or(Value::is_null)
            && b["messages"][0]["content"]
                .as_str()
                .is_some_and(|s| s.contains("translator"))
    })
}

pub(crate) async fn requests_to(server: &MockServer, wanted: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == wanted)
        .collect()
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------------------
// Running the pipeline
// ---------------------------------------------------------------------------

pub(crate) struct Setup {
    pub(crate) chat: Option<ChatClient>,
    pub(crate) stt: Option<SttClient>,
    pub(crate) translate_to: Option<String>,
}

/// An LLM server that answers every chat with a valid analysis.
async fn analysing_llm() -> MockServer {
    let ai = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(CHAT_PATH))
        .respond_with(completion(&analysis_json()))
        .mount(&ai)
        .await;
    ai
}

/// The pipeline with the LLM at `ai`, no speech-to-text, no translation.
fn llm_setup(ai: &MockServer) -> Setup {
    Setup {
        chat: Some(chat_client(ai, Duration::from_secs(10))),
        stt: None,
        translate_to: None,
    }
}

fn created(id: &str) -> QueueMessage {
    QueueMessage::new(
        MessageSource::Webhook,
        RecordingEvent::Created,
        RecordingId::parse(id).unwrap(),
        Some("org-1".into()),
        None,
    )
}

/// Processes `recs` through the embedded queue on SQLite and returns the stored rows.
async fn process(recs: &[FakeRecording], setup: Setup) -> Vec<Recording> {
    let db = TestDb::new(Db::Sqlite).await;
    let data = tempfile::tempdir().unwrap();
    process_in(recs, setup, RedactKinds::default(), &db, data.path()).await
}

/// As [`process`], with the database and `DATA_DIR` given, so a test can look at the files.
pub(crate) async fn process_in(
    recs: &[FakeRecording],
    setup: Setup,
    redact: RedactKinds,
    db: &TestDb,
    data_dir: &std::path::Path,
) -> Vec<Recording> {
    let store = db.store.clone();
    let server = fake_webex().await;
    let queue = Arc::new(EmbeddedQueue::new(
        store.clone(),
        EmbeddedSettings {
            lease: Duration::from_secs(5),
            poll_interval: Duration::from_millis(50),
        },
    ));
    for r in recs {
        r.mount(&server).await;
        queue.publish(&created(r.id)).await.unwrap();
    }
    let pipeline = Arc::new(Pipeline::new(PipelineDeps {
        store: store.clone(),
        webex: webex(&server),
        storage: webex_recordings::storage::Storage::local(data_dir.to_path_buf()),
        chat: setup.chat,
        stt: setup.stt,
        summary_language: "es".into(),
        translate_to: setup.translate_to,
        redact,
        settings: PipelineSettings {
            heartbeat: Duration::from_millis(100),
            stale_after: Duration::from_secs(5),
            retry: RetryPolicy {
                base_delay: Duration::from_millis(50),
                max_delay: Duration::from_millis(200),
                ..PipelineSettings::default().retry
            },
            ..PipelineSettings::default()
        },
    }));
    let cancel = CancellationToken::new();
    let consumer: Arc<dyn Consumer> = queue;
    let task = tokio::spawn(run_consumer(consumer, pipeline, 2, cancel.clone()));
    for r in recs {
        wait_final(&store, r.id, Duration::from_secs(60)).await;
    }
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(20), task)
        .await
        .expect("consumer stops")
        .expect("consumer task ends cleanly");

    let mut out = Vec::new();
    for r in recs {
        out.push(stored(&store, r.id).await);
    }
    out
}

fn assert_completed(rec: &Recording) {
    assert_eq!(
        rec.processing_status,
        ProcessingStatus::Completed,
        "{:?}",
        rec.processing_errors
    );
    assert!(
        rec.processing_errors.is_empty(),
        "{:?}",
        rec.processing_errors
    );
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_analysis_is_stored_with_model_key_and_json_mode() {
    let ai = analysing_llm().await;
    let recs = [FakeRecording::new(ES_ID, Some(ES_VTT))];
    let setup = llm_setup(&ai);
    let rec = &process(&recs, setup).await[0];

    assert_completed(rec);
    assert_eq!(rec.summary_source, Some(SummarySource::Llm));
    assert_eq!(
        rec.summary_text.as_deref(),
        Some("Ana llamó por un error en la factura; Carlos la revisará y enviará una corrección.")
    );
    assert_eq!(
        rec.summary_bullet_points,
        [
            "Error en la factura del mes",
            "Se enviará una factura corregida"
        ]
    );
    assert_eq!(rec.key_topics, ["facturación", "corrección"]);
    assert_eq!(rec.action_items, ["Enviar la factura corregida mañana"]);
    let sentiment = rec.sentiment.clone().expect("sentiment");
    assert_eq!(
        (sentiment.score, sentiment.label),
        (0.4, SentimentLabel::Positive)
    );
    assert!(rec.translated_text.is_none());

    let chats = requests_to(&ai, CHAT_PATH).await;
    assert_eq!(chats.len(), 1);
    let req = &chats[0];
    assert_eq!(
        req.headers
            .get("authorization")
            .map(|v| v.to_str().unwrap()),
        Some(format!("Bearer {KEY}").as_str())
    );
    let body = body_json(req);
    assert_eq!(body["model"], MODEL);
    assert_eq!(body["response_format"]["type"], "json_object");
    // The transcript went to the model.
    assert!(
        body.to_string().contains("la factura de este mes"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_llm_json_is_retried_once_then_stored() {
    let ai = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(CHAT_PATH))
        .respond_with(completion("this is not json at all"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&ai)
        .await;
    Mock::given(method("POST"))
        .and(path(CHAT_PATH))
        .respond_with(completion(&analysis_json()))
        .with_priority(2)
        .mount(&ai)
        .await;
    let recs = [FakeRecording::new(ES_ID, Some(ES_VTT))];
    let setup = llm_setup(&ai);
    let rec = &process(&recs, setup).await[0];

    assert_completed(rec);
    assert_eq!(rec.summary_source, Some(SummarySource::Llm));
    assert_eq!(rec.key_topics, ["facturación", "corrección"]);
    assert_eq!(requests_to(&ai, CHAT_PATH).await.len(), 2);
}

async fn assert_local_fallback(ai: &MockServer, timeout: Duration) {
    let recs = [FakeRecording::new(ES_ID, Some(ES_VTT))];
    let setup = Setup {
        chat: Some(chat_client(ai, timeout)),
        stt: None,
        translate_to: None,
    };
    let rec = &process(&recs, setup).await[0];

    assert_completed(rec);
    assert!(
        rec.processing_steps_completed
            .iter()
            .any(|s| s == "analysis")
    );
    assert_eq!(rec.summary_source, Some(SummarySource::Local));
    let summary = rec.summary_text.as_deref().unwrap_or_default();
    assert!(!summary.trim().is_empty());
    let transcript = rec.transcript_text.as_deref().unwrap();
    // The local summary is made of the call's own words.
    assert!(
        summary
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() > 4)
            .any(|w| transcript.contains(w)),
        "summary {summary:?} not from transcript {transcript:?}"
    );
    assert!(rec.sentiment.is_some());
    assert!(!requests_to(ai, CHAT_PATH).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_server_error_falls_back_to_local_analysis() {
    let ai = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(CHAT_PATH))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .mount(&ai)
        .await;
    assert_local_fallback(&ai, Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_timeout_falls_back_to_local_analysis() {
    let ai = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(CHAT_PATH))
        .respond_with(completion(&analysis_json()).set_delay(Duration::from_secs(3)))
        .mount(&ai)
        .await;
    assert_local_fallback(&ai, Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn translate_to_translates_spanish_but_not_english() {
    let ai = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(CHAT_PATH))
        .and(is_analysis)
        .respond_with(completion(&analysis_json()))
        .mount(&ai)
        .await;
    Mock::given(method("POST"))
        .and(path(CHAT_PATH))
        .and(is_translation)
        .respond_with(completion(TRANSLATION))
        .mount(&ai)
        .await;
    let recs = [
        FakeRecording::new(ES_ID, Some(ES_VTT)),
        FakeRecording::new(EN_ID, Some(EN_VTT)),
    ];
    let setup = Setup {
        chat: Some(chat_client(&ai, Duration::from_secs(10))),
        stt: None,
        translate_to: Some("en".into()),
    };
    let out = process(&recs, setup).await;
    let (es, en) = (&out[0], &out[1]);

    assert_completed(es);
    assert_eq!(es.detected_language.as_deref(), Some("es"));
    assert_eq!(es.translated_text.as_deref(), Some(TRANSLATION));
    assert!(
        es.processing_steps_completed
            .iter()
            .any(|s| s == "translation"),
        "{:?}",
        es.processing_steps_completed
    );

    assert_completed(en);
    assert_eq!(en.detected_language.as_deref(), Some("en"));
    assert!(en.translated_text.is_none());
    assert!(
        !en.processing_steps_completed
            .iter()
            .any(|s| s == "translation")
    );

    let chats = requests_to(&ai, CHAT_PATH).await;
    let translations: Vec<&Request> = chats.iter().filter(|r| is_translation(r)).collect();
    // Only the Spanish call is translated, and each call is sent once: every request is paid.
    assert_eq!(translations.len(), 1, "one translation");
    let body = body_json(translations[0]).to_string();
    assert!(body.contains("la factura de este mes"), "{body}");
    assert!(!body.contains("office chairs"), "{body}");
    assert_eq!(chats.iter().filter(|r| is_analysis(r)).count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_without_webex_transcript_is_transcribed_by_stt() {
    let ai = MockServer::start().await;
    let segments: Vec<Value> = STT_SEGMENTS
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let start = i as f64 * 5.0;
            json!({"id": i, "start": start, "end": start + 4.5, "text": format!(" {t}")})
        })
        .collect();
    Mock::given(method("POST"))
        .and(path(STT_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "task": "transcribe",
            "language": "spanish",
            "duration": 16.0,
            "text": STT_SEGMENTS.join(" "),
            "segments": segments,
        })))
        .mount(&ai)
        .await;
    let recs = [FakeRecording::new(NT_ID, None)];
    let setup = Setup {
        chat: None,
        stt: Some(stt_client(&ai)),
        translate_to: None,
    };
    let rec = &process(&recs, setup).await[0];

    assert_completed(rec);
    assert!(!rec.has_webex_transcript);
    assert_eq!(rec.transcript_source.as_deref(), Some("whisper"));
    let text = rec.transcript_text.as_deref().unwrap();
    for segment in STT_SEGMENTS {
        assert!(text.contains(segment), "{segment:?} missing from {text:?}");
    }
    assert_eq!(rec.transcript_cues.as_ref().map(|t| t.cues.len()), Some(3));
    assert!(rec.call_metrics.is_some());
    assert_eq!(rec.summary_source, Some(SummarySource::Local));

    let uploads = requests_to(&ai, STT_PATH).await;
    assert_eq!(uploads.len(), 1);
    let upload = &uploads[0];
    let content_type = upload
        .headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("multipart/form-data"),
        "{content_type}"
    );
    assert!(find(&upload.body, &recs[0].audio), "audio bytes uploaded");
    assert!(find(&upload.body, b"verbose_json"));
}

/// A finished record the database refuses once is stored at the next try, in place: the call is
/// not run again, so its AI requests are not paid twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_refused_once_is_tried_again_without_running_the_call_again() {
    let ai = analysing_llm().await;
    let db = TestDb::new(Db::Postgres).await;
    sqlx::any::install_default_drivers();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    // A sequence counts the tries: unlike a table, it keeps counting through a rollback.
    sqlx::raw_sql(
        "CREATE SEQUENCE save_tries; \
         CREATE FUNCTION refuse_first_save() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
           IF nextval('save_tries') = 1 THEN RAISE EXCEPTION 'refused for the test'; END IF; \
           RETURN NEW; \
         END $$; \
         CREATE TRIGGER refuse_first_save BEFORE UPDATE ON recordings FOR EACH ROW \
           WHEN (NEW.processing_status = 'completed') EXECUTE FUNCTION refuse_first_save();",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let recs = [FakeRecording::new(ES_ID, Some(ES_VTT))];
    let setup = llm_setup(&ai);
    let rec = &process_in(&recs, setup, RedactKinds::default(), &db, data.path()).await[0];

    assert_completed(rec);
    let tries: i64 = sqlx::query_scalar("SELECT last_value FROM save_tries")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(tries, 2, "refused once, stored at the second try");
    assert_eq!(requests_to(&ai, CHAT_PATH).await.len(), 1, "one analysis");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_character_from_the_llm_does_not_stop_the_call_being_stored_on_postgres() {
    let ai = MockServer::start().await;
    let analysis = json!({
        "summary": "Error en la fac\u{0}tura.",
        "bullet_points": ["Error\u{0}"],
        "key_topics": ["facturación\u{0}"],
        "action_items": [],
        "sentiment": {"score": 0.1, "label": "neutral"}
    });
    Mock::given(method("POST"))
        .and(path(CHAT_PATH))
        .respond_with(completion(&analysis.to_string()))
        .mount(&ai)
        .await;
    let db = TestDb::new(Db::Postgres).await;
    let data = tempfile::tempdir().unwrap();
    let recs = [FakeRecording::new(ES_ID, Some(ES_VTT))];
    let rec = &process_in(
        &recs,
        llm_setup(&ai),
        RedactKinds::default(),
        &db,
        data.path(),
    )
    .await[0];
    assert_completed(rec);
    assert_eq!(rec.summary_text.as_deref(), Some("Error en la factura."));
    assert_eq!(rec.key_topics, ["facturación"]);
    assert_eq!(requests_to(&ai, CHAT_PATH).await.len(), 1, "stored at once");
}
