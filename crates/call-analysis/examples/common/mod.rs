//! What the benchmarks share: sample calls written as scripts, one `Speaker: text` line a
//! turn, so a dialogue reads as one.

use call_analysis::transcript::Cue;

/// The (speaker, text) turns of a script.
pub fn turns(script: &'static str) -> Vec<(&'static str, &'static str)> {
    script
        .lines()
        .map(|line| line.split_once(": ").expect("a turn is `Speaker: text`"))
        .collect()
}

/// A cue of one turn.
pub fn cue(start_ms: u64, end_ms: u64, (speaker, text): (&str, &str)) -> Cue {
    Cue {
        start_ms,
        end_ms,
        speaker: Some(speaker.to_owned()),
        text: text.to_owned(),
    }
}
