//! Action items: sentences where someone commits to do something, asks for something to be
//! done, or sets a deadline. Spanish and English patterns are always both applied, since
//! calls mix languages and the patterns cannot collide.
//!
//! Questions count only when they are requests ("Could you send me the invoice?"), so
//! "Will it rain?" or "¿Qué vamos a hacer?" are not action items.

use std::collections::HashSet;

use super::text::{fold, split_sentences, words};

pub const MAX_ACTION_ITEMS: usize = 10;

/// Patterns over folded words: words separated by spaces, alternatives by `|`.
const COMMITMENTS: &[&str] = &[
    // English
    "i|we will",
    "i'll|we'll",
    "i|we shall",
    "let me",
    "let's",
    "let us",
    "i'm|we're going to",
    "i am going to",
    "we are going to",
    "we need to",
    "you need to",
    "follow up",
    "i|we promise",
    // Spanish
    "voy a",
    "vamos a",
    "le|te|les|os envio|mando|enviamos|mandamos|reenvio|reenviamos|aviso|avisamos|escribo",
    "se lo|la|los|las envio|mando|enviamos|mandamos|enviaremos|mandaremos",
    "me comprometo",
    "nos comprometemos",
    "quedamos en",
    "hay que",
    "tenemos que",
    "tengo que",
    "tiene que",
    "tienen que",
    "me encargo",
    "nos encargamos",
    "queda pendiente",
    "le|te devuelvo la llamada",
];

/// Requests, which may be phrased as questions.
const REQUESTS: &[&str] = &[
    "please send|email|mail|call|check|confirm|forward|review|sign|pay|update|submit|provide|share|schedule|resend|fill|complete|upload|reply|contact|let|give|tell|fix|cancel|process|arrange|book|text|remember|make",
    "i need you to",
    "i'd like you to",
    "make sure you",
    "necesito que",
    "necesitamos que",
    "le|te pido que",
    "por favor envie|envieme|envia|enviame|mande|mandeme|manda|mandame|revise|revisa|llame|llameme|llama|llamame|confirme|confirma|reenvie|reenvia|adjunte|firme|pague|actualice|complete|rellene|compruebe|verifique|contacte|devuelva",
];

/// English verbs that make "can/could/would you ..." a request rather than a question.
const REQUEST_VERBS_EN: &[&str] = &[
    "send", "email", "mail", "call", "check", "confirm", "forward", "review", "sign", "pay",
    "update", "submit", "provide", "share", "schedule", "resend", "fill", "complete", "upload",
    "reply", "contact", "give", "fix", "cancel", "process", "arrange", "book", "text", "look",
    "escalate", "refund", "remove", "change", "reset",
];
/// Spanish verb beginnings that make "¿puede/podría ...?" a request.
const REQUEST_VERB_PREFIXES_ES: &[&str] = &[
    "envi", "mand", "reenvi", "revis", "confirm", "llam", "devolv", "adjunt", "cancel", "anul",
    "tramit", "actualiz", "cambi", "comprob", "verific", "pas",
];
const SPANISH_MODALS: &[&str] = &[
    "puede", "podria", "puedes", "podrias", "pueden", "podrian", "podeis", "podriais",
];
const SPANISH_CLITICS: &[&str] = &["me", "nos", "le", "les", "lo", "la", "te", "se"];

const DEADLINES: &[&str] = &[
    "by tomorrow|today|tonight|noon|eod|monday|tuesday|wednesday|thursday|friday|saturday|sunday|next",
    "by the end of",
    "by end of",
    "no later than",
    "before monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow",
    "antes del lunes|martes|miercoles|jueves|viernes|sabado|domingo|mediodia",
    "antes de mañana|manana",
    "para mañana|manana",
    "para el lunes|martes|miercoles|jueves|viernes|sabado|domingo",
    "mañana|manana mismo",
    "mañana|manana a primera hora",
    "en 24|48|72 horas",
    "esta misma semana",
    "como muy tarde",
];

/// Words after "let me"/"let's" that make it filler ("let me see").
const LET_FILLERS: &[&str] = &[
    "see",
    "think",
    "guess",
    "be",
    "tell",
    "understand",
    "get",
    "repeat",
    "explain",
    "ask",
];
const NEGATORS: &[&str] = &["no", "nunca", "jamas", "not", "never"];

/// Spanish irregular futures in the first person ("haré", "tendremos").
const IRREGULAR_FUTURES: &[&str] = &[
    "haré",
    "haremos",
    "diré",
    "diremos",
    "tendré",
    "tendremos",
    "podré",
    "podremos",
    "pondré",
    "pondremos",
    "saldré",
    "saldremos",
    "vendré",
    "vendremos",
    "sabré",
    "sabremos",
    "querré",
    "querremos",
    "habré",
    "habremos",
    "iré",
    "iremos",
];
/// Past tenses of -arar/-erar/-irar verbs look like futures ("esperé" vs "enviaré").
const FUTURE_LOOKALIKES: &[&str] = &[
    "esperé",
    "miré",
    "preparé",
    "declaré",
    "separé",
    "consideré",
    "operé",
    "retiré",
    "tiré",
    "giré",
    "paré",
    "reparé",
    "comparé",
    "aclaré",
    "admiré",
    "inspiré",
    "suspiré",
    "enteré",
    "alteré",
    "superé",
    "generé",
    "recuperé",
    "exageré",
    "liberé",
    "numeré",
    "disparé",
    "toleré",
    "aceleré",
    "cooperé",
    "amparé",
    "queremos",
    "esperemos",
];

fn matches_alternatives(pattern_word: &str, word: &str) -> bool {
    pattern_word.split('|').any(|alt| alt == word)
}

/// Start indices where `pattern` matches `tokens`.
fn pattern_positions(tokens: &[String], pattern: &str) -> Vec<usize> {
    let parts: Vec<&str> = pattern.split(' ').collect();
    if parts.is_empty() || parts.len() > tokens.len() {
        return Vec::new();
    }
    (0..=tokens.len() - parts.len())
        .filter(|&start| {
            parts
                .iter()
                .zip(&tokens[start..])
                .all(|(part, token)| matches_alternatives(part, token))
        })
        .collect()
}

fn is_negated(tokens: &[String], start: usize, pattern: &str) -> bool {
    let before = start
        .checked_sub(1)
        .and_then(|i| tokens.get(i))
        .is_some_and(|t| NEGATORS.contains(&t.as_str()));
    let length = pattern.split(' ').count();
    let after = tokens
        .get(start + length)
        .is_some_and(|t| NEGATORS.contains(&t.as_str()));
    before || after
}

fn has_commitment(tokens: &[String]) -> bool {
    COMMITMENTS.iter().any(|pattern| {
        pattern_positions(tokens, pattern).into_iter().any(|start| {
            if is_negated(tokens, start, pattern) {
                return false;
            }
            let length = pattern.split(' ').count();
            let next = tokens.get(start + length).map(String::as_str);
            match *pattern {
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
    if REQUESTS
        .iter()
        .any(|pattern| !pattern_positions(tokens, pattern).is_empty())
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
    DEADLINES
        .iter()
        .any(|pattern| !pattern_positions(tokens, pattern).is_empty())
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
