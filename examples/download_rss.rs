//! Peak RSS and throughput while streaming a 1 GiB audio download into the store, as the
//! pipeline's `audio` step does (`WebexClient::open_download` into `Storage::put_stream`). The
//! store is the one the configuration names: files under `DATA_DIR`, or S3 with `STORAGE_URL`
//! and the `AWS_*` settings. The local axum server generates the bytes on the fly in 64 KiB
//! chunks (with a Content-Length), so neither side ever holds the file in memory.
//!
//! `DATA_DIR=/tmp/bench cargo run --release --example download_rss -- [MiB]`
//! `STORAGE_URL=s3://BUCKET/bench AWS_ENDPOINT_URL=… cargo run --release --example download_rss`

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use secrecy::SecretString;
use url::Url;
use webex_recordings::config::Config;
use webex_recordings::domain::RecordingId;
use webex_recordings::storage::{Storage, StorageKey};
use webex_recordings::webex::{Auth, ClientSettings, WebexClient};

type Error = Box<dyn std::error::Error + Send + Sync>;

const CHUNK: usize = 64 * 1024;
const MIB: u64 = 1024 * 1024;
const TARGET_PEAK_MIB: u64 = 64;

fn total_bytes() -> Result<u64, Error> {
    let mib: u64 = match std::env::args().nth(1) {
        Some(v) => v.parse()?,
        None => 1024,
    };
    Ok(mib * MIB)
}

async fn audio() -> Response {
    let total = total_bytes().unwrap_or(1024 * MIB);
    // One 64 KiB chunk, shared (reference-counted) by every frame of the body.
    let chunk = Bytes::from((0..CHUNK).map(|i| (i * 31) as u8).collect::<Vec<u8>>());
    let chunks = total.div_ceil(CHUNK as u64);
    let stream = futures::stream::iter((0..chunks).map(move |i| {
        let len = (total - i * CHUNK as u64).min(CHUNK as u64) as usize;
        Ok::<_, std::io::Error>(chunk.slice(..len))
    }));
    (
        [
            (CONTENT_TYPE, "audio/mpeg".to_string()),
            (CONTENT_LENGTH, total.to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// `VmHWM` (peak resident set) from /proc/self/status, in KiB.
fn vm_hwm_kib() -> Result<u64, Error> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .ok_or("no VmHWM in /proc/self/status")?;
    Ok(line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let total = total_bytes()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let origin = format!("http://{}", listener.local_addr()?);
    let app = axum::Router::new().route("/files/big.mp3", get(audio));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let webex = WebexClient::new(
        ClientSettings {
            base_url: Url::parse(&format!("{origin}/v1"))?,
            request_timeout: Duration::from_secs(30),
            ..Default::default()
        },
        Auth::Static(SecretString::from("bench")),
    )?;
    let config = Config::from_env()?;
    let storage = Storage::from_config(&config)?;
    let id = RecordingId::parse("bench-1gib")?;
    let key = StorageKey::audio(&id, chrono::Utc::now(), "mp3");
    println!("storing into {}", storage.location(&key));

    let before = vm_hwm_kib()?;
    println!(
        "baseline peak RSS (VmHWM) before the download: {:.1} MiB",
        before as f64 / 1024.0
    );

    let started = Instant::now();
    let download = webex
        .open_download(&format!("{origin}/files/big.mp3?ticket=t"), Some(total))
        .await?;
    let stored = storage
        .put_stream(&key, download.chunks())
        .await
        .map_err(|e| e.to_string())?;
    let wall = started.elapsed();
    let peak = vm_hwm_kib()?;

    let in_store = storage.head(&key).await?.size;
    if in_store != total || stored.size_bytes != total {
        return Err(format!(
            "size mismatch: expected {total}, reported {}, in the store {in_store}",
            stored.size_bytes
        )
        .into());
    }
    storage.delete(&key).await?;

    let peak_mib = peak as f64 / 1024.0;
    println!(
        "stored {} MiB in {wall:.2?}: {:.1} MiB/s; size in the store checked ({in_store} bytes)",
        total / MIB,
        total as f64 / MIB as f64 / wall.as_secs_f64()
    );
    println!(
        "peak RSS (VmHWM) after the download: {peak_mib:.1} MiB (target < {TARGET_PEAK_MIB} MiB: {})",
        if peak < TARGET_PEAK_MIB * 1024 {
            "ok"
        } else {
            "EXCEEDED"
        }
    );
    Ok(())
}
