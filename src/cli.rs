//! The `webex-recordings` command line.

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use crate::startup::Role;

#[derive(Debug, Parser)]
#[command(
    name = "webex-recordings",
    version,
    about = "Webex Calling recordings turned into searchable, summarised records"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service: webhook receiver, REST API, consumer and scheduled reconciler.
    Serve {
        #[arg(long, value_enum, default_value = "all")]
        role: Role,
    },
    /// Reconcile once: enqueue what Webex has in the window and we never stored or finished.
    Backfill {
        /// Window ending now, in hours (default 24).
        #[arg(long, conflicts_with_all = ["from", "to"])]
        hours: Option<u32>,
        /// Window start (RFC 3339); needs --to.
        #[arg(long, requires = "to")]
        from: Option<DateTime<Utc>>,
        /// Window end (RFC 3339); needs --from.
        #[arg(long, requires = "from")]
        to: Option<DateTime<Utc>>,
        /// Enqueue at most this many (at least 1).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        limit: Option<u64>,
        /// Show what would be enqueued, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Enqueue one recording for processing again.
    Reprocess {
        /// The Webex recording id.
        id: String,
    },
    /// Alerts sent to ALERT_WEBHOOK_URL.
    Alerts {
        #[command(subcommand)]
        action: AlertsCommand,
    },
    /// Manage access keys (only a hash of each key is stored).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Purge recordings older than RETENTION_DAYS (those under legal hold stay).
    Purge {
        /// Count what would be purged, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Send one signed `test` event to ALERT_WEBHOOK_URL now (not through the outbox).
    Test,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; it is printed once, alone on the last line.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: crate::access::Role,
    },
    /// Name, role, created, last used (never the key).
    List,
    /// Revoke a key and end its console sessions.
    Revoke { name: String },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Re-walk the hash chain: `N entries, chain intact`, or the first broken entry.
    Verify,
}
