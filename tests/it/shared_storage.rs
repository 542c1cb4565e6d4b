//! Scale-out with `STORAGE_URL=s3://…`: any process serves any recording's audio, whichever
//! worker stored it; each process has an empty `DATA_DIR` of its own and nothing lands there.

use std::time::Duration;

use reqwest::StatusCode;
use webex_recordings::config::Config;
use webex_recordings::domain::{ProcessingStatus, RecordingId};
use webex_recordings::startup::{Application, Role};
use webex_recordings::storage::{StorageError, StorageKey};

use crate::amqp::Vhost;
use crate::fake_webex::*;
use crate::storage::{S3_BUCKET, s3_env, s3_prefix, s3_store};
use crate::support::{Db, TestApp, TestDb, WEBHOOK_SECRET, envelope};

/// The variables every process of one deployment shares.
fn deployment(
    server: &wiremock::MockServer,
    prefix: &str,
    amqp: Option<String>,
) -> Vec<(&'static str, String)> {
    let mut vars = s3_env(prefix);
    vars.push(("WEBEX_API_URL", format!("{}/v1", server.uri())));
    vars.push(("WEBEX_ACCESS_TOKEN", "token".into()));
    if let Some(url) = amqp {
        vars.push(("AMQP_URL", url));
    }
    vars
}

async fn spawn(
    db: &TestDb,
    role: Role,
    vars: &[(&'static str, String)],
    data: &tempfile::TempDir,
) -> TestApp {
    let data_dir = data.path().display().to_string();
    let mut all: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.push(("DATA_DIR", &data_dir));
    TestApp::spawn(&db.url, role, &all).await
}

/// A worker process (no HTTP listener) on the deployment's settings.
async fn spawn_worker(
    db: &TestDb,
    vars: &[(&'static str, String)],
    data: &tempfile::TempDir,
) -> (
    tokio_util::sync::CancellationToken,
    tokio::task::JoinHandle<()>,
) {
    let mut env: std::collections::HashMap<&str, String> = vars.iter().cloned().collect();
    env.insert("DATABASE_URL", db.url.clone());
    env.insert("DATA_DIR", data.path().display().to_string());
    env.insert("BACKFILL_INTERVAL", "0".into());
    let mut config = Config::from_lookup(|k| env.get(k).cloned()).expect("config");
    config.pipeline.retry.base_delay = Duration::from_millis(50);
    config.pipeline.retry.max_delay = Duration::from_millis(400);
    let app = Application::build(config, Role::Worker)
        .await
        .expect("worker starts");
    let cancel = app.shutdown_token();
    (cancel, tokio::spawn(app.run_until_stopped()))
}

async fn post_created(app: &TestApp, id: &str) {
    let body = serde_json::to_vec(&envelope(id, "created")).expect("json");
    assert_eq!(
        app.post_webhook(&body, Some(WEBHOOK_SECRET)).await.status(),
        200
    );
}

async fn audio(app: &TestApp, id: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app.http.get(format!(
        "{}/api/v1/recordings/download/{id}/audio",
        app.base
    ));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request")
}

/// Nothing but empty folders (or nothing at all) under a process's `DATA_DIR`.
fn holds_no_files(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).expect("read DATA_DIR").all(|entry| {
        let path = entry.expect("entry").path();
        path.is_dir() && holds_no_files(&path)
    })
}

#[tokio::test]
async fn a_second_app_with_an_empty_data_dir_serves_and_deletes_audio_stored_by_another() {
    let db = TestDb::new(Db::Postgres).await;
    let server = fake_webex().await;
    let es = FakeRecording::new(ES_ID, Some(ES_VTT));
    es.mount(&server).await;
    let prefix = s3_prefix();
    let vars = deployment(&server, &prefix, None);

    let first_data = tempfile::tempdir().expect("temp dir");
    let first = spawn(&db, Role::All, &vars, &first_data).await;
    post_created(&first, ES_ID).await;
    assert_eq!(
        wait_final(&db.store, ES_ID, Duration::from_secs(60)).await,
        ProcessingStatus::Completed
    );
    first.stop().await;
    assert!(
        holds_no_files(first_data.path()),
        "files landed in the first DATA_DIR"
    );

    let rec = stored(&db.store, ES_ID).await;
    let location = rec.audio_local_path.clone().expect("audio location");
    assert!(
        location.starts_with(&format!("s3://{S3_BUCKET}/{prefix}/recordings/2025/03/04/")),
        "{location}"
    );
    let id = RecordingId::parse(ES_ID).expect("id");
    let audio_key = StorageKey::audio_in_location(&id, &location).expect("audio key");
    let vtt_key = StorageKey::transcript_in_location(
        &id,
        rec.transcript_vtt_path.as_deref().unwrap_or_default(),
    )
    .expect("transcript key");
    let bucket = s3_store(&prefix).await;
    assert_eq!(
        bucket.head(&vtt_key).await.expect("VTT stored").size,
        ES_VTT.len() as u64
    );

    let second_data = tempfile::tempdir().expect("temp dir");
    let second = spawn(&db, Role::Receiver, &vars, &second_data).await;
    let ready = second
        .http
        .get(format!("{}/readyz", second.base))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(
        ready.json::<serde_json::Value>().await.expect("json")["storage"],
        "ok"
    );

    let whole = audio(&second, ES_ID, &[]).await;
    assert_eq!(whole.status(), StatusCode::OK);
    let etag = whole.headers()["etag"].to_str().expect("etag").to_string();
    assert_eq!(etag, format!("\"{}\"", sha256_hex(&es.audio)));
    assert!(whole.bytes().await.expect("body") == es.audio.as_slice());

    let part = audio(
        &second,
        ES_ID,
        &[("range", "bytes=100-199"), ("if-range", &etag)],
    )
    .await;
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-199/{}", es.audio.len())
    );
    assert!(part.bytes().await.expect("body") == es.audio[100..200]);
    // A cached copy of other bytes: the whole current file, not a piece to splice into it.
    let stale = audio(
        &second,
        ES_ID,
        &[("range", "bytes=100-199"), ("if-range", "\"0000\"")],
    )
    .await;
    assert_eq!(stale.status(), StatusCode::OK);
    assert_eq!(stale.bytes().await.expect("body").len(), es.audio.len());
    let past_end = format!("bytes={}-", es.audio.len());
    assert_eq!(
        audio(&second, ES_ID, &[("range", &past_end)])
            .await
            .status(),
        StatusCode::RANGE_NOT_SATISFIABLE
    );

    let deleted = second
        .http
        .delete(format!("{}/api/v1/recordings/{ES_ID}", second.base))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::OK);
    for key in [&audio_key, &vtt_key] {
        assert!(
            matches!(bucket.head(key).await, Err(StorageError::NotFound(_))),
            "{key} is left"
        );
    }
    assert_eq!(
        audio(&second, ES_ID, &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(
        holds_no_files(second_data.path()),
        "files landed in the second DATA_DIR"
    );
    second.stop().await;
}

#[tokio::test]
async fn receiver_and_two_workers_on_postgres_rabbitmq_and_s3_serve_every_recording() {
    let db = TestDb::new(Db::Postgres).await;
    let vhost = Vhost::new();
    let server = fake_webex().await;
    let recordings = [
        FakeRecording::new(ES_ID, Some(ES_VTT)),
        FakeRecording::new(EN_ID, Some(EN_VTT)),
        FakeRecording::new("fr0000000000000000000000000000d4", Some(EN_VTT)),
        FakeRecording::new("de0000000000000000000000000000e5", Some(ES_VTT)),
    ];
    for r in &recordings {
        r.mount(&server).await;
    }
    let vars = deployment(&server, &s3_prefix(), Some(vhost.url()));

    let receiver_data = tempfile::tempdir().expect("temp dir");
    let receiver = spawn(&db, Role::Receiver, &vars, &receiver_data).await;
    let worker_data = [
        tempfile::tempdir().expect("temp dir"),
        tempfile::tempdir().expect("temp dir"),
    ];
    let mut workers = Vec::new();
    for data in &worker_data {
        workers.push(spawn_worker(&db, &vars, data).await);
    }

    for r in &recordings {
        post_created(&receiver, r.id).await;
    }
    for r in &recordings {
        assert_eq!(
            wait_final(&db.store, r.id, Duration::from_secs(90)).await,
            ProcessingStatus::Completed,
            "{}",
            r.id
        );
        let answer = audio(&receiver, r.id, &[]).await;
        assert_eq!(answer.status(), StatusCode::OK, "{}", r.id);
        assert!(
            answer.bytes().await.expect("body") == r.audio.as_slice(),
            "{} audio differs",
            r.id
        );
        let rec = stored(&db.store, r.id).await;
        assert_eq!(
            rec.audio_sha256.as_deref(),
            Some(sha256_hex(&r.audio).as_str())
        );
    }

    for (cancel, done) in workers {
        cancel.cancel();
        let _ = done.await;
    }
    receiver.stop().await;
    for data in worker_data.iter().chain([&receiver_data]) {
        assert!(
            holds_no_files(data.path()),
            "files landed in {}",
            data.path().display()
        );
    }
}
