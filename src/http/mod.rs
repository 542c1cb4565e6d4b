//! The HTTP side: the webhook receiver, the REST API, health and metrics, on one router.

pub mod error;
pub mod health;
pub mod recordings;
pub mod webhook;

use std::sync::Arc;

use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::Config;
use crate::queue::Publisher;
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
    pub metrics: Option<PrometheusHandle>,
}

/// The whole application router (without the transport: plain or TLS is decided by the caller).
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(webhook::router())
        .merge(health::router())
        .merge(recordings::router(&state))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state)
}
