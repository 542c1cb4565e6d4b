//! `GET /auth/login` and `GET /auth/callback`: the Webex integration's OAuth code flow.
//! Tokens go to the database (`save_oauth_tokens`), never to a file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use rand::Rng;
use secrecy::SecretString;
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use super::recordings::ApiQuery;
use crate::config::WebexAuthConfig;
use crate::store::OAuthTokens;
use crate::webex::{Auth, ClientSettings, OAuthCredentials, WebexClient, authorize_url};

/// Scopes the service needs (recordings of the org and the user, people, transcripts).
pub const SCOPES: [&str; 5] = [
    "spark-compliance:recordings_read",
    "spark-admin:recordings_read",
    "spark:recordings_read",
    "spark:people_read",
    "spark:kms",
];

/// How long a login may take between `/auth/login` and `/auth/callback`.
const STATE_TTL: Duration = Duration::from_secs(600);
/// Pending logins kept at most (oldest dropped first).
const MAX_PENDING: usize = 1000;

/// `state` values handed out by `/auth/login`, each usable once until it expires.
#[derive(Clone, Default)]
pub struct LoginStates(Arc<Mutex<HashMap<String, Instant>>>);

impl std::fmt::Debug for LoginStates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginStates")
    }
}

impl LoginStates {
    pub fn issue(&self) -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill(&mut bytes);
        let state = hex::encode(bytes);
        let now = Instant::now();
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, at| now.duration_since(*at) < STATE_TTL);
        if map.len() >= MAX_PENDING
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(state.clone(), now);
        state
    }

    /// True once for a state we issued that has not expired.
    pub fn redeem(&self, state: &str) -> bool {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(state).is_some_and(|at| at.elapsed() < STATE_TTL)
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
}

fn oauth_client(state: &AppState) -> Result<(String, SecretString), ApiError> {
    match &state.config.webex_auth {
        Some(WebexAuthConfig::OAuth(c)) => Ok((c.client_id.clone(), c.client_secret.clone())),
        _ => Err(ApiError::Unavailable(
            "OAuth login needs WEBEX_CLIENT_ID and WEBEX_CLIENT_SECRET to be set".into(),
        )),
    }
}

async fn login(State(state): State<AppState>) -> Result<Response, ApiError> {
    let (client_id, _) = oauth_client(&state)?;
    let nonce = state.oauth_states.issue();
    let url = authorize_url(
        &state.config.webex_api_url,
        &client_id,
        state.config.redirect_uri.as_str(),
        &SCOPES,
        &nonce,
    );
    let location = HeaderValue::from_str(url.as_str())
        .map_err(|e| ApiError::Internal(format!("authorize URL is not a header value: {e}")))?;
    Ok((
        StatusCode::FOUND,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<CallbackParams>,
) -> Result<Response, ApiError> {
    let (client_id, client_secret) = oauth_client(&state)?;
    if let Some(error) = params.error {
        return Err(ApiError::BadRequest(format!(
            "Webex refused the login: {error}{}",
            params
                .error_description
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        )));
    }
    let nonce = params
        .state
        .ok_or_else(|| ApiError::BadRequest("missing state".into()))?;
    if !state.oauth_states.redeem(&nonce) {
        return Err(ApiError::BadRequest(
            "unknown or expired state; start again at /auth/login".into(),
        ));
    }
    let code = params
        .code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::BadRequest("missing code".into()))?;

    let client = match &state.webex {
        Some(c) => c.clone(),
        None => WebexClient::new(
            ClientSettings {
                base_url: state.config.webex_api_url.clone(),
                ..ClientSettings::default()
            },
            Auth::OAuth(OAuthCredentials {
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
                refresh_token: None,
            }),
        )?,
    };
    let tokens = client
        .exchange_code(
            &client_id,
            &client_secret,
            &code,
            state.config.redirect_uri.as_str(),
        )
        .await?;
    state
        .store
        .save_oauth_tokens(&OAuthTokens {
            access_token: tokens.access_token.clone(),
            access_expires_at: tokens.access_expires_at,
            refresh_token: tokens.refresh_token.clone(),
            refresh_expires_at: tokens.refresh_expires_at,
        })
        .await?;
    tracing::info!("Webex OAuth login completed; tokens stored in the database");
    Ok(Html(
        "<!doctype html><title>webex-recordings</title>\
         <p>Webex login complete: the tokens are stored and the service will use them.</p>",
    )
    .into_response())
}
