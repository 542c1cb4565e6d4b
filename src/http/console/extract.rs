//! The console's `Query`, `Path` and `Form`: axum's own, whose rejections (plain text) are
//! answered as pages with axum's status instead, like the API's `ApiQuery` answers JSON.

use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::render_message;
use crate::access::Principal;

/// A query string the page cannot read (a repeated parameter, a value of the wrong type): 400.
pub struct PageQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for PageQuery<T> {
    type Rejection = Rejected;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Rejected> {
        if let Some(refused) = crate::http::extract::nul_in_query(&parts.uri) {
            return Err(Rejected::new(
                StatusCode::BAD_REQUEST,
                refused,
                &parts.extensions,
            ));
        }
        match Query::<T>::try_from_uri(&parts.uri) {
            Ok(Query(value)) => Ok(Self(value)),
            Err(e) => Err(Rejected::new(e.status(), e.body_text(), &parts.extensions)),
        }
    }
}

/// Path parameters that cannot be decoded (invalid UTF-8 such as `%FF`): 400.
pub struct PagePath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PagePath<T> {
    type Rejection = Rejected;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Rejected> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(e) => Err(Rejected::new(e.status(), e.body_text(), &parts.extensions)),
        }
    }
}

/// A form body: another content type is 415, a body over the size cap 413, one that does not
/// fit the form 422.
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = Rejected;

    async fn from_request(request: Request, state: &S) -> Result<Self, Rejected> {
        // The principal (for the page's navigation) is gone once the body is taken.
        let principal = request.extensions().get::<Principal>().cloned();
        match Form::<T>::from_request(request, state).await {
            Ok(Form(value)) => Ok(Self(value)),
            Err(e) => Err(Rejected {
                status: e.status(),
                detail: e.body_text(),
                principal,
            }),
        }
    }
}

/// A request the console's extractors refused, answered as a page with axum's status.
#[derive(Debug)]
pub struct Rejected {
    status: StatusCode,
    /// axum's words for what was wrong, shown in small print.
    detail: String,
    /// Set by the access layer on signed-in pages: the error page keeps the navigation.
    principal: Option<Principal>,
}

impl Rejected {
    fn new(status: StatusCode, detail: String, extensions: &axum::http::Extensions) -> Self {
        Self {
            status,
            detail,
            principal: extensions.get::<Principal>().cloned(),
        }
    }
}

impl IntoResponse for Rejected {
    fn into_response(self) -> Response {
        let (heading, message, detail) = match self.status {
            StatusCode::PAYLOAD_TOO_LARGE => (
                "Too large",
                "What was sent is larger than the console accepts.",
                None,
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "That did not work",
                "This form must be sent as a web form from the console's own page.",
                None,
            ),
            status if status.is_server_error() => {
                tracing::error!(%status, detail = %self.detail, "console extractor failed");
                ("Something went wrong", "Please try again.", None)
            }
            _ => (
                "That did not work",
                "The page cannot read this address or form. Use the console's own links and forms.",
                Some(self.detail.as_str()),
            ),
        };
        (
            self.status,
            render_message(self.principal, heading, message, detail),
        )
            .into_response()
    }
}
