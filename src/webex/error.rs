//! Errors of the Webex client, worded for the operator who reads the log.

/// Boxed error used at trait boundaries (e.g. [`super::TokenStore`]).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong when talking to Webex.
#[derive(Debug, thiserror::Error)]
pub enum WebexError {
    /// Webex answered with a non-success status.
    #[error(
        "Webex API answered {status} {reason}: {message}{tracking}",
        reason = status_reason(*.status),
        tracking = tracking_suffix(.tracking_id.as_deref())
    )]
    Api {
        status: u16,
        message: String,
        tracking_id: Option<String>,
    },

    /// A transient failure repeated until the retry budget ran out.
    #[error("Webex API request gave up after {attempts} attempts; last error: {last}")]
    RetriesExhausted {
        attempts: u32,
        last: Box<WebexError>,
    },

    /// Transport-level failure (connect, timeout, TLS, broken body, ...), without its URL.
    #[error("HTTP request to Webex failed: {}", crate::telemetry::error_with_causes(&.0.0))]
    Http(Transport),

    /// No usable credentials, or the OAuth refresh was refused.
    #[error("Webex authentication problem: {0}")]
    Auth(String),

    /// Local file-system failure (downloads).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    /// A response body that is not what the API documents.
    #[error("could not decode the Webex response: {0}")]
    Decode(String),

    /// A URL whose host is not a Webex host (nor the configured API host).
    #[error("refusing to contact a host that is not Webex: {0}")]
    HostNotAllowed(String),

    /// The downloaded size differs from the size announced by Webex.
    #[error("download size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch { expected: u64, actual: u64 },

    /// Invalid client settings (e.g. a base URL that cannot carry paths).
    #[error("invalid Webex client configuration: {0}")]
    Config(String),
}

/// A transport error that no longer holds its URL: only `From<reqwest::Error>` makes one, so
/// no error text can carry a download link's access ticket into logs, queue headers or
/// `processing_errors`.
#[derive(Debug)]
pub struct Transport(reqwest::Error);

impl From<reqwest::Error> for WebexError {
    fn from(e: reqwest::Error) -> Self {
        Self::Http(Transport(e.without_url()))
    }
}

fn status_reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

fn tracking_suffix(tracking_id: Option<&str>) -> String {
    match tracking_id {
        Some(id) => format!(" (TrackingID {id})"),
        None => String::new(),
    }
}

impl WebexError {
    /// True when trying again later may succeed: rate limits, locks, server errors,
    /// timeouts, connection failures, and exhausted retries of those.
    pub fn is_transient(&self) -> bool {
        match self {
            WebexError::Api { status, .. } => is_transient_status(*status),
            WebexError::RetriesExhausted { last, .. } => last.is_transient(),
            WebexError::Http(Transport(e)) => e.is_timeout() || e.is_connect() || e.is_request(),
            _ => false,
        }
    }

    /// The HTTP status Webex answered, if the error came from an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            WebexError::Api { status, .. } => Some(*status),
            WebexError::RetriesExhausted { last, .. } => last.status(),
            WebexError::Http(Transport(e)) => e.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// Webex's `TrackingID` of the failed call (quote it to Cisco support).
    pub fn tracking_id(&self) -> Option<&str> {
        match self {
            WebexError::Api { tracking_id, .. } => tracking_id.as_deref(),
            WebexError::RetriesExhausted { last, .. } => last.tracking_id(),
            _ => None,
        }
    }
}

/// Statuses worth retrying later (by a caller; the client itself retries 429/423/502/503/504).
pub(crate) fn is_transient_status(status: u16) -> bool {
    status == 429 || status == 423 || (500..=599).contains(&status)
}
