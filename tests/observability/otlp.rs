//! A fake OpenTelemetry collector on loopback: takes OTLP/HTTP protobuf trace exports and keeps
//! the spans.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use prost::Message;

#[derive(Debug, Clone)]
pub struct ExportedSpan {
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub attributes: HashMap<String, String>,
}

#[derive(Clone, Default)]
pub struct Collector {
    spans: Arc<Mutex<Vec<ExportedSpan>>>,
}

impl Collector {
    /// Starts listening; the endpoint for `OTEL_EXPORTER_OTLP_ENDPOINT` is `http://{addr}`.
    pub async fn start() -> (Self, SocketAddr) {
        let collector = Self::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/v1/traces", post(export))
            .with_state(collector.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (collector, addr)
    }

    pub fn spans(&self) -> Vec<ExportedSpan> {
        self.spans.lock().unwrap().clone()
    }

    /// Waits for a span that `wanted` accepts.
    pub async fn wait_for_span(
        &self,
        within: Duration,
        wanted: impl Fn(&ExportedSpan) -> bool,
    ) -> ExportedSpan {
        let deadline = Instant::now() + within;
        loop {
            if let Some(span) = self.spans().into_iter().find(|s| wanted(s)) {
                return span;
            }
            assert!(
                Instant::now() < deadline,
                "no such span within {within:?}; received: {:#?}",
                self.spans()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn export(State(collector): State<Collector>, body: Bytes) -> Vec<u8> {
    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf export");
    let spans = request
        .resource_spans
        .into_iter()
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .map(|span| ExportedSpan {
            name: span.name,
            trace_id: hex::encode(span.trace_id),
            span_id: hex::encode(span.span_id),
            parent_span_id: hex::encode(span.parent_span_id),
            attributes: span
                .attributes
                .into_iter()
                .filter_map(|kv| match kv.value?.value? {
                    any_value::Value::StringValue(s) => Some((kv.key, s)),
                    any_value::Value::IntValue(i) => Some((kv.key, i.to_string())),
                    _ => None,
                })
                .collect(),
        });
    collector.spans.lock().unwrap().extend(spans);
    // An empty ExportTraceServiceResponse: everything accepted.
    Vec::new()
}
