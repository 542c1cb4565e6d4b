//! Per-role talk figures and the silences of a call.

use unicode_segmentation::UnicodeSegmentation;

use crate::call_metrics::{ratio, seconds, speaker_of, union_length};
use crate::transcript::Cue;

use super::{ByRole, RoleMetrics, Roles, Silence};

/// Gaps shorter than this are ordinary turn-taking, not dead air.
pub const MIN_SILENCE_MS: u64 = 3000;

/// Talk time, share of all talk, speaking rate and interruptions made, for each role.
pub fn per_role(cues: &[Cue], roles: &Roles) -> ByRole<RoleMetrics> {
    let all_spans: Vec<(u64, u64)> = cues.iter().map(span).collect();
    let total_talk_ms = union_length(&all_spans);
    let figures = |speaker: &str| {
        let own: Vec<&Cue> = cues.iter().filter(|c| speaker_of(c) == speaker).collect();
        let spans: Vec<(u64, u64)> = own.iter().map(|c| span(c)).collect();
        let talk_ms = union_length(&spans);
        let words: usize = own.iter().map(|c| c.text.unicode_words().count()).sum();
        RoleMetrics {
            talk_seconds: seconds(talk_ms),
            talk_share: ratio(talk_ms, total_talk_ms),
            words_per_minute: words_per_minute(words, talk_ms),
            interruptions: interruptions_made(cues, speaker),
        }
    };
    ByRole {
        agent: figures(&roles.agent),
        customer: figures(&roles.customer),
    }
}

fn span(cue: &Cue) -> (u64, u64) {
    (cue.start_ms, cue.end_ms.max(cue.start_ms))
}

/// Words per minute of talk; 0 when the role never speaks, so no division by zero.
pub fn words_per_minute(words: usize, talk_ms: u64) -> f64 {
    if talk_ms == 0 {
        0.0
    } else {
        words as f64 * 60_000.0 / talk_ms as f64
    }
}

/// Cues of `speaker` that start while another speaker's earlier cue is still running.
fn interruptions_made(cues: &[Cue], speaker: &str) -> u32 {
    let mut ordered: Vec<&Cue> = cues.iter().collect();
    ordered.sort_by_key(|c| (c.start_ms, c.end_ms));
    let mut others_end_ms = 0u64;
    let mut count = 0u32;
    for cue in ordered {
        if speaker_of(cue) == speaker {
            if cue.start_ms < others_end_ms {
                count = count.saturating_add(1);
            }
        } else {
            others_end_ms = others_end_ms.max(cue.end_ms);
        }
    }
    count
}

/// Stretches of at least [`MIN_SILENCE_MS`] in which nobody speaks, including before the
/// first cue and after the last one up to `duration_ms`.
pub fn non_talk(cues: &[Cue], duration_ms: u64) -> Vec<Silence> {
    let mut spans: Vec<(u64, u64)> = cues.iter().map(span).collect();
    spans.sort_unstable();
    let mut silences = Vec::new();
    let mut talked_until = 0u64;
    let mut push_gap = |from: u64, to: u64| {
        if to.saturating_sub(from) >= MIN_SILENCE_MS {
            silences.push(Silence {
                start: seconds(from),
                end: seconds(to),
            });
        }
    };
    for (start, end) in spans {
        push_gap(talked_until, start);
        talked_until = talked_until.max(end);
    }
    push_gap(talked_until, duration_ms);
    silences
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(start_ms: u64, end_ms: u64, speaker: &str, text: &str) -> Cue {
        Cue {
            start_ms,
            end_ms,
            speaker: Some(speaker.to_owned()),
            text: text.to_owned(),
        }
    }

    fn roles() -> Roles {
        Roles {
            agent: "Luis".into(),
            customer: "Ana".into(),
        }
    }

    #[test]
    fn silences_of_three_seconds_or_more_with_where_they_fall() {
        let cues = vec![
            cue(4_000, 10_000, "Luis", "a"),
            cue(12_000, 20_000, "Ana", "b"),
            // Overlaps Ana: no gap between them.
            cue(18_000, 25_000, "Luis", "c"),
            cue(28_000, 30_000, "Ana", "d"),
        ];
        let silences = non_talk(&cues, 40_000);
        assert_eq!(
            silences,
            vec![
                Silence {
                    start: 0.0,
                    end: 4.0
                },
                Silence {
                    start: 25.0,
                    end: 28.0
                },
                Silence {
                    start: 30.0,
                    end: 40.0
                },
            ]
        );
    }

    #[test]
    fn a_silence_just_under_three_seconds_does_not_count() {
        let cues = vec![cue(0, 1_000, "Luis", "a"), cue(3_999, 5_000, "Ana", "b")];
        assert!(non_talk(&cues, 5_000).is_empty());
    }

    #[test]
    fn words_per_minute_counts_words_over_talk_time() {
        // 30 words in 15 s of talk is 120 words per minute.
        let text = "uno dos tres cuatro cinco seis siete ocho nueve diez ".repeat(3);
        let cues = vec![
            cue(0, 10_000, "Luis", &text),
            cue(10_000, 15_000, "Ana", "vale"),
            cue(15_000, 20_000, "Luis", ""),
        ];
        let figures = per_role(&cues, &roles());
        assert_eq!(figures.agent.words_per_minute, 30.0 * 60.0 / 15.0);
        assert_eq!(figures.customer.words_per_minute, 12.0);
        assert_eq!(words_per_minute(10, 0), 0.0);
    }

    #[test]
    fn talk_share_and_interruptions_are_per_role() {
        let cues = vec![
            cue(0, 10_000, "Luis", "a"),
            // Ana cuts in twice, Luis once.
            cue(8_000, 12_000, "Ana", "b"),
            cue(11_000, 14_000, "Luis", "c"),
            cue(13_000, 16_000, "Ana", "d"),
        ];
        let figures = per_role(&cues, &roles());
        assert_eq!(figures.customer.interruptions, 2);
        assert_eq!(figures.agent.interruptions, 1);
        assert_eq!(figures.agent.talk_seconds, 13.0);
        assert_eq!(figures.customer.talk_seconds, 7.0);
        assert_eq!(figures.agent.talk_share, 13.0 / 16.0);
    }
}
