//! Configuration and the Webex client, built from the environment.

use anyhow::{Context, Result, anyhow};
use secrecy::ExposeSecret;
use webex_recordings::config::Config;
use webex_recordings::startup;
use webex_recordings::webex::{Auth, ClientSettings, WebexClient};

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

/// The Webex client: `WEBEX_ACCESS_TOKEN` as is; otherwise the OAuth integration with the tokens
/// `/auth/login` stored in the database at `DATABASE_URL` (refreshed, and a rotated refresh
/// token saved back there), as the service does.
pub async fn client(config: &Config) -> Result<WebexClient> {
    let Some(auth) = &config.webex_auth else {
        return Err(anyhow!(
            "no Webex credentials: set WEBEX_ACCESS_TOKEN, or WEBEX_CLIENT_ID and WEBEX_CLIENT_SECRET (and log in through /auth/login, or set WEBEX_REFRESH_TOKEN)"
        ));
    };
    if let Auth::Static(token) = auth {
        let settings = ClientSettings {
            base_url: config.webex_api_url.clone(),
            ..Default::default()
        };
        return WebexClient::new(settings, Auth::Static(token.clone()))
            .context("cannot build the Webex client");
    }
    let store = startup::open_store(config)
        .await
        .context("cannot open the database holding the OAuth tokens (DATABASE_URL)")?;
    startup::webex_client(config, &store)
        .context("cannot build the Webex client")?
        .ok_or_else(|| anyhow!("no Webex credentials"))
}
