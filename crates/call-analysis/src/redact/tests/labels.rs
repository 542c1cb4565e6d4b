//! Speaker labels, redacted as texts of their own.

use super::*;

fn labelled(turns: &[(&str, &str)]) -> Vec<Cue> {
    turns
        .iter()
        .enumerate()
        .map(|(i, (who, text))| cue(who, 5 * i as u64, text))
        .collect()
}

/// A VTT voice label is printed before the text it labels ("{speaker}: text") and sent to
/// the LLM: it is redacted as its own text, never joining a number said in the cue.
#[test]
fn speaker_labels_are_redacted_as_their_own_text() {
    /// Cues as (label, text), the labels and texts redacted, and the findings (kind, ms).
    struct Case {
        turns: &'static [(&'static str, &'static str)],
        labels: &'static [&'static str],
        said: &'static [&'static str],
        found: &'static [(RedactKind, u64, u64)],
    }
    const PHONE: &str = "+34 612 345 678";
    let cases = [
        Case {
            turns: &[
                (PHONE, "Es la 4556 7375"),
                ("Agente", "Sí."),
                (PHONE, "8689 9855."),
            ],
            labels: &["[PHONE]", "Agente", "[PHONE]"],
            said: &["Es la [CARD]", "Sí.", "[CARD]."],
            found: &[
                (RedactKind::Phone, 0, 14_500),
                (RedactKind::Card, 0, 14_500),
            ],
        },
        // Two callers known only by their numbers stay two speakers.
        Case {
            turns: &[(PHONE, "Hola."), ("+34 699 112 230", "Buenas.")],
            labels: &["[PHONE]", "[PHONE] (2)"],
            said: &["Hola.", "Buenas."],
            found: &[
                (RedactKind::Phone, 0, 4_500),
                (RedactKind::Phone, 5_000, 9_500),
            ],
        },
        Case {
            turns: &[
                ("Ana Gil <ana.gil@example.es>", "Hola."),
                ("Speaker 1", "Hola 3."),
            ],
            labels: &["Ana Gil <[EMAIL]>", "Speaker 1"],
            said: &["Hola.", "Hola 3."],
            found: &[(RedactKind::Email, 0, 4_500)],
        },
        // Neither the label nor the text is a phone on its own.
        Case {
            turns: &[("Cliente 612", "345 678"), ("Ana", "612 345")],
            labels: &["Cliente 612", "Ana"],
            said: &["345 678", "612 345"],
            found: &[],
        },
        Case {
            turns: &[("12345678Z", "Vale."), ("Agente", "Bien.")],
            labels: &["[NATIONAL_ID]", "Agente"],
            said: &["Vale.", "Bien."],
            found: &[(RedactKind::NationalId, 0, 4_500)],
        },
    ];
    for Case {
        turns,
        labels,
        said,
        found,
    } in cases
    {
        let redacted = redact(labelled(turns));
        let speakers = redacted
            .transcript
            .cues
            .iter()
            .map(|c| c.speaker.as_deref());
        assert_eq!(speakers.flatten().collect::<Vec<_>>(), labels, "{turns:?}");
        assert_eq!(texts(&redacted), said, "{turns:?}");
        let found: Vec<Redaction> = found
            .iter()
            .map(|&(kind, start, end)| Redaction {
                kind,
                start: Some(start as f64 / 1000.0),
                end: Some(end as f64 / 1000.0),
            })
            .collect();
        assert_eq!(redacted.redactions, found, "{turns:?}");
        let again = redact(redacted.transcript.cues.clone());
        assert_eq!(again.transcript, redacted.transcript, "{turns:?}");
        assert!(again.redactions.is_empty(), "{turns:?}");
    }
    // With the default kinds a phone label stays, as a phone in the text does.
    let cues = labelled(&[(PHONE, "Hola.")]);
    let redacted = Redactor::default().transcript(&Transcript { cues: cues.clone() });
    assert_eq!(redacted.transcript.cues, cues);
}
