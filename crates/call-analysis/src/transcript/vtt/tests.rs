//! The parser against the WebVTT it meets: well-formed, Webex's, and broken.

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
    let input = "WEBVTT\n\n00:05.000 --> 00:06.000\nsegundo\n\n00:01.000 --> 00:02.000\nprimero\n";
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
