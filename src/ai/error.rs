//! Errors of the AI clients, split by whether a retry later may succeed.
//!
//! No variant ever carries the API key: it only travels in the `Authorization`
//! header (marked sensitive by reqwest), never in URLs, bodies or messages.

use reqwest::StatusCode;

/// At most this many characters of an error body are kept: enough to see the
/// provider's message, without dragging a whole HTML error page into logs.
const BODY_SNIPPET_CHARS: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum AiError {
    /// The request did not complete: connect failure, timeout, connection
    /// dropped while reading the body.
    #[error("AI request failed: {}", crate::telemetry::error_with_causes(.0))]
    Http(reqwest::Error),

    /// The server answered with a non-success status.
    #[error("AI server answered {status}: {body}")]
    Status { status: StatusCode, body: String },

    /// The server (or the model) answered something that does not fit what was
    /// asked for, also after the one retry.
    #[error("AI server returned an invalid response: {0}")]
    InvalidResponse(String),

    /// Local I/O, e.g. the audio file to upload cannot be opened.
    #[error("AI client I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl AiError {
    /// Whether the same call may succeed if tried again later.
    pub fn is_transient(&self) -> bool {
        match self {
            // A builder error is a bug in the request we made, not the network.
            AiError::Http(e) => !e.is_builder(),
            // 408 is the server saying "you were too slow", as transient as a timeout.
            AiError::Status { status, .. } => {
                status.is_server_error()
                    || *status == StatusCode::TOO_MANY_REQUESTS
                    || *status == StatusCode::REQUEST_TIMEOUT
            }
            AiError::InvalidResponse(_) => false,
            AiError::Io(_) => false,
        }
    }

    /// Whether the request ran into the configured timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, AiError::Http(e) if e.is_timeout())
    }

    /// A transport error, without its URL (the endpoint's address is configuration, and the
    /// text goes to logs and `processing_errors`).
    pub(crate) fn http(e: reqwest::Error) -> Self {
        AiError::Http(e.without_url())
    }

    /// A `Status` error with the body cut to a short snippet (on a char boundary).
    pub(crate) fn status(status: StatusCode, body: &str) -> Self {
        AiError::Status {
            status,
            body: snippet(body),
        }
    }
}

fn snippet(body: &str) -> String {
    let body = body.trim();
    match body.char_indices().nth(BODY_SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &body[..cut]),
        None => body.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_classification() {
        let transient = [500u16, 502, 503, 429, 408];
        for code in transient {
            let e = AiError::status(StatusCode::from_u16(code).unwrap(), "x");
            assert!(e.is_transient(), "{code} should be transient");
        }
        for code in [400u16, 401, 403, 404, 422] {
            let e = AiError::status(StatusCode::from_u16(code).unwrap(), "x");
            assert!(!e.is_transient(), "{code} should be permanent");
        }
        assert!(!AiError::InvalidResponse("x".into()).is_transient());
    }

    #[test]
    fn snippet_is_cut_on_char_boundary() {
        let body = "ñ".repeat(BODY_SNIPPET_CHARS + 10);
        let AiError::Status { body: s, .. } = AiError::status(StatusCode::BAD_GATEWAY, &body)
        else {
            panic!("expected Status");
        };
        assert_eq!(s.chars().count(), BODY_SNIPPET_CHARS + 1);
        assert!(s.ends_with('…'));
    }
}
