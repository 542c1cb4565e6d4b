//! Dry-run reconcile of a 100,000-recording history against a SQLite store holding 99,000 of
//! them. The fake Webex is a small axum server serving pages of 100 with opaque next links.
//!
//! `cargo run --release --example reconcile_bench -- [TOTAL] [STORED]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::header::LINK;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{TimeDelta, Utc};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use url::Url;
use webex_recordings::domain::{ProcessingStatus, RecordingId};
use webex_recordings::queue::embedded::{EmbeddedQueue, EmbeddedSettings};
use webex_recordings::reconciler::{ReconcileOptions, ReconcileReport, Window, reconcile};
use webex_recordings::store::Store;
use webex_recordings::webex::{Auth, ClientSettings, WebexClient};

type Error = Box<dyn std::error::Error + Send + Sync>;

const PAGE: usize = 100;

struct Fake {
    base: String,
    ids: Vec<String>,
}

#[derive(Deserialize)]
struct Params {
    cursor: Option<String>,
}

async fn list(State(fake): State<Arc<Fake>>, Query(p): Query<Params>) -> impl IntoResponse {
    let start: usize = p
        .cursor
        .as_deref()
        .and_then(|c| c.strip_prefix("pos-"))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
        .min(fake.ids.len());
    let end = (start + PAGE).min(fake.ids.len());
    let items: Vec<_> = fake.ids[start..end]
        .iter()
        .map(|id| {
            json!({"id": id, "status": "available", "format": "MP3", "serviceType": "calling",
                   "timeRecorded": "2026-11-20T10:00:00Z", "durationSeconds": 60})
        })
        .collect();
    let body = axum::Json(json!({ "items": items }));
    if end < fake.ids.len() {
        let link = format!(
            r#"<{}/admin/convergedRecordings?cursor=pos-{end}>; rel="next""#,
            fake.base
        );
        ([(LINK, link)], body).into_response()
    } else {
        body.into_response()
    }
}

fn arg(n: usize, default: usize) -> Result<usize, Error> {
    match std::env::args().nth(n) {
        Some(v) => Ok(v.parse()?),
        None => Ok(default),
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let total = arg(1, 100_000)?;
    let stored = arg(2, 99_000)?.min(total);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/v1", listener.local_addr()?);
    let ids: Vec<String> = (0..total).map(|i| format!("rec-{i:08}")).collect();
    let fake = Arc::new(Fake {
        base: base.clone(),
        ids: ids.clone(),
    });
    let app = axum::Router::new()
        .route("/v1/admin/convergedRecordings", get(list))
        .with_state(fake);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/bench.db", dir.path().display());
    let store = Store::connect(&SecretString::from(url)).await?;
    store.migrate().await?;
    // Every 100th id is missing: the stored ones spread over all pages.
    let missing_every = if total > stored {
        total / (total - stored)
    } else {
        usize::MAX
    };
    let rows: Vec<(RecordingId, ProcessingStatus)> = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| (i + 1) % missing_every != 0)
        .take(stored)
        .map(|(_, id)| Ok((RecordingId::parse(id)?, ProcessingStatus::Completed)))
        .collect::<Result<_, Error>>()?;
    let started = Instant::now();
    store.import_bare_recordings(&rows, Utc::now()).await?;
    println!(
        "seeded {} stored recordings in {:.2?}",
        rows.len(),
        started.elapsed()
    );

    let webex = WebexClient::new(
        ClientSettings {
            base_url: Url::parse(&base)?,
            request_timeout: Duration::from_secs(30),
            ..Default::default()
        },
        Auth::Static(SecretString::from("bench")),
    )?;
    let queue = EmbeddedQueue::new(store.clone(), EmbeddedSettings::default());
    let now = Utc::now();
    let window = Window {
        from: now - TimeDelta::days(7),
        to: now,
    };
    let options = ReconcileOptions {
        dry_run: true,
        ..Default::default()
    };
    let progress = |_: &ReconcileReport| {};
    let started = Instant::now();
    let report = reconcile(&webex, &store, &queue, window, &options, &progress).await?;
    let wall = started.elapsed();
    println!(
        "dry-run reconcile of {total} listed / {} stored: {wall:.2?} wall, {} Webex calls, {} SQL round trips; seen {}, stored {}, would enqueue {}",
        rows.len(),
        report.webex_calls,
        report.store_queries,
        report.seen,
        report.stored,
        report.enqueued
    );
    println!(
        "per page: {:.2?}",
        wall / u32::try_from(report.webex_calls.max(1)).unwrap_or(u32::MAX)
    );
    Ok(())
}
