//! Full-text search and the list filters, the same on SQLite and PostgreSQL.

use call_analysis::{Sentiment, SentimentLabel};
use chrono::{TimeZone, Utc};
use webex_recordings::domain::{ProcessingStatus, Recording, RecordingId};
use webex_recordings::search::SearchQuery;
use webex_recordings::store::{RecordingSearch, SearchPage, Store};

use std::path::Path;
use std::str::FromStr;

use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;

use crate::support::{BOTH, TestDb, connect};

/// A completed recording of day `day` (later day: newer) whose transcript is `transcript`.
fn call(raw_id: &str, day: u32, transcript: &str) -> Recording {
    let at = Utc
        .with_ymd_and_hms(2026, 11, day, 10, 0, 0)
        .single()
        .expect("date");
    let mut r = Recording::pending(RecordingId::parse(raw_id).expect("id"), at);
    r.timestamp = Some(at);
    r.processing_status = ProcessingStatus::Completed;
    r.transcript_text = Some(transcript.to_string());
    r
}

async fn store_all(store: &Store, recordings: &[Recording]) {
    for r in recordings {
        store.upsert_recording(r).await.expect("upsert");
    }
}

fn query(q: &str) -> RecordingSearch {
    RecordingSearch {
        q: SearchQuery::parse(q),
        limit: 50,
        ..Default::default()
    }
}

async fn ids(store: &Store, search: &RecordingSearch) -> Vec<String> {
    let page = run(store, search).await;
    page.hits
        .iter()
        .map(|h| h.recording.recording_id.as_str().to_string())
        .collect()
}

async fn run(store: &Store, search: &RecordingSearch) -> SearchPage {
    store.search_recordings(search).await.expect("search runs")
}

#[tokio::test]
async fn search_ignores_case_and_accents_in_every_language() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        store_all(
            &t.store,
            &[
                call("es", 1, "Revisamos la FACTURACIÓN de octubre."),
                call("fr", 2, "Le problème de l'élève est réglé."),
                call("de", 3, "Herr Müller möchte die Kündigung zurücknehmen."),
                call("other", 4, "Nothing to see here."),
            ],
        )
        .await;
        for (q, expected) in [
            ("facturacion", "es"),
            ("Facturación", "es"),
            ("PROBLEME eleve", "fr"),
            ("muller kundigung", "de"),
        ] {
            assert_eq!(ids(&t.store, &query(q)).await, [expected], "{db:?}: {q}");
        }
    }
}

#[tokio::test]
async fn every_word_must_match_and_a_quoted_phrase_matches_in_order() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        store_all(
            &t.store,
            &[
                call("in-order", 1, "Tengo la tarjeta de crédito bloqueada."),
                call(
                    "scattered",
                    2,
                    "El crédito no llegó, pero la tarjeta de débito sí.",
                ),
                call("one-word", 3, "Solo hablamos de la tarjeta."),
            ],
        )
        .await;
        let mut both = ids(&t.store, &query("tarjeta credito")).await;
        both.sort();
        assert_eq!(both, ["in-order", "scattered"], "{db:?}");
        assert_eq!(
            ids(&t.store, &query("\"tarjeta de credito\"")).await,
            ["in-order"],
            "{db:?}"
        );
        assert_eq!(
            ids(&t.store, &query("bloqueada \"tarjeta de crédito\"")).await,
            ["in-order"],
            "{db:?}"
        );
        assert!(
            ids(&t.store, &query("tarjeta inexistente"))
                .await
                .is_empty()
        );
    }
}

#[tokio::test]
async fn results_are_ranked_by_relevance_then_newest() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let mut strong = call("strong", 1, "Una llamada sobre el reembolso del pedido.");
        strong.summary_text = Some("El cliente pide un reembolso.".into());
        strong.key_topics = vec!["reembolso".into()];
        strong.caller_name = Some("Reembolso Team".into());
        store_all(
            &t.store,
            &[
                strong,
                call(
                    "weak-older",
                    2,
                    "Al final se habló de un reembolso pequeño y de otras cosas.",
                ),
                call(
                    "weak-newer",
                    3,
                    "Al final se habló de un reembolso pequeño y de otras cosas.",
                ),
            ],
        )
        .await;
        assert_eq!(
            ids(&t.store, &query("reembolso")).await,
            ["strong", "weak-newer", "weak-older"],
            "{db:?}"
        );
    }
}

#[tokio::test]
async fn the_highlight_marks_hits_and_shows_markup_as_text() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let long_tail = " y luego seguimos hablando".repeat(40);
        store_all(
            &t.store,
            &[call(
                "xss",
                1,
                &format!("<script>alert('x')</script> Quiero un Reembolso & nada más.{long_tail}"),
            )],
        )
        .await;
        let page = run(&t.store, &query("reembolso")).await;
        let highlight = page.hits[0].highlight.clone().expect("a highlight with q");
        assert!(
            highlight.contains("<mark>Reembolso</mark>"),
            "{db:?}: {highlight}"
        );
        assert!(
            highlight.starts_with("&#60;script&#62;alert(&#39;x&#39;)"),
            "{db:?}: {highlight}"
        );
        assert!(highlight.contains("&#38; nada"), "{db:?}: {highlight}");
        assert!(!highlight.contains("<script"), "{db:?}: {highlight}");
        assert!(highlight.chars().count() <= 300, "{db:?}: {highlight}");
        // Without a query there is nothing to highlight.
        let listed = run(&t.store, &query("")).await;
        assert_eq!(listed.hits[0].highlight, None);

        // A name found only in part ("brien" of "O'Brien", as both indexes split it) is the
        // excerpt, each side once with its number.
        let mut named = call("named", 2, "Buenos días, le llamo por la factura.");
        named.caller_name = Some("Sean O'Brien".into());
        named.caller = Some("+34600111222".into());
        named.callee = Some("4060".into());
        store_all(&t.store, &[named]).await;
        let page = run(&t.store, &query("brien")).await;
        assert_eq!(page.total, 1, "{db:?}");
        assert_eq!(
            page.hits[0].highlight.as_deref(),
            Some("Sean O&#39;<mark>Brien</mark> (+34600111222) → 4060"),
            "{db:?}"
        );
    }
}

#[tokio::test]
async fn filters_combine_with_the_query_and_the_total_is_exact() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let mut all = Vec::new();
        for day in 1..=12u32 {
            let mut r = call(
                &format!("c{day}"),
                day,
                "Consulta sobre la factura del mes.",
            );
            r.sentiment = Some(
                Sentiment {
                    score: if day % 2 == 0 { -0.6 } else { 0.5 },
                    label: if day % 2 == 0 {
                        SentimentLabel::Negative
                    } else {
                        SentimentLabel::Positive
                    },
                }
                .into(),
            );
            r.detected_language = Some(if day <= 6 { "es" } else { "en" }.into());
            r.duration = Some(f64::from(day) * 60.0);
            r.caller_name = Some(
                if day % 3 == 0 {
                    "Ana García"
                } else {
                    "Luis Pérez"
                }
                .into(),
            );
            r.callee = Some(format!("+3491000{day:04}"));
            all.push(r);
        }
        all.push(call("no-invoice", 13, "Otra cosa distinta."));
        store_all(&t.store, &all).await;

        // A phrase is counted another way than loose words on PostgreSQL: both are exact.
        for q in ["factura", "\"la factura\""] {
            let page = run(
                &t.store,
                &RecordingSearch {
                    limit: 2,
                    skip: 1,
                    ..query(q)
                },
            )
            .await;
            assert_eq!(page.total, 12, "{db:?} {q}");
            assert_eq!(page.hits.len(), 2, "{db:?} {q}");
            let past_the_end = run(
                &t.store,
                &RecordingSearch {
                    skip: 100,
                    ..query(q)
                },
            )
            .await;
            assert_eq!(
                (past_the_end.total, past_the_end.hits.len()),
                (12, 0),
                "{q}"
            );

            let narrowed = RecordingSearch {
                sentiment: Some(SentimentLabel::Negative),
                language: Some("es".into()),
                participant: Some("GARCÍA".to_lowercase()),
                min_duration: Some(300.0),
                max_duration: Some(400.0),
                ..query(q)
            };
            let page = run(&t.store, &narrowed).await;
            assert_eq!(page.total, 1, "{db:?} {q}");
            assert_eq!(page.hits[0].recording.recording_id.as_str(), "c6");
        }
        let no_match = run(&t.store, &query("\"factura la\"")).await;
        assert_eq!((no_match.total, no_match.hits.len()), (0, 0), "{db:?}");

        let by_number = RecordingSearch {
            participant: Some("0007".into()),
            ..query("factura")
        };
        assert_eq!(ids(&t.store, &by_number).await, ["c7"], "{db:?}");
        // A `%` is a character to find, not a wildcard.
        let literal = RecordingSearch {
            participant: Some("%".into()),
            ..query("")
        };
        assert_eq!(run(&t.store, &literal).await.total, 0, "{db:?}");
        let failed_only = RecordingSearch {
            status: Some(ProcessingStatus::Failed),
            ..query("factura")
        };
        assert_eq!(run(&t.store, &failed_only).await.total, 0, "{db:?}");
    }
}

#[tokio::test]
async fn the_participant_filter_ignores_case_and_accents_within_one_field() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let mut garcia = call("garcia", 1, "Hola.");
        garcia.caller_name = Some("JOSÉ GARCÍA".into());
        garcia.callee = Some("+34910000001".into());
        let mut other = call("other", 2, "Hola.");
        other.caller_name = Some("Ana".into());
        other.callee_name = Some("Bob Smith".into());
        other.callee = Some("ЖУКОВ".into());
        store_all(&t.store, &[garcia.clone(), other]).await;

        let by = |participant: &str| RecordingSearch {
            participant: Some(participant.into()),
            ..query("")
        };
        for (participant, expected) in [
            ("garcia", &["garcia"][..]),
            ("García", &["garcia"]),
            ("josé garc", &["garcia"]),
            ("0000001", &["garcia"]),
            ("SMITH", &["other"]),
            ("bo", &["other"]),
            // "Ana" and "Bob Smith" are two fields: no match spans them.
            ("ana bob", &[]),
            ("ana\u{1f}bob", &[]),
            // Full-width `％` and `＿` fold to `%` and `_`: still characters, not wildcards.
            ("＿", &[]),
            ("％", &[]),
            ("ЖУКОВ", &["other"]),
        ] {
            assert_eq!(
                ids(&t.store, &by(participant)).await,
                expected,
                "{db:?} {participant:?}"
            );
        }

        // Renamed (a re-run learnt another name): the old name is no longer found.
        garcia.caller_name = Some("Lucía Núñez".into());
        t.store.upsert_recording(&garcia).await.expect("rename");
        assert!(ids(&t.store, &by("garcia")).await.is_empty(), "{db:?}");
        assert_eq!(ids(&t.store, &by("NUNEZ")).await, ["garcia"], "{db:?}");
    }
}

/// A database made before the participant index gets it filled when it is upgraded.
#[tokio::test]
async fn upgrading_indexes_the_participants_of_calls_stored_before() {
    const PARTICIPANT_INDEX: i64 = 20261207010001;
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let mut before = Migrator::new(Path::new("migrations/sqlite"))
        .await
        .expect("migrations");
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version < PARTICIPANT_INDEX)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    let old = SqlitePool::connect_with(
        SqliteConnectOptions::from_str(&url)
            .expect("url")
            .create_if_missing(true),
    )
    .await
    .expect("old database");
    before.run(&old).await.expect("old schema");
    sqlx::query(
        "INSERT INTO recordings \
         (recording_id, sort_at, caller_name, processing_status, created_at, updated_at) \
         VALUES ('old', 0, 'JOSÉ GARCÍA', 'completed', 0, 0)",
    )
    .execute(&old)
    .await
    .expect("a call stored before");
    old.close().await;

    let store = connect(&url).await;
    let search = RecordingSearch {
        participant: Some("garcia".into()),
        ..query("")
    };
    assert_eq!(ids(&store, &search).await, ["old"]);
}

#[tokio::test]
async fn deleted_recordings_are_not_found_and_reprocessing_reindexes() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let mut r = call("rec", 1, "Hablamos de la garantía.");
        store_all(
            &t.store,
            &[r.clone(), call("kept", 2, "La garantía sigue.")],
        )
        .await;

        // A reprocess rewrites the record: the old words go, the new ones are found.
        r.transcript_text = Some("Hablamos de la devolución.".into());
        t.store.upsert_recording(&r).await.expect("reprocess");
        assert_eq!(ids(&t.store, &query("devolucion")).await, ["rec"], "{db:?}");
        assert_eq!(ids(&t.store, &query("garantia")).await, ["kept"], "{db:?}");

        t.store
            .mark_recording_deleted(&r.recording_id, Utc::now())
            .await
            .expect("delete");
        assert!(
            ids(&t.store, &query("devolucion")).await.is_empty(),
            "{db:?}"
        );
        let page = run(&t.store, &query("")).await;
        assert_eq!(page.total, 1, "{db:?}: the default list leaves deleted out");
        let deleted = RecordingSearch {
            status: Some(ProcessingStatus::Deleted),
            ..query("")
        };
        assert_eq!(ids(&t.store, &deleted).await, ["rec"], "{db:?}");
    }
}
