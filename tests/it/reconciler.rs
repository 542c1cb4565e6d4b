//! The reconciler against a fake Webex (wiremock on a loopback port) and the embedded queue.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::{Value, json};
use webex_recordings::domain::{MessageSource, ProcessingStatus, RecordingId};
use webex_recordings::queue::embedded::{EmbeddedQueue, EmbeddedSettings};
use webex_recordings::queue::{Consumer, Publisher};
use webex_recordings::reconciler::{
    JOB_LEASE, JOB_NAME, ReconcileOptions, ReconcileReport, ScheduleTiming, ServiceTypes, Window,
    reconcile, scheduled_run,
};
use webex_recordings::store::{Claim, Store};
use webex_recordings::webex::ListScope;
use wiremock::matchers::{body_json, query_param, query_param_is_missing};
use wiremock::{MockServer, Request, ResponseTemplate};

use crate::fake_webex::{on, webex};
use crate::support::{BOTH, Db, TestDb, wait_until};

const LIST: &str = "/v1/admin/convergedRecordings";

/// Schedule timing with the service's lease.
fn timing(overlap: Duration) -> ScheduleTiming {
    ScheduleTiming {
        overlap,
        lease: JOB_LEASE,
        services: ServiceTypes::Calling,
    }
}

fn queue(store: &Store) -> EmbeddedQueue {
    EmbeddedQueue::new(store.clone(), EmbeddedSettings::default())
}

fn id(raw: &str) -> RecordingId {
    RecordingId::parse(raw).unwrap()
}

fn rec(id: &str) -> Value {
    json!({"id": id, "status": "available", "timeRecorded": "2026-11-05T10:00:00Z", "format": "MP3"})
}

fn page(items: Vec<Value>, next: Option<String>) -> ResponseTemplate {
    let t = ResponseTemplate::new(200).set_body_json(json!({ "items": items }));
    match next {
        Some(n) => t.insert_header("Link", format!(r#"<{n}>; rel="next""#)),
        None => t,
    }
}

fn window() -> Window {
    Window {
        from: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
        to: Utc.with_ymd_and_hms(2026, 11, 10, 0, 0, 0).unwrap(),
    }
}

/// One reconcile of `window` against the fake at `server`, without progress reports.
async fn reconcile_once(
    server: &MockServer,
    store: &Store,
    q: &EmbeddedQueue,
    window: Window,
    options: &ReconcileOptions,
) -> ReconcileReport {
    reconcile(&webex(server), store, q, window, options, &no_progress())
        .await
        .unwrap()
}

fn no_progress() -> impl Fn(&ReconcileReport) + Send + Sync {
    |_| {}
}

async fn depth(q: &EmbeddedQueue) -> u64 {
    q.depth().await.unwrap().ready
}

async fn list_requests(server: &MockServer, p: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == p)
        .collect()
}

fn param(r: &Request, name: &str) -> Option<DateTime<Utc>> {
    r.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| DateTime::parse_from_rfc3339(&v).unwrap().to_utc())
}

/// Answers every admin listing with `response`.
async fn mount_listing(server: &MockServer, response: ResponseTemplate) {
    on("GET", LIST).respond_with(response).mount(server).await;
}

/// What a scheduled run asks Webex: its webhooks (none to reactivate) and the listing, answered
/// with `listing`.
async fn mount_schedule(server: &MockServer, listing: ResponseTemplate) {
    mount_empty_webhooks(server).await;
    mount_listing(server, listing).await;
}

/// A fresh SQLite store and an embedded queue on it.
async fn sqlite_with_queue() -> (TestDb, EmbeddedQueue) {
    let t = TestDb::new(Db::Sqlite).await;
    let q = queue(&t.store);
    (t, q)
}

async fn mount_empty_webhooks(server: &MockServer) {
    on("GET", "/v1/webhooks")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": []})))
        .mount(server)
        .await;
}

/// Three pages; stored rows in every state. Exactly the missing and unfinished ones are sent,
/// and a second run right after sends nothing.
#[tokio::test]
async fn three_pages_enqueue_missing_and_unfinished_once() {
    for db in BOTH {
        three_pages(db).await;
    }
}

async fn three_pages(db: Db) {
    let server = MockServer::start().await;
    let base = format!("{}/v1", server.uri());
    on("GET", LIST)
        .and(query_param("from", "2026-11-01T00:00:00Z"))
        .and(query_param("to", "2026-11-10T00:00:00Z"))
        .and(query_param("max", "100"))
        .and(query_param_is_missing("cursor"))
        .respond_with(page(
            vec![rec("a1"), rec("a2"), rec("a3"), rec("a4")],
            Some(format!("{base}/admin/convergedRecordings?cursor=opaque-p2")),
        ))
        .mount(&server)
        .await;
    on("GET", LIST)
        .and(query_param("cursor", "opaque-p2"))
        .respond_with(page(
            vec![
                rec("a5"),
                rec("a6"),
                rec("a7"),
                rec("a8"),
                rec("bad/id"),
                json!({"id": "gone1", "status": "deleted"}),
                rec("a1"),
            ],
            Some(format!("{base}/admin/convergedRecordings?cursor=opaque-p3")),
        ))
        .mount(&server)
        .await;
    on("GET", LIST)
        .and(query_param("cursor", "opaque-p3"))
        .respond_with(page(vec![rec("a9"), rec("a10")], None))
        .mount(&server)
        .await;

    let t = TestDb::new(db).await;
    let store = &t.store;
    let now = Utc::now();
    store
        .import_bare_recordings(
            &[
                (id("a1"), ProcessingStatus::Completed),
                (id("a2"), ProcessingStatus::Partial),
                (id("a3"), ProcessingStatus::Pending),
                (id("a5"), ProcessingStatus::Failed),
                (id("a6"), ProcessingStatus::Deleted),
                (id("a7"), ProcessingStatus::Processing),
            ],
            now,
        )
        .await
        .unwrap();
    // a8: a worker holds it right now (fresh heartbeat).
    store
        .claim_recording(&id("a8"), false, now, now - TimeDelta::minutes(10))
        .await
        .unwrap();

    let webex = webex(&server);
    let q = queue(store);
    let pages_seen = std::sync::Mutex::new(0u32);
    let progress = |_: &ReconcileReport| *pages_seen.lock().unwrap() += 1;
    let options = ReconcileOptions::default();
    let report = reconcile(&webex, store, &q, window(), &options, &progress)
        .await
        .unwrap();

    let mut sent = report.enqueued_ids.clone();
    sent.sort();
    let expected: Vec<RecordingId> = ["a10", "a3", "a4", "a5", "a7", "a9"]
        .into_iter()
        .map(id)
        .collect();
    assert_eq!(sent, expected, "{db:?}");
    assert_eq!(report.seen, 10);
    assert_eq!(report.stored, 4);
    assert_eq!(report.enqueued, 6);
    assert_eq!(report.webex_calls, 3);
    assert_eq!(report.scope, Some(ListScope::Admin));
    assert_eq!(*pages_seen.lock().unwrap(), 3);
    assert_eq!(depth(&q).await, 6);

    // The messages are backfill `created` events.
    let delivery = q
        .next(&tokio_util::sync::CancellationToken::new())
        .await
        .unwrap()
        .unwrap();
    let msg = delivery.payload.as_ref().unwrap();
    assert_eq!(msg.source, MessageSource::Backfill);
    assert!(expected.contains(&msg.recording_id));

    // The rows are pending now (in progress); the worker's row is untouched.
    let states = store.recording_states(&expected).await.unwrap();
    assert_eq!(states.len(), 6);
    assert!(
        states
            .values()
            .all(|s| s.status == ProcessingStatus::Pending && s.heartbeat_at.is_some())
    );
    let a8 = store.recording_states(&[id("a8")]).await.unwrap();
    let before = depth(&q).await;
    assert_eq!(a8[&id("a8")].status, ProcessingStatus::Processing);

    // Right after: nothing is sent again.
    let again = reconcile(&webex, store, &q, window(), &options, &no_progress())
        .await
        .unwrap();
    assert_eq!(again.enqueued, 0, "{db:?}: {:?}", again.enqueued_ids);
    assert_eq!(again.seen, 10);
    assert_eq!(again.stored, 10);
    assert_eq!(depth(&q).await, before);
}

#[tokio::test]
async fn a_41_day_window_is_cut_into_slices_of_at_most_30_days() {
    let server = MockServer::start().await;
    mount_listing(&server, page(vec![], None)).await;
    let (t, q) = sqlite_with_queue().await;
    let to = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    let w = Window {
        from: to - TimeDelta::days(41),
        to,
    };
    let report = reconcile_once(&server, &t.store, &q, w, &ReconcileOptions::default()).await;
    assert_eq!(report.webex_calls, 2);

    let calls = list_requests(&server, LIST).await;
    assert_eq!(calls.len(), 2);
    let spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = calls
        .iter()
        .map(|r| (param(r, "from").unwrap(), param(r, "to").unwrap()))
        .collect();
    for (from, to) in &spans {
        assert!(*to - *from <= TimeDelta::days(30), "{from} .. {to}");
        assert!(from < to);
    }
    // Newest slice first, contiguous, covering the window exactly.
    assert_eq!(spans[0].1, w.to);
    assert_eq!(spans[0].0, spans[1].1);
    assert_eq!(spans[1].0, w.from);
}

#[tokio::test]
async fn a_429_in_the_middle_of_paging_is_waited_out() {
    let server = MockServer::start().await;
    let base = format!("{}/v1", server.uri());
    on("GET", LIST)
        .and(query_param_is_missing("cursor"))
        .respond_with(page(
            vec![rec("r1")],
            Some(format!("{base}/admin/convergedRecordings?cursor=c2")),
        ))
        .mount(&server)
        .await;
    on("GET", LIST)
        .and(query_param("cursor", "c2"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    on("GET", LIST)
        .and(query_param("cursor", "c2"))
        .respond_with(page(vec![rec("r2")], None))
        .mount(&server)
        .await;
    let (t, q) = sqlite_with_queue().await;
    let started = Instant::now();
    let report = reconcile_once(
        &server,
        &t.store,
        &q,
        window(),
        &ReconcileOptions::default(),
    )
    .await;
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(report.enqueued_ids, vec![id("r1"), id("r2")]);
    assert_eq!(depth(&q).await, 2);
    assert_eq!(list_requests(&server, LIST).await.len(), 3);
}

#[tokio::test]
async fn dry_run_changes_nothing() {
    let server = MockServer::start().await;
    mount_listing(&server, page(vec![rec("d1"), rec("d2"), rec("d3")], None)).await;
    let t = TestDb::new(Db::Sqlite).await;
    t.store
        .import_bare_recordings(&[(id("d1"), ProcessingStatus::Completed)], Utc::now())
        .await
        .unwrap();
    let q = queue(&t.store);
    let options = ReconcileOptions {
        dry_run: true,
        ..Default::default()
    };
    let report = reconcile_once(&server, &t.store, &q, window(), &options).await;
    assert_eq!((report.seen, report.stored, report.enqueued), (3, 1, 2));
    assert_eq!(depth(&q).await, 0);
    let states = t
        .store
        .recording_states(&[id("d1"), id("d2"), id("d3")])
        .await
        .unwrap();
    assert_eq!(states.len(), 1, "no rows written");
    assert_eq!(states[&id("d1")].status, ProcessingStatus::Completed);
}

#[tokio::test]
async fn limit_caps_what_is_sent() {
    let server = MockServer::start().await;
    mount_listing(&server, page(vec![rec("l1"), rec("l2"), rec("l3")], None)).await;
    let (t, q) = sqlite_with_queue().await;
    let options = ReconcileOptions {
        limit: Some(2),
        ..Default::default()
    };
    let report = reconcile_once(&server, &t.store, &q, window(), &options).await;
    assert_eq!(report.enqueued_ids, vec![id("l1"), id("l2")]);
    assert_eq!(depth(&q).await, 2);
}

#[tokio::test]
async fn a_403_on_the_admin_listing_falls_back_to_the_user_listing() {
    let server = MockServer::start().await;
    mount_listing(
        &server,
        ResponseTemplate::new(403).set_body_json(json!({"message": "missing scope"})),
    )
    .await;
    on("GET", "/v1/convergedRecordings")
        .respond_with(page(vec![rec("u1")], None))
        .mount(&server)
        .await;
    let (t, q) = sqlite_with_queue().await;
    let to = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap();
    let w = Window {
        from: to - TimeDelta::days(45),
        to,
    };
    let report = reconcile_once(&server, &t.store, &q, w, &ReconcileOptions::default()).await;
    assert_eq!(report.scope, Some(ListScope::User));
    assert_eq!(report.enqueued_ids, vec![id("u1")]);
    // The admin listing is asked once only, then remembered as refused.
    assert_eq!(list_requests(&server, LIST).await.len(), 1);
    assert_eq!(
        list_requests(&server, "/v1/convergedRecordings")
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn the_high_water_mark_moves_only_after_a_successful_run() {
    let server = MockServer::start().await;
    mount_schedule(&server, page(vec![], None)).await;
    let (t, q) = sqlite_with_queue().await;
    let webex = webex(&server);
    let overlap = Duration::from_secs(600);
    let options = ReconcileOptions::default();
    let ms = |d: DateTime<Utc>| d.timestamp_millis();

    // First run: the last 24 hours.
    let r1 = scheduled_run(&webex, &t.store, &q, timing(overlap), "w1", &options)
        .await
        .unwrap();
    assert!(r1.is_some());
    let mark1 = t
        .store
        .job_high_water_mark(JOB_NAME)
        .await
        .unwrap()
        .unwrap();
    let first = list_requests(&server, LIST).await;
    assert_eq!(first.len(), 1);
    assert_eq!(
        ms(param(&first[0], "from").unwrap()),
        ms(mark1 - TimeDelta::hours(24))
    );
    assert_eq!(ms(param(&first[0], "to").unwrap()), ms(mark1));

    // Second run fails at Webex: the mark stays.
    server.reset().await;
    mount_schedule(&server, ResponseTemplate::new(500)).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let r2 = scheduled_run(&webex, &t.store, &q, timing(overlap), "w1", &options).await;
    assert!(r2.is_err());
    assert_eq!(
        t.store.job_high_water_mark(JOB_NAME).await.unwrap(),
        Some(mark1)
    );
    let failed = list_requests(&server, LIST).await;
    let expected_from = ms(mark1) - 600_000;
    assert_eq!(ms(param(&failed[0], "from").unwrap()), expected_from);

    // Third run covers the same window again, then the mark moves.
    server.reset().await;
    mount_schedule(&server, page(vec![], None)).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let r3 = scheduled_run(&webex, &t.store, &q, timing(overlap), "w1", &options)
        .await
        .unwrap();
    assert!(r3.is_some());
    let third = list_requests(&server, LIST).await;
    assert_eq!(ms(param(&third[0], "from").unwrap()), expected_from);
    let mark3 = t
        .store
        .job_high_water_mark(JOB_NAME)
        .await
        .unwrap()
        .unwrap();
    assert!(mark3 > mark1);
    assert_eq!(ms(param(&third[0], "to").unwrap()), ms(mark3));
}

#[tokio::test]
async fn an_inactive_recordings_webhook_is_reactivated() {
    let server = MockServer::start().await;
    mount_listing(&server, page(vec![], None)).await;
    let hook = |id: &str, resource: &str, status: &str| {
        json!({"id": id, "name": format!("hook {id}"), "targetUrl": format!("https://example.org/{id}"),
               "resource": resource, "event": "created", "secret": "s3cret", "status": status})
    };
    on("GET", "/v1/webhooks")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": [
            hook("wh1", "convergedRecordings", "inactive"),
            hook("wh2", "convergedRecordings", "active"),
            hook("wh3", "messages", "inactive"),
        ]})))
        .mount(&server)
        .await;
    on("PUT", "/v1/webhooks/wh1")
        .and(body_json(json!({
            "name": "hook wh1",
            "targetUrl": "https://example.org/wh1",
            "secret": "s3cret",
            "status": "active"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(hook(
            "wh1",
            "convergedRecordings",
            "active",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let (t, q) = sqlite_with_queue().await;
    scheduled_run(
        &webex(&server),
        &t.store,
        &q,
        timing(Duration::from_secs(60)),
        "w1",
        &ReconcileOptions::default(),
    )
    .await
    .unwrap()
    .unwrap();
    let puts: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "PUT")
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(puts, vec!["/v1/webhooks/wh1".to_string()]);
    server.verify().await;
}

/// A recording whose run failed for now waits for its retry message; a reconcile right after
/// must not send it a second time.
#[tokio::test]
async fn a_recording_released_for_a_retry_is_not_sent_again() {
    let server = MockServer::start().await;
    mount_listing(&server, page(vec![rec("r1")], None)).await;
    let (t, q) = sqlite_with_queue().await;
    let now = Utc::now();
    let Claim::Claimed(run) = t
        .store
        .claim_recording(&id("r1"), false, now, now - TimeDelta::minutes(10))
        .await
        .unwrap()
    else {
        panic!("claimed")
    };
    assert!(t.store.release_recording(&run, now).await.unwrap());
    let report = reconcile_once(
        &server,
        &t.store,
        &q,
        window(),
        &ReconcileOptions::default(),
    )
    .await;
    assert_eq!((report.seen, report.stored, report.enqueued), (1, 1, 0));
    assert_eq!(depth(&q).await, 0);
}

#[tokio::test]
async fn two_concurrent_scheduled_runs_do_the_work_once() {
    let server = MockServer::start().await;
    mount_schedule(
        &server,
        page(vec![rec("c1")], None).set_delay(Duration::from_millis(400)),
    )
    .await;
    let (t, q) = sqlite_with_queue().await;
    let webex = webex(&server);
    let options = ReconcileOptions::default();
    let overlap = Duration::from_secs(60);
    let (a, b) = tokio::join!(
        scheduled_run(&webex, &t.store, &q, timing(overlap), "worker-a", &options),
        scheduled_run(&webex, &t.store, &q, timing(overlap), "worker-b", &options),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.is_some() != b.is_some(), "exactly one run: {a:?} {b:?}");
    assert_eq!(list_requests(&server, LIST).await.len(), 1);
    assert_eq!(depth(&q).await, 1);
}

/// A run that takes longer than its lease renews it: no other worker gets in while it runs,
/// and the lease is free once it ends.
#[tokio::test]
async fn a_run_longer_than_its_lease_keeps_renewing_it() {
    let server = MockServer::start().await;
    mount_schedule(
        &server,
        page(vec![rec("l1")], None).set_delay(Duration::from_millis(2000)),
    )
    .await;
    let (t, q) = sqlite_with_queue().await;
    let webex = webex(&server);
    let timing = ScheduleTiming {
        overlap: Duration::from_secs(60),
        lease: Duration::from_millis(500),
        services: ServiceTypes::Calling,
    };
    let options = ReconcileOptions::default();
    let run = scheduled_run(&webex, &t.store, &q, timing, "slow", &options);
    let intruder = async {
        // Well past the first lease's end, while the listing is still under way.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let now = Utc::now();
        t.store
            .try_lease_job(JOB_NAME, "other", now, now + TimeDelta::minutes(1))
            .await
            .unwrap()
    };
    let (report, intruded) = tokio::join!(run, intruder);
    assert!(report.unwrap().is_some(), "the slow run finished");
    assert!(intruded.is_none(), "the lease was renewed during the run");
    let now = Utc::now();
    let after = t
        .store
        .try_lease_job(JOB_NAME, "other", now, now + TimeDelta::minutes(1))
        .await
        .unwrap();
    assert!(after.is_some(), "the run gave the lease back");
}

#[tokio::test]
async fn the_schedule_runs_at_once_and_stops_on_cancel() {
    let server = MockServer::start().await;
    mount_schedule(&server, page(vec![rec("s1")], None)).await;
    let t = TestDb::new(Db::Sqlite).await;
    let q = std::sync::Arc::new(queue(&t.store));
    let cancel = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(webex_recordings::reconciler::run_schedule(
        webex(&server),
        t.store.clone(),
        q.clone(),
        Duration::from_secs(3600),
        timing(Duration::from_secs(60)),
        cancel.clone(),
    ));
    wait_until(Duration::from_secs(10), "the first run", async || {
        t.store
            .job_high_water_mark(JOB_NAME)
            .await
            .unwrap()
            .is_some()
    })
    .await;
    assert_eq!(depth(&q).await, 1);
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the schedule stops on cancel")
        .unwrap();
}

/// Only Webex Calling recordings are listed unless `RECONCILE_SERVICE_TYPES=all` widens it to
/// every converged recording (no `serviceType` filter).
#[tokio::test]
async fn the_listing_asks_for_calling_recordings_unless_widened() {
    let cases = [
        (ServiceTypes::Calling, Some("calling")),
        (ServiceTypes::All, None),
    ];
    for (services, expected) in cases {
        let t = TestDb::new(Db::Sqlite).await;
        let server = MockServer::start().await;
        mount_listing(&server, page(vec![rec("r-calling")], None)).await;
        let q = queue(&t.store);
        let options = ReconcileOptions {
            services,
            ..Default::default()
        };
        let report = reconcile(
            &webex(&server),
            &t.store,
            &q,
            window(),
            &options,
            &no_progress(),
        )
        .await
        .unwrap();
        assert_eq!(report.enqueued, 1, "{services:?}");
        let requests = list_requests(&server, LIST).await;
        assert_eq!(requests.len(), 1);
        let service_type = requests[0]
            .url
            .query_pairs()
            .find(|(k, _)| k == "serviceType")
            .map(|(_, v)| v.into_owned());
        assert_eq!(service_type.as_deref(), expected, "{services:?}");
    }
}
