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
pub enum RecordingEvent {
    Created,
    Deleted,
}

impl RecordingEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Deleted => "deleted",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "created" => Some(Self::Created),
            "deleted" => Some(Self::Deleted),
            _ => None,
        }
    }
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
