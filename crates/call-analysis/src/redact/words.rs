//! The word lists redaction reads (`data/redact/`), loaded once.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use crate::data::{weighted_list, word_list};
use crate::text::fold;

/// A list of (possibly multi-word) folded phrases, each as its words.
pub(super) type Phrases = Vec<Vec<String>>;

macro_rules! redact_data {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/redact/", $path))
    };
}

fn folded_set(source: &'static str) -> HashSet<String> {
    word_list(source).into_iter().map(fold).collect()
}

fn folded_map(source: &'static str) -> HashMap<String, u32> {
    weighted_list(source)
        .into_iter()
        // Whole numbers by construction of the files; `as` only drops the ".0".
        .map(|(word, value)| (fold(word), value as u32))
        .collect()
}

fn phrases(source: &'static str) -> Phrases {
    word_list(source)
        .into_iter()
        .map(|phrase| phrase.split_whitespace().map(fold).collect())
        .collect()
}

pub(super) static NUMBER_WORDS: LazyLock<HashMap<String, u32>> =
    LazyLock::new(|| folded_map(redact_data!("number_words.tsv")));
/// Words read as a digit only beside another spoken digit (articles, "due", "sei").
pub(super) static NEIGHBOUR_DIGITS: LazyLock<HashMap<String, u32>> =
    LazyLock::new(|| folded_map(redact_data!("neighbour_digits.tsv")));
/// Phrases of several words and their values, longest first.
pub(super) type NumberPhrases = Vec<(Vec<String>, u32)>;

/// Numbers said in several words ("quatre-vingt-dix-neuf"), by their first word, longest
/// first.
pub(super) static NUMBER_PHRASES: LazyLock<HashMap<String, NumberPhrases>> = LazyLock::new(|| {
    let mut phrases: HashMap<String, NumberPhrases> = HashMap::new();
    for (phrase, value) in weighted_list(redact_data!("number_phrases.tsv")) {
        let words: Vec<String> = phrase.split_whitespace().map(fold).collect();
        // Whole numbers by construction of the file; `as` only drops the ".0".
        phrases
            .entry(words[0].clone())
            .or_default()
            .push((words, value as u32));
    }
    for list in phrases.values_mut() {
        list.sort_by_key(|(words, _)| std::cmp::Reverse(words.len()));
    }
    phrases
});
pub(super) static REPEATERS: LazyLock<HashMap<String, u32>> =
    LazyLock::new(|| folded_map(redact_data!("repeaters.tsv")));
/// A thousands that begins a one-word number ("duemila" in "duemilaventotto").
pub(super) static THOUSAND_PREFIXES: LazyLock<HashMap<String, u32>> =
    LazyLock::new(|| folded_map(redact_data!("thousand_prefixes.tsv")));
pub(super) static MULTIPLIERS: LazyLock<HashMap<String, u32>> =
    LazyLock::new(|| folded_map(redact_data!("multipliers.tsv")));
pub(super) static NUMBER_CONNECTORS: LazyLock<HashSet<String>> =
    LazyLock::new(|| folded_set(redact_data!("number_connectors.txt")));
pub(super) static FILLERS: LazyLock<HashSet<String>> =
    LazyLock::new(|| folded_set(redact_data!("fillers.txt")));
/// The fillers of several words ("o sea", "you know"), each as its words: the tokens read
/// them as one word item, so `FILLERS` holds them as said, words apart by one space.
pub(super) static FILLER_PHRASES: LazyLock<Phrases> = LazyLock::new(|| {
    phrases(redact_data!("fillers.txt"))
        .into_iter()
        .filter(|phrase| phrase.len() > 1)
        .collect()
});
pub(super) static GROUP_JOINERS: LazyLock<HashSet<String>> =
    LazyLock::new(|| folded_set(redact_data!("group_joiners.txt")));
pub(super) static CVV_CUES: LazyLock<Phrases> =
    LazyLock::new(|| phrases(redact_data!("cvv_cues.txt")));
pub(super) static EXPIRY_CUES: LazyLock<Phrases> =
    LazyLock::new(|| phrases(redact_data!("expiry_cues.txt")));
/// Cues also said of what is no card (contracts, one-time codes): their value counts only in
/// a card's context or in a card's form.
pub(super) static CVV_CUES_GENERAL: LazyLock<Phrases> =
    LazyLock::new(|| phrases(redact_data!("cvv_cues_general.txt")));
pub(super) static EXPIRY_CUES_GENERAL: LazyLock<Phrases> =
    LazyLock::new(|| phrases(redact_data!("expiry_cues_general.txt")));
pub(super) static CARD_WORDS: LazyLock<HashSet<String>> =
    LazyLock::new(|| folded_set(redact_data!("card_words.txt")));
pub(super) static MONTHS: LazyLock<HashMap<String, u32>> =
    LazyLock::new(|| folded_map(redact_data!("months.tsv")));
pub(super) static EXPIRY_CONNECTORS: LazyLock<HashSet<String>> =
    LazyLock::new(|| folded_set(redact_data!("expiry_connectors.txt")));
pub(super) static LETTER_NAMES: LazyLock<HashMap<String, u32>> =
    LazyLock::new(|| folded_map(redact_data!("letter_names.tsv")));
pub(super) static LETTER_CUES: LazyLock<HashSet<String>> =
    LazyLock::new(|| folded_set(redact_data!("letter_cues.txt")));
pub(super) static EMAIL_AT: LazyLock<HashSet<String>> =
    LazyLock::new(|| folded_set(redact_data!("email_at.txt")));
pub(super) static EMAIL_DOTS: LazyLock<HashSet<String>> =
    LazyLock::new(|| folded_set(redact_data!("email_dots.txt")));
pub(super) static EMAIL_JOINERS: LazyLock<Phrases> =
    LazyLock::new(|| phrases(redact_data!("email_joiners.txt")));
pub(super) static EMAIL_TLDS: LazyLock<HashSet<String>> =
    LazyLock::new(|| folded_set(redact_data!("email_tlds.txt")));
pub(super) static IDIOM_AFTER_MULTIPLIER: LazyLock<HashSet<String>> =
    LazyLock::new(|| folded_set(redact_data!("idiom_after_multiplier.txt")));
/// A number word and the words before it that make it an ordinary word ("au dos").
pub(super) static NOT_NUMBERS: LazyLock<Phrases> =
    LazyLock::new(|| phrases(redact_data!("not_numbers.txt")));
pub(super) static PHONE_PREFIX_WORDS: LazyLock<HashSet<String>> =
    LazyLock::new(|| folded_set(redact_data!("phone_prefix_words.txt")));
/// Upper-case country code -> IBAN length.
pub(super) static IBAN_LENGTHS: LazyLock<HashMap<String, usize>> = LazyLock::new(|| {
    weighted_list(redact_data!("iban_lengths.tsv"))
        .into_iter()
        .map(|(code, length)| (code.to_string(), length as usize))
        .collect()
});

/// The letter a spoken letter name stands for ("zeta" -> 'Z').
pub(super) fn letter_named(folded: &str) -> Option<char> {
    let position = *LETTER_NAMES.get(folded)?;
    char::from_u32('A' as u32 + position - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_loads() {
        assert_eq!(NUMBER_WORDS.get("cuarenta"), Some(&40));
        assert_eq!(REPEATERS.get("triple"), Some(&3));
        assert_eq!(NUMBER_WORDS.get("funfundvierzig"), Some(&45));
        assert_eq!(NUMBER_WORDS.get("quarantotto"), Some(&48));
        assert_eq!(NUMBER_WORDS.get("ventitre"), Some(&23));
        assert_eq!(NEIGHBOUR_DIGITS.get("um"), Some(&1));
        assert!(!NUMBER_WORDS.contains_key("un") && !NUMBER_WORDS.contains_key("ein"));
        assert!(
            NUMBER_PHRASES["quatre"]
                .iter()
                .any(|(w, v)| w.len() == 4 && *v == 99)
        );
        assert_eq!(letter_named("zeta"), Some('Z'));
        assert_eq!(letter_named("equis"), Some('X'));
        assert_eq!(IBAN_LENGTHS.get("ES"), Some(&24));
        assert_eq!(MONTHS.get("diciembre"), Some(&12));
        for list in [
            &*CVV_CUES,
            &*EXPIRY_CUES,
            &*CVV_CUES_GENERAL,
            &*EXPIRY_CUES_GENERAL,
            &*EMAIL_JOINERS,
            &*NOT_NUMBERS,
        ] {
            assert!(list.iter().all(|phrase| !phrase.is_empty()));
        }
        for set in [
            &*NUMBER_CONNECTORS,
            &*FILLERS,
            &*CARD_WORDS,
            &*GROUP_JOINERS,
            &*EXPIRY_CONNECTORS,
            &*LETTER_CUES,
            &*EMAIL_AT,
            &*EMAIL_DOTS,
            &*EMAIL_TLDS,
            &*PHONE_PREFIX_WORDS,
            &*IDIOM_AFTER_MULTIPLIER,
        ] {
            assert!(!set.is_empty());
        }
        assert!(!MULTIPLIERS.is_empty());
        assert_eq!(THOUSAND_PREFIXES.get("duemila"), Some(&2000));
        assert!(
            FILLERS.contains("o sea") && FILLER_PHRASES.contains(&vec!["o".into(), "sea".into()])
        );
    }
}
