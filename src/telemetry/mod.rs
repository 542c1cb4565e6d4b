//! Logging (tracing), optional trace export over OTLP/HTTP, and the Prometheus metrics recorder.

mod context;

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{Config, LogFormat};

pub use context::{TraceContext, continue_trace, current_trace_context};

/// Name under which traces are exported.
const SERVICE_NAME: &str = "webex-recordings";

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("OTEL_EXPORTER_OTLP_ENDPOINT: cannot build the OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
}

/// Keeps trace export running; dropping it flushes the spans not yet sent.
#[must_use = "dropping it stops trace export"]
pub struct Telemetry {
    tracer_provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.tracer_provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("trace export did not shut down cleanly: {e}");
        }
    }
}

/// Installs the log subscriber (text or JSON lines on stderr) and, with an OTLP endpoint, the
/// trace exporter. Once per process: a second call keeps the first subscriber.
pub fn init(config: &Config) -> Result<Telemetry, TelemetryError> {
    let tracer_provider = config
        .otel_endpoint
        .as_ref()
        .map(|endpoint| tracer_provider(endpoint.as_str()))
        .transpose()?;
    let filter = EnvFilter::try_new(&config.rust_log).unwrap_or_else(|_| EnvFilter::new("info"));
    let format = match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .boxed(),
        // Span fields (recording_id, request_id) on the top level of each line, where log
        // search tools index them, instead of nested in a span list.
        LogFormat::Json => json_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .flatten_event(true)
            .with_current_span(false)
            .flatten_span_list_on_top_level(true)
            .boxed(),
    };
    let export = tracer_provider
        .as_ref()
        .map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer(SERVICE_NAME)));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::filter::filter_fn(|meta| {
            !holds_secrets(meta.target(), *meta.level())
        }))
        .with(format)
        .with(export)
        .try_init();
    Ok(Telemetry { tracer_provider })
}

/// Whether a crate's events at `level` can hold secrets, whatever `RUST_LOG` asks for: lapin
/// traces every frame it sends, the AMQP login (user and password) included.
fn holds_secrets(target: &str, level: tracing::Level) -> bool {
    let secret_at_trace = ["lapin", "amq_protocol"];
    level == tracing::Level::TRACE
        && secret_at_trace
            .iter()
            .any(|c| target == *c || target.starts_with(&format!("{c}::")))
}

/// The error and each of its causes, on one line: `reqwest` and `hyper` keep the reason
/// ("connection refused", "certificate expired") in the causes, not in the error's own text.
pub fn error_with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let more = e.to_string();
        // Some errors repeat their cause in their own text.
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = e.source();
    }
    text
}

/// Batches finished spans and posts them as protobuf to `{endpoint}/v1/traces`. The batch
/// processor runs on a thread of its own, so the blocking HTTP client never stalls the runtime.
fn tracer_provider(endpoint: &str) -> Result<SdkTracerProvider, TelemetryError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .with_timeout(Duration::from_secs(10))
        .build()?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(SERVICE_NAME)
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// Upper bounds (seconds) of every histogram's buckets.
const HISTOGRAM_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// The process-wide metrics recorder (several apps in one test process share it).
pub fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            // Buckets make real histograms (the exporter renders summaries without them), so
            // quantiles can be aggregated across instances. 5 ms for a publish to minutes for a
            // transcript or LLM step.
            let recorder = PrometheusBuilder::new()
                .set_buckets(HISTOGRAM_BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            zero_counters();
            Some(handle)
        })
        .clone()
}

/// The counters whose labels are known in advance, at 0 from the start: a fresh instance
/// shows them before the first event, and `rate()` or an alert on "nothing completed" has a
/// series to work on.
fn zero_counters() {
    for outcome in ["queued", "ignored"] {
        metrics::counter!("webhook_deliveries_total", "outcome" => outcome).increment(0);
    }
    use crate::domain::ProcessingStatus::{Completed, Failed, Partial};
    for status in [Completed, Partial, Failed] {
        metrics::counter!("recordings_processed_total", "status" => status.as_str()).increment(0);
    }
    for outcome in ["ok", "error"] {
        metrics::counter!("reconcile_runs_total", "outcome" => outcome).increment(0);
    }
    metrics::counter!("reconcile_enqueued_total").increment(0);
}

/// Updates the process gauges (resident memory, CPU seconds, open file descriptors) just before
/// a scrape, so they are as fresh as the scrape itself.
pub fn collect_process_metrics() {
    static COLLECTOR: OnceLock<metrics_process::Collector> = OnceLock::new();
    COLLECTOR
        .get_or_init(|| {
            let collector = metrics_process::Collector::default();
            collector.describe();
            collector
        })
        .collect();
}

#[cfg(test)]
mod tests {
    /// A Webex download link carries its access ticket in the query, and an endpoint's URL may
    /// carry a key: a failed request's text (logged, stored in `processing_errors` and queue
    /// headers) keeps why it failed and drops where it went.
    #[tokio::test]
    async fn transport_errors_keep_their_cause_and_drop_the_url() {
        let refused = || async {
            reqwest::get("http://127.0.0.1:1/files/a.mp3?ticket=SECRET")
                .await
                .expect_err("nothing listens on port 1")
        };
        assert!(refused().await.to_string().contains("SECRET"));
        let ai = crate::ai::AiError::http(refused().await);
        assert!(ai.is_transient());
        for text in [
            crate::webex::WebexError::from(refused().await).to_string(),
            ai.to_string(),
        ] {
            assert!(!text.contains("SECRET"), "{text}");
            assert!(text.contains("onnection refused"), "{text}");
        }
    }
}
