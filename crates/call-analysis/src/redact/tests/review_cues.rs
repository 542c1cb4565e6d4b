//! A review of the cue words and the fillers: leaks of spoken cards and expiry dates, and
//! contract dates and one-time codes taken as a card's expiry or CVV.

use super::*;

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
    let wrong = unexpected(RedactKinds::default(), cases);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Hesitations missing from fillers.txt ended the number: the card said around them came out
/// as four short numbers and stayed raw. 5439 1500 0806 3607 and 4556 7375 8689 9855 pass
/// Luhn.
#[test]
fn more_fillers_between_the_groups_of_a_card() {
    let cases = [
        (
            "mi tarjeta es la cinco cuatro tres nueve, este, uno cinco cero cero, este, cero ocho cero seis, este, tres seis cero siete",
            "mi tarjeta es la [CARD]",
        ),
        (
            "cinco cuatro tres nueve, o sea, uno cinco cero cero, pues, cero ocho cero seis, o sea, tres seis cero siete",
            "[CARD]",
        ),
        (
            "four five five six, like, seven three seven five, you know, eight six eight nine, like, nine eight five five",
            "[CARD]",
        ),
        (
            "quatre cinq cinq six, ben, sept trois sept cinq, voilà, huit six huit neuf, ben, neuf huit cinq cinq",
            "[CARD]",
        ),
        (
            "quatro cinco cinco seis, hum, sete três sete cinco, hum, oito seis oito nove, hum, nove oito cinco cinco",
            "[CARD]",
        ),
        (
            "quattro cinque cinque sei, cioè, sette tre sette cinque, cioè, otto sei otto nove, cioè, nove otto cinque cinque",
            "[CARD]",
        ),
        // Alone, or between numbers that make nothing, they are words.
        (
            "O sea, que este mes pago 30, pues 40 el otro.",
            "O sea, que este mes pago 30, pues 40 el otro.",
        ),
        (
            "You know, I'd like 2 or 3 of those.",
            "You know, I'd like 2 or 3 of those.",
        ),
    ];
    let wrong = unexpected(RedactKinds::default(), cases);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

fn transcript(turns: &[(&str, &str)]) -> Vec<String> {
    let cues = turns
        .iter()
        .enumerate()
        .map(|(k, (speaker, text))| cue(speaker, 5 * k as u64, text))
        .collect();
    Redactor::new(RedactKinds::default())
        .transcript(&Transcript { cues })
        .transcript
        .cues
        .into_iter()
        .map(|c| c.text)
        .collect()
}

/// An expiry whose month (or year) was said digit by digit was no month and year: "one two"
/// was 1, then 2, no year.
#[test]
fn an_expiry_said_digit_by_digit_is_found() {
    let cases = [
        ("expiry one two two eight", "expiry [EXPIRY]"),
        ("caduca uno dos dos ocho", "caduca [EXPIRY]"),
        ("scadenza uno due ventinove", "scadenza [EXPIRY]"),
        ("expiry zero eight two eight", "expiry [EXPIRY]"),
        ("expiry one two two zero two eight", "expiry [EXPIRY]"),
        ("expiry one twenty-eight", "expiry [EXPIRY]"),
        // A pause ends the year: the code after it is the code's.
        (
            "expiry one two two eight, CVV one two three",
            "expiry [EXPIRY], CVV [CVV]",
        ),
        ("expiry one two, thanks", "expiry one two, thanks"),
    ];
    let wrong = unexpected(RedactKinds::default(), cases);
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(
        transcript(&[("B", "¿y la fecha de caducidad?"), ("A", "uno dos treinta")]),
        ["¿y la fecha de caducidad?", "[EXPIRY]"]
    );
    assert_eq!(
        transcript(&[
            ("B", "und das Ablaufdatum?"),
            ("A", "eins eins siebenundzwanzig")
        ]),
        ["und das Ablaufdatum?", "[EXPIRY]"]
    );
}

/// Cues said of contracts, offers and one-time codes as often as of cards took a contract
/// date or an SMS code for an expiry or a CVV. They count now only with a card near (a card
/// word or a card found in the cue, the six before it, or up to the one after its value),
/// or with a value in a card's form (a year of two digits, a code of three); "läuft ab" is no
/// cue ("läuft ab Januar" is "runs from January").
#[test]
fn general_cues_need_a_card_near_or_a_card_form() {
    let unchanged = [
        "Il suo contratto scade a dicembre 2026",
        "Der Vertrag läuft ab Januar 2026 für 24 Monate",
        "Das Angebot ist gültig bis März 2026",
        "O contrato é válido até dezembro de 2027",
        "A validade da promoção é até março de 2026",
        "valable jusqu'au mois de juin 2027",
        "El contrato vence en diciembre de 2026",
        "The policy expires December 2026",
        "Il codice di sicurezza che le arriva per SMS è 4821",
        "Le code de vérification est 5531",
        "Der Sicherheitscode für das Portal ist 7788",
        "Le code de sécurité du digicode est 1234",
        "The verification code is 908172",
    ];
    let mut cases: Vec<(&str, &str)> = unchanged.iter().map(|&t| (t, t)).collect();
    cases.extend([
        (
            "la fecha de caducidad de la tarjeta es 12/28",
            "la fecha de caducidad de la tarjeta es [EXPIRY]",
        ),
        ("expires 12/28", "expires [EXPIRY]"),
        ("vence en diciembre del 28", "vence en [EXPIRY]"),
        (
            "La carta di credito scade a dicembre 2028",
            "La carta di credito scade a [EXPIRY]",
        ),
        (
            "Die Karte ist gültig bis März 2027",
            "Die Karte ist gültig bis [EXPIRY]",
        ),
        (
            "Il codice di sicurezza della carta è 4821",
            "Il codice di sicurezza della carta è [CVV]",
        ),
        (
            "Le code de sécurité est 123",
            "Le code de sécurité est [CVV]",
        ),
        ("The CVV is 4821", "The CVV is [CVV]"),
        ("Expiry date December 2028", "Expiry date [EXPIRY]"),
    ]);
    let wrong = unexpected(RedactKinds::default(), cases);
    assert!(wrong.is_empty(), "{wrong:#?}");
    // A card found a few turns before is the context.
    assert_eq!(
        transcript(&[
            ("B", "¿me da la numeración?"),
            ("A", "4556 7375 8689 9855"),
            ("B", "¿cuándo vence?"),
            ("A", "en diciembre de 2028"),
            ("B", "¿y el código de seguridad?"),
            ("A", "4321"),
        ]),
        [
            "¿me da la numeración?",
            "[CARD]",
            "¿cuándo vence?",
            "en [EXPIRY]",
            "¿y el código de seguridad?",
            "[CVV]"
        ]
    );
}

/// "¿Y el código de atrás?", "¿los tres de atrás?" asked by the other speaker were no cue, so
/// the code answered in the next cue stayed raw.
#[test]
fn the_code_on_the_back_asked_for_is_a_cvv() {
    assert_eq!(
        transcript(&[("B", "¿y el código de atrás?"), ("A", "uno dos tres")]),
        ["¿y el código de atrás?", "[CVV]"]
    );
    assert_eq!(
        transcript(&[("B", "¿me dice los tres de atrás?"), ("A", "sí, el 789")]),
        ["¿me dice los tres de atrás?", "sí, el [CVV]"]
    );
    // Said of people, with no code of three digits after it.
    let people = "Los tres de atrás pagaron 1500 entre todos.";
    assert_eq!(default(people), people);
}
