//! `webhook-setup`: manage the Webex webhook of webex-recordings and check the token.

mod cli;
mod context;
mod send_test;
mod verify;
mod webhooks;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Register(args) => webhooks::register(args).await,
        Command::List(args) => webhooks::list(args).await,
        Command::Delete(args) => webhooks::delete(args).await,
        Command::Verify(args) => verify::run(args).await,
        Command::SendTest(args) => send_test::run(args).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
