//! Keys and roles on every route, the audit log and its hash chain, legal hold and retention.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use webex_recordings::access::{RandomToken, Role};
use webex_recordings::domain::{ProcessingStatus, Recording, RecordingId};
use webex_recordings::startup::Role as ServeRole;
use webex_recordings::storage::{Storage, StorageError, StorageKey};
use webex_recordings::store::Store;
use webex_recordings::trackers::TrackerDefinition;

use crate::fake_webex::stored;
use crate::support::{BOTH, Db, TestApp, TestDb};

/// Who may call each operation, as CONTRACT.md's role table says (written here on its own, so
/// the service's table is checked against the contract, not against itself).
fn contract_roles(method: &str, path: &str) -> &'static [Role] {
    use Role::*;
    const ALL: &[Role] = &[Viewer, Supervisor, Auditor, Admin];
    match (method, path) {
        ("DELETE", "/api/v1/recordings/{id}") => &[Admin],
        ("POST", "/api/v1/recordings/{id}/reprocess" | "/api/v1/recordings/fetch") => {
            &[Supervisor, Admin]
        }
        ("POST", "/api/v1/recordings/{id}/swap-roles") => &[Supervisor, Admin],
        ("PUT" | "DELETE", "/api/v1/recordings/{id}/hold") => &[Auditor, Admin],
        ("GET", "/api/v1/audit") => &[Auditor, Admin],
        ("POST" | "PUT" | "DELETE", p) if p.starts_with("/api/v1/trackers") => &[Supervisor, Admin],
        ("GET", _) => ALL,
        other => panic!("the contract's table says nothing of {other:?}: add it here"),
    }
}

struct Keys(HashMap<Role, String>);

async fn make_keys(store: &Store) -> Keys {
    let mut keys = HashMap::new();
    for role in [Role::Viewer, Role::Supervisor, Role::Auditor, Role::Admin] {
        let key = RandomToken::generate("wrk_");
        store
            .create_key(&format!("{role}-key"), role, &key.hash())
            .await
            .unwrap();
        keys.insert(role, key.expose().to_string());
    }
    Keys(keys)
}

/// A receiver on a fresh database, with a key of each role and a `DATA_DIR` of its own.
struct Receiver {
    t: TestDb,
    keys: Keys,
    data: tempfile::TempDir,
    app: TestApp,
}

async fn receiver(db: Db) -> Receiver {
    let t = TestDb::new(db).await;
    let keys = make_keys(&t.store).await;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().display().to_string();
    let app = TestApp::spawn(&t.url, ServeRole::Receiver, &[("DATA_DIR", &data_dir)]).await;
    Receiver { t, keys, data, app }
}

/// A completed call recorded at `at`, with its parties, transcript and summary.
fn completed_call(id: &str, at: DateTime<Utc>) -> Recording {
    let mut r = Recording::pending(RecordingId::parse(id).unwrap(), Utc::now());
    r.timestamp = Some(at);
    r.processing_status = ProcessingStatus::Completed;
    r.caller = Some("+34600000001".into());
    r.callee = Some("4060".into());
    r.caller_name = Some("Ana García".into());
    r.duration = Some(120.0);
    r.transcript_text = Some("Ana García: quiero cancelar".into());
    r.summary_text = Some("Cancelación".into());
    r
}

/// A completed call of March 2025, stored.
async fn seed(store: &Store, id: &str, day: u32) -> Recording {
    let r = completed_call(id, Utc.with_ymd_and_hms(2025, 3, day, 10, 0, 0).unwrap());
    store.upsert_recording(&r).await.unwrap();
    r
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn call(app: &TestApp, key: &str, method: Method, path: &str) -> (u16, Value) {
    let mut req = client()
        .request(method.clone(), format!("{}{path}", app.base))
        .bearer_auth(key);
    if method == Method::PUT || method == Method::POST {
        req = req.json(&json!({"reason": "case 7", "name": "t", "match": "any", "rules": []}));
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_contract_table_says() {
    let doc = webex_recordings::http::recordings::openapi_document();
    let doc = serde_json::to_value(&doc).unwrap();
    for db in BOTH {
        let t = TestDb::new(db).await;
        let keys = make_keys(&t.store).await;
        let app = TestApp::spawn(&t.url, ServeRole::Receiver, &[]).await;
        let mut checked = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                let allowed = contract_roles(&method.to_uppercase(), path);
                for (role, key) in &keys.0 {
                    seed(&t.store, "r1", 1).await;
                    let concrete = path.replace("{id}", "r1").replace("{name}", "t");
                    let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                    let (status, body) = call(&app, key, m.clone(), &concrete).await;
                    assert!(
                        status < 500 || status == 502 || status == 503,
                        "{db:?} {method} {path} as {role}: {status} {body}"
                    );
                    if m == Method::GET {
                        // HEAD is a GET without the body, allowed to the same roles.
                        let (head, _) = call(&app, key, Method::HEAD, &concrete).await;
                        assert_eq!(head, status, "{db:?} HEAD {path} as {role}");
                    }
                    // Every answer a client can get is in the document.
                    assert!(
                        item[method]["responses"].get(status.to_string()).is_some(),
                        "{method} {path} answers {status} as {role}; the document does not say so"
                    );
                    if allowed.contains(role) {
                        assert_ne!(status, 403, "{db:?} {method} {path} as {role}: {body}");
                    } else {
                        assert_eq!(status, 403, "{db:?} {method} {path} as {role}: {body}");
                        assert_eq!(body["error"], "forbidden");
                    }
                    checked += 1;
                }
            }
        }
        assert!(
            checked >= 4 * 10,
            "every operation with every role: {checked}"
        );
        // A revoked key is refused as unknown, not as forbidden.
        t.store.revoke_key("admin-key").await.unwrap();
        let (status, _) = call(
            &app,
            &keys.0[&Role::Admin],
            Method::GET,
            "/api/v1/recordings/",
        )
        .await;
        assert_eq!(status, 401);
        app.stop().await;
    }
}

#[tokio::test]
async fn a_deletion_that_cannot_be_recorded_does_not_happen() {
    // `_data` keeps the folder for as long as the test runs.
    let Receiver {
        t,
        keys,
        data: _data,
        app,
    } = receiver(Db::Postgres).await;
    seed(&t.store, "r1", 1).await;
    sqlx::any::install_default_drivers();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&t.url)
        .await
        .unwrap();
    sqlx::raw_sql(
        "CREATE FUNCTION refuse_deletion_entries() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN RAISE EXCEPTION 'the audit log is unavailable for the test'; END $$; \
         CREATE TRIGGER refuse_deletion_entries BEFORE INSERT ON audit_log FOR EACH ROW \
           WHEN (NEW.action = 'recording.delete') EXECUTE FUNCTION refuse_deletion_entries();",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    let (status, body) = call(
        &app,
        &keys.0[&Role::Admin],
        Method::DELETE,
        "/api/v1/recordings/r1",
    )
    .await;
    assert_eq!(status, 503, "{body}");
    let r1 = stored(&t.store, "r1").await;
    assert_eq!(
        r1.processing_status,
        ProcessingStatus::Completed,
        "not deleted"
    );
    app.stop().await;
}

/// A worker killed after storing a file, before writing its record, leaves the file known only
/// by its note: DELETE through the API removes it too.
#[tokio::test]
async fn an_api_deletion_removes_a_file_only_a_note_names() {
    for db in BOTH {
        let Receiver { t, keys, data, app } = receiver(db).await;
        let id = RecordingId::parse("r-noted").unwrap();
        let now = Utc::now();
        t.store.claim_recording(&id, false, now, now).await.unwrap();
        let storage = Storage::local(data.path().to_path_buf());
        let key = StorageKey::audio(&id, now, "mp3");
        assert!(
            t.store
                .note_file(&id, &storage.location(&key), now)
                .await
                .unwrap()
        );
        storage.put_bytes(&key, "audio".into()).await.unwrap();

        let (status, body) = call(
            &app,
            &keys.0[&Role::Admin],
            Method::DELETE,
            "/api/v1/recordings/r-noted",
        )
        .await;
        assert_eq!(status, 200, "{db:?}: {body}");
        assert!(
            matches!(
                storage.get(&key, None).await,
                Err(StorageError::NotFound(_))
            ),
            "{db:?}: the noted file is removed"
        );
        app.stop().await;
    }
}

async fn audit_items(app: &TestApp, key: &str, query: &str) -> Vec<Value> {
    let (status, page) = call(
        app,
        key,
        Method::GET,
        &format!("/api/v1/audit?limit=1000{query}"),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn each_action_is_audited_with_actor_address_and_status_and_the_chain_verifies() {
    for db in BOTH {
        let Receiver {
            t,
            keys,
            data: _data,
            app,
        } = receiver(db).await;
        seed(&t.store, "r1", 1).await;
        seed(&t.store, "r2", 2).await;
        let viewer = &keys.0[&Role::Viewer];
        let admin = &keys.0[&Role::Admin];
        let auditor = &keys.0[&Role::Auditor];

        assert_eq!(
            call(&app, viewer, Method::GET, "/api/v1/recordings/r1")
                .await
                .0,
            200
        );
        call(
            &app,
            viewer,
            Method::GET,
            "/api/v1/recordings/download/r1/audio",
        )
        .await;
        // (key, method, path, expected status), in order.
        let steps: [(&String, Method, &str, u16); 5] = [
            (viewer, Method::GET, "/api/v1/recordings/?q=cancelar", 200),
            (
                viewer,
                Method::GET,
                "/api/v1/recordings/?q=4539%201488%200343%206467",
                200,
            ),
            (viewer, Method::DELETE, "/api/v1/recordings/r2", 403),
            (admin, Method::POST, "/api/v1/recordings/r1/reprocess", 202),
            (auditor, Method::PUT, "/api/v1/recordings/r1/hold", 200),
        ];
        for (key, method, path, expected) in steps {
            let (status, body) = call(&app, key, method.clone(), path).await;
            assert_eq!(status, expected, "{db:?} {method} {path}: {body}");
        }
        // Too long to search: refused, and recorded by its length only; padding is not length.
        let long = format!("/api/v1/recordings/?q={}", "4539%20".repeat(240));
        let (status, body) = call(&app, viewer, Method::GET, &long).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")));
        let padded = format!("/api/v1/recordings/?q=cancelar{}", "%20".repeat(1000));
        let (status, body) = call(&app, viewer, Method::GET, &padded).await;
        assert_eq!(status, 200, "{body}");
        // Held: neither deleted nor reprocessed.
        let (status, body) = call(&app, admin, Method::DELETE, "/api/v1/recordings/r1").await;
        assert_eq!((status, body["error"].as_str()), (409, Some("legal_hold")));
        let (status, _) = call(&app, admin, Method::POST, "/api/v1/recordings/r1/reprocess").await;
        assert_eq!(status, 409);
        let (_, rec) = call(&app, viewer, Method::GET, "/api/v1/recordings/r1").await;
        assert_eq!(rec["legal_hold"]["reason"], "case 7");
        assert_eq!(rec["legal_hold"]["by"], "auditor-key");
        for (key, path) in [
            (auditor, "/api/v1/recordings/r1/hold"),
            (admin, "/api/v1/recordings/r2"),
        ] {
            let (status, body) = call(&app, key, Method::DELETE, path).await;
            assert_eq!(status, 200, "{db:?} DELETE {path}: {body}");
        }

        let items = audit_items(&app, auditor, "").await;
        let find = |action: &str, status: u64| {
            items
                .iter()
                .find(|e| e["action"] == action && e["status"] == status)
                .unwrap_or_else(|| panic!("{db:?}: no {action} {status} in {items:#?}"))
                .clone()
        };
        let view = find("recording.view", 200);
        assert_eq!(view["actor"], "viewer-key");
        assert_eq!(view["role"], "viewer");
        assert_eq!(view["recording_id"], "r1");
        assert_eq!(view["ip"], "127.0.0.1");
        find("recording.audio", 404);
        let searches: Vec<&Value> = items
            .iter()
            .filter(|e| e["action"] == "recording.search")
            .collect();
        let details: Vec<&str> = searches
            .iter()
            .filter_map(|e| e["detail"].as_str())
            .collect();
        assert_eq!(
            details,
            [
                "cancelar",
                "(1199 characters, too long to search)",
                "[CARD]",
                "cancelar"
            ],
            "{db:?}: newest first, redacted"
        );
        assert_eq!(find("recording.delete", 403)["actor"], "viewer-key");
        find("recording.reprocess", 202);
        find("recording.reprocess", 409);
        assert_eq!(find("hold.set", 200)["detail"], "case 7");
        find("hold.release", 200);
        // One entry per change, written with it: the access layer adds none.
        for action in ["recording.delete", "hold.set", "hold.release"] {
            let written = items
                .iter()
                .filter(|e| e["action"] == action && e["status"] == 200)
                .count();
            assert_eq!(written, 1, "{db:?}: {action}");
        }
        // Newest first, and filters narrow.
        let ids: Vec<i64> = items.iter().map(|e| e["id"].as_i64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] > w[1]));
        let only = audit_items(&app, auditor, "&actor=viewer-key&action=recording.view").await;
        assert_eq!(only.len(), 2, "the viewer read r1 twice");
        // Days as the console's page takes them: a `to` day is included whole.
        let today = Utc::now().date_naive();
        let days = audit_items(&app, auditor, &format!("&from={today}&to={today}")).await;
        assert_eq!(
            days.len(),
            items.len() + 2,
            "{db:?}: every entry, and the two reads of the log since"
        );
        let yesterday = today.pred_opt().unwrap();
        assert!(
            audit_items(&app, auditor, &format!("&to={yesterday}"))
                .await
                .is_empty()
        );
        for bad in ["from=soon", "to=", "from=%20"] {
            let path = format!("/api/v1/audit?{bad}");
            let (status, body) = call(&app, auditor, Method::GET, &path).await;
            assert_eq!(status, 400, "{bad}");
            let detail = body["detail"].as_str().unwrap_or_default();
            assert!(detail.starts_with(&bad[..2]), "{bad}: {body}");
        }

        let csv = client()
            .get(format!("{}/api/v1/audit?format=csv", app.base))
            .bearer_auth(auditor)
            .send()
            .await
            .unwrap();
        assert!(
            csv.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let csv = csv.text().await.unwrap();
        assert!(
            csv.starts_with("id,at,actor,role,action,recording_id,ip,user_agent,status,detail\n")
        );

        let total = t.store.verify_audit().await.unwrap().expect("intact");
        assert!(total >= 10);
        app.stop().await;
    }
}

/// Runs `sql` with the append-only triggers out of the way, as an attacker with the database
/// would, so that `verify_audit` must catch it.
async fn tamper(t: &TestDb, db: Db, sql: &str) {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&t.url)
        .await
        .unwrap();
    let (off, on) = match db {
        Db::Sqlite => (
            "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
            "",
        ),
        Db::Postgres => (
            "ALTER TABLE audit_log DISABLE TRIGGER USER;",
            "ALTER TABLE audit_log ENABLE TRIGGER USER;",
        ),
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("{off} {sql} {on}")))
        .execute(&mut conn)
        .await
        .unwrap();
}

async fn log_of_five(t: &TestDb) {
    for i in 1..=5 {
        let e = webex_recordings::store::NewAuditEntry {
            at: Utc::now(),
            actor: format!("actor-{i}"),
            role: Some("viewer".into()),
            action: "recording.view".into(),
            recording_id: Some(format!("r{i}")),
            ip: Some("10.0.0.1".into()),
            user_agent: None,
            status: 200,
            detail: None,
        };
        t.store.append_audit(&e).await.unwrap();
    }
}

#[tokio::test]
async fn the_database_refuses_changes_and_verify_names_an_edited_removed_or_reordered_entry() {
    use webex_recordings::store::AuditBreak;
    for db in BOTH {
        let cases: [(&str, AuditBreak); 3] = [
            (
                "UPDATE audit_log SET actor = 'someone-else' WHERE id = 3;",
                AuditBreak::Edited { id: 3 },
            ),
            (
                "DELETE FROM audit_log WHERE id = 2;",
                AuditBreak::Chain { id: 3, previous: 1 },
            ),
            (
                "UPDATE audit_log SET id = 99 WHERE id = 4; UPDATE audit_log SET id = 4 WHERE id = 2; UPDATE audit_log SET id = 2 WHERE id = 99;",
                AuditBreak::Chain { id: 2, previous: 1 },
            ),
        ];
        for (sql, expected) in cases {
            let t = TestDb::new(db).await;
            log_of_five(&t).await;
            assert_eq!(t.store.verify_audit().await.unwrap(), Ok(5));
            // With its triggers in place the database itself refuses.
            sqlx::any::install_default_drivers();
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&t.url)
                .await
                .unwrap();
            for refused in [
                "UPDATE audit_log SET actor = 'x' WHERE id = 1",
                "DELETE FROM audit_log WHERE id = 1",
            ] {
                let err = sqlx::raw_sql(refused).execute(&mut conn).await.unwrap_err();
                assert!(err.to_string().contains("append-only"), "{db:?}: {err}");
            }
            tamper(&t, db, sql).await;
            assert_eq!(
                t.store.verify_audit().await.unwrap(),
                Err(expected),
                "{db:?} {sql}"
            );
        }
    }
}

#[tokio::test]
async fn retention_purges_to_tombstones_keeps_held_calls_and_backfill_never_returns_them() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let data = tempfile::tempdir().unwrap();
        let storage = Storage::local(data.path().to_path_buf());
        let day = |id: &str, days_ago: i64| {
            completed_call(id, Utc::now() - chrono::Duration::days(days_ago))
        };
        let mut paths = HashMap::new();
        for (id, age) in [("old1", 40), ("old2", 35), ("held", 50), ("new", 5)] {
            let mut r = day(id, age);
            let key = StorageKey::audio(&r.recording_id, r.timestamp.unwrap(), "mp3");
            storage.put_bytes(&key, vec![1u8; 64].into()).await.unwrap();
            r.audio_local_path = Some(storage.location(&key));
            paths.insert(id, storage.location(&key));
            t.store.upsert_recording(&r).await.unwrap();
        }
        let audit = |action: &str| webex_recordings::store::NewAuditEntry {
            at: Utc::now(),
            actor: "auditor".into(),
            role: Some("auditor".into()),
            action: action.into(),
            recording_id: Some("held".into()),
            ip: None,
            user_agent: None,
            status: 200,
            detail: None,
        };
        t.store
            .set_hold(
                &RecordingId::parse("held").unwrap(),
                "litigation",
                &audit("hold.set"),
            )
            .await
            .unwrap();
        let thirty_days = Duration::from_secs(30 * 86_400);
        let purge = |dry| {
            webex_recordings::retention::purge_expired(&t.store, &storage, thirty_days, dry, "test")
        };

        let dry = purge(true).await.unwrap();
        assert_eq!((dry.purged, dry.held), (2, 1), "{db:?}");
        let still = stored(&t.store, "old1").await;
        assert_eq!(
            still.transcript_text.as_deref(),
            Some("Ana García: quiero cancelar"),
            "dry run changed nothing"
        );

        let report = purge(false).await.unwrap();
        assert_eq!((report.purged, report.held), (2, 1), "{db:?}");
        for id in ["old1", "old2"] {
            let r = stored(&t.store, id).await;
            assert_eq!(r.processing_status, ProcessingStatus::Purged);
            assert!(r.purged_at.is_some());
            assert_eq!(
                (r.caller.as_deref(), r.callee.as_deref(), r.duration),
                (Some("+34600000001"), Some("4060"), Some(120.0))
            );
            assert!(r.timestamp.is_some());
            assert!(
                r.transcript_text.is_none() && r.summary_text.is_none() && r.caller_name.is_none()
            );
            assert!(r.audio_local_path.is_none());
            assert!(
                !std::path::Path::new(&paths[id]).exists(),
                "{id}'s audio is gone"
            );
        }
        for id in ["held", "new"] {
            let r = stored(&t.store, id).await;
            assert_eq!(r.processing_status, ProcessingStatus::Completed, "{id}");
            assert!(std::path::Path::new(&paths[id]).exists());
        }
        assert_eq!(
            purge(false).await.unwrap().purged,
            0,
            "a second run finds nothing"
        );

        // A backfill over the window sees them at Webex and enqueues none of them.
        let states = t
            .store
            .recording_states(&[
                RecordingId::parse("old1").unwrap(),
                RecordingId::parse("old2").unwrap(),
            ])
            .await
            .unwrap();
        assert!(
            states
                .values()
                .all(|s| s.status == ProcessingStatus::Purged)
        );
        let webex = wiremock::MockServer::start().await;
        let items: Vec<_> = ["old1", "old2"]
            .iter()
            .map(|id| json!({"id": id, "status": "available", "timeRecorded": "2026-10-01T08:00:00Z"}))
            .collect();
        wiremock::Mock::given(wiremock::matchers::method("GET"))
            .respond_with(
                wiremock::ResponseTemplate::new(200).set_body_json(json!({ "items": items })),
            )
            .mount(&webex)
            .await;
        let queue = webex_recordings::queue::embedded::EmbeddedQueue::new(
            t.store.clone(),
            Default::default(),
        );
        let report = webex_recordings::reconciler::reconcile(
            &crate::fake_webex::webex(&webex),
            &t.store,
            &queue,
            webex_recordings::reconciler::Window {
                from: Utc::now() - chrono::Duration::days(60),
                to: Utc::now(),
            },
            &Default::default(),
            &|_: &webex_recordings::reconciler::ReconcileReport| {},
        )
        .await
        .unwrap();
        assert_eq!((report.seen, report.enqueued), (2, 0), "{db:?}");
        assert_eq!(
            t.store.verify_audit().await.unwrap(),
            Ok(2),
            "hold.set and one purge"
        );
    }
}

/// A purge removes the text first, in one statement that skips held calls, and the files
/// after: a hold cannot come in between (a purged call cannot be held), a purge that stops in
/// between is finished by the next, and files that cannot be removed are reported.
#[tokio::test]
async fn a_purge_never_removes_files_under_a_hold_and_finishes_what_it_left() {
    let t = TestDb::new(Db::Sqlite).await;
    let data = tempfile::tempdir().unwrap();
    let storage = Storage::local(data.path().to_path_buf());
    let mut paths = HashMap::new();
    for id in ["old1", "old2"] {
        let mut r = completed_call(id, Utc::now() - chrono::Duration::days(40));
        let key = StorageKey::audio(&r.recording_id, r.timestamp.unwrap(), "mp3");
        storage.put_bytes(&key, vec![1u8; 64].into()).await.unwrap();
        r.audio_local_path = Some(storage.location(&key));
        paths.insert(id, std::path::PathBuf::from(storage.location(&key)));
        t.store.upsert_recording(&r).await.unwrap();
    }
    let entry =
        |action: &str| webex_recordings::store::NewAuditEntry::unattended("test", action, None);
    // A purge that stopped after the text: the files and their locations are still there.
    let ids = ["old1".to_string()];
    assert_eq!(t.store.purge(&ids, |_| entry("purge")).await.unwrap(), 1);
    assert!(paths["old1"].exists());
    let left = || async {
        let rows = t.store.purged_with_files("", 10).await.unwrap();
        rows.into_iter().map(|r| r.recording_id).collect::<Vec<_>>()
    };
    assert_eq!(left().await, ["old1"], "its file is still to be removed");
    let tombstone = stored(&t.store, "old1").await;
    assert!(
        tombstone.audio_local_path.is_none(),
        "a tombstone shows no location"
    );
    let old1 = RecordingId::parse("old1").unwrap();
    let hold = t.store.set_hold(&old1, "late", &entry("hold.set")).await;
    assert!(
        matches!(
            hold,
            Ok(webex_recordings::store::HoldChange::NoSuchRecording)
        ),
        "a purged call cannot be held: {hold:?}"
    );

    // old2's audio cannot be removed (a folder with something in it stands at its path).
    std::fs::remove_file(&paths["old2"]).unwrap();
    std::fs::create_dir_all(paths["old2"].join("x")).unwrap();
    let purge = || {
        let retention = Duration::from_secs(30 * 86_400);
        webex_recordings::retention::purge_expired(&t.store, &storage, retention, false, "test")
    };
    let report = purge().await.unwrap();
    assert_eq!((report.purged, report.files_left), (1, 1));
    assert!(!paths["old1"].exists(), "the next run removed old1's audio");

    let old2 = stored(&t.store, "old2").await;
    assert_eq!(old2.processing_status, ProcessingStatus::Purged);
    assert!(
        old2.transcript_text.is_none(),
        "the text goes whatever the files do"
    );
    assert_eq!(left().await, ["old2"], "kept for the next run");

    std::fs::remove_dir_all(&paths["old2"]).unwrap();
    let report = purge().await.unwrap();
    assert_eq!((report.purged, report.files_left), (0, 0));
    assert!(left().await.is_empty());
}

/// A purge takes a recording's tracker hits with its text; a soft-deleted recording keeps its
/// hits (it stays readable by id) but no longer counts in the tracker's `matches`.
#[tokio::test]
async fn purged_calls_leave_no_tracker_hits_and_deleted_ones_are_not_counted() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let long = TrackerDefinition::from_json(
            &json!({"name": "long", "rules": [{"duration_above": 60}]}),
        )
        .unwrap();
        t.store.create_tracker(&long, Utc::now()).await.unwrap();
        for (id, days_ago) in [("kept", 1), ("deleted", 1), ("expired", 40)] {
            let mut r = completed_call(id, Utc::now() - chrono::Duration::days(days_ago));
            r.trackers = webex_recordings::trackers::evaluate_all(&r, std::slice::from_ref(&long));
            t.store.upsert_recording(&r).await.unwrap();
        }
        let hits = |id: &'static str| async { stored(&t.store, id).await.trackers.len() };
        let matches = || async { t.store.get_tracker("long").await.unwrap().unwrap().matches };
        assert_eq!(matches().await, 3, "{db:?}");

        let deleted = RecordingId::parse("deleted").unwrap();
        assert!(
            t.store
                .mark_recording_deleted(&deleted, Utc::now())
                .await
                .unwrap()
        );
        assert_eq!(matches().await, 2, "{db:?}: a deleted call is not counted");
        assert_eq!(
            hits("deleted").await,
            1,
            "{db:?}: its page still shows them"
        );

        let data = tempfile::tempdir().unwrap();
        let storage = Storage::local(data.path().to_path_buf());
        let thirty_days = Duration::from_secs(30 * 86_400);
        let report = webex_recordings::retention::purge_expired(
            &t.store,
            &storage,
            thirty_days,
            false,
            "test",
        )
        .await
        .unwrap();
        assert_eq!(report.purged, 1, "{db:?}");
        assert_eq!(
            hits("expired").await,
            0,
            "{db:?}: a purged call keeps no hits"
        );
        assert_eq!(matches().await, 1, "{db:?}");
        assert_eq!(hits("kept").await, 1, "{db:?}");
        let listed = t.store.list_trackers().await.unwrap();
        assert_eq!(listed[0].matches, 1, "{db:?}: the list counts the same");
    }
}
