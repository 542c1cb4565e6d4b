//! Call insight: who is the agent and who the customer, how each side felt, how the call
//! went quarter by quarter, and per-role talk figures. Offline and deterministic, so
//! `swap-roles` can re-derive everything from the same cues.

mod quarters;
mod role_metrics;
mod roles;

use serde::{Deserialize, Serialize};

use crate::call_metrics::speaker_of;
use crate::sentiment::Valence;
use crate::transcript::Cue;
use crate::types::{Sentiment, SentimentLabel};

pub use quarters::{by_quarter, speaker_by_quarter, split_into_quarters};
pub use role_metrics::{MIN_SILENCE_MS, non_talk, per_role, words_per_minute};
pub use roles::{CallDirection, RoleHints, decide_roles};

/// The transcript speaker taking each role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    pub agent: String,
    pub customer: String,
}

impl Roles {
    /// The roles the other way round, for `swap-roles`.
    pub fn swapped(&self) -> Self {
        Self {
            agent: self.customer.clone(),
            customer: self.agent.clone(),
        }
    }
}

/// One value for each role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ByRole<T> {
    pub agent: T,
    pub customer: T,
}

/// Talk figures of one role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleMetrics {
    pub talk_seconds: f64,
    /// Share (0..1) of all talk time.
    pub talk_share: f64,
    pub words_per_minute: f64,
    /// Cues of this role that start while the other side is still speaking.
    pub interruptions: u32,
}

/// A stretch of the call, in seconds from its start, in which nobody speaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Silence {
    pub start: f64,
    pub end: f64,
}

/// Everything the insight adds to a record. The role-dependent parts are `None` when the
/// speakers cannot be told apart (fewer than two named speakers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallInsight {
    pub roles: Option<Roles>,
    pub by_speaker: Option<ByRole<Sentiment>>,
    pub by_quarter: [f64; 4],
    /// The last quarter's label: did the call end well?
    pub end: SentimentLabel,
    pub per_role: Option<ByRole<RoleMetrics>>,
    pub non_talk: Vec<Silence>,
}

/// The insight of a call, deciding the roles from `hints` and the cues.
/// The call lasts `max(recording_duration_ms, last cue end)`, as in the call metrics.
pub fn analyse(
    cues: &[Cue],
    recording_duration_ms: Option<u64>,
    language: &str,
    hints: &RoleHints,
) -> CallInsight {
    let roles = decide_roles(hints, cues);
    with_roles(cues, recording_duration_ms, language, roles)
}

/// The call's length as the insight counts it: `max(recording duration, last cue end)`.
pub fn call_duration_ms(cues: &[Cue], recording_duration_ms: Option<u64>) -> u64 {
    let last_end_ms = cues.iter().map(|c| c.end_ms).max().unwrap_or(0);
    recording_duration_ms.unwrap_or(0).max(last_end_ms)
}

/// The insight for roles already decided (or swapped by a user).
pub fn with_roles(
    cues: &[Cue],
    recording_duration_ms: Option<u64>,
    language: &str,
    roles: Option<Roles>,
) -> CallInsight {
    let duration_ms = call_duration_ms(cues, recording_duration_ms);
    let valences = quarters::cue_valences(cues, language);
    let by_quarter = quarters::quarter_scores(cues, &valences, duration_ms, |_| true);
    let by_speaker = roles.as_ref().map(|roles| ByRole {
        agent: speaker_sentiment(cues, &valences, &roles.agent),
        customer: speaker_sentiment(cues, &valences, &roles.customer),
    });
    CallInsight {
        by_speaker,
        end: SentimentLabel::from_score(by_quarter[3]),
        by_quarter,
        per_role: roles.as_ref().map(|roles| per_role(cues, roles)),
        non_talk: non_talk(cues, duration_ms),
        roles,
    }
}

/// A speaker's sentiment over all their cues, from the cues' valences.
fn speaker_sentiment(cues: &[Cue], valences: &[Valence], speaker: &str) -> Sentiment {
    cues.iter()
        .zip(valences)
        .filter(|(cue, _)| speaker_of(cue) == speaker)
        .map(|(_, v)| *v)
        .sum::<Valence>()
        .sentiment()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(start_s: u64, end_s: u64, speaker: &str, text: &str) -> Cue {
        Cue {
            start_ms: start_s * 1000,
            end_ms: end_s * 1000,
            speaker: Some(speaker.to_owned()),
            text: text.to_owned(),
        }
    }

    fn call() -> Vec<Cue> {
        vec![
            cue(
                0,
                4,
                "Luis",
                "Gracias por llamar a Acme, ¿en qué le puedo ayudar?",
            ),
            cue(
                5,
                20,
                "Ana",
                "Estoy muy molesta, el router sigue sin funcionar.",
            ),
            cue(
                24,
                30,
                "Luis",
                "Lo reviso ahora mismo, un momento por favor.",
            ),
            cue(
                32,
                40,
                "Ana",
                "Ya funciona, muchísimas gracias, estoy muy contenta.",
            ),
        ]
    }

    #[test]
    fn roles_sides_and_the_end_of_the_call() {
        let insight = analyse(&call(), Some(40_000), "es", &RoleHints::default());
        let roles = insight.roles.clone().expect("two speakers");
        assert_eq!(
            (roles.agent.as_str(), roles.customer.as_str()),
            ("Luis", "Ana")
        );
        assert_eq!(insight.end, SentimentLabel::Positive);
        // Ana's complaint (5-20 s, midpoint 12.5 s) falls in the second quarter.
        assert!(insight.by_quarter[1] < -0.15, "{:?}", insight.by_quarter);
        let per_role = insight.per_role.expect("roles known");
        assert_eq!(per_role.agent.talk_seconds, 10.0);
        assert_eq!(per_role.customer.talk_seconds, 23.0);
        assert_eq!(
            insight.non_talk,
            vec![Silence {
                start: 20.0,
                end: 24.0
            }]
        );
    }

    #[test]
    fn swapping_roles_swaps_every_per_role_figure() {
        let insight = analyse(&call(), Some(40_000), "es", &RoleHints::default());
        let roles = insight.roles.clone().expect("two speakers");
        let swapped = with_roles(&call(), Some(40_000), "es", Some(roles.swapped()));
        let (before, after) = (
            insight.per_role.expect("roles"),
            swapped.per_role.expect("roles"),
        );
        assert_eq!(before.agent, after.customer);
        assert_eq!(before.customer, after.agent);
        let (before, after) = (
            insight.by_speaker.expect("roles"),
            swapped.by_speaker.expect("roles"),
        );
        assert_eq!(before.agent, after.customer);
        assert_eq!(insight.by_quarter, swapped.by_quarter);
    }
}
