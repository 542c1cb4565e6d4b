//! What the pipeline tells operators: a span per run (continuing the webhook's trace) and per
//! step, the `pipeline_step_seconds` and `recordings_processed_total` metrics, and one log line
//! when a recording starts and one when it finishes.

use std::future::Future;
use std::time::Instant;

use tracing::Instrument;

use super::StepError;
use crate::domain::{Recording, Step};
use crate::queue::Delivery;
use crate::telemetry::continue_trace;

/// The span of one delivery's processing: every line logged inside carries `recording_id`.
pub(super) fn run_span(delivery: &Delivery) -> tracing::Span {
    let recording_id = delivery
        .payload
        .as_ref()
        .map(|m| m.recording_id.to_string())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "pipeline.run",
        recording_id,
        message_id = %delivery.message_id,
        attempt = delivery.attempt.max(1),
    );
    continue_trace(&span, &delivery.trace_context);
    span
}

/// The `outcome` label of a step: `retry` when the whole recording is tried again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Retry,
    Error,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Retry => "retry",
            Self::Error => "error",
        }
    }
}

impl From<&Result<(), StepError>> for Outcome {
    fn from(result: &Result<(), StepError>) -> Self {
        match result {
            Ok(()) => Self::Ok,
            Err(StepError::Transient(_)) => Self::Retry,
            Err(StepError::Failed(_)) => Self::Error,
        }
    }
}

impl From<&Result<(), String>> for Outcome {
    fn from(result: &Result<(), String>) -> Self {
        if result.is_ok() {
            Self::Ok
        } else {
            Self::Error
        }
    }
}

/// Runs one step in its span and records how long it took and how it went.
pub(super) async fn step(
    step: Step,
    work: impl Future<Output = Result<(), StepError>>,
) -> Result<(), StepError> {
    let started = Instant::now();
    let result = work
        .instrument(tracing::info_span!("pipeline.step", step = step.as_str()))
        .await;
    let outcome = Outcome::from(&result);
    metrics::histogram!("pipeline_step_seconds", "step" => step.as_str(), "outcome" => outcome.as_str())
        .record(started.elapsed().as_secs_f64());
    result
}

/// The run's span already names the attempt (a field twice makes two keys in a JSON line).
pub(super) fn started() {
    tracing::info!("processing recording");
}

/// A recording is done with (completed, partial or failed): counted and logged once.
pub(super) fn finished(rec: &Recording) {
    let status = rec.processing_status.as_str();
    metrics::counter!("recordings_processed_total", "status" => status).increment(1);
    tracing::info!(
        status,
        quality = rec.quality_score,
        errors = rec.processing_errors.len(),
        "recording finished"
    );
}
