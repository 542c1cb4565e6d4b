//! Lexicon-based sentiment for Spanish and English calls.
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

/// Scores at or above this are positive.
pub const POSITIVE_THRESHOLD: f64 = 0.15;
/// Scores at or below this are negative.
pub const NEGATIVE_THRESHOLD: f64 = -0.15;

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

/// Spanish words matched by stem (all their inflections).
const ES_STEMMED: &[(&str, f64)] = &[
    // positive
    ("excelente", 3.0),
    ("genial", 2.5),
    ("estupendo", 2.5),
    ("fantástico", 3.0),
    ("maravilloso", 3.0),
    ("maravilla", 2.5),
    ("magnífico", 3.0),
    ("fenomenal", 2.5),
    ("buenísimo", 2.5),
    ("increíble", 2.0),
    ("encantado", 2.0),
    ("encantador", 2.0),
    ("contento", 2.0),
    ("feliz", 2.5),
    ("felices", 2.5),
    ("felicitar", 2.0),
    ("enhorabuena", 2.5),
    ("satisfecho", 2.0),
    ("satisfacción", 2.0),
    ("alegre", 2.0),
    ("agradecido", 2.5),
    ("agradezco", 2.0),
    ("agradecimiento", 2.0),
    ("amable", 2.0),
    ("amabilidad", 2.0),
    ("simpático", 1.5),
    ("atento", 1.5),
    ("eficiente", 2.0),
    ("eficaz", 2.0),
    ("eficacia", 2.0),
    ("útil", 1.5),
    ("fácil", 1.0),
    ("tranquilo", 1.0),
    ("tranquilidad", 1.0),
    ("confianza", 1.5),
    ("recomendar", 1.5),
    ("profesional", 1.5),
    ("profesionalidad", 2.0),
    ("agradable", 2.0),
    ("placer", 2.0),
    ("impecable", 2.5),
    ("fabuloso", 2.5),
    ("brillante", 2.5),
    ("ideal", 1.5),
    ("éxito", 2.0),
    ("exitoso", 2.0),
    ("cómodo", 1.0),
    ("puntual", 1.0),
    ("aliviado", 1.5),
    ("alivio", 1.5),
    ("paciencia", 1.0),
    ("comprensión", 1.0),
    ("gustar", 1.5),
    ("perfecto", 1.0),
    ("bueno", 1.2),
    ("mejor", 0.8),
    ("resuelto", 1.5),
    ("favorable", 1.5),
    ("espectacular", 2.5),
    ("estupendamente", 2.5),
    ("agradecer", 2.0),
    ("cordial", 1.5),
    ("eficientemente", 2.0),
    ("encantar", 2.0),
    // negative
    ("malo", -2.0),
    ("pésimo", -3.0),
    ("terrible", -3.0),
    ("horrible", -3.0),
    ("fatal", -2.5),
    ("desastre", -3.0),
    ("desastroso", -3.0),
    ("vergüenza", -2.5),
    ("vergonzoso", -2.5),
    ("inaceptable", -3.0),
    ("inadmisible", -3.0),
    ("intolerable", -3.0),
    ("indignado", -3.0),
    ("indignación", -3.0),
    ("enfadado", -2.5),
    ("enojado", -2.5),
    ("enojo", -2.5),
    ("furioso", -3.0),
    ("molesto", -2.0),
    ("molestia", -1.5),
    ("harto", -2.5),
    ("cansado", -1.5),
    ("frustrado", -2.5),
    ("frustrante", -2.5),
    ("frustración", -2.5),
    ("decepcionado", -2.5),
    ("decepción", -2.5),
    ("decepcionante", -2.5),
    ("queja", -1.5),
    ("reclamación", -1.5),
    ("denuncia", -2.0),
    ("problema", -1.0),
    ("problemático", -2.0),
    ("error", -1.5),
    ("equivocado", -1.5),
    ("equivocación", -1.5),
    ("incorrecto", -1.5),
    ("fallo", -1.5),
    ("avería", -1.5),
    ("averiado", -1.5),
    ("roto", -1.5),
    ("estropeado", -1.5),
    ("lentitud", -1.5),
    ("retraso", -1.5),
    ("abusivo", -2.5),
    ("abuso", -2.5),
    ("estafa", -3.0),
    ("estafador", -3.0),
    ("fraude", -3.0),
    ("timo", -3.0),
    ("robo", -3.0),
    ("ladrón", -3.0),
    ("engaño", -2.5),
    ("engañado", -2.5),
    ("mentira", -2.5),
    ("mentiroso", -3.0),
    ("incompetente", -3.0),
    ("incompetencia", -3.0),
    ("inútil", -2.5),
    ("ridículo", -2.0),
    ("absurdo", -2.0),
    ("cancelar", -0.5),
    ("triste", -2.0),
    ("tristeza", -2.0),
    ("preocupado", -1.5),
    ("preocupación", -1.5),
    ("miedo", -1.5),
    ("grave", -1.5),
    ("peor", -2.0),
    ("empeorar", -2.0),
    ("odio", -3.0),
    ("detestar", -3.0),
    ("asco", -3.0),
    ("asqueroso", -3.0),
    ("lamentable", -2.5),
    ("perjuicio", -2.0),
    ("daño", -2.0),
    ("desesperado", -2.5),
    ("desesperante", -2.5),
    ("insoportable", -3.0),
    ("imposible", -1.5),
    ("pesadilla", -3.0),
    ("caos", -2.5),
    ("injusto", -2.5),
    ("injusticia", -2.5),
    ("gritar", -2.0),
    ("irresponsable", -2.5),
    ("negligencia", -3.0),
    ("incumplimiento", -2.0),
    ("burla", -2.5),
    ("desagradable", -2.5),
    ("maleducado", -2.5),
    ("grosero", -2.5),
    ("impresentable", -3.0),
    ("penoso", -2.5),
    ("chapuza", -2.5),
    ("basura", -3.0),
    ("mierda", -3.0),
    ("maldito", -2.5),
    ("disgusto", -2.0),
    ("abandonado", -2.0),
    ("indignante", -3.0),
    ("enfado", -2.5),
    ("exasperado", -2.5),
    ("nefasto", -3.0),
    ("deplorable", -3.0),
    ("desesperación", -2.5),
    ("incómodo", -1.0),
    ("insatisfecho", -2.5),
    ("descontento", -2.5),
    ("desilusión", -2.0),
    ("sorpresa", 0.0),
];

/// Spanish exact (folded) forms: fillers with a small weight, and words whose stem collides.
/// Routine courtesy ("gracias", "perfecto") is weighted low so polite calls stay neutral.
const ES_EXACT: &[(&str, f64)] = &[
    ("mal", -1.5),
    ("gracias", 0.3),
    ("bien", 0.6),
    ("bueno", 0.3),
    ("buenas", 0.2),
    ("buen", 1.0),
    ("perfecto", 0.4),
    ("gustaria", 0.0),
    ("gustarian", 0.0),
    ("gusto", 0.8),
    ("rapido", 1.0),
    ("rapida", 1.0),
    ("rapidos", 1.0),
    ("rapidas", 1.0),
    ("rapidez", 1.5),
    ("rapidamente", 1.0),
    ("caro", -1.0),
    ("caros", -1.0),
    ("carisimo", -2.0),
    ("carisima", -2.0),
    ("lento", -1.5),
    ("lenta", -1.5),
    ("lentos", -1.5),
    ("lentas", -1.5),
    ("solucionado", 1.5),
    ("solucionada", 1.5),
    ("solucionados", 1.5),
    ("solucionadas", 1.5),
    ("arreglado", 1.5),
    ("arreglada", 1.5),
    ("arreglados", 1.5),
    ("arregladas", 1.5),
    ("disculpe", 0.0),
    ("disculpa", 0.0),
    ("disculpas", -0.3),
    ("perdon", 0.0),
    ("claro", 0.0),
    ("vale", 0.0),
    ("venga", 0.0),
    ("ok", 0.0),
    ("okay", 0.0),
    ("cara", 0.0),
];

/// Spanish multi-word expressions (folded), matched before single words.
const ES_PHRASES: &[(&str, f64)] = &[
    ("muchas gracias", 0.8),
    ("muchisimas gracias", 2.0),
    ("mil gracias", 2.0),
    ("gracias a usted", 0.8),
    ("gracias a ti", 0.8),
    ("de acuerdo", 0.2),
    ("de nada", 0.0),
    ("buenos dias", 0.0),
    ("buenas tardes", 0.0),
    ("buenas noches", 0.0),
    ("buen dia", 0.0),
    ("que tenga un buen dia", 0.3),
    ("que tenga buen dia", 0.3),
    ("que tenga una buena tarde", 0.3),
    ("no funciona", -2.0),
    ("no funcionan", -2.0),
    ("no me funciona", -2.0),
    ("no ha funcionado", -2.0),
    ("sigue sin funcionar", -2.5),
    ("no sirve", -2.0),
    ("no sirve para nada", -3.0),
    ("me parece fatal", -3.0),
    ("me parecio fatal", -3.0),
    ("me parece muy mal", -2.5),
    ("me parece mal", -2.0),
    ("me parece bien", 1.0),
    ("me parece genial", 2.5),
    ("me parece perfecto", 1.5),
    ("ya esta bien", -1.5),
    ("no puede ser", -1.5),
    ("no hay derecho", -2.5),
    ("hasta las narices", -3.0),
    ("tomadura de pelo", -3.0),
    ("no hay problema", 0.8),
    ("sin problema", 0.8),
    ("sin problemas", 0.8),
    ("ningun problema", 0.8),
    ("no pasa nada", 0.5),
    ("no se preocupe", 0.5),
    ("no te preocupes", 0.5),
    ("lo siento", -0.5),
    ("lo siento mucho", -0.8),
    ("lo lamento", -0.8),
    ("lamento las molestias", -0.8),
    ("disculpe las molestias", -0.5),
    ("perdone las molestias", -0.5),
    ("vale la pena", 1.5),
    ("que pena", -1.5),
    ("sin embargo", 0.0),
    ("por favor", 0.0),
    ("muy amable", 2.0),
    ("muy bien", 0.5),
    ("esta bien", 0.4),
    ("todo bien", 1.0),
    ("todo perfecto", 1.5),
    ("me ha ayudado mucho", 2.5),
    ("me ha ayudado", 1.5),
    ("me ha sido de gran ayuda", 2.5),
    ("de maravilla", 2.5),
    ("ni caso", -2.0),
    ("cobrado de mas", -2.0),
    ("cobrado dos veces", -1.5),
    ("sin resolver", -1.5),
    ("sin respuesta", -1.5),
    ("nadie me ayuda", -2.0),
    ("nadie me ha ayudado", -2.0),
    ("a ver", 0.0),
    ("mucho gusto", 0.5),
    ("un placer", 1.5),
    ("no es normal", -2.0),
    ("es una verguenza", -3.0),
];

const ES_NEGATORS: &[&str] = &["no", "nunca", "jamas", "sin", "ni", "tampoco"];
const ES_INTENSIFIERS: &[&str] = &[
    "muy",
    "tan",
    "super",
    "bastante",
    "demasiado",
    "realmente",
    "totalmente",
    "completamente",
    "absolutamente",
    "sumamente",
    "increiblemente",
    "extremadamente",
    "tremendamente",
    "muchisimo",
    "enormemente",
];
const ES_DIMINISHERS: &[&str] = &["poco", "algo", "ligeramente", "apenas"];
const ES_DIMINISHER_PHRASES: &[&str] = &["un poco", "un poquito", "un poquillo"];
const ES_CONTRASTS: &[&str] = &["pero", "sino"];

/// English words matched by stem.
const EN_STEMMED: &[(&str, f64)] = &[
    // positive
    ("great", 2.5),
    ("amazing", 3.0),
    ("awesome", 3.0),
    ("fantastic", 3.0),
    ("happy", 2.0),
    ("glad", 2.0),
    ("satisfied", 2.0),
    ("appreciate", 2.0),
    ("love", 2.5),
    ("quick", 1.0),
    ("fast", 1.0),
    ("efficient", 2.0),
    ("easy", 1.0),
    ("smooth", 1.5),
    ("brilliant", 2.5),
    ("superb", 3.0),
    ("outstanding", 3.0),
    ("impressive", 2.5),
    ("recommend", 1.5),
    ("relieved", 1.5),
    ("relief", 1.5),
    ("beautiful", 2.0),
    ("pleasure", 2.0),
    ("delighted", 3.0),
    ("thrilled", 3.0),
    ("congratulations", 2.5),
    ("reliable", 1.5),
    ("professional", 1.5),
    ("thorough", 1.5),
    ("nice", 1.5),
    ("perfect", 1.0),
    ("good", 1.5),
    ("patience", 1.0),
    ("success", 2.0),
    ("courteous", 2.0),
    ("excited", 2.0),
    ("enjoy", 2.0),
    ("comfortable", 1.0),
    ("wow", 1.5),
    ("terrific", 3.0),
    ("marvellous", 3.0),
    ("marvelous", 3.0),
    ("exceptional", 2.5),
    ("lifesaver", 3.0),
    ("reassured", 1.5),
    // negative
    ("bad", -2.5),
    ("terrible", -3.0),
    ("horrible", -3.0),
    ("poor", -2.0),
    ("unacceptable", -3.0),
    ("ridiculous", -2.5),
    ("absurd", -2.0),
    ("angry", -2.5),
    ("anger", -2.5),
    ("furious", -3.0),
    ("upset", -2.0),
    ("annoyed", -2.0),
    ("irritated", -2.0),
    ("frustrated", -2.5),
    ("disappointed", -2.5),
    ("dissatisfied", -2.5),
    ("unhappy", -2.5),
    ("sad", -2.0),
    ("hate", -3.0),
    ("disgusting", -3.0),
    ("outrageous", -3.0),
    ("outraged", -3.0),
    ("shame", -2.0),
    ("disgrace", -3.0),
    ("useless", -2.5),
    ("incompetent", -3.0),
    ("incompetence", -3.0),
    ("rude", -2.5),
    ("problem", -1.0),
    ("error", -1.5),
    ("mistake", -1.5),
    ("wrong", -1.5),
    ("broken", -1.5),
    ("fail", -2.0),
    ("failure", -2.0),
    ("faulty", -1.5),
    ("delay", -1.5),
    ("slow", -1.5),
    ("expensive", -1.0),
    ("overcharge", -2.0),
    ("scam", -3.0),
    ("fraud", -3.0),
    ("cheat", -2.5),
    ("lie", -2.0),
    ("liar", -3.0),
    ("complaint", -1.5),
    ("complain", -1.5),
    ("cancel", -0.5),
    ("waste", -2.0),
    ("worry", -1.5),
    ("sorry", -0.5),
    ("apologize", -0.5),
    ("apologise", -0.5),
    ("unfortunately", -1.0),
    ("confused", -1.0),
    ("confusing", -1.5),
    ("nightmare", -3.0),
    ("mess", -2.0),
    ("chaos", -2.5),
    ("stupid", -2.5),
    ("crap", -2.5),
    ("damn", -2.0),
    ("suck", -2.5),
    ("pathetic", -3.0),
    ("disaster", -3.0),
    ("tired", -1.5),
    ("unresolved", -1.5),
    ("escalate", -1.0),
    ("worthless", -2.5),
    ("inconvenience", -1.0),
    ("unreliable", -2.0),
    ("hopeless", -2.5),
    ("hassle", -1.5),
    ("ignored", -2.0),
    ("disrespectful", -2.5),
    ("insulting", -2.5),
    ("terrified", -2.5),
    ("miserable", -2.5),
    ("shocking", -2.5),
    ("appalling", -3.0),
    ("dreadful", -3.0),
];

/// English exact forms: stems that would collide with neutral words, and neutral overrides.
const EN_EXACT: &[(&str, f64)] = &[
    ("helpful", 2.0),
    ("unhelpful", -2.0),
    ("helpless", -2.0),
    ("pleased", 2.0),
    ("friendly", 2.0),
    ("unfriendly", -2.0),
    ("grateful", 2.5),
    ("thankful", 2.5),
    ("thanks", 0.4),
    ("excellent", 3.0),
    ("wonderful", 3.0),
    ("awful", -3.0),
    ("awfully", 0.0),
    ("terribly", 0.0),
    ("fine", 0.5),
    ("best", 1.5),
    ("better", 1.0),
    ("worse", -2.0),
    ("worst", -3.0),
    ("issue", -0.8),
    ("issues", -0.8),
    ("concerned", -1.0),
    ("concern", -0.8),
    ("concerns", -0.8),
    ("fixed", 1.5),
    ("resolved", 1.5),
    ("solved", 1.5),
    ("sorted", 1.0),
    ("late", -1.0),
    ("lost", -1.0),
    ("cool", 1.0),
    ("mad", -2.0),
    ("hopeful", 1.0),
    ("please", 0.0),
    ("help", 0.0),
    ("kind", 0.0),
    ("like", 0.0),
    ("well", 0.0),
    ("right", 0.0),
    ("okay", 0.0),
    ("ok", 0.0),
    ("sure", 0.0),
    ("goods", 0.0),
    ("careful", 0.0),
];

const EN_PHRASES: &[(&str, f64)] = &[
    ("thank you", 0.4),
    ("thank you so much", 2.0),
    ("thanks so much", 2.0),
    ("thank you very much", 1.5),
    ("thanks a lot", 1.5),
    ("thanks a million", 2.0),
    ("many thanks", 1.2),
    ("no problem", 0.5),
    ("no worries", 0.5),
    ("don't worry", 0.5),
    ("do not worry", 0.5),
    ("good morning", 0.0),
    ("good afternoon", 0.0),
    ("good evening", 0.0),
    ("good night", 0.0),
    ("good bye", 0.0),
    ("have a good day", 0.3),
    ("have a nice day", 0.3),
    ("have a great day", 0.3),
    ("have a good one", 0.3),
    ("have a great weekend", 0.3),
    ("have a nice weekend", 0.3),
    ("you're welcome", 0.0),
    ("you are welcome", 0.0),
    ("very kind", 2.0),
    ("so kind", 2.0),
    ("that's kind", 1.5),
    ("doesn't work", -2.0),
    ("does not work", -2.0),
    ("don't work", -2.0),
    ("not working", -2.0),
    ("isn't working", -2.0),
    ("stopped working", -2.0),
    ("still not working", -2.5),
    ("fed up", -2.5),
    ("sick of", -2.5),
    ("sick and tired", -3.0),
    ("waste of time", -2.5),
    ("rip off", -2.5),
    ("ripped off", -2.5),
    ("a joke", -1.5),
    ("well done", 2.0),
    ("good job", 2.0),
    ("great job", 2.5),
    ("i'm afraid", -0.3),
    ("let down", -2.0),
    ("no way", -1.0),
    ("makes sense", 0.5),
    ("sounds good", 0.8),
    ("sounds great", 1.5),
    ("all good", 0.8),
    ("of course", 0.0),
    ("how are you", 0.0),
    ("charged twice", -1.5),
    ("double charged", -1.5),
    ("never again", -2.0),
    ("no one", 0.0),
];

const EN_NEGATORS: &[&str] = &[
    "not", "never", "no", "cannot", "without", "nor", "neither", "dont", "doesnt", "didnt", "isnt",
    "wasnt", "arent", "werent", "cant", "couldnt", "wont", "wouldnt", "shouldnt", "havent",
    "hasnt", "hadnt", "aint",
];
const EN_INTENSIFIERS: &[&str] = &[
    "very",
    "really",
    "extremely",
    "so",
    "super",
    "totally",
    "completely",
    "absolutely",
    "incredibly",
    "truly",
    "highly",
    "pretty",
    "such",
    "deeply",
    "terribly",
    "awfully",
    "utterly",
    "seriously",
];
const EN_DIMINISHERS: &[&str] = &["slightly", "somewhat", "barely", "marginally"];
const EN_DIMINISHER_PHRASES: &[&str] = &["a bit", "a little", "a little bit", "kind of", "sort of"];
const EN_CONTRASTS: &[&str] = &["but", "however"];

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

struct LexiconSource {
    language: &'static str,
    stemmed: &'static [(&'static str, f64)],
    exact: &'static [(&'static str, f64)],
    phrases: &'static [(&'static str, f64)],
    negators: &'static [&'static str],
    intensifiers: &'static [&'static str],
    diminishers: &'static [&'static str],
    diminisher_phrases: &'static [&'static str],
    contrasts: &'static [&'static str],
}

const SPANISH: LexiconSource = LexiconSource {
    language: "es",
    stemmed: ES_STEMMED,
    exact: ES_EXACT,
    phrases: ES_PHRASES,
    negators: ES_NEGATORS,
    intensifiers: ES_INTENSIFIERS,
    diminishers: ES_DIMINISHERS,
    diminisher_phrases: ES_DIMINISHER_PHRASES,
    contrasts: ES_CONTRASTS,
};

const ENGLISH: LexiconSource = LexiconSource {
    language: "en",
    stemmed: EN_STEMMED,
    exact: EN_EXACT,
    phrases: EN_PHRASES,
    negators: EN_NEGATORS,
    intensifiers: EN_INTENSIFIERS,
    diminishers: EN_DIMINISHERS,
    diminisher_phrases: EN_DIMINISHER_PHRASES,
    contrasts: EN_CONTRASTS,
};

fn folded_tokens(phrase: &str) -> Vec<String> {
    phrase.unicode_words().map(fold).collect()
}

fn is_negator(word: &str, negators: &HashSet<String>) -> bool {
    negators.contains(word) || word.ends_with("n't")
}

impl Lexicon {
    fn build(source: &LexiconSource) -> Self {
        let stemmer = WordStemmer::new(source.language);
        let mut exact = HashMap::new();
        let mut stems = HashMap::new();
        for &(word, valence) in source.stemmed {
            exact.entry(fold(word)).or_insert(valence);
            stems.entry(stemmer.stem(word)).or_insert(valence);
        }
        // Exact entries win over the folded forms of stemmed entries.
        for &(word, valence) in source.exact {
            exact.insert(fold(word), valence);
        }
        let to_set =
            |words: &[&str]| -> HashSet<String> { words.iter().map(|w| fold(w)).collect() };
        let negators = to_set(source.negators);

        let mut phrases: HashMap<String, Vec<Phrase>> = HashMap::new();
        let all_phrases = source
            .phrases
            .iter()
            .map(|&(p, v)| (p, PhraseEffect::Valence(v)))
            .chain(
                source
                    .diminisher_phrases
                    .iter()
                    .map(|&p| (p, PhraseEffect::Diminish)),
            );
        for (text, effect) in all_phrases {
            let tokens = folded_tokens(text);
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

    fn for_language(language: &str) -> &'static Lexicon {
        static SPANISH_LEXICON: OnceLock<Lexicon> = OnceLock::new();
        static ENGLISH_LEXICON: OnceLock<Lexicon> = OnceLock::new();
        if base_language(language) == "es" {
            SPANISH_LEXICON.get_or_init(|| Lexicon::build(&SPANISH))
        } else {
            ENGLISH_LEXICON.get_or_init(|| Lexicon::build(&ENGLISH))
        }
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

fn tokenize(sentence: &str) -> Vec<Token<'_>> {
    let has_lowercase = sentence.chars().any(char::is_lowercase);
    let mut tokens = Vec::new();
    let mut clause_start = false;
    for segment in sentence.split_word_bounds() {
        if segment.chars().any(char::is_alphanumeric) {
            let letters: Vec<char> = segment.chars().filter(|c| c.is_alphabetic()).collect();
            let shouted =
                has_lowercase && letters.len() >= 3 && letters.iter().all(|c| c.is_uppercase());
            tokens.push(Token {
                raw: segment,
                folded: fold(segment),
                clause_start,
                shouted,
            });
            clause_start = false;
        } else if segment
            .chars()
            .any(|c| matches!(c, ',' | ';' | ':' | '(' | ')' | '—' | '–'))
        {
            clause_start = true;
        }
    }
    tokens
}

/// Raw (unnormalised) valence of one sentence.
fn sentence_valence(sentence: &str, lexicon: &Lexicon) -> f64 {
    let tokens = tokenize(sentence);
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

/// Label for a normalised score, using [`POSITIVE_THRESHOLD`] and [`NEGATIVE_THRESHOLD`].
pub fn label_for(score: f64) -> SentimentLabel {
    if score >= POSITIVE_THRESHOLD {
        SentimentLabel::Positive
    } else if score <= NEGATIVE_THRESHOLD {
        SentimentLabel::Negative
    } else {
        SentimentLabel::Neutral
    }
}

/// Sentiment of `text` in -1..=1. `language` is an ISO 639-1 code; anything but Spanish
/// uses the English lexicon.
pub fn score(text: &str, language: &str) -> Sentiment {
    let lexicon = Lexicon::for_language(language);
    let mut total = 0.0f64;
    let mut sentence_count = 0usize;
    for sentence in split_sentences(text) {
        sentence_count += 1;
        total += sentence_valence(sentence, lexicon);
    }
    let normalised = if total == 0.0 || sentence_count == 0 {
        0.0
    } else {
        total / (total * total + ALPHA_PER_SENTENCE * sentence_count as f64).sqrt()
    };
    let score = if normalised.is_finite() {
        normalised.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    Sentiment {
        score,
        label: label_for(score),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(text: &str, language: &str) -> SentimentLabel {
        score(text, language).label
    }

    #[test]
    fn spanish_negation() {
        assert_eq!(label("No estoy contento.", "es"), SentimentLabel::Negative);
        assert_ne!(label("No está mal.", "es"), SentimentLabel::Negative);
        assert!(score("No está mal.", "es").score > 0.0);
        assert_eq!(label("Estoy contento.", "es"), SentimentLabel::Positive);
    }

    #[test]
    fn english_negation() {
        assert_eq!(label("I'm not happy.", "en"), SentimentLabel::Negative);
        assert_ne!(label("Not bad.", "en"), SentimentLabel::Negative);
        assert!(score("Not bad.", "en").score > 0.0);
        assert_eq!(label("I'm happy.", "en"), SentimentLabel::Positive);
        assert_eq!(
            label("It isn't good at all.", "en"),
            SentimentLabel::Negative
        );
        assert_eq!(
            label("I don't like it, it's bad.", "en"),
            SentimentLabel::Negative
        );
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
        assert_eq!(label("terrible terrible", "de"), SentimentLabel::Negative);
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

    #[test]
    fn labels_use_documented_thresholds() {
        assert_eq!(label_for(0.15), SentimentLabel::Positive);
        assert_eq!(label_for(0.149), SentimentLabel::Neutral);
        assert_eq!(label_for(-0.15), SentimentLabel::Negative);
        assert_eq!(label_for(-0.149), SentimentLabel::Neutral);
    }
}
