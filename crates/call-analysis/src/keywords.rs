//! Key topics: content words and two-word phrases scored by frequency × spread.
//!
//! Words are grouped by stem ("factura", "facturas") and shown in their most frequent
//! lowercase surface form. Spread (in how many sentences a term occurs) favours topics
//! that run through the call over a word repeated in one breath.

use std::collections::{HashMap, HashSet};

use super::text::{WordStemmer, content_stop_words, fold, split_sentences, words};

/// Shortest word (in characters) that can be a topic.
const MIN_TOPIC_CHARS: usize = 3;
/// Terms seen only once are used only to reach this many topics.
const MIN_TOPICS_BEFORE_SINGLETONS: usize = 3;
/// Two-word phrases are more specific than single words, so weigh them up.
const BIGRAM_BONUS: f64 = 1.5;
/// A capitalised word seen fewer times than this is taken for a name ("le atiende Luis").
const MIN_PROPER_NOUN_COUNT: usize = 3;

#[derive(Default)]
struct TermStats {
    count: usize,
    sentences: HashSet<usize>,
    first_position: usize,
    /// Lowercase surface form -> occurrences.
    forms: HashMap<String, usize>,
    /// Occurrences not at the start of a sentence, and how many of those were Title-case.
    mid_sentence: usize,
    mid_sentence_title_case: usize,
}

impl TermStats {
    fn record(&mut self, sentence: usize, position: usize, form: String) {
        if self.count == 0 {
            self.first_position = position;
        }
        self.count += 1;
        self.sentences.insert(sentence);
        *self.forms.entry(form).or_default() += 1;
    }

    /// Names of people and companies are rarely what a call is about, unless repeated.
    fn is_probably_name(&self) -> bool {
        self.mid_sentence > 0
            && self.mid_sentence_title_case == self.mid_sentence
            && self.count < MIN_PROPER_NOUN_COUNT
    }

    fn score(&self) -> f64 {
        self.count as f64 * (1.0 + (self.sentences.len() as f64).ln())
    }

    /// Most frequent form; ties go to the alphabetically first for determinism.
    fn surface(&self) -> String {
        self.forms
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(form, _)| form.clone())
            .unwrap_or_default()
    }
}

struct Candidate {
    stems: Vec<String>,
    surface: String,
    score: f64,
    count: usize,
    first_position: usize,
}

struct ContentWord {
    stem: String,
    lower: String,
    mid_sentence: bool,
    title_case: bool,
    /// Position among all words, to tell adjacent content words from ones a stop word separates.
    position: usize,
}

fn is_topic_word(word: &str, folded: &str, stop: &HashSet<String>) -> bool {
    folded.chars().count() >= MIN_TOPIC_CHARS
        && word.chars().all(char::is_alphabetic)
        && !stop.contains(folded)
}

/// "Luis" but not "LUIS" (shouting, acronyms) or "luis".
fn is_title_case(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(char::is_uppercase) && chars.any(char::is_lowercase)
}

/// Up to `max` key topics of `text`, lowercase, most important first.
pub fn extract(text: &str, language: &str, max: usize) -> Vec<String> {
    let stop = content_stop_words(language);
    let stemmer = WordStemmer::new(language);
    let mut unigrams: HashMap<String, TermStats> = HashMap::new();
    let mut bigrams: HashMap<(String, String), TermStats> = HashMap::new();
    let mut position = 0usize;

    for (sentence_index, sentence) in split_sentences(text).into_iter().enumerate() {
        let mut content: Vec<ContentWord> = Vec::new();
        for (index_in_sentence, word) in words(sentence).into_iter().enumerate() {
            let folded = fold(word);
            if is_topic_word(word, &folded, &stop) {
                content.push(ContentWord {
                    stem: stemmer.stem(word),
                    lower: word.to_lowercase(),
                    mid_sentence: index_in_sentence > 0,
                    title_case: is_title_case(word),
                    position,
                });
            }
            position += 1;
        }
        for word in &content {
            let stats = unigrams.entry(word.stem.clone()).or_default();
            stats.record(sentence_index, word.position, word.lower.clone());
            if word.mid_sentence {
                stats.mid_sentence += 1;
                if word.title_case {
                    stats.mid_sentence_title_case += 1;
                }
            }
        }
        for pair in content.windows(2) {
            let [first, second] = pair else { continue };
            if second.position != first.position + 1 || first.stem == second.stem {
                continue;
            }
            bigrams
                .entry((first.stem.clone(), second.stem.clone()))
                .or_default()
                .record(
                    sentence_index,
                    first.position,
                    format!("{} {}", first.lower, second.lower),
                );
        }
    }

    let names: HashSet<String> = unigrams
        .iter()
        .filter(|(_, stats)| stats.is_probably_name())
        .map(|(stem, _)| stem.clone())
        .collect();
    let mut candidates: Vec<Candidate> = unigrams
        .into_iter()
        .filter(|(stem, _)| !names.contains(stem))
        .map(|(stem, stats)| Candidate {
            stems: vec![stem],
            surface: stats.surface(),
            score: stats.score(),
            count: stats.count,
            first_position: stats.first_position,
        })
        .chain(
            bigrams
                .into_iter()
                .filter(|((a, b), stats)| {
                    stats.count >= 2 && !names.contains(a) && !names.contains(b)
                })
                .map(|((a, b), stats)| Candidate {
                    stems: vec![a, b],
                    surface: stats.surface(),
                    score: stats.score() * BIGRAM_BONUS,
                    count: stats.count,
                    first_position: stats.first_position,
                }),
        )
        .collect();
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.first_position.cmp(&b.first_position))
            .then_with(|| a.surface.cmp(&b.surface))
    });

    let mut selection = Selection::default();
    for candidate in candidates.iter().filter(|c| c.count >= 2) {
        selection.offer(candidate, max);
    }
    let singleton_limit = MIN_TOPICS_BEFORE_SINGLETONS.min(max);
    for candidate in candidates.iter().filter(|c| c.count < 2) {
        if selection.topics.len() >= singleton_limit {
            break;
        }
        selection.offer(candidate, singleton_limit);
    }
    selection.topics
}

#[derive(Default)]
struct Selection {
    topics: Vec<String>,
    stems: HashSet<String>,
    /// Chosen phrases as (stems, count).
    phrases: Vec<(Vec<String>, usize)>,
}

impl Selection {
    fn offer(&mut self, candidate: &Candidate, max: usize) {
        if self.topics.len() >= max
            || candidate.surface.is_empty()
            || self.topics.contains(&candidate.surface)
        {
            return;
        }
        if let [stem] = candidate.stems.as_slice() {
            // "late" adds nothing after "late fee" when it never occurs outside the phrase.
            let subsumed = self
                .phrases
                .iter()
                .any(|(stems, count)| candidate.count <= *count && stems.contains(stem));
            if subsumed {
                return;
            }
        } else {
            // A phrase adds nothing when both of its words are already topics.
            if candidate.stems.iter().all(|s| self.stems.contains(s)) {
                return;
            }
            self.phrases
                .push((candidate.stems.clone(), candidate.count));
        }
        self.stems.extend(candidate.stems.iter().cloned());
        self.topics.push(candidate.surface.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_complaint_topics() {
        let text = "Hola, buenas tardes.\n\
                    Le llamo porque la factura de este mes está mal.\n\
                    Me han cobrado dos veces la cuota del router.\n\
                    Ya reclamé la factura del mes pasado y nadie me respondió.\n\
                    Vale, reviso la factura y la cuota del router ahora mismo.\n\
                    Gracias.";
        let topics = extract(text, "es", 8);
        assert_eq!(topics.first().map(String::as_str), Some("factura"));
        assert!(topics.contains(&"router".to_string()), "{topics:?}");
        assert!(topics.iter().any(|t| t.contains("cuota")), "{topics:?}");
        for filler in ["hola", "gracias", "vale", "buenas", "tardes"] {
            assert!(
                !topics.contains(&filler.to_string()),
                "{filler} in {topics:?}"
            );
        }
    }

    #[test]
    fn english_topics_group_inflections() {
        let text = "I'm calling about my invoice.\n\
                    Yeah, the invoices for March and April both show a late fee.\n\
                    Okay, thanks. The late fee should not be on the invoice.\n\
                    Right, I'll remove the late fee.";
        let topics = extract(text, "en", 8);
        assert_eq!(topics[..2], ["late fee", "invoice"], "{topics:?}");
        // Words seen only inside the phrase are not repeated as topics.
        assert!(!topics.contains(&"late".to_string()), "{topics:?}");
        assert!(!topics.contains(&"fee".to_string()), "{topics:?}");
        assert_eq!(
            topics.iter().filter(|t| t.starts_with("invoice")).count(),
            1
        );
        for filler in ["yeah", "okay", "thanks", "right"] {
            assert!(
                !topics.contains(&filler.to_string()),
                "{filler} in {topics:?}"
            );
        }
    }

    #[test]
    fn topics_are_lowercase_unique_and_capped() {
        let text = "Factura factura FACTURA. Router router. Cuota cuota. Fibra fibra. \
                    Móvil móvil. Tarifa tarifa. Portabilidad portabilidad. Roaming roaming. \
                    Descuento descuento. Permanencia permanencia.";
        let topics = extract(text, "es", 8);
        assert_eq!(topics.len(), 8);
        let unique: HashSet<&String> = topics.iter().collect();
        assert_eq!(unique.len(), topics.len());
        assert!(topics.iter().all(|t| *t == t.to_lowercase()));
        assert!(
            topics.contains(&"móvil".to_string()),
            "accents are kept: {topics:?}"
        );
    }

    #[test]
    fn singletons_only_fill_up_to_three() {
        let topics = extract("El técnico revisará la instalación eléctrica.", "es", 8);
        assert_eq!(topics.len(), 3);
        assert!(topics.contains(&"técnico".to_string()), "{topics:?}");
    }

    #[test]
    fn rarely_mentioned_names_are_not_topics() {
        let text = "Buenos días, le atiende Luis.\n\
                    Hola Luis, llamo por el router.\n\
                    El router de Fibranet no enciende.\n\
                    Vale, reinicie el router, por favor.\n\
                    Llamé a Fibranet, a Fibranet y otra vez a Fibranet.";
        let topics = extract(text, "es", 8);
        assert!(topics.contains(&"router".to_string()), "{topics:?}");
        assert!(!topics.contains(&"luis".to_string()), "{topics:?}");
        // Repeated names (a company, a product) still count.
        assert!(topics.contains(&"fibranet".to_string()), "{topics:?}");
    }

    #[test]
    fn numbers_and_empty_text_give_nothing() {
        assert!(extract("", "es", 8).is_empty());
        assert!(extract("123 456 789. 123 456.", "en", 8).is_empty());
        assert!(extract("Factura factura.", "es", 0).is_empty());
    }
}
