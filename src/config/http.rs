//! The front door: where it listens, TLS, its limits, and how it logs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::ConfigError;
use super::env::{Env, invalid};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The front door's limits.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Every request's whole handling, Webex calls made while the client waits included
    /// (`REQUEST_TIMEOUT`). Streaming a response body after its headers is not bounded by it.
    pub request_timeout: Duration,
    /// A connection must have sent complete request headers within this (fixed by the contract).
    pub header_timeout: Duration,
    /// Open connections at most (`MAX_CONNECTIONS`); past it new ones wait in the kernel's
    /// backlog, so the process stays under its file limit.
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

/// `LISTEN_ADDR`.
pub(super) fn listen_addr(env: &Env<'_>) -> Result<SocketAddr, ConfigError> {
    Ok(env
        .parse("LISTEN_ADDR", "an address like 127.0.0.1:8000")?
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8000))))
}

/// `TLS_CERT` and `TLS_KEY`: both or neither.
pub(super) fn tls_files(env: &Env<'_>) -> Result<Option<TlsFiles>, ConfigError> {
    match (env.string("TLS_CERT"), env.string("TLS_KEY")) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => Ok(Some(TlsFiles {
            cert: cert.into(),
            key: key.into(),
        })),
        (Some(_), None) => Err(invalid("TLS_KEY", "required when TLS_CERT is set")),
        (None, Some(_)) => Err(invalid("TLS_CERT", "required when TLS_KEY is set")),
    }
}

/// `REQUEST_TIMEOUT` and `MAX_CONNECTIONS`.
pub(super) fn limits(env: &Env<'_>) -> Result<HttpLimits, ConfigError> {
    let defaults = HttpLimits::default();
    Ok(HttpLimits {
        request_timeout: env
            .duration("REQUEST_TIMEOUT", "30s or 2m")?
            .unwrap_or(defaults.request_timeout),
        max_connections: env
            .number_in("MAX_CONNECTIONS", 16..=1_000_000)?
            .unwrap_or(defaults.max_connections),
        ..defaults
    })
}

/// `LOG_FORMAT`.
pub(super) fn log_format(env: &Env<'_>) -> Result<LogFormat, ConfigError> {
    match env.string("LOG_FORMAT").as_deref() {
        None | Some("text") => Ok(LogFormat::Text),
        Some("json") => Ok(LogFormat::Json),
        Some(_) => Err(invalid("LOG_FORMAT", "expected text or json")),
    }
}
