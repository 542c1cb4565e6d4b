//! The check-digit rules that tell a real card, IBAN or DNI from any other number.

/// Luhn (ISO/IEC 7812) over ASCII digits.
pub(super) fn luhn(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, byte) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(byte.wrapping_sub(b'0'));
        if d > 9 {
            return false;
        }
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// ISO 13616: move the country and check digits to the end, letters to 10..35, mod 97 == 1.
pub(super) fn iban_valid(iban: &str) -> bool {
    if iban.len() < 5 || !iban.is_ascii() {
        return false;
    }
    let (head, rest) = iban.split_at(4);
    let mut remainder = 0u32;
    for c in rest.chars().chain(head.chars()) {
        let value = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        // Letters are two digits (A = 10), digits one.
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// Spanish DNI (8 digits) or NIE (X/Y/Z + 7 digits, the prefix read as 0/1/2) check letter.
pub(super) fn national_id_valid(prefix: Option<char>, digits: &str, letter: char) -> bool {
    let lead = match prefix {
        None if digits.len() == 8 => "",
        Some('X') if digits.len() == 7 => "0",
        Some('Y') if digits.len() == 7 => "1",
        Some('Z') if digits.len() == 7 => "2",
        _ => return false,
    };
    let Ok(number) = format!("{lead}{digits}").parse::<u32>() else {
        return false;
    };
    DNI_LETTERS[(number % 23) as usize] == letter.to_ascii_uppercase() as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_test_cards_and_refuses_one_digit_off() {
        assert!(luhn("4556737586899855"));
        assert!(luhn("378282246310005"));
        assert!(!luhn("4556737586899856"));
        assert!(!luhn(""));
    }

    #[test]
    fn iban_mod97() {
        assert!(iban_valid("ES9121000418450200051332"));
        assert!(iban_valid("DE89370400440532013000"));
        assert!(!iban_valid("ES9121000418450200051333"));
    }

    #[test]
    fn dni_and_nie_letters() {
        assert!(national_id_valid(None, "12345678", 'Z'));
        assert!(!national_id_valid(None, "12345678", 'A'));
        assert!(national_id_valid(Some('X'), "1234567", 'L'));
        assert!(!national_id_valid(Some('X'), "12345678", 'L'));
    }
}
