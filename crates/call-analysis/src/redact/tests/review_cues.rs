//! A review of the cue words and the fillers: leaks of spoken cards and expiry dates, and
//! contract dates and one-time codes taken as a card's expiry or CVV.

use super::*;

fn default(text: &str) -> String {
    Redactor::new(RedactKinds::default()).text(text)
}

/// Each text whose redaction is not the one expected, beside what came out.
fn unexpected<'a>(cases: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<(&'a str, String)> {
    cases
        .into_iter()
        .filter_map(|(text, expected)| {
            let got = default(text);
            (got != expected).then_some((text, got))
        })
        .collect()
}

/// German "doppel" is the "doble", "duplo", "doppio" of the other languages.
#[test]
fn german_doppel_repeats_the_next_digit() {
    let cases = [
        (
            "vier doppel fünf sechs, sieben drei sieben fünf, acht sechs acht neun, neun acht fünf fünf",
            "[CARD]",
        ),
        (
            "Ein Doppelzimmer für zwei Nächte.",
            "Ein Doppelzimmer für zwei Nächte.",
        ),
    ];
    let wrong = unexpected(cases);
    assert!(wrong.is_empty(), "{wrong:#?}");
}
