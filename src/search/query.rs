use std::collections::HashSet;

use unicode_segmentation::UnicodeSegmentation;

use super::fold;

/// The `q` of a search: loose words that must all appear, and `"quoted phrases"` whose words must
/// appear in order. Only words are kept: operators and punctuation of either database's query
/// syntax never reach it, so no input can make a search fail or mean something else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    words: Vec<String>,
    phrases: Vec<Vec<String>>,
}

impl SearchQuery {
    /// The longest `q` taken, in characters: a search box's worth. Longer ones are refused
    /// (400) before they are parsed or searched for, and the audit log records only their length.
    pub const MAX_CHARS: usize = 1000;

    /// Whether `raw` (trimmed, as a search takes it) is over [`Self::MAX_CHARS`].
    pub fn too_long(raw: &str) -> bool {
        raw.trim().chars().count() > Self::MAX_CHARS
    }

    /// `None` when `raw` holds no word at all (then there is nothing to search for).
    pub fn parse(raw: &str) -> Option<Self> {
        let mut words = Vec::new();
        let mut phrases = Vec::new();
        // Between an odd and the next even quote is a phrase; an unclosed quote runs to the end.
        for (i, part) in raw.split('"').enumerate() {
            let part_words: Vec<String> = part.unicode_words().map(str::to_string).collect();
            if i % 2 == 1 && part_words.len() > 1 {
                phrases.push(part_words);
            } else {
                words.extend(part_words);
            }
        }
        (!words.is_empty() || !phrases.is_empty()).then_some(Self { words, phrases })
    }

    /// Loose words, space-separated (PostgreSQL: `plainto_tsquery`, which ANDs them).
    pub fn loose_words(&self) -> Option<String> {
        (!self.words.is_empty()).then(|| self.words.join(" "))
    }

    /// Each phrase, space-separated (PostgreSQL: `phraseto_tsquery`).
    pub fn phrases(&self) -> impl Iterator<Item = String> + '_ {
        self.phrases.iter().map(|p| p.join(" "))
    }

    /// An FTS5 MATCH expression: every word and phrase as a quoted string, implicitly ANDed.
    pub fn fts5_match(&self) -> String {
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        self.words
            .iter()
            .map(|w| quote(w))
            .chain(self.phrases().map(|p| quote(&p)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The loose words, folded, for marking hits in an excerpt (a word of several parts, like
    /// "o'brien", is a phrase there: see [`word_parts`]).
    pub fn folded_words(&self) -> HashSet<String> {
        self.words
            .iter()
            .filter(|w| word_parts(w).nth(1).is_none())
            .map(|w| fold(w))
            .collect()
    }

    /// Each phrase's words, folded and cut into their parts: in an excerpt they are hits only
    /// where they stand in order.
    pub fn folded_phrases(&self) -> Vec<Vec<String>> {
        let parted = self
            .words
            .iter()
            .filter(|w| word_parts(w).nth(1).is_some())
            .map(std::slice::from_ref);
        self.phrases
            .iter()
            .map(Vec::as_slice)
            .chain(parted)
            .map(|p| p.iter().flat_map(|w| word_parts(w)).map(fold).collect())
            .collect()
    }
}

/// The parts of a word that the tokenizers index apart: UAX #29 keeps "d'électricité",
/// "O'Brien" and "javascript:alert" as one word; FTS5's `unicode61` splits them at the
/// apostrophe, colon or point, PostgreSQL's parser at the apostrophe and colon (it keeps
/// "o.brien" whole). An excerpt marks the parts; what the search finds is the database's.
pub(crate) fn word_parts(word: &str) -> impl Iterator<Item = &str> {
    word.split(is_inner_punctuation).filter(|p| !p.is_empty())
}

/// The characters UAX #29 lets stand inside a word (MidLetter, MidNum, MidNumLet, and `_`).
pub(crate) fn is_inner_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(
            c,
            '’' | '‘' | 'ʼ' | '·' | '․' | '﹒' | '＇' | '．' | '：' | '︓' | '﹕' | '‧' | '״'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_words_form_a_phrase_and_the_rest_are_loose() {
        let q = SearchQuery::parse(r#"factura "tarjeta de crédito" pago"#).expect("words");
        assert_eq!(q.loose_words().as_deref(), Some("factura pago"));
        assert_eq!(q.phrases().collect::<Vec<_>>(), ["tarjeta de crédito"]);
        assert_eq!(q.fts5_match(), r#""factura" "pago" "tarjeta de crédito""#);
    }

    #[test]
    fn query_syntax_of_either_database_is_dropped() {
        let q = SearchQuery::parse(r#"a* OR -b NEAR(c) col:d & !e | "unclosed f"#).expect("words");
        // Each word is a quoted FTS5 string: `OR`, `NEAR` and `col:d` are text to find.
        assert_eq!(
            q.fts5_match(),
            r#""a" "OR" "b" "NEAR" "c" "col:d" "e" "unclosed f""#
        );
        assert_eq!(SearchQuery::parse(r#" "" * - "#), None);
    }

    #[test]
    fn folded_words_ignore_case_and_accents() {
        let q = SearchQuery::parse("FACTURACIÓN Müller").expect("words");
        assert_eq!(
            q.folded_words(),
            HashSet::from(["facturacion".to_string(), "muller".to_string()])
        );
        let q = SearchQuery::parse(r#"pago "Tarjeta de CRÉDITO""#).expect("words");
        assert_eq!(q.folded_words(), HashSet::from(["pago".to_string()]));
        assert_eq!(q.folded_phrases(), [["tarjeta", "de", "credito"]]);
        let q = SearchQuery::parse("d’Électricité brien").expect("words");
        assert_eq!(q.folded_words(), HashSet::from(["brien".to_string()]));
        assert_eq!(q.folded_phrases(), [["d", "electricite"]]);
    }
}
