//! Settling a delivery: ack, retry later through a delay tier, or dead-letter.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lapin::BasicProperties;
use lapin::options::{BasicAckOptions, BasicNackOptions};
use lapin::types::ShortString;

use super::headers::{copy_headers, retry_headers};
use super::{PERSISTENT, Shared};
use crate::queue::{QueueError, Settle};

pub(super) struct AmqpSettle {
    pub(super) shared: Arc<Shared>,
    pub(super) message_id: String,
    pub(super) attempt: u32,
    pub(super) routing_key: ShortString,
    pub(super) properties: BasicProperties,
    pub(super) body: Vec<u8>,
    pub(super) acker: lapin::Acker,
}

/// Settling over a channel that has since closed cannot work; the broker redelivers the message.
pub(super) fn settled(result: Result<bool, lapin::Error>, what: &str) -> Result<(), QueueError> {
    match result {
        Ok(true) => Ok(()),
        Ok(false) => Err(QueueError::Unavailable(format!(
            "{what}: the channel of this delivery is closed; the broker will redeliver it"
        ))),
        Err(e) => Err(QueueError::Unavailable(format!("{what}: {e}"))),
    }
}

#[async_trait]
impl Settle for AmqpSettle {
    async fn ack(self: Box<Self>) -> Result<(), QueueError> {
        settled(self.acker.ack(BasicAckOptions::default()).await, "ack")
    }

    async fn retry_after(self: Box<Self>, delay: Duration, reason: &str) -> Result<(), QueueError> {
        if !self.acker.usable() {
            // Its channel is gone, so the broker redelivers the original anyway; a copy now
            // would only duplicate it.
            return Err(QueueError::Unavailable(
                "retry: the channel of this delivery is closed; the broker will redeliver it"
                    .into(),
            ));
        }
        let names = &self.shared.names;
        let tier = names.retry_tier(delay);
        let original = self.properties.headers().clone().unwrap_or_default();
        let headers = retry_headers(&original, self.attempt.saturating_add(1), reason, tier);
        let properties = self
            .properties
            .clone()
            .with_delivery_mode(PERSISTENT)
            .with_headers(headers);
        let published = self
            .shared
            .publish_confirmed(
                &names.retry_exchange,
                &self.routing_key,
                &self.body,
                properties,
            )
            .await;
        match published {
            // The copy is safe with the broker: only now drop the original.
            Ok(()) => settled(
                self.acker.ack(BasicAckOptions::default()).await,
                "ack after scheduling a retry",
            ),
            Err(e) => {
                // Never lose it: put the original back (it is redelivered at once).
                let requeue = BasicNackOptions {
                    multiple: false,
                    requeue: true,
                };
                if let Err(nack) = settled(self.acker.nack(requeue).await, "requeue") {
                    tracing::warn!(message_id = %self.message_id, error = %nack, "could not requeue");
                }
                Err(e)
            }
        }
    }

    async fn dead_letter(self: Box<Self>, reason: &str) -> Result<(), QueueError> {
        tracing::warn!(message_id = %self.message_id, attempt = self.attempt, reason, "dead-lettering message");
        if self.acker.usable() {
            // Our own confirmed copy, then the ack: at least once, and the reason travels in
            // `x-last-error`. The process queue's own dead-lettering (the reject below) is at
            // most once and records only "rejected".
            let original = self.properties.headers().clone().unwrap_or_default();
            let properties = self
                .properties
                .clone()
                .with_delivery_mode(PERSISTENT)
                .with_headers(copy_headers(&original, self.attempt, reason));
            let names = &self.shared.names;
            let published = self
                .shared
                .publish_confirmed(&names.dlx, &self.routing_key, &self.body, properties)
                .await;
            match published {
                Ok(()) => {
                    return settled(
                        self.acker.ack(BasicAckOptions::default()).await,
                        "ack after dead-lettering",
                    );
                }
                Err(e) => {
                    tracing::warn!(message_id = %self.message_id, error = %e, "could not publish to the dead queue; rejecting instead");
                }
            }
        }
        // requeue=false: the process queue's dead-letter exchange routes it to the dead queue.
        let reject = BasicNackOptions {
            multiple: false,
            requeue: false,
        };
        settled(self.acker.nack(reject).await, "dead-letter")
    }
}
