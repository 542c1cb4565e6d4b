//! `register`, `list` and `delete`.

use std::net::IpAddr;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use comfy_table::{Table, presets::UTF8_FULL};
use url::{Host, Url};
use webex_recordings::webex::{NewWebhook, Webhook, WebhookUpdate};

use crate::cli::{DeleteArgs, ListArgs, RegisterArgs};
use crate::context;

pub const RESOURCE: &str = "convergedRecordings";
pub const EVENT: &str = "created";
pub const DEFAULT_NAME: &str = "webex-recordings";

/// Refuses what Webex cannot deliver to: anything but HTTPS, except loopback (local tests)
/// or when explicitly allowed.
pub fn check_target(raw: &str, allow_insecure: bool) -> Result<Url> {
    let url = Url::parse(raw).with_context(|| format!("--target-url {raw:?} is not a URL"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_insecure || is_loopback(&url) => Ok(url),
        "http" => bail!(
            "refusing the non-HTTPS target {raw}: Webex only delivers to public HTTPS URLs (use --allow-insecure to register it anyway)"
        ),
        other => bail!("refusing the target {raw}: scheme {other} is not http(s)"),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

fn is_ours(w: &Webhook) -> bool {
    w.resource.as_deref() == Some(RESOURCE) && w.event.as_deref() == Some(EVENT)
}

fn same_target(w: &Webhook, target: &str) -> bool {
    w.target_url.as_deref().map(|t| t.trim_end_matches('/')) == Some(target.trim_end_matches('/'))
}

fn is_active(w: &Webhook) -> bool {
    w.status.as_deref() == Some("active")
}

/// The webhook to keep among several: active first, then the oldest.
fn keep_order(a: &Webhook, b: &Webhook) -> std::cmp::Ordering {
    let created = |w: &Webhook| w.created.map(|c| c.timestamp_millis()).unwrap_or(i64::MAX);
    is_active(b)
        .cmp(&is_active(a))
        .then(created(a).cmp(&created(b)))
        .then(a.id.cmp(&b.id))
}

pub async fn register(args: RegisterArgs) -> Result<ExitCode> {
    check_target(&args.target_url, args.allow_insecure)?;
    let target = args.target_url.clone();
    let config = context::config()?;
    let secret = context::webhook_secret(&config)?;
    let client = context::client(&config).await?;

    let mut matching: Vec<Webhook> = client
        .list_webhooks(args.org)
        .await
        .context("listing webhooks")?
        .into_iter()
        .filter(|w| is_ours(w) && same_target(w, &target))
        .collect();
    matching.sort_by(keep_order);

    let mut rest = matching.into_iter();
    let Some(existing) = rest.next() else {
        let created = client
            .create_webhook(&NewWebhook {
                name: args.name.clone().unwrap_or_else(|| DEFAULT_NAME.into()),
                target_url: target.clone(),
                resource: RESOURCE.into(),
                event: EVENT.into(),
                filter: None,
                secret: Some(secret),
                owned_by: args.org.then(|| "org".to_string()),
            })
            .await
            .context("creating the webhook")?;
        println!("created webhook {} -> {target}", created.id);
        return Ok(ExitCode::SUCCESS);
    };

    let duplicates: Vec<Webhook> = rest.collect();
    for dup in &duplicates {
        client
            .delete_webhook(&dup.id)
            .await
            .with_context(|| format!("deleting the duplicate webhook {}", dup.id))?;
    }

    let name = args
        .name
        .clone()
        .or_else(|| existing.name.clone())
        .unwrap_or_else(|| DEFAULT_NAME.into());
    let name_changed = existing.name.as_deref() != Some(name.as_str());
    // Webex may leave the secret out of listings: then it cannot be compared.
    let secret_changed =
        args.rotate_secret || existing.secret.as_deref().is_some_and(|s| s != secret);
    let inactive = !is_active(&existing);

    let action = if name_changed || secret_changed || inactive {
        client
            .update_webhook(
                &existing.id,
                &WebhookUpdate {
                    name,
                    target_url: existing.target_url.clone().unwrap_or(target.clone()),
                    secret: Some(secret),
                    status: Some("active".into()),
                    owned_by: None,
                },
            )
            .await
            .with_context(|| format!("updating the webhook {}", existing.id))?;
        if name_changed || secret_changed {
            let mut what = Vec::new();
            if name_changed {
                what.push("name");
            }
            if secret_changed {
                what.push("secret");
            }
            if inactive {
                what.push("status");
            }
            format!("updated ({})", what.join(", "))
        } else {
            "re-activated".to_string()
        }
    } else {
        "unchanged".to_string()
    };
    println!("{action} webhook {} -> {target}", existing.id);
    if !duplicates.is_empty() {
        println!("removed {} duplicates", duplicates.len());
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn list(args: ListArgs) -> Result<ExitCode> {
    let config = context::config()?;
    let client = context::client(&config).await?;
    let hooks: Vec<Webhook> = client
        .list_webhooks(args.org)
        .await
        .context("listing webhooks")?
        .into_iter()
        .filter(|w| args.all || w.resource.as_deref() == Some(RESOURCE))
        .collect();

    if args.json {
        // Never print secrets.
        let hooks: Vec<Webhook> = hooks
            .into_iter()
            .map(|w| Webhook { secret: None, ..w })
            .collect();
        println!("{}", serde_json::to_string_pretty(&hooks)?);
        return Ok(ExitCode::SUCCESS);
    }
    if hooks.is_empty() {
        println!("no webhooks");
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = Table::new();
    table.load_preset(UTF8_FULL).set_header([
        "id",
        "name",
        "resource/event",
        "target",
        "status",
        "created",
    ]);
    let dash = || "-".to_string();
    for w in &hooks {
        table.add_row([
            w.id.clone(),
            w.name.clone().unwrap_or_else(dash),
            format!(
                "{}/{}",
                w.resource.as_deref().unwrap_or("-"),
                w.event.as_deref().unwrap_or("-")
            ),
            w.target_url.clone().unwrap_or_else(dash),
            w.status.clone().unwrap_or_else(dash),
            w.created
                .map(|c| c.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_else(dash),
        ]);
    }
    println!("{table}");
    Ok(ExitCode::SUCCESS)
}

pub async fn delete(args: DeleteArgs) -> Result<ExitCode> {
    let config = context::config()?;
    let client = context::client(&config).await?;
    let ids: Vec<String> = match (&args.target.id, &args.target.target_url) {
        (Some(id), _) => vec![id.clone()],
        (None, Some(target)) => client
            .list_webhooks(args.org)
            .await
            .context("listing webhooks")?
            .into_iter()
            .filter(|w| w.resource.as_deref() == Some(RESOURCE) && same_target(w, target))
            .map(|w| w.id)
            .collect(),
        (None, None) => bail!("give --id or --target-url"),
    };
    for id in &ids {
        client
            .delete_webhook(id)
            .await
            .with_context(|| format!("deleting the webhook {id}"))?;
        println!("deleted webhook {id}");
    }
    println!("removed {} webhook(s)", ids.len());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert!(check_target("https://example.com/webhooks/webex", false).is_ok());
        assert!(check_target("http://127.0.0.1:8000/webhooks/webex", false).is_ok());
        assert!(check_target("http://127.9.9.9/x", false).is_ok());
        assert!(check_target("http://localhost:8000/x", false).is_ok());
        assert!(check_target("http://[::1]:8000/x", false).is_ok());
        assert!(check_target("http://example.com/x", false).is_err());
        assert!(check_target("http://example.com/x", true).is_ok());
        assert!(check_target("ftp://example.com/x", true).is_err());
        assert!(check_target("not a url", true).is_err());
    }
}
