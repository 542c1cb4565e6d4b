//! Command line (clap derive).

use clap::{Args, Parser, Subcommand};

/// Registers, lists, deletes and tests the Webex webhook that feeds webex-recordings.
///
/// Configuration comes from the environment (and `.env`): WEBEX_API_URL, WEBEX_ACCESS_TOKEN
/// (or WEBEX_CLIENT_ID, WEBEX_CLIENT_SECRET, WEBEX_REFRESH_TOKEN) and WEBEX_WEBHOOK_SECRET.
#[derive(Debug, Parser)]
#[command(name = "webhook-setup", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make sure exactly one active `convergedRecordings`/`created` webhook points at the URL.
    ///
    /// Creates it, updates it (name, secret), re-activates it, or leaves it unchanged; extra
    /// webhooks for the same target are deleted (the oldest active one is kept). Webex may not
    /// return the secret when listing: then the secret cannot be compared and is taken as
    /// unchanged unless --rotate-secret is given.
    Register(RegisterArgs),
    /// Our webhooks (resource convergedRecordings): a table, or JSON with --json.
    List(ListArgs),
    /// Remove webhooks by id or by target URL.
    Delete(DeleteArgs),
    /// Check what the token can do: who it is, recordings listing, download links.
    Verify(VerifyArgs),
    /// POST a correctly signed sample `convergedRecordings`/`created` event to a receiver.
    SendTest(SendTestArgs),
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// Public HTTPS URL of the receiver, e.g. https://example.com/webhooks/webex.
    #[arg(long)]
    pub target_url: String,
    /// Webhook name (default: webex-recordings; an existing name is kept unless given).
    #[arg(long)]
    pub name: Option<String>,
    /// Org-wide webhook (`ownedBy: org`; needs an admin or compliance officer token).
    #[arg(long)]
    pub org: bool,
    /// Allow a plain-HTTP, non-loopback target (Webex only delivers to public HTTPS URLs).
    #[arg(long)]
    pub allow_insecure: bool,
    /// Always send WEBEX_WEBHOOK_SECRET again (use after changing it when Webex hides secrets).
    #[arg(long)]
    pub rotate_secret: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
    /// List the org-wide webhooks (`ownedBy=org`).
    #[arg(long)]
    pub org: bool,
    /// Every webhook of the token, not only convergedRecordings ones.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct DeleteTarget {
    /// The webhook id.
    #[arg(long)]
    pub id: Option<String>,
    /// Every convergedRecordings webhook with this target URL.
    #[arg(long)]
    pub target_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub target: DeleteTarget,
    /// Look among the org-wide webhooks (with --target-url).
    #[arg(long)]
    pub org: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SendTestArgs {
    /// The receiver, e.g. http://127.0.0.1:8000/webhooks/webex.
    #[arg(long)]
    pub target_url: String,
    /// Recording id to put in `data.id` (default: a random UUID).
    #[arg(long)]
    pub recording_id: Option<String>,
}
