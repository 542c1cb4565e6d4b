//! `send-test` against the project's real receiver (router, SQLite store, embedded queue).

mod common;

use std::sync::Arc;

use common::*;
use secrecy::SecretString;
use webex_recordings::config::Config;
use webex_recordings::http::{AppState, router};
use webex_recordings::queue::embedded::{EmbeddedQueue, EmbeddedSettings};
use webex_recordings::queue::{Consumer, Publisher};
use webex_recordings::store::Store;

struct Receiver {
    url: String,
    queue: EmbeddedQueue,
    _dir: tempfile::TempDir,
}

async fn receiver() -> Receiver {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}/test.db", dir.path().display());
    let store = Store::connect(&SecretString::from(db.clone()))
        .await
        .expect("store");
    store.migrate().await.expect("migrate");
    let config = Config::from_lookup(|name| match name {
        "WEBEX_WEBHOOK_SECRET" => Some(SECRET.to_string()),
        "DATABASE_URL" => Some(db.clone()),
        _ => None,
    })
    .expect("config");
    let queue = EmbeddedQueue::new(store.clone(), EmbeddedSettings::default());
    let storage = webex_recordings::storage::Storage::from_config(&config).expect("storage");
    let state = AppState {
        storage,
        config: Arc::new(config),
        store,
        publisher: Arc::new(queue.clone()),
        webex: None,
        metrics: None,
        auth_failures: Default::default(),
        tasks: Default::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, router(state)).await.expect("serve");
    });
    Receiver {
        url: format!("http://{addr}/webhooks/webex"),
        queue,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_secret_is_accepted_and_queued() {
    let r = receiver().await;
    let out = run(
        &[
            "send-test",
            "--target-url",
            &r.url,
            "--recording-id",
            "rec-test-1",
        ],
        &[("WEBEX_WEBHOOK_SECRET", SECRET)],
    )
    .await;
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.lines().any(|l| l.starts_with("status: 200")), "{text}");
    assert!(text.contains(r#""queued":true"#), "{text}");
    assert_eq!(r.queue.depth().await.expect("depth").ready, 1);
    let delivery = r
        .queue
        .next(&tokio_util::sync::CancellationToken::new())
        .await
        .expect("next")
        .expect("the queued message");
    let message = delivery.payload.as_ref().expect("a readable message");
    assert_eq!(message.recording_id.as_str(), "rec-test-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_secret_is_refused_with_401() {
    let r = receiver().await;
    let out = run(
        &["send-test", "--target-url", &r.url],
        &[("WEBEX_WEBHOOK_SECRET", "not-the-receivers-secret")],
    )
    .await;
    assert!(!out.status.success());
    assert!(stdout(&out).contains("401"), "{}", stdout(&out));
    assert_eq!(r.queue.depth().await.expect("depth").ready, 0);
}

#[tokio::test]
async fn send_test_needs_the_secret() {
    let out = run(
        &[
            "send-test",
            "--target-url",
            "http://127.0.0.1:9/webhooks/webex",
        ],
        &[],
    )
    .await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("WEBEX_WEBHOOK_SECRET"),
        "{}",
        stderr(&out)
    );
}
