//! Text helpers shared by the local analysers: sentences, words, folding, stemming, stop words.

use crate::data::{WordList, embedded_word_list};
use std::collections::HashSet;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_segmentation::UnicodeSegmentation;

/// Abbreviations whose trailing dot must not end a sentence ("Sr. García").
static ABBREVIATIONS: WordList = embedded_word_list!("text/abbreviations.txt");

/// `es-ES`, `EN_us`, ` es ` -> `es`, `en`, `es`.
pub fn base_language(code: &str) -> String {
    code.trim()
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn is_terminator(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…')
}

fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '»' | '”' | '’')
}

fn ends_with_abbreviation(fragment: &str) -> bool {
    let last = fragment
        .rsplit(|c: char| !c.is_alphanumeric() && c != 'º')
        .next()
        .unwrap_or_default()
        .to_lowercase();
    ABBREVIATIONS.contains(&last.as_str())
}

/// Splits text into sentences on `. ! ? …` and line breaks.
///
/// Returned sentences are trimmed slices of `text`, so they can be quoted verbatim.
/// A Spanish `¿`/`¡` opens a new sentence and stays attached to it, except after a
/// comma-like mark, where it continues the clause ("Hola, ¿qué tal?").
pub fn split_sentences(text: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut sentences = Vec::new();
    let mut start = 0usize;
    let mut i = 0usize;
    while i < chars.len() {
        let (pos, c) = chars[i];
        if c == '\n' || c == '\r' {
            push_sentence(&text[start..pos], &mut sentences);
            start = pos + c.len_utf8();
            i += 1;
            continue;
        }
        if c == '¿' || c == '¡' {
            let before = text[start..pos].trim_end();
            if !before.is_empty() && !before.ends_with([',', ';', ':', '-', '—', '(', '"', '«'])
            {
                push_sentence(before, &mut sentences);
                start = pos;
            }
            i += 1;
            continue;
        }
        if is_terminator(c) {
            let mut j = i + 1;
            while j < chars.len() && is_terminator(chars[j].1) {
                j += 1;
            }
            while j < chars.len() && is_closer(chars[j].1) {
                j += 1;
            }
            let end = chars.get(j).map_or(text.len(), |&(p, _)| p);
            let next = chars.get(j).map(|&(_, n)| n);
            let at_boundary = match next {
                None => true,
                Some(n) => n.is_whitespace() || n == '¿' || n == '¡',
            };
            let single_dot = c == '.' && j == i + 1;
            let is_abbreviation = single_dot && ends_with_abbreviation(&text[start..pos]);
            if at_boundary && !is_abbreviation {
                push_sentence(&text[start..end], &mut sentences);
                start = end;
            }
            i = j;
            continue;
        }
        i += 1;
    }
    push_sentence(&text[start..], &mut sentences);
    sentences
}

fn push_sentence<'a>(fragment: &'a str, out: &mut Vec<&'a str>) {
    let trimmed = fragment.trim();
    // A lone "..." or "?" is not a sentence.
    if trimmed.chars().any(char::is_alphanumeric) {
        out.push(trimmed);
    }
}

/// Words per Unicode segmentation (punctuation dropped, "don't" kept whole).
pub fn words(text: &str) -> Vec<&str> {
    text.unicode_words().collect()
}

/// Lowercase and strip accents, so "Molestó" and "molesto" compare equal.
/// `ñ` is kept: it is a letter of its own in Spanish, not an accented `n`.
pub fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(fold_char)
        .collect()
}

fn fold_char(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        '’' | '‘' | '`' | '´' => '\'',
        other => other,
    }
}

/// Snowball stemmer for a language code, or identity for languages without one.
pub struct WordStemmer {
    stemmer: Option<Stemmer>,
    /// Which of this thread's stem caches (one per language) this stemmer reads.
    cache_slot: usize,
}

/// Distinct words a thread remembers the stem of, per language, before starting afresh: a call's
/// vocabulary is a few thousand words, so most words are stemmed once per call, not per use.
const STEM_CACHE_WORDS: usize = 50_000;

thread_local! {
    static STEM_CACHES: std::cell::RefCell<Vec<std::collections::HashMap<String, String>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl WordStemmer {
    pub fn new(language: &str) -> Self {
        let algorithm = match base_language(language).as_str() {
            "ar" => Some(Algorithm::Arabic),
            "da" => Some(Algorithm::Danish),
            "nl" => Some(Algorithm::Dutch),
            "en" => Some(Algorithm::English),
            "fi" => Some(Algorithm::Finnish),
            "fr" => Some(Algorithm::French),
            "de" => Some(Algorithm::German),
            "el" => Some(Algorithm::Greek),
            "hu" => Some(Algorithm::Hungarian),
            "it" => Some(Algorithm::Italian),
            "nb" | "no" | "nn" => Some(Algorithm::Norwegian),
            "pt" => Some(Algorithm::Portuguese),
            "ro" => Some(Algorithm::Romanian),
            "ru" => Some(Algorithm::Russian),
            "es" => Some(Algorithm::Spanish),
            "sv" => Some(Algorithm::Swedish),
            "ta" => Some(Algorithm::Tamil),
            "tr" => Some(Algorithm::Turkish),
            _ => None,
        };
        Self {
            cache_slot: algorithm.map_or(0, |a| a as usize + 1),
            stemmer: algorithm.map(Stemmer::create),
        }
    }

    /// Stem of a word, folded. Stemming runs before folding because the Spanish
    /// suffix rules are written with accents ("-ación").
    pub fn stem(&self, word: &str) -> String {
        let cached = STEM_CACHES.with(|caches| {
            caches
                .borrow()
                .get(self.cache_slot)
                .and_then(|cache| cache.get(word).cloned())
        });
        if let Some(stem) = cached {
            return stem;
        }
        let lower = word.to_lowercase();
        let stem = match &self.stemmer {
            Some(stemmer) => fold(&stemmer.stem(&lower)),
            None => fold(&lower),
        };
        STEM_CACHES.with(|caches| {
            let mut caches = caches.borrow_mut();
            if caches.len() <= self.cache_slot {
                caches.resize_with(self.cache_slot + 1, Default::default);
            }
            let cache = &mut caches[self.cache_slot];
            if cache.len() >= STEM_CACHE_WORDS {
                cache.clear();
            }
            cache.insert(word.to_owned(), stem.clone());
        });
        stem
    }
}

/// Folded stop words for a language (English when the language has no list).
pub fn stop_words(language: &str) -> HashSet<String> {
    let list = ::stop_words::lookup(base_language(language))
        .or_else(|| ::stop_words::lookup("en"))
        .unwrap_or_default();
    list.iter().map(|w| fold(w)).collect()
}

/// Words that are everywhere in phone calls and say nothing about the topic.
static CALL_FILLERS_ES: WordList = embedded_word_list!("text/call_fillers_es.txt");
static CALL_FILLERS_EN: WordList = embedded_word_list!("text/call_fillers_en.txt");
/// Stop-list entries that are real topics in customer calls.
static TOPIC_WORDS_ES: WordList = embedded_word_list!("text/topic_words_es.txt");
static TOPIC_WORDS_EN: WordList = embedded_word_list!("text/topic_words_en.txt");

/// Folded words to ignore when looking for content: the language's stop words plus call
/// fillers (greetings, thanks, back-channel noises), minus stop-list entries that are topics.
pub fn content_stop_words(language: &str) -> HashSet<String> {
    let language = base_language(language);
    let mut words = stop_words(&language);
    let (fillers, topics): (&[&str], &[&str]) = match language.as_str() {
        "es" => (CALL_FILLERS_ES.as_slice(), TOPIC_WORDS_ES.as_slice()),
        "en" => (CALL_FILLERS_EN.as_slice(), TOPIC_WORDS_EN.as_slice()),
        _ => (&[], &[]),
    };
    words.extend(fillers.iter().map(|w| fold(w)));
    for topic in topics {
        words.remove(&fold(topic));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_terminators_and_line_breaks() {
        let text = "Hola, buenos días. Llamo por la factura!\nEs urgente… ¿Me ayuda?";
        assert_eq!(
            split_sentences(text),
            vec![
                "Hola, buenos días.",
                "Llamo por la factura!",
                "Es urgente…",
                "¿Me ayuda?"
            ]
        );
    }

    #[test]
    fn keeps_inverted_marks_attached() {
        assert_eq!(
            split_sentences("Vale ¿y cuándo llega? ¡Qué bien!"),
            vec!["Vale", "¿y cuándo llega?", "¡Qué bien!"]
        );
        assert_eq!(
            split_sentences("Hola, ¿qué tal está?"),
            vec!["Hola, ¿qué tal está?"]
        );
    }

    #[test]
    fn does_not_split_decimals_or_abbreviations() {
        assert_eq!(
            split_sentences("Son 3.5 euros, Sr. García. Gracias."),
            vec!["Son 3.5 euros, Sr. García.", "Gracias."]
        );
    }

    #[test]
    fn ellipsis_runs_and_closing_quotes_stay_with_sentence() {
        assert_eq!(
            split_sentences("Dijo \"ya está.\" Y colgó... Fin"),
            vec!["Dijo \"ya está.\"", "Y colgó...", "Fin"]
        );
    }

    #[test]
    fn empty_and_punctuation_only_give_no_sentences() {
        assert!(split_sentences("").is_empty());
        assert!(split_sentences(" ... ?! \n\n").is_empty());
    }

    #[test]
    fn sentences_are_slices_of_the_input() {
        let text = "Él llamó. Ñandú rápido! ¿Qué?";
        for sentence in split_sentences(text) {
            assert!(text.contains(sentence));
        }
    }

    #[test]
    fn words_keep_contractions_and_drop_punctuation() {
        assert_eq!(
            words("I don't know, ¿vale?"),
            vec!["I", "don't", "know", "vale"]
        );
    }

    #[test]
    fn fold_is_lowercase_and_accent_insensitive() {
        assert_eq!(
            fold("MOLESTÓ Ágil Pingüino Niño"),
            "molesto agil pinguino niño"
        );
        assert_eq!(fold("don’t"), "don't");
    }

    #[test]
    fn stemmer_groups_inflections() {
        let es = WordStemmer::new("es");
        assert_eq!(es.stem("molesto"), es.stem("molestos"));
        assert_eq!(es.stem("Molesta"), es.stem("molesto"));
        assert_eq!(es.stem("facturas"), es.stem("factura"));
        let en = WordStemmer::new("en-GB");
        assert_eq!(en.stem("invoices"), en.stem("invoice"));
        let unknown = WordStemmer::new("xx");
        assert_eq!(unknown.stem("Über"), "uber");
    }

    #[test]
    fn stop_words_are_folded_and_fall_back_to_english() {
        let es = stop_words("es");
        assert!(es.contains("tambien"));
        assert!(es.contains("no"));
        let fallback = stop_words("zz");
        assert!(fallback.contains("the"));
    }

    #[test]
    fn content_stop_words_add_fillers_and_keep_topics() {
        let es = content_stop_words("es");
        assert!(es.contains("hola") && es.contains("gracias") && es.contains("que"));
        assert!(!es.contains("cuenta") && !es.contains("factura"));
        let en = content_stop_words("en");
        assert!(en.contains("yeah") && en.contains("thanks") && en.contains("the"));
        assert!(!en.contains("bill") && !en.contains("invoice"));
    }

    #[test]
    fn base_language_strips_region() {
        assert_eq!(base_language(" es-ES "), "es");
        assert_eq!(base_language("EN_us"), "en");
        assert_eq!(base_language(""), "");
    }
}
