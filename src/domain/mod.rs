//! Domain types: parsed once at the edge, no I/O.

mod insight;
mod message;
mod recording;
mod recording_id;

pub use insight::{CallSentiment, NoRoles, derive_insight, duration_ms, role_hints, swap_roles};
pub use message::{MAX_ENVELOPE_DEPTH, MessageSource, QueueMessage, RecordingEvent, json_depth};
pub use recording::{LegalHold, ProcessingStatus, Recording, ReprocessRefused, Step};
pub use recording_id::{InvalidRecordingId, RecordingId};
