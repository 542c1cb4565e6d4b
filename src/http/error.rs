//! The one place HTTP status codes are decided. Bodies are JSON `{"error", "detail"}`;
//! internal causes are logged, never sent to the client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    /// The principal's role does not allow the action.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with what exists (a name taken).
    #[error("{0}")]
    Conflict(String),
    /// The recording is under legal hold: nothing may destroy it.
    #[error("{0}")]
    LegalHold(String),
    /// Too many failed key checks from this address; carries the seconds until it may retry.
    #[error("too many failed attempts from this address; retry in {0} s")]
    TooManyRequests(u64),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A body sent as something the route does not read (JSON routes without its content type).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The resource existed but was deleted (e.g. the audio of a deleted recording).
    #[error("{0}")]
    Gone(String),
    /// A dependency (queue, database, Webex) is down: the client should retry later.
    #[error("{0}")]
    Unavailable(String),
    /// Webex answered with an error we pass on as a gateway error.
    #[error("{0}")]
    BadGateway(String),
    /// A `Range` that lies outside the file; carries the file's length for `Content-Range`.
    #[error("the requested range is outside the file ({0} bytes)")]
    RangeNotSatisfiable(u64),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) | Self::LegalHold(_) => StatusCode::CONFLICT,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Gone(_) => StatusCode::GONE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::RangeNotSatisfiable(_) => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Machine-readable kind: the `error` field of the answer and the outcome label of metrics.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::LegalHold(_) => "legal_hold",
            Self::TooManyRequests(_) => "too_many_requests",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Gone(_) => "gone",
            Self::Unavailable(_) => "unavailable",
            Self::BadGateway(_) => "bad_gateway",
            Self::RangeNotSatisfiable(_) => "range_not_satisfiable",
            Self::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let detail = match &self {
            Self::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                "an internal error occurred; see the service log".to_string()
            }
            other => other.to_string(),
        };
        let status = self.status();
        let mut response = (
            status,
            Json(json!({"error": self.kind(), "detail": detail})),
        )
            .into_response();
        match &self {
            Self::RangeNotSatisfiable(len) => {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                    response.headers_mut().insert(header::CONTENT_RANGE, v);
                }
            }
            Self::Unauthorized(_) => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::TooManyRequests(secs) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            _ => {}
        }
        response
    }
}

// Errors of the service's dependencies: the cause goes to the log (with the request's span and
// id), the client learns what went wrong but never how (no SQL, no URLs, no upstream bodies).

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Database(sqlx::Error::PoolTimedOut)
            | crate::store::StoreError::Database(sqlx::Error::Io(_)) => {
                tracing::warn!(error = %e, "database unavailable");
                Self::Unavailable("the database is unavailable; try again later".into())
            }
            crate::store::StoreError::Duplicate(what) => Self::Conflict(what),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<crate::queue::QueueError> for ApiError {
    fn from(e: crate::queue::QueueError) -> Self {
        match e {
            crate::queue::QueueError::Unavailable(_) => {
                tracing::warn!(error = %e, "queue unavailable");
                Self::Unavailable("the queue is unavailable; try again later".into())
            }
            crate::queue::QueueError::Other(_) => Self::Internal(e.to_string()),
        }
    }
}

/// Webex was not asked: the OAuth client has no usable token (never signed in, or the refresh
/// token was refused). Why exactly is in the log.
pub const NO_WEBEX_CREDENTIALS: &str = "no usable Webex credentials: an admin signs in at \
    /auth/login (or set WEBEX_REFRESH_TOKEN or WEBEX_ACCESS_TOKEN); see the service log";

impl From<crate::webex::WebexError> for ApiError {
    fn from(e: crate::webex::WebexError) -> Self {
        tracing::warn!(error = %e, "Webex request failed");
        if let crate::webex::WebexError::Auth(_) = e {
            return Self::Unavailable(NO_WEBEX_CREDENTIALS.into());
        }
        let detail = match (e.status(), e.tracking_id()) {
            (Some(status), Some(tracking)) => {
                format!("Webex answered {status} (TrackingID {tracking}); see the service log")
            }
            (Some(status), None) => format!("Webex answered {status}; see the service log"),
            (None, _) => {
                "Webex could not be reached or refused the request; see the service log".to_string()
            }
        };
        Self::BadGateway(detail)
    }
}

impl From<crate::access::Forbidden> for ApiError {
    fn from(e: crate::access::Forbidden) -> Self {
        Self::Forbidden(e.to_string())
    }
}

impl From<crate::access::Throttled> for ApiError {
    fn from(t: crate::access::Throttled) -> Self {
        // Whole seconds, rounded up: a client retrying at once would be refused again.
        Self::TooManyRequests(t.retry_after.as_secs() + u64::from(t.retry_after.subsec_nanos() > 0))
    }
}

/// A query string that does not fit the handler's parameters.
impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(e: axum::extract::rejection::QueryRejection) -> Self {
        Self::BadRequest(e.body_text())
    }
}

/// A path segment that cannot be decoded.
impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(e: axum::extract::rejection::PathRejection) -> Self {
        Self::BadRequest(e.body_text())
    }
}

impl From<crate::domain::InvalidRecordingId> for ApiError {
    fn from(e: crate::domain::InvalidRecordingId) -> Self {
        Self::BadRequest(e.to_string())
    }
}

/// The JSON body of every error answer (for the OpenAPI document).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Machine-readable kind, e.g. `bad_request`, `not_found`, `unauthorized`.
    pub error: String,
    /// What went wrong, for a human.
    pub detail: String,
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

pub async fn method_not_allowed() -> Response {
    let body =
        json!({"error": "method_not_allowed", "detail": "this route does not take that method"});
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}

impl From<crate::reconciler::ReconcileError> for ApiError {
    fn from(e: crate::reconciler::ReconcileError) -> Self {
        use crate::reconciler::ReconcileError as R;
        match e {
            R::Webex(w) => Self::from(w),
            R::Store(s) => Self::from(s),
            R::Queue(q) => Self::from(q),
        }
    }
}

/// A JSON body that is missing, malformed or of the wrong shape, or too large to read.
impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(e: axum::extract::rejection::JsonRejection) -> Self {
        match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => {
                Self::PayloadTooLarge("the body is larger than 2 MiB".into())
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType(
                "send the body as JSON, with `Content-Type: application/json`".into(),
            ),
            _ => Self::BadRequest(e.body_text()),
        }
    }
}
