//! The console: server-rendered pages on the API's listener. Templates (askama, escaped by
//! default) and the one stylesheet and script are compiled into the binary. Pages call the same
//! store and action functions as the API; they hold no SQL of their own.

mod call;
mod calls;
mod format;
mod login;

use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::AppState;
use super::auth;
use super::error::ApiError;
use crate::access::Principal;

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(calls::page))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/recordings/{id}", get(call::page))
        .route("/recordings/{id}/reprocess", post(call::reprocess))
        .route("/recordings/{id}/delete", post(call::delete))
        .route(
            "/assets/console.css",
            get(|| asset(CSS, "text/css; charset=utf-8")),
        )
        .route(
            "/assets/console.js",
            get(|| asset(JS, "text/javascript; charset=utf-8")),
        )
}

async fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// A console request's principal; without one the browser is sent to the sign-in page.
pub struct SignedIn(pub Principal);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let peer = auth::peer_addr(&parts.extensions);
        match auth::authenticate(state, &parts.headers, peer).await {
            Ok(principal) => Ok(Self(principal)),
            Err(ApiError::Unauthorized(_)) => Err(Redirect::to("/login").into_response()),
            Err(e) => Err(PageError(e).into_response()),
        }
    }
}

/// The client's address, when the listener recorded it (for the failed sign-in limit).
pub struct PeerIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(auth::peer_addr(&parts.extensions).map(|a| a.ip())))
    }
}

/// The console's error: the API's decision on the status, answered as a page instead of JSON.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if status.is_server_error() {
            tracing::error!(error = %self.0, "console page failed");
        }
        let (heading, message) = match &self.0 {
            ApiError::NotFound(_) => ("Not found", "There is no page or call here.".to_string()),
            ApiError::Internal(_) => ("Something went wrong", "Please try again.".to_string()),
            other => ("That did not work", other.to_string()),
        };
        (status, render_message(heading, &message)).into_response()
    }
}

#[derive(askama::Template)]
#[template(path = "not_found.html")]
struct MessagePage<'a> {
    signed_in: Option<Principal>,
    heading: &'a str,
    message: &'a str,
}

fn render_message(heading: &str, message: &str) -> Html<String> {
    let page = MessagePage {
        signed_in: None,
        heading,
        message,
    };
    Html(askama::Template::render(&page).unwrap_or_else(|_| message.to_string()))
}

/// Renders a template, or the error page if it cannot be rendered.
pub fn render(template: &impl askama::Template) -> Result<Html<String>, PageError> {
    template
        .render()
        .map(Html)
        .map_err(|e| PageError(ApiError::Internal(format!("template: {e}"))))
}

/// Cross-site request defence for the console's forms, beside the `SameSite=Strict` cookie: a
/// POST must come from a page of this very origin.
pub fn require_same_origin(state: &AppState, headers: &HeaderMap) -> Result<(), PageError> {
    let scheme = if state.config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok());
    match (origin, host) {
        (Some(origin), Some(host)) if origin == format!("{scheme}://{host}") => Ok(()),
        _ => Err(PageError(ApiError::Forbidden(
            "this form must be sent from the console's own pages".into(),
        ))),
    }
}

/// Unknown paths: JSON under the machine interfaces, a page everywhere else.
pub async fn fallback(request: Request) -> Response {
    let path = request.uri().path();
    if ["/api/", "/webhooks/", "/auth/"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
    {
        return ApiError::NotFound("no such route".into()).into_response();
    }
    (
        StatusCode::NOT_FOUND,
        render_message("Not found", "There is no page here."),
    )
        .into_response()
}
