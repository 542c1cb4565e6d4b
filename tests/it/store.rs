//! The store behaves the same on SQLite and PostgreSQL.

use std::collections::BTreeMap;

use call_analysis::{Sentiment, SentimentLabel, SummarySource};
use chrono::{Duration, TimeZone, Utc};
use webex_recordings::domain::{ProcessingStatus, Recording, RecordingId};
use webex_recordings::store::{Claim, RecordingSearch};

use crate::support::{BOTH, Db, TestDb};

fn id(s: &str) -> RecordingId {
    RecordingId::parse(s).expect("valid id")
}

fn recording(raw_id: &str, day: u32, status: ProcessingStatus) -> Recording {
    let at = Utc
        .with_ymd_and_hms(2026, 11, day, 10, 0, 0)
        .single()
        .expect("date");
    let mut r = Recording::pending(id(raw_id), at);
    r.timestamp = Some(at);
    r.processing_status = status;
    r
}

#[tokio::test]
async fn upserting_the_same_recording_twice_keeps_one_row_with_the_latest_fields() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let mut r = recording("rec-1", 3, ProcessingStatus::Processing);
        t.store.upsert_recording(&r).await.expect("first upsert");
        r.processing_status = ProcessingStatus::Completed;
        r.summary_text = Some("Llamada sobre una factura.".into());
        r.key_topics = vec!["factura".into(), "pago".into()];
        r.sentiment = Some(
            Sentiment {
                score: -0.4,
                label: SentimentLabel::Negative,
            }
            .into(),
        );
        r.summary_source = Some(SummarySource::Local);
        r.has_webex_transcript = true;
        r.audio_size_bytes = Some(204_800);
        r.quality_score = Some(0.875);
        r.processing_errors = BTreeMap::from([("translation".to_string(), "no key".to_string())]);
        r.webex_metadata = Some(serde_json::json!({"orgId": "o1"}));
        t.store.upsert_recording(&r).await.expect("second upsert");

        let page = t
            .store
            .search_recordings(&RecordingSearch {
                limit: 50,
                ..Default::default()
            })
            .await
            .expect("list");
        assert_eq!(page.total, 1, "{db:?}");
        let stored = t
            .store
            .get_recording(&id("rec-1"))
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(stored, r, "{db:?}: round trip changed the record");
    }
}

#[tokio::test]
async fn list_is_newest_first_with_filters_and_pagination() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        for day in 1..=9u32 {
            let status = if day % 3 == 0 {
                ProcessingStatus::Failed
            } else {
                ProcessingStatus::Completed
            };
            t.store
                .upsert_recording(&recording(&format!("rec-{day}"), day, status))
                .await
                .expect("upsert");
        }
        let all = t
            .store
            .search_recordings(&RecordingSearch {
                limit: 4,
                skip: 0,
                ..Default::default()
            })
            .await
            .expect("list");
        assert_eq!(all.total, 9);
        let ids: Vec<_> = all
            .hits
            .iter()
            .map(|h| h.recording.recording_id.to_string())
            .collect();
        assert_eq!(ids, ["rec-9", "rec-8", "rec-7", "rec-6"], "{db:?}");

        let page3 = t
            .store
            .search_recordings(&RecordingSearch {
                limit: 4,
                skip: 8,
                ..Default::default()
            })
            .await
            .expect("list");
        assert_eq!(page3.hits.len(), 1);
        assert_eq!(page3.hits[0].recording.recording_id.as_str(), "rec-1");

        let failed = t
            .store
            .search_recordings(&RecordingSearch {
                status: Some(ProcessingStatus::Failed),
                limit: 50,
                ..Default::default()
            })
            .await
            .expect("list");
        assert_eq!(failed.total, 3);
        assert!(
            failed
                .hits
                .iter()
                .all(|h| h.recording.processing_status == ProcessingStatus::Failed)
        );

        let from = Utc
            .with_ymd_and_hms(2026, 11, 4, 0, 0, 0)
            .single()
            .expect("date");
        let to = Utc
            .with_ymd_and_hms(2026, 11, 6, 23, 0, 0)
            .single()
            .expect("date");
        let window = t
            .store
            .search_recordings(&RecordingSearch {
                from: Some(from),
                to: Some(to),
                limit: 50,
                ..Default::default()
            })
            .await
            .expect("list");
        let ids: Vec<_> = window
            .hits
            .iter()
            .map(|h| h.recording.recording_id.to_string())
            .collect();
        assert_eq!(
            (window.total, ids),
            (3, vec!["rec-6".to_string(), "rec-5".into(), "rec-4".into()]),
            "{db:?}"
        );
    }
}

#[tokio::test]
async fn stats_add_up() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let mut a = recording("a", 1, ProcessingStatus::Completed);
        a.transcript_text = Some("Ana: hola".into());
        a.summary_text = Some("Resumen.".into());
        a.quality_score = Some(1.0);
        a.audio_size_bytes = Some(3 * 1024 * 1024);
        let mut b = recording("b", 2, ProcessingStatus::Partial);
        b.transcript_text = Some("Bob: hi".into());
        b.quality_score = Some(0.5);
        b.audio_size_bytes = Some(1024 * 1024);
        let c = recording("c", 3, ProcessingStatus::Failed);
        for r in [&a, &b, &c] {
            t.store.upsert_recording(r).await.expect("upsert");
        }
        let s = t.store.stats().await.expect("stats");
        assert_eq!(s.total_recordings, 3);
        assert_eq!(s.with_transcripts, 2);
        assert_eq!(s.with_summaries, 1);
        assert_eq!(s.average_quality_score, Some(0.75), "{db:?}");
        assert_eq!(s.total_storage_mb, 4.0);
        assert_eq!(s.by_status.get("completed"), Some(&1));
        assert_eq!(s.by_status.get("partial"), Some(&1));
        assert_eq!(s.by_status.get("failed"), Some(&1));
    }
}

#[tokio::test]
async fn a_claim_is_exclusive_until_the_heartbeat_goes_stale() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let rid = id("rec-claim");
        let now = Utc::now();
        let first = t
            .store
            .claim_recording(&rid, false, now, now - Duration::minutes(2))
            .await
            .expect("claim");
        assert!(matches!(first, Claim::Claimed(_)), "{db:?}: {first:?}");
        let second = t
            .store
            .claim_recording(&rid, true, now, now - Duration::minutes(2))
            .await
            .expect("claim");
        assert!(matches!(second, Claim::InProgress), "{db:?}: {second:?}");
        // Three minutes later with no heartbeat, the holder is presumed dead.
        let later = now + Duration::minutes(3);
        let third = t
            .store
            .claim_recording(&rid, false, later, later - Duration::minutes(2))
            .await
            .expect("claim");
        assert!(matches!(third, Claim::Claimed(_)), "{db:?}: {third:?}");

        let mut done = recording("rec-claim", 5, ProcessingStatus::Completed);
        done.created_at = now;
        t.store.upsert_recording(&done).await.expect("save");
        let again = t
            .store
            .claim_recording(&rid, false, later, later)
            .await
            .expect("claim");
        assert!(matches!(again, Claim::AlreadyDone), "{db:?}: {again:?}");
        let forced = t
            .store
            .claim_recording(&rid, true, later, later)
            .await
            .expect("claim");
        assert!(matches!(forced, Claim::Claimed(_)), "{db:?}: {forced:?}");
    }
}

#[tokio::test]
async fn a_deleted_recording_stays_deleted() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let rid = id("rec-del");
        t.store
            .mark_recording_deleted(&rid, Utc::now())
            .await
            .expect("delete");
        let claim = t
            .store
            .claim_recording(&rid, true, Utc::now(), Utc::now())
            .await
            .expect("claim");
        assert!(matches!(claim, Claim::Deleted), "{db:?}");
        // A late pipeline result does not resurrect it.
        t.store
            .upsert_recording(&recording("rec-del", 1, ProcessingStatus::Completed))
            .await
            .expect("upsert");
        let stored = t
            .store
            .get_recording(&rid)
            .await
            .expect("get")
            .expect("row");
        assert_eq!(
            stored.processing_status,
            ProcessingStatus::Deleted,
            "{db:?}"
        );
    }
}

/// Where a run stores a file is noted until the stored record names it; a later run's note
/// restarts the sweep's day of grace; once the recording is deleted, nothing more is noted.
#[tokio::test]
async fn a_file_is_noted_while_processing_until_the_record_names_it() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        let rid = id("rec-notes");
        let now = Utc::now();
        let days_ago = now - Duration::days(2);
        let audio = "/data/recordings/2025/03/05/rec-notes.mp3";
        let vtt = "/data/transcripts/2025/03/05/rec-notes.vtt";
        assert!(
            !t.store.note_file(&rid, audio, now).await.expect("note"),
            "{db:?}: no row"
        );
        t.store
            .claim_recording(&rid, false, now, now)
            .await
            .expect("claim");
        // A run two days ago, then one now that notes the transcript again.
        for location in [audio, vtt] {
            assert!(
                t.store
                    .note_file(&rid, location, days_ago)
                    .await
                    .expect("note")
            );
        }
        assert!(
            t.store
                .note_file(&rid, vtt, now)
                .await
                .expect("noted again")
        );
        let mut done = recording("rec-notes", 5, ProcessingStatus::Completed);
        done.audio_local_path = Some(audio.into());
        t.store.upsert_recording(&done).await.expect("save");
        assert_eq!(
            t.store.noted_files(&rid).await.expect("notes"),
            [vtt],
            "{db:?}"
        );

        // A run that lost its claim (taken over, or put back by a reconcile) is still writing.
        assert!(
            t.store.note_file(&rid, audio, now).await.expect("note"),
            "{db:?}: not being processed, not deleted"
        );
        t.store
            .mark_recording_deleted(&rid, now)
            .await
            .expect("delete");
        let late = "/data/recordings/2025/03/05/rec-notes.wav";
        assert!(
            !t.store.note_file(&rid, late, now).await.expect("note"),
            "{db:?}: deleted"
        );
        let noted = t.store.noted_files(&rid).await.expect("notes");
        assert_eq!(noted, [audio, vtt]);
        // Both latest notes are from now: none is a day old yet.
        let abandoned = |before| t.store.abandoned_notes(before, ("", ""), 10);
        let day_before = abandoned(now - Duration::days(1)).await.expect("abandoned");
        assert!(day_before.is_empty(), "{db:?}: {day_before:?}");
        let later = abandoned(now + Duration::seconds(1))
            .await
            .expect("abandoned");
        assert_eq!(later.len(), 2, "{db:?}");
        for location in &noted {
            t.store
                .forget_noted_file(rid.as_str(), location)
                .await
                .expect("forget");
        }
        assert!(t.store.noted_files(&rid).await.expect("notes").is_empty());
    }
}

#[tokio::test]
async fn recording_states_are_read_in_one_batch() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        t.store
            .upsert_recording(&recording("s1", 1, ProcessingStatus::Completed))
            .await
            .expect("upsert");
        t.store
            .upsert_recording(&recording("s2", 2, ProcessingStatus::Failed))
            .await
            .expect("upsert");
        let ids: Vec<_> = (0..1200)
            .map(|i| id(&format!("x{i}")))
            .chain([id("s1"), id("s2")])
            .collect();
        let states = t.store.recording_states(&ids).await.expect("states");
        assert_eq!(states.len(), 2, "{db:?}");
        assert_eq!(states[&id("s1")].status, ProcessingStatus::Completed);
        assert_eq!(states[&id("s2")].status, ProcessingStatus::Failed);
    }
}

#[tokio::test]
async fn decimal_columns_take_a_value_after_a_null_and_keep_their_decimals() {
    for db in BOTH {
        let t = TestDb::new(db).await;
        // Upserts binding every float as NULL, then values: a prepared statement typed by a
        // NULL must not refuse a value later on the same connection (the pool rotates its
        // connections, so a few rounds reach every one).
        for round in 0..8 {
            let empty = recording(
                &format!("floats-null-{round}"),
                3,
                ProcessingStatus::Pending,
            );
            t.store.upsert_recording(&empty).await.expect("nulls");
        }
        let mut r = recording("floats-1", 4, ProcessingStatus::Completed);
        r.duration = Some(180.5);
        r.quality_score = Some(1.0);
        r.language_confidence = Some(0.75);
        for _ in 0..8 {
            t.store
                .upsert_recording(&r)
                .await
                .expect("values after nulls");
        }
        let stored = t.store.get_recording(&id("floats-1")).await.expect("get");
        let stored = stored.expect("stored");
        assert_eq!(
            (
                stored.duration,
                stored.quality_score,
                stored.language_confidence
            ),
            (Some(180.5), Some(1.0), Some(0.75)),
            "{db:?}"
        );
    }
}

/// A save waits for another writer (up to the busy timeout) instead of failing at once with
/// "database is locked": a failed save sends the whole call through the pipeline again, its
/// paid LLM and speech-to-text requests included.
#[tokio::test]
async fn a_save_waits_for_another_writer_instead_of_failing() {
    let t = TestDb::new(Db::Sqlite).await;
    let r = recording("rec-wait", 4, ProcessingStatus::Completed);
    sqlx::any::install_default_drivers();
    let mut blocker = <sqlx::AnyConnection as sqlx::Connection>::connect(&t.url)
        .await
        .unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut blocker)
        .await
        .unwrap();
    let store = t.store.clone();
    let save = tokio::spawn(async move { store.save_recording(&r, &[]).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut blocker)
        .await
        .unwrap();
    let saved = save.await.unwrap();
    assert!(saved.is_ok(), "failed instead of waiting: {saved:?}");
    let stored = t.store.get_recording(&id("rec-wait")).await.unwrap();
    assert_eq!(
        stored.map(|s| s.processing_status),
        Some(ProcessingStatus::Completed)
    );
}
