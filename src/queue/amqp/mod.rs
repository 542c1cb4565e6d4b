//! The durable queue on RabbitMQ (lapin 4).
//!
//! Topology (CONTRACT.md, "RabbitMQ topology"), declared idempotently on every (re)connect:
//! - `webex.recordings` (topic) → `webex.recordings.process` (quorum) on `convergedRecordings.#`;
//! - `webex.recordings.dlx` (fanout) → `webex.recordings.dead`;
//! - internal, for delayed retries: `webex.recordings.retry` (headers) → one quorum queue per
//!   delay tier (`webex.recordings.delayed.5s` … `.10m`). A tier's messages expire after its TTL
//!   and are dead-lettered (at least once) back to `webex.recordings` with their original
//!   routing key, so into the process queue again. A headers exchange picks the tier, so the
//!   routing key can stay the message's own (`convergedRecordings.<event>`); published to a tier
//!   through the default exchange, the routing key would have to be the tier's queue name and the
//!   expired message would match no binding on the way back.
//!
//! One connection carries a small pool of publish channels (publisher confirms, many publishes in
//! flight on each) and, once a consumer asks for messages, one consume channel. A supervisor task
//! watches the connection; when it fails, the queue is marked down at once (publishes fail fast
//! with `Unavailable`) and a new connection, topology, channels and consumer are set up with
//! exponential backoff.

mod headers;
mod session;
mod settle;
mod topology;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use lapin::message::Delivery as LapinDelivery;
use lapin::options::QueueDeclareOptions;
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Confirmation};
use tokio::sync::{Notify, watch};
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::domain::QueueMessage;
use crate::queue::{
    Consumer, Delivery, Publisher, QueueDepth, QueueError, UNSETTLED_DELIVERY_LIMIT,
};
use crate::retry::RetryPolicy;
use crate::telemetry::current_trace_context;
use headers::{attempt_of, trace_context_of};
use session::{Session, supervise};
use settle::AmqpSettle;
use topology::{Names, long_string};

pub const EXCHANGE: &str = "webex.recordings";
pub const PROCESS_QUEUE: &str = "webex.recordings.process";
pub const DEAD_LETTER_EXCHANGE: &str = "webex.recordings.dlx";
pub const DEAD_QUEUE: &str = "webex.recordings.dead";
pub const RETRY_EXCHANGE: &str = "webex.recordings.retry";
/// The retry tier queues are `{DELAY_QUEUE}.{tier}`.
pub const DELAY_QUEUE: &str = "webex.recordings.delayed";
/// Binding of the process queue: every `convergedRecordings.<event>`.
const PROCESS_BINDING: &str = "convergedRecordings.#";
/// Retry tiers: suffix of the queue name (also the header value that selects it) and TTL.
/// `retry_after(d)` uses the smallest tier >= d, or the largest.
pub const RETRY_TIERS: [(&str, Duration); 4] = [
    ("5s", Duration::from_secs(5)),
    ("30s", Duration::from_secs(30)),
    ("2m", Duration::from_secs(120)),
    ("10m", Duration::from_secs(600)),
];
/// Header carrying our own attempt counter (1 on first publish, +1 per retry).
pub const ATTEMPT_HEADER: &str = "x-attempt";
/// Header carrying why the previous attempt failed, on retried copies.
pub const LAST_ERROR_HEADER: &str = "x-last-error";
/// Header selecting the retry tier on the retry (headers) exchange. No `x-` prefix: a headers
/// exchange ignores `x-` headers when matching, so such a binding would match every message and
/// each retry would land in every tier (and come back once per tier).
const RETRY_TIER_HEADER: &str = "wr-retry-tier";
/// Set by quorum queues on redelivery: how often the message was delivered before.
const DELIVERY_COUNT_HEADER: &str = "x-delivery-count";
/// Broker-side redelivery limit of the process queue (quorum queues count redeliveries).
const DELIVERY_LIMIT: u32 = UNSETTLED_DELIVERY_LIMIT;
const APP_ID: &str = "webex-recordings";
const PERSISTENT: u8 = 2;

/// Upper bound on publish + confirm, so a sick broker yields a 503 instead of a hung request.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);
/// Upper bound on one connection attempt including topology and channels.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the supervisor checks the connection when nobody reported a failure.
const HEALTH_POLL: Duration = Duration::from_millis(200);
/// Reconnect pacing: 50 ms doubling to 2.5 s, plus up to as much again at random so several
/// instances do not hammer a recovering broker in step; never gives up (until closed).
const RECONNECT: RetryPolicy = RetryPolicy {
    max_attempts: u32::MAX,
    base_delay: Duration::from_millis(50),
    max_delay: Duration::from_millis(2500),
    max_retry_after: Duration::ZERO,
    jitter: true,
};
/// A session that lived this long resets the reconnect backoff; shorter ones (a flapping
/// broker) make the next reconnect start further along it.
const STABLE_AFTER: Duration = Duration::from_secs(30);
/// Retry reasons are stored in a header; keep them bounded.
const MAX_REASON_BYTES: usize = 1024;

#[derive(Debug, Clone)]
pub struct AmqpSettings {
    /// Unacked deliveries the broker sends ahead to this consumer: WORKER_CONCURRENCY.
    pub prefetch: u16,
    /// Prepended to every exchange and queue name; "" in production.
    pub name_prefix: String,
    /// Publish channels, used round-robin; each carries many publishes in flight.
    pub publish_channels: usize,
}

impl Default for AmqpSettings {
    fn default() -> Self {
        Self {
            prefetch: 8,
            name_prefix: String::new(),
            publish_channels: 2,
        }
    }
}

/// RabbitMQ behind `Publisher` and `Consumer`. Cheap to clone; the connection is supervised in
/// the background until `close` is called or the last clone is dropped.
#[derive(Clone)]
pub struct AmqpQueue {
    handle: Arc<Handle>,
}

struct Handle {
    shared: Arc<Shared>,
    /// Stops the supervisor when the last `AmqpQueue` clone goes away.
    _stop: DropGuard,
}

impl std::fmt::Debug for AmqpQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No URL: it carries the password.
        f.debug_struct("AmqpQueue")
            .field("settings", &self.handle.shared.settings)
            .field("up", &self.handle.shared.current().is_ok())
            .finish_non_exhaustive()
    }
}

struct Shared {
    url: String,
    settings: AmqpSettings,
    names: Names,
    /// The live session, or `None` while down. `watch` so waiting consumers see a new one.
    session: watch::Sender<Option<Arc<Session>>>,
    /// Poked by anyone who saw an error, so the supervisor checks at once.
    lost: Notify,
    /// Cancelled by `close` or drop: the supervisor stops and everything fails fast.
    closed: CancellationToken,
}

/// A broker-refused operation (missing queue, wrong arguments) is a fault of ours; anything else
/// (connection, channel state, I/O) means the broker cannot be used right now.
fn queue_error(context: &str, e: &lapin::Error) -> QueueError {
    if e.is_amqp_soft_error() {
        QueueError::Other(format!("{context}: {e}"))
    } else {
        QueueError::Unavailable(format!("{context}: {e}"))
    }
}

impl Shared {
    /// The live session, or `Unavailable` at once if there is none.
    fn current(&self) -> Result<Arc<Session>, QueueError> {
        if self.closed.is_cancelled() {
            return Err(QueueError::Unavailable("RabbitMQ queue closed".into()));
        }
        let session = self.session.borrow().clone();
        match session {
            Some(session) if session.healthy() => Ok(session),
            Some(_) => {
                self.lost.notify_one();
                Err(QueueError::Unavailable(
                    "RabbitMQ connection lost; reconnecting".into(),
                ))
            }
            None => Err(QueueError::Unavailable(
                "RabbitMQ not connected; reconnecting".into(),
            )),
        }
    }

    /// Publishes and waits for the broker's confirm, within `PUBLISH_TIMEOUT`.
    async fn publish_confirmed(
        &self,
        exchange: &ShortString,
        routing_key: &ShortString,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), QueueError> {
        let session = self.current()?;
        let confirmation = match tokio::time::timeout(
            PUBLISH_TIMEOUT,
            session.publish(exchange, routing_key, body, properties),
        )
        .await
        {
            Ok(Ok(confirmation)) => confirmation,
            Ok(Err(e)) => {
                self.lost.notify_one();
                return Err(queue_error("publish", &e));
            }
            Err(_) => {
                return Err(QueueError::Unavailable(format!(
                    "no publisher confirm within {PUBLISH_TIMEOUT:?}"
                )));
            }
        };
        match confirmation {
            Confirmation::Ack(None) => Ok(()),
            Confirmation::Ack(Some(returned)) => Err(QueueError::Other(format!(
                "message to {exchange:?} with routing key {routing_key:?} was unroutable: {} {}",
                returned.reply_code, returned.reply_text
            ))),
            Confirmation::Nack(_) => Err(QueueError::Unavailable(
                "the broker refused the message (publisher nack)".into(),
            )),
            Confirmation::NotRequested => Err(QueueError::Other(
                "publisher confirms are not enabled on the channel".into(),
            )),
        }
    }

    fn delivery(self: &Arc<Self>, delivery: LapinDelivery) -> Delivery {
        let headers = delivery.properties.headers().clone().unwrap_or_default();
        let attempt = attempt_of(&headers);
        let message_id = delivery
            .properties
            .message_id()
            .as_ref()
            .map_or_else(|| uuid::Uuid::now_v7().to_string(), |id| id.to_string());
        let payload = QueueMessage::decode(&delivery.data)
            .map_err(|e| format!("unreadable message body: {e}"));
        let settle = Box::new(AmqpSettle {
            shared: Arc::clone(self),
            message_id: message_id.clone(),
            attempt,
            routing_key: delivery.routing_key,
            properties: delivery.properties,
            body: delivery.data,
            acker: delivery.acker,
        });
        Delivery::new(message_id, payload, attempt, settle)
            .with_trace_context(trace_context_of(&headers))
    }
}

impl AmqpQueue {
    /// Connects, declares the topology and opens the publish channels. Fails if the broker cannot
    /// be reached now (a wrong URL should stop the service at start); later outages are
    /// handled in the background.
    pub async fn connect(url: &str, settings: AmqpSettings) -> Result<Self, QueueError> {
        if settings.prefetch == 0 {
            // 0 means "unlimited" to the broker, not "none".
            return Err(QueueError::Other("prefetch must be at least 1".into()));
        }
        let names = Names::new(&settings.name_prefix)?;
        let (session, _) = watch::channel(None);
        let shared = Arc::new(Shared {
            url: url.to_owned(),
            settings,
            names,
            session,
            lost: Notify::new(),
            closed: CancellationToken::new(),
        });
        let first = tokio::time::timeout(CONNECT_TIMEOUT, Session::establish(&shared))
            .await
            .map_err(|_| {
                QueueError::Unavailable(format!(
                    "RabbitMQ connect timed out after {CONNECT_TIMEOUT:?}"
                ))
            })?
            .map_err(|e| queue_error("RabbitMQ connect", &e))?;
        shared.session.send_replace(Some(Arc::new(first)));
        let stop = shared.closed.clone();
        tokio::spawn(supervise(Arc::clone(&shared)));
        Ok(Self {
            handle: Arc::new(Handle {
                shared,
                _stop: stop.drop_guard(),
            }),
        })
    }

    /// Stops reconnecting, waits (bounded) for confirms still in flight, then closes the
    /// connection; unsettled deliveries go back to the queue.
    pub async fn close(&self) {
        let shared = &self.handle.shared;
        shared.closed.cancel();
        let Some(session) = shared.session.send_replace(None) else {
            return;
        };
        for publisher in &session.publishers {
            let _ =
                tokio::time::timeout(PUBLISH_TIMEOUT, publisher.channel.wait_for_confirms()).await;
        }
        if let Err(e) = tokio::time::timeout(
            PUBLISH_TIMEOUT,
            session.connection.close(200, "shutting down".into()),
        )
        .await
        .unwrap_or(Ok(()))
        {
            tracing::debug!(error = %e, "closing the RabbitMQ connection");
        }
    }
}

#[async_trait]
impl Publisher for AmqpQueue {
    async fn publish(&self, message: &QueueMessage) -> Result<(), QueueError> {
        let shared = &self.handle.shared;
        let body =
            serde_json::to_vec(message).map_err(|e| QueueError::Other(format!("encode: {e}")))?;
        let routing_key = ShortString::try_new(message.routing_key())
            .map_err(|e| QueueError::Other(format!("routing key: {e}")))?;
        let mut headers = FieldTable::default();
        headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongInt(1));
        // `traceparent` / `tracestate`: the retry path copies the headers, so retries stay in
        // the trace of the webhook too.
        for (name, value) in current_trace_context() {
            headers.insert(name.into(), long_string(&value));
        }
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let properties = BasicProperties::default()
            .with_delivery_mode(PERSISTENT)
            .with_content_type("application/json".into())
            .with_message_id(uuid::Uuid::now_v7().to_string().into())
            .with_timestamp(timestamp)
            .with_app_id(APP_ID.into())
            .with_headers(headers);
        shared
            .publish_confirmed(&shared.names.exchange, &routing_key, &body, properties)
            .await
    }

    async fn check_ready(&self) -> Result<(), QueueError> {
        self.handle.shared.current().map(|_| ())
    }

    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        let shared = &self.handle.shared;
        let session = shared.current()?;
        let count = async {
            // A channel of its own: a failed passive declare closes the channel it ran on.
            let channel = session.connection.create_channel().await?;
            let passive = QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            };
            let ready = channel
                .queue_declare(shared.names.process.clone(), passive, FieldTable::default())
                .await?
                .message_count();
            let dead = channel
                .queue_declare(shared.names.dead.clone(), passive, FieldTable::default())
                .await?
                .message_count();
            channel.close(200, "OK".into()).await?;
            Ok::<_, lapin::Error>(QueueDepth {
                ready: ready.into(),
                dead: dead.into(),
            })
        };
        tokio::time::timeout(PUBLISH_TIMEOUT, count)
            .await
            .map_err(|_| QueueError::Unavailable("queue depth timed out".into()))?
            .map_err(|e| queue_error("queue depth", &e))
    }
}

#[async_trait]
impl Consumer for AmqpQueue {
    async fn next(&self, cancel: &CancellationToken) -> Result<Option<Delivery>, QueueError> {
        let shared = &self.handle.shared;
        let mut sessions = shared.session.subscribe();
        loop {
            let current = sessions.borrow_and_update().clone();
            let usable = current.filter(|s| !s.broken.load(Ordering::Acquire));
            let outcome = tokio::select! {
                () = cancel.cancelled() => return Ok(None),
                () = shared.closed.cancelled() => {
                    return Err(QueueError::Unavailable("RabbitMQ queue closed".into()));
                }
                // A new session (or none): wait on that one instead.
                changed = sessions.changed() => {
                    if changed.is_err() {
                        return Err(QueueError::Unavailable("RabbitMQ queue closed".into()));
                    }
                    continue;
                }
                outcome = async {
                    match &usable {
                        Some(session) => Some(session.next_delivery(shared).await),
                        // Down: only a session change can help.
                        None => std::future::pending().await,
                    }
                } => outcome,
            };
            match (outcome, usable) {
                (Some(Ok(delivery)), _) => return Ok(Some(shared.delivery(delivery))),
                (Some(Err(e)), Some(session)) => {
                    // The stream ended or failed: have the supervisor rebuild the session, and
                    // wait for it. Deliveries of the old channel come again on the new one.
                    tracing::warn!(error = %e, "RabbitMQ consumer stopped; reconnecting");
                    session.broken.store(true, Ordering::Release);
                    shared.lost.notify_one();
                }
                _ => {}
            }
        }
    }
}
