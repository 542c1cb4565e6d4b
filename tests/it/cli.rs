//! The `webex-recordings` binary as an operator runs it.

use std::process::{Command, Output};

use serde_json::json;
use wiremock::{MockServer, ResponseTemplate};

use crate::fake_webex::on;
use crate::support::{Db, TestDb};

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().expect("dir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_webex-recordings"));
    cmd.args(args)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run the binary")
}

#[tokio::test]
async fn backfill_dry_run_changes_nothing_and_a_real_run_enqueues_the_missing() {
    let t = TestDb::new(Db::Sqlite).await;
    let webex = MockServer::start().await;
    let items: Vec<_> = ["b1", "b2", "b3"]
        .iter()
        .map(|id| json!({"id": id, "status": "available", "timeRecorded": "2026-11-25T08:00:00Z"}))
        .collect();
    on("GET", "/v1/admin/convergedRecordings")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "items": items })))
        .mount(&webex)
        .await;
    let mut done = webex_recordings::domain::Recording::pending(
        webex_recordings::domain::RecordingId::parse("b3").expect("id"),
        chrono::Utc::now(),
    );
    done.processing_status = webex_recordings::domain::ProcessingStatus::Completed;
    t.store.upsert_recording(&done).await.expect("upsert");

    let api = format!("{}/v1", webex.uri());
    let env = [
        ("DATABASE_URL", t.url.as_str()),
        ("WEBEX_API_URL", api.as_str()),
        ("WEBEX_ACCESS_TOKEN", "token"),
    ];
    // A limit of nothing is a mistake, not an empty run.
    let zero = run(&["backfill", "--limit", "0", "--dry-run"], &env);
    assert_eq!(zero.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&zero.stderr).contains("--limit"));
    let dry = run(&["backfill", "--hours", "24", "--dry-run"], &env);
    let out = String::from_utf8_lossy(&dry.stdout);
    assert!(
        dry.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert_eq!(
        out.lines().last(),
        Some("seen 3, stored 1, enqueued 2"),
        "{out}"
    );
    assert_eq!(
        t.store.queue_depth().await.expect("depth").0,
        0,
        "dry run enqueued"
    );

    let real = run(&["backfill", "--hours", "24"], &env);
    let out = String::from_utf8_lossy(&real.stdout);
    assert!(real.status.success(), "{out}");
    assert_eq!(
        out.lines().last(),
        Some("seen 3, stored 1, enqueued 2"),
        "{out}"
    );
    assert_eq!(t.store.queue_depth().await.expect("depth").0, 2);

    // Just enqueued: a second run sends nothing again.
    let again = run(&["backfill", "--hours", "24"], &env);
    let out = String::from_utf8_lossy(&again.stdout);
    assert_eq!(
        out.lines().last(),
        Some("seen 3, stored 3, enqueued 0"),
        "{out}"
    );
}

#[test]
fn an_invalid_variable_stops_the_program_naming_it() {
    let out = run(&["migrate"], &[("WORKER_CONCURRENCY", "lots")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("WORKER_CONCURRENCY"), "{err}");
}

#[test]
fn serve_refuses_to_start_a_receiver_without_the_webhook_secret() {
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let out = run(
        &["serve", "--role", "receiver"],
        &[("DATABASE_URL", &db), ("LISTEN_ADDR", "127.0.0.1:0")],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("WEBEX_WEBHOOK_SECRET"));
}

#[test]
fn migrate_creates_the_sqlite_file_and_its_folder() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("a/b/db.sqlite");
    let url = format!("sqlite://{}", file.display());
    let out = run(&["migrate"], &[("DATABASE_URL", &url)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(file.exists());
}

#[tokio::test]
async fn reprocess_refuses_an_id_never_stored_and_enqueues_a_stored_one() {
    let t = TestDb::new(Db::Sqlite).await;
    let env = [("DATABASE_URL", t.url.as_str())];

    let unknown = run(&["reprocess", "nope"], &env);
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(!unknown.status.success(), "{err}");
    assert!(err.contains("nope") && err.contains("backfill"), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&unknown.stdout),
        "",
        "nothing claimed enqueued"
    );
    assert_eq!(t.store.queue_depth().await.expect("depth").0, 0);
    let id = webex_recordings::domain::RecordingId::parse("nope").expect("id");
    assert!(
        t.store.get_recording(&id).await.expect("read").is_none(),
        "no record made"
    );

    let stored = webex_recordings::domain::Recording::pending(
        webex_recordings::domain::RecordingId::parse("seen1").expect("id"),
        chrono::Utc::now(),
    );
    t.store.upsert_recording(&stored).await.expect("upsert");
    let known = run(&["reprocess", "seen1"], &env);
    assert!(
        known.status.success(),
        "{}",
        String::from_utf8_lossy(&known.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&known.stdout), "enqueued seen1\n");
    assert_eq!(t.store.queue_depth().await.expect("depth").0, 1);

    // Under legal hold, as the API's 409: refused, nothing enqueued.
    let hold = webex_recordings::store::NewAuditEntry {
        at: chrono::Utc::now(),
        actor: "auditor".into(),
        role: Some("auditor".into()),
        action: "hold.set".into(),
        recording_id: Some("seen1".into()),
        ip: None,
        user_agent: None,
        status: 200,
        detail: Some("case 9".into()),
    };
    t.store
        .set_hold(&stored.recording_id, "case 9", &hold)
        .await
        .expect("hold");
    // Refused with `why`, nothing enqueued.
    let refused = |why: &str| {
        let out = run(&["reprocess", "seen1"], &env);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success() && err.contains(why), "{err}");
    };
    refused("legal hold");
    assert_eq!(t.store.queue_depth().await.expect("depth").0, 1);

    // Deleted: a worker would drop the message, so it is refused here.
    t.store
        .release_hold(&stored.recording_id, &hold)
        .await
        .expect("release");
    assert!(
        t.store
            .mark_recording_deleted(&stored.recording_id, chrono::Utc::now())
            .await
            .expect("delete")
    );
    refused("was deleted");
    assert_eq!(t.store.queue_depth().await.expect("depth").0, 1);
}
