//! Conversation figures (talk time, silence, turns, interruptions) from timed cues.

use std::collections::{BTreeMap, HashMap};

use crate::transcript::Cue;

use super::types::{CallMetrics, SpeakerMetrics};

/// Name used for cues whose source names no speaker.
pub const UNKNOWN_SPEAKER: &str = "unknown";

struct Interval<'a> {
    start_ms: u64,
    end_ms: u64,
    speaker: &'a str,
}

/// Computes call metrics. The call lasts `max(recording_duration_ms, last cue end)`.
///
/// With no cues every figure is zero, except that a known recording duration counts as
/// entirely silent (`silence_share` 1.0). Speakers are listed by talk time, longest first.
pub fn compute(cues: &[Cue], recording_duration_ms: Option<u64>) -> CallMetrics {
    let mut intervals: Vec<Interval> = cues
        .iter()
        .map(|cue| Interval {
            start_ms: cue.start_ms,
            end_ms: cue.end_ms.max(cue.start_ms),
            speaker: speaker_of(cue),
        })
        .collect();
    // Stable, so cues starting together keep their source order.
    intervals.sort_by_key(|i| (i.start_ms, i.end_ms));

    let last_end_ms = intervals.iter().map(|i| i.end_ms).max().unwrap_or(0);
    let total_ms = recording_duration_ms.unwrap_or(0).max(last_end_ms);

    let mut by_speaker: BTreeMap<&str, Vec<(u64, u64)>> = BTreeMap::new();
    for interval in &intervals {
        by_speaker
            .entry(interval.speaker)
            .or_default()
            .push((interval.start_ms, interval.end_ms));
    }
    let talk_ms: BTreeMap<&str, u64> = by_speaker
        .iter()
        .map(|(speaker, spans)| (*speaker, union_length(spans)))
        .collect();
    let total_talk_ms = talk_ms
        .values()
        .fold(0u64, |sum, ms| sum.saturating_add(*ms));

    let all_spans: Vec<(u64, u64)> = intervals.iter().map(|i| (i.start_ms, i.end_ms)).collect();
    let covered_ms = union_length(&all_spans);
    let silence_share = ratio(total_ms.saturating_sub(covered_ms), total_ms);

    let (turns, turns_by_speaker) = count_turns(&intervals);
    let interruptions = count_interruptions(&intervals);
    let (longest_ms, longest_speaker) = longest_monologue(&intervals);

    let mut speakers: Vec<SpeakerMetrics> = talk_ms
        .iter()
        .map(|(speaker, &ms)| SpeakerMetrics {
            speaker: (*speaker).to_string(),
            talk_time_seconds: seconds(ms),
            talk_share: ratio(ms, total_talk_ms),
            turns: turns_by_speaker.get(speaker).copied().unwrap_or(0),
        })
        .collect();
    speakers.sort_by(|a, b| {
        b.talk_time_seconds
            .total_cmp(&a.talk_time_seconds)
            .then_with(|| a.speaker.cmp(&b.speaker))
    });

    CallMetrics {
        total_duration_seconds: seconds(total_ms),
        speakers,
        silence_share,
        turns,
        interruptions,
        longest_monologue_seconds: seconds(longest_ms),
        longest_monologue_speaker: longest_speaker.map(str::to_string),
        per_role: None,
        non_talk: crate::insight::non_talk(cues, total_ms),
    }
}

/// The cue's speaker as the metrics name it: trimmed, or [`UNKNOWN_SPEAKER`].
pub(crate) fn speaker_of(cue: &Cue) -> &str {
    cue.speaker
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(UNKNOWN_SPEAKER)
}

pub(crate) fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// `part / whole`, 0.0 when `whole` is zero so no NaN ever reaches the output.
pub(crate) fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64).clamp(0.0, 1.0)
    }
}

/// Length of the union of `[start, end)` spans, so overlapping spans count once.
pub(crate) fn union_length(spans: &[(u64, u64)]) -> u64 {
    let mut sorted = spans.to_vec();
    sorted.sort_unstable();
    let mut total = 0u64;
    let mut current: Option<(u64, u64)> = None;
    for (start, end) in sorted {
        match current {
            Some((run_start, run_end)) if start <= run_end => {
                current = Some((run_start, run_end.max(end)));
            }
            _ => {
                if let Some((run_start, run_end)) = current {
                    total = total.saturating_add(run_end - run_start);
                }
                current = Some((start, end));
            }
        }
    }
    if let Some((run_start, run_end)) = current {
        total = total.saturating_add(run_end - run_start);
    }
    total
}

fn count_turns<'a>(intervals: &[Interval<'a>]) -> (u32, HashMap<&'a str, u32>) {
    let mut turns = 0u32;
    let mut by_speaker: HashMap<&str, u32> = HashMap::new();
    let mut previous: Option<&str> = None;
    for interval in intervals {
        if previous != Some(interval.speaker) {
            turns = turns.saturating_add(1);
            let count = by_speaker.entry(interval.speaker).or_default();
            *count = count.saturating_add(1);
            previous = Some(interval.speaker);
        }
    }
    (turns, by_speaker)
}

/// Cues that start strictly before an earlier cue of another speaker has ended.
fn count_interruptions(intervals: &[Interval]) -> u32 {
    let mut latest_end_by_speaker: HashMap<&str, u64> = HashMap::new();
    let mut interruptions = 0u32;
    for interval in intervals {
        let cuts_in = latest_end_by_speaker
            .iter()
            .any(|(speaker, &end)| *speaker != interval.speaker && interval.start_ms < end);
        if cuts_in {
            interruptions = interruptions.saturating_add(1);
        }
        let end = latest_end_by_speaker.entry(interval.speaker).or_default();
        *end = (*end).max(interval.end_ms);
    }
    interruptions
}

/// Longest run of consecutive same-speaker cues, measured from first start to last end.
fn longest_monologue<'a>(intervals: &[Interval<'a>]) -> (u64, Option<&'a str>) {
    let mut best: (u64, Option<&str>) = (0, None);
    let mut run: Option<(&str, u64, u64)> = None;
    for interval in intervals {
        run = match run {
            Some((speaker, start, end)) if speaker == interval.speaker => {
                Some((speaker, start, end.max(interval.end_ms)))
            }
            _ => Some((interval.speaker, interval.start_ms, interval.end_ms)),
        };
        if let Some((speaker, start, end)) = run {
            let length = end - start;
            if best.1.is_none() || length > best.0 {
                best = (length, Some(speaker));
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(start_ms: u64, end_ms: u64, speaker: Option<&str>) -> Cue {
        Cue {
            start_ms,
            end_ms,
            speaker: speaker.map(str::to_string),
            text: "x".to_string(),
        }
    }

    fn speaker<'a>(metrics: &'a CallMetrics, name: &str) -> &'a SpeakerMetrics {
        metrics
            .speakers
            .iter()
            .find(|s| s.speaker == name)
            .unwrap_or_else(|| panic!("no speaker {name} in {metrics:?}"))
    }

    fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < 1e-9,
            "expected {expected}, got {actual}"
        );
    }

    fn assert_all_finite(metrics: &CallMetrics) {
        assert!(metrics.total_duration_seconds.is_finite());
        assert!(metrics.silence_share.is_finite());
        assert!(metrics.longest_monologue_seconds.is_finite());
        for s in &metrics.speakers {
            assert!(s.talk_time_seconds.is_finite() && s.talk_share.is_finite());
        }
    }

    #[test]
    fn overlap_and_interruption() {
        // Agent 0-10s; customer cuts in at 8s until 15s; agent resumes at 16-20s.
        let cues = vec![
            cue(0, 10_000, Some("Agent")),
            cue(8_000, 15_000, Some("Customer")),
            cue(16_000, 20_000, Some("Agent")),
        ];
        let metrics = compute(&cues, Some(20_000));
        assert_eq!(metrics.interruptions, 1);
        assert_eq!(metrics.turns, 3);
        assert_close(metrics.total_duration_seconds, 20.0);
        assert_close(speaker(&metrics, "Agent").talk_time_seconds, 14.0);
        assert_close(speaker(&metrics, "Customer").talk_time_seconds, 7.0);
        assert_close(speaker(&metrics, "Agent").talk_share, 14.0 / 21.0);
        assert_close(speaker(&metrics, "Customer").talk_share, 7.0 / 21.0);
        assert_eq!(speaker(&metrics, "Agent").turns, 2);
        assert_eq!(speaker(&metrics, "Customer").turns, 1);
        // Only 15-16s is silent.
        assert_close(metrics.silence_share, 1.0 / 20.0);
        assert_close(metrics.longest_monologue_seconds, 10.0);
        assert_eq!(metrics.longest_monologue_speaker.as_deref(), Some("Agent"));
        assert_eq!(metrics.speakers[0].speaker, "Agent");
    }

    #[test]
    fn own_overlapping_cues_are_not_double_counted_nor_interruptions() {
        let cues = vec![cue(0, 5_000, Some("Ana")), cue(3_000, 8_000, Some("Ana"))];
        let metrics = compute(&cues, None);
        assert_close(speaker(&metrics, "Ana").talk_time_seconds, 8.0);
        assert_eq!(metrics.interruptions, 0);
        assert_eq!(metrics.turns, 1);
    }

    #[test]
    fn silence_counts_gaps_and_trailing_recording_time() {
        let cues = vec![
            cue(10_000, 20_000, Some("A")),
            cue(30_000, 40_000, Some("B")),
        ];
        let metrics = compute(&cues, Some(60_000));
        assert_close(metrics.total_duration_seconds, 60.0);
        assert_close(metrics.silence_share, 40.0 / 60.0);
        assert_eq!(metrics.interruptions, 0);
        assert_eq!(metrics.turns, 2);
    }

    #[test]
    fn duration_is_at_least_the_last_cue_end() {
        let cues = vec![cue(0, 30_000, Some("A"))];
        let metrics = compute(&cues, Some(10_000));
        assert_close(metrics.total_duration_seconds, 30.0);
        assert_close(metrics.silence_share, 0.0);
    }

    #[test]
    fn one_speaker_with_gaps_is_one_monologue() {
        let cues = vec![
            cue(0, 2_000, Some("Solo")),
            cue(5_000, 7_000, Some("Solo")),
            cue(9_000, 12_000, Some("Solo")),
        ];
        let metrics = compute(&cues, None);
        assert_eq!(metrics.speakers.len(), 1);
        assert_close(metrics.speakers[0].talk_share, 1.0);
        assert_close(metrics.speakers[0].talk_time_seconds, 7.0);
        assert_eq!(metrics.turns, 1);
        assert_eq!(metrics.speakers[0].turns, 1);
        assert_close(metrics.longest_monologue_seconds, 12.0);
        assert_close(metrics.silence_share, 5.0 / 12.0);
    }

    #[test]
    fn monologue_ends_when_someone_else_speaks() {
        let cues = vec![
            cue(0, 4_000, Some("A")),
            cue(4_000, 9_000, Some("A")),
            cue(9_000, 10_000, Some("B")),
            cue(10_000, 12_000, Some("A")),
        ];
        let metrics = compute(&cues, None);
        assert_close(metrics.longest_monologue_seconds, 9.0);
        assert_eq!(metrics.longest_monologue_speaker.as_deref(), Some("A"));
        assert_eq!(metrics.turns, 3);
    }

    #[test]
    fn missing_speakers_are_unknown() {
        let cues = vec![cue(0, 1_000, None), cue(1_000, 2_000, Some("  "))];
        let metrics = compute(&cues, None);
        assert_eq!(metrics.speakers.len(), 1);
        assert_eq!(metrics.speakers[0].speaker, UNKNOWN_SPEAKER);
        assert_eq!(metrics.turns, 1);
    }

    #[test]
    fn unsorted_input_is_handled() {
        let cues = vec![cue(5_000, 6_000, Some("B")), cue(0, 5_500, Some("A"))];
        let metrics = compute(&cues, None);
        assert_eq!(metrics.interruptions, 1);
        assert_eq!(metrics.turns, 2);
    }

    #[test]
    fn empty_list_is_all_zero() {
        let metrics = compute(&[], None);
        assert_eq!(metrics, CallMetrics::default());
        assert_all_finite(&metrics);
    }

    #[test]
    fn empty_list_with_known_duration_is_silent() {
        let metrics = compute(&[], Some(30_000));
        assert_close(metrics.total_duration_seconds, 30.0);
        assert_close(metrics.silence_share, 1.0);
        assert_eq!(metrics.turns, 0);
        assert!(metrics.speakers.is_empty());
        assert_eq!(metrics.longest_monologue_speaker, None);
        assert_all_finite(&metrics);
    }

    #[test]
    fn zero_length_cues_give_no_nan() {
        let cues = vec![cue(0, 0, Some("A")), cue(0, 0, Some("B"))];
        let metrics = compute(&cues, None);
        assert_all_finite(&metrics);
        assert_close(metrics.speakers[0].talk_share, 0.0);
        assert_close(metrics.silence_share, 0.0);
        assert_eq!(metrics.interruptions, 0);
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let cues = vec![cue(0, u64::MAX, Some("A")), cue(1, u64::MAX, Some("B"))];
        let metrics = compute(&cues, Some(u64::MAX));
        assert_all_finite(&metrics);
        assert_eq!(metrics.interruptions, 1);
    }
}
