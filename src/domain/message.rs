use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::RecordingId;

/// Why a message was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageSource {
    Webhook,
    Backfill,
    Reprocess,
}

/// The `convergedRecordings` events we act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "lowercase")]
pub enum RecordingEvent {
    Created,
    Deleted,
}

impl RecordingEvent {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(raw: &str) -> Option<Self> {
        raw.parse().ok()
    }
}

/// How deeply a webhook envelope may nest. A real one is 3 levels deep; the queue message wraps
/// it in one more, and serde_json refuses documents past 128, so a deeper envelope accepted at
/// the door would be unreadable by the worker (answered 200, then dead-lettered).
pub const MAX_ENVELOPE_DEPTH: usize = 32;

/// The nesting depth of a JSON value (a scalar is 0), without recursion.
pub fn json_depth(value: &serde_json::Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        match v {
            serde_json::Value::Array(items) => stack.extend(items.iter().map(|i| (i, depth + 1))),
            serde_json::Value::Object(map) => stack.extend(map.values().map(|i| (i, depth + 1))),
            _ => {}
        }
    }
    deepest
}

/// The body of every queue message (CONTRACT.md, "RabbitMQ topology").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueMessage {
    pub version: u32,
    pub source: MessageSource,
    pub event: RecordingEvent,
    pub recording_id: RecordingId,
    pub org_id: Option<String>,
    pub received_at: DateTime<Utc>,
    /// The webhook as received, or null for backfill and reprocess.
    pub envelope: Option<serde_json::Value>,
}

impl QueueMessage {
    pub const VERSION: u32 = 1;

    pub fn new(
        source: MessageSource,
        event: RecordingEvent,
        recording_id: RecordingId,
        org_id: Option<String>,
        envelope: Option<serde_json::Value>,
    ) -> Self {
        Self {
            version: Self::VERSION,
            source,
            event,
            recording_id,
            org_id,
            received_at: Utc::now(),
            envelope,
        }
    }

    /// Reads a message body as every consumer does.
    pub fn decode(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// A request to process a recording again, even if it is finished (REST, CLI).
    pub fn reprocess(recording_id: RecordingId) -> Self {
        Self::new(
            MessageSource::Reprocess,
            RecordingEvent::Created,
            recording_id,
            None,
            None,
        )
    }

    /// A recording the reconciler found missing or unfinished.
    pub fn backfill(recording_id: RecordingId) -> Self {
        Self::new(
            MessageSource::Backfill,
            RecordingEvent::Created,
            recording_id,
            None,
            None,
        )
    }

    /// `convergedRecordings.<event>`, the routing key the process queue is bound with.
    pub fn routing_key(&self) -> String {
        format!("convergedRecordings.{}", self.event.as_str())
    }

    /// Forced messages process a recording even if it is already finished. Only an explicit
    /// reprocess does: the reconciler sends only unfinished recordings, and a backfill message
    /// racing a webhook for the same recording must not make it run twice.
    pub fn forces_work(&self) -> bool {
        matches!(self.source, MessageSource::Reprocess)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_containers_only() {
        assert_eq!(json_depth(&serde_json::json!(1)), 0);
        assert_eq!(json_depth(&serde_json::json!({"a": [1, {"b": {}}]})), 3);
    }

    #[test]
    fn an_envelope_at_the_depth_limit_survives_the_queue_round_trip() {
        let mut data = serde_json::json!("leaf");
        for _ in 0..MAX_ENVELOPE_DEPTH - 1 {
            data = serde_json::json!({ "x": data });
        }
        assert_eq!(json_depth(&data), MAX_ENVELOPE_DEPTH - 1);
        let envelope = serde_json::json!({ "data": data });
        let id = RecordingId::parse("rec-1").unwrap();
        let message = QueueMessage::new(
            MessageSource::Webhook,
            RecordingEvent::Created,
            id,
            None,
            Some(envelope),
        );
        let body = serde_json::to_vec(&message).unwrap();
        assert_eq!(QueueMessage::decode(&body).unwrap(), message);
    }
}
