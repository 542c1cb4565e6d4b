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
pub mod webhook;

use std::sync::Arc;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
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
        );
    // Outside the timeout, so requests answered 503 for taking too long are counted too.
    observe::observe(routes)
}
