//! Trackers end to end: the API on the real application, the background re-evaluation of
//! stored recordings (resumed by another worker after a stop), and the `tracker=` filter.

use std::time::{Duration, Instant};

use call_analysis::transcript::{Cue, Transcript};
use chrono::Utc;
use serde_json::{Value, json};
use webex_recordings::access::{Principal, RandomToken, Role as AccessRole};
use webex_recordings::domain::{ProcessingStatus, Recording, RecordingId};
use webex_recordings::startup::Role;
use webex_recordings::store::Store;
use webex_recordings::trackers::TrackerDefinition;
use webex_recordings::trackers::reevaluate::{ReevaluationSettings, run_once};

use crate::support::{BOTH, Db, TestApp, TestDb};

const CALLS: usize = 50;

/// Call `i` says "cancelar" when `i` is a multiple of 3, lasts `60 + 10 i` seconds, and is in
/// English when `i` is a multiple of 5.
fn call(i: usize) -> Recording {
    let id = RecordingId::parse(&format!("call-{i:03}")).expect("id");
    let mut r = Recording::pending(id, Utc::now());
    r.processing_status = ProcessingStatus::Completed;
    r.caller_name = Some("Cliente".into());
    r.callee_name = Some("Agente".into());
    r.duration = Some(60.0 + 10.0 * i as f64);
    r.detected_language = Some(if i.is_multiple_of(5) { "en" } else { "es" }.into());
    let said = if i.is_multiple_of(3) {
        "Quiero CANCELAR el contrato"
    } else {
        "Todo bien, gracias"
    };
    r.transcript_cues = Some(Transcript {
        cues: vec![
            Cue {
                start_ms: 1_000,
                end_ms: 3_000,
                speaker: Some("Agente".into()),
                text: "Buenos días".into(),
            },
            Cue {
                start_ms: 12_000,
                end_ms: 15_000,
                speaker: Some("Cliente".into()),
                text: said.into(),
            },
        ],
    });
    r
}

async fn seed(store: &Store) {
    for i in 0..CALLS {
        store.upsert_recording(&call(i)).await.expect("store call");
    }
    // Pending calls have nothing to evaluate yet; the pipeline evaluates them when done.
    let pending = Recording::pending(RecordingId::parse("call-pending").expect("id"), Utc::now());
    store.upsert_recording(&pending).await.expect("store");
}

fn expected(pred: impl Fn(usize) -> bool) -> u64 {
    (0..CALLS).filter(|i| pred(*i)).count() as u64
}

async fn wait_done(app: &TestApp, name: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let body: Value = app
            .http
            .get(format!("{}/api/v1/trackers/{name}", app.base))
            .send()
            .await
            .expect("get tracker")
            .json()
            .await
            .expect("json");
        if body["reevaluation"]["done"] == true {
            return body;
        }
        assert!(Instant::now() < deadline, "re-evaluation finishes: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.http.request(method, format!("{}{path}", app.base));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let answer = req.send().await.expect("request");
    let status = answer.status().as_u16();
    let text = answer.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_tracker_created_after_50_calls_matches_the_right_ones_on_both_backends() {
    for db in BOTH {
        let test_db = TestDb::new(db).await;
        seed(&test_db.store).await;
        let app = TestApp::spawn(&test_db.url, Role::All, &[]).await;

        let (status, body) = send(
            &app,
            reqwest::Method::POST,
            "/api/v1/trackers",
            Some(
                json!({"name": "cancel", "rules": [{"phrase": ["cancelar"], "speaker": "agent"}]}),
            ),
        )
        .await;
        assert_eq!(status, 400, "{db:?}: {body}");
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("rules[0]")),
            "{body}"
        );

        let cancel =
            json!({"name": "cancel", "rules": [{"phrase": ["cancelar"], "speaker": "caller"}]});
        let (status, body) = send(
            &app,
            reqwest::Method::POST,
            "/api/v1/trackers",
            Some(cancel.clone()),
        )
        .await;
        assert_eq!(status, 201, "{db:?}: {body}");
        let (status, _) = send(
            &app,
            reqwest::Method::POST,
            "/api/v1/trackers",
            Some(cancel),
        )
        .await;
        assert_eq!(status, 409, "{db:?}");

        let done = wait_done(&app, "cancel").await;
        let cancelling = expected(|i| i.is_multiple_of(3));
        assert_eq!(done["matches"], cancelling, "{db:?}: {done}");
        assert_eq!(done["reevaluation"]["evaluated"], CALLS as u64, "{done}");
        assert_eq!(done["reevaluation"]["total"], CALLS as u64, "{done}");

        let (status, list) = send(
            &app,
            reqwest::Method::GET,
            "/api/v1/recordings/?tracker=cancel&limit=100",
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(list["total"], cancelling, "{db:?}");
        for item in list["items"].as_array().expect("items") {
            let n: usize = item["recordingId"].as_str().expect("id")[5..]
                .parse()
                .expect("n");
            assert_eq!(n % 3, 0, "{item}");
            assert_eq!(
                item["trackers"],
                json!([{"name": "cancel", "hits": [{"rule": 0, "start": 12.0}]}])
            );
        }

        // Long English calls, or not: any of them.
        let changed = json!({"match": "all", "rules": [{"duration_above": 300}, {"language": "en", "not": true}]});
        let (status, body) = send(
            &app,
            reqwest::Method::PUT,
            "/api/v1/trackers/cancel",
            Some(changed),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let done = wait_done(&app, "cancel").await;
        assert_eq!(
            done["matches"],
            expected(|i| 60 + 10 * i > 300 && !i.is_multiple_of(5)),
            "{db:?}: {done}"
        );
        assert_eq!(done["rules"][1], json!({"language": "en", "not": true}));

        let (status, list) = send(&app, reqwest::Method::GET, "/api/v1/trackers", None).await;
        assert_eq!(status, 200);
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1));

        // A viewer reads trackers but may not manage them.
        let viewer = RandomToken::generate("wrs_");
        test_db
            .store
            .create_session(
                &viewer.hash(),
                &Principal::new("val", AccessRole::Viewer),
                None,
            )
            .await
            .expect("session");
        let as_viewer = |method: reqwest::Method, path: &str| {
            app.http
                .request(method, format!("{}{path}", app.base))
                .header("cookie", format!("wr_session={}", viewer.expose()))
                .json(&json!({"rules": [{"language": "es"}]}))
                .send()
        };
        let read = as_viewer(reqwest::Method::GET, "/api/v1/trackers/cancel")
            .await
            .expect("get");
        assert_eq!(read.status(), 200);
        for method in [reqwest::Method::PUT, reqwest::Method::DELETE] {
            let refused = as_viewer(method, "/api/v1/trackers/cancel")
                .await
                .expect("send");
            assert_eq!(refused.status(), 403);
        }

        let (status, _) = send(
            &app,
            reqwest::Method::DELETE,
            "/api/v1/trackers/cancel",
            None,
        )
        .await;
        assert_eq!(status, 204);
        let (status, _) = send(&app, reqwest::Method::GET, "/api/v1/trackers/cancel", None).await;
        assert_eq!(status, 404);
        let (_, list) = send(
            &app,
            reqwest::Method::GET,
            "/api/v1/recordings/?tracker=cancel",
            None,
        )
        .await;
        assert_eq!(list["total"], 0);
        // Each change is audited with the tracker it named.
        let (_, audit) = send(&app, reqwest::Method::GET, "/api/v1/audit?limit=500", None).await;
        let changes: Vec<(&str, &str)> = audit["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|e| e["status"].as_u64().is_some_and(|s| s < 300))
            .filter_map(|e| Some((e["action"].as_str()?, e["detail"].as_str()?)))
            .filter(|(action, _)| action.starts_with("tracker."))
            .collect();
        for action in ["tracker.create", "tracker.update", "tracker.delete"] {
            assert!(
                changes.contains(&(action, "tracker \"cancel\"")),
                "{db:?} {action}: {changes:?}"
            );
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn a_language_name_or_an_all_dots_name_is_refused_and_nothing_stored() {
    let test_db = TestDb::new(Db::Sqlite).await;
    let app = TestApp::spawn(&test_db.url, Role::All, &[]).await;
    let refused = [
        (
            json!({"name": "spanish calls", "rules": [{"language": "spanish"}]}),
            "rules[0]: \"language\" must be a two-letter language code",
        ),
        // Every refused form is in the rules' unit tests; here, that the API says so.
        (
            json!({"name": "..", "rules": [{"language": "es"}]}),
            "only dots",
        ),
    ];
    for (body, expected) in refused {
        let (status, answer) = send(
            &app,
            reqwest::Method::POST,
            "/api/v1/trackers",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(
            answer["detail"]
                .as_str()
                .is_some_and(|d| d.contains(expected)),
            "{body}: {answer}"
        );
    }
    // The name in a path is checked alike: 400 naming it, not 404 (`..` itself would be
    // folded away by the client before it is sent, which is the point).
    let (status, answer) = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/trackers/...",
        Some(json!({"rules": [{"language": "es"}]})),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["detail"]
            .as_str()
            .is_some_and(|d| d.contains("only dots")),
        "{answer}"
    );
    let (status, list) = send(&app, reqwest::Method::GET, "/api/v1/trackers", None).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"], json!([]), "{list}");
    assert!(
        test_db
            .store
            .tracker_definitions()
            .await
            .expect("read")
            .is_empty()
    );

    // The same code in capitals is the filter's code: accepted and kept lower-case.
    let (status, answer) = send(
        &app,
        reqwest::Method::POST,
        "/api/v1/trackers",
        Some(json!({"name": "v1.2", "rules": [{"language": "ES"}]})),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["rules"][0], json!({"language": "es"}), "{answer}");
    app.stop().await;
}

fn definition(body: Value) -> TrackerDefinition {
    TrackerDefinition::from_json(&body).expect("valid tracker")
}

#[tokio::test]
async fn a_reevaluation_stopped_midway_is_finished_by_another_worker() {
    for db in BOTH {
        let test_db = TestDb::new(db).await;
        let store = &test_db.store;
        seed(store).await;
        let settings = ReevaluationSettings {
            batch: 7,
            ..ReevaluationSettings::default()
        };
        let now = Utc::now();
        // Two trackers created together share each batch.
        let long = definition(json!({"name": "long", "rules": [{"duration_above": 400}]}));
        let english = definition(json!({"name": "english", "rules": [{"language": "en"}]}));
        assert!(store.create_tracker(&long, now).await.expect("create"));
        assert!(store.create_tracker(&english, now).await.expect("create"));

        // The first worker does two batches, then stops.
        assert!(run_once(store, &settings, "worker-a").await.expect("batch"));
        assert!(run_once(store, &settings, "worker-a").await.expect("batch"));
        let midway = store
            .get_tracker("long")
            .await
            .expect("get")
            .expect("tracker");
        assert_eq!(
            (midway.evaluated, midway.total, midway.done),
            (14, CALLS as u64, false)
        );

        // While a worker holds the lease, no other one evaluates.
        let held_until = Utc::now() + chrono::Duration::hours(1);
        let lease = store
            .try_lease_job("trackers-reevaluate", "worker-c", Utc::now(), held_until)
            .await
            .expect("lease")
            .expect("free");
        assert!(
            !run_once(store, &settings, "worker-b")
                .await
                .expect("no lease")
        );
        store
            .finish_job(&lease, Ok(Utc::now()), Utc::now())
            .await
            .expect("release");

        // Another worker resumes from the stored cursor.
        let mut batches = 0;
        while run_once(store, &settings, "worker-b").await.expect("batch") {
            batches += 1;
        }
        // 50 calls in batches of 7 from call 14: 6 more batches, then one that finds the end.
        assert_eq!(batches, 7, "{db:?}");
        for (name, pred) in [
            (
                "long",
                &(|i: usize| 60 + 10 * i > 400) as &dyn Fn(usize) -> bool,
            ),
            ("english", &|i: usize| i.is_multiple_of(5)),
        ] {
            let t = store
                .get_tracker(name)
                .await
                .expect("get")
                .expect("tracker");
            assert!(t.done, "{db:?} {name}");
            assert_eq!(
                t.evaluated, CALLS as u64,
                "{db:?} {name}: nothing counted twice"
            );
            assert_eq!(t.matches, expected(pred), "{db:?} {name}");
        }
    }
}

#[tokio::test]
async fn stored_matches_follow_the_record_and_only_existing_trackers() {
    for db in [Db::Sqlite, Db::Postgres] {
        let test_db = TestDb::new(db).await;
        let store = &test_db.store;
        let t = definition(json!({"name": "english", "rules": [{"language": "en"}]}));
        store.create_tracker(&t, Utc::now()).await.expect("create");
        let mut rec = call(0);
        rec.trackers = webex_recordings::trackers::evaluate_all(&rec, &[t]);
        rec.trackers.push(webex_recordings::trackers::TrackerMatch {
            name: "deleted-meanwhile".into(),
            hits: vec![],
        });
        store.upsert_recording(&rec).await.expect("store");
        let stored = store
            .get_recording(&rec.recording_id)
            .await
            .expect("get")
            .expect("rec");
        let names: Vec<&str> = stored.trackers.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["english"], "{db:?}");
    }
}

/// The pipeline's tracker step on a real run: the record carries the matches, and its alerts
/// are in the outbox once the record is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_processed_call_carries_its_matches_and_its_alerts() {
    use std::sync::Arc;
    use webex_recordings::domain::{MessageSource, QueueMessage, RecordingEvent};
    use webex_recordings::pipeline::{Pipeline, PipelineDeps, PipelineSettings, run_consumer};
    use webex_recordings::queue::Publisher;
    use webex_recordings::queue::embedded::{EmbeddedQueue, EmbeddedSettings};

    use crate::fake_webex::{ES_ID, ES_VTT, FakeRecording, fake_webex, stored, wait_final, webex};

    let db = TestDb::new(Db::Sqlite).await;
    let store = &db.store;
    let tracker = definition(json!({"name": "billing", "rules": [{"phrase": ["Factura"]}]}));
    store
        .create_tracker(&tracker, Utc::now())
        .await
        .expect("create");
    let unmatched = definition(json!({"name": "english", "rules": [{"language": "en"}]}));
    store
        .create_tracker(&unmatched, Utc::now())
        .await
        .expect("create");
    let server = fake_webex().await;
    FakeRecording::new(ES_ID, Some(ES_VTT)).mount(&server).await;
    let data = tempfile::tempdir().expect("dir");
    let pipeline = Pipeline::new(PipelineDeps {
        store: store.clone(),
        webex: webex(&server),
        storage: webex_recordings::storage::Storage::local(data.path().to_path_buf()),
        chat: None,
        stt: None,
        summary_language: "es".into(),
        translate_to: None,
        redact: Default::default(),
        settings: PipelineSettings::default(),
    })
    .with_alerts(true);
    let queue = Arc::new(EmbeddedQueue::new(
        store.clone(),
        EmbeddedSettings::default(),
    ));
    let message = QueueMessage::new(
        MessageSource::Webhook,
        RecordingEvent::Created,
        RecordingId::parse(ES_ID).expect("id"),
        None,
        None,
    );
    queue.publish(&message).await.expect("publish");
    let cancel = tokio_util::sync::CancellationToken::new();
    let worker = tokio::spawn(run_consumer(queue, Arc::new(pipeline), 1, cancel.clone()));
    let status = wait_final(store, ES_ID, Duration::from_secs(30)).await;
    cancel.cancel();
    worker.await.expect("worker stops");
    assert_eq!(status, ProcessingStatus::Completed);

    let rec = stored(store, ES_ID).await;
    assert!(
        rec.processing_steps_completed
            .iter()
            .any(|s| s == "trackers")
    );
    let starts: Vec<Option<f64>> = rec
        .trackers
        .iter()
        .flat_map(|m| &m.hits)
        .map(|h| h.start)
        .collect();
    assert_eq!(rec.trackers.len(), 1, "{:?}", rec.trackers);
    assert_eq!(rec.trackers[0].name, "billing");
    assert_eq!(starts, [Some(0.0), Some(5.5), Some(11.5)]);

    let now = Utc::now();
    let outbox = store
        .claim_due_alerts(now, now + chrono::Duration::minutes(1), 10)
        .await
        .expect("outbox");
    let mut types: Vec<&str> = outbox.iter().map(|a| a.event.event_type.as_str()).collect();
    types.sort();
    assert_eq!(types, ["recording.completed", "tracker.matched"]);
}

#[tokio::test]
async fn a_call_stored_during_a_reevaluation_batch_keeps_the_match_the_pipeline_gave_it() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let tracker =
            TrackerDefinition::from_json(&json!({"name": "es", "rules": [{"language": "es"}]}))
                .expect("tracker");
        assert!(t.store.create_tracker(&tracker, Utc::now()).await.unwrap());
        let call = |id: &str| {
            let mut r = Recording::pending(RecordingId::parse(id).unwrap(), Utc::now());
            r.processing_status = ProcessingStatus::Completed;
            r.detected_language = Some("es".into());
            r
        };
        for id in ["a1", "c3"] {
            t.store.upsert_recording(&call(id)).await.unwrap();
        }
        let pending = t.store.pending_reevaluations().await.unwrap();
        let version = pending[0].version;
        // The batch read a1 and c3; then the pipeline stored b2, matched, before the batch's commit.
        let snapshot = [
            RecordingId::parse("a1").unwrap(),
            RecordingId::parse("c3").unwrap(),
        ];
        let mut b2 = call("b2");
        b2.trackers = vec![webex_recordings::trackers::TrackerMatch {
            name: "es".into(),
            hits: Vec::new(),
        }];
        assert!(t.store.save_recording(&b2, &[]).await.unwrap());
        let batch = webex_recordings::store::TrackerBatch {
            tracker: "es",
            version,
            matches: snapshot.iter().map(|id| (id.clone(), Vec::new())).collect(),
        };
        let stored = t
            .store
            .store_reevaluation_batch(&[batch], None, &snapshot)
            .await
            .unwrap();
        assert_eq!(stored, 1, "{db:?}");
        let matches = t
            .store
            .get_tracker("es")
            .await
            .unwrap()
            .expect("tracker")
            .matches;
        assert_eq!(matches, 3, "{db:?}: b2 keeps its match");
    }
}
