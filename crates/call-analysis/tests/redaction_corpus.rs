//! The labelled corpus under `tests/corpus/`: recall per kind and false positives.
//!
//! Each case is a list of cues in which the expected findings are marked `{kind:text}`
//! (`{kind+:text}` continues the previous finding in a later cue). The cue sent to the
//! redactor is the text without marks; the expected output has each marked text replaced
//! by `[KIND]`. A finding counts as found when every cue it touches comes out exactly as
//! expected, so a replacement that covers too much or too little is a miss. Look-alike
//! cases have no marks: any change to them is a false positive.
//! `cargo test -p call-analysis --test redaction_corpus -- --nocapture` prints the table.

use std::collections::BTreeMap;

use call_analysis::redact::{RedactKind, RedactKinds, Redactor};
use call_analysis::transcript::{Cue, Transcript};
use serde::Deserialize;

#[derive(Deserialize)]
struct CorpusCue {
    speaker: String,
    text: String,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    /// `all`, or `default` for the REDACT default.
    redact: String,
    cues: Vec<CorpusCue>,
}

/// A marked finding: its kind and the cues it spans.
struct Label {
    kind: RedactKind,
    cues: Vec<usize>,
}

/// The cue text without marks, the expected redacted text, and the marks in order
/// (kind, continues the previous one).
fn unmark(marked: &str) -> (String, String, Vec<(RedactKind, bool)>) {
    let (mut plain, mut expected, mut marks) = (String::new(), String::new(), Vec::new());
    let mut rest = marked;
    while let Some(open) = rest.find('{') {
        plain.push_str(&rest[..open]);
        expected.push_str(&rest[..open]);
        let close = open + rest[open..].find('}').expect("unclosed mark");
        let (label, text) = rest[open + 1..close]
            .split_once(':')
            .expect("mark without kind");
        let (name, continues) = match label.strip_suffix('+') {
            Some(name) => (name, true),
            None => (label, false),
        };
        let kind: RedactKind = name.parse().expect("unknown kind in mark");
        plain.push_str(text);
        expected.push_str(&kind.placeholder());
        marks.push((kind, continues));
        rest = &rest[close + 1..];
    }
    plain.push_str(rest);
    expected.push_str(rest);
    (plain, expected, marks)
}

#[derive(Default)]
struct Tally {
    expected: usize,
    found: usize,
}

fn placeholders(text: &str) -> BTreeMap<RedactKind, usize> {
    let mut counts = BTreeMap::new();
    for kind in RedactKind::ALL {
        let n = text.matches(&kind.placeholder()).count();
        if n > 0 {
            counts.insert(kind, n);
        }
    }
    counts
}

fn load() -> Vec<(String, Case)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus folder")
        .map(|entry| entry.expect("corpus entry").path())
        .collect();
    files.sort();
    files
        .into_iter()
        .flat_map(|path| {
            let text = std::fs::read_to_string(&path).expect("corpus file");
            let cases: Vec<Case> = serde_json::from_str(&text).expect("corpus JSON");
            let file = path.file_stem().unwrap().to_string_lossy().to_string();
            cases.into_iter().map(move |case| (file.clone(), case))
        })
        .collect()
}

#[test]
fn corpus_recall_and_false_positives() {
    let cases = load();
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let mut tallies: BTreeMap<RedactKind, Tally> = BTreeMap::new();
    let mut false_positives = Vec::new();
    let mut misses = Vec::new();
    let mut look_alikes = 0;

    for (file, case) in &cases {
        let kinds = match case.redact.as_str() {
            "default" => RedactKinds::default(),
            other => other.parse().expect("corpus redact value"),
        };
        let mut cues = Vec::new();
        let mut expected = Vec::new();
        let mut labels: Vec<Label> = Vec::new();
        for (i, cue) in case.cues.iter().enumerate() {
            let (plain, redacted, marks) = unmark(&cue.text);
            for (kind, continues) in marks {
                match labels.last_mut() {
                    Some(label) if continues && label.kind == kind => label.cues.push(i),
                    _ => labels.push(Label {
                        kind,
                        cues: vec![i],
                    }),
                }
            }
            cues.push(Cue {
                start_ms: i as u64 * 5_000,
                end_ms: i as u64 * 5_000 + 4_000,
                speaker: Some(cue.speaker.clone()),
                text: plain,
            });
            expected.push(redacted);
        }
        if labels.is_empty() {
            look_alikes += 1;
        }
        let out = Redactor::new(kinds).transcript(&Transcript { cues: cues.clone() });
        let got: Vec<&str> = out
            .transcript
            .cues
            .iter()
            .map(|c| c.text.as_str())
            .collect();

        for label in &labels {
            let tally = tallies.entry(label.kind).or_default();
            tally.expected += 1;
            if label.cues.iter().all(|&c| got[c] == expected[c]) {
                tally.found += 1;
            } else {
                misses.push(format!("{file}/{}: {:?} -> {:?}", case.name, expected, got));
            }
        }
        for (c, text) in got.iter().enumerate() {
            let wanted = placeholders(&expected[c]);
            for (kind, n) in placeholders(text) {
                let extra = n.saturating_sub(wanted.get(&kind).copied().unwrap_or(0));
                if extra > 0 {
                    false_positives.push(format!("{file}/{}: {kind:?} in {text:?}", case.name));
                }
            }
            if labels.is_empty() && *text != cues[c].text {
                false_positives.push(format!("{file}/{}: changed to {text:?}", case.name));
            }
        }
        // Findings never carry the value, only where it was.
        assert_eq!(
            out.redactions.len(),
            placeholders(&got.join("\n")).values().sum::<usize>()
                - labels.iter().map(|l| l.cues.len() - 1).sum::<usize>(),
            "{}",
            case.name
        );
    }

    println!("\n{} cases ({} look-alikes)", cases.len(), look_alikes);
    println!("| kind | expected | found | recall |\n|---|---|---|---|");
    for (kind, tally) in &tallies {
        let recall = tally.found as f64 / tally.expected as f64 * 100.0;
        println!(
            "| {} | {} | {} | {recall:.1} % |",
            kind.name(),
            tally.expected,
            tally.found
        );
    }
    println!("false positives: {}", false_positives.len());
    for line in misses.iter().chain(&false_positives) {
        println!("  {line}");
    }

    let card = &tallies[&RedactKind::Card];
    assert_eq!(
        card.found, card.expected,
        "every card is found: {misses:#?}"
    );
    for (kind, tally) in &tallies {
        assert!(
            tally.found * 100 >= tally.expected * 95,
            "{kind:?}: {} of {}: {misses:#?}",
            tally.found,
            tally.expected
        );
    }
    assert!(false_positives.is_empty(), "{false_positives:#?}");
    assert_eq!(
        tallies.len(),
        RedactKind::ALL.len(),
        "every kind is in the corpus"
    );
}
