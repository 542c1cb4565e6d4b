//! What compliance costs, on SQLite and on PostgreSQL:
//! 1. purging N recordings past retention (default 100,000, 1 % of them under legal hold, each
//!    with an audio file and a VTT file on disk): wall time, and the SQL statements it took as
//!    sqlx logs them (counted by a tracing layer, so nothing is estimated);
//! 2. what the access layer and its audit entry add to `GET /api/v1/recordings/{id}`: p50/p99 of
//!    the real service (key check, role check, audit entry written before the answer), of the same
//!    handler mounted without the access layer, and of the audit write alone.
//!
//! `cargo run --release --example compliance_bench -- [N] [sqlite|postgres|both] [purge|audit|both]`
//! PostgreSQL: `BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`); the
//! databases `compliance_bench_purge` and `compliance_bench_audit` are made afresh on it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use chrono::{TimeDelta, Utc};
use secrecy::SecretString;
use sqlx::AnyPool;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use webex_recordings::domain::RecordingId;
use webex_recordings::http::AppState;
use webex_recordings::retention::purge_expired;
use webex_recordings::startup::{Application, Role, open_queue, open_store};
use webex_recordings::storage::{Storage, StorageKey};
use webex_recordings::store::{NewAuditEntry, Store};

#[path = "common/postgres.rs"]
mod postgres;
#[path = "common/quiet.rs"]
mod quiet;

type Error = Box<dyn std::error::Error + Send + Sync>;

const BATCH: usize = 500;
const REQUESTS: usize = 2_000;
const AUDIT_RECORDINGS: usize = 10_000;
const TOKEN: &str = "compliance-bench-admin-token";
const TEXT: &str = "buenos días le atiende el servicio de atención al cliente quería consultar \
    una factura que me ha llegado este mes la tarjeta de crédito fue rechazada al hacer el pago \
    me han cobrado dos veces el mismo recibo necesito cambiar la dirección de envío del pedido ";

/// Counts the statements sqlx runs (its `sqlx::query` events, one per statement executed).
#[derive(Clone, Default)]
struct StatementCounter(Arc<AtomicU64>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for StatementCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl StatementCounter {
    fn take(&self) -> u64 {
        self.0.swap(0, Ordering::Relaxed)
    }
}

/// Inserts `total` completed recordings recorded three years ago; with `files`, each gets an audio
/// and a VTT file under `storage` (written straight to disk: the store's own writes fsync, which
/// would time the disk, not the purge).
async fn load(
    url: &str,
    total: usize,
    storage: Option<&Storage>,
    held_every: usize,
) -> Result<(), Error> {
    sqlx::any::install_default_drivers();
    let pool = AnyPool::connect(url).await?;
    let recorded = Utc::now() - TimeDelta::days(3 * 365);
    let at = recorded.timestamp_millis();
    let started = Instant::now();
    for start in (0..total).step_by(BATCH) {
        let end = (start + BATCH).min(total);
        let rows: Vec<String> = (start..end)
            .map(|i| {
                let p = (i - start) * 3;
                let held = if held_every > 0 && i % held_every == 0 {
                    format!("'bench', 'bench', {at}")
                } else {
                    "NULL, NULL, NULL".into()
                };
                format!(
                    "(${}, {at}, {at}, '+34910000000', 'Ana García', $1, 'completed', $1, ${}, ${}, \
                     {held}, {at}, {at})",
                    p + 2,
                    p + 3,
                    p + 4
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO recordings (recording_id, recorded_at, sort_at, caller, caller_name, \
             transcript_text, processing_status, summary_text, audio_local_path, transcript_vtt_path, \
             legal_hold_reason, legal_hold_by, legal_hold_at, created_at, updated_at) VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(TEXT.repeat(8));
        for i in start..end {
            let id = RecordingId::parse(&format!("bench-{i:06}"))?;
            let (audio, vtt) = match storage {
                Some(storage) => {
                    let audio = storage.location(&StorageKey::audio(&id, recorded, "mp3"));
                    let vtt = storage.location(&StorageKey::transcript(&id, recorded));
                    for path in [&audio, &vtt] {
                        let path = std::path::Path::new(path);
                        if let Some(dir) = path.parent() {
                            std::fs::create_dir_all(dir)?;
                        }
                        std::fs::write(path, b"bench")?;
                    }
                    (Some(audio), Some(vtt))
                }
                None => (None, None),
            };
            query = query.bind(id.as_str().to_string()).bind(audio).bind(vtt);
        }
        let mut tx = pool.begin().await?;
        query.execute(&mut *tx).await?;
        tx.commit().await?;
    }
    eprintln!("  loaded {total} in {:.1?}", started.elapsed());
    pool.close().await;
    Ok(())
}

async fn fresh_database(
    backend: &str,
    name: &str,
) -> Result<(String, Option<tempfile::TempDir>), Error> {
    if backend == "sqlite" {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}/{name}.db", dir.path().display());
        return Ok((url, Some(dir)));
    }
    Ok((postgres::database(name, false).await?, None))
}

async fn bench_purge(backend: &str, total: usize, counter: &StatementCounter) -> Result<(), Error> {
    let (url, _dir) = fresh_database(backend, "compliance_bench_purge").await?;
    let files = tempfile::tempdir()?;
    let storage = Storage::local(files.path().to_path_buf());
    let store = Store::connect(&SecretString::from(url.clone())).await?;
    store.migrate().await?;
    load(&url, total, Some(&storage), 100).await?;
    counter.take();
    let quiet = quiet::quiet()?;
    let started = Instant::now();
    let report = purge_expired(
        &store,
        &storage,
        Duration::from_secs(365 * 86_400),
        false,
        "bench",
    )
    .await?;
    let elapsed = started.elapsed();
    drop(quiet);
    let statements = counter.take();
    println!(
        "  purge: {} purged, {} held, in {elapsed:.1?} ({:.0} recordings/s, files included); \
         {statements} SQL statements ({:.3} per recording)",
        report.purged,
        report.held,
        report.purged as f64 / elapsed.as_secs_f64(),
        statements as f64 / report.purged.max(1) as f64
    );
    store.close().await;
    Ok(())
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

/// `REQUESTS` sequential GETs of random recordings over one keep-alive connection.
async fn time_gets(base: &str, bearer: bool) -> Result<(Duration, Duration), Error> {
    let client = reqwest::Client::new();
    let mut samples = Vec::with_capacity(REQUESTS);
    for i in 0..REQUESTS + 50 {
        let id = (i * 7_919) % AUDIT_RECORDINGS;
        let mut request = client.get(format!("{base}/api/v1/recordings/bench-{id:06}"));
        if bearer {
            request = request.bearer_auth(TOKEN);
        }
        let started = Instant::now();
        let response = request.send().await?;
        let status = response.status();
        response.bytes().await?;
        if !status.is_success() {
            return Err(format!("GET answered {status}").into());
        }
        // The first requests warm the connection and the caches.
        if i >= 50 {
            samples.push(started.elapsed());
        }
    }
    Ok(percentiles(samples))
}

async fn bench_audit(backend: &str) -> Result<(), Error> {
    let (url, _dir) = fresh_database(backend, "compliance_bench_audit").await?;
    let data = tempfile::tempdir()?;
    let vars: std::collections::HashMap<&str, String> = [
        ("DATABASE_URL", url.clone()),
        ("DATA_DIR", data.path().display().to_string()),
        ("LISTEN_ADDR", "127.0.0.1:0".to_string()),
        ("WEBEX_WEBHOOK_SECRET", "bench-secret".to_string()),
        ("API_TOKEN", TOKEN.to_string()),
        ("BACKFILL_INTERVAL", "0".to_string()),
    ]
    .into_iter()
    .collect();
    let config = webex_recordings::config::Config::from_lookup(|k| vars.get(k).cloned())?;

    // With the access layer: the service as it runs.
    let app = Application::build(config.clone(), Role::Receiver).await?;
    load(&url, AUDIT_RECORDINGS, None, 0).await?;
    let addr = app.local_addr().ok_or("no listener")?;
    let stop = app.shutdown_token();
    let running = tokio::spawn(app.run_until_stopped());
    let quiet = quiet::quiet()?;
    let (with_p50, with_p99) = time_gets(&format!("http://{addr}"), true).await?;
    stop.cancel();
    running.await?;

    // The same handler and state without the access layer: no key check, no audit entry.
    let config = Arc::new(config);
    let store = open_store(&config).await?;
    let queue = open_queue(&config, &store).await?;
    let state = AppState {
        config: config.clone(),
        store: store.clone(),
        publisher: queue.publisher.clone(),
        webex: None,
        storage: Storage::local(data.path().to_path_buf()),
        metrics: None,
        auth_failures: Default::default(),
        tasks: Default::default(),
    };
    let bare = Router::new()
        .route(
            "/api/v1/recordings/{id}",
            get(webex_recordings::http::recordings::get_recording),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bare_addr = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, bare).await });
    let (bare_p50, bare_p99) = time_gets(&format!("http://{bare_addr}"), false).await?;
    server.abort();

    // The audit write alone, as the layer makes it.
    let mut samples = Vec::with_capacity(REQUESTS);
    for i in 0..REQUESTS {
        let entry = NewAuditEntry {
            at: Utc::now(),
            actor: "api-token".into(),
            role: Some("admin".into()),
            action: "recording.view".into(),
            recording_id: Some(format!("bench-{:06}", i % AUDIT_RECORDINGS)),
            ip: Some("127.0.0.1".into()),
            user_agent: Some("compliance-bench".into()),
            status: 200,
            detail: None,
        };
        let started = Instant::now();
        store.append_audit(&entry).await?;
        samples.push(started.elapsed());
    }
    let (audit_p50, audit_p99) = percentiles(samples);
    drop(quiet);
    store.close().await;

    println!("  GET /api/v1/recordings/{{id}}, {REQUESTS} sequential requests on one connection:");
    println!(
        "    with key check + role check + audit entry  p50 {with_p50:>9.2?}  p99 {with_p99:>9.2?}"
    );
    println!(
        "    same handler, no access layer               p50 {bare_p50:>9.2?}  p99 {bare_p99:>9.2?}"
    );
    println!(
        "    the audit write alone                       p50 {audit_p50:>9.2?}  p99 {audit_p99:>9.2?}"
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (total, which, rest) = postgres::args(100_000)?;
    let parts = rest.first().map(String::as_str).unwrap_or("both");
    let counter = StatementCounter::default();
    tracing_subscriber::registry()
        .with(
            counter.clone().with_filter(
                tracing_subscriber::filter::Targets::new()
                    .with_target("sqlx::query", tracing::Level::TRACE),
            ),
        )
        .init();

    for backend in ["sqlite", "postgres"] {
        if which != "both" && which != backend {
            continue;
        }
        println!("{backend}, {total} recordings:");
        if parts != "audit" {
            bench_purge(backend, total, &counter).await?;
        }
        if parts != "purge" {
            bench_audit(backend).await?;
        }
    }
    Ok(())
}
