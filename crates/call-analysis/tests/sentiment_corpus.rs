//! Accuracy of the lexicon sentiment on a labelled corpus of short calls written for this
//! project: ten per language in English, Spanish, Portuguese, French, Italian and German,
//! each labelled for the whole call and for each speaker. The test prints the accuracy per
//! language and per speaker, and fails below 80 % in any of them.

use std::collections::BTreeMap;

use call_analysis::SentimentLabel;
use call_analysis::sentiment::score;
use serde::Deserialize;

const MIN_ACCURACY: f64 = 0.8;
const LANGUAGES: [&str; 6] = ["en", "es", "pt", "fr", "it", "de"];

#[derive(Deserialize)]
struct LabelledCall {
    name: String,
    language: String,
    call: SentimentLabel,
    agent: SentimentLabel,
    customer: SentimentLabel,
    /// `[speaker, text]` in call order.
    cues: Vec<(String, String)>,
}

impl LabelledCall {
    fn text_of(&self, speaker: Option<&str>) -> String {
        self.cues
            .iter()
            .filter(|(who, _)| speaker.is_none_or(|wanted| who == wanted))
            .map(|(_, text)| text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Correct and total predictions for one bucket (a language, or a language's speaker).
#[derive(Default)]
struct Tally {
    correct: usize,
    total: usize,
}

impl Tally {
    fn record(&mut self, right: bool) {
        self.correct += usize::from(right);
        self.total += 1;
    }

    fn accuracy(&self) -> f64 {
        self.correct as f64 / self.total.max(1) as f64
    }
}

#[test]
fn accuracy_per_language_and_speaker_is_at_least_80_percent() {
    let calls: Vec<LabelledCall> = serde_json::from_str(include_str!("sentiment/calls.json"))
        .expect("the corpus is valid JSON");
    let mut tallies: BTreeMap<(String, &str), Tally> = BTreeMap::new();
    let mut misses = Vec::new();
    for call in &calls {
        let checks = [
            ("call", None, call.call),
            ("agent", Some("Agent"), call.agent),
            ("customer", Some("Customer"), call.customer),
        ];
        for (bucket, speaker, expected) in checks {
            let got = score(&call.text_of(speaker), &call.language).label;
            tallies
                .entry((call.language.clone(), bucket))
                .or_default()
                .record(got == expected);
            if got != expected {
                misses.push(format!(
                    "{} {bucket}: expected {expected:?}, got {got:?}",
                    call.name
                ));
            }
        }
    }
    println!("language  call  agent  customer  (calls)");
    let mut failures = Vec::new();
    for language in LANGUAGES {
        let count = calls.iter().filter(|c| c.language == language).count();
        assert!(count >= 10, "{language}: only {count} labelled calls");
        let mut row = format!("{language:<8}");
        for bucket in ["call", "agent", "customer"] {
            let accuracy = tallies
                .get(&(language.to_owned(), bucket))
                .map_or(0.0, Tally::accuracy);
            row.push_str(&format!("  {:>4.0}%", accuracy * 100.0));
            if accuracy < MIN_ACCURACY {
                failures.push(format!("{language} {bucket}: {:.0}%", accuracy * 100.0));
            }
        }
        println!("{row}  ({count})");
    }
    println!("misses:\n{}", misses.join("\n"));
    assert!(failures.is_empty(), "below 80 %: {failures:?}");
}
