//! The HTTP side: the webhook receiver, the REST API, health and metrics, on one router.

pub mod access;
pub mod auth;
pub mod compliance;
pub mod console;
pub mod error;
pub mod extract;
pub mod health;
pub mod oauth;
pub mod observe;
pub mod openapi;
pub mod recordings;
pub mod serve;
pub mod trackers;
pub mod webhook;

use std::sync::Arc;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use metrics_exporter_prometheus::PrometheusHandle;
use tower::{BoxError, ServiceBuilder, timeout::TimeoutLayer};

use crate::config::Config;
use crate::queue::Publisher;
use crate::storage::Storage;
use crate::store::Store;
use crate::webex::WebexClient;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub publisher: Arc<dyn Publisher>,
    /// Absent when no Webex credentials are configured.
    pub webex: Option<WebexClient>,
    /// Stored audio and transcripts (`DATA_DIR` or S3).
    pub storage: Storage,
    pub metrics: Option<PrometheusHandle>,
    /// Failed key checks per client address (`Default::default()` when building the state).
    pub auth_failures: crate::access::FailedAuthLimiter,
    /// Work a request leaves running (an audit write), which a shutdown waits for.
    pub tasks: tokio_util::task::TaskTracker,
}

/// The whole application router (without the transport: plain or TLS is decided by the caller).
///
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()`: `/api/v1` admits
/// loopback clients only when `API_TOKEN` is unset, and needs the peer address for that.
pub fn router(state: AppState) -> Router {
    let timeout = state.config.http_limits.request_timeout;
    let routes = Router::new()
        .merge(webhook::router())
        .merge(health::router())
        .merge(recordings::router(&state))
        .merge(oauth::router())
        .merge(console::router(&state))
        .fallback(console::fallback)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state)
        // Outermost: a request that outlives the limit is answered 503 and its work (a slow
        // Webex call, a body that stopped arriving) is dropped.
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(move |_: BoxError| async move {
                    error::ApiError::Unavailable(format!(
                        "the request took longer than {} s; try again later",
                        timeout.as_secs()
                    ))
                }))
                .layer(TimeoutLayer::new(timeout)),
        )
        .layer(axum::middleware::map_request(host_from_authority));
    // Outside the timeout, so requests answered 503 for taking too long are counted too.
    observe::observe(routes)
}

/// HTTP/2 names the host in the request target (`:authority`), not in a `Host` header: one is
/// added so the console's same-origin check and the loopback check read both versions alike.
async fn host_from_authority(mut request: Request) -> Request {
    if !request.headers().contains_key(header::HOST)
        && let Some(host) = request
            .uri()
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    {
        request.headers_mut().insert(header::HOST, host);
    }
    request
}
