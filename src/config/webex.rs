//! Talking to Webex: the API, credentials, OAuth scopes and redirect, and what the reconciler takes.

use std::net::SocketAddr;
use std::time::Duration;

use url::Url;

use super::ConfigError;
use super::env::{Env, invalid};
use crate::webex::{Auth, OAuthCredentials};

/// `WEBEX_API_URL`.
pub(super) fn api_url(env: &Env<'_>) -> Result<Url, ConfigError> {
    Ok(env
        .url("WEBEX_API_URL")?
        .unwrap_or_else(|| Url::parse("https://webexapis.com/v1").expect("constant URL")))
}

/// A static `WEBEX_ACCESS_TOKEN`, else the OAuth client (`WEBEX_CLIENT_ID` with its secret and
/// an optional `WEBEX_REFRESH_TOKEN`); `None`: no credentials.
pub(super) fn auth(env: &Env<'_>) -> Result<Option<Auth>, ConfigError> {
    match (
        env.string("WEBEX_ACCESS_TOKEN"),
        env.string("WEBEX_CLIENT_ID"),
        env.string("WEBEX_CLIENT_SECRET"),
    ) {
        (Some(token), _, _) => Ok(Some(Auth::Static(token.into()))),
        (None, Some(client_id), Some(secret)) => Ok(Some(Auth::OAuth(OAuthCredentials {
            client_id,
            client_secret: secret.into(),
            refresh_token: env.string("WEBEX_REFRESH_TOKEN").map(Into::into),
        }))),
        (None, Some(_), None) => Err(invalid(
            "WEBEX_CLIENT_SECRET",
            "required when WEBEX_CLIENT_ID is set",
        )),
        (None, None, Some(_)) => Err(invalid(
            "WEBEX_CLIENT_ID",
            "required when WEBEX_CLIENT_SECRET is set",
        )),
        (None, None, None) if env.string("WEBEX_REFRESH_TOKEN").is_some() => Err(invalid(
            "WEBEX_REFRESH_TOKEN",
            "needs WEBEX_CLIENT_ID and WEBEX_CLIENT_SECRET",
        )),
        (None, None, None) => Ok(None),
    }
}

/// What `/auth/login` asks for (`WEBEX_SCOPES`, space-separated).
pub(super) fn scopes(env: &Env<'_>) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = env.string("WEBEX_SCOPES") else {
        return Ok(crate::webex::access::DEFAULT_SCOPES
            .iter()
            .map(|s| s.to_string())
            .collect());
    };
    let scopes: Vec<String> = raw.split_whitespace().map(String::from).collect();
    if scopes.is_empty() || scopes.iter().any(|s| !s.is_ascii() || s.contains('"')) {
        return Err(invalid(
            "WEBEX_SCOPES",
            "expected space-separated Webex scopes such as spark:recordings_read",
        ));
    }
    Ok(scopes)
}

/// `WEBEX_REDIRECT_URI`; by default our own `/auth/callback` on the listen address.
pub(super) fn redirect_uri(
    env: &Env<'_>,
    listen_addr: SocketAddr,
    tls: bool,
) -> Result<Url, ConfigError> {
    if let Some(url) = env.url("WEBEX_REDIRECT_URI")? {
        return Ok(url);
    }
    let scheme = if tls { "https" } else { "http" };
    Url::parse(&format!("{scheme}://{listen_addr}/auth/callback"))
        .map_err(|_| invalid("LISTEN_ADDR", "cannot form the default OAuth redirect URI"))
}

/// `BACKFILL_INTERVAL`; `0` turns the scheduled reconcile off (`None`).
pub(super) fn backfill_interval(env: &Env<'_>) -> Result<Option<Duration>, ConfigError> {
    if env.string("BACKFILL_INTERVAL").as_deref() == Some("0") {
        return Ok(None);
    }
    Ok(Some(
        env.duration("BACKFILL_INTERVAL", "15m, 1h or 0 to disable")?
            .unwrap_or(Duration::from_secs(3600)),
    ))
}
