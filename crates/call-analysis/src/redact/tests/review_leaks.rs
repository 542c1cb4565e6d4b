//! Leaks a review found in the spoken-number reading of five more languages and in long runs:
//! each case is the exact input that came out unredacted, and the look-alikes beside them.

use super::*;

/// English "um" is a filler and Portuguese 1: read as 1 between the groups of a card it made
/// the card one digit longer, failing Luhn.
#[test]
fn um_between_groups_does_not_break_a_card() {
    let cases = [
        (
            "four five five six, um, seven three seven five, um, eight six eight nine, um, nine eight five five",
            "[CARD]",
        ),
        (
            "four five five six um seven three seven five um eight six eight nine um nine eight five five",
            "[CARD]",
        ),
        (
            "five four two five, um, two three three four, um, three zero one zero, um, nine nine zero three",
            "[CARD]",
        ),
        (
            "four nine one six um three three eight five um zero six zero eight um two eight three two",
            "[CARD]",
        ),
        (
            "three seven eight two, um, eight two two four six three, um, one zero zero zero five",
            "[CARD]",
        ),
        // Portuguese "um" inside a group is still 1.
        (
            "quatro um um um, um um um um, um um um um, um um um um",
            "[CARD]",
        ),
    ];
    let wrong = unexpected(RedactKinds::all(), cases);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

fn transcript(turns: &[(&str, &str)]) -> Vec<String> {
    let cues = turns
        .iter()
        .enumerate()
        .map(|(k, (speaker, text))| cue(speaker, 5 * k as u64, text))
        .collect();
    redact(cues)
        .transcript
        .cues
        .into_iter()
        .map(|c| c.text)
        .collect()
}

/// One speaker's numbers stay one run across the other's questions that hold none; a run
/// of more than 27 digits was never looked into, so a card said twice, or with its expiry,
/// CVV and a postcode after it, stayed raw.
#[test]
fn a_card_in_a_long_run_is_found() {
    assert_eq!(
        transcript(&[
            ("A", "4556 7375 8689 9855"),
            ("B", "can you repeat that please?"),
            ("A", "4556 7375 8689 9855"),
        ]),
        ["[CARD]", "can you repeat that please?", "[CARD]"]
    );
    let spoken = "cuatro cinco cinco seis siete tres siete cinco ocho seis ocho nueve nueve ocho cinco cinco";
    assert_eq!(
        transcript(&[("A", spoken), ("B", "¿me lo repite?"), ("A", spoken)]),
        ["[CARD]", "¿me lo repite?", "[CARD]"]
    );
    assert_eq!(
        transcript(&[
            ("A", "5425 2334 3010 9903"),
            ("B", "vale"),
            ("A", "doce veintiocho"),
            ("B", "¿y el código?"),
            ("A", "ciento veintitrés"),
        ])[0],
        "[CARD]"
    );
    let cases = [
        (
            "4556 7375 8689 9855, 12 28, 123, 28001",
            "[CARD], 12 28, 123, 28001",
        ),
        // Written as one number, a tracking number is one piece: never looked into.
        (
            "tracking 9945567375868998551234, 12 28, 123",
            "tracking 9945567375868998551234, 12 28, 123",
        ),
        (
            "ref 1234567890123456789012, 3456 7890 1234",
            "ref 1234567890123456789012, 3456 7890 1234",
        ),
    ];
    let wrong = unexpected(RedactKinds::all(), cases);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Look-alikes ("due", "sei", "un") were read as digits in two sweeps left to right and one
/// cue at a time: three or more starting a number, one after a filler, or one alone at a
/// cue's edge stayed words and the card lost digits. 2221 0012 3456 7896, 2226 2000 0000 0000,
/// 4916 3385 0608 2832 and 4556 2266 7375 8687 pass Luhn.
#[test]
fn look_alikes_are_read_together_and_across_cues() {
    let cases = [
        (
            "due due due uno zero zero uno due tre quattro cinque sei sette otto nove sei",
            "[CARD]",
        ),
        (
            "due due due sei, due zero zero zero, zero zero zero zero, zero zero zero zero",
            "[CARD]",
        ),
        (
            "quattro cinque cinque sei, ehm, due due sei sei, sette tre sette cinque, otto sei otto sette",
            "[CARD]",
        ),
        // Beside nothing but other look-alikes they stay words.
        (
            "Sei sicuro? Sei due volte più bravo.",
            "Sei sicuro? Sei due volte più bravo.",
        ),
    ];
    let wrong = unexpected(RedactKinds::all(), cases);
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(
        transcript(&[
            (
                "A",
                "quattro nove uno sei tre tre otto cinque zero sei zero otto due otto tre"
            ),
            ("A", "due"),
        ]),
        ["[CARD]", "[CARD]"]
    );
}

/// Only written groups of four were joined by "y"/"and"/"et"/"und"/"e": a card read digit by
/// digit in groups, American Express written 4-6-5, or pairs said with "e" between them
/// stayed raw. The joining stays narrow: phone numbers, a CVV or a count after a whole card,
/// times stay apart.
#[test]
fn spoken_groups_joined_by_a_word() {
    let cases = [
        (
            "cuatro cinco cinco seis y siete tres siete cinco y ocho seis ocho nueve y nueve ocho cinco cinco",
            "[CARD]",
        ),
        (
            "four five five six and seven three seven five and eight six eight nine and nine eight five five",
            "[CARD]",
        ),
        (
            "quatre cinq cinq six et sept trois sept cinq et huit six huit neuf et neuf huit cinq cinq",
            "[CARD]",
        ),
        (
            "vier fünf fünf sechs und sieben drei sieben fünf und acht sechs acht neun und neun acht fünf fünf",
            "[CARD]",
        ),
        (
            "quatro cinco cinco seis e sete três sete cinco e oito seis oito nove e nove oito cinco cinco",
            "[CARD]",
        ),
        ("3782 y 822463 y 10005", "[CARD]"),
        (
            "quarenta e cinco e cinquenta e seis e setenta e três e setenta e cinco e oitenta e seis e oitenta e nove e noventa e oito e cinquenta e cinco",
            "[CARD]",
        ),
        ("4556 7375 8689 9855 y 123", "[CARD] y 123"),
        (
            "seis uno dos tres cuatro cinco seis siete ocho y seis nueve ocho siete seis cinco cuatro tres dos",
            "[PHONE] y [PHONE]",
        ),
        (
            "llamo a las diez y veinte y tengo treinta y cinco",
            "llamo a las diez y veinte y tengo treinta y cinco",
        ),
    ];
    let wrong = unexpected(RedactKinds::all(), cases);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// A code made only of look-alikes ("due", "sei", "un", "um", "meia") after its cue stayed
/// words: they are digits only beside another spoken digit. After a CVV or expiry cue a
/// number is expected, so they are read as digits there; when they make no value they stay
/// words and the number after them is the value.
#[test]
fn look_alikes_after_a_cue_are_the_value() {
    let cases = [
        ("il CVV è due sei due", "il CVV è [CVV]"),
        ("il CVV è sei sei sei", "il CVV è [CVV]"),
        ("o CVV é um um um", "o CVV é [CVV]"),
        ("o CVV é meia meia meia", "o CVV é [CVV]"),
        ("le CVV est un un un", "le CVV est [CVV]"),
        ("le CVV est un, un, un.", "le CVV est [CVV]."),
        (
            "il codice di sicurezza è sei due sei",
            "il codice di sicurezza è [CVV]",
        ),
        // One look-alike is no code: it stays a word, and the number after it is the value.
        ("le CVV est un code: 123", "le CVV est un code: [CVV]"),
        ("il CVV? Sei sicuro? È 321", "il CVV? Sei sicuro? È [CVV]"),
        (
            "o CVV é uma coisa que não sei",
            "o CVV é uma coisa que não sei",
        ),
    ];
    let wrong = unexpected(RedactKinds::all(), cases);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// French "au dos" (on the back) read as Spanish "dos" (2) began the run of the code, so no
/// run began at the first number after the cue and the code stayed raw.
#[test]
fn a_code_au_dos_is_found() {
    let cases = [
        (
            "les trois chiffres au dos sept huit neuf",
            "les trois chiffres au dos [CVV]",
        ),
        (
            "les trois chiffres au dos, sept huit neuf",
            "les trois chiffres au dos, [CVV]",
        ),
        (
            "le cryptogramme au dos : 789",
            "le cryptogramme au dos : [CVV]",
        ),
        ("Les chiffres au dos 789.", "Les chiffres au dos [CVV]."),
        // Spanish "dos" is still 2.
        ("el CVV es dos cuatro uno", "el CVV es [CVV]"),
    ];
    let wrong = unexpected(RedactKinds::all(), cases);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Portuguese "novembro" was missing from the months.
#[test]
fn portuguese_november_is_a_month() {
    let cases = [
        (
            "cartão com validade novembro de dois mil e vinte e sete",
            "cartão com validade [EXPIRY]",
        ),
        (
            "cartão, validade: novembro de 2027",
            "cartão, validade: [EXPIRY]",
        ),
    ];
    let wrong = unexpected(RedactKinds::all(), cases);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Italian and German years said as one word ("duemilaventotto") were no number.
#[test]
fn years_said_as_one_word() {
    let cases = [
        (
            "la carta scade a dicembre duemilaventotto",
            "la carta scade a [EXPIRY]",
        ),
        (
            "la carta scade a novembre duemilaventisette",
            "la carta scade a [EXPIRY]",
        ),
        (
            "la carta scade a dicembre duemila ventotto",
            "la carta scade a [EXPIRY]",
        ),
        (
            "carta, data di scadenza: marzo duemilatrentuno",
            "carta, data di scadenza: [EXPIRY]",
        ),
        (
            "Karte gültig bis Dezember zweitausendachtundzwanzig",
            "Karte gültig bis [EXPIRY]",
        ),
        // As amounts they stay.
        (
            "Costa duemilacinquecento euro, l'ho pagato duemila.",
            "Costa duemilacinquecento euro, l'ho pagato duemila.",
        ),
    ];
    let wrong = unexpected(RedactKinds::all(), cases);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// A typographic apostrophe split "jusqu’au" in two words, so the cue was not found.
#[test]
fn a_typographic_apostrophe_keeps_a_cue_whole() {
    let cases = [
        ("valable jusqu’au 12/28", "valable jusqu’au [EXPIRY]"),
        ("valable jusqu‘au 12/28", "valable jusqu‘au [EXPIRY]"),
        ("Date d’expiration : 12/28", "Date d’expiration : [EXPIRY]"),
    ];
    let wrong = unexpected(RedactKinds::all(), cases);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// "CVV2" and "CVC2" are written as the cue and a glued 2, which was taken as the value.
#[test]
fn the_2_of_cvv2_is_no_value() {
    let cases = [
        ("CVV2: 123", "CVV2: [CVV]"),
        ("CVC2 is 123", "CVC2 is [CVV]"),
        ("CVV2 123", "CVV2 [CVV]"),
        ("cvc2, 4321.", "cvc2, [CVV]."),
        // A 2 apart from the cue is the code's first digit.
        ("CVV 2 3 4", "CVV [CVV]"),
    ];
    let wrong = unexpected(RedactKinds::all(), cases);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// A DNI was looked for from every pause of a run, each over the rest of the run, so a long
/// run cost its square (50,000 spoken digits said with commas: 27 s in a release build; 40,000 in
/// a debug build 31 s before, 0.84 s after). Only the starts 7 or 8 digits from the end can make
/// one, and one at the end of a long run is still found (the cost is measured, not asserted).
#[test]
fn a_dni_ending_a_long_run_is_found() {
    let words = [
        "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve",
    ];
    let mut text: Vec<&str> = (0..2_000).map(|k| words[(k * 7 + k / 9) % 9]).collect();
    text.push("12345678Z.");
    let redacted = all(&text.join(", "));
    assert!(
        redacted.ends_with("[NATIONAL_ID]."),
        "{}",
        &redacted[redacted.len() - 80..]
    );
}

/// The card inside a run was the longest stretch passing Luhn: one that dropped the card's
/// first spoken digit and swallowed the expiry answered after it (or the whole run of 17–19
/// digits) passes about 1 time in 10, leaving that digit raw and the expiry read as card.
/// 4556 7375 8689 9855 without its 4 and followed by 08 26 passes, as does 3782 822463
/// 10005 followed by 08 28.
#[test]
fn a_card_does_not_swallow_the_expiry_answered_after_it() {
    let question = ("B", "¿y la fecha de caducidad?");
    let card_then = |card: &'static str, expiry: &'static str| {
        transcript(&[
            ("B", "¿me dice el número de la tarjeta?"),
            ("A", card),
            question,
            ("A", expiry),
        ])
    };
    let expected = [
        "¿me dice el número de la tarjeta?",
        "[CARD]",
        question.1,
        "[EXPIRY]",
    ];
    let cases = [
        (
            "cinco cuatro tres nueve, uno cinco cero cero, cero ocho cero seis, tres seis cero siete",
            "cero ocho veintinueve",
        ),
        (
            "cuatro cinco cinco seis, siete tres siete cinco, ocho seis ocho nueve, nueve ocho cinco cinco",
            "cero ocho veintiséis",
        ),
        (
            "tres siete seis uno, seis tres cuatro ocho tres cuatro, cero cinco tres dos dos",
            "once veintinueve",
        ),
        // The whole run passes Luhn: the card ends with its cue.
        (
            "tres siete ocho dos, ocho dos dos cuatro seis tres, uno cero cero cero cinco",
            "cero ocho veintiocho",
        ),
        ("3782 822463 10005", "08 28"),
    ];
    for (card, expiry) in cases {
        assert_eq!(card_then(card, expiry), expected, "{card} | {expiry}");
    }
    assert_eq!(
        transcript(&[
            (
                "A",
                "dos dos dos uno, cero tres siete seis, siete dos cuatro nueve, nueve uno dos siete"
            ),
            question,
            ("A", "doce, veintisiete"),
        ]),
        ["[CARD]", question.1, "[EXPIRY]"]
    );
}

/// An "um" read as 1 after the first group made a stretch without the card's first digit
/// pass Luhn (about 1 time in 10), so that digit stayed raw; and the reading without the
/// fillers dropped every Portuguese "um", also the 1s inside the groups.
#[test]
fn um_after_the_first_group_keeps_the_card_whole() {
    let cases = [
        (
            "four five five six, um, seven three seven five, eight six eight nine, nine eight five five",
            "[CARD]",
        ),
        (
            "quatro cinco cinco seis, um, sete três sete cinco, oito seis oito nove, nove oito cinco cinco",
            "[CARD]",
        ),
        (
            "quatro oito cinco oito, um, um zero quatro dois, cinco seis dois sete, nove oito sete três",
            "[CARD]",
        ),
        (
            "seis zero sete um, um, dois um quatro um, oito três quatro oito, zero oito três sete",
            "[CARD]",
        ),
    ];
    let wrong = unexpected(RedactKinds::all(), cases);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Answers to several questions in separate cues are one run of the speaker: two of them
/// (an order number and a postcode, 10 + 5 or 8 + 5 digits) read as a card said in two
/// pieces, and the last ones as a card ending the run after an expiry and CVV said first,
/// each passing Luhn about 1 time in 10 (57 in 1,000 such calls).
#[test]
fn answers_to_several_questions_are_no_card() {
    let questions = [
        "haben Sie die Bestellnummer?",
        "und die Postleitzahl?",
        "die Hausnummer?",
        "eine Telefonnummer?",
        "wie viel haben Sie bezahlt?",
        "an welchem Tag?",
    ];
    for answers in [
        ["5106135261", "45944", "156", "688085293", "16", "9"],
        ["47540599", "50376", "51", "161055726", "254", "7"],
        ["90605313", "95577", "3", "959761968", "95", "19"],
    ] {
        let turns: Vec<(&str, &str)> = questions
            .iter()
            .zip(answers)
            .flat_map(|(q, a)| [("B", *q), ("A", a)])
            .collect();
        let said: Vec<&str> = turns.iter().map(|t| t.1).collect();
        assert_eq!(transcript(&turns), said);
    }
}
