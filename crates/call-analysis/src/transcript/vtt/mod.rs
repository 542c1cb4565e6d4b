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
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cue(start_ms: u64, end_ms: u64, speaker: Option<&str>, text: &str) -> Cue {
        Cue {
            start_ms,
            end_ms,
            speaker: speaker.map(str::to_string),
            text: text.to_string(),
        }
    }

    #[test]
    fn documents_parse_to_these_cues() {
        let cases: [(&str, &str, Vec<Cue>); 9] = [
            (
                "Webex identifiers with quoted speakers",
                "WEBVTT\n\n1 \"Jane Doe\" (123456789)\n00:00:00.000 --> 00:00:04.500\nHola, buenos días.\n\n2 \"Juan Pérez\" (987654321)\n00:00:04.500 --> 00:00:07.250\nBuenos días, llamo por la factura.\n",
                vec![
                    cue(0, 4500, Some("Jane Doe"), "Hola, buenos días."),
                    cue(
                        4500,
                        7250,
                        Some("Juan Pérez"),
                        "Buenos días, llamo por la factura.",
                    ),
                ],
            ),
            (
                "voice tags and other tags are stripped",
                "WEBVTT\n\n00:01.000 --> 00:02.000\n<v Roger Bingham>We are in <i>New York</i> <c.loud>City</c></v>\n\n00:02.000 --> 00:03.000\n<v.first.loud Esme>It's a <00:02.500>blue apple tree!\n",
                vec![
                    cue(1000, 2000, Some("Roger Bingham"), "We are in New York City"),
                    cue(2000, 3000, Some("Esme"), "It's a blue apple tree!"),
                ],
            ),
            (
                "a duplicate prefix of a known speaker is removed",
                "WEBVTT\n\n1 \"Jane Doe\" (1)\n00:00.000 --> 00:01.000\nJane Doe: hello\n",
                vec![cue(0, 1000, Some("Jane Doe"), "hello")],
            ),
            (
                "multi-line payloads are joined with a space",
                "WEBVTT\n\n7\n00:00:10.000 --> 00:00:12.000 align:start position:10%\nprimera línea\n  segunda línea\n",
                vec![cue(10_000, 12_000, None, "primera línea segunda línea")],
            ),
            (
                "NOTE, STYLE and REGION blocks are skipped",
                "WEBVTT - Webex\nKind: captions\n\nNOTE esto es un comentario\n00:00:00.000 --> 00:00:01.000 no es cue\n\nSTYLE\n::cue { color: red }\n\nREGION\nid:fred\n\nNOTE\nvarias\nlíneas\n\n00:00:01.000 --> 00:00:02.000\nTexto real\n",
                vec![cue(1000, 2000, None, "Texto real")],
            ),
            (
                "CRLF and BOM are accepted",
                "\u{feff}WEBVTT\r\n\r\n1\r\n00:00:01.000 --> 00:00:02.500\r\n<v Ana>Hola\r\nqué tal\r\n\r\n",
                vec![cue(1000, 2500, Some("Ana"), "Hola qué tal")],
            ),
            (
                "cues without blank lines between them",
                "WEBVTT\n1 \"Ana\" (1)\n00:00.000 --> 00:01.000\nhola\n2 \"Luis\" (2)\n00:01.000 --> 00:02.000\nadiós\n",
                vec![
                    cue(0, 1000, Some("Ana"), "hola"),
                    cue(1000, 2000, Some("Luis"), "adiós"),
                ],
            ),
            (
                "some bad cues among good ones are skipped",
                "WEBVTT\n\n00:xx --> 00:01.000\nmala\n\n00:02.000 --> 00:03.000\nbuena\n",
                vec![cue(2000, 3000, None, "buena")],
            ),
            (
                "an end before the start is clamped",
                "WEBVTT\n\n00:05.000 --> 00:01.000\nhola\n",
                vec![cue(5000, 5000, None, "hola")],
            ),
        ];
        for (what, input, expected) in cases {
            assert_eq!(parse(input).unwrap().cues, expected, "{what}");
        }
    }

    #[test]
    fn name_prefix_gives_speaker() {
        let input = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nAna García: Le llamo por la factura.\n\n00:00:02.000 --> 00:00:03.000\nNota: algo\n";
        let transcript = parse(input).unwrap();
        assert_eq!(transcript.cues[0].speaker.as_deref(), Some("Ana García"));
        assert_eq!(transcript.cues[0].text, "Le llamo por la factura.");
        // Leaning to accept: short prefixes count as names.
        assert_eq!(transcript.cues[1].speaker.as_deref(), Some("Nota"));
        assert_eq!(transcript.cues[1].text, "algo");
    }

    #[test]
    fn sentence_like_prefixes_are_not_speakers() {
        let input = "WEBVTT\n\n00:01.000 --> 00:02.000\nQuedamos a las 10:30 mañana\n\n00:02.000 --> 00:03.000\nLo que le dije antes, básicamente, es esto: pague ya\n\n00:03.000 --> 00:04.000\nMire la web https://example.com\n\n00:04.000 --> 00:05.000\nBueno pues entonces yo creo que sí lo haremos: mañana\n";
        let transcript = parse(input).unwrap();
        assert!(transcript.cues.iter().all(|c| c.speaker.is_none()));
        assert_eq!(transcript.cues[0].text, "Quedamos a las 10:30 mañana");
        assert_eq!(transcript.cues[2].text, "Mire la web https://example.com");
    }

    #[test]
    fn hourless_and_long_timestamps() {
        let input = "WEBVTT\n\n01:02.003 --> 01:04.5\nuno\n\n10:00:00,250 --> 10:00:01.000\ndos\n";
        let transcript = parse(input).unwrap();
        assert_eq!(transcript.cues[0].start_ms, 62_003);
        assert_eq!(transcript.cues[0].end_ms, 64_500);
        assert_eq!(transcript.cues[1].start_ms, 36_000_250);
    }

    #[test]
    fn entities_are_decoded_after_tags_are_stripped() {
        let input = "WEBVTT\n\n00:00.000 --> 00:01.000\nA &amp; B &lt;c&gt;&nbsp;x &unknown;\n";
        let transcript = parse(input).unwrap();
        assert_eq!(transcript.cues[0].text, "A & B <c> x &unknown;");
    }

    #[test]
    fn cues_are_sorted_by_start() {
        let input =
            "WEBVTT\n\n00:05.000 --> 00:06.000\nsegundo\n\n00:01.000 --> 00:02.000\nprimero\n";
        let transcript = parse(input).unwrap();
        let texts: Vec<&str> = transcript.cues.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, vec!["primero", "segundo"]);
    }

    #[test]
    fn header_only_is_an_empty_transcript() {
        assert_eq!(parse("WEBVTT\n").unwrap().cues, vec![]);
        assert_eq!(parse("WEBVTT\n\nNOTE nothing yet\n").unwrap().cues, vec![]);
    }

    #[test]
    fn missing_header_is_an_error() {
        assert_eq!(
            parse("00:00.000 --> 00:01.000\nhola\n"),
            Err(VttError::MissingHeader)
        );
        assert_eq!(parse(""), Err(VttError::MissingHeader));
        assert_eq!(parse("WEBVTTX\n"), Err(VttError::MissingHeader));
    }

    #[test]
    fn garbage_is_an_error() {
        assert_eq!(parse("\u{0}\u{1}binary"), Err(VttError::NotText));
        assert_eq!(
            parse("WEBVTT\n\njust some text\nwithout timings\n"),
            Err(VttError::NoTimingLines)
        );
        assert_eq!(
            parse("WEBVTT\n\n00:xx.000 --> 00:01.000\nhola\n\n1:2:3:4 --> 5\nadiós\n"),
            Err(VttError::MalformedTiming {
                line: 3,
                text: "00:xx.000 --> 00:01.000".to_string()
            })
        );
        assert_eq!(
            parse("WEBVTT\n\n00:99.000 --> 01:00.000\nseconds out of range\n"),
            Err(VttError::MalformedTiming {
                line: 3,
                text: "00:99.000 --> 01:00.000".to_string()
            })
        );
    }

    #[test]
    fn error_messages_are_readable() {
        assert_eq!(
            VttError::MalformedTiming {
                line: 4,
                text: "x --> y".into()
            }
            .to_string(),
            "no valid cues: malformed timing on line 4: \"x --> y\""
        );
    }

    #[test]
    fn mutated_valid_documents_never_panic() {
        let base = "\u{feff}WEBVTT\r\n\r\n1 \"Jane Doe\" (1)\r\n00:00:01.000 --> 00:00:02.000\r\n<v Ana>Año &amp; niño: ¿qué?</v>\r\n\r\nNOTE x\r\n\r\n02:03.5 --> 02:04.000\r\nJuan: bien\r\n";
        let chars: Vec<char> = base.chars().collect();
        for cut in 0..=chars.len() {
            let truncated: String = chars[..cut].iter().collect();
            let _ = parse(&truncated);
            for (i, replacement) in ['<', '>', ':', '"', '&', '\n', '.', 'é', '-']
                .iter()
                .enumerate()
            {
                let mut mutated = chars.clone();
                if cut < mutated.len() {
                    mutated[cut] = *replacement;
                } else {
                    mutated.push(*replacement);
                }
                if i % 2 == 0 {
                    mutated.insert(cut.min(mutated.len()), 'ñ');
                }
                let text: String = mutated.iter().collect();
                let _ = parse(&text);
            }
        }
    }

    proptest! {
        #[test]
        fn arbitrary_input_never_panics(input in any::<String>()) {
            let _ = parse(&input);
        }

        #[test]
        fn vtt_like_input_never_panics(
            body in proptest::collection::vec(
                prop_oneof![
                    Just("WEBVTT".to_string()),
                    Just("-->".to_string()),
                    Just("<v ".to_string()),
                    Just("\"".to_string()),
                    Just("&amp;".to_string()),
                    Just("NOTE".to_string()),
                    "[0-9:.,]{0,14}",
                    "\\PC{0,12}",
                    Just("\n".to_string()),
                    Just("\r\n".to_string()),
                ],
                0..40,
            )
        ) {
            let input = format!("WEBVTT\n\n{}", body.join(" "));
            let _ = parse(&input);
        }
    }
}
