//! Lenient WebVTT parser for Webex transcripts.
//!
//! Accepts what Webex and common tools emit rather than only strict WebVTT: BOM, CRLF/CR,
//! hour-less timestamps, comma decimal separators, missing blank lines between cues.

use thiserror::Error;

use super::{Cue, Transcript};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VttError {
    #[error("input is not text (it contains NUL bytes)")]
    NotText,
    #[error("missing WEBVTT header: the first line must start with \"WEBVTT\"")]
    MissingHeader,
    #[error("no cue timing lines (\"start --> end\") found")]
    NoTimingLines,
    #[error("no valid cues: malformed timing on line {line}: {text:?}")]
    MalformedTiming { line: usize, text: String },
}

/// Longest excerpt of a bad line quoted in an error.
const ERROR_EXCERPT_CHARS: usize = 80;
/// A speaker prefix ("Jane Doe: ...") longer than this is a sentence, not a name.
const MAX_SPEAKER_PREFIX_CHARS: usize = 40;
const MAX_SPEAKER_PREFIX_WORDS: usize = 5;

struct Line<'a> {
    number: usize,
    text: &'a str,
}

/// Parses a WebVTT document into a transcript with cues sorted by start time.
pub fn parse(input: &str) -> Result<Transcript, VttError> {
    if input.contains('\0') {
        return Err(VttError::NotText);
    }
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let normalised = input.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<Line> = normalised
        .split('\n')
        .enumerate()
        .map(|(i, text)| Line {
            number: i + 1,
            text,
        })
        .collect();

    let header_index = lines
        .iter()
        .position(|l| !l.text.trim().is_empty())
        .ok_or(VttError::MissingHeader)?;
    if !is_header(lines[header_index].text.trim_start()) {
        return Err(VttError::MissingHeader);
    }

    let mut cues = Vec::new();
    let mut saw_timing_line = false;
    let mut first_malformed: Option<(usize, String)> = None;

    // Header metadata runs to the first blank line, unless a cue starts without one.
    let mut index = header_index + 1;
    while index < lines.len() {
        let text = lines[index].text;
        if text.trim().is_empty() {
            break;
        }
        if text.contains("-->") {
            if index > header_index + 1 && looks_like_identifier(lines[index - 1].text) {
                index -= 1;
            }
            break;
        }
        index += 1;
    }

    for block in blocks(&lines[index..]) {
        let first = block[0].text.trim();
        if !first.contains("-->") && is_skipped_block(first) {
            continue;
        }
        parse_block(block, &mut cues, &mut saw_timing_line, &mut first_malformed);
    }

    if cues.is_empty() {
        if let Some((line, text)) = first_malformed {
            return Err(VttError::MalformedTiming { line, text });
        }
        if !saw_timing_line && has_content_blocks(&lines[index..]) {
            return Err(VttError::NoTimingLines);
        }
    }
    cues.sort_by_key(|c: &Cue| (c.start_ms, c.end_ms));
    Ok(Transcript { cues })
}

fn is_header(line: &str) -> bool {
    match line.strip_prefix("WEBVTT") {
        Some(rest) => rest.is_empty() || rest.starts_with([' ', '\t']),
        None => false,
    }
}

fn is_skipped_block(first_line: &str) -> bool {
    ["NOTE", "STYLE", "REGION"].iter().any(|keyword| {
        first_line
            .strip_prefix(keyword)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
    })
}

/// Blocks of consecutive non-blank lines.
fn blocks<'a, 'b>(lines: &'b [Line<'a>]) -> Vec<&'b [Line<'a>]> {
    lines
        .split(|l| l.text.trim().is_empty())
        .filter(|b| !b.is_empty())
        .collect()
}

fn has_content_blocks(lines: &[Line]) -> bool {
    blocks(lines)
        .iter()
        .any(|b| !is_skipped_block(b[0].text.trim()))
}

/// A cue being assembled from a block.
struct PendingCue {
    start_ms: u64,
    end_ms: u64,
    identifier_speaker: Option<String>,
    payload: Vec<String>,
}

fn parse_block(
    block: &[Line],
    cues: &mut Vec<Cue>,
    saw_timing_line: &mut bool,
    first_malformed: &mut Option<(usize, String)>,
) {
    let mut identifiers: Vec<String> = Vec::new();
    let mut pending: Option<PendingCue> = None;

    for line in block {
        let text = line.text.trim();
        if text.contains("-->") {
            *saw_timing_line = true;
            match parse_timing(text) {
                Some((start_ms, end_ms)) => {
                    if let Some(mut cue) = pending.take() {
                        // Cues without a blank line between them: a trailing id line of the
                        // previous payload belongs to this cue.
                        if cue.payload.last().is_some_and(|l| looks_like_identifier(l))
                            && let Some(id) = cue.payload.pop()
                        {
                            identifiers.push(id);
                        }
                        finish(cue, cues);
                    }
                    let identifier_speaker =
                        identifiers.iter().rev().find_map(|id| quoted_speaker(id));
                    identifiers.clear();
                    pending = Some(PendingCue {
                        start_ms,
                        end_ms: end_ms.max(start_ms),
                        identifier_speaker,
                        payload: Vec::new(),
                    });
                }
                None => {
                    if first_malformed.is_none() {
                        *first_malformed = Some((line.number, excerpt(text)));
                    }
                    // The payload of an unparseable cue must not leak into the previous cue.
                    if let Some(cue) = pending.take() {
                        finish(cue, cues);
                    }
                    identifiers.clear();
                    return;
                }
            }
        } else if let Some(cue) = pending.as_mut() {
            cue.payload.push(text.to_string());
        } else {
            identifiers.push(text.to_string());
        }
    }
    if let Some(cue) = pending {
        finish(cue, cues);
    }
}

fn looks_like_identifier(line: &str) -> bool {
    let trimmed = line.trim();
    !trimmed.is_empty()
        && (trimmed.chars().all(|c| c.is_ascii_digit()) || quoted_speaker(trimmed).is_some())
}

fn excerpt(text: &str) -> String {
    text.chars().take(ERROR_EXCERPT_CHARS).collect()
}

fn finish(pending: PendingCue, cues: &mut Vec<Cue>) {
    let joined = pending.payload.join(" ");
    let voice = voice_speaker(&joined);
    let mut text = collapse_whitespace(&decode_entities(&strip_tags(&joined)));
    let mut speaker = voice.or(pending.identifier_speaker);

    match &speaker {
        Some(name) => {
            // Some exports repeat the speaker as a prefix; drop the duplicate.
            if let Some((prefix, rest)) = speaker_prefix(&text)
                && prefix.eq_ignore_ascii_case(name)
            {
                text = rest.to_string();
            }
        }
        None => {
            if let Some((prefix, rest)) = speaker_prefix(&text) {
                speaker = Some(prefix.to_string());
                text = rest.to_string();
            }
        }
    }

    if text.is_empty() {
        return;
    }
    cues.push(Cue {
        start_ms: pending.start_ms,
        end_ms: pending.end_ms,
        speaker: speaker.filter(|s| !s.is_empty()),
        text,
    });
}

/// `start --> end [settings]`, in milliseconds.
fn parse_timing(line: &str) -> Option<(u64, u64)> {
    let (left, right) = line.split_once("-->")?;
    let start = parse_timestamp(left.trim())?;
    let end = parse_timestamp(right.split_whitespace().next()?)?;
    Some((start, end))
}

/// `HH:MM:SS.mmm` or `MM:SS.mmm`; a comma decimal separator and a missing or short
/// fraction are tolerated.
fn parse_timestamp(text: &str) -> Option<u64> {
    let (clock, fraction) = match text.split_once(['.', ',']) {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (text, None),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let (hours, minutes, seconds) = match parts.as_slice() {
        [h, m, s] => (parse_number(h)?, parse_number(m)?, parse_number(s)?),
        [m, s] => (0, parse_number(m)?, parse_number(s)?),
        _ => return None,
    };
    if minutes >= 60 || seconds >= 60 {
        return None;
    }
    let millis = match fraction {
        None => 0,
        Some(f) => parse_fraction_ms(f)?,
    };
    hours
        .checked_mul(3_600_000)?
        .checked_add(minutes * 60_000)?
        .checked_add(seconds * 1_000)?
        .checked_add(millis)
}

fn parse_number(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn parse_fraction_ms(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // ".5" is half a second; digits beyond milliseconds are dropped.
    let mut digits: String = text.chars().take(3).collect();
    while digits.len() < 3 {
        digits.push('0');
    }
    digits.parse().ok()
}

/// Webex meeting layout: `1 "Jane Doe" (123456789)`.
fn quoted_speaker(identifier: &str) -> Option<String> {
    let trimmed = identifier.trim();
    let rest = trimmed.trim_start_matches(|c: char| c.is_ascii_digit());
    if rest.len() == trimmed.len() {
        return None;
    }
    let rest = rest.trim_start();
    let (open, close) = match rest.chars().next()? {
        '"' => ('"', '"'),
        '“' => ('“', '”'),
        _ => return None,
    };
    let inner = &rest[open.len_utf8()..];
    let end = inner.find(close)?;
    let name = inner[..end].trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// Name from the first `<v Name>` or `<v.class Name>` tag.
fn voice_speaker(payload: &str) -> Option<String> {
    let mut rest = payload;
    while let Some(open) = rest.find("<v") {
        let after = &rest[open + 2..];
        let close = after.find('>')?;
        let tag = &after[..close];
        if tag.starts_with([' ', '\t', '.']) {
            let name = if tag.starts_with('.') {
                tag.split_once([' ', '\t']).map_or("", |(_, n)| n)
            } else {
                tag
            };
            let name = collapse_whitespace(&decode_entities(name));
            if !name.is_empty() {
                return Some(name);
            }
        }
        rest = &after[close..];
    }
    None
}

/// Removes `<...>` markup (voice, class, italics, inline timestamps). An unmatched `<` is text.
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        match rest[open..].find('>') {
            Some(close) => rest = &rest[open + close + 1..],
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_entities(text: &str) -> String {
    const ENTITIES: &[(&str, &str)] = &[
        ("&amp;", "&"),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&nbsp;", " "),
        ("&quot;", "\""),
        ("&apos;", "'"),
        ("&#39;", "'"),
        ("&lrm;", ""),
        ("&rlm;", ""),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let candidate = &rest[amp..];
        for (entity, replacement) in ENTITIES {
            if let Some(after) = candidate.strip_prefix(entity) {
                out.push_str(replacement);
                rest = after;
                continue 'scan;
            }
        }
        out.push('&');
        rest = &candidate[1..];
    }
    out.push_str(rest);
    out
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `Name: text` -> (`Name`, `text`) when the prefix looks like a name rather than a sentence.
fn speaker_prefix(text: &str) -> Option<(&str, &str)> {
    let (prefix, rest) = text.split_once(':')?;
    let prefix = prefix.trim();
    let rest = rest.trim();
    let looks_like_name = !prefix.is_empty()
        && !rest.is_empty()
        && prefix.chars().count() <= MAX_SPEAKER_PREFIX_CHARS
        && prefix.split_whitespace().count() <= MAX_SPEAKER_PREFIX_WORDS
        && prefix.chars().next().is_some_and(char::is_alphabetic)
        && !prefix
            .chars()
            .any(|c| matches!(c, '.' | ',' | ';' | '!' | '?' | '¿' | '¡' | '"' | '…' | '/'))
        // "a las 10:30", "https://..."
        && !rest.starts_with(|c: char| c.is_ascii_digit() || c == '/');
    looks_like_name.then_some((prefix, rest))
}

#[cfg(test)]
mod tests;
