//! Lexicon-based sentiment for English, Spanish, Portuguese, French, Italian and German calls.
//!
//! Words carry a valence in -3..=3 and are matched by accent-folded form first, then by
//! stem, so inflections ("molesto/molesta/molestos") share an entry. Words whose stem would
//! collide with a neutral word (English "helpful" -> "help") are listed as exact forms only.
//! Stop words are deliberately kept: they include "no", "not", "bien", "mal".
//!
//! Per sentence the valences are adjusted for negation, intensifiers, diminishers,
//! "but/pero" contrast and exclamation marks, then summed. The call score is
//! `S / sqrt(S² + ALPHA·N)` over the sum `S` of all sentences and the sentence count `N`:
//! VADER's normalisation with its alpha scaled by length, so a couple of polite "thanks"
//! in a long routine call stay neutral while sentiment repeated through a call saturates.
//! Labels: score >= 0.15 is positive, <= -0.15 negative, anything between neutral; with the
//! per-sentence alpha of 20 a single mildly emotional sentence ("No estoy contento") already
//! crosses a threshold, while courtesy alone ("Muchas gracias" at the end of a call) does not.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use unicode_segmentation::UnicodeSegmentation;

use super::text::{WordStemmer, base_language, fold, split_sentences};
use super::types::{Sentiment, SentimentLabel};
use crate::data::{weighted_list, word_list};
use crate::sentiment_lexicons::{LexiconSource, SOURCES};

/// VADER uses 15 for one sentence; slightly more keeps routine courtesy neutral.
const ALPHA_PER_SENTENCE: f64 = 20.0;
/// How many following words a negator flips.
const NEGATION_SCOPE: usize = 3;
/// VADER's negation scalar: "not good" is milder than "bad".
const NEGATION_FACTOR: f64 = -0.74;
const INTENSIFIER_FACTOR: f64 = 1.3;
const DIMINISHER_FACTOR: f64 = 0.6;
/// How many following words an intensifier or diminisher can reach.
const MODIFIER_SCOPE: usize = 2;
const MAX_MODIFIER: f64 = 2.0;
const EXCLAMATION_BOOST: f64 = 0.3;
const MAX_EXCLAMATIONS: usize = 3;
/// Shouted words ("TERRIBLE") in otherwise mixed-case text.
const CAPS_FACTOR: f64 = 1.25;
/// "It was slow, but they fixed it": the clause after the contrast dominates.
const BEFORE_CONTRAST_FACTOR: f64 = 0.5;
const AFTER_CONTRAST_FACTOR: f64 = 1.5;

enum PhraseEffect {
    Valence(f64),
    Diminish,
}

struct Phrase {
    tokens: Vec<String>,
    effect: PhraseEffect,
    starts_negated: bool,
}

struct Lexicon {
    splits_elisions: bool,
    stemmer: WordStemmer,
    exact: HashMap<String, f64>,
    stems: HashMap<String, f64>,
    /// By first token, longest first.
    phrases: HashMap<String, Vec<Phrase>>,
    negators: HashSet<String>,
    intensifiers: HashSet<String>,
    diminishers: HashSet<String>,
    contrasts: HashSet<String>,
}

fn folded_tokens(phrase: &str, splits_elisions: bool) -> Vec<String> {
    phrase
        .unicode_words()
        .flat_map(|word| elided_parts(word, splits_elisions))
        .map(fold)
        .collect()
}

/// "n'est" -> ["n", "est"] where the language elides; otherwise the word itself.
fn elided_parts(word: &str, splits_elisions: bool) -> impl Iterator<Item = &str> {
    let split = word
        .split_once(['\'', '’'])
        .filter(|(head, tail)| splits_elisions && !head.is_empty() && !tail.is_empty());
    let (first, second) = match split {
        Some((head, tail)) => (head, Some(tail)),
        None => (word, None),
    };
    std::iter::once(first).chain(second)
}

fn is_negator(word: &str, negators: &HashSet<String>) -> bool {
    negators.contains(word) || word.ends_with("n't")
}

impl Lexicon {
    fn build(source: &LexiconSource) -> Self {
        let stemmer = WordStemmer::new(source.language);
        let mut exact = HashMap::new();
        let mut stems = HashMap::new();
        for (word, valence) in weighted_list(source.stemmed) {
            exact.entry(fold(word)).or_insert(valence);
            stems.entry(stemmer.stem(word)).or_insert(valence);
        }
        // Exact entries win over the folded forms of stemmed entries.
        for (word, valence) in weighted_list(source.exact) {
            exact.insert(fold(word), valence);
        }
        let to_set = |list: &'static str| -> HashSet<String> {
            word_list(list).into_iter().map(fold).collect()
        };
        let negators = to_set(source.negators);

        let mut phrases: HashMap<String, Vec<Phrase>> = HashMap::new();
        let all_phrases = weighted_list(source.phrases)
            .into_iter()
            .map(|(p, v)| (p, PhraseEffect::Valence(v)))
            .chain(
                word_list(source.diminisher_phrases)
                    .into_iter()
                    .map(|p| (p, PhraseEffect::Diminish)),
            );
        for (text, effect) in all_phrases {
            let tokens = folded_tokens(text, source.splits_elisions);
            let Some(first) = tokens.first().cloned() else {
                continue;
            };
            let starts_negated = is_negator(&first, &negators);
            phrases.entry(first).or_default().push(Phrase {
                tokens,
                effect,
                starts_negated,
            });
        }
        for candidates in phrases.values_mut() {
            candidates.sort_by_key(|p| std::cmp::Reverse(p.tokens.len()));
        }

        Self {
            splits_elisions: source.splits_elisions,
            stemmer,
            exact,
            stems,
            phrases,
            negators,
            intensifiers: to_set(source.intensifiers),
            diminishers: to_set(source.diminishers),
            contrasts: to_set(source.contrasts),
        }
    }

    /// The lexicon for `language`; languages without their own lists use English.
    fn for_language(language: &str) -> &'static Lexicon {
        static LEXICONS: [OnceLock<Lexicon>; SOURCES.len()] =
            [const { OnceLock::new() }; SOURCES.len()];
        let base = base_language(language);
        let index = SOURCES
            .iter()
            .position(|source| source.language == base)
            .unwrap_or(0);
        LEXICONS[index].get_or_init(|| Lexicon::build(&SOURCES[index]))
    }

    fn valence(&self, token: &Token) -> Option<f64> {
        if let Some(&v) = self.exact.get(&token.folded) {
            return Some(v);
        }
        self.stems.get(&self.stemmer.stem(token.raw)).copied()
    }

    fn match_phrase(&self, tokens: &[Token]) -> Option<&Phrase> {
        let first = tokens.first()?;
        self.phrases.get(&first.folded)?.iter().find(|phrase| {
            phrase.tokens.len() <= tokens.len()
                && phrase
                    .tokens
                    .iter()
                    .zip(tokens)
                    .enumerate()
                    // A phrase must not straddle a comma.
                    .all(|(i, (want, got))| *want == got.folded && (i == 0 || !got.clause_start))
        })
    }
}

struct Token<'a> {
    raw: &'a str,
    folded: String,
    /// Follows a comma, semicolon, colon or similar: negation and modifiers stop there.
    clause_start: bool,
    shouted: bool,
}

fn tokenize(sentence: &str, splits_elisions: bool) -> Vec<Token<'_>> {
    let has_lowercase = sentence.chars().any(char::is_lowercase);
    let mut tokens = Vec::new();
    let mut clause_start = false;
    for bounded in sentence.split_word_bounds() {
        for segment in elided_parts(bounded, splits_elisions) {
            push_segment(segment, has_lowercase, &mut clause_start, &mut tokens);
        }
    }
    tokens
}

/// Adds one word-boundary segment: a word becomes a token, clause punctuation marks the next.
fn push_segment<'a>(
    segment: &'a str,
    has_lowercase: bool,
    clause_start: &mut bool,
    tokens: &mut Vec<Token<'a>>,
) {
    if segment.chars().any(char::is_alphanumeric) {
        let mut letters = segment.chars().filter(|c| c.is_alphabetic());
        let shouted =
            has_lowercase && letters.clone().count() >= 3 && letters.all(char::is_uppercase);
        tokens.push(Token {
            raw: segment,
            folded: fold(segment),
            clause_start: *clause_start,
            shouted,
        });
        *clause_start = false;
    } else if segment
        .chars()
        .any(|c| matches!(c, ',' | ';' | ':' | '(' | ')' | '—' | '–'))
    {
        *clause_start = true;
    }
}

/// Raw (unnormalised) valence of one sentence.
fn sentence_valence(sentence: &str, lexicon: &Lexicon) -> f64 {
    let tokens = tokenize(sentence, lexicon.splits_elisions);
    let mut values: Vec<f64> = Vec::new();
    let mut contrast_at: Option<usize> = None;
    let mut negation_left = 0usize;
    let mut modifier = 1.0f64;
    let mut modifier_left = 0usize;

    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        if token.clause_start {
            negation_left = 0;
            modifier = 1.0;
            modifier_left = 0;
        }

        if let Some(phrase) = lexicon.match_phrase(&tokens[i..]) {
            let length = phrase.tokens.len();
            match phrase.effect {
                PhraseEffect::Valence(valence) => {
                    if valence != 0.0 {
                        let mut v = valence * modifier;
                        if negation_left > 0 && !phrase.starts_negated {
                            v *= NEGATION_FACTOR;
                        }
                        values.push(v);
                    }
                    modifier = 1.0;
                    modifier_left = 0;
                }
                PhraseEffect::Diminish => {
                    modifier = (modifier * DIMINISHER_FACTOR).clamp(0.0, MAX_MODIFIER);
                    modifier_left = MODIFIER_SCOPE;
                }
            }
            negation_left = negation_left.saturating_sub(length);
            i += length;
            continue;
        }

        let word = token.folded.as_str();
        if is_negator(word, &lexicon.negators) {
            negation_left = NEGATION_SCOPE;
            i += 1;
            continue;
        }
        if lexicon.contrasts.contains(word) {
            contrast_at = Some(values.len());
            negation_left = 0;
            modifier = 1.0;
            modifier_left = 0;
            i += 1;
            continue;
        }
        if lexicon.intensifiers.contains(word) || lexicon.diminishers.contains(word) {
            let factor = if lexicon.intensifiers.contains(word) {
                INTENSIFIER_FACTOR
            } else {
                DIMINISHER_FACTOR
            };
            modifier = (modifier * factor).clamp(0.0, MAX_MODIFIER);
            modifier_left = MODIFIER_SCOPE;
            negation_left = negation_left.saturating_sub(1);
            i += 1;
            continue;
        }

        match lexicon.valence(token) {
            Some(valence) if valence != 0.0 => {
                let mut v = valence * modifier;
                if token.shouted {
                    v *= CAPS_FACTOR;
                }
                if negation_left > 0 {
                    v *= NEGATION_FACTOR;
                }
                values.push(v);
                modifier = 1.0;
                modifier_left = 0;
            }
            _ => {
                modifier_left = modifier_left.saturating_sub(1);
                if modifier_left == 0 {
                    modifier = 1.0;
                }
            }
        }
        negation_left = negation_left.saturating_sub(1);
        i += 1;
    }

    let sum: f64 = match contrast_at {
        Some(split) => {
            let (before, after) = values.split_at(split.min(values.len()));
            before.iter().sum::<f64>() * BEFORE_CONTRAST_FACTOR
                + after.iter().sum::<f64>() * AFTER_CONTRAST_FACTOR
        }
        None => values.iter().sum(),
    };
    if sum == 0.0 {
        return 0.0;
    }
    let exclamations = sentence.matches('!').count().min(MAX_EXCLAMATIONS) as f64;
    sum + sum.signum() * exclamations * EXCLAMATION_BOOST
}

/// Sentiment of `text` in -1..=1. `language` is an ISO 639-1 code; a language without its
/// own lists (see `sentiment_lexicons`) uses the English lexicon.
pub fn score(text: &str, language: &str) -> Sentiment {
    valence(text, language).sentiment()
}

/// The summed valence of a text's sentences and their count: what [`score`] normalises.
/// Texts joined by newlines (which always end a sentence) add up, so cues can be scored once
/// and their valences summed per speaker or per quarter.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Valence {
    pub total: f64,
    pub sentences: usize,
}

impl std::ops::Add for Valence {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            total: self.total + other.total,
            sentences: self.sentences + other.sentences,
        }
    }
}

impl std::iter::Sum for Valence {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::default(), |a, b| a + b)
    }
}

impl Valence {
    pub fn sentiment(self) -> Sentiment {
        let Self { total, sentences } = self;
        let normalised = if total == 0.0 || sentences == 0 {
            0.0
        } else {
            total / (total * total + ALPHA_PER_SENTENCE * sentences as f64).sqrt()
        };
        let score = if normalised.is_finite() {
            normalised.clamp(-1.0, 1.0)
        } else {
            0.0
        };
        Sentiment {
            score,
            label: SentimentLabel::from_score(score),
        }
    }
}

/// The valence of `text` before normalisation (see [`Valence`]).
pub fn valence(text: &str, language: &str) -> Valence {
    let lexicon = Lexicon::for_language(language);
    let mut total = 0.0f64;
    let mut sentences = 0usize;
    for sentence in split_sentences(text) {
        sentences += 1;
        total += sentence_valence(sentence, lexicon);
    }
    Valence { total, sentences }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(text: &str, language: &str) -> SentimentLabel {
        score(text, language).label
    }

    #[test]
    fn valences_of_lines_add_up_to_the_joined_text() {
        let lines = [
            "Estoy muy molesto, no funciona",
            "¡Gracias! Ya está resuelto. Pero tardaron mucho",
            "",
            "Vale",
        ];
        let summed: Valence = lines.iter().map(|line| valence(line, "es")).sum();
        assert_eq!(summed, valence(&lines.join("\n"), "es"));
        assert_eq!(summed.sentiment(), score(&lines.join("\n"), "es"));
        // Stemming through the cache gives the same score the second time.
        assert_eq!(
            score("Muy decepcionado", "es"),
            score("Muy decepcionado", "es")
        );
    }

    #[test]
    fn negation() {
        for (text, language, expected) in [
            ("No estoy contento.", "es", SentimentLabel::Negative),
            ("Estoy contento.", "es", SentimentLabel::Positive),
            ("I'm not happy.", "en", SentimentLabel::Negative),
            ("I'm happy.", "en", SentimentLabel::Positive),
            ("It isn't good at all.", "en", SentimentLabel::Negative),
            ("I don't like it, it's bad.", "en", SentimentLabel::Negative),
        ] {
            assert_eq!(label(text, language), expected, "{text}");
        }
        // A negated bad word leans positive.
        for (text, language) in [("No está mal.", "es"), ("Not bad.", "en")] {
            let sentiment = score(text, language);
            assert_ne!(sentiment.label, SentimentLabel::Negative, "{text}");
            assert!(sentiment.score > 0.0, "{text}: {sentiment:?}");
        }
    }

    #[test]
    fn negation_stops_at_a_comma() {
        // "No, gracias, ..." must not flip what follows the comma.
        assert!(score("No, estoy muy contento.", "es").score > 0.15);
    }

    #[test]
    fn inflections_share_an_entry() {
        for word in ["molesto", "molesta", "molestos", "Molestas", "MOLESTÓ"] {
            let s = score(&format!("Estoy {word}."), "es");
            assert!(s.score < 0.0, "{word}: {s:?}");
        }
        for word in ["frustrated", "frustrating", "frustration"] {
            assert!(
                score(&format!("There is so much {word}."), "en").score < 0.0,
                "{word}"
            );
        }
    }

    #[test]
    fn intensifiers_and_diminishers_scale() {
        let plain = score("Estoy molesto.", "es").score;
        let strong = score("Estoy muy molesto.", "es").score;
        let weak = score("Estoy un poco molesto.", "es").score;
        assert!(
            strong < plain && plain < weak && weak < 0.0,
            "{strong} {plain} {weak}"
        );
        let plain_en = score("It was good.", "en").score;
        let strong_en = score("It was really good.", "en").score;
        let weak_en = score("It was slightly good.", "en").score;
        assert!(strong_en > plain_en && plain_en > weak_en && weak_en > 0.0);
    }

    #[test]
    fn exclamations_emphasise() {
        let calm = score("This is terrible.", "en").score;
        let loud = score("This is terrible!!!", "en").score;
        assert!(loud < calm, "{loud} {calm}");
    }

    #[test]
    fn phrases() {
        assert_eq!(label("Me parece fatal.", "es"), SentimentLabel::Negative);
        assert_eq!(
            label("El router no funciona.", "es"),
            SentimentLabel::Negative
        );
        assert_eq!(label("Muchas gracias.", "es"), SentimentLabel::Positive);
        assert_eq!(label("Thank you so much!", "en"), SentimentLabel::Positive);
        assert_eq!(label("It doesn't work.", "en"), SentimentLabel::Negative);
        assert_eq!(label("No hay problema.", "es"), SentimentLabel::Positive);
        // Greetings contain "good"/"buenos" but are not sentiment.
        assert_eq!(score("Good morning.", "en").score, 0.0);
        assert_eq!(score("Buenos días.", "es").score, 0.0);
    }

    #[test]
    fn contrast_favours_the_second_clause() {
        assert_eq!(
            label("It was slow, but they were great.", "en"),
            SentimentLabel::Positive
        );
        assert_eq!(
            label("Fueron amables pero el servicio es pésimo.", "es"),
            SentimentLabel::Negative
        );
    }

    #[test]
    fn common_neutral_call_words_score_zero() {
        let english = "Hello, I would like some help with my account, please. \
                       Can you help me check the invoice I got for this month? \
                       What kind of plan do I have? Okay, sure, right. The goods were delivered.";
        assert_eq!(score(english, "en").score, 0.0);
        let spanish = "Hola, me gustaría consultar mi cuenta, por favor. \
                       ¿Me puede decir cuándo se emite la factura? Vale, claro. \
                       Le paso con el departamento de facturación. Espere un momento.";
        assert_eq!(score(spanish, "es").score, 0.0);
    }

    #[test]
    fn other_languages_use_english_lexicon() {
        assert_eq!(label("terrible terrible", "nl"), SentimentLabel::Negative);
        assert_eq!(label("terrible", "es"), SentimentLabel::Negative);
    }

    #[test]
    fn empty_text_is_neutral_zero() {
        assert_eq!(
            score("", "es"),
            Sentiment {
                score: 0.0,
                label: SentimentLabel::Neutral
            }
        );
        assert_eq!(score(" ...\n", "en").score, 0.0);
    }

    #[test]
    fn score_is_bounded() {
        let rant = "TERRIBLE! ".repeat(500);
        let s = score(&rant, "en").score;
        assert!((-1.0..=-0.9).contains(&s), "{s}");
    }
}
