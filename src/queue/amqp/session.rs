//! One connection with its channels and consumer, and the supervisor that rebuilds it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use backon::Retryable;
use futures::StreamExt;
use lapin::message::Delivery as LapinDelivery;
use lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
};
use lapin::types::{FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};
use tokio::sync::Mutex;

use super::topology::{Names, declare_topology, spawn_retire_classic_tiers};
use super::{APP_ID, CONNECT_TIMEOUT, HEALTH_POLL, RECONNECT, STABLE_AFTER, Shared};
use crate::retry::RetryPolicy;

/// One connection with its channels. Replaced as a whole after a failure.
pub(super) struct Session {
    pub(super) connection: Connection,
    pub(super) publishers: Vec<PublishChannel>,
    pub(super) next_publisher: AtomicUsize,
    /// Started by the first `Consumer::next`, so a process that only publishes never holds
    /// prefetched messages it will not work on.
    pub(super) consumer: Mutex<Option<(Channel, lapin::Consumer)>>,
    /// Set when the consumer stream ended or failed, which channel states may not show.
    pub(super) broken: AtomicBool,
    pub(super) started: Instant,
}

pub(super) struct PublishChannel {
    pub(super) channel: Channel,
    /// lapin numbers a publish for confirms and queues its frames in two separate steps; two
    /// publishes racing on one channel could be numbered in one order and sent in the other,
    /// and then resolve each other's confirm. This lock keeps both steps together. It is held
    /// for one synchronous poll only, never across a write or a confirm.
    pub(super) order: std::sync::Mutex<()>,
}

impl Session {
    pub(super) async fn establish(shared: &Shared) -> Result<Self, lapin::Error> {
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
        spawn_retire_classic_tiers(shared.url.clone(), shared.names.clone());
        Ok(Self {
            connection,
            publishers,
            next_publisher: AtomicUsize::new(0),
            consumer: Mutex::new(None),
            broken: AtomicBool::new(false),
            started: Instant::now(),
        })
    }

    pub(super) fn healthy(&self) -> bool {
        !self.broken.load(Ordering::Acquire)
            && self.connection.status().connected()
            && self
                .publishers
                .iter()
                .all(|p| p.channel.status().connected())
    }

    pub(super) async fn publish(
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
    pub(super) async fn next_delivery(&self, shared: &Shared) -> Result<LapinDelivery, String> {
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

/// Watches the session and rebuilds it after a failure, until `closed`.
pub(super) async fn supervise(shared: Arc<Shared>) {
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
