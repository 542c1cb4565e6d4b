//! Alerts: events about recordings (`recording.completed`, `recording.failed`,
//! `tracker.matched`) POSTed to `ALERT_WEBHOOK_URL`, signed the Standard Webhooks way.
//!
//! Events are written to the `alert_outbox` table in the transaction that stores the recording
//! (so an event exists exactly when its record does) and delivered by [`dispatch::run`]: at
//! least once, the same `webhook-id` on every attempt, retried with exponential backoff and
//! jitter for up to a day.

pub mod dispatch;
mod guard;
mod sign;

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::SecretString;
use serde_json::{Value, json};
use url::Url;

use crate::domain::{ProcessingStatus, Recording};

pub use dispatch::{DeliveryError, send_once};
pub use guard::{check_destination, is_private};
pub use sign::{SigningKey, sign};

/// `ALERT_WEBHOOK_URL` and its companions.
#[derive(Debug, Clone)]
pub struct AlertConfig {
    pub url: Url,
    /// `ALERT_WEBHOOK_SECRET`: `whsec_` + base64, checked when the configuration is read.
    pub secret: SecretString,
    /// `ALERT_ALLOW_PRIVATE`: deliver to loopback, private and link-local addresses too.
    pub allow_private: bool,
    /// Not read from the environment; tests shorten it.
    pub delivery: DeliverySettings,
}

/// Timing of the dispatcher.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// How often the outbox is looked at for due events.
    pub poll: Duration,
    /// One attempt's whole request.
    pub attempt_timeout: Duration,
    /// Delay before the first retry (before jitter, which adds up to as much again).
    pub first_retry: Duration,
    /// Longest delay between two attempts.
    pub max_retry: Duration,
    /// An event not delivered this long after it was written is given up (`alerts_failed`).
    pub give_up_after: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(1),
            attempt_timeout: Duration::from_secs(10),
            // With jitter the first retry comes 20–40 s after the failure: within a minute.
            first_retry: Duration::from_secs(20),
            max_retry: Duration::from_secs(60 * 60),
            give_up_after: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// One event as stored and sent: `body` is the exact JSON that is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertEvent {
    /// `webhook-id`: the same on every attempt so receivers can de-duplicate.
    pub id: String,
    pub event_type: String,
    pub body: String,
}

impl AlertEvent {
    pub fn new(event_type: &str, data: Value, now: DateTime<Utc>) -> Self {
        let body = json!({
            "type": event_type,
            "timestamp": now.to_rfc3339_opts(SecondsFormat::Millis, true),
            "data": data,
        });
        Self {
            id: format!("msg_{}", uuid::Uuid::new_v4().simple()),
            event_type: event_type.to_string(),
            body: body.to_string(),
        }
    }

    /// The recording the event is about (`data.recordingId`), for logs; a test event has none.
    pub fn recording_id(&self) -> Option<String> {
        let body: Value = serde_json::from_str(&self.body).ok()?;
        Some(body.pointer("/data/recordingId")?.as_str()?.to_owned())
    }
}

/// The events a freshly processed recording gives rise to.
pub fn events_for(rec: &Recording, now: DateTime<Utc>) -> Vec<AlertEvent> {
    let id = rec.recording_id.as_str();
    let mut events = Vec::new();
    match rec.processing_status {
        ProcessingStatus::Completed | ProcessingStatus::Partial => events.push(AlertEvent::new(
            "recording.completed",
            json!({
                "recordingId": id,
                "status": rec.processing_status.as_str(),
                "caller": rec.caller,
                "callee": rec.callee,
                "duration": rec.duration,
                "quality_score": rec.quality_score,
            }),
            now,
        )),
        ProcessingStatus::Failed => events.push(AlertEvent::new(
            "recording.failed",
            json!({ "recordingId": id, "errors": rec.processing_errors }),
            now,
        )),
        _ => {}
    }
    for m in &rec.trackers {
        events.push(AlertEvent::new(
            "tracker.matched",
            json!({ "recordingId": id, "tracker": m.name, "hits": m.hits }),
            now,
        ));
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RecordingId;
    use crate::trackers::{TrackerHit, TrackerMatch};

    #[test]
    fn a_completed_call_with_a_match_gives_two_events_in_the_contract_shape() {
        let now = Utc::now();
        let mut rec = Recording::pending(RecordingId::parse("r-1").expect("id"), now);
        rec.processing_status = ProcessingStatus::Completed;
        rec.trackers = vec![TrackerMatch {
            name: "churn".into(),
            hits: vec![TrackerHit {
                rule: 0,
                start: Some(12.0),
            }],
        }];
        let events = events_for(&rec, now);
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(types, ["recording.completed", "tracker.matched"]);
        let body: Value = serde_json::from_str(&events[1].body).expect("json");
        assert_eq!(body["type"], "tracker.matched");
        assert_eq!(body["data"]["recordingId"], "r-1");
        assert_eq!(body["data"]["tracker"], "churn");
        assert_eq!(body["data"]["hits"], json!([{"rule": 0, "start": 12.0}]));
        assert!(DateTime::parse_from_rfc3339(body["timestamp"].as_str().unwrap_or("")).is_ok());
        assert_ne!(events[0].id, events[1].id);
        // What the dispatcher's log lines name.
        for event in &events {
            assert_eq!(event.recording_id().as_deref(), Some("r-1"));
        }
    }

    #[test]
    fn a_failed_call_gives_recording_failed_and_a_pending_one_nothing() {
        let now = Utc::now();
        let mut rec = Recording::pending(RecordingId::parse("r-2").expect("id"), now);
        assert!(events_for(&rec, now).is_empty());
        rec.processing_status = ProcessingStatus::Failed;
        let events = events_for(&rec, now);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type, "recording.failed");
    }
}
