use super::*;

fn cue(speaker: &str, start_s: u64, text: &str) -> Cue {
    Cue {
        start_ms: start_s * 1000,
        end_ms: start_s * 1000 + 4_500,
        speaker: Some(speaker.to_string()),
        text: text.to_string(),
    }
}

fn redact(cues: Vec<Cue>) -> RedactedTranscript {
    Redactor::new(RedactKinds::all()).transcript(&Transcript { cues })
}

fn texts(redacted: &RedactedTranscript) -> Vec<&str> {
    redacted
        .transcript
        .cues
        .iter()
        .map(|c| c.text.as_str())
        .collect()
}

#[test]
fn parses_the_setting() {
    assert_eq!("all".parse::<RedactKinds>(), Ok(RedactKinds::all()));
    assert_eq!(" None ".parse::<RedactKinds>(), Ok(RedactKinds::none()));
    let some: RedactKinds = "card, national_id".parse().unwrap();
    assert!(some.contains(RedactKind::NationalId) && !some.contains(RedactKind::Cvv));
    let err = "card,passport".parse::<RedactKinds>().unwrap_err();
    assert_eq!(err, UnknownRedactKind("passport".into()));
    assert!(err.to_string().contains("national_id"));
    assert!(RedactKinds::default().contains(RedactKind::Iban));
    assert!(!RedactKinds::default().contains(RedactKind::Email));
    assert_eq!(RedactKind::NationalId.placeholder(), "[NATIONAL_ID]");
}

#[test]
fn spoken_card_split_across_turns_is_replaced_where_it_was_said() {
    let redacted = redact(vec![
        cue(
            "Cliente",
            10,
            "Es la cuatro cinco cinco seis, siete tres siete cinco,",
        ),
        cue("Agente", 15, "Sí, siga."),
        cue(
            "Cliente",
            18,
            "ocho seis ocho nueve, nueve ocho cinco cinco. Gracias.",
        ),
    ]);
    assert_eq!(
        texts(&redacted),
        vec!["Es la [CARD],", "Sí, siga.", "[CARD]. Gracias."]
    );
    assert_eq!(
        redacted.redactions,
        vec![Redaction {
            kind: RedactKind::Card,
            start: Some(10.0),
            end: Some(22.5)
        }]
    );
}

#[test]
fn doubles_triples_and_oh() {
    let redacted = redact(vec![cue(
        "Customer",
        0,
        "It's four five double five, six seven triple seven, oh one one six, three three seven seven thanks",
    )]);
    // 4555 6777 7011 6337 7 is not Luhn-valid; the real one below is.
    assert_eq!(
        texts(&redacted),
        vec![
            "It's four five double five, six seven triple seven, oh one one six, three three seven seven thanks"
        ]
    );
    let redacted = redact(vec![cue(
        "Customer",
        0,
        "four five five six, seven three seven five, eight six eight nine, nine eight double five",
    )]);
    assert_eq!(texts(&redacted), vec!["[CARD]"]);
}

#[test]
fn expiry_cvv_iban_and_dni() {
    let redacted = redact(vec![
        cue("Agente", 0, "¿Fecha de caducidad?"),
        cue("Cliente", 3, "Doce del veintiocho."),
        cue("Agente", 6, "¿Y el código de seguridad?"),
        cue("Cliente", 9, "Ciento veintitrés."),
        cue(
            "Cliente",
            12,
            "Mi IBAN es ES91 2100 0418 4502 0005 1332 y mi DNI 12345678Z.",
        ),
    ]);
    assert_eq!(
        texts(&redacted),
        vec![
            "¿Fecha de caducidad?",
            "[EXPIRY].",
            "¿Y el código de seguridad?",
            "[CVV].",
            "Mi IBAN es [IBAN] y mi DNI [NATIONAL_ID]."
        ]
    );
}

#[test]
fn look_alikes_stay() {
    let text = "Pedido 4556737586899856, total 1.250,75 euros el 12/03/2024 a las 10:30, extensión 4521, cliente 45281.";
    let redacted = redact(vec![cue("Agente", 0, text)]);
    assert_eq!(texts(&redacted), vec![text]);
    assert!(redacted.redactions.is_empty());
}

#[test]
fn emails_and_phones_when_asked() {
    let redacted = redact(vec![cue(
        "Cliente",
        0,
        "Es juan punto perez arroba gmail punto com o ana.gil@example.es, y mi móvil 612 345 678.",
    )]);
    assert_eq!(
        texts(&redacted),
        vec!["Es [EMAIL] o [EMAIL], y mi móvil [PHONE]."]
    );
    let default = Redactor::default().text("mi móvil 612 345 678");
    assert_eq!(default, "mi móvil 612 345 678");
}

#[test]
fn text_redaction_has_no_timings_and_is_idempotent() {
    let redactor = Redactor::new(RedactKinds::all());
    let once = redactor.text("Card 4556 7375 8689 9855, CVV 123.");
    assert_eq!(once, "Card [CARD], CVV [CVV].");
    assert_eq!(redactor.text(&once), once);
}
