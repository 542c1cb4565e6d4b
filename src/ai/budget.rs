//! Text budgets: what fits one request, cut where a reader loses least.

use std::borrow::Cow;

/// Put where the middle of an over-long transcript was cut out.
const TRIM_MARKER: &str = "\n[…]\n";
/// A trim cut moves back to a word boundary if one is this close (in chars).
const SNAP_WINDOW_CHARS: usize = 64;

/// `text` cut to at most `max_chars` chars (Unicode scalar values, not bytes),
/// keeping its beginning and its end with a `[…]` marker line between them:
/// the start of a call says what it is about, the end what was agreed.
/// Cuts move back to a nearby word boundary; returns `text` itself when it fits.
pub fn trim_middle(text: &str, max_chars: usize) -> Cow<'_, str> {
    let total = char_count(text);
    if total <= max_chars {
        return Cow::Borrowed(text);
    }
    let marker_chars = char_count(TRIM_MARKER);
    if max_chars <= marker_chars {
        // No room for both ends and the marker: keep the beginning.
        return Cow::Owned(prefix_chars(text, max_chars).to_string());
    }
    let room = max_chars - marker_chars;
    let head_chars = room.div_ceil(2);
    let tail_chars = room - head_chars;
    let head = snap_head(prefix_chars(text, head_chars));
    let tail = snap_tail(suffix_chars(text, tail_chars));
    Cow::Owned(format!("{head}{TRIM_MARKER}{tail}"))
}

/// Length in chars (Unicode scalar values), the unit of every budget here.
pub(super) fn char_count(s: &str) -> usize {
    s.chars().count()
}

/// The first `n` chars of `s` (all of it if shorter); always a char boundary.
pub(super) fn prefix_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((cut, _)) => &s[..cut],
        None => s,
    }
}

/// The last `n` chars of `s` (all of it if shorter); always a char boundary.
fn suffix_chars(s: &str, n: usize) -> &str {
    if n == 0 {
        return "";
    }
    match s.char_indices().rev().nth(n - 1) {
        Some((cut, _)) => &s[cut..],
        None => s,
    }
}

/// Drop a partial last word if a word boundary is near the end.
fn snap_head(head: &str) -> &str {
    match head.rfind(char::is_whitespace) {
        Some(pos) if char_count(&head[pos..]) <= SNAP_WINDOW_CHARS => head[..pos].trim_end(),
        _ => head,
    }
}

/// Drop a partial first word if a word boundary is near the start.
fn snap_tail(tail: &str) -> &str {
    match tail.find(char::is_whitespace) {
        Some(pos) if char_count(&tail[..pos]) <= SNAP_WINDOW_CHARS => tail[pos..].trim_start(),
        _ => tail,
    }
}

/// One piece of a text to translate, and what joins it to the previous piece.
#[derive(Debug, PartialEq)]
pub(super) struct Chunk {
    /// `"\n"` between lines, `" "` between word groups of an over-long line,
    /// `""` inside a word longer than the budget.
    pub sep: &'static str,
    pub text: String,
}

/// Split `text` into chunks of at most `max_chars` chars, on line boundaries
/// where possible; a single line over the budget is split on whitespace, and a
/// single word over it on chars.
pub(super) fn split_for_translation(text: &str, max_chars: usize) -> Vec<Chunk> {
    let max_chars = max_chars.max(1);
    let mut chunks = Vec::new();
    // The lines gathered so far, and their length in chars with the newlines.
    let mut current: Option<(String, usize)> = None;

    for line in text.lines() {
        let line_chars = char_count(line);
        if line_chars > max_chars {
            if let Some((text, _)) = current.take() {
                chunks.push(Chunk { sep: "\n", text });
            }
            let mut pieces = split_long_line(line, max_chars);
            if pieces.is_empty() {
                // A line of only whitespace: keep it as an (untranslated) blank line.
                pieces.push(Chunk {
                    sep: "\n",
                    text: String::new(),
                });
            }
            for (i, mut piece) in pieces.into_iter().enumerate() {
                if i == 0 {
                    piece.sep = "\n";
                }
                chunks.push(piece);
            }
            continue;
        }
        match &mut current {
            Some((acc, acc_chars)) if *acc_chars + 1 + line_chars <= max_chars => {
                acc.push('\n');
                acc.push_str(line);
                *acc_chars += 1 + line_chars;
            }
            _ => {
                if let Some((text, _)) = current.take() {
                    chunks.push(Chunk { sep: "\n", text });
                }
                current = Some((line.to_string(), line_chars));
            }
        }
    }
    if let Some((text, _)) = current {
        chunks.push(Chunk { sep: "\n", text });
    }
    chunks
}

fn split_long_line(line: &str, max_chars: usize) -> Vec<Chunk> {
    let mut pieces: Vec<Chunk> = Vec::new();
    let mut current = String::new();
    let mut current_chars = 0;
    for word in line.split_whitespace() {
        let word_chars = char_count(word);
        if current_chars > 0 && current_chars + 1 + word_chars <= max_chars {
            current.push(' ');
            current.push_str(word);
            current_chars += 1 + word_chars;
            continue;
        }
        if current_chars > 0 {
            pieces.push(Chunk {
                sep: " ",
                text: std::mem::take(&mut current),
            });
            current_chars = 0;
        }
        if word_chars <= max_chars {
            current.push_str(word);
            current_chars = word_chars;
        } else {
            // A "word" longer than the whole budget (e.g. text without spaces).
            let mut rest = word;
            let mut first = true;
            while !rest.is_empty() {
                let part = prefix_chars(rest, max_chars);
                rest = &rest[part.len()..];
                pieces.push(Chunk {
                    sep: if first { " " } else { "" },
                    text: part.to_string(),
                });
                first = false;
            }
        }
    }
    if current_chars > 0 {
        pieces.push(Chunk {
            sep: " ",
            text: current,
        });
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_keeps_short_text_untouched() {
        let text = "Hola, ¿qué tal? Señor Muñoz.";
        assert!(matches!(trim_middle(text, 100), Cow::Borrowed(t) if t == text));
        assert!(matches!(
            trim_middle(text, char_count(text)),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn trim_multibyte_keeps_both_ends_within_budget() {
        // Every char is multi-byte, so a byte-based cut would panic or overshoot.
        let text = format!("INICIO {} FIN", "ñandú acción pingüino ".repeat(500));
        for budget in [20, 21, 50, 99, 100, 101, 1_000, 4_321] {
            let trimmed = trim_middle(&text, budget);
            assert!(
                char_count(&trimmed) <= budget,
                "budget {budget}: {}",
                char_count(&trimmed)
            );
            assert!(trimmed.contains("[…]"), "budget {budget}: no marker");
            assert!(trimmed.starts_with("INICIO"), "budget {budget}: lost start");
            assert!(trimmed.ends_with("FIN"), "budget {budget}: lost end");
        }
        // Large budgets use nearly all of it (snapping only drops part of a word).
        let trimmed = trim_middle(&text, 1_000);
        assert!(
            char_count(&trimmed) > 1_000 - 2 * 30,
            "{}",
            char_count(&trimmed)
        );
    }

    #[test]
    fn trim_without_whitespace_cuts_on_char_boundaries() {
        let text = "é".repeat(1_000) + &"日本".repeat(1_000);
        let trimmed = trim_middle(&text, 301);
        assert_eq!(char_count(&trimmed), 301);
        assert!(trimmed.starts_with('é') && trimmed.ends_with('本'));
        assert!(trimmed.contains("\n[…]\n"));
    }

    #[test]
    fn trim_with_tiny_budget_keeps_the_beginning() {
        let trimmed = trim_middle("ñññññññññññ", 3);
        assert_eq!(trimmed, "ñññ");
        assert_eq!(trim_middle("ñññ", 0), "");
    }

    fn rejoin(chunks: &[Chunk]) -> String {
        let mut out = String::new();
        for (i, c) in chunks.iter().enumerate() {
            if i > 0 {
                out.push_str(c.sep);
            }
            out.push_str(&c.text);
        }
        out
    }

    #[test]
    fn split_respects_budget_and_round_trips() {
        let text = "Ana: hola\nLuis: buenos días, señora\n\nAna: ¿cómo está?\nLuis: bien";
        for budget in [12, 20, 40, 1_000] {
            let chunks = split_for_translation(text, budget);
            assert!(
                chunks.iter().all(|c| char_count(&c.text) <= budget),
                "{chunks:?}"
            );
            assert_eq!(rejoin(&chunks), text, "budget {budget}");
        }
        assert_eq!(split_for_translation(text, 1_000).len(), 1);
        assert!(split_for_translation("", 10).is_empty());
    }

    #[test]
    fn split_breaks_over_long_lines_and_words() {
        let line = "uno dos tres cuatro cinco";
        let chunks = split_for_translation(line, 9);
        assert!(
            chunks.iter().all(|c| char_count(&c.text) <= 9),
            "{chunks:?}"
        );
        assert_eq!(rejoin(&chunks), line);

        let word = "ñ".repeat(25);
        let chunks = split_for_translation(&format!("a\n{word}\nb"), 10);
        let texts: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            ["a", &"ñ".repeat(10), &"ñ".repeat(10), &"ñ".repeat(5), "b"]
        );
        assert_eq!(rejoin(&chunks), format!("a\n{word}\nb"));
    }
}
