//! The durable queue on RabbitMQ (lapin 4).
//!
//! Topology (CONTRACT.md, "RabbitMQ topology"), declared idempotently on every (re)connect:
//! - `webex.recordings` (topic) → `webex.recordings.process` (quorum) on `convergedRecordings.#`;
//! - `webex.recordings.dlx` (fanout) → `webex.recordings.dead`;
//! - internal, for delayed retries: `webex.recordings.retry` (headers) → one queue per delay tier
//!   (`webex.recordings.retry.5s` … `.10m`). A tier's messages expire after its TTL and are
//!   dead-lettered back to `webex.recordings` with their original routing key, so into the
//!   process queue again. A headers exchange picks the tier, so the routing key can stay the
//!   message's own (`convergedRecordings.<event>`); published to a tier through the default
//!   exchange, the routing key would have to be the tier's queue name and the expired message
//!   would match no binding on the way back.
//!
//! One connection carries a small pool of publish channels (publisher confirms, many publishes in
//! flight on each) and, once a consumer asks for messages, one consume channel. A supervisor task
//! watches the connection; when it fails, the queue is marked down at once (publishes fail fast
//! with `Unavailable`) and a new connection, topology, channels and consumer are set up with
//! exponential backoff.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use backon::Retryable;
use futures::StreamExt;
use lapin::message::Delivery as LapinDelivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
};
use tokio::sync::{Mutex, Notify, watch};
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::domain::QueueMessage;
use crate::queue::{
    Consumer, Delivery, MAX_DELIVERY_ATTEMPTS, Publisher, QueueDepth, QueueError, Settle,
};
use crate::retry::RetryPolicy;
use crate::telemetry::{TraceContext, current_trace_context};

pub const EXCHANGE: &str = "webex.recordings";
pub const PROCESS_QUEUE: &str = "webex.recordings.process";
pub const DEAD_LETTER_EXCHANGE: &str = "webex.recordings.dlx";
pub const DEAD_QUEUE: &str = "webex.recordings.dead";
pub const RETRY_EXCHANGE: &str = "webex.recordings.retry";
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
/// Broker-side redelivery limit of the process queue. Workers dead-letter ordinary failures
/// themselves at `MAX_DELIVERY_ATTEMPTS`; this only catches a message whose worker dies before
/// settling it, again and again, which would otherwise crash-loop workers forever.
const DELIVERY_LIMIT: u32 = MAX_DELIVERY_ATTEMPTS + 2;
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

#[derive(Debug, Clone)]
struct Names {
    exchange: ShortString,
    process: ShortString,
    dlx: ShortString,
    dead: ShortString,
    retry_exchange: ShortString,
    /// (queue name, tier header value, TTL), shortest first.
    retry: Vec<(ShortString, &'static str, Duration)>,
}

impl Names {
    fn new(prefix: &str) -> Result<Self, QueueError> {
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
    fn retry_tier(&self, delay: Duration) -> &'static str {
        self.retry
            .iter()
            .find(|(_, _, ttl)| *ttl >= delay)
            .or(self.retry.last())
            .map_or(RETRY_TIERS[0].0, |(_, tier, _)| tier)
    }
}

/// One connection with its channels. Replaced as a whole after a failure.
struct Session {
    connection: Connection,
    publishers: Vec<PublishChannel>,
    next_publisher: AtomicUsize,
    /// Started by the first `Consumer::next`, so a process that only publishes never holds
    /// prefetched messages it will not work on.
    consumer: Mutex<Option<(Channel, lapin::Consumer)>>,
    /// Set when the consumer stream ended or failed, which channel states may not show.
    broken: AtomicBool,
    started: Instant,
}

struct PublishChannel {
    channel: Channel,
    /// lapin numbers a publish for confirms and queues its frames in two separate steps; two
    /// publishes racing on one channel could be numbered in one order and sent in the other,
    /// and then resolve each other's confirm. This lock keeps both steps together. It is held
    /// for one synchronous poll only, never across a write or a confirm.
    order: std::sync::Mutex<()>,
}

impl Session {
    async fn establish(shared: &Shared) -> Result<Self, lapin::Error> {
        // lapin's own auto-recovery stays off: we rebuild everything ourselves, so the state we
        // expose (up or down) and the consumer hand-over are under our control.
        let properties =
            ConnectionProperties::default().with_connection_name(LongString::from(APP_ID));
        let connection = Connection::connect(&shared.url, properties).await?;

        let setup = connection.create_channel().await?;
        declare_topology(&setup, &shared.names).await?;
        setup.close(200, "OK".into()).await?;

        let mut publishers = Vec::with_capacity(shared.settings.publish_channels);
        for _ in 0..shared.settings.publish_channels.max(1) {
            let channel = connection.create_channel().await?;
            // `publish` returns only once the broker has taken responsibility for the message.
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await?;
            publishers.push(PublishChannel {
                channel,
                order: std::sync::Mutex::new(()),
            });
        }
        Ok(Self {
            connection,
            publishers,
            next_publisher: AtomicUsize::new(0),
            consumer: Mutex::new(None),
            broken: AtomicBool::new(false),
            started: Instant::now(),
        })
    }

    fn healthy(&self) -> bool {
        !self.broken.load(Ordering::Acquire)
            && self.connection.status().connected()
            && self
                .publishers
                .iter()
                .all(|p| p.channel.status().connected())
    }

    async fn publish(
        &self,
        exchange: &ShortString,
        routing_key: &ShortString,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<Confirmation, lapin::Error> {
        let index = self.next_publisher.fetch_add(1, Ordering::Relaxed) % self.publishers.len();
        let publisher = &self.publishers[index];
        let publish = publisher.channel.basic_publish(
            exchange.clone(),
            routing_key.clone(),
            // mandatory: an unroutable message comes back instead of vanishing.
            BasicPublishOptions {
                mandatory: true,
                immediate: false,
            },
            body,
            properties,
        );
        let mut publish = std::pin::pin!(publish);
        // lapin's first poll numbers the message and queues its frames without yielding; the
        // rest only waits for the socket write. Holding the lock for that one poll keeps the
        // two steps in order while the writes of concurrent publishes share a syscall.
        let first = std::future::poll_fn(|cx| {
            let _order = publisher
                .order
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Poll::Ready(publish.as_mut().poll(cx))
        })
        .await;
        let sent = match first {
            Poll::Ready(sent) => sent,
            Poll::Pending => publish.await,
        };
        sent?.await
    }

    async fn start_consumer(
        &self,
        names: &Names,
        prefetch: u16,
    ) -> Result<(Channel, lapin::Consumer), lapin::Error> {
        let channel = self.connection.create_channel().await?;
        // Per consumer, not global: at most `prefetch` unacked messages, one per worker.
        channel
            .basic_qos(prefetch, BasicQosOptions { global: false })
            .await?;
        // Manual acks (no_ack false): a message is gone only once a worker settled it.
        let consumer = channel
            .basic_consume(
                names.process.clone(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok((channel, consumer))
    }

    /// Waits for the next message on this session, starting the consumer if needed.
    async fn next_delivery(&self, shared: &Shared) -> Result<LapinDelivery, String> {
        let mut guard = self.consumer.lock().await;
        let (_, consumer) = match &mut *guard {
            Some(running) => running,
            empty => empty.insert(
                self.start_consumer(&shared.names, shared.settings.prefetch)
                    .await
                    .map_err(|e| format!("starting the consumer: {e}"))?,
            ),
        };
        match consumer.next().await {
            Some(Ok(delivery)) => Ok(delivery),
            Some(Err(e)) => Err(e.to_string()),
            None => Err("the broker canceled the consumer".into()),
        }
    }
}

async fn declare_topology(channel: &Channel, names: &Names) -> Result<(), lapin::Error> {
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

fn long_string(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
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

/// `x-attempt` (ours, survives retries) or the quorum queue's redelivery count, whichever is
/// higher: a message redelivered after a worker died counts as a new attempt too.
fn attempt_of(headers: &FieldTable) -> u32 {
    let header = |name: &str| headers.inner().get(name).and_then(as_u32);
    let ours = header(ATTEMPT_HEADER).unwrap_or(1).max(1);
    let redelivered = header(DELIVERY_COUNT_HEADER).map_or(0, |count| count.saturating_add(1));
    ours.max(redelivered)
}

/// The W3C trace context headers of a message, as the publisher set them.
fn trace_context_of(headers: &FieldTable) -> TraceContext {
    ["traceparent", "tracestate"]
        .into_iter()
        .filter_map(|name| match headers.inner().get(name)? {
            AMQPValue::LongString(value) => Some((
                name.to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )),
            _ => None,
        })
        .collect()
}

fn as_u32(value: &AMQPValue) -> Option<u32> {
    let wide: i128 = match value {
        AMQPValue::ShortShortInt(v) => (*v).into(),
        AMQPValue::ShortShortUInt(v) => (*v).into(),
        AMQPValue::ShortInt(v) => (*v).into(),
        AMQPValue::ShortUInt(v) => (*v).into(),
        AMQPValue::LongInt(v) => (*v).into(),
        AMQPValue::LongUInt(v) => (*v).into(),
        AMQPValue::LongLongInt(v) => (*v).into(),
        AMQPValue::Timestamp(v) => (*v).into(),
        _ => return None,
    };
    u32::try_from(wide.max(0)).ok()
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Watches the session and rebuilds it after a failure, until `closed`.
async fn supervise(shared: Arc<Shared>) {
    // Sessions in a row that died before `STABLE_AFTER`.
    let mut short_sessions = 0u32;
    loop {
        // Up: wait for a failure report or notice one on the next poll.
        loop {
            tokio::select! {
                () = shared.closed.cancelled() => return,
                () = shared.lost.notified() => {}
                () = tokio::time::sleep(HEALTH_POLL) => {}
            }
            let (healthy, started) = match &*shared.session.borrow() {
                Some(session) => (session.healthy(), Some(session.started)),
                None => (false, None),
            };
            if healthy {
                continue;
            }
            short_sessions = if started.is_some_and(|s| s.elapsed() >= STABLE_AFTER) {
                0
            } else {
                short_sessions.saturating_add(1)
            };
            break;
        }

        // Down: from now on publishes fail fast; the old connection is closed in passing so
        // the broker requeues what it had delivered on it.
        if let Some(old) = shared.session.send_replace(None) {
            tracing::warn!("RabbitMQ connection lost; reconnecting");
            tokio::spawn(async move {
                let _ = tokio::time::timeout(
                    Duration::from_secs(1),
                    old.connection.close(200, "reconnecting".into()),
                )
                .await;
            });
        }

        let policy = RetryPolicy {
            base_delay: RECONNECT.delay(short_sessions),
            ..RECONNECT
        };
        let establish = || async {
            match tokio::time::timeout(CONNECT_TIMEOUT, Session::establish(&shared)).await {
                Ok(Ok(session)) => Ok(session),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("timed out".to_string()),
            }
        };
        let reconnected = establish
            .retry(policy.backoff())
            .sleep(tokio::time::sleep)
            .notify(|error, retry_in| {
                tracing::warn!(%error, ?retry_in, "RabbitMQ reconnect failed");
            });
        let session = tokio::select! {
            () = shared.closed.cancelled() => return,
            session = reconnected => session,
        };
        match session {
            Ok(session) => {
                shared.session.send_replace(Some(Arc::new(session)));
                tracing::info!("RabbitMQ connection re-established");
            }
            // Unreachable with an unlimited policy; the next poll tries again.
            Err(error) => tracing::warn!(%error, "RabbitMQ reconnect gave up"),
        }
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

struct AmqpSettle {
    shared: Arc<Shared>,
    message_id: String,
    attempt: u32,
    routing_key: ShortString,
    properties: BasicProperties,
    body: Vec<u8>,
    acker: lapin::Acker,
}

/// Settling over a channel that has since closed cannot work; the broker redelivers the message.
fn settled(result: Result<bool, lapin::Error>, what: &str) -> Result<(), QueueError> {
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

    #[test]
    fn attempt_is_the_higher_of_our_header_and_the_redelivery_count() {
        let mut headers = FieldTable::default();
        assert_eq!(attempt_of(&headers), 1);
        headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongInt(3));
        assert_eq!(attempt_of(&headers), 3);
        headers.insert(DELIVERY_COUNT_HEADER.into(), AMQPValue::LongLongInt(4));
        assert_eq!(attempt_of(&headers), 5);
        headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongString("x".into()));
        assert_eq!(attempt_of(&headers), 5);
    }

    #[test]
    fn reasons_are_cut_on_a_character_boundary() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
