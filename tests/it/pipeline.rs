//! The pipeline end to end: a fake Webex (wiremock), real databases and queues.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use call_analysis::SummarySource;
use call_analysis::redact::RedactKinds;
use call_analysis::transcript::vtt;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use webex_recordings::domain::{
    MessageSource, ProcessingStatus, QueueMessage, RecordingEvent, RecordingId,
};
use webex_recordings::pipeline::{Pipeline, PipelineDeps, PipelineSettings, run_consumer};
use webex_recordings::queue::amqp::{AmqpQueue, AmqpSettings};
use webex_recordings::queue::embedded::{EmbeddedQueue, EmbeddedSettings};
use webex_recordings::queue::{Consumer, MAX_DELIVERY_ATTEMPTS, Publisher};
use webex_recordings::retention::{purge_expired, remove_recording_files, sweep_noted_files};
use webex_recordings::retry::RetryPolicy;
use webex_recordings::store::{QueueRow, RecordingSearch, Store};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fake_webex::*;
use crate::support::{Db, TestDb, wait_until};

fn pipeline(
    store: &Store,
    server: &MockServer,
    data_dir: &Path,
    retry_base: Duration,
) -> Arc<Pipeline> {
    Arc::new(Pipeline::new(PipelineDeps {
        store: store.clone(),
        webex: webex(server),
        storage: webex_recordings::storage::Storage::local(data_dir.to_path_buf()),
        chat: None,
        stt: None,
        summary_language: "es".into(),
        translate_to: None,
        redact: RedactKinds::default(),
        settings: PipelineSettings {
            heartbeat: Duration::from_millis(100),
            stale_after: Duration::from_millis(500),
            retry: RetryPolicy {
                base_delay: retry_base,
                max_delay: retry_base * 4,
                ..PipelineSettings::default().retry
            },
            ..PipelineSettings::default()
        },
    }))
}

/// An embedded queue on `store` holding `messages`, and a worker of two on it against `server`
/// (retries from 20 ms).
async fn embedded_worker(
    store: &Store,
    server: &MockServer,
    data_dir: &Path,
    messages: &[QueueMessage],
) -> (Arc<EmbeddedQueue>, Worker) {
    let queue = embedded(store);
    for message in messages {
        queue.publish(message).await.unwrap();
    }
    let worker = Worker::start(
        queue.clone(),
        pipeline(store, server, data_dir, Duration::from_millis(20)),
        2,
    );
    (queue, worker)
}

fn embedded(store: &Store) -> Arc<EmbeddedQueue> {
    Arc::new(EmbeddedQueue::new(
        store.clone(),
        EmbeddedSettings {
            lease: Duration::from_secs(1),
            poll_interval: Duration::from_millis(50),
        },
    ))
}

fn created(id: &str) -> QueueMessage {
    QueueMessage::new(
        MessageSource::Webhook,
        RecordingEvent::Created,
        RecordingId::parse(id).unwrap(),
        Some("org-1".into()),
        None,
    )
}

struct Worker {
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Worker {
    fn start(consumer: Arc<dyn Consumer>, pipeline: Arc<Pipeline>, concurrency: usize) -> Self {
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run_consumer(
            consumer,
            pipeline,
            concurrency,
            cancel.clone(),
        ));
        Self { cancel, task }
    }

    /// Graceful stop: must return (drain) well within the timeout.
    async fn stop(self) {
        self.cancel.cancel();
        tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("consumer drains and stops")
            .expect("consumer task ends cleanly");
    }
}

/// Publishes the three recordings, runs a worker, checks every stored field that matters.
async fn three_recordings(
    store: &Store,
    publisher: Arc<dyn Publisher>,
    consumer: Arc<dyn Consumer>,
) {
    let server = fake_webex().await;
    let data = tempfile::tempdir().unwrap();
    let recs = [
        FakeRecording::new(ES_ID, Some(ES_VTT)),
        FakeRecording::new(EN_ID, Some(EN_VTT)),
        FakeRecording::new(NT_ID, None),
    ];
    for r in &recs {
        r.mount(&server).await;
        publisher.publish(&created(r.id)).await.unwrap();
    }
    let worker = Worker::start(
        consumer,
        pipeline(store, &server, data.path(), Duration::from_millis(50)),
        4,
    );
    for r in &recs {
        wait_final(store, r.id, Duration::from_secs(60)).await;
    }
    worker.stop().await;

    for (r, lang) in [(&recs[0], "es"), (&recs[1], "en")] {
        let rec = stored(store, r.id).await;
        assert_eq!(
            rec.processing_status,
            ProcessingStatus::Completed,
            "{:?}",
            rec.processing_errors
        );
        assert_eq!(rec.quality_score, Some(1.0));
        assert_eq!(
            rec.processing_steps_completed,
            [
                "details",
                "metadata",
                "audio",
                "transcript",
                "language",
                "analysis",
                "call_metrics",
                "trackers"
            ]
        );
        assert_eq!(rec.detected_language.as_deref(), Some(lang));
        assert!(rec.language_confidence.is_some_and(|c| c > 0.0));
        assert!(
            rec.summary_text
                .as_deref()
                .is_some_and(|s| !s.trim().is_empty())
        );
        assert_eq!(rec.summary_source, Some(SummarySource::Local));
        assert!(rec.sentiment.is_some());
        assert!(
            rec.call_metrics
                .as_ref()
                .is_some_and(|m| m.speakers.len() == 2)
        );
        assert_eq!(rec.transcript_source.as_deref(), Some("webex"));
        assert!(rec.has_webex_transcript);
        let vtt_path = rec.transcript_vtt_path.clone().unwrap();
        assert_eq!(
            Path::new(&vtt_path),
            data.path()
                .join(format!("transcripts/2025/03/04/{}.vtt", r.id))
        );
        // Re-rendered from the (redacted) cues: the same cues and timings as Webex's file.
        assert_eq!(
            vtt::parse(&std::fs::read_to_string(&vtt_path).unwrap()),
            vtt::parse(r.vtt.unwrap())
        );
        assert_eq!(
            rec.caller.as_deref(),
            Some("sip:4060@example.com;user=phone")
        );
        assert_eq!(rec.caller_name.as_deref(), Some("Ana García"));
        assert_eq!(rec.callee.as_deref(), Some("+34911222333"));
        assert_eq!(rec.callee_name, None);
        assert_eq!(rec.participants, ["sip:4060@example.com", "+34911222333"]);
        assert_eq!(rec.duration, Some(16.0));
        assert_eq!(
            rec.timestamp.map(|t| t.to_rfc3339()),
            Some("2025-03-04T10:00:00+00:00".into())
        );
    }
    let es = stored(store, ES_ID).await;
    let es_text = es.transcript_text.unwrap();
    assert!(
        es_text.starts_with("Ana García: Hola, buenos días."),
        "{es_text}"
    );
    assert!(
        es_text.contains("\nCarlos Ruiz: Buenos días, Ana."),
        "{es_text}"
    );
    let en = stored(store, EN_ID).await;
    assert!(
        en.transcript_text
            .unwrap()
            .contains("Mary Jones: Thank you for calling.")
    );

    let nt = stored(store, NT_ID).await;
    assert_eq!(nt.processing_status, ProcessingStatus::Partial);
    // Details, metadata, audio and trackers of the eight steps that apply (no TRANSLATE_TO):
    // language, analysis and call metrics need the transcript that is missing.
    assert_eq!(nt.quality_score, Some(4.0 / 8.0));
    assert_eq!(
        nt.processing_steps_completed,
        ["details", "metadata", "audio", "trackers"]
    );
    assert!(
        nt.processing_errors["transcript"].contains("no speech-to-text"),
        "{:?}",
        nt.processing_errors
    );
    assert!(!nt.has_webex_transcript);
    assert_eq!(nt.transcript_text, None);

    // Audio of all three: our stable link, the file where the contract says, intact.
    for r in &recs {
        let rec = stored(store, r.id).await;
        let expected_path = data
            .path()
            .join(format!("recordings/2025/03/04/{}.mp3", r.id));
        assert_eq!(
            rec.audio_local_path.as_deref().map(Path::new),
            Some(expected_path.as_path())
        );
        let on_disk = std::fs::read(&expected_path).unwrap();
        assert_eq!(on_disk, r.audio);
        assert_eq!(rec.audio_size_bytes, Some(r.audio.len() as i64));
        assert_eq!(
            rec.audio_sha256.as_deref(),
            Some(sha256_hex(&r.audio).as_str())
        );
        assert_eq!(
            rec.audio_url,
            Some(format!("/api/v1/recordings/download/{}/audio", r.id))
        );
        assert_eq!(rec.audio_format.as_deref(), Some("mp3"));
        // The expiring Webex link is never stored.
        let meta = rec.webex_metadata.unwrap().to_string();
        assert!(!meta.contains("ticket="), "{meta}");
        // At least one download; exactly one is asserted by the duplicate-message and retry
        // tests. One loaded full-suite run once saw two requests here: a pipeline retry no
        // longer fetches the audio again, a client retry of a reset connection still would.
        assert!(hits(&server, &format!("/files/{}.mp3", r.id)).await >= 1);
    }
    assert_eq!(publisher.depth().await.unwrap().dead, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_recordings_on_sqlite_and_the_embedded_queue() {
    let db = TestDb::new(Db::Sqlite).await;
    let queue = embedded(&db.store);
    three_recordings(&db.store, queue.clone(), queue).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_recordings_on_postgres_and_rabbitmq() {
    let db = TestDb::new(Db::Postgres).await;
    let vhost = crate::amqp::Vhost::new();
    let queue = Arc::new(
        AmqpQueue::connect(&vhost.url(), AmqpSettings::default())
            .await
            .unwrap(),
    );
    three_recordings(&db.store, queue.clone(), queue.clone()).await;
    queue.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_message_twice_makes_one_row_and_one_download() {
    let db = TestDb::new(Db::Sqlite).await;
    let server = fake_webex().await;
    let data = tempfile::tempdir().unwrap();
    let rec = FakeRecording::new(EN_ID, Some(EN_VTT));
    rec.mount(&server).await;
    let (queue, worker) = embedded_worker(
        &db.store,
        &server,
        data.path(),
        &[created(EN_ID), created(EN_ID)],
    )
    .await;
    assert_eq!(
        wait_final(&db.store, EN_ID, Duration::from_secs(30)).await,
        ProcessingStatus::Completed
    );
    wait_until(
        Duration::from_secs(20),
        "both messages settled",
        async || queue.depth().await.unwrap().ready == 0,
    )
    .await;
    worker.stop().await;
    assert_eq!(hits(&server, &format!("/files/{EN_ID}.mp3")).await, 1);
    let page = db
        .store
        .search_recordings(&RecordingSearch {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(queue.depth().await.unwrap().dead, 0);
}

/// A transcript that fails for a while sends the message back for a retry; the retry finds the
/// audio of the first run in place and does not fetch it again. A reprocess does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_keeps_the_audio_of_the_first_run_and_a_reprocess_fetches_it_again() {
    let db = TestDb::new(Db::Sqlite).await;
    let server = fake_webex().await;
    let data = tempfile::tempdir().unwrap();
    let rec = FakeRecording::new(EN_ID, Some(EN_VTT));
    let vtt_path = format!("/files/{EN_ID}.vtt");
    // As many 503s as the client tries in one run: the step fails transiently once.
    Mock::given(method("GET"))
        .and(path(vtt_path.clone()))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&server)
        .await;
    rec.mount(&server).await;
    let (queue, worker) = embedded_worker(&db.store, &server, data.path(), &[created(EN_ID)]).await;
    assert_eq!(
        wait_final(&db.store, EN_ID, Duration::from_secs(30)).await,
        ProcessingStatus::Completed
    );
    let audio_path = format!("/files/{EN_ID}.mp3");
    assert_eq!(
        hits(&server, &vtt_path).await,
        4,
        "3 failures, then the retry"
    );
    assert_eq!(
        hits(&server, &audio_path).await,
        1,
        "the retry reused the file"
    );
    let id = RecordingId::parse(EN_ID).unwrap();
    let stored = db.store.get_recording(&id).await.unwrap().unwrap();
    let expected_sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&rec.audio))
    };
    assert_eq!(stored.audio_sha256.as_deref(), Some(expected_sha.as_str()));
    assert_eq!(stored.audio_size_bytes, Some(rec.audio.len() as i64));

    let reprocess = QueueMessage::reprocess(id.clone());
    queue.publish(&reprocess).await.unwrap();
    wait_until(
        Duration::from_secs(20),
        "the reprocess downloads the audio again",
        async || hits(&server, &audio_path).await >= 2,
    )
    .await;
    worker.stop().await;
}

/// Webex may make the transcript after the audio: a first run without a transcript link is
/// retried, and the retry stores the Webex transcript (with the audio of the first run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transcript_that_comes_after_the_audio_is_waited_for() {
    let db = TestDb::new(Db::Sqlite).await;
    let server = fake_webex().await;
    let data = tempfile::tempdir().unwrap();
    let rec = FakeRecording::new(ES_ID, Some(ES_VTT));
    let mut early = rec.details(&server, true);
    early["temporaryDirectDownloadLinks"]
        .as_object_mut()
        .unwrap()
        .remove("transcriptDownloadLink");
    Mock::given(method("GET"))
        .and(path(format!("/v1/convergedRecordings/{ES_ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(early))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    rec.mount(&server).await;
    let (_queue, worker) =
        embedded_worker(&db.store, &server, data.path(), &[created(ES_ID)]).await;
    assert_eq!(
        wait_final(&db.store, ES_ID, Duration::from_secs(30)).await,
        ProcessingStatus::Completed
    );
    worker.stop().await;
    let stored = stored(&db.store, ES_ID).await;
    assert_eq!(stored.transcript_source.as_deref(), Some("webex"));
    assert!(stored.has_webex_transcript);
    assert_eq!(
        hits(&server, &format!("/v1/convergedRecordings/{ES_ID}")).await,
        2
    );
    assert_eq!(hits(&server, &format!("/files/{ES_ID}.mp3")).await, 1);
}

/// Webex answers 204 while the call metadata is not ready: the run is retried; metadata that
/// comes on the third attempt is stored, metadata that never comes fails its step only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_not_ready_204_is_waited_for_then_given_up_on_its_own() {
    let db = TestDb::new(Db::Sqlite).await;
    let server = fake_webex().await;
    let data = tempfile::tempdir().unwrap();
    let late = FakeRecording::new(ES_ID, Some(ES_VTT));
    let never = FakeRecording::new(EN_ID, Some(EN_VTT));
    for (id, times) in [(ES_ID, Some(2)), (EN_ID, None)] {
        let mock = Mock::given(method("GET"))
            .and(path(format!("/v1/convergedRecordings/{id}/metadata")))
            .respond_with(ResponseTemplate::new(204))
            .with_priority(1);
        match times {
            Some(n) => mock.up_to_n_times(n),
            None => mock,
        }
        .mount(&server)
        .await;
    }
    late.mount(&server).await;
    never.mount(&server).await;
    let (_queue, worker) = embedded_worker(
        &db.store,
        &server,
        data.path(),
        &[created(ES_ID), created(EN_ID)],
    )
    .await;
    assert_eq!(
        wait_final(&db.store, ES_ID, Duration::from_secs(30)).await,
        ProcessingStatus::Completed
    );
    assert_eq!(
        wait_final(&db.store, EN_ID, Duration::from_secs(30)).await,
        ProcessingStatus::Partial
    );
    worker.stop().await;
    let late_rec = stored(&db.store, ES_ID).await;
    assert_eq!(late_rec.caller_name.as_deref(), Some("Ana García"));
    assert!(late_rec.processing_errors.is_empty());
    let never_rec = stored(&db.store, EN_ID).await;
    assert_eq!(never_rec.caller, None);
    let error = never_rec
        .processing_errors
        .get("metadata")
        .cloned()
        .unwrap_or_default();
    assert!(error.contains("204"), "{error}");
    assert!(never_rec.transcript_text.is_some(), "the other steps ran");
    for id in [ES_ID, EN_ID] {
        let metadata = format!("/v1/convergedRecordings/{id}/metadata");
        assert_eq!(hits(&server, &metadata).await, 3, "{id}");
        assert_eq!(hits(&server, &format!("/files/{id}.mp3")).await, 1, "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_links_and_a_429_are_retried_without_blocking_the_worker() {
    let db = TestDb::new(Db::Sqlite).await;
    let server = fake_webex().await;
    let data = tempfile::tempdir().unwrap();
    let slow = FakeRecording::new(ES_ID, Some(ES_VTT));
    let details_path = format!("/v1/convergedRecordings/{ES_ID}");
    Mock::given(method("GET"))
        .and(path(details_path.clone()))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(details_path.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(slow.details(&server, false)))
        .up_to_n_times(2)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(details_path.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(slow.details(&server, true)))
        .with_priority(3)
        .mount(&server)
        .await;
    slow.mount_rest(&server).await;
    let quick = FakeRecording::new(EN_ID, Some(EN_VTT));
    quick.mount(&server).await;

    let queue = embedded(&db.store);
    queue.publish(&created(ES_ID)).await.unwrap();
    queue.publish(&created(EN_ID)).await.unwrap();
    // One slot: the second recording can only finish if the first one's waits do not hold it.
    let worker = Worker::start(
        queue.clone(),
        pipeline(&db.store, &server, data.path(), Duration::from_millis(400)),
        1,
    );
    assert_eq!(
        wait_final(&db.store, EN_ID, Duration::from_secs(30)).await,
        ProcessingStatus::Completed
    );
    assert_ne!(
        status_of(&db.store, ES_ID).await,
        Some(ProcessingStatus::Completed),
        "the waiting recording finished before the other; the test proves nothing"
    );
    assert_eq!(
        wait_final(&db.store, ES_ID, Duration::from_secs(30)).await,
        ProcessingStatus::Completed
    );
    worker.stop().await;
    let es = stored(&db.store, ES_ID).await;
    assert!(
        es.processing_errors.is_empty(),
        "{:?}",
        es.processing_errors
    );
    assert_eq!(es.quality_score, Some(1.0));
    // 429 and "no links" in attempt 1, "no links" in attempt 2, links in attempt 3.
    assert_eq!(hits(&server, &details_path).await, 4);
    assert_eq!(hits(&server, &format!("/files/{ES_ID}.mp3")).await, 1);
}

/// The call `id`, its audio taking `delay` to download; and the audio's path.
async fn mount_slow_call(
    server: &MockServer,
    id: &'static str,
    vtt: &'static str,
    delay: Duration,
) -> (FakeRecording, String) {
    let rec = FakeRecording::new(id, Some(vtt));
    rec.mount_slow_audio(server, delay).await;
    rec.mount(server).await;
    (rec, format!("/files/{id}.mp3"))
}

/// Waits until a worker has asked for `path`.
async fn download_started(server: &MockServer, path: &str) {
    wait_until(
        Duration::from_secs(20),
        &format!("download of {path} started"),
        async || hits(server, path).await > 0,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_dropped_mid_recording_is_taken_over_once() {
    let db = TestDb::new(Db::Sqlite).await;
    let server = fake_webex().await;
    let data = tempfile::tempdir().unwrap();
    // Audio is slow, so the worker is surely mid-download when it is dropped.
    let (rec, audio_path) =
        mount_slow_call(&server, EN_ID, EN_VTT, Duration::from_millis(1500)).await;

    let queue = embedded(&db.store);
    queue.publish(&created(EN_ID)).await.unwrap();
    let p = pipeline(&db.store, &server, data.path(), Duration::from_millis(50));
    let first = Worker::start(queue.clone(), Arc::clone(&p), 2);
    download_started(&server, &audio_path).await;
    // A crash: no drain, no settlement.
    first.task.abort();
    let _ = first.task.await;
    assert_eq!(
        status_of(&db.store, EN_ID).await,
        Some(ProcessingStatus::Processing)
    );

    let second = Worker::start(queue.clone(), p, 2);
    assert_eq!(
        wait_final(&db.store, EN_ID, Duration::from_secs(30)).await,
        ProcessingStatus::Completed
    );
    wait_until(Duration::from_secs(20), "message settled", async || {
        queue.depth().await.unwrap().ready == 0
    })
    .await;
    // Nothing processes it a third time.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    second.stop().await;
    assert_eq!(hits(&server, &audio_path).await, 2);
    let stored = stored(&db.store, EN_ID).await;
    assert_eq!(stored.processing_status, ProcessingStatus::Completed);
    assert_eq!(
        stored.audio_sha256.as_deref(),
        Some(sha256_hex(&rec.audio).as_str())
    );
    let page = db
        .store
        .search_recordings(&RecordingSearch {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(queue.depth().await.unwrap().dead, 0);
}

#[tokio::test]
async fn a_recording_deleted_while_it_is_processed_stays_deleted_with_no_files_or_alerts() {
    let db = TestDb::new(Db::Sqlite).await;
    let server = fake_webex().await;
    let data = tempfile::tempdir().unwrap();
    let (_, audio_path) =
        mount_slow_call(&server, EN_ID, EN_VTT, Duration::from_millis(1000)).await;
    let queue = embedded(&db.store);
    queue.publish(&created(EN_ID)).await.unwrap();
    let p = pipeline(&db.store, &server, data.path(), Duration::from_millis(50));
    let p = Arc::new(Arc::into_inner(p).expect("one owner").with_alerts(true));
    let worker = Worker::start(queue.clone(), p, 1);
    download_started(&server, &audio_path).await;
    // An admin deletes it mid-download: there are no files yet for the deletion to remove.
    let id = RecordingId::parse(EN_ID).unwrap();
    assert!(
        db.store
            .mark_recording_deleted(&id, chrono::Utc::now())
            .await
            .unwrap()
    );
    wait_until(Duration::from_secs(20), "message settled", async || {
        queue.depth().await.unwrap().ready == 0
    })
    .await;
    worker.stop().await;
    assert_eq!(hits(&server, &audio_path).await, 1, "not processed again");
    let stored = stored(&db.store, EN_ID).await;
    assert_eq!(stored.processing_status, ProcessingStatus::Deleted);
    assert_eq!(stored.transcript_text, None);
    let files: Vec<_> = walkdir(data.path());
    assert!(files.is_empty(), "the run's files are removed: {files:?}");
    assert_eq!(
        db.store.alerts_pending().await.unwrap(),
        0,
        "no alert about it"
    );
}

/// A run that stored the audio and then failed for now (the transcript answers 503) leaves the
/// recording waiting for a retry. Deleted then, or while that run is still going, no file of
/// it may stay behind: the retry that would have cleaned up is never processed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_deleted_around_a_failed_run_leaves_no_files() {
    for during_the_run in [false, true] {
        let db = TestDb::new(Db::Sqlite).await;
        let server = fake_webex().await;
        let data = tempfile::tempdir().unwrap();
        let rec = FakeRecording::new(EN_ID, Some(EN_VTT));
        let vtt_path = format!("/files/{EN_ID}.vtt");
        let failing = ResponseTemplate::new(503).set_delay(Duration::from_millis(300));
        Mock::given(method("GET"))
            .and(path(vtt_path.clone()))
            .respond_with(failing)
            .with_priority(1)
            .mount(&server)
            .await;
        rec.mount(&server).await;
        let queue = embedded(&db.store);
        queue.publish(&created(EN_ID)).await.unwrap();
        // The retry waits seconds: long enough to delete in between.
        let p = pipeline(&db.store, &server, data.path(), Duration::from_secs(3));
        let worker = Worker::start(queue.clone(), p, 1);
        if during_the_run {
            download_started(&server, &vtt_path).await;
        } else {
            wait_until(
                Duration::from_secs(20),
                "released for a retry",
                async || status_of(&db.store, EN_ID).await == Some(ProcessingStatus::Pending),
            )
            .await;
            let waiting = stored(&db.store, EN_ID).await;
            assert!(
                waiting.audio_local_path.is_some(),
                "it says where its audio is"
            );
            // And the list shows what the first run learned of the call meanwhile.
            assert!(waiting.timestamp.is_some() && waiting.duration.is_some());
            assert!(waiting.caller.is_some() && waiting.callee.is_some());
        }
        delete_as_the_api_does(&db.store, data.path()).await;
        wait_until(
            Duration::from_secs(30),
            &format!("settled and no file left (during the run: {during_the_run})"),
            async || queue.depth().await.unwrap().ready == 0 && walkdir(data.path()).is_empty(),
        )
        .await;
        worker.stop().await;
        assert_eq!(
            status_of(&db.store, EN_ID).await,
            Some(ProcessingStatus::Deleted)
        );
        assert_eq!(hits(&server, &format!("/files/{EN_ID}.mp3")).await, 1);
    }
}

/// A worker killed (`kill -9`) after storing the audio, before it writes the record: the record
/// names no file, yet a deletion or a purge then removes the audio, found by the note the run
/// wrote before its first byte. On both databases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_after_storing_the_audio_leaves_no_file_to_a_deletion_or_purge() {
    for backend in [Db::Sqlite, Db::Postgres] {
        for purge in [false, true] {
            let db = TestDb::new(backend).await;
            let data = tempfile::tempdir().unwrap();
            killed_after_storing_the_audio(&db.store, data.path()).await;
            let storage = webex_recordings::storage::Storage::local(data.path().to_path_buf());
            let id = RecordingId::parse(EN_ID).unwrap();
            if purge {
                let report = purge_expired(&db.store, &storage, Duration::ZERO, false, "test")
                    .await
                    .unwrap();
                assert_eq!((report.purged, report.files_left), (1, 0));
            } else {
                delete_as_the_api_does(&db.store, data.path()).await;
            }
            let left = walkdir(data.path());
            assert!(left.is_empty(), "{backend:?}, purge {purge}: left {left:?}");
            // The note stays until the sweep: a run may still have been writing the file.
            assert_eq!(db.store.noted_files(&id).await.unwrap().len(), 1);
            assert_eq!(
                sweep_noted_files(&db.store, &storage, Duration::ZERO)
                    .await
                    .unwrap(),
                1
            );
            assert_eq!(
                db.store.noted_files(&id).await.unwrap(),
                Vec::<String>::new()
            );
        }
    }
}

/// Deleted while its audio downloads, then the worker is killed after the upload finished: the
/// deletion came before the file, which only the note names; the sweep removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_a_killed_worker_finished_after_the_deletion_is_swept() {
    for backend in [Db::Sqlite, Db::Postgres] {
        let db = TestDb::new(backend).await;
        let data = tempfile::tempdir().unwrap();
        let run = stalled_run(&db.store, data.path(), Duration::from_millis(1000)).await;
        download_started(&run.server, &run.audio_path).await;
        delete_as_the_api_does(&db.store, data.path()).await;
        run.kill_at_the_transcript().await;
        assert_eq!(
            walkdir(data.path()).len(),
            1,
            "{backend:?}: stored after the deletion"
        );

        let storage = webex_recordings::storage::Storage::local(data.path().to_path_buf());
        sweep_noted_files(&db.store, &storage, Duration::ZERO)
            .await
            .unwrap();
        let left = walkdir(data.path());
        assert!(left.is_empty(), "{backend:?}: left {left:?}");
        let id = RecordingId::parse(EN_ID).unwrap();
        assert_eq!(
            db.store.noted_files(&id).await.unwrap(),
            Vec::<String>::new()
        );
    }
}

/// A noted file that cannot be removed keeps its note for the next sweep; the others go.
#[tokio::test]
async fn a_sweep_goes_past_a_file_it_cannot_remove() {
    let db = TestDb::new(Db::Sqlite).await;
    let data = tempfile::tempdir().unwrap();
    let storage = webex_recordings::storage::Storage::local(data.path().to_path_buf());
    let now = chrono::Utc::now();
    let ids = ["rec-a", "rec-b"].map(|raw| RecordingId::parse(raw).unwrap());
    for (i, id) in ids.iter().enumerate() {
        db.store.claim_recording(id, false, now, now).await.unwrap();
        let key = webex_recordings::storage::StorageKey::audio(id, now, "mp3");
        assert!(
            db.store
                .note_file(id, &storage.location(&key), now)
                .await
                .unwrap()
        );
        if i == 0 {
            // A folder where the file would be: removing it fails.
            std::fs::create_dir_all(data.path().join(key.as_str())).unwrap();
        } else {
            storage.put_bytes(&key, "audio".into()).await.unwrap();
        }
        assert!(db.store.mark_recording_deleted(id, now).await.unwrap());
    }
    let swept = sweep_noted_files(&db.store, &storage, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(swept, 1);
    assert_eq!(db.store.noted_files(&ids[0]).await.unwrap().len(), 1);
    assert_eq!(db.store.noted_files(&ids[1]).await.unwrap().len(), 0);
    assert_eq!(walkdir(data.path()), Vec::<std::path::PathBuf>::new());
}

/// Runs `EN_ID` until its audio is stored and its transcript is being fetched, then kills the
/// worker.
async fn killed_after_storing_the_audio(store: &Store, data_dir: &Path) {
    stalled_run(store, data_dir, Duration::ZERO)
        .await
        .kill_at_the_transcript()
        .await;
    assert_eq!(walkdir(data_dir).len(), 1, "the audio is stored");
    let left = stored(store, EN_ID).await;
    assert_eq!(left.processing_status, ProcessingStatus::Processing);
    assert_eq!(left.audio_local_path, None, "the record names no file");
}

/// What DELETE does to `EN_ID`: mark the row, read it again, and remove the files it and the
/// notes name.
async fn delete_as_the_api_does(store: &Store, data_dir: &Path) {
    let id = RecordingId::parse(EN_ID).unwrap();
    assert!(
        store
            .mark_recording_deleted(&id, chrono::Utc::now())
            .await
            .unwrap()
    );
    let marked = stored(store, EN_ID).await;
    let storage = webex_recordings::storage::Storage::local(data_dir.to_path_buf());
    remove_recording_files(store, &storage, &marked)
        .await
        .unwrap();
}

/// A worker on `EN_ID` whose transcript never comes (its audio taking `audio_delay`): the run
/// is still going when the test kills it.
struct StalledRun {
    server: MockServer,
    worker: Worker,
    audio_path: String,
    vtt_path: String,
}

async fn stalled_run(store: &Store, data_dir: &Path, audio_delay: Duration) -> StalledRun {
    let server = fake_webex().await;
    let vtt_path = format!("/files/{EN_ID}.vtt");
    Mock::given(method("GET"))
        .and(path(vtt_path.clone()))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(600)))
        .with_priority(1)
        .mount(&server)
        .await;
    let (_, audio_path) = mount_slow_call(&server, EN_ID, EN_VTT, audio_delay).await;
    let queue = embedded(store);
    queue.publish(&created(EN_ID)).await.unwrap();
    let p = pipeline(store, &server, data_dir, Duration::from_secs(3));
    StalledRun {
        worker: Worker::start(queue, p, 1),
        server,
        audio_path,
        vtt_path,
    }
}

impl StalledRun {
    /// Once the run fetches the transcript (its audio stored), a crash: no drain, no settlement.
    async fn kill_at_the_transcript(self) {
        download_started(&self.server, &self.vtt_path).await;
        self.worker.task.abort();
        let _ = self.worker.task.await;
    }
}

/// A `deleted` event from Webex takes the recording's files with it, as a DELETE through the
/// API does (the record stays, marked, readable by id).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_webex_deleted_loses_its_stored_files() {
    let db = TestDb::new(Db::Sqlite).await;
    let server = fake_webex().await;
    let data = tempfile::tempdir().unwrap();
    FakeRecording::new(EN_ID, Some(EN_VTT)).mount(&server).await;
    let (queue, worker) = embedded_worker(&db.store, &server, data.path(), &[created(EN_ID)]).await;
    assert_eq!(
        wait_final(&db.store, EN_ID, Duration::from_secs(30)).await,
        ProcessingStatus::Completed
    );
    assert_eq!(walkdir(data.path()).len(), 2, "audio and transcript stored");
    let mut deleted = created(EN_ID);
    deleted.event = RecordingEvent::Deleted;
    queue.publish(&deleted).await.unwrap();
    wait_until(
        Duration::from_secs(20),
        "deleted and no file left",
        async || {
            status_of(&db.store, EN_ID).await == Some(ProcessingStatus::Deleted)
                && walkdir(data.path()).is_empty()
        },
    )
    .await;
    worker.stop().await;
}

/// Every file below `dir`.
fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

async fn mount_always_failing(server: &MockServer) -> String {
    let details_path = format!("/v1/convergedRecordings/{NT_ID}");
    Mock::given(method("GET"))
        .and(path(details_path.clone()))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"message": "boom"})))
        .mount(server)
        .await;
    details_path
}

async fn assert_failed_for_good(store: &Store) {
    let rec = stored(store, NT_ID).await;
    assert_eq!(rec.processing_status, ProcessingStatus::Failed);
    let reason = &rec.processing_errors["details"];
    assert!(
        reason.contains(&format!("gave up after {MAX_DELIVERY_ATTEMPTS} attempts")),
        "{reason}"
    );
    assert!(reason.contains("500"), "{reason}");
    // Nothing succeeded in the last run: its one attempted step failed.
    assert_eq!(rec.quality_score, Some(0.0));
    assert!(rec.processing_steps_completed.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_always_fails_is_dead_lettered_on_the_embedded_queue() {
    let db = TestDb::new(Db::Sqlite).await;
    let server = fake_webex().await;
    let data = tempfile::tempdir().unwrap();
    let details_path = mount_always_failing(&server).await;
    let queue = embedded(&db.store);
    queue.publish(&created(NT_ID)).await.unwrap();
    let worker = Worker::start(
        queue.clone(),
        pipeline(&db.store, &server, data.path(), Duration::from_millis(10)),
        2,
    );
    wait_until(
        Duration::from_secs(30),
        "message dead-lettered",
        async || queue.depth().await.unwrap().dead > 0,
    )
    .await;
    worker.stop().await;
    assert_eq!(
        queue.depth().await.unwrap(),
        webex_recordings::queue::QueueDepth { ready: 0, dead: 1 }
    );
    assert_eq!(
        hits(&server, &details_path).await,
        MAX_DELIVERY_ATTEMPTS as usize
    );
    assert_failed_for_good(&db.store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_always_fails_is_dead_lettered_on_rabbitmq() {
    let db = TestDb::new(Db::Postgres).await;
    let vhost = crate::amqp::Vhost::new();
    let server = fake_webex().await;
    let data = tempfile::tempdir().unwrap();
    let details_path = mount_always_failing(&server).await;
    let queue = Arc::new(
        AmqpQueue::connect(&vhost.url(), AmqpSettings::default())
            .await
            .unwrap(),
    );
    queue.publish(&created(NT_ID)).await.unwrap();
    let worker = Worker::start(
        queue.clone(),
        pipeline(&db.store, &server, data.path(), Duration::from_millis(10)),
        2,
    );
    // RabbitMQ's shortest retry tier is 5 s: seven retries take about 35 s.
    wait_until(
        Duration::from_secs(120),
        "message dead-lettered",
        async || queue.depth().await.unwrap().dead > 0,
    )
    .await;
    worker.stop().await;
    assert_eq!(queue.depth().await.unwrap().dead, 1);
    assert_eq!(
        hits(&server, &details_path).await,
        MAX_DELIVERY_ATTEMPTS as usize
    );
    assert_failed_for_good(&db.store).await;
    queue.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_events_mark_the_recording_and_unreadable_messages_are_dead_lettered() {
    let db = TestDb::new(Db::Sqlite).await;
    let server = fake_webex().await;
    let data = tempfile::tempdir().unwrap();
    let rec = FakeRecording::new(EN_ID, Some(EN_VTT));
    rec.mount(&server).await;
    let queue = embedded(&db.store);
    let mut deleted = created(EN_ID);
    deleted.event = RecordingEvent::Deleted;
    queue.publish(&deleted).await.unwrap();
    db.store
        .enqueue(
            &QueueRow {
                message_id: "garbage-1".into(),
                routing_key: "convergedRecordings.created".into(),
                body: "{not json".into(),
                trace_context: None,
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let worker = Worker::start(
        queue.clone(),
        pipeline(&db.store, &server, data.path(), Duration::from_millis(10)),
        2,
    );
    wait_until(
        Duration::from_secs(20),
        "deleted acked, garbage dead-lettered",
        async || {
            queue.depth().await.unwrap()
                == (webex_recordings::queue::QueueDepth { ready: 0, dead: 1 })
        },
    )
    .await;
    assert_eq!(
        status_of(&db.store, EN_ID).await,
        Some(ProcessingStatus::Deleted)
    );
    // A late `created` for a deleted recording is acked without touching Webex.
    queue.publish(&created(EN_ID)).await.unwrap();
    wait_until(Duration::from_secs(20), "created acked", async || {
        queue.depth().await.unwrap().ready == 0
    })
    .await;
    worker.stop().await;
    assert_eq!(
        status_of(&db.store, EN_ID).await,
        Some(ProcessingStatus::Deleted)
    );
    assert_eq!(
        hits(&server, &format!("/v1/convergedRecordings/{EN_ID}")).await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_consumer_drains_work_in_flight() {
    let db = TestDb::new(Db::Sqlite).await;
    let server = fake_webex().await;
    let data = tempfile::tempdir().unwrap();
    let (_, audio_path) =
        mount_slow_call(&server, ES_ID, ES_VTT, Duration::from_millis(1000)).await;
    let queue = embedded(&db.store);
    queue.publish(&created(ES_ID)).await.unwrap();
    let worker = Worker::start(
        queue.clone(),
        pipeline(&db.store, &server, data.path(), Duration::from_millis(10)),
        2,
    );
    download_started(&server, &audio_path).await;
    // Stop while the download runs: `stop` returns only after the recording is stored and acked.
    worker.stop().await;
    assert_eq!(
        status_of(&db.store, ES_ID).await,
        Some(ProcessingStatus::Completed)
    );
    assert_eq!(queue.depth().await.unwrap().ready, 0);
}

/// The whole product through `serve`: signed webhooks in, analysed records out.
async fn webhooks_through_serve(db: crate::support::Db, amqp_url: Option<String>) {
    let t = crate::support::TestDb::new(db).await;
    let server = fake_webex().await;
    let es = FakeRecording::new(ES_ID, Some(ES_VTT));
    let en = FakeRecording::new(EN_ID, Some(EN_VTT));
    let nt = FakeRecording::new(NT_ID, None);
    for r in [&es, &en, &nt] {
        r.mount(&server).await;
    }
    let data = tempfile::tempdir().unwrap();
    let api = format!("{}/v1", server.uri());
    let data_dir = data.path().display().to_string();
    let mut vars = vec![
        ("WEBEX_API_URL", api.as_str()),
        ("WEBEX_ACCESS_TOKEN", "token"),
        ("DATA_DIR", data_dir.as_str()),
    ];
    if let Some(url) = &amqp_url {
        vars.push(("AMQP_URL", url.as_str()));
    }
    let app =
        crate::support::TestApp::spawn(&t.url, webex_recordings::startup::Role::All, &vars).await;
    for id in [ES_ID, EN_ID, NT_ID, ES_ID] {
        let body = serde_json::to_vec(&crate::support::envelope(id, "created")).unwrap();
        let res = app
            .post_webhook(&body, Some(crate::support::WEBHOOK_SECRET))
            .await;
        assert_eq!(res.status(), 200);
    }
    assert_eq!(
        wait_final(&t.store, ES_ID, Duration::from_secs(60)).await,
        ProcessingStatus::Completed
    );
    assert_eq!(
        wait_final(&t.store, EN_ID, Duration::from_secs(60)).await,
        ProcessingStatus::Completed
    );
    assert_eq!(
        wait_final(&t.store, NT_ID, Duration::from_secs(60)).await,
        ProcessingStatus::Partial
    );

    let es_rec = stored(&t.store, ES_ID).await;
    assert_eq!(es_rec.detected_language.as_deref(), Some("es"));
    assert!(
        es_rec
            .transcript_text
            .as_deref()
            .unwrap_or("")
            .contains("Ana García: Hola")
    );
    assert!(
        es_rec
            .summary_text
            .as_deref()
            .is_some_and(|s| !s.is_empty())
    );
    assert!(es_rec.sentiment.is_some());
    assert_eq!(
        es_rec.audio_sha256.as_deref(),
        Some(sha256_hex(&es.audio).as_str())
    );
    let en_rec = stored(&t.store, EN_ID).await;
    assert_eq!(en_rec.detected_language.as_deref(), Some("en"));
    // The Spanish webhook came twice: one download.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(hits(&server, &format!("/files/{ES_ID}.mp3")).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn signed_webhooks_through_serve_on_sqlite_and_the_embedded_queue() {
    webhooks_through_serve(crate::support::Db::Sqlite, None).await;
}

#[tokio::test]
async fn signed_webhooks_through_serve_on_postgres_and_rabbitmq() {
    let vhost = crate::amqp::Vhost::new();
    webhooks_through_serve(crate::support::Db::Postgres, Some(vhost.url())).await;
}
