//! Shared test helpers: a fresh database per test on SQLite or the real PostgreSQL.

use std::sync::Arc;

use secrecy::SecretString;
use webex_recordings::store::Store;

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

async fn connect(url: &str) -> Store {
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
