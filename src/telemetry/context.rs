//! The W3C trace context (`traceparent`, `tracestate`) carried by queue messages, so the trace of
//! a webhook continues in the worker that processes it, even in another process.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Header name → value, as injected by the propagator. Empty when traces are not exported.
pub type TraceContext = HashMap<String, String>;

/// The trace context of the current span, to travel with a message.
pub fn current_trace_context() -> TraceContext {
    let mut carrier = TraceContext::new();
    let context = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier
}

/// Makes `span` a child of the trace that `carrier` names; without a valid context it stays a root.
pub fn continue_trace(span: &tracing::Span, carrier: &TraceContext) {
    if carrier.is_empty() {
        return;
    }
    let parent = TraceContextPropagator::new().extract(carrier);
    if let Err(e) = span.set_parent(parent) {
        tracing::debug!(error = %e, "cannot continue the trace of the message");
    }
}
