//! The outgoing alert webhook.

use super::ConfigError;
use super::env::{Env, invalid};
use crate::alerts::{AlertConfig, DeliverySettings, SigningKey};

/// `ALERT_WEBHOOK_URL`, `ALERT_WEBHOOK_SECRET` (required with the URL) and `ALERT_ALLOW_PRIVATE`;
/// `None`: no alerts are written or sent.
pub(super) fn alerts(env: &Env<'_>) -> Result<Option<AlertConfig>, ConfigError> {
    let Some(url) = env.url("ALERT_WEBHOOK_URL")? else {
        return Ok(None);
    };
    const SECRET: &str = "ALERT_WEBHOOK_SECRET";
    let secret = env.string(SECRET).ok_or_else(|| {
        invalid(
            SECRET,
            "required with ALERT_WEBHOOK_URL: whsec_ followed by base64",
        )
    })?;
    SigningKey::parse(&secret).map_err(|problem| invalid(SECRET, problem))?;
    Ok(Some(AlertConfig {
        url,
        secret: secret.into(),
        allow_private: env.flag("ALERT_ALLOW_PRIVATE")?.unwrap_or(false),
        delivery: DeliverySettings::default(),
    }))
}
