//! A webhook's trace continues in the worker that processes its recording: receiver and worker
//! run as separate processes, so only the queue message can carry the trace context.

use std::time::Duration;

use crate::broker::Vhost;
use crate::fake_webex::ES_ID;
use crate::otlp::Collector;
use crate::service::{Setup, post_webhook};

async fn trace_reaches_the_worker(amqp_url: Option<String>) {
    let (collector, collector_addr) = Collector::start().await;
    let mut setup = Setup::new().await;
    setup.set(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        format!("http://{collector_addr}"),
    );
    // Export finished spans within a tenth of a second instead of the default five.
    setup.set("OTEL_BSP_SCHEDULE_DELAY", "100");
    if let Some(url) = amqp_url {
        setup.set("AMQP_URL", url);
    }
    let receiver = setup.start("receiver");
    let addr = receiver.listen_addr().await;
    let worker = setup.start("worker");
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
