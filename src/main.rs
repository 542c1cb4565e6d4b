mod commands;

use std::process::ExitCode;

use std::io::IsTerminal;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use webex_recordings::alerts::{self, AlertEvent, SigningKey};
use webex_recordings::cli::{AlertsCommand, Cli, Command};
use webex_recordings::config::Config;
use webex_recordings::domain::{QueueMessage, RecordingId};
use webex_recordings::reconciler::{self, ReconcileOptions, ReconcileReport, Window};
use webex_recordings::startup::{self, Application};
use webex_recordings::telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    let config = Config::from_env().context("invalid configuration")?;
    let _telemetry = telemetry::init(&config).context("cannot start telemetry")?;
    match cli.command {
        Command::Serve { role } => {
            let app = Application::build(config, role)
                .await
                .context("cannot start the service")?;
            app.run_until_signal().await;
            Ok(())
        }
        Command::Migrate => {
            let store = startup::open_store(&config).await?;
            store.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::Reprocess { id } => {
            let id = RecordingId::parse(&id)?;
            let store = startup::open_store(&config).await?;
            // As the API (404, 409): given an id never stored, the worker would make a failed
            // record of a call that may not exist; a held or deleted one is not processed.
            let refusal = match store
                .get_recording(&id)
                .await
                .context("cannot read the recording")?
            {
                None => Some(format!(
                    "no recording {id} is stored; use `webex-recordings backfill` to fetch recordings from Webex"
                )),
                Some(rec) => rec.may_be_reprocessed().err().map(|e| e.to_string()),
            };
            if let Some(refusal) = refusal {
                store.close().await;
                bail!(refusal);
            }
            let queue = startup::open_queue(&config, &store).await?;
            let message = QueueMessage::reprocess(id.clone());
            queue
                .publisher
                .publish(&message)
                .await
                .context("cannot enqueue")?;
            queue.close().await;
            store.close().await;
            println!("enqueued {id}");
            Ok(())
        }
        Command::Backfill {
            hours,
            from,
            to,
            limit,
            dry_run,
        } => backfill(&config, hours, from.zip(to), limit, dry_run).await,
        Command::Alerts {
            action: AlertsCommand::Test,
        } => alerts_test(&config).await,
        Command::Keys { command } => commands::keys(&config, command).await,
        Command::Audit { command } => commands::audit(&config, command).await,
        Command::Purge { dry_run } => commands::purge(&config, dry_run).await,
    }
}

async fn alerts_test(config: &Config) -> Result<()> {
    use secrecy::ExposeSecret;
    let Some(alert_config) = &config.alerts else {
        bail!("ALERT_WEBHOOK_URL is not set");
    };
    let key = SigningKey::parse(alert_config.secret.expose_secret())
        .map_err(|problem| anyhow::anyhow!("ALERT_WEBHOOK_SECRET: {problem}"))?;
    let event = AlertEvent::new(
        "test",
        serde_json::json!({"message": "test event from webex-recordings alerts test"}),
        Utc::now(),
    );
    // Scheme, host and port only: the path and query of a receiver's URL can be its secret.
    let receiver = alert_config.url.origin().ascii_serialization();
    alerts::send_once(alert_config, &key, &event)
        .await
        .with_context(|| format!("the test event was not delivered to {receiver}"))?;
    println!("test event {} delivered to {receiver}", event.id);
    Ok(())
}

async fn backfill(
    config: &Config,
    hours: Option<u32>,
    range: Option<(DateTime<Utc>, DateTime<Utc>)>,
    limit: Option<u64>,
    dry_run: bool,
) -> Result<()> {
    let window = match range {
        Some((from, to)) if from < to => Window { from, to },
        Some(_) => bail!("--from must be before --to"),
        None => {
            let hours = hours.unwrap_or(24);
            if hours == 0 {
                bail!("--hours must be at least 1");
            }
            let to = Utc::now();
            Window {
                from: to - chrono::Duration::hours(i64::from(hours)),
                to,
            }
        }
    };
    let store = startup::open_store(config).await?;
    let webex = startup::webex_client(config, &store)?.context(
        "no Webex credentials: set WEBEX_ACCESS_TOKEN, or WEBEX_CLIENT_ID, WEBEX_CLIENT_SECRET and WEBEX_REFRESH_TOKEN",
    )?;
    let queue = startup::open_queue(config, &store).await?;

    // A spinner on a terminal; plain log lines otherwise (Webex does not say how much is left).
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Some(bar)
    } else {
        None
    };
    let progress = |r: &ReconcileReport| {
        let line = format!(
            "seen {}, stored {}, enqueued {}",
            r.seen, r.stored, r.enqueued
        );
        match &bar {
            Some(bar) => bar.set_message(line),
            None => tracing::info!("{line}"),
        }
    };
    let options = ReconcileOptions {
        limit,
        dry_run,
        scope: None,
        services: config.reconcile_service_types,
    };
    let result = reconciler::reconcile(
        &webex,
        &store,
        queue.publisher.as_ref(),
        window,
        &options,
        &progress,
    )
    .await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    queue.close().await;
    store.close().await;
    let report = result.context("backfill failed")?;
    if dry_run {
        for id in &report.enqueued_ids {
            println!("would enqueue {id}");
        }
    }
    println!(
        "seen {}, stored {}, enqueued {}",
        report.seen, report.stored, report.enqueued
    );
    Ok(())
}
