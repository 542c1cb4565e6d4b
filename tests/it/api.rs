//! REST API end to end: a real listener with connect info, a real store, the embedded queue,
//! and a fake Webex (wiremock).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use call_analysis::{Sentiment, SentimentLabel};
use chrono::{TimeZone, Utc};
use serde_json::Value;
use webex_recordings::config::Config;
use webex_recordings::domain::{ProcessingStatus, Recording, RecordingId};
use webex_recordings::http::{AppState, router};
use webex_recordings::queue::Publisher;
use webex_recordings::queue::embedded::{EmbeddedQueue, EmbeddedSettings};
use wiremock::matchers::body_partial_json;
use wiremock::{MockServer, ResponseTemplate};

use crate::fake_webex::on;
use crate::support::{BOTH, Db, TestDb};

const AUDIO_LEN: usize = 1000;

/// id, day of March 2025, status, sentiment, topics, quality.
type Spec = (
    &'static str,
    u32,
    ProcessingStatus,
    Option<SentimentLabel>,
    &'static [&'static str],
    Option<f64>,
);

fn audio_bytes() -> Vec<u8> {
    (0..AUDIO_LEN).map(|i| (i % 251) as u8).collect()
}

struct App {
    base: String,
    http: reqwest::Client,
    db: TestDb,
    queue: EmbeddedQueue,
    data: tempfile::TempDir,
}

#[derive(Default)]
struct Opts {
    env: Vec<(&'static str, String)>,
    webex: Option<String>,
}

async fn spawn(db: Db, opts: Opts) -> App {
    let db = TestDb::new(db).await;
    let data = tempfile::tempdir().expect("temp dir");
    let mut env: HashMap<&str, String> = opts.env.into_iter().collect();
    env.insert("DATA_DIR", data.path().display().to_string());
    if let Some(w) = &opts.webex {
        env.entry("WEBEX_API_URL").or_insert_with(|| w.clone());
    }
    let config = Config::from_lookup(|k| env.get(k).cloned()).expect("config");
    let webex = opts.webex.map(|base| crate::fake_webex::webex_at(&base, 1));
    let queue = EmbeddedQueue::new(db.store.clone(), EmbeddedSettings::default());
    let storage = webex_recordings::storage::Storage::from_config(&config).expect("storage");
    let state = AppState {
        config: Arc::new(config),
        store: db.store.clone(),
        publisher: Arc::new(queue.clone()),
        webex,
        storage,
        metrics: None,
        auth_failures: Default::default(),
        tasks: Default::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    App {
        base: format!("http://{addr}"),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        db,
        queue,
        data,
    }
}

impl App {
    fn url(&self, p: &str) -> String {
        format!("{}{p}", self.base)
    }
    async fn get(&self, p: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, p).await
    }
    async fn send(&self, method: reqwest::Method, p: &str) -> reqwest::Response {
        self.http
            .request(method, self.url(p))
            .send()
            .await
            .expect("request")
    }
    /// Puts r1 under legal hold for `reason`.
    async fn hold_r1(&self, reason: &str) -> reqwest::Response {
        self.http
            .put(self.url("/api/v1/recordings/r1/hold"))
            .json(&serde_json::json!({ "reason": reason }))
            .send()
            .await
            .expect("request")
    }
    async fn json(&self, p: &str) -> (u16, Value) {
        let r = self.get(p).await;
        let s = r.status().as_u16();
        (s, r.json().await.expect("json body"))
    }
    fn audio_path(&self, name: &str) -> PathBuf {
        self.data.path().join("recordings/2025/03/01").join(name)
    }

    /// r1..r4, newest r4. r1 has an mp3 on disk, r2 a wav.
    async fn seed(&self) {
        let dir = self.audio_path("");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(self.audio_path("r1.mp3"), audio_bytes()).expect("write");
        std::fs::write(self.audio_path("r2.wav"), vec![7u8; 500]).expect("write");
        let specs: [Spec; 4] = [
            (
                "r1",
                1,
                ProcessingStatus::Completed,
                Some(SentimentLabel::Negative),
                &["billing", "refund"],
                Some(1.0),
            ),
            (
                "r2",
                2,
                ProcessingStatus::Completed,
                Some(SentimentLabel::Positive),
                &["billing"],
                Some(0.5),
            ),
            (
                "r3",
                3,
                ProcessingStatus::Failed,
                Some(SentimentLabel::Negative),
                &["refund", "shipping"],
                Some(0.0),
            ),
            ("r4", 4, ProcessingStatus::Pending, None, &[], None),
        ];
        for (id, day, status, label, topics, quality) in specs {
            let mut r = Recording::pending(RecordingId::parse(id).expect("id"), Utc::now());
            r.timestamp = Some(Utc.with_ymd_and_hms(2025, 3, day, 10, 0, 0).unwrap());
            r.processing_status = status;
            r.sentiment = label.map(|label| Sentiment { score: 0.0, label }.into());
            r.key_topics = topics.iter().map(|s| s.to_string()).collect();
            r.quality_score = quality;
            match id {
                "r1" => {
                    r.audio_local_path = Some(self.audio_path("r1.mp3").display().to_string());
                    r.audio_format = Some("mp3".into());
                    r.audio_size_bytes = Some(AUDIO_LEN as i64);
                    r.audio_sha256 = Some("ab12cd".into());
                    r.transcript_text = Some("hello".into());
                    r.summary_text = Some("a call".into());
                    r.duration = Some(180.5);
                }
                "r2" => {
                    r.audio_local_path = Some(self.audio_path("r2.wav").display().to_string());
                    r.audio_format = Some("wav".into());
                    r.audio_size_bytes = Some(500);
                    r.transcript_text = Some("hi".into());
                    r.summary_text = Some("another".into());
                }
                "r3" => r.audio_size_bytes = Some(2 * 1024 * 1024),
                _ => {}
            }
            self.db.store.upsert_recording(&r).await.expect("upsert");
        }
    }
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["recordingId"].as_str().expect("id").to_string())
        .collect()
}

async fn assert_bad_request(app: &App, p: &str) {
    let (s, body) = app.json(p).await;
    assert_eq!(s, 400, "{p}: {body}");
    assert_eq!(body["error"], "bad_request", "{p}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

#[tokio::test]
async fn list_filters_pagination_and_stats_on_both_backends() {
    for db in BOTH {
        let app = spawn(db, Opts::default()).await;
        app.seed().await;
        for p in ["/api/v1/recordings", "/api/v1/recordings/"] {
            let (s, body) = app.json(p).await;
            assert_eq!(s, 200, "{db:?} {p}");
            assert_eq!(body["total"], 4);
            assert_eq!(body["skip"], 0);
            assert_eq!(body["limit"], 50);
            assert_eq!(ids(&body), ["r4", "r3", "r2", "r1"]);
        }
        assert_eq!(app.json("/api/v1/recordings/r1").await.1["duration"], 180.5);
        let (_, body) = app.json("/api/v1/recordings/?skip=1&limit=2").await;
        assert_eq!(
            (body["total"].as_u64(), body["limit"].as_u64()),
            (Some(4), Some(2))
        );
        assert_eq!(ids(&body), ["r3", "r2"]);
        let (_, body) = app.json("/api/v1/recordings/?skip=10").await;
        assert_eq!(body["total"], 4);
        assert!(ids(&body).is_empty());
        let (_, body) = app.json("/api/v1/recordings/?status=completed").await;
        assert_eq!(body["total"], 2);
        assert_eq!(ids(&body), ["r2", "r1"]);
        let (_, body) = app
            .json("/api/v1/recordings/?from_date=2025-03-02&to_date=2025-03-03")
            .await;
        assert_eq!(ids(&body), ["r3", "r2"]);
        let (_, body) = app
            .json("/api/v1/recordings/?from_date=2025-03-02T10:00:01Z&status=failed")
            .await;
        assert_eq!(ids(&body), ["r3"]);
        for bad in [
            "limit=501",
            "limit=0",
            "limit=abc",
            "skip=-1",
            "status=bogus",
            "from_date=yesterday",
            "to_date=2025-02-30",
            &format!("q={}", "palabra%20".repeat(126)),
            &format!("participant={}", "x".repeat(201)),
            &format!("tracker={}", "x".repeat(201)),
        ] {
            assert_bad_request(&app, &format!("/api/v1/recordings/?{bad}")).await;
        }
        // At the limit, a search.
        let (s, _) = app
            .json(&format!("/api/v1/recordings/?q={}", "x".repeat(1000)))
            .await;
        assert_eq!(s, 200);
        // A window that ends before it starts is empty, not an error.
        let (s, body) = app
            .json("/api/v1/recordings/?from_date=2025-03-05&to_date=2025-03-01")
            .await;
        assert_eq!((s, body["total"].as_u64()), (200, Some(0)));

        // Deleted and purged recordings: only when asked for by status, and only in by_status.
        for (id, status) in [
            ("gone1", ProcessingStatus::Deleted),
            ("gone2", ProcessingStatus::Purged),
        ] {
            let mut r = Recording::pending(RecordingId::parse(id).expect("id"), Utc::now());
            r.processing_status = status;
            r.transcript_text = Some("still here".into());
            r.audio_size_bytes = Some(5 * 1024 * 1024);
            r.quality_score = Some(1.0);
            app.db.store.upsert_recording(&r).await.expect("upsert");
        }
        let (_, body) = app.json("/api/v1/recordings/").await;
        assert_eq!(body["total"], 4, "{db:?}");
        assert_eq!(ids(&body), ["r4", "r3", "r2", "r1"]);
        for status in ["deleted", "purged"] {
            let (_, body) = app
                .json(&format!("/api/v1/recordings/?status={status}"))
                .await;
            assert_eq!(body["total"], 1, "{db:?} {status}");
        }

        let (s, stats) = app.json("/api/v1/recordings/stats/summary").await;
        assert_eq!(s, 200);
        assert_eq!(stats["total_recordings"], 4, "{db:?} {stats}");
        assert_eq!(
            stats["by_status"],
            serde_json::json!({"completed": 2, "failed": 1, "pending": 1, "processing": 0,
                "partial": 0, "deleted": 1, "purged": 1})
        );
        assert_eq!(stats["with_transcripts"], 2);
        assert_eq!(stats["with_summaries"], 2);
        let avg = stats["average_quality_score"].as_f64().expect("avg");
        assert!((avg - 0.5).abs() < 1e-9, "{avg}");
        // (1000 + 500 + 2 MiB) bytes = 2.0014 MiB, two decimals.
        assert_eq!(stats["total_storage_mb"].as_f64(), Some(2.0));
        assert_eq!(stats["dead_lettered"], 0);
    }
}

#[tokio::test]
async fn q_searches_ranks_and_highlights_and_filters_narrow_it() {
    for db in BOTH {
        let app = spawn(db, Opts::default()).await;
        app.seed().await;
        let (s, body) = app.json("/api/v1/recordings/?q=REFUND").await;
        assert_eq!(s, 200, "{db:?}: {body}");
        assert_eq!(body["total"], 2);
        // Same relevance (one topic each): newest first.
        assert_eq!(ids(&body), ["r3", "r1"], "{db:?}");
        assert!(
            body["items"][0]["highlight"]
                .as_str()
                .is_some_and(|h| h.contains("<mark>refund</mark>")),
            "{db:?}: {body}"
        );
        let (_, body) = app
            .json("/api/v1/recordings/?q=refund&sentiment=negative&status=failed")
            .await;
        assert_eq!(ids(&body), ["r3"], "{db:?}");
        // The console's form sends unfilled fields empty; an API client doing so is told.
        let (status, body) = app.json("/api/v1/recordings/?q=refund&language=").await;
        assert_eq!(status, 400, "{db:?}: {body}");
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("language"))
        );
        let (_, body) = app.json("/api/v1/recordings/?q=billing%20refund").await;
        assert_eq!(ids(&body), ["r1"], "{db:?}");
        let (_, body) = app.json("/api/v1/recordings/?sentiment=positive").await;
        assert_eq!(ids(&body), ["r2"], "{db:?}");
        assert!(body["items"][0].get("highlight").is_none(), "only with q");
        for (bad, name) in [
            ("sentiment=angry", "sentiment"),
            ("language=spanish", "language"),
            ("min_duration=abc", "min_duration"),
            ("max_duration=-1", "max_duration"),
        ] {
            let (s, body) = app.json(&format!("/api/v1/recordings/?{bad}")).await;
            assert_eq!(s, 400, "{bad}");
            let detail = body["detail"].as_str().unwrap_or_default();
            assert!(detail.starts_with(name), "{bad}: {detail}");
        }
    }
}

/// The API on SQLite behind `API_TOKEN=s3cret-token`.
async fn spawn_with_api_token() -> App {
    spawn(
        Db::Sqlite,
        Opts {
            env: vec![("API_TOKEN", "s3cret-token".into())],
            ..Default::default()
        },
    )
    .await
}

#[tokio::test]
async fn api_token_is_required_when_set_and_loopback_passes_when_unset() {
    let app = spawn_with_api_token().await;
    let p = app.url("/api/v1/recordings/");
    let r = app.http.get(&p).send().await.expect("req");
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "unauthorized");
    for wrong in [
        "Bearer s3cret-toke",
        "Bearer s3cret-token2",
        "Basic s3cret-token",
    ] {
        let r = app
            .http
            .get(&p)
            .header("Authorization", wrong)
            .send()
            .await
            .expect("req");
        assert_eq!(r.status(), 401, "{wrong}");
    }
    let r = app
        .http
        .get(&p)
        .bearer_auth("s3cret-token")
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), 200);
    // Every /api/v1 route is behind it, the others are not.
    for q in [
        "/api/v1/recordings/stats/summary",
        "/api/v1/openapi.json",
        "/api/v1/recordings/r1",
    ] {
        assert_eq!(app.get(q).await.status(), 401, "{q}");
    }
    assert_eq!(app.get("/healthz").await.status(), 200);

    let open = spawn(Db::Sqlite, Opts::default()).await;
    assert_eq!(open.get("/api/v1/recordings/").await.status(), 200);
}

#[tokio::test]
async fn without_api_token_only_this_machine_asking_directly_is_let_in() {
    let app = spawn(Db::Sqlite, Opts::default()).await;
    let list = app.url("/api/v1/recordings/");
    let port = list
        .split(':')
        .nth(2)
        .and_then(|rest| rest.split('/').next())
        .expect("port");
    let status = |headers: Vec<(&'static str, String)>| {
        let mut request = app.http.get(&list);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        async move { request.send().await.expect("req").status().as_u16() }
    };
    assert_eq!(status(vec![]).await, 200);
    assert_eq!(
        status(vec![("Host", format!("localhost:{port}"))]).await,
        200
    );
    assert_eq!(
        status(vec![("Origin", format!("http://127.0.0.1:{port}"))]).await,
        200
    );
    for refused in [
        // A page whose name was rebound to 127.0.0.1.
        vec![("Host", format!("attacker.example:{port}"))],
        // Another site's script.
        vec![("Origin", "http://attacker.example".to_string())],
        // A proxy on this machine, forwarding a client from anywhere.
        vec![("X-Forwarded-For", "203.0.113.9".to_string())],
        vec![("Forwarded", "for=203.0.113.9".to_string())],
    ] {
        assert_eq!(status(refused.clone()).await, 401, "{refused:?}");
    }
    // HTTP/2 names the host in the request target, not in a Host header.
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("client");
    let r = h2.get(&list).send().await.expect("h2 request");
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_console_session_acts_on_the_api_only_from_the_console_s_own_pages() {
    let app = spawn_with_api_token().await;
    app.seed().await;
    let session = webex_recordings::access::RandomToken::generate("wrs_");
    app.db
        .store
        .create_session(
            &session.hash(),
            &webex_recordings::access::Principal::new(
                "sam",
                webex_recordings::access::Role::Supervisor,
            ),
            None,
        )
        .await
        .expect("session");
    let reprocess = |origin: Option<String>| {
        let mut request = app
            .http
            .post(app.url("/api/v1/recordings/r2/reprocess"))
            .header("cookie", format!("wr_session={}", session.expose()));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        async move { request.send().await.expect("req").status().as_u16() }
    };
    // A page on another port of this host is the same site: the Strict cookie comes along.
    let port = app.base.rsplit(':').next().unwrap_or_default();
    let other_port = format!(
        "http://127.0.0.1:{}",
        port.parse::<u16>().map_or(1, |p| p ^ 1)
    );
    assert_eq!(reprocess(Some(other_port)).await, 403);
    assert_eq!(reprocess(Some("null".into())).await, 403);
    assert_eq!(
        app.queue.depth().await.expect("depth").ready,
        0,
        "nothing queued"
    );
    assert_eq!(reprocess(Some(app.base.clone())).await, 202);
    assert_eq!(reprocess(None).await, 202);
}

#[tokio::test]
async fn a_json_body_over_the_limit_is_413_not_sent_as_json_415_and_changes_nothing() {
    let app = spawn(Db::Sqlite, Opts::default()).await;
    app.seed().await;
    let reason = "x".repeat(3 << 20);
    let big_hold = serde_json::json!({ "reason": reason }).to_string();
    let big_tracker =
        serde_json::json!({"name": "big", "match": "any", "rules": [{"phrase": reason}]})
            .to_string();
    // Small enough, but plain text: JSON it may be, the route reads only what says so.
    let small = r#"{"reason": "case 7", "name": "small", "match": "any", "rules": []}"#;
    let (put, post) = (reqwest::Method::PUT, reqwest::Method::POST);
    let (hold, trackers) = ("/api/v1/recordings/r1/hold", "/api/v1/trackers");
    let (json, text) = ("application/json", "text/plain");
    for (method, path, content_type, body, status, error) in [
        (
            &put,
            hold,
            json,
            big_hold.as_str(),
            413,
            "payload_too_large",
        ),
        (
            &post,
            trackers,
            json,
            &big_tracker,
            413,
            "payload_too_large",
        ),
        (&put, hold, text, small, 415, "unsupported_media_type"),
        (&post, trackers, text, small, 415, "unsupported_media_type"),
    ] {
        let r = app
            .http
            .request(method.clone(), app.url(path))
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .expect("req");
        assert_eq!(r.status(), status, "{path} {content_type}");
        let answer: Value = r.json().await.expect("json");
        assert_eq!(answer["error"], error, "{path} {content_type}");
    }
    let (_, rec) = app.json("/api/v1/recordings/r1").await;
    assert!(rec["legal_hold"].is_null(), "{rec}");
    let (_, trackers) = app.json("/api/v1/trackers").await;
    assert_eq!(trackers["items"], serde_json::json!([]));
}

#[tokio::test]
async fn a_nul_character_in_a_query_is_a_400_naming_the_parameter_on_both_databases() {
    for db in BOTH {
        let app = spawn(db, Opts::default()).await;
        for (query, name) in [
            ("/api/v1/recordings/?participant=%00ana", "participant"),
            ("/api/v1/recordings/?q=factura%00", "q"),
            ("/api/v1/audit?actor=a%00", "actor"),
        ] {
            let (status, body) = app.json(query).await;
            assert_eq!(status, 400, "{db:?} {query}: {body}");
            let detail = body["detail"].as_str().unwrap_or_default();
            assert!(detail.starts_with(name), "{db:?} {query}: {detail}");
        }
        app.seed().await;
        let r = app.hold_r1("case\u{0}7").await;
        assert_eq!(r.status(), 400, "{db:?}");
        let (_, rec) = app.json("/api/v1/recordings/r1").await;
        assert!(rec["legal_hold"].is_null(), "{db:?}: {rec}");
    }
}

/// A hold's reason is kept for ever, in the audit log too: a card number typed into it is
/// redacted; and the time the answer gives is the one every later read gives.
#[tokio::test]
async fn a_hold_reason_is_redacted_and_its_time_read_back_unchanged() {
    let app = spawn(Db::Sqlite, Opts::default()).await;
    app.seed().await;
    let r = app
        .hold_r1("disputa de la tarjeta 4556 7375 8689 9855")
        .await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.expect("json");
    assert_eq!(
        answer["legal_hold"]["reason"],
        "disputa de la tarjeta [CARD]"
    );
    let (_, rec) = app.json("/api/v1/recordings/r1").await;
    assert_eq!(rec["legal_hold"], answer["legal_hold"]);
    let (_, audit) = app.json("/api/v1/audit?action=hold.set").await;
    assert_eq!(audit["items"][0]["detail"], "disputa de la tarjeta [CARD]");
    let csv = app
        .http
        .get(app.url("/api/v1/audit?action=hold.set&format=csv"))
        .send()
        .await
        .expect("req")
        .text()
        .await
        .expect("text");
    let at = audit["items"][0]["at"].as_str().expect("at");
    assert!(
        csv.contains(at),
        "the CSV writes the time as the JSON does: {csv}"
    );
    assert!(!csv.contains("4556"), "{csv}");
}

#[tokio::test]
async fn get_reprocess_and_errors() {
    let app = spawn(Db::Sqlite, Opts::default()).await;
    app.seed().await;
    let (s, body) = app.json("/api/v1/recordings/r1").await;
    assert_eq!(s, 200);
    assert_eq!(body["recordingId"], "r1");
    assert_eq!(body["processing_status"], "completed");
    assert_eq!(body["sentiment"]["label"], "negative");
    for field in [
        "timestamp",
        "audio_local_path",
        "key_topics",
        "quality_score",
        "created_at",
    ] {
        assert!(body.get(field).is_some(), "{field}");
    }
    let (s, body) = app.json("/api/v1/recordings/nope").await;
    assert_eq!((s, body["error"].as_str()), (404, Some("not_found")));
    for bad in ["a.b", "..%2F..%2Fetc", "a%2Fb", "x%20y", "%FF"] {
        assert_bad_request(&app, &format!("/api/v1/recordings/{bad}")).await;
        assert_bad_request(&app, &format!("/api/v1/recordings/download/{bad}/audio")).await;
    }

    let r = app
        .send(reqwest::Method::POST, "/api/v1/recordings/r2/reprocess")
        .await;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.expect("json");
    assert_eq!(
        body,
        serde_json::json!({"queued": true, "recordingId": "r2"})
    );
    assert_eq!(app.queue.depth().await.expect("depth").ready, 1);
    // Unknown, malformed, and (a worker would drop the message) deleted: refused, not queued.
    for (method, path, status) in [
        ("POST", "/api/v1/recordings/zz/reprocess", 404),
        ("POST", "/api/v1/recordings/a.b/reprocess", 400),
        ("DELETE", "/api/v1/recordings/r2", 200),
        ("POST", "/api/v1/recordings/r2/reprocess", 409),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        assert_eq!(app.send(method, path).await.status(), status, "{path}");
    }
    let r = app
        .send(reqwest::Method::POST, "/api/v1/recordings/r2/reprocess")
        .await;
    let body: Value = r.json().await.expect("json");
    assert_eq!(
        body["detail"],
        "recording r2 was deleted; it is not processed again"
    );
    assert_eq!(app.queue.depth().await.expect("depth").ready, 1);

    // Unknown routes and wrong methods answer JSON too.
    let (s, body) = app.json("/api/v1/nothing/here").await;
    assert_eq!((s, body["error"].as_str()), (404, Some("not_found")));
    let r = app
        .send(reqwest::Method::PUT, "/api/v1/recordings/r1")
        .await;
    assert_eq!(r.status(), 405);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "method_not_allowed");
}

/// Webex's answer to the recycle bin (`softDelete`) for one recording id.
async fn mount_soft_delete(webex: &MockServer, id: &str, status: u16) {
    on("POST", "/v1/convergedRecordings/softDelete")
        .and(body_partial_json(serde_json::json!({"recordingIds": [id]})))
        .respond_with(
            ResponseTemplate::new(status).set_body_json(serde_json::json!({"message": "no"})),
        )
        .expect(1)
        .mount(webex)
        .await;
}

/// Webex's answer to the permanent deletion of one recording, which must carry a reason.
async fn mount_permanent_delete(webex: &MockServer, id: &str, status: u16) {
    on("DELETE", format!("/v1/convergedRecordings/{id}"))
        .and(|req: &wiremock::Request| {
            serde_json::from_slice::<Value>(&req.body)
                .is_ok_and(|b| b["reason"].is_string() && b["comment"].is_string())
        })
        .respond_with(
            ResponseTemplate::new(status)
                .set_body_json(serde_json::json!({"message": "not a compliance officer"})),
        )
        .expect(1)
        .mount(webex)
        .await;
}

async fn delete(app: &App, id: &str, at_webex: bool) -> reqwest::Response {
    let p = format!("/api/v1/recordings/{id}?delete_from_webex={at_webex}");
    app.send(reqwest::Method::DELETE, &p).await
}

async fn status_of(app: &App, id: &str) -> Value {
    let (_, body) = app.json(&format!("/api/v1/recordings/{id}")).await;
    body["processing_status"].clone()
}

#[tokio::test]
async fn delete_at_webex_uses_what_the_token_allows_and_marks_the_row_only_after_webex_said_yes() {
    for db in BOTH {
        let webex = MockServer::start().await;
        // r1: a user or admin token, the recycle bin. r2: a compliance officer, whose recycle
        // bin is refused, then the permanent deletion. r3: already gone at Webex. r4: refused.
        mount_soft_delete(&webex, "r1", 204).await;
        mount_soft_delete(&webex, "r2", 403).await;
        mount_permanent_delete(&webex, "r2", 204).await;
        mount_soft_delete(&webex, "r3", 404).await;
        mount_soft_delete(&webex, "r4", 403).await;
        mount_permanent_delete(&webex, "r4", 403).await;
        let app = spawn(
            db,
            Opts {
                webex: Some(format!("{}/v1", webex.uri())),
                ..Default::default()
            },
        )
        .await;
        app.seed().await;

        for (id, how) in [
            ("r1", "recycle_bin"),
            ("r2", "permanent"),
            ("r3", "already_gone"),
        ] {
            let r = delete(&app, id, true).await;
            assert_eq!(r.status(), 200, "{db:?} {id}");
            let body: Value = r.json().await.expect("json");
            assert_eq!(body["deleted_from_webex"], true);
            assert_eq!(body["webex_deletion"], how, "{db:?} {id}");
            assert_eq!(status_of(&app, id).await, "deleted", "{db:?} {id}");
        }

        let r = delete(&app, "r4", true).await;
        assert_eq!(r.status(), 502);
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["error"], "bad_gateway");
        let detail = body["detail"].as_str().expect("detail");
        assert!(
            detail.contains("403") && detail.contains("recordings_write"),
            "{detail}"
        );
        assert_eq!(
            status_of(&app, "r4").await,
            "pending",
            "{db:?}: refused at Webex, kept here"
        );
        webex.verify().await;

        // Only here: Webex is not called.
        let r = delete(&app, "r4", false).await;
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.expect("json");
        assert_eq!(
            (&body["deleted_from_webex"], &body["webex_deletion"]),
            (&Value::Bool(false), &Value::Null)
        );
        let (_, list) = app.json("/api/v1/recordings/?status=deleted").await;
        assert_eq!(ids(&list), ["r4", "r3", "r2", "r1"]);
        assert_eq!(delete(&app, "unknown", false).await.status(), 404);

        // Purged: nothing is left to delete here, and Webex is not asked.
        let mut purged = Recording::pending(RecordingId::parse("r5").expect("id"), Utc::now());
        purged.processing_status = ProcessingStatus::Purged;
        app.db
            .store
            .upsert_recording(&purged)
            .await
            .expect("upsert");
        on("POST", "/v1/convergedRecordings/softDelete")
            .respond_with(ResponseTemplate::new(204))
            .expect(0)
            .mount(&webex)
            .await;
        for at_webex in [true, false] {
            let r = delete(&app, "r5", at_webex).await;
            assert_eq!(r.status(), 409, "{db:?}");
            let body: Value = r.json().await.expect("json");
            assert_eq!(body["error"], "conflict", "{body}");
            assert!(
                body["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("purged"))
            );
        }
        assert_eq!(status_of(&app, "r5").await, "purged");
        webex.verify().await;
        let r = app
            .send(
                reqwest::Method::DELETE,
                "/api/v1/recordings/r4?delete_from_webex=maybe",
            )
            .await;
        assert_eq!(r.status(), 400);
    }

    // No Webex client: 503, and nothing is deleted here either.
    let local = spawn(Db::Sqlite, Opts::default()).await;
    local.seed().await;
    assert_eq!(delete(&local, "r4", true).await.status(), 503);
    let (_, r4) = local.json("/api/v1/recordings/r4").await;
    assert_eq!(r4["processing_status"], "pending");
}

#[tokio::test]
async fn audio_download_with_ranges_and_etag() {
    for db in BOTH {
        let app = spawn(db, Opts::default()).await;
        app.seed().await;
        let p = "/api/v1/recordings/download/r1/audio";
        let r = app.get(p).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "audio/mpeg");
        assert_eq!(
            r.headers()["content-length"],
            AUDIO_LEN.to_string().as_str()
        );
        assert_eq!(r.headers()["etag"], "\"ab12cd\"");
        assert_eq!(r.bytes().await.expect("body").to_vec(), audio_bytes());

        let get_range =
            |range: &'static str| app.http.get(app.url(p)).header("Range", range).send();
        let r = get_range("bytes=10-19").await.expect("req");
        assert_eq!(r.status(), 206);
        assert_eq!(r.headers()["content-range"], "bytes 10-19/1000");
        assert_eq!(
            r.bytes().await.expect("body").to_vec(),
            audio_bytes()[10..20].to_vec()
        );
        let r = get_range("bytes=-5").await.expect("req");
        assert_eq!(r.status(), 206);
        assert_eq!(
            r.bytes().await.expect("body").to_vec(),
            audio_bytes()[995..].to_vec()
        );
        let r = get_range("bytes=990-").await.expect("req");
        assert_eq!(r.headers()["content-range"], "bytes 990-999/1000");
        assert_eq!(r.bytes().await.expect("body").len(), 10);
        let r = get_range("bytes=5000-6000").await.expect("req");
        assert_eq!(r.status(), 416);
        assert_eq!(r.headers()["content-range"], "bytes */1000");

        let r = app
            .http
            .get(app.url(p))
            .header("If-None-Match", "\"ab12cd\"")
            .send()
            .await
            .expect("req");
        assert_eq!(r.status(), 304);
        let r = app
            .http
            .get(app.url(p))
            .header("If-None-Match", "\"other\"")
            .send()
            .await
            .expect("req");
        assert_eq!(r.status(), 200);

        // If-Range: the range while the validator still matches, else the whole file.
        let last_modified = app.get(p).await.headers()["last-modified"]
            .to_str()
            .expect("date")
            .to_string();
        for (if_range, status, len) in [
            ("\"ab12cd\"".to_string(), 206, 10),
            (last_modified.clone(), 206, 10),
            ("\"changed\"".to_string(), 200, AUDIO_LEN),
            ("W/\"ab12cd\"".to_string(), 200, AUDIO_LEN),
            ("Thu, 01 Jan 1970 00:00:00 GMT".to_string(), 200, AUDIO_LEN),
        ] {
            let r = app
                .http
                .get(app.url(p))
                .header("Range", "bytes=10-19")
                .header("If-Range", &if_range)
                .send()
                .await
                .expect("req");
            assert_eq!(r.status(), status, "{if_range}");
            assert_eq!(r.bytes().await.expect("body").len(), len, "{if_range}");
        }

        let r = app.get("/api/v1/recordings/download/r2/audio").await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "audio/wav");
        assert_eq!(r.bytes().await.expect("body").len(), 500);
        // No stored audio; unknown recording.
        assert_eq!(
            app.get("/api/v1/recordings/download/r3/audio")
                .await
                .status(),
            404
        );
        assert_eq!(
            app.get("/api/v1/recordings/download/zz/audio")
                .await
                .status(),
            404
        );

        // A deleted recording's audio is gone, even with the file still on disk.
        let r = app
            .send(reqwest::Method::DELETE, "/api/v1/recordings/r2")
            .await;
        assert_eq!(r.status(), 200);
        let r = app.get("/api/v1/recordings/download/r2/audio").await;
        assert_eq!(r.status(), 410);
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["error"], "gone");

        // A stored path outside DATA_DIR is never served.
        let outside = tempfile::NamedTempFile::new().expect("tmp");
        std::fs::write(outside.path(), b"secret").expect("write");
        let mut r = Recording::pending(RecordingId::parse("evil").expect("id"), Utc::now());
        r.audio_local_path = Some(outside.path().display().to_string());
        app.db.store.upsert_recording(&r).await.expect("upsert");
        let mut r = Recording::pending(RecordingId::parse("evil2").expect("id"), Utc::now());
        r.audio_local_path = Some(
            app.data
                .path()
                .join("..")
                .join(outside.path().file_name().expect("name"))
                .display()
                .to_string(),
        );
        app.db.store.upsert_recording(&r).await.expect("upsert");
        for id in ["evil", "evil2"] {
            let r = app
                .get(&format!("/api/v1/recordings/download/{id}/audio"))
                .await;
            assert_eq!(r.status(), 404, "{id}");
            assert!(!r.text().await.expect("body").contains("secret"));
        }
    }
}

#[tokio::test]
async fn fetch_and_access_check_validate_then_answer_unavailable_without_webex_credentials() {
    let app = spawn(Db::Sqlite, Opts::default()).await;
    for bad in ["hours=0", "hours=169", "limit=0", "limit=1001", "hours=x"] {
        let r = app
            .send(
                reqwest::Method::POST,
                &format!("/api/v1/recordings/fetch?{bad}"),
            )
            .await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    let r = app
        .send(
            reqwest::Method::POST,
            "/api/v1/recordings/fetch?hours=168&limit=1000",
        )
        .await;
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "unavailable");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or("")
            .contains("WEBEX_ACCESS_TOKEN"),
        "{body}"
    );
    let (s, body) = app.json("/api/v1/recordings/test/webex-access").await;
    assert_eq!((s, body["error"].as_str()), (503, Some("unavailable")));
}

#[tokio::test]
async fn fetch_enqueues_what_webex_lists_and_we_never_stored() {
    let webex = MockServer::start().await;
    let items: Vec<Value> = ["f1", "f2", "done"]
        .iter()
        .map(|id| serde_json::json!({"id": id, "status": "available", "timeRecorded": "2026-11-25T10:00:00Z"}))
        .collect();
    on("GET", "/v1/admin/convergedRecordings")
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"items": items})))
        .mount(&webex)
        .await;
    let app = spawn(
        Db::Sqlite,
        Opts {
            webex: Some(format!("{}/v1", webex.uri())),
            ..Opts::default()
        },
    )
    .await;
    let mut done = Recording::pending(RecordingId::parse("done").expect("id"), Utc::now());
    done.processing_status = ProcessingStatus::Completed;
    app.db.store.upsert_recording(&done).await.expect("upsert");

    let r = app
        .send(
            reqwest::Method::POST,
            "/api/v1/recordings/fetch?hours=24&limit=100",
        )
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["success"], true);
    assert_eq!(body["processed_count"], 2, "{body}");
    let mut ids: Vec<String> = body["recordings"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    ids.sort();
    assert_eq!(ids, ["f1", "f2"]);
    assert_eq!(app.db.store.queue_depth().await.expect("depth").0, 2);
}

#[tokio::test]
async fn openapi_document_lists_every_route() {
    let app = spawn(Db::Sqlite, Opts::default()).await;
    let (s, doc) = app.json("/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    let mut documented: Vec<(&str, &str)> = paths
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .expect("operations")
                .keys()
                .map(move |m| (p.as_str(), m.as_str()))
        })
        .collect();
    documented.sort();
    let mut expected = vec![
        ("/api/v1/recordings/", "get"),
        ("/api/v1/recordings/{id}", "get"),
        ("/api/v1/recordings/{id}", "delete"),
        ("/api/v1/recordings/{id}/reprocess", "post"),
        ("/api/v1/recordings/{id}/swap-roles", "post"),
        ("/api/v1/recordings/fetch", "post"),
        ("/api/v1/recordings/stats/summary", "get"),
        ("/api/v1/recordings/download/{id}/audio", "get"),
        ("/api/v1/recordings/test/webex-access", "get"),
        ("/api/v1/recordings/{id}/hold", "put"),
        ("/api/v1/recordings/{id}/hold", "delete"),
        ("/api/v1/audit", "get"),
        ("/api/v1/openapi.json", "get"),
        ("/api/v1/trackers", "get"),
        ("/api/v1/trackers", "post"),
        ("/api/v1/trackers/{name}", "get"),
        ("/api/v1/trackers/{name}", "put"),
        ("/api/v1/trackers/{name}", "delete"),
    ];
    expected.sort();
    assert_eq!(
        documented, expected,
        "every /api/v1 route, and nothing else"
    );
    for &(p, m) in &expected {
        let operation = &paths[p][m];
        if p != "/api/v1/openapi.json" {
            assert_eq!(
                operation["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{m} {p} documents its 401"
            );
        }
    }
    assert_eq!(doc["security"], serde_json::json!([{"bearer": []}]));
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let list_params: Vec<&str> = paths["/api/v1/recordings/"]["get"]["parameters"]
        .as_array()
        .expect("params")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        list_params,
        [
            "q",
            "skip",
            "limit",
            "status",
            "from_date",
            "to_date",
            "sentiment",
            "end_sentiment",
            "language",
            "participant",
            "min_duration",
            "max_duration",
            "tracker"
        ]
    );
    // The constraints the API enforces are in the document.
    let param = |p: &str, m: &str, name: &str| {
        paths[p][m]["parameters"]
            .as_array()
            .expect("params")
            .iter()
            .find(|q| q["name"] == name)
            .map(|q| q["schema"].clone())
            .unwrap_or_else(|| panic!("{m} {p} documents {name}"))
    };
    for (p, m) in [
        ("/api/v1/recordings/{id}", "get"),
        ("/api/v1/recordings/{id}", "delete"),
        ("/api/v1/recordings/{id}/reprocess", "post"),
        ("/api/v1/recordings/download/{id}/audio", "get"),
    ] {
        let id = param(p, m, "id");
        assert_eq!(id["pattern"], RecordingId::PATTERN, "{m} {p}");
        assert_eq!(id["maxLength"], RecordingId::MAX_LEN, "{m} {p}");
    }
    let limit = param("/api/v1/recordings/", "get", "limit");
    assert_eq!(
        (&limit["minimum"], &limit["maximum"]),
        (&1.into(), &500.into())
    );
    assert_eq!(param("/api/v1/recordings/", "get", "skip")["minimum"], 0);
    let hours = param("/api/v1/recordings/fetch", "post", "hours");
    assert_eq!(
        (&hours["minimum"], &hours["maximum"]),
        (&1.into(), &168.into())
    );
    let status = param("/api/v1/recordings/", "get", "status");
    let status_ref = status["$ref"]
        .as_str()
        .or_else(|| status["oneOf"][0]["$ref"].as_str())
        .and_then(|r| r.rsplit('/').next())
        .expect("status is the ProcessingStatus enum");
    assert_eq!(
        doc["components"]["schemas"][status_ref]["enum"],
        serde_json::json!([
            "pending",
            "processing",
            "completed",
            "partial",
            "failed",
            "deleted",
            "purged"
        ])
    );
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for s in [
        "Recording",
        "RecordingList",
        "StatsSummary",
        "ErrorBody",
        "FetchAnswer",
    ] {
        assert!(schemas.contains_key(s), "{s}");
    }
    assert!(
        schemas["Recording"]["properties"]
            .get("recordingId")
            .is_some()
    );
}

fn jq_available() -> bool {
    std::process::Command::new("jq")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn jq(filter: &str, raw: bool, input: &[u8]) -> String {
    use std::io::Write;
    let mut cmd = std::process::Command::new("jq");
    if raw {
        cmd.arg("-r");
    } else {
        cmd.arg("-c");
    }
    let mut child = cmd
        .arg(filter)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("jq runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write");
    let out = child.wait_with_output().expect("jq output");
    assert!(out.status.success(), "jq {filter} failed");
    String::from_utf8(out.stdout).expect("utf-8")
}

#[tokio::test]
async fn seed_jq_recipes_work_as_written() {
    if !jq_available() {
        panic!("jq is needed for this test (apt-get install -y jq)");
    }
    let app = spawn(Db::Sqlite, Opts::default()).await;
    app.seed().await;
    let list = app
        .get("/api/v1/recordings/?limit=500")
        .await
        .bytes()
        .await
        .expect("body");

    let negative = jq(
        r#".items[] | select(.sentiment.label=="negative") | .recordingId"#,
        false,
        &list,
    );
    assert_eq!(negative, "\"r3\"\n\"r1\"\n");

    let topics = jq(
        "[.items[].key_topics[]] | group_by(.) | map({topic: .[0], count: length})",
        false,
        &list,
    );
    let topics: Value = serde_json::from_str(&topics).expect("json");
    assert_eq!(
        topics,
        serde_json::json!([
            {"topic": "billing", "count": 2},
            {"topic": "refund", "count": 2},
            {"topic": "shipping", "count": 1}
        ])
    );

    // Audit: every id with audio, downloaded.
    let with_audio = jq(
        ".items[] | select(.audio_local_path != null) | .recordingId",
        true,
        &list,
    );
    let ids: Vec<&str> = with_audio.lines().collect();
    assert_eq!(ids, ["r2", "r1"]);
    let mut sizes = Vec::new();
    for id in ids {
        let r = app
            .get(&format!("/api/v1/recordings/download/{id}/audio"))
            .await;
        assert_eq!(r.status(), 200, "{id}");
        sizes.push(r.bytes().await.expect("body").len());
    }
    assert_eq!(sizes, [500, AUDIO_LEN]);
}

#[test]
fn no_query_or_path_makes_a_500() {
    use proptest::prelude::*;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let app = rt.block_on(async {
        let app = spawn(Db::Sqlite, Opts::default()).await;
        app.seed().await;
        app
    });
    let segment = "[a-zA-Z0-9._~%=/ -]{0,24}|\\PC{0,12}";
    let query = "[a-z_]{0,10}=[a-zA-Z0-9:+%&=.-]{0,30}|\\PC{0,20}";
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    });
    let result = runner.run(&(segment, query, 0usize..6), |(seg, q, route)| {
        let seg = utf8_percent(&seg);
        let q = utf8_percent(&q);
        let (m, p) = match route {
            0 => ("GET", format!("/api/v1/recordings/?{q}")),
            1 => ("GET", format!("/api/v1/recordings/{seg}?{q}")),
            2 => ("DELETE", format!("/api/v1/recordings/{seg}?{q}")),
            3 => ("POST", format!("/api/v1/recordings/{seg}/reprocess")),
            4 => ("GET", format!("/api/v1/recordings/download/{seg}/audio")),
            _ => ("POST", format!("/api/v1/recordings/fetch?{q}")),
        };
        let status = rt.block_on(async {
            let m = reqwest::Method::from_bytes(m.as_bytes()).expect("method");
            match app.http.request(m, app.url(&p)).send().await {
                Ok(r) => Some(r.status().as_u16()),
                // reqwest refuses some URLs itself: nothing reached the server.
                Err(_) => None,
            }
        });
        prop_assert!(
            status.is_none_or(|s| s < 500 || s == 503),
            "{p} -> {status:?}"
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Percent-encodes what a URL cannot carry raw (keeps `%`, `&`, `=`, `/` as given).
fn utf8_percent(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || "-._~%&=/:+".contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}
