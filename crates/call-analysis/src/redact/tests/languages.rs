//! Spoken numbers in French, German, Portuguese and Italian: a card read digit by digit and
//! in pairs, codes and expiry dates after their cue words, and ordinary sentences whose
//! articles and look-alike words ("un", "ein", "um", "una", "neuf", "sei", "due") must stay.

use super::*;

/// 4556 7375 8689 9855, 4111 1111 1111 1111 and 5425 2334 3010 9903 (each passes Luhn),
/// read in each language.
#[test]
fn cards_read_digit_by_digit_and_in_pairs() {
    let cards = [
        // French
        "quatre cinq cinq six, sept trois sept cinq, huit six huit neuf, neuf huit cinq cinq",
        "quarante-cinq, cinquante-six, soixante-treize, soixante-quinze, quatre-vingt-six, quatre-vingt-neuf, quatre-vingt-dix-huit, cinquante-cinq",
        "quarante-cinq cinquante-six soixante treize soixante quinze quatre vingt six quatre vingt neuf quatre vingt dix huit cinquante cinq",
        "quatre un un un, un un un un, un un un un, un un un un",
        "quarante et un, onze, onze, onze, onze, onze, onze, onze",
        // German
        "vier fünf fünf sechs, sieben drei sieben fünf, acht sechs acht neun, neun acht fünf fünf",
        "fünfundvierzig sechsundfünfzig dreiundsiebzig fünfundsiebzig sechsundachtzig neunundachtzig achtundneunzig fünfundfünfzig",
        "fünf vier zwo fünf, zwo drei drei vier, drei null eins null, neun neun null drei",
        // Portuguese
        "quatro cinco cinco seis, sete três sete cinco, oito seis oito nove, nove oito cinco cinco",
        "quarenta e cinco, cinquenta e seis, setenta e três, setenta e cinco, oitenta e seis, oitenta e nove, noventa e oito, cinquenta e cinco",
        "quatro um um um, um um um um, um um um um, um um um um",
        "quatro cinco cinco meia, sete três sete cinco, oito meia oito nove, nove oito cinco cinco",
        "cinquenta e quatro, vinte e cinco, vinte e três, trinta e quatro, trinta, dez, noventa e nove, zero três",
        // Italian
        "quattro cinque cinque sei, sette tre sette cinque, otto sei otto nove, nove otto cinque cinque",
        "quarantacinque, cinquantasei, settantatré, settantacinque, ottantasei, ottantanove, novantotto, cinquantacinque",
        "cinque quattro due cinque, due tre tre quattro, tre zero uno zero, nove nove zero tre",
    ];
    let wrong = unexpected(
        RedactKinds::all(),
        cards.map(|card| (format!("{card}."), "[CARD].".to_string())),
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn codes_and_expiry_dates_after_their_cues() {
    let cases = [
        (
            "Le code de sécurité est cent vingt-trois.",
            "Le code de sécurité est [CVV].",
        ),
        (
            "Le cryptogramme : sept zéro deux.",
            "Le cryptogramme : [CVV].",
        ),
        (
            "La date d'expiration est douze vingt-huit.",
            "La date d'expiration est [EXPIRY].",
        ),
        (
            "La carte expire en décembre deux mille vingt-huit.",
            "La carte expire en [EXPIRY].",
        ),
        (
            "Die Prüfziffer ist sieben null zwo.",
            "Die Prüfziffer ist [CVV].",
        ),
        (
            "Der Sicherheitscode lautet dreihundert, nein: eins zwo drei.",
            "Der Sicherheitscode lautet dreihundert, nein: [CVV].",
        ),
        ("Gültig bis zwölf achtundzwanzig.", "Gültig bis [EXPIRY]."),
        (
            "Die Karte: gültig bis Dezember 2028.",
            "Die Karte: gültig bis [EXPIRY].",
        ),
        (
            "O código de segurança é cento e vinte e três.",
            "O código de segurança é [CVV].",
        ),
        (
            "Data de validade doze de vinte e oito.",
            "Data de validade [EXPIRY].",
        ),
        (
            "Il codice di sicurezza è tre due uno.",
            "Il codice di sicurezza è [CVV].",
        ),
        (
            "Data di scadenza dodici ventotto.",
            "Data di scadenza [EXPIRY].",
        ),
        ("Scade a marzo del ventisette.", "Scade a [EXPIRY]."),
        (
            "Il codice cvv è doppio sette tre.",
            "Il codice cvv è [CVV].",
        ),
    ];
    let wrong = unexpected(RedactKinds::all(), cases);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// With every kind on: articles, "neuf" (new), "sei" (you are / I know), "due" (English),
/// "meia" (half), "mai" (never), amounts and ages said as words stay as they were.
#[test]
fn ordinary_sentences_stay() {
    let texts = [
        // French
        "J'ai un compte neuf et une carte, quoi de neuf ?",
        "C'est très bien, un par un, deux ou trois fois par mois.",
        "Il a quarante-cinq ans et vingt et un jours, soixante-dix-neuf euros.",
        "Je vous remercie mille fois, à un de ces jours.",
        "Commande 4556 7375 8689 9856 pour un client, le 12/03 à 10h30.",
        // German
        "Ich habe eine Karte und ein Konto, das ist alles.",
        "Wir haben acht Tage gewartet, null Problem, eins nach dem anderen.",
        "Es sind fünfundvierzig Euro, also zwei Mal im Monat.",
        "Bestellung 4556 7375 8689 9856 für einen Kunden, Durchwahl 4521.",
        // Portuguese
        "Não sei, uma vez por mês, meia hora por dia.",
        "Tenho um cartão e uma conta, são dois, e um e outro.",
        "Custa quarenta e cinco euros, nove vezes, um dia.",
        "Pedido 4556 7375 8689 9856 de um cliente, extensão 4521.",
        // Italian
        "Sei sicuro? Non ho mai due carte, una è nuova.",
        "Il pagamento è dovuto il nove marzo, sei e due.",
        "Costa quarantacinque euro e sei centesimi, uno per volta.",
        "Ordine 4556 7375 8689 9856 di un cliente, interno 4521.",
        // English beside the new words
        "The payment is due 12 March, and 45 dollars are due.",
    ];
    let changed = unexpected(RedactKinds::all(), texts.map(|text| (text, text)));
    assert!(changed.is_empty(), "{changed:#?}");
}
