//! Written forms a privacy review found missed, and the look-alikes beside them.

use super::*;

/// Misses from a privacy review, with the default kinds (each reached the database), and
/// the look-alikes beside them that must stay.
#[test]
fn written_forms_from_the_privacy_review() {
    let cases = [
        // A lower-case country code (speech-to-text): only the mod-97 check on country and
        // digits together tells it from the verb "es".
        (
            "El IBAN es es91 2100 0418 4502 0005 1332",
            "El IBAN es [IBAN]",
        ),
        (
            "El IBAN es es 91 2100 0418 4502 0005 1332.",
            "El IBAN es [IBAN].",
        ),
        ("IBAN: de89 3704 0044 0532 0130 00", "IBAN: [IBAN]"),
        ("mi número es 4556 7375 8689 9855", "mi número es [CARD]"),
        ("es 4539 1488 0343 6467, 124.", "es [CARD], 124."),
        // Spanish thousands separators.
        (
            "Mi DNI es 12.345.678 Z, gracias.",
            "Mi DNI es [NATIONAL_ID], gracias.",
        ),
        ("DNI 12.345.678-Z.", "DNI [NATIONAL_ID]."),
        ("NIE X-1.234.567-L", "NIE [NATIONAL_ID]"),
        ("Es el 4.556.737.586.899.855.", "Es el [CARD]."),
        // Groups of a card joined by points.
        (
            "La tarjeta 4556.7375.8689.9855, vale.",
            "La tarjeta [CARD], vale.",
        ),
        (
            "La tarjeta 4539.1488.0343.6467, 124.",
            "La tarjeta [CARD], 124.",
        ),
        // A DNI said as one number.
        (
            "Mi DNI es doce millones trescientos cuarenta y cinco mil seiscientos setenta y ocho zeta.",
            "Mi DNI es [NATIONAL_ID].",
        ),
        (
            "DNI twelve million three hundred forty five thousand six hundred seventy eight, letter Z",
            "DNI [NATIONAL_ID]",
        ),
        // Look-alikes.
        ("El total es 1.250,75 euros.", "El total es 1.250,75 euros."),
        (
            "Son doce millones trescientos cuarenta y cinco mil seiscientos setenta y ocho euros, o trescientos mil.",
            "Son doce millones trescientos cuarenta y cinco mil seiscientos setenta y ocho euros, o trescientos mil.",
        ),
        (
            "Son 12.345.678 euros y 9.000.000 más.",
            "Son 12.345.678 euros y 9.000.000 más.",
        ),
        ("Son 12.345.679 Z.", "Son 12.345.679 Z."),
        ("Pedido 4556.7375.8689.9856.", "Pedido 4556.7375.8689.9856."),
        (
            "Pedido 4.556.737.586.899.856.",
            "Pedido 4.556.737.586.899.856.",
        ),
        (
            "El 12.03.2024 a las 10.30, versión 1.2.3.",
            "El 12.03.2024 a las 10.30, versión 1.2.3.",
        ),
        (
            "La cuenta es 91 2100 0418 4502 0005 1333.",
            "La cuenta es 91 2100 0418 4502 0005 1333.",
        ),
        ("That comes to $1,249.99.", "That comes to $1,249.99."),
    ];
    let redactor = Redactor::new(RedactKinds::default());
    let wrong: Vec<(&str, String)> = cases
        .into_iter()
        .filter_map(|(text, expected)| {
            let got = redactor.text(text);
            (got != expected).then_some((text, got))
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}
