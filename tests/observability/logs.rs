//! `LOG_FORMAT=json`: one JSON object per line; the lines of a pipeline run carry its
//! `recording_id`, the lines of a request its `request_id`, which is also the `x-request-id`.

use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::fake_webex::ES_ID;
use crate::service::{Setup, post_webhook};

#[tokio::test]
async fn every_json_log_line_of_a_pipeline_run_carries_its_recording_id() {
    let mut setup = Setup::new().await;
    // Debug lines too (each step, the settlement), and the HTTP layer's request lines.
    setup.set("RUST_LOG", "info,webex_recordings=debug,tower_http=debug");
    // One 503 on the details: the Webex client logs its retry from deep inside the run.
    Mock::given(method("GET"))
        .and(path(format!("/v1/convergedRecordings/{ES_ID}")))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&setup.webex)
        .await;
    let service = setup.start("all");
    let addr = service.listen_addr().await;

    let answer = post_webhook(addr, ES_ID).await;
    assert_eq!(answer.status(), 200);
    let request_id = answer
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("the answer carries x-request-id")
        .to_string();
    let finished = service
        .wait_for_line(Duration::from_secs(60), |l| {
            l["message"] == "recording finished"
        })
        .await;
    assert_eq!(finished["status"], "completed");
    assert_eq!(finished["level"], "INFO");

    let lines: Vec<Value> = service
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.iter().all(Value::is_object));
    let start = lines
        .iter()
        .position(|l| l["message"] == "processing recording")
        .expect("an info line when the recording starts");
    // The run's last line: the delivery settled after the record was stored.
    let end = lines
        .iter()
        .position(|l| l["message"] == "settling delivery")
        .expect("a debug line when the delivery is settled");
    assert!(start < end);
    assert_eq!(lines[start]["level"], "INFO");
    // Between the two, only the webhook's request can log besides the run.
    let run: Vec<&Value> = lines[start..=end]
        .iter()
        .filter(|l| l.get("request_id").is_none())
        .collect();
    for line in &run {
        assert_eq!(
            line["recording_id"], ES_ID,
            "a line of the run without its id: {line}"
        );
    }
    // The Webex client's retry, logged inside a step's Webex call, is among them.
    assert!(
        run.iter().any(|l| l["name"] == "webex.request"
            && l["message"] == "transient Webex failure; retrying"
            && l["step"] == "details"),
        "{run:#?}"
    );
    assert!(run.contains(&&finished));
    // The request's own lines carry the id the answer returned.
    let request_lines: Vec<&Value> = lines
        .iter()
        .filter(|l| l["request_id"] == request_id.as_str())
        .collect();
    assert!(
        !request_lines.is_empty(),
        "no line with request_id {request_id}"
    );
    assert!(
        request_lines
            .iter()
            .all(|l| l["route"] == "/webhooks/webex")
    );
    // A field named by both the line and its span would be two keys, which log indexers keep
    // one of (either).
    for line in service.lines() {
        let keys = top_level_keys(&line);
        let unique: std::collections::BTreeSet<&String> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len(), "a key twice: {line}");
    }
}

/// The keys of a JSON object in the order written, repeats included (a map would fold them).
fn top_level_keys(line: &str) -> Vec<String> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((key, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                        keys.push(key);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(Visitor)
        }
    }
    serde_json::from_str::<Keys>(line)
        .unwrap_or_else(|e| panic!("not a JSON object ({e}): {line}"))
        .0
}

/// `RUST_LOG=trace` shows everything but secrets: lapin traces the AMQP login frame, password
/// included, so its trace lines never reach the log.
#[tokio::test]
async fn trace_logging_does_not_show_the_amqp_login() {
    let vhost = crate::broker::Vhost::new();
    let mut setup = Setup::new().await;
    setup.set("RUST_LOG", "trace");
    setup.set("AMQP_URL", vhost.url());
    let service = setup.start("receiver");
    service.listen_addr().await;
    service
        .wait_for_line(Duration::from_secs(30), |l| l["level"] == "TRACE")
        .await;
    let lines = service.lines();
    let lapin_traces: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("\"level\":\"TRACE\"") && l.contains("lapin"))
        .collect();
    assert!(lapin_traces.is_empty(), "{lapin_traces:#?}");
    assert!(
        !lines.iter().any(|l| l.contains("PLAIN")),
        "the login frame is logged"
    );
}
