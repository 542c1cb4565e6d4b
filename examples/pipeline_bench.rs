//! Recordings per second through the whole pipeline (details, metadata, audio download,
//! Webex transcript, local analysis) against a zero-latency fake Webex: a small axum server.
//! SQLite store and the embedded queue in a temp dir, 8 workers.
//!
//! `cargo run --release --example pipeline_bench -- [N]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use call_analysis::redact::RedactKinds;
use secrecy::SecretString;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use url::Url;
use webex_recordings::domain::{MessageSource, QueueMessage, RecordingEvent, RecordingId};
use webex_recordings::pipeline::{Pipeline, PipelineDeps, PipelineSettings, run_consumer};
use webex_recordings::queue::Publisher;
use webex_recordings::queue::embedded::{EmbeddedQueue, EmbeddedSettings};
use webex_recordings::store::Store;
use webex_recordings::webex::{Auth, ClientSettings, WebexClient};

type Error = Box<dyn std::error::Error + Send + Sync>;

const AUDIO_BYTES: usize = 204_800;
const WORKER_CONCURRENCY: usize = 8;

const VTT: &str = "WEBVTT\n\n1\n00:00:00.000 --> 00:00:05.000\n<v Ana García>Hola, buenos días. Llamo porque la factura de este mes tiene un error importante.\n\n2\n00:00:05.500 --> 00:00:11.000\n<v Carlos Ruiz>Buenos días, Ana. Lo siento mucho, vamos a revisar la factura ahora mismo.\n\n3\n00:00:11.500 --> 00:00:16.000\n<v Ana García>El importe cobrado es el doble de lo habitual y no entiendo el motivo.\n\n4\n00:00:16.500 --> 00:00:22.000\n<v Carlos Ruiz>Ya lo veo: se duplicó un cargo. Le enviaremos una factura corregida hoy mismo.\n\n5\n00:00:22.500 --> 00:00:27.000\n<v Ana García>Perfecto, muchas gracias por la ayuda. Espero el correo con la factura.\n\n6\n00:00:27.500 --> 00:00:31.000\n<v Carlos Ruiz>De nada, Ana. Que tenga un buen día.\n";

struct Fake {
    /// `http://127.0.0.1:PORT`
    origin: String,
    audio: Bytes,
}

async fn details(State(fake): State<Arc<Fake>>, Path(id): Path<String>) -> Response {
    let o = &fake.origin;
    axum::Json(json!({
        "id": id,
        "topic": "Call",
        "createTime": "2026-11-20T10:05:00Z",
        "timeRecorded": "2026-11-20T10:00:00Z",
        "format": "MP3",
        "durationSeconds": 31,
        "sizeBytes": AUDIO_BYTES,
        "status": "available",
        "temporaryDirectDownloadLinks": {
            "audioDownloadLink": format!("{o}/files/{id}.mp3?ticket=t"),
            "transcriptDownloadLink": format!("{o}/files/{id}.vtt?ticket=t"),
            "expiration": "2099-01-01T00:00:00Z",
        },
    }))
    .into_response()
}

async fn metadata(Path(id): Path<String>) -> Response {
    axum::Json(json!({
        "id": id,
        "serviceData": {
            "callingParty": {"actor": {"type": "PERSON", "id": "person-1"}, "number": "sip:4060@example.com;user=phone"},
            "calledParty": {"number": "+34911222333"},
        }
    }))
    .into_response()
}

async fn person(Path(id): Path<String>) -> Response {
    axum::Json(json!({"id": id, "displayName": "Ana García"})).into_response()
}

async fn file(State(fake): State<Arc<Fake>>, Path(name): Path<String>) -> Response {
    if name.ends_with(".mp3") {
        ([("content-type", "audio/mpeg")], fake.audio.clone()).into_response()
    } else if name.ends_with(".vtt") {
        ([("content-type", "text/vtt")], VTT).into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let n: usize = match std::env::args().nth(1) {
        Some(v) => v.parse()?,
        None => 500,
    };

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let origin = format!("http://{}", listener.local_addr()?);
    let audio: Vec<u8> = (0..AUDIO_BYTES).map(|i| (i * 31) as u8).collect();
    let fake = Arc::new(Fake {
        origin: origin.clone(),
        audio: Bytes::from(audio),
    });
    let app = axum::Router::new()
        .route("/v1/convergedRecordings/{id}", get(details))
        .route("/v1/convergedRecordings/{id}/metadata", get(metadata))
        .route("/v1/people/{id}", get(person))
        .route("/files/{name}", get(file))
        .with_state(fake);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let db_dir = tempfile::tempdir()?;
    let data_dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/bench.db", db_dir.path().display());
    let store = Store::connect(&SecretString::from(url)).await?;
    store.migrate().await?;

    let webex = WebexClient::new(
        ClientSettings {
            base_url: Url::parse(&format!("{origin}/v1"))?,
            request_timeout: Duration::from_secs(30),
            ..Default::default()
        },
        Auth::Static(SecretString::from("bench")),
    )?;
    let pipeline = Arc::new(Pipeline::new(PipelineDeps {
        store: store.clone(),
        webex,
        storage: webex_recordings::storage::Storage::local(data_dir.path().to_path_buf()),
        chat: None,
        stt: None,
        summary_language: "es".into(),
        translate_to: None,
        redact: RedactKinds::default(),
        settings: PipelineSettings::default(),
    }));
    let queue = Arc::new(EmbeddedQueue::new(
        store.clone(),
        EmbeddedSettings::default(),
    ));

    let started = Instant::now();
    for i in 0..n {
        let id = RecordingId::parse(&format!("rec-{i:08}"))?;
        queue
            .publish(&QueueMessage::new(
                MessageSource::Webhook,
                RecordingEvent::Created,
                id,
                None,
                None,
            ))
            .await?;
    }
    println!("published {n} messages in {:.2?}", started.elapsed());

    let cancel = CancellationToken::new();
    let started = Instant::now();
    let consumer = tokio::spawn(run_consumer(
        queue.clone(),
        pipeline,
        WORKER_CONCURRENCY,
        cancel.clone(),
    ));
    let finished = loop {
        let stats = store.stats().await?;
        let count = |s: &str| stats.by_status.get(s).copied().unwrap_or(0);
        let done = count("completed");
        let ended = done + count("partial") + count("failed");
        if ended >= n as u64 {
            break stats;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let wall = started.elapsed();
    cancel.cancel();
    consumer.await?;

    let completed = finished.by_status.get("completed").copied().unwrap_or(0);
    println!(
        "{completed}/{n} completed (by status {:?}) with {WORKER_CONCURRENCY} workers in {wall:.2?} wall",
        finished.by_status
    );
    println!("{:.1} recordings/s", completed as f64 / wall.as_secs_f64());
    Ok(())
}
