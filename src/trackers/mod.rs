//! Trackers: named rules that find the calls that matter (a phrase said, bad sentiment, long
//! silences…), evaluated on every processed call and, when a tracker is created or changed,
//! on every stored one.
//!
//! `sentiment_below` may look at one side (`speaker`: agent or customer, from the record's
//! roles) and one quarter of the call; a record without roles meets neither way a rule that
//! names a side.

mod evaluate;
pub mod reevaluate;
mod rules;

use serde::{Deserialize, Serialize};

pub use crate::store::PendingTracker;

pub use evaluate::{PreparedRecording, evaluate_all, folded_words};
pub use rules::{
    InvalidTracker, MatchMode, PhraseSpeaker, Rule, RuleKind, TrackerDefinition, existing_name,
    validate_name,
};

/// Where in a recording one rule of a tracker held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrackerHit {
    /// Index of the rule in the tracker's `rules`.
    pub rule: usize,
    /// Second of the call at which a phrase was said; absent for rules about the whole call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
}

/// A tracker that matched a recording, with its hits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrackerMatch {
    pub name: String,
    pub hits: Vec<TrackerHit>,
}
