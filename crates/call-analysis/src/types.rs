//! What analysis produces, whether by the LLM or the local analyser.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SentimentLabel {
    Positive,
    Neutral,
    Negative,
}

impl SentimentLabel {
    /// Scores at or above this are positive.
    pub const POSITIVE_THRESHOLD: f64 = 0.15;
    /// Scores at or below this are negative.
    pub const NEGATIVE_THRESHOLD: f64 = -0.15;

    /// The one rule from a score in -1..=1 to a label, for the local analyser and for an LLM
    /// answer that gives a score without a label, so both agree on what "neutral" means.
    pub fn from_score(score: f64) -> Self {
        if score >= Self::POSITIVE_THRESHOLD {
            Self::Positive
        } else if score <= Self::NEGATIVE_THRESHOLD {
            Self::Negative
        } else {
            Self::Neutral
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sentiment {
    /// -1.0 (very negative) ..= 1.0 (very positive).
    pub score: f64,
    pub label: SentimentLabel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SummarySource {
    Llm,
    Local,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub summary: String,
    pub bullet_points: Vec<String>,
    pub key_topics: Vec<String>,
    pub action_items: Vec<String>,
    pub sentiment: Sentiment,
    pub source: SummarySource,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectedLanguage {
    /// ISO 639-1 code, e.g. `es`.
    pub code: String,
    /// 0.0 ..= 1.0
    pub confidence: f64,
}

/// Conversation figures computed from timed cues.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CallMetrics {
    pub total_duration_seconds: f64,
    pub speakers: Vec<SpeakerMetrics>,
    /// Share of the call (0..1) in which nobody speaks.
    pub silence_share: f64,
    /// Number of speaker changes plus one (0 when nobody speaks).
    pub turns: u32,
    /// Cues that start while another speaker's cue is still running.
    pub interruptions: u32,
    pub longest_monologue_seconds: f64,
    pub longest_monologue_speaker: Option<String>,
    /// Talk figures of the agent and the customer; `None` while the roles are unknown.
    /// Records stored before call insight have neither this nor `non_talk`.
    #[serde(default)]
    pub per_role: Option<crate::insight::ByRole<crate::insight::RoleMetrics>>,
    /// Silences of [`crate::insight::MIN_SILENCE_MS`] or more, in call order.
    #[serde(default)]
    pub non_talk: Vec<crate::insight::Silence>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SpeakerMetrics {
    pub speaker: String,
    pub talk_time_seconds: f64,
    /// Share (0..1) of all talk time.
    pub talk_share: f64,
    pub turns: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_use_documented_thresholds() {
        assert_eq!(SentimentLabel::from_score(0.15), SentimentLabel::Positive);
        assert_eq!(SentimentLabel::from_score(0.149), SentimentLabel::Neutral);
        assert_eq!(SentimentLabel::from_score(-0.15), SentimentLabel::Negative);
        assert_eq!(SentimentLabel::from_score(-0.149), SentimentLabel::Neutral);
    }
}
