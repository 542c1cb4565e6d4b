//! A card the other speaker reads back group by group: each speaker's run was broken by the
//! other's numbers, so every group stayed raw, on both sides, in every language.

use super::*;

/// The cues as redacted with the default kinds, and how many findings.
fn read_back(turns: &[(&str, &str)]) -> (Vec<String>, usize) {
    let cues = turns
        .iter()
        .enumerate()
        .map(|(k, (speaker, text))| cue(speaker, 5 * k as u64, text))
        .collect();
    let out = Redactor::new(RedactKinds::default()).transcript(&Transcript { cues });
    let texts = out.transcript.cues.into_iter().map(|c| c.text).collect();
    (texts, out.redactions.len())
}

/// A reads the four groups, B says each back with `yes` after it and `done` after the last.
fn groups_read_back(groups: [&str; 4], yes: &str, done: &str) -> Vec<(String, String)> {
    let mut turns = Vec::new();
    for (k, group) in groups.iter().enumerate() {
        let ack = if k == 3 { done } else { yes };
        turns.push(("A".to_string(), group.to_string()));
        turns.push(("B".to_string(), format!("{group}, {ack}")));
    }
    turns
}

fn as_turns(turns: &[(String, String)]) -> Vec<(&str, &str)> {
    turns
        .iter()
        .map(|(s, t)| (s.as_str(), t.as_str()))
        .collect()
}

#[test]
fn a_card_read_back_group_by_group_is_redacted_on_both_sides() {
    let calls = [
        (["4556", "7375", "8689", "9855"], "sí", "perfecto"),
        (
            [
                "cuatro cinco cinco seis",
                "siete tres siete cinco",
                "ocho seis ocho nueve",
                "nueve ocho cinco cinco",
            ],
            "sí",
            "perfecto",
        ),
        (
            [
                "four five five six",
                "seven three seven five",
                "eight six eight nine",
                "nine eight five five",
            ],
            "yes",
            "perfect",
        ),
        (
            [
                "quatre cinq cinq six",
                "sept trois sept cinq",
                "huit six huit neuf",
                "neuf huit cinq cinq",
            ],
            "oui",
            "parfait",
        ),
        (
            [
                "vier fünf fünf sechs",
                "sieben drei sieben fünf",
                "acht sechs acht neun",
                "neun acht fünf fünf",
            ],
            "ja",
            "perfekt",
        ),
        (
            [
                "quatro cinco cinco seis",
                "sete três sete cinco",
                "oito seis oito nove",
                "nove oito cinco cinco",
            ],
            "sim",
            "perfeito",
        ),
        (
            [
                "quattro cinque cinque sei",
                "sette tre sette cinque",
                "otto sei otto nove",
                "nove otto cinque cinque",
            ],
            "sì",
            "perfetto",
        ),
    ];
    for (groups, yes, done) in calls {
        let turns = groups_read_back(groups, yes, done);
        let (got, findings) = read_back(&as_turns(&turns));
        let expected: Vec<String> = (0..8)
            .map(|k| match k {
                7 => format!("[CARD], {done}"),
                k if k % 2 == 1 => format!("[CARD], {yes}"),
                _ => "[CARD]".to_string(),
            })
            .collect();
        assert_eq!(got, expected, "{groups:?}");
        assert_eq!(findings, 1, "{groups:?}");
    }
}

#[test]
fn a_card_read_back_in_halves_is_redacted_on_both_sides() {
    let (got, findings) = read_back(&[
        ("A", "4556 7375"),
        ("B", "4556 7375, sí"),
        ("A", "8689 9855"),
        ("B", "8689 9855"),
    ]);
    assert_eq!(got, ["[CARD]", "[CARD], sí", "[CARD]", "[CARD]"]);
    assert_eq!(findings, 1);
}

/// The customer says it in groups, the agent repeats it whole: two cards, as before.
#[test]
fn a_card_repeated_whole_after_its_groups_is_redacted_twice() {
    let (got, _) = read_back(&[
        ("A", "4556"),
        ("A", "7375"),
        ("A", "8689"),
        ("A", "9855"),
        ("B", "4556 7375 8689 9855, ¿correcto?"),
        ("A", "sí"),
    ]);
    assert_eq!(
        got,
        [
            "[CARD]",
            "[CARD]",
            "[CARD]",
            "[CARD]",
            "[CARD], ¿correcto?",
            "sí"
        ]
    );
}

/// Only an exact echo goes on with the run: two people exchanging different numbers, or a
/// phone number said back group by group, stay as they were.
#[test]
fn numbers_that_are_not_an_echo_or_no_card_stay() {
    for turns in [
        vec![
            ("A", "4556"),
            ("B", "1234, sí"),
            ("A", "7375"),
            ("B", "2345"),
            ("A", "8689"),
            ("B", "3456"),
            ("A", "9855"),
            ("B", "4567"),
        ],
        vec![
            ("A", "612"),
            ("B", "612, sí"),
            ("A", "345"),
            ("B", "345"),
            ("A", "678"),
            ("B", "678, perfecto"),
        ],
        // Luhn fails: an order number read back.
        vec![
            ("A", "4556"),
            ("B", "4556"),
            ("A", "7375"),
            ("B", "7375"),
            ("A", "8689"),
            ("B", "8689"),
            ("A", "9856"),
            ("B", "9856"),
        ],
    ] {
        let (got, findings) = read_back(&turns);
        let said: Vec<&str> = turns.iter().map(|(_, t)| *t).collect();
        assert_eq!(got, said);
        assert_eq!(findings, 0);
    }
}
