//! A webhook's trace continues in the worker that processes its recording: receiver and worker
//! run as separate processes, so only the queue message can carry the trace context.

use std::time::Duration;

use crate::broker::Vhost;
use crate::fake_webex::{ES_ID, ES_VTT, FakeRecording, fake_webex};
use crate::otlp::Collector;
use crate::service::{Service, base_env, post_webhook};

async fn trace_reaches_the_worker(amqp_url: Option<String>) {
    let webex = fake_webex().await;
    FakeRecording::new(ES_ID, Some(ES_VTT)).mount(&webex).await;
    let (collector, collector_addr) = Collector::start().await;
    let dir = tempfile::tempdir().unwrap();
    let api = format!("{}/v1", webex.uri());
    let db = format!("sqlite://{}/db.sqlite", dir.path().display());
    let data = dir.path().join("data").display().to_string();
    let mut env = base_env(&api, &db, &data);
    env.push((
        "OTEL_EXPORTER_OTLP_ENDPOINT".into(),
        format!("http://{collector_addr}"),
    ));
    // Export finished spans within a tenth of a second instead of the default five.
    env.push(("OTEL_BSP_SCHEDULE_DELAY".into(), "100".into()));
    if let Some(url) = amqp_url {
        env.push(("AMQP_URL".into(), url));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

    let receiver = Service::start("receiver", dir.path(), &env);
    let addr = receiver.listen_addr().await;
    let worker = Service::start("worker", dir.path(), &env);
    assert_eq!(post_webhook(addr, ES_ID).await.status(), 200);

    let within = Duration::from_secs(60);
    let webhook = collector
        .wait_for_span(within, |s| {
            s.name == "webhook"
                && s.attributes.get("recording_id").map(String::as_str) == Some(ES_ID)
        })
        .await;
    let run = collector
        .wait_for_span(within, |s| {
            s.name == "pipeline.run"
                && s.attributes.get("recording_id").map(String::as_str) == Some(ES_ID)
        })
        .await;
    assert_eq!(
        run.trace_id, webhook.trace_id,
        "the worker continues the webhook's trace"
    );
    // The worker's steps and Webex calls hang below its run, in the same trace.
    for name in ["pipeline.step", "webex.request"] {
        let child = collector
            .wait_for_span(within, |s| s.name == name && s.trace_id == webhook.trace_id)
            .await;
        assert_ne!(child.parent_span_id, "", "{name} has a parent");
    }
    let request = collector
        .wait_for_span(within, |s| {
            s.name == "http.request" && s.trace_id == webhook.trace_id
        })
        .await;
    assert_eq!(
        request.attributes.get("route").map(String::as_str),
        Some("/webhooks/webex")
    );
    assert_eq!(webhook.parent_span_id, request.span_id);
    drop(worker);
}

#[tokio::test]
async fn a_webhooks_trace_reaches_the_worker_through_the_embedded_queue() {
    trace_reaches_the_worker(None).await;
}

#[tokio::test]
async fn a_webhooks_trace_reaches_the_worker_through_rabbitmq() {
    let vhost = Vhost::new();
    trace_reaches_the_worker(Some(vhost.url())).await;
}
