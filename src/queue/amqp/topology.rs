//! The exchanges and queues (see the module's documentation), declared on every (re)connect.

use std::time::Duration;

use lapin::options::{
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};

use super::{
    APP_ID, DEAD_LETTER_EXCHANGE, DEAD_QUEUE, DELAY_QUEUE, DELIVERY_LIMIT, EXCHANGE,
    PROCESS_BINDING, PROCESS_QUEUE, RETRY_EXCHANGE, RETRY_TIER_HEADER, RETRY_TIERS,
};
use crate::queue::QueueError;

/// How long one pass over the classic retry queues of earlier versions may take.
const RETIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// Between passes while classic retry queues are left.
const RETIRE_PAUSE: Duration = Duration::from_secs(60);
/// Passes at most after a connect: a quarter of an hour, longer than the longest tier's TTL.
const RETIRE_TRIES: usize = 15;

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
    /// The classic tier queues of earlier versions (`…retry.{tier}`), with their tier.
    pub(super) classic_retry: Vec<(ShortString, &'static str)>,
}

impl Names {
    pub(super) fn new(prefix: &str) -> Result<Self, QueueError> {
        let name = |base: &str| {
            ShortString::try_new(format!("{prefix}{base}"))
                .map_err(|e| QueueError::Other(format!("name prefix too long: {e}")))
        };
        let retry = RETRY_TIERS
            .iter()
            .map(|&(tier, ttl)| Ok((name(&format!("{DELAY_QUEUE}.{tier}"))?, tier, ttl)))
            .collect::<Result<Vec<_>, QueueError>>()?;
        let classic_retry = RETRY_TIERS
            .iter()
            .map(|&(tier, _)| Ok((name(&format!("{RETRY_EXCHANGE}.{tier}"))?, tier)))
            .collect::<Result<Vec<_>, QueueError>>()?;
        Ok(Self {
            exchange: name(EXCHANGE)?,
            process: name(PROCESS_QUEUE)?,
            dlx: name(DEAD_LETTER_EXCHANGE)?,
            dead: name(DEAD_QUEUE)?,
            retry_exchange: name(RETRY_EXCHANGE)?,
            retry,
            classic_retry,
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
        // Quorum, for at-least-once dead-lettering: an expired message leaves the tier only
        // once the process queue has confirmed it (classic queues dead-letter at most once, so
        // a broker crash at that moment could lose it). That strategy needs `reject-publish`.
        arguments.insert("x-queue-type".into(), long_string("quorum"));
        arguments.insert(
            "x-dead-letter-strategy".into(),
            long_string("at-least-once"),
        );
        arguments.insert("x-overflow".into(), long_string("reject-publish"));
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
        declare_bound_queue(
            channel,
            queue,
            arguments,
            &names.retry_exchange,
            ("", tier_binding(tier)),
        )
        .await?;
    }
    Ok(())
}

/// Route on the tier header alone, whatever the routing key.
fn tier_binding(tier: &str) -> FieldTable {
    let mut binding = FieldTable::default();
    binding.insert("x-match".into(), long_string("all"));
    binding.insert(RETRY_TIER_HEADER.into(), long_string(tier));
    binding
}

/// Earlier versions kept retries in classic queues named `…retry.{tier}`, and a queue's type
/// cannot change. Each one found is unbound, so no new retry lands there; what it holds still
/// expires back to the main exchange; once empty it is deleted. In the background, after the
/// session is up, on a connection of its own: a missing queue or a refused delete closes a
/// channel, and deleting a queue of another type `if-empty` closes the whole connection, which
/// must not be the session's. Tried again [`RETIRE_PAUSE`] apart until no classic tier is left
/// (the longest tier drains in 10 minutes), at most [`RETIRE_TRIES`] times.
pub(super) fn spawn_retire_classic_tiers(url: String, names: Names) {
    tokio::spawn(async move {
        for _ in 0..RETIRE_TRIES {
            let pass = tokio::time::timeout(RETIRE_TIMEOUT, retire_classic_tiers(&url, &names));
            match pass.await {
                Ok(Ok(0)) => return,
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "could not look for classic retry queues"),
                Err(_) => tracing::warn!("gave up looking for classic retry queues for now"),
            }
            tokio::time::sleep(RETIRE_PAUSE).await;
        }
    });
}

/// One pass; how many classic tiers are left.
async fn retire_classic_tiers(url: &str, names: &Names) -> Result<usize, lapin::Error> {
    let properties = ConnectionProperties::default()
        .with_connection_name(LongString::from(format!("{APP_ID} retire")));
    let connection = Connection::connect(url, properties).await?;
    let left = retire_on(&connection, names).await;
    let _ = connection.close(200, "OK".into()).await;
    Ok(left)
}

async fn retire_on(connection: &Connection, names: &Names) -> usize {
    let mut left = 0;
    for (checked, (queue, tier)) in names.classic_retry.iter().enumerate() {
        let Ok(channel) = connection.create_channel().await else {
            // The broker closed the connection: the rest are unknown.
            return left + names.classic_retry.len() - checked;
        };
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        if channel
            .queue_declare(queue.clone(), passive, FieldTable::default())
            .await
            .is_err()
        {
            continue; // Not there (any more).
        }
        let unbound = channel
            .queue_unbind(
                queue.clone(),
                names.retry_exchange.clone(),
                "".into(),
                tier_binding(tier),
            )
            .await;
        if let Err(e) = unbound {
            tracing::warn!(queue = %queue, error = %e, "could not unbind a classic retry queue");
            left += 1;
            continue;
        }
        let if_empty = QueueDeleteOptions {
            if_empty: true,
            ..QueueDeleteOptions::default()
        };
        match channel.queue_delete(queue.clone(), if_empty).await {
            Ok(_) => {
                tracing::info!(queue = %queue, "classic retry queue of an earlier version removed");
                let _ = channel.close(200, "OK".into()).await;
            }
            Err(_) => {
                tracing::info!(
                    queue = %queue,
                    "classic retry queue of an earlier version unbound; removed once its messages are back"
                );
                left += 1;
            }
        }
    }
    left
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
