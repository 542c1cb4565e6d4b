//! Alerts end to end: events written with their recording, delivered by the dispatcher to a
//! receiver on loopback that checks each signature with its own Standard Webhooks code, answers
//! the first attempt of every event with 500, and counts deliveries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio_util::sync::CancellationToken;
use url::Url;
use webex_recordings::alerts::{AlertConfig, DeliverySettings, dispatch, events_for};
use webex_recordings::domain::{ProcessingStatus, Recording, RecordingId};
use webex_recordings::store::Store;
use webex_recordings::trackers::{TrackerHit, TrackerMatch};

use crate::support::{BOTH, TestDb, wait_until};

const WAIT: Duration = Duration::from_secs(30);

const KEY: &[u8] = b"a receiver's shared secret";

fn secret() -> String {
    format!("whsec_{}", STANDARD.encode(KEY))
}

/// What the receiver saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    id: String,
    body: Value,
    answered: u16,
}

#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Answer 500 to the first attempt of every event.
    fail_first: bool,
}

impl Receiver {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// The Standard Webhooks check, written here from the specification: base64 HMAC-SHA256 of
/// `id.timestamp.body` with the decoded key, compared with each `v1,` signature of the header.
fn signature_valid(headers: &HeaderMap, body: &str) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(id), Some(ts), Some(sigs)) = (
        get("webhook-id"),
        get("webhook-timestamp"),
        get("webhook-signature"),
    ) else {
        return false;
    };
    let fresh = ts
        .parse::<i64>()
        .is_ok_and(|t| (Utc::now().timestamp() - t).abs() < 300);
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY).expect("any key length");
    mac.update(format!("{id}.{ts}.{body}").as_bytes());
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    fresh
        && sigs
            .split(' ')
            .any(|s| s.strip_prefix("v1,") == Some(expected.as_str()))
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    assert!(signature_valid(&headers, &body), "bad signature on {body}");
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut seen = r.seen.lock().expect("lock");
    let answered = if !r.fail_first || seen.iter().any(|s| s.id == id) {
        200
    } else {
        500
    };
    seen.push(Seen {
        id,
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
        answered,
    });
    StatusCode::from_u16(answered).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

async fn start_receiver(fail_first: bool) -> (Receiver, Url) {
    let receiver = Receiver {
        fail_first,
        ..Receiver::default()
    };
    let app = axum::Router::new()
        .route("/hook", post(hook))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (
        receiver,
        Url::parse(&format!("http://{addr}/hook")).expect("url"),
    )
}

fn config(url: Url, allow_private: bool, give_up_after: Duration) -> AlertConfig {
    AlertConfig {
        url,
        secret: secret().into(),
        allow_private,
        delivery: DeliverySettings {
            poll: Duration::from_millis(20),
            attempt_timeout: Duration::from_secs(5),
            first_retry: Duration::from_millis(50),
            max_retry: Duration::from_millis(200),
            give_up_after,
        },
    }
}

/// A completed call matched by one tracker: two events.
async fn store_call(store: &Store, n: usize) {
    let mut rec = Recording::pending(
        RecordingId::parse(&format!("alerted-{n}")).expect("id"),
        Utc::now(),
    );
    rec.processing_status = ProcessingStatus::Completed;
    rec.trackers = vec![TrackerMatch {
        name: "churn".into(),
        hits: vec![TrackerHit {
            rule: 0,
            start: Some(4.0),
        }],
    }];
    store
        .save_recording(&rec, &events_for(&rec, Utc::now()))
        .await
        .expect("store call and events");
}

fn start_dispatcher(
    store: &Store,
    config: &AlertConfig,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let cancel = CancellationToken::new();
    let task = tokio::spawn(dispatch::run(store.clone(), config.clone(), cancel.clone()));
    (cancel, task)
}

/// Each event: exactly one 500 then exactly one success, always under the same id.
fn assert_each_delivered_once(seen: &[Seen], events: usize) {
    let mut by_id: HashMap<&str, Vec<u16>> = HashMap::new();
    for s in seen {
        by_id.entry(&s.id).or_default().push(s.answered);
    }
    assert_eq!(by_id.len(), events, "{seen:?}");
    for (id, answers) in by_id {
        assert_eq!(answers, [500, 200], "{id}");
    }
}

#[tokio::test]
async fn events_are_signed_retried_with_the_same_id_and_delivered_once() {
    for db in BOTH {
        let test_db = TestDb::new(db).await;
        let store = &test_db.store;
        let (receiver, url) = start_receiver(true).await;
        for n in 0..3 {
            store_call(store, n).await;
        }
        let (cancel, task) = start_dispatcher(store, &config(url, true, Duration::from_secs(3600)));
        wait_until(WAIT, "every event delivered", async || {
            store.alerts_pending().await.expect("count") == 0
        })
        .await;
        // A few more rounds: nothing is sent again.
        tokio::time::sleep(Duration::from_millis(200)).await;
        cancel.cancel();
        task.await.expect("dispatcher ends");

        let seen = receiver.seen();
        assert_each_delivered_once(&seen, 6);
        let types: Vec<&str> = seen
            .iter()
            .filter(|s| s.answered == 200)
            .filter_map(|s| s.body["type"].as_str())
            .collect();
        assert_eq!(types.iter().filter(|t| **t == "tracker.matched").count(), 3);
        assert_eq!(
            types
                .iter()
                .filter(|t| **t == "recording.completed")
                .count(),
            3
        );
        let matched = seen
            .iter()
            .find(|s| s.body["type"] == "tracker.matched")
            .expect("a tracker event");
        assert_eq!(matched.body["data"]["tracker"], "churn");
        assert_eq!(matched.body["data"]["hits"][0]["start"], 4.0);
        assert!(matched.body["data"]["recordingId"].as_str().is_some());
        assert_eq!(store.alerts_failed().await.expect("count"), 0, "{db:?}");
    }
}

#[tokio::test]
async fn a_restart_in_the_middle_loses_no_event() {
    for db in BOTH {
        let test_db = TestDb::new(db).await;
        let store = &test_db.store;
        let (receiver, url) = start_receiver(true).await;
        let config = config(url, true, Duration::from_secs(3600));
        store_call(store, 0).await;
        let (cancel, task) = start_dispatcher(store, &config);
        // Stopped once the first attempts have failed, before any retry succeeded.
        wait_until(WAIT, "first attempts made", async || {
            receiver.seen().len() >= 2
        })
        .await;
        cancel.cancel();
        task.await.expect("dispatcher ends");
        // Written while no dispatcher runs.
        store_call(store, 1).await;

        let (cancel, task) = start_dispatcher(store, &config);
        wait_until(
            WAIT,
            "every event delivered after the restart",
            async || store.alerts_pending().await.expect("count") == 0,
        )
        .await;
        cancel.cancel();
        task.await.expect("dispatcher ends");
        assert_each_delivered_once(&receiver.seen(), 4);
        assert_eq!(store.alerts_failed().await.expect("count"), 0, "{db:?}");
    }
}

#[tokio::test]
async fn undeliverable_and_refused_events_end_as_failed() {
    let test_db = TestDb::new(crate::support::Db::Sqlite).await;
    let store = &test_db.store;
    let (receiver, url) = start_receiver(true).await;
    // A loopback receiver without ALERT_ALLOW_PRIVATE: refused before any request is made.
    store_call(store, 0).await;
    let (cancel, task) = start_dispatcher(
        store,
        &config(url.clone(), false, Duration::from_secs(3600)),
    );
    wait_until(WAIT, "refused events fail", async || {
        store.alerts_failed().await.expect("count") == 2
    })
    .await;
    cancel.cancel();
    task.await.expect("dispatcher ends");
    assert!(receiver.seen().is_empty());

    // A delivery window of zero: the first failure is the last.
    store_call(store, 1).await;
    let (cancel, task) = start_dispatcher(store, &config(url, true, Duration::ZERO));
    wait_until(WAIT, "given up", async || {
        store.alerts_failed().await.expect("count") == 4
    })
    .await;
    cancel.cancel();
    task.await.expect("dispatcher ends");
    assert!(receiver.seen().iter().all(|s| s.answered == 500));
    assert_eq!(store.alerts_pending().await.expect("count"), 0);
}

// Multi-threaded: the binary runs blocking on one thread while the receiver answers on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_test_sends_one_signed_test_event() {
    let (receiver, url) = start_receiver(false).await;
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}/cli.db", dir.path().display());
    let secret = secret();
    let run = |allow: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_webex-recordings"))
            .args(["alerts", "test"])
            .current_dir(dir.path())
            .env_clear()
            .env("DATABASE_URL", &db)
            .env("ALERT_WEBHOOK_URL", url.as_str())
            .env("ALERT_WEBHOOK_SECRET", &secret)
            .env("ALERT_ALLOW_PRIVATE", allow)
            .output()
            .expect("run the binary")
    };
    let sent = run("true");
    let out = String::from_utf8_lossy(&sent.stdout);
    assert!(
        sent.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let seen = receiver.seen();
    // The receiver checked the signature before answering.
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body["type"], "test");
    assert!(out.contains(&seen[0].id), "{out}");
    // The receiver is named by its origin: a URL's path can be its secret.
    assert!(!out.contains("/hook"), "{out}");

    let refused = run("false");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("ALERT_ALLOW_PRIVATE"));
    assert_eq!(receiver.seen().len(), 1, "a refused URL gets no request");
}

/// A Slack- or Teams-style receiver's URL is its secret: a failed delivery says why, not where.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delivery_does_not_show_the_receiver_s_url() {
    let dir = tempfile::tempdir().expect("dir");
    let failed = std::process::Command::new(env!("CARGO_BIN_EXE_webex-recordings"))
        .args(["alerts", "test"])
        .current_dir(dir.path())
        .env_clear()
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/cli.db", dir.path().display()),
        )
        // Nothing listens on port 1.
        .env(
            "ALERT_WEBHOOK_URL",
            "http://127.0.0.1:1/services/PATH-SECRET?token=QUERY-SECRET",
        )
        .env("ALERT_WEBHOOK_SECRET", secret())
        .env("ALERT_ALLOW_PRIVATE", "true")
        .output()
        .expect("run the binary");
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&failed.stdout),
        String::from_utf8_lossy(&failed.stderr)
    );
    assert!(!failed.status.success(), "{out}");
    assert!(out.contains("request failed"), "{out}");
    assert!(!out.contains("SECRET"), "{out}");
}
