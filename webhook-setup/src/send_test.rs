//! `send-test`: POST a signed sample `convergedRecordings`/`created` event to a receiver.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};
use webex_recordings::signature::{SIGNATURE_HEADER, sign};

use crate::cli::SendTestArgs;
use crate::context;

/// An envelope shaped like the ones Webex POSTs (`id` is the webhook's id).
pub fn sample_envelope(target_url: &str, recording_id: &str) -> Value {
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    json!({
        "id": "webhook-setup-send-test",
        "name": "webex-recordings (send-test)",
        "targetUrl": target_url,
        "resource": "convergedRecordings",
        "event": "created",
        "orgId": "send-test-org",
        "createdBy": "send-test-person",
        "appId": "send-test-app",
        "ownedBy": "creator",
        "status": "active",
        "created": now,
        "actorId": "send-test-person",
        "data": {
            "id": recording_id,
            "topic": "webhook-setup send-test",
            "createTime": now,
            "timeRecorded": now,
            "format": "MP3",
            "serviceType": "calling",
            "durationSeconds": 42,
            "status": "available",
            "ownerType": "user"
        }
    })
}

pub async fn run(args: SendTestArgs) -> Result<ExitCode> {
    let config = context::config()?;
    let secret = context::webhook_secret(&config)?;
    let recording_id = args
        .recording_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let body = serde_json::to_vec(&sample_envelope(&args.target_url, &recording_id))?;
    let signature = sign(&body, secret.as_bytes());

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .context("cannot build the HTTP client")?;
    let resp = http
        .post(&args.target_url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await
        .with_context(|| format!("POST {} failed", args.target_url))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    println!("sent recording {recording_id} to {}", args.target_url);
    println!("status: {status}");
    println!("body: {text}");
    Ok(if status.is_success() {
        ExitCode::SUCCESS
    } else {
        eprintln!("error: the receiver answered {status}");
        ExitCode::FAILURE
    })
}
