//! Where things are kept: the database, audio and transcripts (local or S3), and for how long.

use std::time::Duration;

use super::ConfigError;
use super::env::{Env, invalid};

/// Where audio and transcripts are kept (`STORAGE_URL`).
#[derive(Debug, Clone)]
pub enum StorageConfig {
    /// Files under `DATA_DIR`.
    Local,
    /// Objects in an S3-compatible bucket.
    S3(Box<crate::storage::S3Settings>),
}

/// `DATABASE_URL`: SQLite or PostgreSQL.
pub(super) fn database_url(env: &Env<'_>) -> Result<String, ConfigError> {
    let url = env
        .string("DATABASE_URL")
        .unwrap_or_else(|| "sqlite://data/webex-recordings.db".into());
    if ["sqlite:", "postgres://", "postgresql://"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
    {
        Ok(url)
    } else {
        Err(invalid(
            "DATABASE_URL",
            "expected sqlite://PATH or postgres://…",
        ))
    }
}

/// `STORAGE_URL=s3://BUCKET[/PREFIX]` with the standard `AWS_*` variables; unset: local files.
pub(super) fn storage(env: &Env<'_>) -> Result<StorageConfig, ConfigError> {
    let Some(raw) = env.string("STORAGE_URL") else {
        return Ok(StorageConfig::Local);
    };
    let expected = "expected s3://BUCKET or s3://BUCKET/PREFIX";
    let rest = raw
        .strip_prefix("s3://")
        .ok_or_else(|| invalid("STORAGE_URL", expected))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    // S3 bucket naming rules: 3–63 lowercase letters, digits, dots and hyphens.
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    let prefix = prefix.trim_matches('/');
    let prefix_ok = prefix
        .split('/')
        .all(|s| prefix.is_empty() || !(s.is_empty() || s == "." || s == ".."));
    if !bucket_ok || !prefix_ok {
        return Err(invalid("STORAGE_URL", expected));
    }
    Ok(StorageConfig::S3(Box::new(crate::storage::S3Settings {
        bucket: bucket.to_string(),
        prefix: (!prefix.is_empty()).then(|| prefix.to_string()),
        endpoint: env.url("AWS_ENDPOINT_URL")?,
        region: env.string("AWS_REGION"),
        access_key_id: env.string("AWS_ACCESS_KEY_ID"),
        secret_access_key: env.string("AWS_SECRET_ACCESS_KEY").map(Into::into),
        allow_http: env.flag("AWS_ALLOW_HTTP")?.unwrap_or(false),
    })))
}

/// `RETENTION_DAYS`; unset: recordings are kept forever.
pub(super) fn retention(env: &Env<'_>) -> Result<Option<Duration>, ConfigError> {
    Ok(env
        .number_in("RETENTION_DAYS", 1..=36_500u64)?
        .map(|days| Duration::from_secs(days * 86_400)))
}
