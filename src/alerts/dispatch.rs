//! Delivers the outbox: one attempt per due event, then delivered, rescheduled with backoff and
//! jitter, or (after the delivery window, or when the destination is refused) failed.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::Utc;
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{AlertConfig, AlertEvent, DeliverySettings, SigningKey, check_destination, sign};
use crate::store::{OutboxAlert, Store};

/// Events one dispatcher round takes at most.
const BATCH: u32 = 20;

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The destination is not allowed (SSRF guard) or not usable: retrying cannot help.
    #[error("refused: {0}")]
    Refused(String),
    #[error("{0}")]
    Network(String),
    #[error("the receiver answered {status}")]
    Status {
        status: u16,
        /// How long the receiver asked us to wait (`Retry-After`).
        retry_after: Option<Duration>,
    },
}

/// One signed POST of `event` (no retry): what each outbox attempt and `alerts test` do.
pub async fn send_once(
    config: &AlertConfig,
    key: &SigningKey,
    event: &AlertEvent,
) -> Result<(), DeliveryError> {
    let addrs = check_destination(&config.url, config.allow_private).await?;
    let mut client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.delivery.attempt_timeout);
    if let Some(host) = config.url.host_str() {
        client = client.resolve_to_addrs(host, &addrs);
    }
    let client = client
        .build()
        .map_err(|e| DeliveryError::Refused(format!("HTTP client: {e}")))?;
    let timestamp = Utc::now().timestamp();
    let signature = sign(key, &event.id, timestamp, &event.body);
    let answer = client
        .post(config.url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", &event.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(event.body.clone())
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                DeliveryError::Network("no answer within the attempt timeout".into())
            } else {
                // Without the URL: a Slack or Teams webhook's URL is its secret.
                DeliveryError::Network(format!(
                    "request failed: {}",
                    crate::telemetry::error_with_causes(&e.without_url())
                ))
            }
        })?;
    let status = answer.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(DeliveryError::Status {
            status: status.as_u16(),
            retry_after: crate::retry::parse_retry_after(answer.headers()),
        })
    }
}

/// Delay before the attempt after `failed` failed ones: exponential from `first_retry`, capped
/// at `max_retry`, plus jitter so receivers that came back are not hit by every sender at once;
/// at least what the receiver asked for (`Retry-After`), up to `max_retry`.
fn retry_delay(settings: &DeliverySettings, failed: u32, asked: Option<Duration>) -> Duration {
    let backoff = ExponentialBuilder::default()
        .with_min_delay(settings.first_retry)
        .with_max_delay(settings.max_retry)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .build()
        .nth(usize::try_from(failed.saturating_sub(1)).unwrap_or(usize::MAX))
        .unwrap_or(settings.max_retry);
    asked.map_or(backoff, |asked| backoff.max(asked.min(settings.max_retry)))
}

/// Runs until `cancel`: every `poll`, delivers the due events.
pub async fn run(store: Store, config: AlertConfig, cancel: CancellationToken) {
    let key = match SigningKey::parse(config.secret.expose_secret()) {
        Ok(k) => k,
        Err(problem) => {
            // Config checks the key at start, so this only guards against a changed type.
            tracing::error!(
                problem,
                "ALERT_WEBHOOK_SECRET unusable; alerts are not delivered"
            );
            return;
        }
    };
    loop {
        if let Err(e) = deliver_due(&store, &config, &key, &cancel).await {
            tracing::warn!(error = %e, "alert outbox unavailable; trying again shortly");
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(config.delivery.poll) => {}
        }
    }
}

/// One round: claims due events and tries each once.
async fn deliver_due(
    store: &Store,
    config: &AlertConfig,
    key: &SigningKey,
    cancel: &CancellationToken,
) -> Result<(), crate::store::StoreError> {
    let settings = &config.delivery;
    let now = Utc::now();
    // Long enough for the whole batch's attempts; a dispatcher that dies leaves its events to
    // another once this runs out.
    let lease = chrono::Duration::from_std(settings.attempt_timeout * (BATCH + 1))
        .unwrap_or(chrono::Duration::MAX);
    for alert in store.claim_due_alerts(now, now + lease, BATCH).await? {
        if cancel.is_cancelled() {
            // Unattempted events come back when the lease runs out.
            break;
        }
        // Every line of the attempt names the event and the recording it is about.
        let span = tracing::info_span!(
            "alert",
            webhook_id = %alert.event.id,
            recording_id = alert.event.recording_id().as_deref(),
        );
        attempt(store, config, key, &alert).instrument(span).await?;
    }
    Ok(())
}

async fn attempt(
    store: &Store,
    config: &AlertConfig,
    key: &SigningKey,
    alert: &OutboxAlert,
) -> Result<(), crate::store::StoreError> {
    let id = &alert.event.id;
    let result = send_once(config, key, &alert.event).await;
    let now = Utc::now();
    let error = match result {
        Ok(()) => {
            tracing::info!(event = %alert.event.event_type, "alert delivered");
            return store.alert_delivered(id, now).await;
        }
        Err(e) => e,
    };
    let failed = alert.attempts + 1;
    let asked = match &error {
        DeliveryError::Status { retry_after, .. } => *retry_after,
        _ => None,
    };
    let retry_at = match &error {
        DeliveryError::Refused(_) => None,
        _ => {
            let at = now
                + chrono::Duration::from_std(retry_delay(&config.delivery, failed, asked))
                    .unwrap_or(chrono::Duration::MAX);
            let window = chrono::Duration::from_std(config.delivery.give_up_after)
                .unwrap_or(chrono::Duration::MAX);
            (at <= alert.created_at + window).then_some(at)
        }
    };
    if retry_at.is_some() {
        tracing::info!(attempt = failed, error = %error, "alert not delivered; retrying later");
    } else {
        tracing::warn!(attempt = failed, error = %error, "alert given up");
    }
    store
        .alert_attempt_failed(id, &error.to_string(), retry_at, now)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_retry_comes_within_a_minute_and_delays_grow_to_the_cap() {
        let s = DeliverySettings::default();
        for _ in 0..50 {
            let first = retry_delay(&s, 1, None);
            assert!(
                first >= s.first_retry && first < Duration::from_secs(60),
                "{first:?}"
            );
        }
        let fifth = retry_delay(&s, 5, None);
        assert!(fifth >= s.first_retry * 16, "{fifth:?}");
        let late = retry_delay(&s, 40, None);
        assert!(late >= s.max_retry && late <= s.max_retry * 2, "{late:?}");
    }

    #[test]
    fn a_receiver_s_retry_after_is_waited_up_to_the_cap() {
        let s = DeliverySettings::default();
        let ten_minutes = Duration::from_secs(600);
        assert!(retry_delay(&s, 1, Some(ten_minutes)) >= ten_minutes);
        let asked_a_day = retry_delay(&s, 1, Some(Duration::from_secs(86_400)));
        assert_eq!(asked_a_day, s.max_retry, "capped");
        let asked_nothing = retry_delay(&s, 1, Some(Duration::ZERO));
        assert!(asked_nothing >= s.first_retry, "the backoff still applies");
    }
}
