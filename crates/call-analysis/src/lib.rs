//! The pure text work on call transcripts: parsing WebVTT into timed cues, and analysing them
//! (sentiment, extractive summary, topics, action items, language, conversation metrics).
//!
//! No I/O: everything here takes text or cues and returns values, so the service, the
//! redaction and the trackers can share it and it can be tested without servers.

pub mod action_items;
pub mod call_metrics;
mod data;
pub mod insight;
pub mod keywords;
pub mod language;
mod local;
pub mod redact;
pub mod sentiment;
mod sentiment_lexicons;
pub mod summary;
pub mod text;
pub mod transcript;
pub mod types;

pub use local::analyse_locally;
pub use types::*;
