//! Every SQL statement of the service lives under this module.
//!
//! One schema and one set of statements serve SQLite and PostgreSQL through sqlx's `Any` driver;
//! the few places that differ (row locking) branch on [`Backend`].

mod alerts;
mod audit;
mod insight;
mod jobs;
mod keys;
mod noted_files;
mod overview;
mod queue;
mod reconcile;
mod recordings;
mod retention;
mod search;
mod sessions;
mod tokens;
mod trackers;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use secrecy::{ExposeSecret, SecretString};
use sqlx::any::{AnyArguments, AnyConnectOptions, AnyPoolOptions};
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Executor, Transaction};

pub use alerts::OutboxAlert;
pub use audit::{AuditBreak, AuditEntry, AuditFilter, NewAuditEntry};
pub use jobs::JobLease;
pub use keys::KeyInfo;
pub use overview::Overview;
pub use queue::{QueueLease, QueueRow, TakenMessage};
pub use reconcile::EnqueuedRecording;
pub use recordings::{Claim, Stats, StoredState};
pub use retention::{HoldChange, PURGE_BATCH, PurgeCandidate};
pub use search::{RecordingSearch, SearchHit, SearchPage};
pub use sessions::Session;
pub use trackers::{PendingTracker, StoredTracker, TrackerBatch};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A unique name is taken.
    #[error("{0}")]
    Duplicate(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

// One folder per backend: most files are the same in both, but full-text search and triggers are
// not (FTS5 and `tsvector`), and sqlx checks each applied migration against its folder.
static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects to `sqlite://…` (file and folder created) or `postgres://…`.
    pub async fn connect(url: &SecretString) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let url = url.expose_secret();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_string(),
        };
        let options: AnyConnectOptions = url.parse()?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                // SQLite has one writer at a time; more connections only add lock waits.
                Backend::Sqlite => 8,
                Backend::Postgres => 20,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer (serve and backfill share the
                        // file); FULL sync keeps a committed queue message through a crash; the
                        // busy timeout waits for the other process instead of failing.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        // Reads through a memory map instead of a copy per page read, and a
                        // larger page cache per connection: scans of 100,000 calls (lists,
                        // re-evaluation) otherwise spend their time copying pages.
                        conn.execute("PRAGMA mmap_size = 268435456").await?;
                        conn.execute("PRAGMA cache_size = -16384").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self { pool, backend })
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction that writes. On SQLite it takes the write lock at `BEGIN`, waiting out the
    /// busy timeout. A deferred `BEGIN` may start as a reader, and SQLite refuses a reader's
    /// upgrade at once ("database is locked", busy timeout or not) while another connection
    /// writes: seen on the record's save, whose statement is prepared afresh every time.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// For `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Creates the folder of a SQLite file and asks sqlx to create the file.
fn prepare_sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or_default();
    let parent = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent.filter(|_| path != ":memory:") {
        std::fs::create_dir_all(parent).map_err(|source| StoreError::Folder {
            path: parent.display().to_string(),
            source,
        })?;
    }
    Ok(if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

/// For statements whose WHERE clause is their guard (a lease, a state, a name): the guard held
/// if and only if exactly one row changed, so the check and the write stay one statement.
pub(crate) trait ExecuteOne {
    async fn execute_one<'c, E>(self, executor: E) -> Result<bool, StoreError>
    where
        E: Executor<'c, Database = Any>;
}

impl ExecuteOne for Query<'_, Any, AnyArguments> {
    async fn execute_one<'c, E>(self, executor: E) -> Result<bool, StoreError>
    where
        E: Executor<'c, Database = Any>,
    {
        Ok(self.execute(executor).await?.rows_affected() == 1)
    }
}

pub(crate) fn to_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms} out of range")))
}

/// `$first, $first+1, …`: `count` numbered parameters for an `IN (…)` list.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
