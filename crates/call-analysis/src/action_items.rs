//! Action items: sentences where someone commits to do something, asks for something to be
//! done, or sets a deadline. Spanish and English patterns are always both applied, since
//! calls mix languages and the patterns cannot collide.
//!
//! Questions count only when they are requests ("Could you send me the invoice?"), so
//! "Will it rain?" or "¿Qué vamos a hacer?" are not action items.

use crate::data::{WordList, embedded_word_list};
use std::collections::HashSet;
use std::sync::LazyLock;

use super::text::{fold, split_sentences, words};

pub const MAX_ACTION_ITEMS: usize = 10;

/// Patterns over folded words: words separated by spaces, alternatives by `|`.
static COMMITMENTS: WordList = embedded_word_list!("action_items/commitments.txt");

/// Requests, which may be phrased as questions.
static REQUESTS: WordList = embedded_word_list!("action_items/requests.txt");

/// English verbs that make "can/could/would you ..." a request rather than a question.
static REQUEST_VERBS_EN: WordList = embedded_word_list!("action_items/request_verbs_en.txt");
/// Spanish verb beginnings that make "¿puede/podría ...?" a request.
static REQUEST_VERB_PREFIXES_ES: WordList =
    embedded_word_list!("action_items/request_verb_prefixes_es.txt");
static SPANISH_MODALS: WordList = embedded_word_list!("action_items/spanish_modals.txt");
static SPANISH_CLITICS: WordList = embedded_word_list!("action_items/spanish_clitics.txt");

static DEADLINES: WordList = embedded_word_list!("action_items/deadlines.txt");

/// Words after "let me"/"let's" that make it filler ("let me see").
static LET_FILLERS: WordList = embedded_word_list!("action_items/let_fillers.txt");
static NEGATORS: WordList = embedded_word_list!("action_items/negators.txt");

/// Spanish irregular futures in the first person ("haré", "tendremos").
static IRREGULAR_FUTURES: WordList = embedded_word_list!("action_items/irregular_futures.txt");
/// Past tenses of -arar/-erar/-irar verbs look like futures ("esperé" vs "enviaré").
static FUTURE_LOOKALIKES: WordList = embedded_word_list!("action_items/future_lookalikes.txt");

fn matches_alternatives(pattern_word: &str, word: &str) -> bool {
    pattern_word.split('|').any(|alt| alt == word)
}

/// A pattern split once: its words, each a list of alternatives.
struct Pattern {
    text: &'static str,
    words: Vec<Vec<&'static str>>,
}

fn compile(list: &[&'static str]) -> Vec<Pattern> {
    list.iter()
        .map(|text| Pattern {
            text,
            words: text.split(' ').map(|w| w.split('|').collect()).collect(),
        })
        .collect()
}

static COMMITMENT_PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| compile(&COMMITMENTS));
static REQUEST_PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| compile(&REQUESTS));
static DEADLINE_PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| compile(&DEADLINES));

/// Start indices where `pattern` matches `tokens`.
fn pattern_positions<'a>(
    tokens: &'a [String],
    pattern: &'a Pattern,
) -> impl Iterator<Item = usize> + 'a {
    let length = pattern.words.len();
    let last_start = (length > 0 && length <= tokens.len()).then(|| tokens.len() - length);
    last_start
        .into_iter()
        .flat_map(|last| 0..=last)
        .filter(move |&start| {
            pattern
                .words
                .iter()
                .zip(&tokens[start..])
                .all(|(alternatives, token)| alternatives.contains(&token.as_str()))
        })
}

fn is_negated(tokens: &[String], start: usize, length: usize) -> bool {
    let before = start
        .checked_sub(1)
        .and_then(|i| tokens.get(i))
        .is_some_and(|t| NEGATORS.contains(&t.as_str()));
    let after = tokens
        .get(start + length)
        .is_some_and(|t| NEGATORS.contains(&t.as_str()));
    before || after
}

fn has_commitment(tokens: &[String]) -> bool {
    COMMITMENT_PATTERNS.iter().any(|pattern| {
        let length = pattern.words.len();
        pattern_positions(tokens, pattern).any(|start| {
            if is_negated(tokens, start, length) {
                return false;
            }
            let next = tokens.get(start + length).map(String::as_str);
            match pattern.text {
                "let me" | "let's" | "let us" => next.is_some_and(|n| !LET_FILLERS.contains(&n)),
                // "Vamos a ver" is "let's see".
                "vamos a" => next.is_some_and(|n| n != "ver"),
                "voy a" => next.is_some_and(|n| n != "ver" || tokens.get(start + 3).is_some()),
                _ => true,
            }
        })
    })
}

fn is_first_person_future(word: &str) -> bool {
    if IRREGULAR_FUTURES.contains(&word) {
        return true;
    }
    if FUTURE_LOOKALIKES.contains(&word) {
        return false;
    }
    let infinitive = word.strip_suffix('é').or_else(|| word.strip_suffix("emos"));
    infinitive.is_some_and(|inf| {
        inf.chars().count() >= 4
            && (inf.ends_with("ar") || inf.ends_with("er") || inf.ends_with("ir"))
    })
}

/// "Se le enviará la factura": an impersonal future promise.
fn has_impersonal_promise(tokens: &[String]) -> bool {
    tokens.windows(3).any(|w| {
        w[0] == "se"
            && matches_alternatives("le|les|lo|la|los|las", &w[1])
            && (w[2].ends_with("ra") || w[2].ends_with("ran"))
            && w[2].chars().count() >= 6
    })
}

fn has_future_commitment(lowercase: &[String], folded: &[String]) -> bool {
    lowercase.iter().enumerate().any(|(i, word)| {
        is_first_person_future(word)
            && !i
                .checked_sub(1)
                .and_then(|p| folded.get(p))
                .is_some_and(|t| NEGATORS.contains(&t.as_str()))
    })
}

fn has_request(tokens: &[String]) -> bool {
    if REQUEST_PATTERNS
        .iter()
        .any(|pattern| pattern_positions(tokens, pattern).next().is_some())
    {
        return true;
    }
    // "can/could/would you (please) send ..."
    let english = tokens.windows(2).enumerate().any(|(i, w)| {
        matches_alternatives("can|could|would", &w[0])
            && w[1] == "you"
            && tokens[i + 2..]
                .iter()
                .take(2)
                .any(|t| REQUEST_VERBS_EN.contains(&t.as_str()))
    });
    // "¿(me) puede enviar ...?", "¿podría mandarme ...?"
    let spanish = tokens.iter().enumerate().any(|(i, t)| {
        SPANISH_MODALS.contains(&t.as_str())
            && tokens[i + 1..]
                .iter()
                .skip_while(|n| SPANISH_CLITICS.contains(&n.as_str()))
                .take(1)
                .any(|verb| REQUEST_VERB_PREFIXES_ES.iter().any(|p| verb.starts_with(p)))
    });
    english || spanish
}

fn has_deadline(tokens: &[String]) -> bool {
    DEADLINE_PATTERNS
        .iter()
        .any(|pattern| pattern_positions(tokens, pattern).next().is_some())
}

fn is_question(sentence: &str) -> bool {
    let trimmed = sentence
        .trim()
        .trim_end_matches(['"', '\'', ')', '»', '”', '’']);
    trimmed.ends_with('?') || trimmed.starts_with('¿')
}

/// Whether a single sentence is an action item.
pub fn is_action_item(sentence: &str) -> bool {
    let sentence_words = words(sentence);
    let folded: Vec<String> = sentence_words.iter().map(|w| fold(w)).collect();
    if has_request(&folded) {
        return true;
    }
    if is_question(sentence) {
        return false;
    }
    let lowercase: Vec<String> = sentence_words.iter().map(|w| w.to_lowercase()).collect();
    has_commitment(&folded)
        || has_future_commitment(&lowercase, &folded)
        || has_impersonal_promise(&folded)
        || has_deadline(&folded)
}

/// Action-item sentences of `text`, trimmed, deduplicated, at most [`MAX_ACTION_ITEMS`].
pub fn extract(text: &str) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::new();
    split_sentences(text)
        .into_iter()
        .filter(|s| is_action_item(s))
        .filter(|s| seen.insert(fold(s)))
        .take(MAX_ACTION_ITEMS)
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spanish_commitments() {
        for sentence in [
            "Le enviaremos la factura mañana.",
            "Voy a revisar su caso ahora mismo.",
            "Vamos a tramitar la devolución.",
            "Le envío el contrato por correo.",
            "Te mando el enlace.",
            "Me comprometo a llamarle el lunes.",
            "Quedamos en que usted firma el documento.",
            "Hay que cambiar el router.",
            "Tenemos que revisar la instalación.",
            "Por favor, envíe la copia del DNI.",
            "Necesito que me mande el justificante.",
            "Le llamaré en cuanto lo tenga.",
            "Le devolveré la llamada esta tarde.",
            "Revisaré la factura y le digo algo.",
            "Se lo mando hoy.",
            "Se le enviará un técnico.",
            "Haré la gestión hoy mismo.",
        ] {
            assert!(is_action_item(sentence), "{sentence}");
        }
    }

    #[test]
    fn english_commitments() {
        for sentence in [
            "I'll send you the report by Friday.",
            "I will call you back.",
            "We will refund the charge.",
            "We'll look into it.",
            "Let me check your account.",
            "Please send me a copy of the bill.",
            "I need you to sign the form.",
            "I'll follow up with the billing team.",
            "I'm going to escalate this.",
            "We need to replace the modem.",
            "The payment must be made by tomorrow.",
        ] {
            assert!(is_action_item(sentence), "{sentence}");
        }
    }

    #[test]
    fn requests_may_be_questions() {
        assert!(is_action_item("Can you send me the invoice?"));
        assert!(is_action_item("Could you please email the contract?"));
        assert!(is_action_item("¿Me puede enviar la factura?"));
        assert!(is_action_item("¿Podría mandarme el justificante?"));
    }

    #[test]
    fn mere_questions_and_chatter_are_not_action_items() {
        for sentence in [
            "Will it rain?",
            "¿Qué vamos a hacer?",
            "¿Le enviarán la factura?",
            "Could you hear me?",
            "Let me see.",
            "Vamos a ver.",
            "Le llamo por la factura.",
            "Ayer esperé media hora al teléfono.",
            "Queremos saber el saldo.",
            "The invoice was wrong.",
            "No voy a pagar esto.",
            "I will not accept this.",
            "Gracias por llamar.",
            "Hola, buenos días.",
        ] {
            assert!(!is_action_item(sentence), "{sentence}");
        }
    }

    #[test]
    fn extract_trims_dedupes_and_caps() {
        let text =
            "Hola.\n  Le enviaremos la factura mañana.  \nLe enviaremos la factura mañana.\n¿Y?";
        assert_eq!(extract(text), vec!["Le enviaremos la factura mañana."]);

        let many: String = (0..20)
            .map(|i| format!("I'll send document {i}.\n"))
            .collect();
        assert_eq!(extract(&many).len(), MAX_ACTION_ITEMS);
    }

    #[test]
    fn nothing_in_empty_text() {
        assert!(extract("").is_empty());
        assert!(extract("...").is_empty());
    }
}
