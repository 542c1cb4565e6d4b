//! One cue's text as tokens, with spoken numbers read as digits.
//!
//! Each item keeps its byte range in the cue, so a number said as "cuarenta y cinco" is one
//! item "45" covering those three words, and the replacement covers exactly what was said.

mod neighbours;

use super::RedactKind;
use super::words::{
    FILLER_PHRASES, IDIOM_AFTER_MULTIPLIER, MULTIPLIERS, NEIGHBOUR_DIGITS, NOT_NUMBERS,
    NUMBER_CONNECTORS, NUMBER_PHRASES, NUMBER_WORDS, REPEATERS, THOUSAND_PREFIXES,
};
use crate::text::fold;
use neighbours::{join_thousands, read_oh_as_zero};

pub(super) use neighbours::read_neighbour_digits;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum ItemKind {
    /// Digits, as written or read from spoken words.
    Number {
        digits: String,
        spoken: bool,
    },
    /// A word, folded; `upper` when written all in capitals ("ES", "Z").
    Word {
        folded: String,
        upper: bool,
    },
    Punct(char),
    /// A `[CARD]`-style placeholder left by an earlier redaction.
    Placeholder,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Item {
    pub cue: usize,
    /// Byte range in the cue's text.
    pub start: usize,
    pub end: usize,
    /// Whitespace between the previous item of the cue and this one.
    pub space_before: bool,
    pub kind: ItemKind,
}

impl Item {
    pub fn word(&self) -> Option<&str> {
        match &self.kind {
            ItemKind::Word { folded, .. } => Some(folded),
            _ => None,
        }
    }

    pub fn digits(&self) -> Option<&str> {
        match &self.kind {
            ItemKind::Number { digits, .. } => Some(digits),
            _ => None,
        }
    }

    pub fn is_punct(&self, c: char) -> bool {
        self.kind == ItemKind::Punct(c)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TokenClass {
    Word,
    Digits,
    Punct(char),
    Placeholder,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    start: usize,
    end: usize,
    space_before: bool,
    class: TokenClass,
}

/// `[CARD]`, `[NATIONAL_ID]`… at `rest`'s start: its length in bytes.
fn placeholder_len(rest: &str) -> Option<usize> {
    RedactKind::ALL
        .iter()
        .map(|kind| kind.placeholder())
        .find(|placeholder| rest.starts_with(placeholder.as_str()))
        .map(|placeholder| placeholder.len())
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut space_before = false;
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_whitespace() {
            space_before = true;
            continue;
        }
        let (end, class) = if c == '[' {
            match placeholder_len(&text[start..]) {
                Some(len) => {
                    while chars.peek().is_some_and(|&(i, _)| i < start + len) {
                        chars.next();
                    }
                    (start + len, TokenClass::Placeholder)
                }
                None => (start + 1, TokenClass::Punct(c)),
            }
        } else if c.is_ascii_digit() {
            let mut end = start + 1;
            while let Some(&(i, d)) = chars.peek().filter(|(_, d)| d.is_ascii_digit()) {
                end = i + d.len_utf8();
                chars.next();
            }
            (end, TokenClass::Digits)
        } else if c.is_alphabetic() {
            let mut end = start + c.len_utf8();
            while let Some(&(i, d)) = chars.peek() {
                // "I'll", "don't", "jusqu’au": an apostrophe between letters stays in the word
                // (`fold` makes the typographic ones plain).
                let joins = matches!(d, '\'' | '’' | '‘')
                    && text[i + d.len_utf8()..].starts_with(char::is_alphabetic);
                if !(d.is_alphabetic() || joins) {
                    break;
                }
                end = i + d.len_utf8();
                chars.next();
            }
            (end, TokenClass::Word)
        } else {
            (start + c.len_utf8(), TokenClass::Punct(c))
        };
        tokens.push(Token {
            start,
            end,
            space_before,
            class,
        });
        space_before = false;
    }
    tokens
}

/// Reads spoken numbers over the tokens of one cue.
struct SpokenNumbers {
    /// Each token's folded text when it is a word (folded once: lookups are many).
    folded: Vec<Option<String>>,
    tokens: Vec<Token>,
}

impl SpokenNumbers {
    fn new(text: &str) -> Self {
        let tokens = tokenize(text);
        let folded = tokens
            .iter()
            .map(|t| (t.class == TokenClass::Word).then(|| fold(&text[t.start..t.end])))
            .collect();
        Self { folded, tokens }
    }

    fn folded(&self, i: usize) -> Option<&str> {
        self.folded.get(i)?.as_deref()
    }

    fn value(&self, i: usize) -> Option<u32> {
        NUMBER_WORDS.get(self.folded(i)?).copied()
    }

    fn is_connector(&self, i: usize) -> bool {
        self.folded(i)
            .is_some_and(|w| NUMBER_CONNECTORS.contains(w))
    }

    fn multiplier(&self, i: usize) -> Option<u32> {
        MULTIPLIERS.get(self.folded(i)?).copied()
    }

    /// The multiplier at `i` is followed by a word that makes it an idiom ("mil gracias").
    fn idiom_at(&self, i: usize) -> bool {
        self.folded(i + 1)
            .is_some_and(|w| IDIOM_AFTER_MULTIPLIER.contains(w))
    }

    /// The phrase of several words at `i` ("quatre-vingt-dix-neuf", "dix sept"), the words
    /// apart by spaces or one hyphen: its value and the token after it.
    fn phrase(&self, i: usize) -> Option<(u32, usize)> {
        let phrases = NUMBER_PHRASES.get(self.folded(i)?)?;
        phrases.iter().find_map(|(words, value)| {
            let mut j = i;
            for (k, word) in words.iter().enumerate() {
                if k > 0 {
                    j += 1;
                    if self
                        .tokens
                        .get(j)
                        .is_some_and(|t| t.class == TokenClass::Punct('-') && !t.space_before)
                    {
                        j += 1;
                    }
                }
                if self.folded(j) != Some(word.as_str()) {
                    return None;
                }
            }
            Some((*value, j + 1))
        })
    }

    /// 0..=99: "siete", "diecisiete", "cuarenta y cinco", "forty-five", "forty five",
    /// "soixante-dix-sept", "trinta e um".
    fn below_100(&self, i: usize) -> Option<(u32, usize)> {
        if let Some(read) = self.phrase(i) {
            return Some(read);
        }
        let value = self.value(i).filter(|&v| v < 100)?;
        if value < 20 || value % 10 != 0 {
            return Some((value, i + 1));
        }
        let mut j = i + 1;
        if self.is_connector(j)
            || self
                .tokens
                .get(j)
                .is_some_and(|t| t.class == TokenClass::Punct('-'))
        {
            j += 1;
        }
        // After a tens an article is the unit it also is ("trinta e um", "vingt et un").
        let unit = self
            .value(j)
            .or_else(|| NEIGHBOUR_DIGITS.get(self.folded(j)?).copied());
        match unit.filter(|u| (1..10).contains(u)) {
            Some(unit) => Some((value + unit, j + 1)),
            None => Some((value, i + 1)),
        }
    }

    /// 0..=999: "ciento veinte", "doscientos cinco", "four hundred and five".
    fn below_1000(&self, i: usize) -> Option<(u32, usize)> {
        let (hundreds, next) = match self.value(i) {
            Some(h) if h >= 100 => (h, i + 1),
            Some(u) if (1..10).contains(&u) && self.multiplier(i + 1) == Some(100) => {
                (u * 100, i + 2)
            }
            _ => return self.below_100(i),
        };
        let rest_at = if self.is_connector(next) {
            next + 1
        } else {
            next
        };
        match self.below_100(rest_at).filter(|&(v, _)| v > 0) {
            Some((rest, end)) => Some((hundreds + rest, end)),
            None => Some((hundreds, next)),
        }
    }

    /// Below a million: "dos mil veintiocho", "trescientos cuarenta y cinco mil seiscientos".
    fn below_million(&self, i: usize) -> Option<(u32, usize)> {
        self.scaled(i, 1000, Self::below_1000)
    }

    /// Below a thousand million: "doce millones trescientos cuarenta y cinco mil…" (a DNI
    /// said as one number).
    fn below_1000_million(&self, i: usize) -> Option<(u32, usize)> {
        self.scaled(i, 1_000_000, Self::below_million)
    }

    /// A number `below` reads at `i`, or one below a thousand times `scale` ("cinco mil",
    /// "doce millones"; "mil" alone is a thousand) and what `below` reads after it.
    fn scaled(
        &self,
        i: usize,
        scale: u32,
        below: fn(&Self, usize) -> Option<(u32, usize)>,
    ) -> Option<(u32, usize)> {
        let (value, next) = match below(self, i) {
            Some(read) => read,
            // "Mil gracias" alone is thanks: read as 1000 it joins a code said before it.
            None if self.multiplier(i) == Some(scale) && !self.idiom_at(i) => (1, i),
            None => return None,
        };
        // "Ciento veintitrés mil gracias": a code, then thanks (no code has six digits); but
        // "cuatro mil gracias" may be a four-digit code, so it stays 4000.
        if self.multiplier(next) != Some(scale)
            || value >= 1000
            || (value >= 100 && self.idiom_at(next))
        {
            return Some((value, next));
        }
        let next = next + 1;
        let rest_at = if self.is_connector(next) {
            next + 1
        } else {
            next
        };
        match below(self, rest_at).filter(|&(v, _)| v > 0) {
            Some((rest, end)) => Some((value * scale + rest, end)),
            None => Some((value * scale, next)),
        }
    }

    /// A year said as one word ("duemilaventotto": 2028, "zweitausendachtundzwanzig"), or
    /// its thousands alone and what follows it ("duemila ventotto"): its value and the token
    /// after it.
    fn one_word_thousands(&self, i: usize) -> Option<(u32, usize)> {
        let word = self.folded(i)?;
        THOUSAND_PREFIXES.iter().find_map(|(prefix, &value)| {
            let rest = word.strip_prefix(prefix.as_str())?;
            if rest.is_empty() {
                return match self.below_1000(i + 1).filter(|&(v, _)| v > 0) {
                    Some((rest, end)) => Some((value + rest, end)),
                    None => Some((value, i + 1)),
                };
            }
            let rest = NUMBER_WORDS.get(rest).filter(|&&v| (1..100).contains(&v))?;
            Some((value + rest, i + 1))
        })
    }

    /// The number word at `i` is an ordinary word after the words before it ("au dos").
    fn not_number_at(&self, i: usize) -> bool {
        NOT_NUMBERS.iter().any(|phrase| {
            let Some(start) = (i + 1).checked_sub(phrase.len()) else {
                return false;
            };
            phrase
                .iter()
                .enumerate()
                .all(|(k, word)| self.folded(start + k) == Some(word.as_str()))
        })
    }

    /// A filler of several words starting at token `i` ("o sea", "you know"): its words
    /// joined by one space and the token after it.
    fn filler_phrase(&self, i: usize) -> Option<(String, usize)> {
        FILLER_PHRASES.iter().find_map(|phrase| {
            phrase
                .iter()
                .enumerate()
                .all(|(k, word)| self.folded(i + k) == Some(word.as_str()))
                .then(|| (phrase.join(" "), i + phrase.len()))
        })
    }

    /// A whole spoken number starting at token `i`: its digits and the token after it.
    fn read(&self, i: usize) -> Option<(String, usize)> {
        if self.not_number_at(i) {
            return None;
        }
        if let Some(times) = self.folded(i).and_then(|w| REPEATERS.get(w).copied()) {
            let (digit, end) = self
                .below_100(i + 1)
                .filter(|&(v, _)| v < 10)
                .map(|(v, end)| (v.to_string(), end))
                .or_else(|| (self.folded(i + 1)? == "oh").then(|| ("0".to_string(), i + 2)))?;
            return Some((digit.repeat(times as usize), end));
        }
        if let Some((value, next)) = self.one_word_thousands(i) {
            return Some((value.to_string(), next));
        }
        // Most words are no number: two lookups say so before the grammar's several.
        if self.value(i).is_none() && self.multiplier(i).is_none() {
            return None;
        }
        let (value, next) = self.below_1000_million(i)?;
        Some((value.to_string(), next))
    }
}

/// The items of one cue's text.
pub(super) fn items(cue: usize, text: &str) -> Vec<Item> {
    let spoken = SpokenNumbers::new(text);
    let tokens = &spoken.tokens;
    let mut items = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i];
        let (kind, next) = match token.class {
            TokenClass::Digits => (
                ItemKind::Number {
                    digits: text[token.start..token.end].to_string(),
                    spoken: false,
                },
                i + 1,
            ),
            TokenClass::Word => match spoken.read(i) {
                Some((digits, next)) => (
                    ItemKind::Number {
                        digits,
                        spoken: true,
                    },
                    next,
                ),
                // "o sea", "you know": one filler item, as one word is.
                None => match spoken.filler_phrase(i) {
                    Some((folded, next)) => (
                        ItemKind::Word {
                            folded,
                            upper: false,
                        },
                        next,
                    ),
                    None => {
                        let upper = text[token.start..token.end].chars().all(char::is_uppercase);
                        let folded = spoken.folded(i).unwrap_or_default().to_string();
                        (ItemKind::Word { folded, upper }, i + 1)
                    }
                },
            },
            TokenClass::Punct(c) => (ItemKind::Punct(c), i + 1),
            TokenClass::Placeholder => (ItemKind::Placeholder, i + 1),
        };
        items.push(Item {
            cue,
            start: token.start,
            end: tokens[next - 1].end,
            space_before: token.space_before,
            kind,
        });
        i = next;
    }
    read_oh_as_zero(&mut items);
    let order: Vec<usize> = (0..items.len()).collect();
    read_neighbour_digits(&mut items, &order);
    join_thousands(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each number found in `text`: its digits and the words it was read from.
    fn numbers(text: &str) -> Vec<(String, &str)> {
        items(0, text)
            .into_iter()
            .filter_map(|item| {
                let digits = item.digits()?.to_string();
                Some((digits, &text[item.start..item.end]))
            })
            .collect()
    }

    #[test]
    fn reads_spoken_numbers_with_their_spans() {
        let cases: [(&str, &[(&str, &str)]); 9] = [
            (
                "cuarenta y cinco, doble cinco",
                &[("45", "cuarenta y cinco"), ("55", "doble cinco")],
            ),
            (
                "triple seven oh four forty-two",
                &[
                    ("777", "triple seven"),
                    ("0", "oh"),
                    ("4", "four"),
                    ("42", "forty-two"),
                ],
            ),
            (
                "ciento veinte, dos mil veintiocho",
                &[("120", "ciento veinte"), ("2028", "dos mil veintiocho")],
            ),
            (
                "four hundred and five, twenty twenty eight",
                &[
                    ("405", "four hundred and five"),
                    ("20", "twenty"),
                    ("28", "twenty eight"),
                ],
            ),
            ("oh, I see 4556-7375", &[("4556", "4556"), ("7375", "7375")]),
            (
                "12.345.678 y 1.250,75 o 1,249.99, 12.03.2024, 4556.7375",
                &[
                    ("12345678", "12.345.678"),
                    ("1250", "1.250"),
                    ("75", "75"),
                    ("1249", "1,249"),
                    ("99", "99"),
                    ("12", "12"),
                    ("03", "03"),
                    ("2024", "2024"),
                    ("4556", "4556"),
                    ("7375", "7375"),
                ],
            ),
            (
                "doce millones trescientos cuarenta y cinco mil seiscientos setenta y ocho zeta",
                &[(
                    "12345678",
                    "doce millones trescientos cuarenta y cinco mil seiscientos setenta y ocho",
                )],
            ),
            (
                "twelve million three hundred forty five thousand six hundred seventy eight",
                &[(
                    "12345678",
                    "twelve million three hundred forty five thousand six hundred seventy eight",
                )],
            ),
            (
                "un millón de euros, novecientos mil, mil millones",
                &[
                    ("1000000", "millón"),
                    ("900000", "novecientos mil"),
                    ("1000", "mil"),
                    ("1000000", "millones"),
                ],
            ),
        ];
        for (text, expected) in cases {
            let expected: Vec<(String, &str)> = expected
                .iter()
                .map(|&(digits, words)| (digits.to_string(), words))
                .collect();
            assert_eq!(numbers(text), expected, "{text}");
        }
    }

    #[test]
    fn reads_phrases_compounds_and_articles_beside_digits() {
        let expected: Vec<(String, &str)> = [
            ("99", "quatre-vingt-dix-neuf"),
            ("71", "soixante et onze"),
            ("45", "fünfundvierzig"),
            ("31", "trinta e um"),
            ("48", "quarantotto"),
            ("0", "zéro"),
            ("1", "un"),
            ("3", "trois"),
            ("1", "un"),
        ]
        .iter()
        .map(|&(digits, words)| (digits.to_string(), words))
        .collect();
        let text = "quatre-vingt-dix-neuf, soixante et onze, fünfundvierzig, trinta e um, \
                    quarantotto, un homme, zéro un, trois un";
        assert_eq!(numbers(text), expected);
    }

    #[test]
    fn placeholders_are_one_item() {
        let items = items(0, "es [CARD], vale [X]");
        assert_eq!(items[1].kind, ItemKind::Placeholder);
        assert_eq!(items[4].kind, ItemKind::Punct('['));
    }
}
