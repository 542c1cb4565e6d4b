use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use webex_recordings::cli::{Cli, Command};
use webex_recordings::config::Config;
use webex_recordings::domain::{MessageSource, QueueMessage, RecordingEvent, RecordingId};
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
    telemetry::init_logging(&config.rust_log, config.log_format);
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
            let queue = startup::open_queue(&config, &store).await?;
            let message = QueueMessage::new(
                MessageSource::Reprocess,
                RecordingEvent::Created,
                id.clone(),
                None,
                None,
            );
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
        Command::Backfill { .. } => {
            bail!("backfill is not available in this build yet")
        }
    }
}
