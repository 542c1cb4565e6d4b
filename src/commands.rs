//! The binary's administrative commands: `keys`, `audit verify`, `purge`. Each one audits what
//! it changes, with the operating-system user as the actor.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use webex_recordings::access::RandomToken;
use webex_recordings::cli::{AuditCommand, KeysCommand};
use webex_recordings::config::Config;
use webex_recordings::startup;
use webex_recordings::storage::Storage;
use webex_recordings::store::{NewAuditEntry, Store};

fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

fn entry(action: &str, detail: String) -> NewAuditEntry {
    NewAuditEntry::unattended(&cli_actor(), action, Some(detail))
}

pub async fn keys(config: &Config, command: KeysCommand) -> Result<()> {
    let store = startup::open_store(config).await?;
    let result = keys_on(&store, command).await;
    store.close().await;
    result
}

async fn keys_on(store: &Store, command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::Create { name, role } => {
            let name = name.trim();
            if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
                bail!("--name: 1 to 64 printable characters");
            }
            if name == webex_recordings::access::Principal::API_TOKEN_ACTOR {
                bail!("--name: api-token is the name of API_TOKEN");
            }
            let key = RandomToken::generate("wrk_");
            store.create_key(name, role, &key.hash()).await?;
            store
                .append_audit(&entry("key.create", format!("{name} ({role})")))
                .await?;
            println!("created key {name} with role {role}; it is shown this once:");
            println!("{}", key.expose());
        }
        KeysCommand::List => {
            let keys = store.list_keys().await?;
            println!(
                "{:<24} {:<11} {:<20} {:<20} revoked",
                "name", "role", "created", "last used"
            );
            for k in keys {
                println!(
                    "{:<24} {:<11} {:<20} {:<20} {}",
                    k.name,
                    k.role.to_string(),
                    day_time(Some(k.created_at)),
                    day_time(k.last_used_at),
                    day_time(k.revoked_at),
                );
            }
        }
        KeysCommand::Revoke { name } => {
            if !store.revoke_key(&name).await? {
                bail!("no live key named {name:?}");
            }
            store
                .append_audit(&entry("key.revoke", name.clone()))
                .await?;
            println!("revoked {name}");
        }
    }
    Ok(())
}

fn day_time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

pub async fn audit(config: &Config, command: AuditCommand) -> Result<()> {
    let store = startup::open_store(config).await?;
    let AuditCommand::Verify = command;
    let result = store.verify_audit().await;
    store.close().await;
    match result? {
        Ok(n) => {
            println!("{n} entries, chain intact");
            Ok(())
        }
        Err(broken) => bail!("audit log broken: {broken}"),
    }
}

pub async fn purge(config: &Config, dry_run: bool) -> Result<()> {
    let retention = config
        .retention
        .context("RETENTION_DAYS is not set: recordings are kept forever, nothing to purge")?;
    let store = startup::open_store(config).await?;
    let storage = Storage::from_config(config)?;
    let result = webex_recordings::retention::purge_expired(
        &store,
        &storage,
        retention,
        dry_run,
        &cli_actor(),
    )
    .await;
    store.close().await;
    let report = result?;
    println!("purged {}, held {}", report.purged, report.held);
    if report.files_left > 0 {
        anyhow::bail!(
            "the files of {} purged recordings could not be removed (see the log); run purge again",
            report.files_left
        );
    }
    Ok(())
}
