//! Sentiment over the four quarters of a call.
//!
//! A cue belongs to the quarter that holds its midpoint, so the split always falls at a cue
//! boundary: a sentence is never cut in two, and a long cue counts where most of it is.

use crate::call_metrics::speaker_of;
use crate::sentiment::{Valence, valence};
use crate::transcript::Cue;

/// The cues of each quarter of `duration_ms`, in their original order.
pub fn split_into_quarters(cues: &[Cue], duration_ms: u64) -> [Vec<&Cue>; 4] {
    let mut quarters: [Vec<&Cue>; 4] = Default::default();
    for cue in cues {
        quarters[quarter_of(cue, duration_ms)].push(cue);
    }
    quarters
}

fn quarter_of(cue: &Cue, duration_ms: u64) -> usize {
    if duration_ms == 0 {
        return 0;
    }
    let midpoint = cue.start_ms / 2 + cue.end_ms.max(cue.start_ms) / 2;
    // u128 so a long call times four never overflows.
    let quarter = u128::from(midpoint) * 4 / u128::from(duration_ms);
    usize::try_from(quarter).map_or(3, |q| q.min(3))
}

/// The sentiment score (-1..1) of each quarter's speech; 0 for a quarter nobody speaks in.
pub fn by_quarter(cues: &[Cue], duration_ms: u64, language: &str) -> [f64; 4] {
    quarter_scores(cues, &cue_valences(cues, language), duration_ms, |_| true)
}

/// [`by_quarter`] of one speaker's words only (the quarters are still the whole call's).
pub fn speaker_by_quarter(
    cues: &[Cue],
    duration_ms: u64,
    language: &str,
    speaker: &str,
) -> [f64; 4] {
    let valences = cue_valences(cues, language);
    quarter_scores(cues, &valences, duration_ms, |cue| {
        speaker_of(cue) == speaker
    })
}

/// Each cue scored once, so per-speaker and per-quarter figures only add them up.
pub(super) fn cue_valences(cues: &[Cue], language: &str) -> Vec<Valence> {
    cues.iter()
        .map(|cue| valence(&cue.text, language))
        .collect()
}

/// The score of each quarter over the cues `keep` selects, from their valences.
pub(super) fn quarter_scores(
    cues: &[Cue],
    valences: &[Valence],
    duration_ms: u64,
    keep: impl Fn(&Cue) -> bool,
) -> [f64; 4] {
    let mut sums = [Valence::default(); 4];
    for (cue, v) in cues.iter().zip(valences) {
        if keep(cue) {
            let quarter = &mut sums[quarter_of(cue, duration_ms)];
            *quarter = *quarter + *v;
        }
    }
    sums.map(|v| v.sentiment().score)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(start_ms: u64, end_ms: u64, text: &str) -> Cue {
        Cue {
            start_ms,
            end_ms,
            speaker: Some("A".to_owned()),
            text: text.to_owned(),
        }
    }

    fn texts(quarter: &[&Cue]) -> Vec<String> {
        quarter.iter().map(|c| c.text.clone()).collect()
    }

    #[test]
    fn a_cue_across_a_quarter_boundary_goes_where_its_midpoint_is() {
        // 40 s call: quarters end at 10, 20, 30 s.
        let cues = vec![
            cue(0, 9_000, "first"),
            // 9-13 s straddles 10 s; midpoint 11 s is in the second quarter.
            cue(9_000, 13_000, "straddles"),
            cue(18_000, 23_000, "midpoint 20.5 s"),
            cue(35_000, 50_000, "runs past the end"),
        ];
        let quarters = split_into_quarters(&cues, 40_000);
        assert_eq!(texts(&quarters[0]), ["first"]);
        assert_eq!(texts(&quarters[1]), ["straddles"]);
        assert_eq!(texts(&quarters[2]), ["midpoint 20.5 s"]);
        assert_eq!(texts(&quarters[3]), ["runs past the end"]);
        // Every cue lands in exactly one quarter.
        assert_eq!(quarters.iter().map(Vec::len).sum::<usize>(), cues.len());
    }

    #[test]
    fn sentiment_follows_the_call_and_silent_quarters_are_zero() {
        let cues = vec![
            cue(0, 5_000, "I am really angry, this is terrible."),
            cue(35_000, 40_000, "Great, thank you so much, I'm happy now."),
        ];
        let scores = by_quarter(&cues, 40_000, "en");
        assert!(scores[0] < -0.15, "{scores:?}");
        assert_eq!(scores[1], 0.0);
        assert_eq!(scores[2], 0.0);
        assert!(scores[3] > 0.15, "{scores:?}");
    }

    #[test]
    fn zero_duration_puts_everything_in_the_first_quarter() {
        let cues = vec![cue(0, 0, "hola")];
        assert_eq!(split_into_quarters(&cues, 0)[0].len(), 1);
    }
}
