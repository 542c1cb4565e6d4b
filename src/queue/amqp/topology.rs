//! The exchanges and queues (see the module's documentation), declared on every (re)connect.

use std::time::Duration;

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{Channel, ExchangeKind};

use super::{
    DEAD_LETTER_EXCHANGE, DEAD_QUEUE, DELIVERY_LIMIT, EXCHANGE, PROCESS_BINDING, PROCESS_QUEUE,
    RETRY_EXCHANGE, RETRY_TIER_HEADER, RETRY_TIERS,
};
use crate::queue::QueueError;

/// The exchange and queue names, each with `AmqpSettings::name_prefix` in front.
#[derive(Debug, Clone)]
pub(super) struct Names {
    pub(super) exchange: ShortString,
    pub(super) process: ShortString,
    pub(super) dlx: ShortString,
    pub(super) dead: ShortString,
    pub(super) retry_exchange: ShortString,
    /// (queue name, tier header value, TTL), shortest first.
    pub(super) retry: Vec<(ShortString, &'static str, Duration)>,
}

impl Names {
    pub(super) fn new(prefix: &str) -> Result<Self, QueueError> {
        let name = |base: &str| {
            ShortString::try_new(format!("{prefix}{base}"))
                .map_err(|e| QueueError::Other(format!("name prefix too long: {e}")))
        };
        let retry = RETRY_TIERS
            .iter()
            .map(|&(tier, ttl)| Ok((name(&format!("{RETRY_EXCHANGE}.{tier}"))?, tier, ttl)))
            .collect::<Result<Vec<_>, QueueError>>()?;
        Ok(Self {
            exchange: name(EXCHANGE)?,
            process: name(PROCESS_QUEUE)?,
            dlx: name(DEAD_LETTER_EXCHANGE)?,
            dead: name(DEAD_QUEUE)?,
            retry_exchange: name(RETRY_EXCHANGE)?,
            retry,
        })
    }

    /// The smallest tier at least `delay` long, or the longest one.
    pub(super) fn retry_tier(&self, delay: Duration) -> &'static str {
        self.retry
            .iter()
            .find(|(_, _, ttl)| *ttl >= delay)
            .or(self.retry.last())
            .map_or(RETRY_TIERS[0].0, |(_, tier, _)| tier)
    }
}

pub(super) async fn declare_topology(channel: &Channel, names: &Names) -> Result<(), lapin::Error> {
    // Durable: exchanges and queues survive a broker restart.
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    for (exchange, kind) in [
        (&names.exchange, ExchangeKind::Topic),
        (&names.dlx, ExchangeKind::Fanout),
        (&names.retry_exchange, ExchangeKind::Headers),
    ] {
        channel
            .exchange_declare(exchange.clone(), kind, durable, FieldTable::default())
            .await?;
    }

    let mut process = FieldTable::default();
    // Replicated, fsynced, and it counts deliveries (x-delivery-count, x-delivery-limit).
    process.insert("x-queue-type".into(), long_string("quorum"));
    // Rejected (nack, requeue=false) and over-limit messages go to the dead queue.
    process.insert(
        "x-dead-letter-exchange".into(),
        long_string(names.dlx.as_str()),
    );
    // See DELIVERY_LIMIT: ends crash loops on a poison message.
    process.insert(
        "x-delivery-limit".into(),
        AMQPValue::LongInt(i32::try_from(DELIVERY_LIMIT).unwrap_or(i32::MAX)),
    );
    let by_key = |key: &'static str| (key, FieldTable::default());
    declare_bound_queue(
        channel,
        &names.process,
        process,
        &names.exchange,
        by_key(PROCESS_BINDING),
    )
    .await?;
    // A plain durable queue: dead messages wait here for a person (or `reprocess`).
    let plain = FieldTable::default();
    declare_bound_queue(channel, &names.dead, plain, &names.dlx, by_key("")).await?;

    for (queue, tier, ttl) in &names.retry {
        let mut arguments = FieldTable::default();
        // Queue-level TTL: every message in a tier waits the same time, so they expire in
        // order at the head (per-message TTLs would only be honoured at the head).
        arguments.insert(
            "x-message-ttl".into(),
            AMQPValue::LongInt(i32::try_from(ttl.as_millis()).unwrap_or(i32::MAX)),
        );
        // Expired messages go back to the main exchange under their original routing key,
        // hence to the process queue.
        arguments.insert(
            "x-dead-letter-exchange".into(),
            long_string(names.exchange.as_str()),
        );
        let mut binding = FieldTable::default();
        // Route on the tier header alone, whatever the routing key.
        binding.insert("x-match".into(), long_string("all"));
        binding.insert(RETRY_TIER_HEADER.into(), long_string(tier));
        declare_bound_queue(
            channel,
            queue,
            arguments,
            &names.retry_exchange,
            ("", binding),
        )
        .await?;
    }
    Ok(())
}

/// A durable queue with `arguments`, bound to `exchange` by a routing key and binding headers.
async fn declare_bound_queue(
    channel: &Channel,
    queue: &ShortString,
    arguments: FieldTable,
    exchange: &ShortString,
    (routing_key, headers): (&str, FieldTable),
) -> Result<(), lapin::Error> {
    channel
        .queue_declare(queue.clone(), QueueDeclareOptions::durable(), arguments)
        .await?;
    channel
        .queue_bind(
            queue.clone(),
            exchange.clone(),
            routing_key.into(),
            QueueBindOptions::default(),
            headers,
        )
        .await?;
    Ok(())
}

pub(super) fn long_string(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_tier_is_the_smallest_at_least_the_delay() {
        let names = Names::new("").expect("names");
        assert_eq!(names.retry_tier(Duration::ZERO), "5s");
        assert_eq!(names.retry_tier(Duration::from_secs(5)), "5s");
        assert_eq!(names.retry_tier(Duration::from_secs(6)), "30s");
        assert_eq!(names.retry_tier(Duration::from_secs(100)), "2m");
        assert_eq!(names.retry_tier(Duration::from_secs(3600)), "10m");
    }
}
