//! Configuration and the Webex client, built from the environment.

use anyhow::{Context, Result, anyhow};
use secrecy::ExposeSecret;
use webex_recordings::config::Config;
use webex_recordings::webex::{ClientSettings, WebexClient};

pub fn config() -> Result<Config> {
    Config::from_env().context("invalid configuration")
}

/// `WEBEX_WEBHOOK_SECRET`, required.
pub fn webhook_secret(config: &Config) -> Result<String> {
    config
        .webhook_secret
        .as_ref()
        .map(|s| s.expose_secret().to_string())
        .ok_or_else(|| {
            anyhow!(
                "WEBEX_WEBHOOK_SECRET is not set: it is the secret Webex signs deliveries with, and the receiver checks them with the same value"
            )
        })
}

pub fn client(config: &Config) -> Result<WebexClient> {
    let Some(auth) = config.webex_auth.clone() else {
        return Err(anyhow!(
            "no Webex credentials: set WEBEX_ACCESS_TOKEN, or WEBEX_CLIENT_ID, WEBEX_CLIENT_SECRET and WEBEX_REFRESH_TOKEN"
        ));
    };
    let settings = ClientSettings {
        base_url: config.webex_api_url.clone(),
        ..Default::default()
    };
    WebexClient::new(settings, auth).context("cannot build the Webex client")
}
