//! Shared test helpers: a fresh database per test on SQLite or the real PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use webex_recordings::store::Store;

/// Polls `done` until it holds; fails naming `what` once `within` has passed.
pub async fn wait_until(within: Duration, what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// PostgreSQL server the tests use (a fresh database is created on it per test).
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub const BOTH: [Db; 2] = [Db::Sqlite, Db::Postgres];

/// A database that exists for one test and is removed after it.
pub struct TestDb {
    pub store: Store,
    #[allow(dead_code)]
    pub url: String,
    _dir: Option<Arc<tempfile::TempDir>>,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn new(db: Db) -> TestDb {
        match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/nested/test.db", dir.path().display());
                let store = connect(&url).await;
                TestDb {
                    store,
                    url,
                    _dir: Some(Arc::new(dir)),
                    pg_name: None,
                }
            }
            Db::Postgres => {
                let name = format!("wr_test_{}", uuid::Uuid::new_v4().simple());
                let admin = admin_pool().await;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "PostgreSQL must be running for these tests ({}): {e}",
                            postgres_admin_url()
                        )
                    });
                admin.close().await;
                let base = postgres_admin_url();
                let url = match base.rfind('/') {
                    Some(i) if i > "postgres://".len() => format!("{}/{name}", &base[..i]),
                    _ => format!("{base}/{name}"),
                };
                let store = connect(&url).await;
                TestDb {
                    store,
                    url,
                    _dir: None,
                    pg_name: Some(name),
                }
            }
        }
    }
}

async fn admin_pool() -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&postgres_admin_url())
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL must be running for these tests ({}): {e}",
                postgres_admin_url()
            )
        })
}

pub async fn connect(url: &str) -> Store {
    let store = Store::connect(&SecretString::from(url.to_string()))
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    store.migrate().await.expect("migrations apply");
    store
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            // Drop runs inside the test's runtime; a thread with a runtime of its own can block.
            // FORCE ends the store's open connections, so nothing waits on the test's pool.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    let admin = admin_pool().await;
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&admin)
                    .await;
                    admin.close().await;
                });
            })
            .join();
        }
    }
}

/// The real application, started on a free loopback port for one test.
pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub base: String,
    pub cancel: tokio_util::sync::CancellationToken,
    pub http: reqwest::Client,
    done: Option<tokio::task::JoinHandle<()>>,
}

pub const WEBHOOK_SECRET: &str = "test-webhook-secret";

impl TestApp {
    /// Starts `serve --role ROLE` against `database_url`, with `extra` variables on top of
    /// LISTEN_ADDR=127.0.0.1:0, WEBEX_WEBHOOK_SECRET and BACKFILL_INTERVAL=0.
    pub async fn spawn(
        database_url: &str,
        role: webex_recordings::startup::Role,
        extra: &[(&str, &str)],
    ) -> TestApp {
        let mut vars: std::collections::HashMap<String, String> = [
            ("DATABASE_URL", database_url),
            ("LISTEN_ADDR", "127.0.0.1:0"),
            ("WEBEX_WEBHOOK_SECRET", WEBHOOK_SECRET),
            ("BACKFILL_INTERVAL", "0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in extra {
            vars.insert(k.to_string(), v.to_string());
        }
        let mut config = webex_recordings::config::Config::from_lookup(|n| vars.get(n).cloned())
            .expect("test configuration is valid");
        // Retries in milliseconds, not the production half minute.
        config.pipeline.retry.base_delay = std::time::Duration::from_millis(50);
        config.pipeline.retry.max_delay = std::time::Duration::from_millis(400);
        let tls = config.tls.is_some();
        let app = webex_recordings::startup::Application::build(config, role)
            .await
            .expect("application starts");
        let addr = app.local_addr().expect("HTTP listener");
        let cancel = app.shutdown_token();
        let done = tokio::spawn(app.run_until_stopped());
        let scheme = if tls { "https" } else { "http" };
        TestApp {
            addr,
            base: format!("{scheme}://{addr}"),
            cancel,
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(20))
                .build()
                .expect("client"),
            done: Some(done),
        }
    }

    /// POSTs a webhook body signed with `secret` (None: no signature header).
    pub async fn post_webhook(&self, body: &[u8], secret: Option<&str>) -> reqwest::Response {
        let mut req = self
            .http
            .post(format!("{}/webhooks/webex", self.base))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(secret) = secret {
            req = req.header(
                "X-Spark-Signature",
                webex_recordings::signature::sign(body, secret.as_bytes()),
            );
        }
        req.send().await.expect("request reaches the receiver")
    }

    /// Stops the app and waits for it to drain.
    pub async fn stop(mut self) {
        self.cancel.cancel();
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// A realistic `convergedRecordings` webhook envelope as Webex sends it.
pub fn envelope(recording_id: &str, event: &str) -> serde_json::Value {
    serde_json::json!({
        "id": "Y2lzY29zcGFyazovL3VzL1dFQkhPT0svOTZhYmMyYWEtM2RjYy0xMWU1LWExNTItZmUzNDgxOWNkYzlh",
        "name": "webex-recordings",
        "targetUrl": "https://recordings.example.com/webhooks/webex",
        "resource": "convergedRecordings",
        "event": event,
        "orgId": "org-123",
        "createdBy": "person-1",
        "appId": "app-1",
        "ownedBy": "org",
        "status": "active",
        "created": "2026-11-20T10:00:00.000Z",
        "actorId": "person-2",
        "data": {
            "id": recording_id,
            "topic": "Call with +34 600 000 000",
            "createTime": "2026-11-25T09:59:00.000Z",
            "serviceType": "calling",
            "orgId": "org-123"
        }
    })
}
