//! What the call page shows along the call's time: tracker hits (marks on the player's timeline
//! and a list by tracker), redactions, and the legal hold. Times become `data-seek` buttons.

use super::format;
use crate::domain::{LegalHold, Recording};

/// A second of the call the player can seek to.
pub struct Moment {
    /// Seconds, for `data-seek`.
    pub seconds: String,
    pub stamp: String,
}

impl Moment {
    fn at(seconds: f64) -> Self {
        Self {
            seconds: format!("{seconds}"),
            stamp: format::clock(seconds),
        }
    }
}

/// A tracker hit drawn on the timeline.
pub struct Mark {
    pub at: Moment,
    /// Position along the timeline, in percent.
    pub left: String,
    pub label: String,
}

pub struct TrackerHits {
    pub name: String,
    /// The calls this tracker matched (the list's `tracker=` filter).
    pub calls_href: String,
    pub moments: Vec<Moment>,
    /// Some rule is about the whole call (sentiment, silence, duration…), not a moment.
    pub whole_call: bool,
}

pub struct RedactionView {
    pub kind: String,
    pub at: Option<Moment>,
}

pub struct HoldView {
    pub reason: String,
    pub by: String,
    pub at: String,
}

#[derive(Default)]
pub struct Timeline {
    pub marks: Vec<Mark>,
    pub trackers: Vec<TrackerHits>,
    pub redactions: Vec<RedactionView>,
}

impl Timeline {
    pub fn of(r: &Recording) -> Self {
        let length = call_length(r);
        let mut marks = Vec::new();
        let trackers = r
            .trackers
            .iter()
            .map(|t| {
                let mut starts: Vec<f64> = t.hits.iter().filter_map(|h| h.start).collect();
                starts.sort_by(f64::total_cmp);
                starts.dedup();
                if let Some(length) = length {
                    marks.extend(starts.iter().map(|s| Mark {
                        at: Moment::at(*s),
                        left: format!("{:.2}", (s / length * 100.0).clamp(0.0, 100.0)),
                        label: format!("{} at {}", t.name, format::clock(*s)),
                    }));
                }
                TrackerHits {
                    calls_href: calls_with_tracker(&t.name),
                    name: t.name.clone(),
                    moments: starts.into_iter().map(Moment::at).collect(),
                    whole_call: t.hits.iter().any(|h| h.start.is_none()),
                }
            })
            .collect();
        let redactions = r
            .redactions
            .iter()
            .map(|x| RedactionView {
                kind: x.kind.name().to_string(),
                at: x.start.map(Moment::at),
            })
            .collect();
        Self {
            marks,
            trackers,
            redactions,
        }
    }
}

impl From<&LegalHold> for HoldView {
    fn from(h: &LegalHold) -> Self {
        Self {
            reason: h.reason.clone(),
            by: h.by.clone(),
            at: format::time(Some(h.at)),
        }
    }
}

/// `/?tracker=NAME`: the calls list filtered to one tracker.
pub fn calls_with_tracker(name: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("tracker", name)
        .finish();
    format!("/?{query}")
}

/// The call's length for placing marks: its duration, else where the last cue ends.
fn call_length(r: &Recording) -> Option<f64> {
    let from_cues = r
        .transcript_cues
        .as_ref()
        .and_then(|t| t.cues.iter().map(|c| c.end_ms).max())
        .map(|ms| ms as f64 / 1000.0);
    r.duration.or(from_cues).filter(|l| *l > 0.0)
}
