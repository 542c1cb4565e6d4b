//! Writing a transcript back out as WebVTT (the redacted VTT kept on disk).

use std::fmt::Write;

use super::Transcript;

/// `HH:MM:SS.mmm`.
fn timestamp(ms: u64) -> String {
    let (hours, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (minutes, rest) = (rest / 60_000, rest % 60_000);
    format!(
        "{hours:02}:{minutes:02}:{:02}.{:03}",
        rest / 1000,
        rest % 1000
    )
}

/// Cue text may not hold `<`, `&` or the `-->` arrow unescaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A WebVTT document with one cue per cue, timings kept, speakers as `<v Name>` voice tags.
pub fn to_vtt(transcript: &Transcript) -> String {
    let mut out = String::from("WEBVTT\n");
    for (i, cue) in transcript.cues.iter().enumerate() {
        let _ = write!(
            out,
            "\n{}\n{} --> {}\n",
            i + 1,
            timestamp(cue.start_ms),
            timestamp(cue.end_ms)
        );
        // A cue's text is one line: a blank line inside would end the cue early.
        let text = escape(&cue.text.split_whitespace().collect::<Vec<_>>().join(" "));
        match &cue.speaker {
            Some(speaker) => {
                let _ = writeln!(out, "<v {}>{text}", escape(speaker));
            }
            None => {
                let _ = writeln!(out, "{text}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::{Cue, vtt};

    #[test]
    fn renders_what_the_parser_reads_back() {
        let transcript = Transcript {
            cues: vec![
                Cue {
                    start_ms: 1_500,
                    end_ms: 4_250,
                    speaker: Some("Ana Gil".into()),
                    text: "La tarjeta es la [CARD], <b>vale</b> & ya".into(),
                },
                Cue {
                    start_ms: 3_723_004,
                    end_ms: 3_725_000,
                    speaker: None,
                    text: "Gracias.".into(),
                },
            ],
        };
        let rendered = to_vtt(&transcript);
        assert!(
            rendered.contains("01:02:03.004 --> 01:02:05.000"),
            "{rendered}"
        );
        assert_eq!(vtt::parse(&rendered), Ok(transcript));
    }
}
