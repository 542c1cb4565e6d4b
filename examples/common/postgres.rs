//! A PostgreSQL database of a benchmark's own on the server `BENCH_POSTGRES_URL` names (default:
//! the local server), and the command line every database benchmark shares.

use sqlx::AnyPool;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// `[N] [sqlite|postgres|both] …`: the count (`default` when absent), the backends, and what follows.
pub fn args(default: usize) -> Result<(usize, String, Vec<String>), Error> {
    let mut args = std::env::args().skip(1);
    let total = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(default);
    let which = args.next().unwrap_or_else(|| "both".into());
    Ok((total, which, args.collect()))
}

/// The URL of database `name`, made empty first unless `keep` is set and it exists already.
pub async fn database(name: &str, keep: bool) -> Result<String, Error> {
    let admin_url = std::env::var("BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    sqlx::any::install_default_drivers();
    let admin = AnyPool::connect(&admin_url).await?;
    let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_one(&admin)
        .await?;
    if !keep || exists == 0 {
        // `name` is a constant of the benchmark, never input.
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&admin)
                .await?;
        }
    }
    admin.close().await;
    Ok(match admin_url.rfind('/') {
        Some(i) if i > "postgres://".len() => format!("{}/{name}", &admin_url[..i]),
        _ => format!("{admin_url}/{name}"),
    })
}
