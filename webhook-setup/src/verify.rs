//! `verify`: what the token can do (the checks live in the library).

use std::process::ExitCode;

use anyhow::Result;
use webex_recordings::webex::access::{CheckStatus, check_access};

use crate::cli::VerifyArgs;
use crate::context;

pub async fn run(args: VerifyArgs) -> Result<ExitCode> {
    let config = context::config()?;
    let client = context::client(&config).await?;
    let report = check_access(&client).await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for check in &report.checks {
            let mark = match check.status {
                CheckStatus::Ok => "ok     ",
                CheckStatus::Missing => "MISSING",
                CheckStatus::Error => "ERROR  ",
                CheckStatus::Skipped => "skipped",
            };
            println!("{mark} {:<15} {}", check.name, check.detail);
        }
        let scopes = report.missing_scopes.join("; ");
        if report.missing_scopes.is_empty() {
            println!("missing scopes: none");
        } else if report.ok {
            // The other listing works, so this one's scope is not needed.
            println!("not granted, and not needed (one listing is enough): {scopes}");
        } else {
            println!("missing scopes: {scopes}");
        }
        if report.ok {
            println!("the token can be used by webex-recordings");
        } else {
            println!("the token cannot be used by webex-recordings");
        }
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
