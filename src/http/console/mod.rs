//! The console: server-rendered pages on the API's listener. Templates (askama, escaped by
//! default) and the one stylesheet and script are compiled into the binary. Pages call the same
//! store and action functions as the API; they hold no SQL of their own.

mod audit;
mod call;
mod calls;
mod extract;
mod format;
mod hold;
mod insight;
mod login;
mod timeline;
mod trackers;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::AppState;
use super::error::ApiError;
use super::{access, auth};
use crate::access::Principal;
pub use extract::{PageForm, PagePath, PageQuery};

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

pub fn router(state: &AppState) -> Router<AppState> {
    let pages = Router::new()
        .route("/", get(calls::page))
        .route("/recordings/{id}", get(call::page))
        .route("/recordings/{id}/reprocess", post(call::reprocess))
        .route("/recordings/{id}/delete", post(call::delete))
        .route("/recordings/{id}/swap-roles", post(insight::swap))
        .route("/recordings/{id}/hold", post(hold::set))
        .route("/recordings/{id}/hold/release", post(hold::release))
        .route("/trackers", get(trackers::list).post(trackers::create))
        .route(
            "/trackers/{name}",
            get(trackers::show).post(trackers::update),
        )
        .route("/trackers/{name}/delete", post(trackers::delete))
        .route("/audit", get(audit::page))
        // Inner: the access layer the API passes too (role table, audit of views and searches),
        // with its refusals answered as pages.
        .route_layer(middleware::from_fn_with_state(state.clone(), enforce_page))
        // Outer: a browser without a session is sent to sign in rather than answered with JSON.
        .route_layer(middleware::from_fn_with_state(state.clone(), sign_in_first));
    Router::new()
        .merge(pages)
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route(
            "/assets/console.css",
            get(|| asset(CSS, "text/css; charset=utf-8")),
        )
        .route(
            "/assets/console.js",
            get(|| asset(JS, "text/javascript; charset=utf-8")),
        )
        // Its own, so the router-wide JSON one stays the API's: a wrong method on a page's
        // address is a page too (axum adds `Allow`).
        .method_not_allowed_fallback(method_not_allowed)
        // Outermost, so pages, redirects, refusals and the 405 page all carry them.
        .layer(middleware::map_response(|r: Response| async { secure(r) }))
}

/// The console's policy: its own script, stylesheet and audio only (the favicon is `data:,`);
/// inline styles are allowed for the `style="left: …"` of the timeline's marks; never framed.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; media-src 'self'; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

/// Adds the console's security headers to an answer, keeping any the handler chose (the assets'
/// own `Cache-Control`). `no-store`: pages show call data, which no cache should keep.
fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers
            .entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    }
    response
}

async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        render_message(
            None,
            "Not possible here",
            "This address does not take that kind of request.",
            Some("Use the console's own links and buttons."),
        ),
    )
        .into_response()
}

async fn enforce_page(State(state): State<AppState>, request: Request, next: Next) -> Response {
    access::enforce_with(&state, request, next, |e, who| PageError(e).into_page(who)).await
}

async fn sign_in_first(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let peer = auth::peer_addr(request.extensions());
    match signed_in(&state, request.headers(), peer).await {
        Ok(_) => next.run(request).await,
        Err(elsewhere) => elsewhere,
    }
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

/// The request's principal, or where the browser goes instead: the sign-in page when it has no
/// session, an error page when it may not try now (too many failed keys). A session used from
/// another site's page passes here: the access layer refuses it, and records that.
pub async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<std::net::SocketAddr>,
) -> Result<Principal, Response> {
    match auth::identify(state, headers, peer).await {
        Ok(identified) => Ok(identified.principal),
        Err(ApiError::Unauthorized(_)) => Err(Redirect::to("/login").into_response()),
        Err(e) => Err(PageError(e).into_response()),
    }
}

/// The client's address, when the listener recorded it (loopback access, failed sign-in limit).
pub struct Peer(pub Option<std::net::SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(auth::peer_addr(&parts.extensions)))
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
        self.into_page(None)
    }
}

impl PageError {
    /// The error's page, with the navigation of `signed_in` when the request's principal is known.
    pub fn into_page(self, signed_in: Option<Principal>) -> Response {
        let status = self.0.status();
        if status.is_server_error() {
            tracing::error!(error = %self.0, "console page failed");
        }
        let (heading, message, detail) = match &self.0 {
            ApiError::NotFound(_) => ("Not found", "There is no page or call here.".into(), None),
            ApiError::Internal(_) => ("Something went wrong", "Please try again.".into(), None),
            // The reason itself: a role's ("the viewer role may not …; only admin may") or a
            // form sent from elsewhere.
            ApiError::Forbidden(why) => ("Not allowed", sentence(why), None),
            other => ("That did not work", other.to_string(), None),
        };
        let mut page =
            (status, render_message(signed_in, heading, &message, detail)).into_response();
        if let ApiError::TooManyRequests(secs) = &self.0 {
            page.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, (*secs).into());
        }
        page
    }
}

/// `why` as a sentence: capital first letter, full stop.
fn sentence(why: &str) -> String {
    let mut chars = why.chars();
    let first = chars.next().map(|c| c.to_uppercase().to_string());
    format!("{}{}.", first.unwrap_or_default(), chars.as_str())
}

#[derive(askama::Template)]
#[template(path = "not_found.html")]
struct MessagePage<'a> {
    signed_in: Option<Principal>,
    heading: &'a str,
    message: &'a str,
    /// The precise reason, in smaller print (why a role was refused).
    detail: Option<&'a str>,
}

fn render_message(
    signed_in: Option<Principal>,
    heading: &str,
    message: &str,
    detail: Option<&str>,
) -> Html<String> {
    let page = MessagePage {
        signed_in,
        heading,
        message,
        detail,
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
pub struct SameOrigin;

impl FromRequestParts<AppState> for SameOrigin {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let https_required = auth::https_required(state, &parts.headers);
        if auth::origin_names_host(&parts.headers, https_required) {
            Ok(Self)
        } else {
            Err(PageError(ApiError::Forbidden(
                "this form must be sent from the console's own pages".into(),
            )))
        }
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
    secure(
        (
            StatusCode::NOT_FOUND,
            render_message(None, "Not found", "There is no page here.", None),
        )
            .into_response(),
    )
}
