//! The HTTP side: the webhook receiver, the REST API, health and metrics, on one router.

pub mod auth;
pub mod error;
pub mod health;
pub mod oauth;
pub mod observe;
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
    /// Pending `/auth/login` states (`Default::default()` when building the state).
    pub oauth_states: oauth::LoginStates,
}

/// The whole application router (without the transport: plain or TLS is decided by the caller).
///
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()`: `/api/v1` admits
/// loopback clients only when `API_TOKEN` is unset, and needs the peer address for that.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .merge(webhook::router())
        .merge(health::router())
        .merge(recordings::router(&state))
        .merge(oauth::router())
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed);
    observe::observe(routes).with_state(state)
}
