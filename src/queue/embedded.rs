//! The durable queue inside the database, for a one-command install without RabbitMQ.
//!
//! A message is a row. Consumers lease rows (a crashed consumer's lease runs out and the row is
//! taken again), oldest first, skipping rows whose retry time has not come. New messages from this
//! process wake consumers at once; rows written by another process (`backfill` next to `serve`)
//! are found by a short poll.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{
    Consumer, Delivery, Publisher, QueueDepth, QueueError, Settle, UNSETTLED_DELIVERY_LIMIT,
};
use crate::domain::QueueMessage;
use crate::store::{QueueLease, QueueRow, Store, StoreError};
use crate::telemetry::{TraceContext, current_trace_context};

#[derive(Debug, Clone)]
pub struct EmbeddedSettings {
    /// How long a consumer holds a message before another may take it (extended while working).
    pub lease: Duration,
    /// How often to look for messages written by other processes.
    pub poll_interval: Duration,
}

impl Default for EmbeddedSettings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(300),
            poll_interval: Duration::from_secs(1),
        }
    }
}

#[derive(Clone)]
pub struct EmbeddedQueue {
    store: Store,
    notify: Arc<Notify>,
    settings: EmbeddedSettings,
}

impl EmbeddedQueue {
    pub fn new(store: Store, settings: EmbeddedSettings) -> Self {
        Self {
            store,
            notify: Arc::new(Notify::new()),
            settings,
        }
    }
}

fn unavailable(e: StoreError) -> QueueError {
    QueueError::Unavailable(e.to_string())
}

#[async_trait]
impl Publisher for EmbeddedQueue {
    async fn publish(&self, message: &QueueMessage) -> Result<(), QueueError> {
        let body = serde_json::to_string(message).map_err(|e| QueueError::Other(e.to_string()))?;
        let trace_context = current_trace_context();
        let row = QueueRow {
            message_id: uuid::Uuid::now_v7().to_string(),
            routing_key: message.routing_key(),
            body,
            trace_context: (!trace_context.is_empty())
                .then(|| serde_json::to_string(&trace_context))
                .transpose()
                .map_err(|e| QueueError::Other(e.to_string()))?,
        };
        self.store
            .enqueue(&row, Utc::now())
            .await
            .map_err(unavailable)?;
        // One message wakes one consumer; with nobody waiting the permit is kept for the next.
        self.notify.notify_one();
        Ok(())
    }

    async fn check_ready(&self) -> Result<(), QueueError> {
        self.store.ping().await.map_err(unavailable)
    }

    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        let (ready, dead) = self.store.queue_depth().await.map_err(unavailable)?;
        Ok(QueueDepth { ready, dead })
    }
}

#[async_trait]
impl Consumer for EmbeddedQueue {
    async fn next(&self, cancel: &CancellationToken) -> Result<Option<Delivery>, QueueError> {
        loop {
            // Register interest before looking, so a publish between the look and the wait
            // is not missed.
            let notified = self.notify.notified();
            let now = Utc::now();
            let until = now + self.settings.lease;
            if let Some(taken) = self
                .store
                .take_message(now, until)
                .await
                .map_err(unavailable)?
            {
                let payload = QueueMessage::decode(taken.body.as_bytes())
                    .map_err(|e| format!("unreadable message body: {e}"));
                // Each take counts; one past the limit means every earlier holder died.
                if taken.attempts > UNSETTLED_DELIVERY_LIMIT {
                    let reason = format!(
                        "taken {} times and never settled: its worker died each time",
                        taken.attempts - 1
                    );
                    let recording_id = payload.as_ref().ok().map(|m| m.recording_id.as_str());
                    tracing::error!(message_id = %taken.lease.message_id, recording_id, %reason, "dead-lettered");
                    self.store
                        .dead_letter_message(&taken.lease, &reason)
                        .await
                        .map_err(unavailable)?;
                    continue;
                }
                // A context that does not parse only costs the link to the webhook's trace.
                let trace_context = taken
                    .trace_context
                    .as_deref()
                    .and_then(|json| serde_json::from_str::<TraceContext>(json).ok())
                    .unwrap_or_default();
                let message_id = taken.lease.message_id.clone();
                let keepalive =
                    spawn_keepalive(self.store.clone(), taken.lease.clone(), self.settings.lease);
                let settle = Box::new(EmbeddedSettle {
                    store: self.store.clone(),
                    lease: taken.lease,
                    keepalive,
                });
                return Ok(Some(
                    Delivery::new(message_id, payload, taken.attempts, settle)
                        .with_trace_context(trace_context),
                ));
            }
            tokio::select! {
                _ = cancel.cancelled() => return Ok(None),
                _ = notified => {}
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
            }
        }
    }
}

/// Extends the lease at a third of its length while the message is being worked on.
fn spawn_keepalive(
    store: Store,
    lease: QueueLease,
    lease_for: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let period = lease_for / 3;
        loop {
            tokio::time::sleep(period).await;
            match store.extend_lease(&lease, Utc::now() + lease_for).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => tracing::warn!(
                    message_id = %lease.message_id,
                    error = %e,
                    "could not extend queue lease"
                ),
            }
        }
    })
}

struct EmbeddedSettle {
    store: Store,
    lease: QueueLease,
    keepalive: tokio::task::JoinHandle<()>,
}

impl Drop for EmbeddedSettle {
    fn drop(&mut self) {
        // An unsettled delivery keeps its lease until it runs out, then it is taken again.
        self.keepalive.abort();
    }
}

#[async_trait]
impl Settle for EmbeddedSettle {
    async fn ack(self: Box<Self>) -> Result<(), QueueError> {
        self.keepalive.abort();
        self.store
            .ack_message(&self.lease)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn retry_after(self: Box<Self>, delay: Duration, reason: &str) -> Result<(), QueueError> {
        self.keepalive.abort();
        self.store
            .retry_message(&self.lease, Utc::now() + delay, reason)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn dead_letter(self: Box<Self>, reason: &str) -> Result<(), QueueError> {
        self.keepalive.abort();
        self.store
            .dead_letter_message(&self.lease, reason)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
