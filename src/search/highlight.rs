use std::collections::HashSet;

use unicode_segmentation::UnicodeSegmentation;

use super::query::is_inner_punctuation;
use super::{SearchQuery, fold};

/// The most characters a highlight has, markup and escapes included.
pub const HIGHLIGHT_MAX_CHARS: usize = 300;

/// How much text before the first hit the excerpt keeps, for context.
const LEAD_CHARS: usize = 60;

/// A short excerpt of the field with the most of the query's words, its hits wrapped in
/// `<mark>…</mark>` and every other character HTML-escaped (the text is the caller's: it may hold
/// `<script>`). `None` when every field is empty.
pub fn highlight(query: &SearchQuery, fields: &[&str]) -> Option<String> {
    let wanted = query.folded_words();
    let phrases = query.folded_phrases();
    let scored = fields.iter().map(|text| {
        let segments = segments(text, &wanted, &phrases);
        let distinct: HashSet<&str> = segments
            .iter()
            .filter(|s| s.hit)
            .map(|s| s.folded.as_str())
            .collect();
        (distinct.len(), segments)
    });
    // The first field wins a tie: fields come in order of importance.
    let (_, segments) = scored
        .filter(|(_, s)| s.iter().any(|seg| !seg.text.trim().is_empty()))
        .reduce(|best, next| if next.0 > best.0 { next } else { best })?;
    Some(render(&segments, start_of_excerpt(&segments)))
}

struct Segment<'a> {
    text: &'a str,
    folded: String,
    hit: bool,
}

/// The text cut at word boundaries (UAX #29) and, as the tokenizers do, at the apostrophes,
/// colons and points UAX #29 keeps inside a word; each loose word of the query marked, and each
/// phrase's words where they stand in order (a lone "de" is no hit of "tarjeta de crédito").
fn segments<'a>(
    text: &'a str,
    wanted: &HashSet<String>,
    phrases: &[Vec<String>],
) -> Vec<Segment<'a>> {
    let mut segments: Vec<Segment<'a>> = text
        .split_word_bounds()
        .flat_map(split_inner)
        .map(|piece| {
            let is_word = piece.chars().any(char::is_alphanumeric);
            let folded = if is_word { fold(piece) } else { String::new() };
            let hit = is_word && wanted.contains(&folded);
            Segment {
                text: piece,
                folded,
                hit,
            }
        })
        .collect();
    let words: Vec<usize> = (0..segments.len())
        .filter(|&i| !segments[i].folded.is_empty())
        .collect();
    for phrase in phrases.iter().filter(|p| !p.is_empty()) {
        for at in words.windows(phrase.len()) {
            if at
                .iter()
                .zip(phrase)
                .all(|(&i, w)| segments[i].folded == *w)
            {
                for &i in at {
                    segments[i].hit = true;
                }
            }
        }
    }
    segments
}

/// A word's parts and the punctuation between them, each a piece of its own.
fn split_inner(word: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for (at, c) in word.char_indices() {
        if is_inner_punctuation(c) {
            pieces.extend([&word[start..at], &word[at..at + c.len_utf8()]]);
            start = at + c.len_utf8();
        }
    }
    pieces.push(&word[start..]);
    pieces.retain(|p| !p.is_empty());
    pieces
}

/// Where the excerpt begins: a little before the hit whose following stretch of text holds the
/// most distinct wanted words.
fn start_of_excerpt(segments: &[Segment<'_>]) -> usize {
    let hits: Vec<usize> = (0..segments.len()).filter(|&i| segments[i].hit).collect();
    let best_hit = hits
        .iter()
        .map(|&i| {
            let mut chars = 0;
            let distinct: HashSet<&str> = segments[i..]
                .iter()
                .take_while(|s| {
                    chars += s.text.chars().count();
                    chars <= HIGHLIGHT_MAX_CHARS - LEAD_CHARS
                })
                .filter(|s| s.hit)
                .map(|s| s.folded.as_str())
                .collect();
            (distinct.len(), i)
        })
        // max_by_key keeps the last of equals; the earliest hit should win, hence the Reverse.
        .max_by_key(|&(n, i)| (n, std::cmp::Reverse(i)))
        .map(|(_, i)| i);
    let Some(hit) = best_hit else { return 0 };
    let mut start = hit;
    let mut lead = 0;
    while start > 0 && lead + segments[start - 1].text.chars().count() <= LEAD_CHARS {
        start -= 1;
        lead += segments[start].text.chars().count();
    }
    // Begin on text, not on the space before it.
    while start > 0 && start < hit && segments[start].text.trim().is_empty() {
        start += 1;
    }
    start
}

fn render(segments: &[Segment<'_>], start: usize) -> String {
    const ELLIPSIS: &str = "…";
    let mut out = String::new();
    let mut used = 0;
    if start > 0 {
        out.push_str(ELLIPSIS);
        used += 1;
    }
    let mut last_was_space = true;
    for (i, segment) in segments.iter().enumerate().skip(start) {
        // Line breaks of a transcript read as spaces in a one-line excerpt.
        let piece = if segment.text.trim().is_empty() {
            if last_was_space {
                continue;
            }
            " ".to_string()
        } else if segment.hit {
            format!("<mark>{}</mark>", escape_html(segment.text))
        } else {
            escape_html(segment.text)
        };
        let len = piece.chars().count();
        let more_follows = i + 1 < segments.len();
        // Room is kept for the closing ellipsis while more text follows.
        if used + len + usize::from(more_follows) > HIGHLIGHT_MAX_CHARS {
            out.truncate(out.trim_end().len());
            out.push_str(ELLIPSIS);
            return out;
        }
        last_was_space = piece == " ";
        used += len;
        out.push_str(&piece);
    }
    out.truncate(out.trim_end().len());
    out
}

fn escape_html(text: &str) -> String {
    askama::filters::escape(text, askama::filters::Html)
        .map(|escaped| escaped.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(raw: &str) -> SearchQuery {
        SearchQuery::parse(raw).expect("words")
    }

    #[test]
    fn hits_are_marked_whatever_their_case_and_accents() {
        let h = highlight(&q("facturacion"), &["La FACTURACIÓN de octubre."]);
        assert_eq!(
            h.as_deref(),
            Some("La <mark>FACTURACIÓN</mark> de octubre.")
        );
    }

    #[test]
    fn words_joined_by_an_apostrophe_or_a_colon_are_marked_apart_as_the_tokenizers_index_them() {
        let text = "Ma facture d'électricité, dit O’Brien: javascript:alert";
        for (query, marked) in [
            ("electricite", "d'<mark>électricité</mark>"),
            ("brien", "O’<mark>Brien</mark>"),
            ("alert", "javascript:<mark>alert</mark>"),
            ("d'electricite", "<mark>d</mark>'<mark>électricité</mark>"),
        ] {
            let h = highlight(&q(query), &[text]).expect("an excerpt");
            let escaped = h.replace("&#39;", "'");
            assert!(escaped.contains(marked), "{query}: {h}");
        }
        // A part alone is no hit of the whole: "d" is not "d'électricité".
        let h = highlight(&q("d'electricite"), &["d d'électricité"]).expect("an excerpt");
        assert!(h.starts_with("d <mark>d</mark>"), "{h}");
    }

    #[test]
    fn a_phrase_is_marked_only_where_its_words_stand_in_order() {
        let h = highlight(
            &q(r#""tarjeta de crédito""#),
            &["La factura de este mes, con tarjeta de crédito. Tarjeta nueva."],
        );
        assert_eq!(
            h.as_deref(),
            Some(
                "La factura de este mes, con <mark>tarjeta</mark> <mark>de</mark> \
                 <mark>crédito</mark>. Tarjeta nueva."
            )
        );
    }

    #[test]
    fn markup_in_the_text_comes_out_escaped() {
        let h = highlight(&q("pago"), &["<script>alert('x')</script> pago & \"más\""])
            .expect("excerpt");
        assert!(!h.contains("<script>"), "{h}");
        assert!(h.starts_with("&#60;script&#62;"), "{h}");
        assert!(h.contains("<mark>pago</mark> &#38;"), "{h}");
    }

    #[test]
    fn a_long_text_is_cut_around_the_hit_within_the_limit() {
        let text = format!("{} aguja {}", "palabra ".repeat(200), "otra ".repeat(200));
        let h = highlight(&q("aguja"), &[&text]).expect("excerpt");
        assert!(h.chars().count() <= HIGHLIGHT_MAX_CHARS, "{}", h.len());
        assert!(h.starts_with('…') && h.ends_with('…'), "{h}");
        assert!(h.contains("<mark>aguja</mark>"), "{h}");
    }

    #[test]
    fn the_field_with_most_of_the_words_is_chosen() {
        let fields = ["solo pago aquí", "el pago de la factura", ""];
        let h = highlight(&q("pago factura"), &fields).expect("excerpt");
        assert_eq!(h, "el <mark>pago</mark> de la <mark>factura</mark>");
        assert_eq!(highlight(&q("x"), &["", " "]), None);
    }
}
