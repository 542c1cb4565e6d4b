//! The outgoing alert webhook.

use super::ConfigError;
use super::env::{Env, invalid};
use url::{Host, Url};

use crate::alerts::{AlertConfig, DeliverySettings, SigningKey, is_private};

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
    let allow_private = env.flag("ALERT_ALLOW_PRIVATE")?.unwrap_or(false);
    // Caught here rather than at the first alert, which the guard would refuse for good.
    if !allow_private && names_a_private_host(&url) {
        return Err(invalid(
            "ALERT_WEBHOOK_URL",
            "names a loopback or private address; set ALERT_ALLOW_PRIVATE=true to allow it",
        ));
    }
    Ok(Some(AlertConfig {
        url,
        secret: secret.into(),
        allow_private,
        delivery: DeliverySettings::default(),
    }))
}

/// `localhost` or a private address literal (a name that resolves to one is refused when sent).
fn names_a_private_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => is_private(ip.into()),
        Some(Host::Ipv6(ip)) => is_private(ip.into()),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        None => false,
    }
}
