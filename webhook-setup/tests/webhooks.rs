//! `register`, `list` and `delete` against a stateful fake of the Webex webhooks API.

mod common;

use common::*;
use serde_json::{Value, json};
use wiremock::MockServer;

const TARGET: &str = "https://rec.example.com/webhooks/webex";

async fn fake(hide_secret: bool) -> (MockServer, FakeWebhooks) {
    let server = MockServer::start().await;
    let hooks = FakeWebhooks::new(hide_secret);
    hooks.mount(&server).await;
    (server, hooks)
}

async fn register(server: &MockServer, extra: &[&str]) -> std::process::Output {
    let env = env_for(server);
    let mut args = vec!["register", "--target-url", TARGET];
    args.extend_from_slice(extra);
    run(&args, &as_refs(&env)).await
}

#[tokio::test]
async fn register_twice_creates_one_webhook_then_changes_nothing() {
    let (server, hooks) = fake(false).await;
    let first = register(&server, &["--name", "recordings"]).await;
    assert!(first.status.success());
    assert!(
        stdout(&first).contains("created webhook wh-1"),
        "{}",
        stdout(&first)
    );
    let all = hooks.all();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["targetUrl"], TARGET);
    assert_eq!(all[0]["resource"], "convergedRecordings");
    assert_eq!(all[0]["event"], "created");
    assert_eq!(all[0]["secret"], SECRET);
    assert_eq!(all[0]["name"], "recordings");
    assert!(all[0].get("ownedBy").is_none_or(|o| o != "org"));

    let second = register(&server, &["--name", "recordings"]).await;
    assert!(second.status.success());
    assert!(
        stdout(&second).contains("unchanged webhook wh-1"),
        "{}",
        stdout(&second)
    );
    assert_eq!(hooks.all().len(), 1);
    assert_eq!(count(&server, "POST", "/v1/webhooks").await, 1);
    assert_eq!(count(&server, "PUT", "/v1/webhooks").await, 0);
    assert_eq!(count(&server, "DELETE", "/v1/webhooks").await, 0);
}

#[tokio::test]
async fn register_org_sets_owned_by_org() {
    let (server, hooks) = fake(false).await;
    let out = register(&server, &["--org"]).await;
    assert!(out.status.success());
    assert_eq!(hooks.all()[0]["ownedBy"], "org");
    assert_eq!(hooks.all()[0]["name"], "webex-recordings");
}

#[tokio::test]
async fn an_inactive_webhook_is_reactivated() {
    let (server, hooks) = fake(false).await;
    let id = hooks.seed(json!({"name": "webex-recordings", "targetUrl": TARGET, "secret": SECRET, "status": "inactive"}));
    let out = register(&server, &[]).await;
    assert!(out.status.success());
    assert!(
        stdout(&out).contains(&format!("re-activated webhook {id}")),
        "{}",
        stdout(&out)
    );
    let all = hooks.all();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["status"], "active");
    assert_eq!(count(&server, "POST", "/v1/webhooks").await, 0);
}

#[tokio::test]
async fn duplicates_are_collapsed_to_the_oldest_active() {
    let (server, hooks) = fake(false).await;
    let older_inactive = hooks.seed(json!({"name": "a", "targetUrl": TARGET, "secret": SECRET, "status": "inactive", "created": "2024-01-01T00:00:00Z"}));
    let keep = hooks.seed(json!({"name": "b", "targetUrl": TARGET, "secret": SECRET, "created": "2024-02-01T00:00:00Z"}));
    let newer = hooks.seed(json!({"name": "c", "targetUrl": TARGET, "secret": SECRET, "created": "2024-03-01T00:00:00Z"}));
    let other_target = hooks
        .seed(json!({"name": "x", "targetUrl": "https://other.example.com/h", "secret": SECRET}));
    let other_resource =
        hooks.seed(json!({"name": "m", "targetUrl": TARGET, "resource": "messages"}));

    let out = register(&server, &[]).await;
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains(&format!("unchanged webhook {keep}")),
        "{text}"
    );
    assert!(text.contains("removed 2 duplicates"), "{text}");
    let ids: Vec<Value> = hooks.all().iter().map(|h| h["id"].clone()).collect();
    assert_eq!(
        ids,
        vec![json!(keep), json!(other_target), json!(other_resource)]
    );
    assert!(!ids.contains(&json!(older_inactive)) && !ids.contains(&json!(newer)));
}

#[tokio::test]
async fn a_changed_name_or_secret_is_updated() {
    let (server, hooks) = fake(false).await;
    let id = hooks.seed(json!({"name": "old", "targetUrl": TARGET, "secret": SECRET}));
    let out = register(&server, &["--name", "new"]).await;
    assert!(out.status.success());
    assert!(
        stdout(&out).contains(&format!("updated (name) webhook {id}")),
        "{}",
        stdout(&out)
    );
    assert_eq!(hooks.all()[0]["name"], "new");

    let (server, hooks) = fake(false).await;
    let id =
        hooks.seed(json!({"name": "webex-recordings", "targetUrl": TARGET, "secret": "stale"}));
    let out = register(&server, &[]).await;
    assert!(
        stdout(&out).contains(&format!("updated (secret) webhook {id}")),
        "{}",
        stdout(&out)
    );
    assert_eq!(hooks.all()[0]["secret"], SECRET);
    assert_eq!(hooks.all()[0]["status"], "active");
}

#[tokio::test]
async fn a_hidden_secret_counts_as_unchanged_unless_rotated() {
    let (server, hooks) = fake(true).await;
    let id =
        hooks.seed(json!({"name": "webex-recordings", "targetUrl": TARGET, "secret": "stale"}));
    let out = register(&server, &[]).await;
    assert!(
        stdout(&out).contains(&format!("unchanged webhook {id}")),
        "{}",
        stdout(&out)
    );
    assert_eq!(hooks.all()[0]["secret"], "stale");

    let out = register(&server, &["--rotate-secret"]).await;
    assert!(out.status.success());
    assert!(
        stdout(&out).contains(&format!("updated (secret) webhook {id}")),
        "{}",
        stdout(&out)
    );
    assert_eq!(hooks.all()[0]["secret"], SECRET);
}

#[tokio::test]
async fn a_non_https_public_target_is_refused() {
    let (server, hooks) = fake(false).await;
    let env = env_for(&server);
    let out = run(
        &[
            "register",
            "--target-url",
            "http://rec.example.com/webhooks/webex",
        ],
        &as_refs(&env),
    )
    .await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("HTTPS"), "{}", stderr(&out));
    assert!(server.received_requests().await.unwrap().is_empty());

    let out = run(
        &[
            "register",
            "--target-url",
            "http://rec.example.com/webhooks/webex",
            "--allow-insecure",
        ],
        &as_refs(&env),
    )
    .await;
    assert!(out.status.success());
    let out = run(
        &[
            "register",
            "--target-url",
            "http://127.0.0.1:8000/webhooks/webex",
        ],
        &as_refs(&env),
    )
    .await;
    assert!(out.status.success());
    assert_eq!(hooks.all().len(), 2);
}

#[tokio::test]
async fn register_without_a_secret_is_a_clear_error() {
    let (server, hooks) = fake(false).await;
    let env = env_for(&server);
    let env: Vec<_> = as_refs(&env)
        .into_iter()
        .filter(|(k, _)| *k != "WEBEX_WEBHOOK_SECRET")
        .collect();
    let out = run(&["register", "--target-url", TARGET], &env).await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("WEBEX_WEBHOOK_SECRET"),
        "{}",
        stderr(&out)
    );
    assert!(hooks.all().is_empty());
}

#[tokio::test]
async fn a_webex_error_shows_status_message_and_tracking_id() {
    let (server, _hooks) = fake(false).await;
    let mut env = env_for(&server);
    env[1].1 = "wrong-token".into();
    let out = run(&["list"], &as_refs(&env)).await;
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("401") && err.contains("bad token"), "{err}");

    let env = env_for(&server);
    let out = run(&["delete", "--id", "nope"], &as_refs(&env)).await;
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("404") && err.contains("TRK_404") && err.contains("nope"),
        "{err}"
    );
}

#[tokio::test]
async fn list_as_table_and_json() {
    let (server, hooks) = fake(false).await;
    let id = hooks.seed(
        json!({"name": "rec-hook", "targetUrl": TARGET, "secret": SECRET, "status": "inactive"}),
    );
    hooks.seed(json!({"name": "msg-hook", "targetUrl": TARGET, "resource": "messages"}));
    let env = env_for(&server);

    let out = run(&["list"], &as_refs(&env)).await;
    assert!(out.status.success());
    let table = stdout(&out);
    for needle in [
        id.as_str(),
        "rec-hook",
        "convergedRecordings/created",
        TARGET,
        "inactive",
    ] {
        assert!(table.contains(needle), "{needle} missing from\n{table}");
    }
    assert!(!table.contains("msg-hook"));
    assert!(!table.contains(SECRET));

    let out = run(&["list", "--json"], &as_refs(&env)).await;
    assert!(out.status.success());
    let v: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let arr = v.as_array().expect("array");
    assert_eq!(arr.len(), 1);
    assert_eq!(arr[0]["id"], json!(id));
    assert_eq!(arr[0]["targetUrl"], TARGET);
    assert_eq!(arr[0]["status"], "inactive");
    assert!(arr[0]["secret"].is_null());
}

#[tokio::test]
async fn delete_by_id_and_by_target() {
    let (server, hooks) = fake(false).await;
    let a = hooks.seed(json!({"name": "a", "targetUrl": TARGET}));
    hooks.seed(json!({"name": "b", "targetUrl": TARGET}));
    let c = hooks.seed(json!({"name": "c", "targetUrl": "https://other.example.com/h"}));
    let env = env_for(&server);

    let out = run(&["delete", "--id", &a], &as_refs(&env)).await;
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("removed 1 webhook(s)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(hooks.all().len(), 2);

    hooks.seed(json!({"name": "d", "targetUrl": TARGET}));
    let out = run(&["delete", "--target-url", TARGET], &as_refs(&env)).await;
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("removed 2 webhook(s)"),
        "{}",
        stdout(&out)
    );
    let left: Vec<Value> = hooks.all().iter().map(|h| h["id"].clone()).collect();
    assert_eq!(left, vec![json!(c)]);

    let out = run(&["delete"], &as_refs(&env)).await;
    assert!(!out.status.success());
}
