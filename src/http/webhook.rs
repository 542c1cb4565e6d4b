//! `POST /webhooks/webex`: verify the raw body, parse the envelope, publish durably, then answer.

use std::time::Instant;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Router, http::header::CONTENT_LENGTH};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use crate::domain::{
    MAX_ENVELOPE_DEPTH, MessageSource, QueueMessage, RecordingEvent, RecordingId, json_depth,
};
use crate::signature::{self, SIGNATURE_HEADER};

/// Webex envelopes are a few KiB; anything near this is not a webhook.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/webhooks/webex", post(receive))
}

/// The parts of the envelope we rely on, read from the parsed body without copying it
/// (`data` beyond its id is a hint only: the worker reads the recording from the API).
struct Envelope<'a> {
    resource: &'a str,
    event: &'a str,
    org_id: Option<&'a str>,
    recording_id: Option<&'a str>,
}

impl<'a> Envelope<'a> {
    fn read(raw: &'a Value) -> Result<Self, ApiError> {
        let field = |name: &str| {
            raw.get(name).and_then(Value::as_str).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "not a Webex webhook envelope: no string field {name:?}"
                ))
            })
        };
        let data = raw.get("data").filter(|d| d.is_object()).ok_or_else(|| {
            ApiError::BadRequest("not a Webex webhook envelope: no data object".into())
        })?;
        Ok(Self {
            resource: field("resource")?,
            event: field("event")?,
            org_id: raw.get("orgId").and_then(Value::as_str),
            recording_id: data.get("id").and_then(Value::as_str),
        })
    }
}

/// What became of a delivery that was not refused.
enum Outcome {
    Queued,
    /// Another resource or event: answered 200 so that Webex does not retry it.
    Ignored(String),
}

async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let outcome = handle(&state, &headers, body).await;
    let label = match &outcome {
        Ok(Outcome::Queued) => "queued",
        Ok(Outcome::Ignored(_)) => "ignored",
        Err(e) => e.kind(),
    };
    metrics::counter!("webhook_deliveries_total", "outcome" => label).increment(1);
    outcome.map(|outcome| {
        Json(match outcome {
            Outcome::Queued => json!({"queued": true}),
            Outcome::Ignored(why) => json!({"queued": false, "ignored": why}),
        })
    })
}

#[tracing::instrument(name = "webhook", skip_all, fields(recording_id = tracing::field::Empty, event = tracing::field::Empty))]
async fn handle(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Outcome, ApiError> {
    let too_large = || ApiError::PayloadTooLarge(format!("body over {MAX_BODY_BYTES} bytes"));
    // Refuse on the declared length before reading anything, and cap what we read otherwise.
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let secret =
        state.config.webhook_secret.as_ref().ok_or_else(|| {
            ApiError::Unavailable("WEBEX_WEBHOOK_SECRET is not configured".into())
        })?;
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| too_large())?;
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let verified = signature::verify(&bytes, header, secret.expose_secret().as_bytes())
        .map_err(|e| ApiError::Unauthorized(e.to_string()))?;

    let raw: Value = serde_json::from_slice(verified.bytes())
        .map_err(|e| ApiError::BadRequest(format!("body is not JSON: {e}")))?;
    if json_depth(&raw) > MAX_ENVELOPE_DEPTH {
        return Err(ApiError::BadRequest(format!(
            "not a Webex webhook envelope: nested deeper than {MAX_ENVELOPE_DEPTH} levels"
        )));
    }
    let envelope = Envelope::read(&raw)?;

    if envelope.resource != "convergedRecordings" {
        return Ok(Outcome::Ignored(format!(
            "resource {} is not handled",
            envelope.resource
        )));
    }
    let Some(event) = RecordingEvent::parse(envelope.event) else {
        return Ok(Outcome::Ignored(format!(
            "event {} is not handled",
            envelope.event
        )));
    };
    let raw_id = envelope
        .recording_id
        .ok_or_else(|| ApiError::BadRequest("envelope has no data.id".into()))?;
    let recording_id = RecordingId::parse(raw_id)?;
    let span = tracing::Span::current();
    span.record("recording_id", tracing::field::display(&recording_id));
    span.record("event", event.as_str());
    let org_id = envelope.org_id.map(str::to_owned);
    let message = QueueMessage::new(
        MessageSource::Webhook,
        event,
        recording_id,
        org_id,
        Some(raw),
    );
    let started = Instant::now();
    state.publisher.publish(&message).await?;
    metrics::histogram!("queue_publish_seconds").record(started.elapsed().as_secs_f64());
    Ok(Outcome::Queued)
}
