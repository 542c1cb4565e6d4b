//! Extractive summary: TextRank over sentences.
//!
//! Sentences are nodes; edges weigh shared content stems (stop words and call fillers
//! removed, stemmed) as in the original TextRank paper. Deterministic: ties break by
//! content size, then by position.

use crate::data::{WordList, embedded_word_list};
use std::collections::{HashMap, HashSet};

use super::text::{WordStemmer, content_stop_words, fold, split_sentences, words};

/// Sentences shorter than this are skipped unless nothing longer exists ("Sí, claro.").
pub const MIN_SENTENCE_WORDS: usize = 4;

/// Agent openers and closers ("le atiende Marta") share words with the call but say nothing.
const FORMULAIC_FACTOR: f64 = 0.3;
static FORMULAIC_MARKERS: WordList = embedded_word_list!("summary/formulaic_markers.txt");

const DAMPING: f64 = 0.85;
const MAX_ITERATIONS: usize = 100;
const TOLERANCE: f64 = 1e-6;

struct SentenceFeatures {
    word_count: usize,
    formulaic: bool,
    /// Sorted, distinct content stem ids.
    stems: Vec<u32>,
}

fn features(sentences: &[&str], language: &str) -> Vec<SentenceFeatures> {
    let stop = content_stop_words(language);
    let stemmer = WordStemmer::new(language);
    let mut interned: HashMap<String, u32> = HashMap::new();
    // Space-delimited once, not per sentence: matched as whole words in " w1 w2 … ".
    let markers: Vec<String> = FORMULAIC_MARKERS
        .iter()
        .map(|marker| format!(" {marker} "))
        .collect();
    sentences
        .iter()
        .map(|sentence| {
            let all_words = words(sentence);
            let folded_words: Vec<String> = all_words.iter().map(|w| fold(w)).collect();
            let mut stems: Vec<u32> = all_words
                .iter()
                .zip(&folded_words)
                .filter(|(w, folded)| {
                    w.chars().any(char::is_alphabetic)
                        && folded.chars().count() >= 2
                        && !stop.contains(*folded)
                })
                .map(|(w, _)| {
                    let next_id = u32::try_from(interned.len()).unwrap_or(u32::MAX);
                    *interned.entry(stemmer.stem(w)).or_insert(next_id)
                })
                .collect();
            stems.sort_unstable();
            stems.dedup();
            let joined = format!(" {} ", folded_words.join(" "));
            SentenceFeatures {
                word_count: all_words.len(),
                formulaic: markers
                    .iter()
                    .any(|marker| joined.contains(marker.as_str())),
                stems,
            }
        })
        .collect()
}

fn overlap(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut count) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                count += 1;
                i += 1;
                j += 1;
            }
        }
    }
    count
}

/// PageRank over a weighted undirected graph given as adjacency lists.
fn page_rank(adjacency: &[Vec<(usize, f64)>]) -> Vec<f64> {
    let n = adjacency.len();
    let out_weight: Vec<f64> = adjacency
        .iter()
        .map(|edges| edges.iter().map(|(_, w)| w).sum())
        .collect();
    let mut scores = vec![1.0; n];
    for _ in 0..MAX_ITERATIONS {
        let mut next = vec![1.0 - DAMPING; n];
        for (j, edges) in adjacency.iter().enumerate() {
            if out_weight[j] <= 0.0 {
                continue;
            }
            let share = DAMPING * scores[j] / out_weight[j];
            for &(i, w) in edges {
                next[i] += share * w;
            }
        }
        let change = scores
            .iter()
            .zip(&next)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        scores = next;
        if change < TOLERANCE {
            break;
        }
    }
    scores
}

/// Indices of the sentences worth summarising, most important first.
/// Short sentences only take part when there is nothing longer.
pub fn rank(sentences: &[&str], language: &str) -> Vec<usize> {
    let features = features(sentences, language);
    let pick = |keep: &dyn Fn(&SentenceFeatures) -> bool| -> Vec<usize> {
        (0..features.len())
            .filter(|&i| keep(&features[i]))
            .collect()
    };
    // "Hola Luis, buenos días." has four words but only one content word.
    let mut candidates = pick(&|f| f.word_count >= MIN_SENTENCE_WORDS && f.stems.len() >= 2);
    if candidates.is_empty() {
        candidates = pick(&|f| f.word_count >= MIN_SENTENCE_WORDS && !f.stems.is_empty());
    }
    if candidates.is_empty() {
        candidates = pick(&|f| f.word_count >= MIN_SENTENCE_WORDS);
    }
    if candidates.is_empty() {
        candidates = pick(&|f| f.word_count > 0);
    }

    let mut adjacency: Vec<Vec<(usize, f64)>> = vec![Vec::new(); candidates.len()];
    // Each candidate's share of the edge weight's normaliser, computed once.
    let log_sizes: Vec<f64> = candidates
        .iter()
        .map(|&i| (1.0 + features[i].stems.len() as f64).ln())
        .collect();
    for a in 0..candidates.len() {
        for b in (a + 1)..candidates.len() {
            let (fa, fb) = (&features[candidates[a]], &features[candidates[b]]);
            let shared = overlap(&fa.stems, &fb.stems);
            if shared == 0 {
                continue;
            }
            let norm = log_sizes[a] + log_sizes[b];
            if norm > 0.0 {
                let weight = shared as f64 / norm;
                adjacency[a].push((b, weight));
                adjacency[b].push((a, weight));
            }
        }
    }
    let scores: Vec<f64> = page_rank(&adjacency)
        .into_iter()
        .zip(&candidates)
        .map(|(score, &i)| {
            if features[i].formulaic {
                score * FORMULAIC_FACTOR
            } else {
                score
            }
        })
        .collect();

    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| {
        scores[b]
            .total_cmp(&scores[a])
            .then_with(|| {
                features[candidates[b]]
                    .stems
                    .len()
                    .cmp(&features[candidates[a]].stems.len())
            })
            .then_with(|| a.cmp(&b))
    });
    order.into_iter().map(|k| candidates[k]).collect()
}

/// Up to `max` of the most important sentences, as indices in original order.
/// Repeated sentences ("Vale, perfecto, gracias.") are taken once.
pub fn select(sentences: &[&str], language: &str, max: usize) -> Vec<usize> {
    select_ranked(sentences, &rank(sentences, language), max)
}

/// [`select`] from a ranking already computed with [`rank`].
pub fn select_ranked(sentences: &[&str], ranked: &[usize], max: usize) -> Vec<usize> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut chosen: Vec<usize> = ranked
        .iter()
        .copied()
        .filter(|&i| sentences.get(i).is_some_and(|s| seen.insert(fold(s))))
        .take(max)
        .collect();
    chosen.sort_unstable();
    chosen
}

/// Up to `max` key sentences of `text`, verbatim, in original order.
pub fn summarise(text: &str, language: &str, max: usize) -> Vec<String> {
    let sentences = split_sentences(text);
    select(&sentences, language, max)
        .into_iter()
        .map(|i| sentences[i].to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BILLING_CALL: &str = "Hola, buenos días.\n\
        Buenos días, le llamo porque la factura de marzo tiene un cargo que no reconozco.\n\
        Vale.\n\
        Déjeme revisar la factura de marzo en el sistema.\n\
        Sí, veo un cargo de roaming en la factura que no corresponde a su tarifa.\n\
        Entonces, ¿me lo pueden quitar?\n\
        Sí, anulamos el cargo de roaming y le enviamos una factura corregida.\n\
        Perfecto, gracias.";

    #[test]
    fn picks_central_sentences_in_original_order() {
        let summary = summarise(BILLING_CALL, "es", 2);
        assert_eq!(
            summary,
            vec![
                "Buenos días, le llamo porque la factura de marzo tiene un cargo que no reconozco.",
                "Sí, veo un cargo de roaming en la factura que no corresponde a su tarifa.",
            ]
        );
    }

    #[test]
    fn summary_sentences_are_verbatim() {
        for sentence in summarise(BILLING_CALL, "es", 3) {
            assert!(BILLING_CALL.contains(&sentence), "{sentence}");
        }
    }

    #[test]
    fn short_sentences_are_skipped_when_longer_exist() {
        let sentences = [
            "Vale.",
            "Sí.",
            "El pedido llegará el lunes por la mañana.",
            "Ok.",
        ];
        assert_eq!(rank(&sentences, "es"), vec![2]);
    }

    #[test]
    fn short_sentences_are_used_when_nothing_else() {
        let sentences = ["Vale.", "Factura pagada."];
        assert_eq!(rank(&sentences, "es").len(), 2);
        assert_eq!(select(&sentences, "es", 1), vec![1]);
    }

    #[test]
    fn agent_openers_are_not_summary_material() {
        let sentences = [
            "Buenas tardes, le atiende Marta, del servicio de facturación de la compañía.",
            "Le llamo porque la factura de la compañía tiene un cargo de roaming.",
            "El cargo de roaming de la factura no corresponde a su tarifa de la compañía.",
        ];
        assert_eq!(select(&sentences, "es", 2), vec![1, 2]);
    }

    #[test]
    fn deterministic() {
        let first = summarise(BILLING_CALL, "es", 3);
        for _ in 0..5 {
            assert_eq!(summarise(BILLING_CALL, "es", 3), first);
        }
    }

    #[test]
    fn repeated_sentences_are_taken_once() {
        let sentences = [
            "The invoice for March is wrong.",
            "The invoice for March is wrong.",
            "The invoice total for March is too high.",
        ];
        let chosen = select(&sentences, "en", 2);
        assert_eq!(chosen.len(), 2);
        assert!(chosen.contains(&2));
    }

    #[test]
    fn empty_input() {
        assert!(summarise("", "es", 3).is_empty());
        assert!(rank(&[], "en").is_empty());
        assert!(summarise("Hola.", "es", 0).is_empty());
    }
}
