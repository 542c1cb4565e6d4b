//! Redaction through the whole pipeline: a Webex VTT in which a customer reads card data
//! aloud, a fake LLM that records what it is sent and echoes a card number back, and a look
//! at everything the service keeps: the stored record, the VTT on disk, the SQLite files.

use std::time::Duration;

use call_analysis::redact::RedactKinds;
use serde_json::{Value, json};
use wiremock::{MockServer, Request};

use crate::fake_webex::{FakeRecording, on};
use crate::pipeline_ai::{
    CHAT_PATH, Setup, chat_client, completion, find, process_in, requests_to,
};
use crate::support::{Db, TestDb};

const CARD_ID: &str = "cd0000000000000000000000000000d4";

/// A card read digit by digit across two turns of the customer (the agent's "Sí." between),
/// an expiry and a CVV after their cue words, and a second card written out.
const CARD_VTT: &str = "WEBVTT

00:00:00.000 --> 00:00:04.000
<v Ana García>Hola, quiero pagar la factura pendiente con tarjeta.

00:00:04.500 --> 00:00:08.000
<v Carlos Ruiz>Claro, dígame el número de la tarjeta.

00:00:08.500 --> 00:00:14.000
<v Ana García>Es la cuatro cinco cinco seis, siete tres siete cinco,

00:00:14.500 --> 00:00:15.500
<v Carlos Ruiz>Sí.

00:00:16.000 --> 00:00:21.000
<v Ana García>ocho seis ocho nueve, nueve ocho cinco cinco.

00:00:21.500 --> 00:00:25.000
<v Carlos Ruiz>¿La fecha de caducidad y el código de seguridad?

00:00:25.500 --> 00:00:30.000
<v Ana García>Caduca el 12/28 y el código de seguridad es 731. La otra tarjeta es 5425 2334 3010 9903.
";

/// What must appear nowhere the service keeps or sends: the cards in every form they were said.
const CARD_FORMS: &[&str] = &[
    "4556737586899855",
    "4556 7375",
    "cuatro cinco cinco seis",
    "siete tres siete cinco",
    "ocho seis ocho nueve",
    "nueve ocho cinco cinco",
    "5425233430109903",
    "5425 2334 3010 9903",
    "4916338506082832",
];

fn assert_no_card(what: &str, bytes: &[u8]) {
    for form in CARD_FORMS {
        assert!(!find(bytes, form.as_bytes()), "{form:?} found in {what}");
    }
}

/// A model that repeats the card number it should never have seen, in the analysis and in
/// the translation: what it returns must be redacted again.
async fn echoing_llm() -> MockServer {
    let ai = MockServer::start().await;
    let analysis = json!({
        "summary": "Ana pagó la factura con la tarjeta 4556 7375 8689 9855.",
        "bullet_points": ["Pago con tarjeta 4556737586899855"],
        "key_topics": ["pago"],
        "action_items": ["Confirmar el cargo en la tarjeta 5425 2334 3010 9903"],
        "sentiment": {"score": 0.2, "label": "neutral"}
    })
    .to_string();
    on("POST", CHAT_PATH)
        .respond_with(move |request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            if body["response_format"]["type"] == "json_object" {
                completion(&analysis)
            } else {
                completion("Ana García: It is card 4556737586899855, expiring 12/28.")
            }
        })
        .mount(&ai)
        .await;
    ai
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn card_data_never_reaches_the_llm_the_record_the_vtt_or_the_database() {
    let ai = echoing_llm().await;
    let db = TestDb::new(Db::Sqlite).await;
    let data = tempfile::tempdir().unwrap();
    let setup = Setup {
        chat: Some(chat_client(&ai, Duration::from_secs(10))),
        stt: None,
        translate_to: Some("en".into()),
    };
    // Typed into the title and name fields too: the caller's name in the metadata, the
    // callee's from the People API.
    let mut card_call = FakeRecording::new(CARD_ID, Some(CARD_VTT));
    card_call.topic = "Disputa tarjeta 4916338506082832";
    card_call.service_data = json!({
        "callingParty": {"name": "Ana 4916 3385 0608 2832", "number": "+34600111222"},
        "calledParty": {"actor": {"type": "PERSON", "id": "person-card"}, "number": "4060"},
        "callActivity": [{"participants": [{"name": "Ana 4916338506082832"}]}]
    });
    card_call.person = Some(("person-card", "Carlos 5425233430109903"));
    let recs = [card_call];
    let rec = process_in(&recs, setup, RedactKinds::default(), &db, data.path())
        .await
        .remove(0);
    assert_eq!(
        (rec.caller_name.as_deref(), rec.callee_name.as_deref()),
        (Some("Ana [CARD]"), Some("Carlos [CARD]"))
    );
    assert_eq!(
        rec.webex_metadata
            .as_ref()
            .map(|m| m["recording"]["topic"].clone()),
        Some(json!("Disputa tarjeta [CARD]"))
    );
    assert_eq!(rec.participants, ["Ana [CARD]"]);

    // The LLM was used, for the analysis and the translation, and saw no card.
    let sent = requests_to(&ai, CHAT_PATH).await;
    assert_eq!(sent.len(), 2, "one analysis and one translation request");
    for request in &sent {
        assert_no_card("an LLM request", &request.body);
        assert!(
            find(&request.body, b"[CARD]"),
            "the LLM sees where the card was"
        );
    }

    // The record: the transcript, the cues, and what the LLM returned.
    let transcript = rec.transcript_text.as_deref().unwrap_or_default();
    assert!(
        transcript.contains("Ana García: Es la [CARD],\nCarlos Ruiz: Sí.\nAna García: [CARD]."),
        "{transcript}"
    );
    assert!(
        transcript.contains(
            "Caduca el [EXPIRY] y el código de seguridad es [CVV]. La otra tarjeta es [CARD]."
        ),
        "{transcript}"
    );
    assert_eq!(
        rec.summary_text.as_deref(),
        Some("Ana pagó la factura con la tarjeta [CARD].")
    );
    assert_eq!(rec.summary_bullet_points, ["Pago con tarjeta [CARD]"]);
    assert_eq!(
        rec.action_items,
        ["Confirmar el cargo en la tarjeta [CARD]"]
    );
    assert_eq!(
        rec.translated_text.as_deref(),
        Some("Ana García: It is card [CARD], expiring 12/28.")
    );
    let record = serde_json::to_string(&rec).unwrap();
    let cues = serde_json::to_string(&rec.transcript_cues).unwrap();
    assert_no_card("the stored record", format!("{record}{cues}").as_bytes());

    // The recording JSON lists where, never what.
    let json: Value = serde_json::from_str(&record).unwrap();
    assert_eq!(
        json["redactions"],
        json!([
            {"kind": "card", "start": 8.5, "end": 21.0},
            {"kind": "expiry", "start": 25.5, "end": 30.0},
            {"kind": "cvv", "start": 25.5, "end": 30.0},
            {"kind": "card", "start": 25.5, "end": 30.0},
        ])
    );

    // The VTT on disk is the redacted one, timings kept.
    let vtt_path = rec.transcript_vtt_path.as_deref().expect("VTT kept");
    let vtt = std::fs::read(vtt_path).unwrap();
    assert_no_card("the VTT file", &vtt);
    let vtt = String::from_utf8(vtt).unwrap();
    assert!(
        vtt.contains("00:00:08.500 --> 00:00:14.000\n<v Ana García>Es la [CARD],"),
        "{vtt}"
    );

    // Nor the database file, nor its write-ahead log, byte for byte.
    let db_path = db.url.trim_start_matches("sqlite://");
    let mut files = 0;
    for suffix in ["", "-wal"] {
        if let Ok(bytes) = std::fs::read(format!("{db_path}{suffix}")) {
            assert_no_card(&format!("the database file{suffix}"), &bytes);
            files += 1;
        }
    }
    assert!(files >= 1, "the database file is at {db_path}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_in_a_broken_vtt_line_is_redacted_in_the_error_that_quotes_it() {
    let db = TestDb::new(Db::Sqlite).await;
    let data = tempfile::tempdir().unwrap();
    let broken = "WEBVTT\n\n00:00:xx.000 --> 5425 2334 3010 9903\nhola\n";
    let setup = Setup {
        chat: None,
        stt: None,
        translate_to: None,
    };
    let recs = [FakeRecording::new(CARD_ID, Some(broken))];
    let rec = process_in(&recs, setup, RedactKinds::default(), &db, data.path())
        .await
        .remove(0);
    let error = rec
        .processing_errors
        .get("transcript")
        .expect("the VTT is refused");
    assert!(error.contains("[CARD]"), "{error}");
    assert_no_card("the transcript's error", error.as_bytes());
}
