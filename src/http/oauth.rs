//! `GET /auth/login` and `GET /auth/callback`: the Webex integration's OAuth code flow.
//! Tokens go to the database (`save_oauth_tokens`), never to a file.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use secrecy::SecretString;
use serde::Deserialize;

use super::error::ApiError;
use super::extract::ApiQuery;
use super::{AppState, auth};
use crate::access::{Permission, Principal, RandomToken, sha256_hex};
use crate::webex::Auth as WebexAuthConfig;
use crate::webex::OAuthTokens;
use crate::webex::{
    Auth, ClientSettings, OAuthCredentials, WebexClient, WebexError, authorize_url,
};

/// How long a login may take between `/auth/login` and `/auth/callback`.
const STATE_TTL: Duration = Duration::from_secs(600);
/// Pending logins one actor may have; its oldest goes first, nobody else's.
const MAX_PENDING_PER_ACTOR: u32 = 5;
/// Binds a pending login to the browser that started it. `SameSite=Lax`, unlike the session
/// cookie, so that Webex's top-level redirect back to `/auth/callback` carries it.
const BINDING_COOKIE: &str = "wr_oauth";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
}

fn oauth_client(state: &AppState) -> Result<(String, SecretString), ApiError> {
    match &state.config.webex_auth {
        Some(WebexAuthConfig::OAuth(c)) => Ok((c.client_id.clone(), c.client_secret.clone())),
        // The static token wins over the OAuth client, so a login would change nothing.
        Some(WebexAuthConfig::Static(_)) => Err(ApiError::Unavailable(
            "OAuth login is off while WEBEX_ACCESS_TOKEN is set (that token is used); unset it \
             to use WEBEX_CLIENT_ID and WEBEX_CLIENT_SECRET"
                .into(),
        )),
        None => Err(ApiError::Unavailable(
            "OAuth login needs WEBEX_CLIENT_ID and WEBEX_CLIENT_SECRET to be set".into(),
        )),
    }
}

fn binding_cookie(
    state: &AppState,
    value: &str,
    max_age: Duration,
) -> Result<HeaderValue, ApiError> {
    auth::cookie_header(
        BINDING_COOKIE,
        value,
        "/auth",
        "Lax",
        Some(max_age),
        state.config.tls.is_some(),
    )
}

/// Starts a login: only an admin may hand the service a Webex account.
async fn login(State(state): State<AppState>, principal: Principal) -> Result<Response, ApiError> {
    principal.require(Permission::Administer)?;
    let (client_id, _) = oauth_client(&state)?;
    let nonce = RandomToken::generate("");
    let binding = RandomToken::generate("");
    state
        .store
        .save_oauth_state(
            &nonce.hash(),
            &binding.hash(),
            &principal.actor,
            STATE_TTL,
            MAX_PENDING_PER_ACTOR,
        )
        .await?;
    let url = authorize_url(
        &state.config.webex_api_url,
        &client_id,
        state.config.redirect_uri.as_str(),
        &state.config.webex_scopes,
        nonce.expose(),
    );
    let location = HeaderValue::from_str(url.as_str())
        .map_err(|e| ApiError::Internal(format!("authorize URL is not a header value: {e}")))?;
    tracing::info!(actor = %principal.actor, "Webex OAuth login started");
    Ok((
        StatusCode::FOUND,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::SET_COOKIE,
                binding_cookie(&state, binding.expose(), STATE_TTL)?,
            ),
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
    headers: HeaderMap,
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
    // Only the browser that started this login may finish it: anyone else's callback (a
    // stranger who authorised their own account, say) is refused before any code is exchanged.
    let binding = auth::cookie_value(&headers, BINDING_COOKIE).ok_or_else(|| {
        ApiError::Forbidden(
            "this login was not started by this browser; start again at /auth/login".into(),
        )
    })?;
    if !state
        .store
        .take_oauth_state(&sha256_hex(&nonce), &sha256_hex(binding), STATE_TTL)
        .await?
    {
        return Err(ApiError::Forbidden(
            "unknown, expired or foreign login state; start again at /auth/login".into(),
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
        .await
        .map_err(|e| match e {
            // Webex answered, and said no (a used or expired code, a wrong redirect URI or
            // client secret): not "no credentials", which the generic mapping would say.
            WebexError::Auth(_) => {
                tracing::warn!(error = %e, "Webex refused the authorization code");
                ApiError::BadGateway(
                    "Webex refused the authorization code; see the service log, then start again \
                     at /auth/login"
                        .into(),
                )
            }
            other => other.into(),
        })?;
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
    Ok((
        [(
            header::SET_COOKIE,
            binding_cookie(&state, "", Duration::ZERO)?,
        )],
        Html(
            "<!doctype html><title>webex-recordings</title>\
             <p>Webex login complete: the tokens are stored and the service will use them.</p>",
        ),
    )
        .into_response())
}
