//! `/metrics` after a run with a completed, a partial and a retried (Webex 429) recording, and a
//! backfill: every family and label of the contract, with the counts of what happened.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use openmetrics_parser::PrometheusValue;
use openmetrics_parser::prometheus::parse_prometheus;
use reqwest::Method;
use serde_json::json;
use webex_recordings::domain::ProcessingStatus;
use webex_recordings::startup::Role;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::deploy::{alert_exprs, dashboard_exprs, metric_names};
use crate::fake_webex::{
    EN_ID, EN_VTT, ES_ID, ES_VTT, FakeRecording, NT_ID, fake_webex, wait_final,
};
use crate::support::{Db, TestApp, TestDb, WEBHOOK_SECRET, envelope};

/// Found only by the backfill: no webhook announced it.
const BACKFILLED_ID: &str = "bf0000000000000000000000000000d4";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// CONTRACT.md, "Observability": family, type, label names.
const CONTRACT: &[(&str, Kind, &[&str])] = &[
    ("webhook_deliveries_total", Kind::Counter, &["outcome"]),
    ("queue_publish_seconds", Kind::Histogram, &[]),
    ("queue_messages_ready", Kind::Gauge, &[]),
    ("queue_messages_dead", Kind::Gauge, &[]),
    ("recordings_processed_total", Kind::Counter, &["status"]),
    (
        "pipeline_step_seconds",
        Kind::Histogram,
        &["step", "outcome"],
    ),
    (
        "webex_requests_total",
        Kind::Counter,
        &["endpoint", "status"],
    ),
    ("webex_request_seconds", Kind::Histogram, &["endpoint"]),
    (
        "http_requests_total",
        Kind::Counter,
        &["route", "method", "status"],
    ),
    (
        "http_request_seconds",
        Kind::Histogram,
        &["route", "method"],
    ),
    ("reconcile_runs_total", Kind::Counter, &["outcome"]),
    ("reconcile_enqueued_total", Kind::Counter, &[]),
    ("process_resident_memory_bytes", Kind::Gauge, &[]),
    ("process_cpu_seconds_total", Kind::Counter, &[]),
    ("process_open_fds", Kind::Gauge, &[]),
];

/// One series of the scrape: a counter's or gauge's value, or a histogram's observation count.
#[derive(Debug)]
struct Series {
    family: String,
    kind: Kind,
    labels: HashMap<String, String>,
    value: f64,
}

struct Metrics(Vec<Series>);

impl Metrics {
    fn parse(text: &str) -> Self {
        let exposition = parse_prometheus(text).expect("/metrics is Prometheus text format");
        let mut series = Vec::new();
        for (name, family) in exposition.families {
            for sample in family.iter_samples() {
                let (kind, value) = match &sample.value {
                    PrometheusValue::Counter(c) => (Kind::Counter, c.value.as_f64()),
                    PrometheusValue::Gauge(g) => (Kind::Gauge, g.as_f64()),
                    PrometheusValue::Histogram(h) => {
                        (Kind::Histogram, h.count.map_or(0.0, |c| c as f64))
                    }
                    other => panic!("{name} is not a counter, gauge or histogram: {other:?}"),
                };
                let labels = family
                    .get_label_names()
                    .iter()
                    .zip(sample.get_labelset().expect("labels").iter_values())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                series.push(Series {
                    family: name.clone(),
                    kind,
                    labels,
                    value,
                });
            }
        }
        Self(series)
    }

    fn family(&self, name: &str) -> Vec<&Series> {
        self.0.iter().filter(|s| s.family == name).collect()
    }

    /// The series of `name` whose labels include these values.
    fn sample(&self, name: &str, labels: &[(&str, &str)]) -> Option<&Series> {
        self.family(name).into_iter().find(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
    }

    /// The value of a series; 0 when absent.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.sample(name, labels).map_or(0.0, |s| s.value)
    }

    fn names(&self) -> BTreeSet<&str> {
        self.0.iter().map(|s| s.family.as_str()).collect()
    }
}

async fn scrape(app: &TestApp) -> Metrics {
    let answer = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    Metrics::parse(&answer.text().await.unwrap())
}

async fn status(app: &TestApp, method: Method, path: &str) -> u16 {
    let url = format!("{}{path}", app.base);
    let answer = app.http.request(method, url).send().await.unwrap();
    answer.status().as_u16()
}

async fn webex_hits(server: &MockServer, wanted: impl Fn(&str) -> bool) -> f64 {
    let requests = server.received_requests().await.unwrap_or_default();
    requests.iter().filter(|r| wanted(r.url.path())).count() as f64
}

/// The fake Webex: details of the "retried" recording answer 429 until the client gives up once.
async fn webex_with_a_throttled_recording() -> MockServer {
    let server = fake_webex().await;
    let completed = FakeRecording::new(ES_ID, Some(ES_VTT));
    let partial = FakeRecording::new(NT_ID, None);
    let retried = FakeRecording::new(EN_ID, Some(EN_VTT));
    let backfilled = FakeRecording::new(BACKFILLED_ID, Some(ES_VTT));
    // The client makes five attempts per request (its default): all five are throttled, so the
    // pipeline retries the recording, and its second run gets through.
    Mock::given(method("GET"))
        .and(path(format!("/v1/convergedRecordings/{EN_ID}")))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(5)
        .with_priority(1)
        .mount(&server)
        .await;
    for r in [&completed, &partial, &retried, &backfilled] {
        r.mount(&server).await;
    }
    let listed: Vec<_> = [&completed, &partial, &retried, &backfilled]
        .iter()
        .map(|r| r.details(&server, false))
        .collect();
    Mock::given(method("GET"))
        .and(path("/v1/admin/convergedRecordings"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "items": listed })))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn metrics_count_what_happened_in_every_family_of_the_contract() {
    let db = TestDb::new(Db::Sqlite).await;
    let server = webex_with_a_throttled_recording().await;
    let data = tempfile::tempdir().unwrap();
    let api = format!("{}/v1", server.uri());
    let data_dir = data.path().display().to_string();
    let vars = [
        ("WEBEX_API_URL", api.as_str()),
        ("WEBEX_ACCESS_TOKEN", "token"),
        ("DATA_DIR", data_dir.as_str()),
    ];
    let app = TestApp::spawn(&db.url, Role::All, &vars).await;

    for id in [ES_ID, NT_ID, EN_ID] {
        let body = serde_json::to_vec(&envelope(id, "created")).unwrap();
        assert_eq!(
            app.post_webhook(&body, Some(WEBHOOK_SECRET)).await.status(),
            200
        );
    }
    let within = Duration::from_secs(60);
    assert_eq!(
        wait_final(&db.store, ES_ID, within).await,
        ProcessingStatus::Completed
    );
    assert_eq!(
        wait_final(&db.store, NT_ID, within).await,
        ProcessingStatus::Partial
    );
    assert_eq!(
        wait_final(&db.store, EN_ID, within).await,
        ProcessingStatus::Completed
    );
    assert_eq!(
        status(&app, Method::POST, "/api/v1/recordings/fetch?hours=24").await,
        200
    );
    assert_eq!(
        wait_final(&db.store, BACKFILLED_ID, within).await,
        ProcessingStatus::Completed
    );
    let one = format!("/api/v1/recordings/{ES_ID}");
    assert_eq!(status(&app, Method::GET, &one).await, 200);
    let unknown = format!("/no/such/page/{ES_ID}");
    assert_eq!(status(&app, Method::GET, &unknown).await, 404);

    let m = scrape(&app).await;

    // Every family of the contract, with its type and exactly its labels.
    for (name, kind, labels) in CONTRACT {
        let samples = m.family(name);
        assert!(!samples.is_empty(), "{name} is missing from /metrics");
        for s in samples {
            assert_eq!(s.kind, *kind, "type of {name}");
            let mut names: Vec<&str> = s.labels.keys().map(String::as_str).collect();
            names.sort_unstable();
            let mut wanted = labels.to_vec();
            wanted.sort_unstable();
            assert_eq!(names, wanted, "labels of {name}");
        }
    }

    // Labels are templates: no recording id anywhere.
    for s in &m.0 {
        for value in s.labels.values() {
            for id in [ES_ID, NT_ID, EN_ID, BACKFILLED_ID] {
                assert!(
                    !value.contains(id),
                    "{} has an id in a label: {value}",
                    s.family
                );
            }
        }
    }

    // Intake: three webhooks queued, each publish timed.
    assert_eq!(
        m.value("webhook_deliveries_total", &[("outcome", "queued")]),
        3.0
    );
    assert_eq!(m.value("queue_publish_seconds", &[]), 3.0);
    assert_eq!(m.value("queue_messages_ready", &[]), 0.0);
    assert_eq!(m.value("queue_messages_dead", &[]), 0.0);

    // Outcomes: the retried and the backfilled one completed too.
    assert_eq!(
        m.value("recordings_processed_total", &[("status", "completed")]),
        3.0
    );
    assert_eq!(
        m.value("recordings_processed_total", &[("status", "partial")]),
        1.0
    );
    assert_eq!(
        m.value("recordings_processed_total", &[("status", "failed")]),
        0.0
    );

    // Steps. The recording without a transcript runs three times (Webex may make it late: two
    // retries) before it ends partial; the throttled one runs twice.
    let step = |step: &str, outcome: &str| {
        m.value(
            "pipeline_step_seconds",
            &[("step", step), ("outcome", outcome)],
        )
    };
    assert_eq!(step("details", "ok"), 6.0);
    assert_eq!(step("details", "retry"), 1.0);
    assert_eq!(step("details", "error"), 0.0);
    assert_eq!(step("audio", "ok"), 6.0);
    assert_eq!(step("transcript", "ok"), 3.0);
    assert_eq!(step("transcript", "retry"), 2.0);
    assert_eq!(step("transcript", "error"), 1.0);
    assert_eq!(step("language", "ok"), 3.0);

    // Webex: per route template and status, as many as the fake Webex received.
    let details =
        |p: &str| p.starts_with("/v1/convergedRecordings/") && p.matches('/').count() == 3;
    let endpoint = |e: &str, status: &str| {
        m.value(
            "webex_requests_total",
            &[("endpoint", e), ("status", status)],
        )
    };
    assert_eq!(endpoint("/convergedRecordings/{id}", "429"), 5.0);
    assert_eq!(endpoint("/convergedRecordings/{id}", "200"), 6.0);
    assert_eq!(
        m.value(
            "webex_request_seconds",
            &[("endpoint", "/convergedRecordings/{id}")]
        ),
        webex_hits(&server, details).await
    );
    assert_eq!(endpoint("/convergedRecordings/{id}/metadata", "200"), 6.0);
    assert_eq!(
        endpoint("/admin/convergedRecordings", "200"),
        webex_hits(&server, |p| p == "/v1/admin/convergedRecordings").await
    );
    assert_eq!(
        endpoint("/people/{id}", "200"),
        webex_hits(&server, |p| p.starts_with("/v1/people/")).await
    );
    // Four audio files (a retry reuses the file) and three transcripts, from links outside the
    // API base.
    assert_eq!(endpoint("download", "200"), 7.0);
    let all_webex: f64 = m
        .family("webex_requests_total")
        .iter()
        .map(|s| s.value)
        .sum();
    assert_eq!(all_webex, webex_hits(&server, |_| true).await);

    // HTTP: by route template, method and status.
    let http = |route: &str, method: &str, status: &str| {
        m.value(
            "http_requests_total",
            &[("route", route), ("method", method), ("status", status)],
        )
    };
    assert_eq!(http("/webhooks/webex", "POST", "200"), 3.0);
    assert_eq!(http("/api/v1/recordings/fetch", "POST", "200"), 1.0);
    assert_eq!(http("/api/v1/recordings/{id}", "GET", "200"), 1.0);
    assert_eq!(http("unmatched", "GET", "404"), 1.0);
    assert_eq!(
        m.value(
            "http_request_seconds",
            &[("route", "/webhooks/webex"), ("method", "POST")]
        ),
        3.0
    );

    // The backfill ran once and sent the one recording no webhook announced.
    assert_eq!(m.value("reconcile_runs_total", &[("outcome", "ok")]), 1.0);
    assert_eq!(m.value("reconcile_enqueued_total", &[]), 1.0);

    assert!(m.value("process_resident_memory_bytes", &[]) > 0.0);
    assert!(m.value("process_open_fds", &[]) > 0.0);
    // Whole seconds (a counter): a short test may not have used one yet.
    assert!(m.sample("process_cpu_seconds_total", &[]).is_some());

    // The dashboard and the alert rules use only families of the contract that /metrics has.
    let contract: HashMap<&str, Kind> = CONTRACT.iter().map(|(n, k, _)| (*n, *k)).collect();
    let exported = m.names();
    for expr in dashboard_exprs().iter().chain(&alert_exprs()) {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "no metric in {expr}");
        for name in names {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| {
                    name.strip_suffix(suffix)
                        .filter(|base| contract.get(base) == Some(&Kind::Histogram))
                })
                .unwrap_or(&name);
            assert!(
                contract.contains_key(family),
                "{name} in {expr:?} is not in the contract"
            );
            assert!(
                exported.contains(family),
                "{name} in {expr:?} is not exported"
            );
        }
    }
    app.stop().await;
}

/// A fresh instance shows the counters with known labels at 0, before anything happened: a
/// dashboard has its series, and `rate()` in an alert has something to work on.
#[tokio::test]
async fn a_fresh_instance_shows_its_counters_at_zero() {
    let setup = crate::service::Setup::new().await;
    let service = setup.start("all");
    let addr = service.listen_addr().await;
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text");
    for series in [
        r#"webhook_deliveries_total{outcome="queued"} 0"#,
        r#"webhook_deliveries_total{outcome="ignored"} 0"#,
        r#"recordings_processed_total{status="completed"} 0"#,
        r#"recordings_processed_total{status="partial"} 0"#,
        r#"recordings_processed_total{status="failed"} 0"#,
        r#"reconcile_runs_total{outcome="ok"} 0"#,
        r#"reconcile_runs_total{outcome="error"} 0"#,
        "reconcile_enqueued_total 0",
    ] {
        assert!(text.lines().any(|l| l == series), "{series} in:\n{text}");
    }
}
