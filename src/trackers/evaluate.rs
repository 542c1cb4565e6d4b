//! Evaluating trackers on one recording. A recording is prepared once (its cues folded into
//! words, each cue's speaker matched to caller or callee) and then checked against every
//! tracker, so re-evaluating many trackers costs one fold per recording, not one per tracker.

use call_analysis::insight;
use call_analysis::text::{base_language, fold, words};

use super::rules::{MatchMode, PhraseSpeaker, Rule, RuleKind, TrackerDefinition};
use super::{TrackerHit, TrackerMatch};
use crate::domain::{Recording, duration_ms};

/// A recording's hits per rule are capped: a phrase said 500 times is not 500 timeline marks.
const MAX_HITS_PER_RULE: usize = 50;

/// Lowercased, accent-free words, the same folding the search and the analysis use.
pub fn folded_words(text: &str) -> Vec<String> {
    let folded = fold(text);
    words(&folded).into_iter().map(str::to_string).collect()
}

struct PreparedCue {
    start_seconds: f64,
    speaker: Option<PhraseSpeaker>,
    words: Vec<String>,
}

/// What the rules look at, taken from one recording.
pub struct PreparedRecording<'a> {
    rec: &'a Recording,
    cues: Vec<PreparedCue>,
}

impl<'a> PreparedRecording<'a> {
    /// `rec.transcript_cues` is the text as stored, i.e. after redaction when redaction runs,
    /// so a phrase never matches words that were redacted away.
    pub fn new(rec: &'a Recording) -> Self {
        let caller = party_names(rec.caller_name.as_deref(), rec.caller.as_deref());
        let callee = party_names(rec.callee_name.as_deref(), rec.callee.as_deref());
        let cues = rec
            .transcript_cues
            .iter()
            .flat_map(|t| t.cues.iter())
            .map(|cue| {
                let speaker = cue
                    .speaker
                    .as_deref()
                    .map(fold)
                    .map(|s| s.trim().to_string());
                let speaker = speaker.and_then(|s| {
                    if caller.contains(&s) {
                        Some(PhraseSpeaker::Caller)
                    } else if callee.contains(&s) {
                        Some(PhraseSpeaker::Callee)
                    } else {
                        None
                    }
                });
                PreparedCue {
                    start_seconds: cue.start_ms as f64 / 1000.0,
                    speaker,
                    words: folded_words(&cue.text),
                }
            })
            .collect();
        Self { rec, cues }
    }

    /// The tracker's hits when it matches this recording, `None` when it does not.
    pub fn evaluate(&self, tracker: &TrackerDefinition) -> Option<TrackerMatch> {
        let mut hits = Vec::new();
        let mut held = 0;
        for (index, rule) in tracker.rules.iter().enumerate() {
            match self.rule_hits(index, rule) {
                Some(rule_hits) => {
                    held += 1;
                    hits.extend(rule_hits);
                }
                None if tracker.match_mode == MatchMode::All => return None,
                None => {}
            }
        }
        (held > 0).then(|| TrackerMatch {
            name: tracker.name.clone(),
            hits,
        })
    }

    /// `Some(hits)` when the rule holds. A figure the record does not have (no call metrics, no
    /// duration) makes the rule not hold, negated or not: "not long" is unknown, not true.
    fn rule_hits(&self, index: usize, rule: &Rule) -> Option<Vec<TrackerHit>> {
        let whole_call = || {
            vec![TrackerHit {
                rule: index,
                start: None,
            }]
        };
        if let RuleKind::Phrase { words, speaker, .. } = &rule.kind {
            let starts = self.phrase_starts(words, *speaker);
            return match (starts.is_empty(), rule.negate) {
                (false, false) => Some(
                    starts
                        .into_iter()
                        .map(|start| TrackerHit {
                            rule: index,
                            start: Some(start),
                        })
                        .collect(),
                ),
                (true, true) => Some(whole_call()),
                _ => None,
            };
        }
        let holds = self.figure_rule_holds(&rule.kind)?;
        (holds != rule.negate).then(whole_call)
    }

    /// Whether a rule on a figure of the call holds; `None` when the record lacks the figure.
    fn figure_rule_holds(&self, kind: &RuleKind) -> Option<bool> {
        let rec = self.rec;
        let metrics = rec.call_metrics.as_ref();
        match kind {
            RuleKind::Phrase { .. } => None,
            RuleKind::SentimentBelow {
                threshold,
                speaker,
                quarter,
            } => sentiment_of(rec, speaker.as_deref(), *quarter).map(|score| score < *threshold),
            RuleKind::SilenceShareAbove(x) => metrics.map(|m| m.silence_share > *x),
            RuleKind::InterruptionsAbove(n) => metrics.map(|m| m.interruptions > *n),
            RuleKind::DurationAbove(x) => rec
                .duration
                .or_else(|| metrics.map(|m| m.total_duration_seconds))
                .map(|d| d > *x),
            RuleKind::Language(code) => rec
                .detected_language
                .as_deref()
                .map(|l| base_language(l) == base_language(code)),
        }
    }

    /// Start (seconds) of every cue of `speaker` in which one of the phrases is said, as whole
    /// consecutive words.
    fn phrase_starts(&self, phrases: &[Vec<String>], speaker: PhraseSpeaker) -> Vec<f64> {
        self.cues
            .iter()
            .filter(|c| speaker == PhraseSpeaker::Any || c.speaker == Some(speaker))
            .filter(|c| {
                phrases.iter().any(|phrase| {
                    c.words
                        .windows(phrase.len())
                        .any(|window| window == phrase.as_slice())
                })
            })
            .map(|c| c.start_seconds)
            .take(MAX_HITS_PER_RULE)
            .collect()
    }
}

/// The score a `sentiment_below` rule compares: the call's, a side's (`agent`, `customer`), a
/// quarter's (1..=4), or a side's words in one quarter (scored here from the cues, as the
/// record keeps only the two separately). `None` when the record lacks it (no roles yet).
fn sentiment_of(rec: &Recording, speaker: Option<&str>, quarter: Option<u8>) -> Option<f64> {
    let sentiment = rec.sentiment.as_ref()?;
    let quarter = quarter.map(|q| usize::from(q.clamp(1, 4)) - 1);
    let speaker = match (speaker, rec.roles.as_ref()) {
        (None, _) => None,
        (Some(_), None) => return None,
        (Some("agent"), Some(roles)) => Some(roles.agent.as_str()),
        (Some(_), Some(roles)) => Some(roles.customer.as_str()),
    };
    match (speaker, quarter) {
        (None, None) => Some(sentiment.score),
        (None, Some(q)) => sentiment.by_quarter.map(|scores| scores[q]),
        (Some(speaker), None) => {
            let by_speaker = sentiment.by_speaker.as_ref()?;
            let roles = rec.roles.as_ref()?;
            Some(if speaker == roles.agent {
                by_speaker.agent.score
            } else {
                by_speaker.customer.score
            })
        }
        (Some(speaker), Some(q)) => {
            let cues = &rec.transcript_cues.as_ref()?.cues;
            let call_ms = insight::call_duration_ms(cues, duration_ms(rec.duration));
            let language = rec.detected_language.as_deref().unwrap_or("en");
            Some(insight::speaker_by_quarter(cues, call_ms, language, speaker)[q])
        }
    }
}

/// How a party may be named in a cue's speaker: by display name or by number, folded.
fn party_names(name: Option<&str>, number: Option<&str>) -> Vec<String> {
    [name, number]
        .into_iter()
        .flatten()
        .map(|s| fold(s).trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Every tracker that matches the recording, in the trackers' order.
pub fn evaluate_all(rec: &Recording, trackers: &[TrackerDefinition]) -> Vec<TrackerMatch> {
    let prepared = PreparedRecording::new(rec);
    trackers
        .iter()
        .filter_map(|t| prepared.evaluate(t))
        .collect()
}

#[cfg(test)]
mod tests {
    use call_analysis::transcript::{Cue, Transcript};
    use call_analysis::{CallMetrics, Sentiment, SentimentLabel};
    use chrono::Utc;
    use serde_json::json;

    use super::*;
    use crate::domain::RecordingId;

    fn cue(start_s: u64, speaker: &str, text: &str) -> Cue {
        Cue {
            start_ms: start_s * 1000,
            end_ms: start_s * 1000 + 2000,
            speaker: Some(speaker.into()),
            text: text.into(),
        }
    }

    fn call() -> Recording {
        let mut r = Recording::pending(RecordingId::parse("r1").expect("id"), Utc::now());
        r.caller_name = Some("Ana Pérez".into());
        r.callee_name = Some("Soporte".into());
        r.duration = Some(300.0);
        r.detected_language = Some("es-ES".into());
        r.sentiment = Some(
            Sentiment {
                score: -0.5,
                label: SentimentLabel::Negative,
            }
            .into(),
        );
        r.call_metrics = Some(CallMetrics {
            silence_share: 0.4,
            interruptions: 6,
            ..CallMetrics::default()
        });
        r.transcript_cues = Some(Transcript {
            cues: vec![
                cue(3, "Soporte", "Buenos días, ¿en qué puedo ayudarle?"),
                cue(12, "ANA PEREZ", "Quiero CANCELAR mi línea, estoy harta."),
                cue(20, "Soporte", "Entiendo, ¿quiere darse de baja hoy?"),
                cue(30, "Ana Pérez", "Sí, la cancelación ya."),
            ],
        });
        r
    }

    fn tracker(rules: serde_json::Value, mode: &str) -> TrackerDefinition {
        TrackerDefinition::from_json(&json!({"name": "t", "match": mode, "rules": rules}))
            .expect("valid tracker")
    }

    /// Whether a single-rule tracker matches, and the starts of its hits.
    fn check(rule: serde_json::Value) -> Option<Vec<Option<f64>>> {
        let prepared_rec = call();
        PreparedRecording::new(&prepared_rec)
            .evaluate(&tracker(json!([rule]), "all"))
            .map(|m| m.hits.iter().map(|h| h.start).collect())
    }

    #[test]
    fn phrases_match_whole_words_ignoring_case_and_accents_with_the_second_said() {
        assert_eq!(
            check(json!({"phrase": ["cancelar"]})),
            Some(vec![Some(12.0)])
        );
        assert_eq!(
            check(json!({"phrase": ["Cancelación"]})),
            Some(vec![Some(30.0)])
        );
        assert_eq!(
            check(json!({"phrase": ["dar de baja", "darse de baja"]})),
            Some(vec![Some(20.0)])
        );
        // "cancel" is inside "cancelar" but is not a whole word there.
        assert_eq!(check(json!({"phrase": ["cancel"]})), None);
        assert_eq!(check(json!({"phrase": ["baja darse"]})), None);
    }

    #[test]
    fn phrase_speaker_restricts_to_the_caller_or_the_callee() {
        assert_eq!(
            check(json!({"phrase": ["cancelar", "baja"], "speaker": "caller"})),
            Some(vec![Some(12.0)])
        );
        assert_eq!(
            check(json!({"phrase": ["cancelar", "baja"], "speaker": "callee"})),
            Some(vec![Some(20.0)])
        );
        assert_eq!(
            check(json!({"phrase": ["ayudarle"], "speaker": "caller"})),
            None
        );
    }

    #[test]
    fn phrases_see_only_the_stored_redacted_text() {
        let mut rec = call();
        if let Some(t) = rec.transcript_cues.as_mut() {
            t.cues[1].text = "Mi tarjeta es [CARD]".into();
        }
        let t = tracker(json!([{"phrase": ["4111"]}]), "all");
        assert!(PreparedRecording::new(&rec).evaluate(&t).is_none());
    }

    #[test]
    fn figure_rules_compare_with_the_record() {
        assert!(check(json!({"sentiment_below": -0.3})).is_some());
        assert!(check(json!({"sentiment_below": -0.6})).is_none());
        assert!(check(json!({"silence_share_above": 0.3})).is_some());
        assert!(check(json!({"silence_share_above": 0.5})).is_none());
        assert!(check(json!({"interruptions_above": 5})).is_some());
        assert!(check(json!({"interruptions_above": 6})).is_none());
        assert!(check(json!({"duration_above": 299})).is_some());
        assert!(check(json!({"duration_above": 300})).is_none());
        assert!(check(json!({"language": "es"})).is_some());
        assert!(check(json!({"language": "en"})).is_none());
        assert_eq!(check(json!({"language": "es"})), Some(vec![None]));
    }

    #[test]
    fn not_inverts_a_rule() {
        assert!(check(json!({"language": "en", "not": true})).is_some());
        assert!(check(json!({"language": "es", "not": true})).is_none());
        assert_eq!(
            check(json!({"phrase": ["factura"], "not": true})),
            Some(vec![None])
        );
        assert!(check(json!({"phrase": ["cancelar"], "not": true})).is_none());
    }

    #[test]
    fn a_missing_figure_holds_neither_way() {
        let mut rec = call();
        rec.call_metrics = None;
        let prepared = PreparedRecording::new(&rec);
        for not in [false, true] {
            let t = tracker(json!([{"interruptions_above": 1, "not": not}]), "all");
            assert!(prepared.evaluate(&t).is_none(), "not={not}");
        }
    }

    #[test]
    fn per_speaker_or_quarter_sentiment_is_undecided_without_roles_and_quarters() {
        assert!(check(json!({"sentiment_below": 0.9, "speaker": "customer"})).is_none());
        assert!(check(json!({"sentiment_below": 0.9, "quarter": 4})).is_none());
        assert!(check(json!({"sentiment_below": 0.9, "speaker": "any"})).is_some());
    }

    /// `call()` with its insight derived: Soporte (the callee, greeting) is the agent.
    fn call_with_insight() -> Recording {
        let mut rec = call();
        crate::domain::derive_insight(&mut rec);
        rec
    }

    #[test]
    fn sentiment_rules_can_look_at_one_side_and_one_quarter() {
        let rec = call_with_insight();
        let roles = rec.roles.clone().expect("roles");
        assert_eq!(roles.agent, "Soporte");
        let sentiment = rec.sentiment.clone().expect("sentiment");
        let by_speaker = sentiment.by_speaker.expect("by speaker");
        let quarters = sentiment.by_quarter.expect("by quarter");
        let holds = |rule: serde_json::Value| {
            PreparedRecording::new(&rec)
                .evaluate(&tracker(json!([rule]), "all"))
                .is_some()
        };
        // Just above and at each figure: "below" is strict.
        let customer = by_speaker.customer.score;
        assert!(customer < 0.0, "Ana is upset: {customer}");
        assert!(holds(
            json!({"sentiment_below": customer + 0.01, "speaker": "customer"})
        ));
        assert!(!holds(
            json!({"sentiment_below": customer, "speaker": "customer"})
        ));
        let agent = by_speaker.agent.score;
        assert!(holds(
            json!({"sentiment_below": agent + 0.01, "speaker": "agent"})
        ));
        assert!(!holds(
            json!({"sentiment_below": agent, "speaker": "agent"})
        ));
        for (q, score) in quarters.iter().enumerate() {
            let quarter = q + 1;
            assert!(holds(
                json!({"sentiment_below": score + 0.01, "quarter": quarter})
            ));
            assert!(!holds(
                json!({"sentiment_below": score, "quarter": quarter})
            ));
        }
        // The customer's words in the first quarter (0-75 s: the whole call here) and in the
        // last quarter, where nobody speaks (score 0).
        assert!(holds(
            json!({"sentiment_below": customer + 0.01, "speaker": "customer", "quarter": 1})
        ));
        assert!(!holds(
            json!({"sentiment_below": 0.0, "speaker": "customer", "quarter": 4})
        ));
        assert!(holds(
            json!({"sentiment_below": 0.01, "speaker": "customer", "quarter": 4})
        ));
    }

    #[test]
    fn match_all_needs_every_rule_and_any_needs_one() {
        let rec = call();
        let prepared = PreparedRecording::new(&rec);
        let rules = json!([{"phrase": ["cancelar"]}, {"language": "en"}, {"duration_above": 60}]);
        assert!(prepared.evaluate(&tracker(rules.clone(), "all")).is_none());
        let any = prepared
            .evaluate(&tracker(rules, "any"))
            .expect("any matches");
        let rules_hit: Vec<usize> = any.hits.iter().map(|h| h.rule).collect();
        assert_eq!(rules_hit, vec![0, 2]);
        let all = json!([{"phrase": ["cancelar"]}, {"language": "en", "not": true}]);
        let m = prepared.evaluate(&tracker(all, "all")).expect("all hold");
        assert_eq!(m.hits.len(), 2);
        let none = json!([{"phrase": ["factura"]}, {"language": "en"}]);
        assert!(prepared.evaluate(&tracker(none, "any")).is_none());
    }

    #[test]
    fn a_call_without_transcript_still_meets_figure_rules() {
        let mut rec = call();
        rec.transcript_cues = None;
        let trackers = [
            tracker(json!([{"duration_above": 60}]), "all"),
            tracker(json!([{"phrase": ["cancelar"]}]), "all"),
        ];
        assert_eq!(evaluate_all(&rec, &trackers).len(), 1);
    }
}
