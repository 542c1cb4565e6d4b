//! Settling a delivery: ack, retry later through a delay tier, or dead-letter.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lapin::BasicProperties;
use lapin::options::{BasicAckOptions, BasicNackOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};

use super::headers::truncate;
use super::topology::long_string;
use super::{
    ATTEMPT_HEADER, DELIVERY_COUNT_HEADER, LAST_ERROR_HEADER, MAX_REASON_BYTES, PERSISTENT,
    RETRY_TIER_HEADER, Shared,
};
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
        let mut headers = self
            .properties
            .headers()
            .as_ref()
            .map(|h| h.inner().clone())
            .unwrap_or_default();
        // The copy is a new broker message: its redeliveries start from zero.
        headers.remove(DELIVERY_COUNT_HEADER);
        headers.insert(
            ATTEMPT_HEADER.into(),
            AMQPValue::LongInt(i32::try_from(self.attempt.saturating_add(1)).unwrap_or(i32::MAX)),
        );
        headers.insert(
            LAST_ERROR_HEADER.into(),
            long_string(truncate(reason, MAX_REASON_BYTES)),
        );
        headers.insert(RETRY_TIER_HEADER.into(), long_string(tier));
        let properties = self
            .properties
            .clone()
            .with_delivery_mode(PERSISTENT)
            .with_headers(FieldTable::from(headers));
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
        // The broker records only "rejected" in x-death; the reason goes to the log.
        tracing::warn!(message_id = %self.message_id, attempt = self.attempt, reason, "dead-lettering message");
        // requeue=false: the process queue's dead-letter exchange routes it to the dead queue.
        let reject = BasicNackOptions {
            multiple: false,
            requeue: false,
        };
        settled(self.acker.nack(reject).await, "dead-letter")
    }
}
