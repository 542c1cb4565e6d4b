//! The durable queue between the receiver and the workers: RabbitMQ or a table in the database,
//! behind one interface.

use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::domain::QueueMessage;
use crate::telemetry::TraceContext;

pub mod amqp;
pub mod embedded;

/// Deliveries of one message beyond which it is dead-lettered instead of retried.
pub const MAX_DELIVERY_ATTEMPTS: u32 = 8;

/// Deliveries beyond which a message is dead-lettered by the queue itself. Workers settle
/// ordinary failures at `MAX_DELIVERY_ATTEMPTS`; this catches a message whose worker dies
/// (panic, out of memory, `kill -9`) before settling it, again and again, which would otherwise
/// crash-loop workers forever and pay for the call's AI requests each time.
pub const UNSETTLED_DELIVERY_LIMIT: u32 = MAX_DELIVERY_ATTEMPTS + 2;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The broker or database cannot take or give messages now; callers answer 503 / retry later.
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    #[error("queue error: {0}")]
    Other(String),
}

/// Sends messages durably: `publish` returns only once the message survives a crash
/// (a RabbitMQ publisher confirm, or the embedded queue's commit).
#[async_trait]
pub trait Publisher: Send + Sync + 'static {
    async fn publish(&self, message: &QueueMessage) -> Result<(), QueueError>;
    /// For `/readyz`: can we publish right now?
    async fn check_ready(&self) -> Result<(), QueueError>;
    /// Messages waiting and dead-lettered, for stats and metrics.
    async fn depth(&self) -> Result<QueueDepth, QueueError>;
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub ready: u64,
    pub dead: u64,
}

/// Takes messages for processing, one `Delivery` at a time.
#[async_trait]
pub trait Consumer: Send + Sync + 'static {
    /// Waits for the next delivery; `Ok(None)` once `cancel` fires.
    async fn next(&self, cancel: &CancellationToken) -> Result<Option<Delivery>, QueueError>;
}

/// One message handed to a worker. Exactly one of `ack`, `retry_after` or `dead_letter`
/// settles it; dropping it unsettled leaves it to be redelivered (lease expiry / channel close).
pub struct Delivery {
    pub message_id: String,
    /// The body, or why it could not be read (such a message is dead-lettered).
    pub payload: Result<QueueMessage, String>,
    /// 1 for the first delivery.
    pub attempt: u32,
    /// The W3C trace context the publisher sent along (empty when it sent none).
    pub trace_context: TraceContext,
    settle: Box<dyn Settle>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("message_id", &self.message_id)
            .field("payload", &self.payload)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    pub fn new(
        message_id: String,
        payload: Result<QueueMessage, String>,
        attempt: u32,
        settle: Box<dyn Settle>,
    ) -> Self {
        Self {
            message_id,
            payload,
            attempt,
            trace_context: TraceContext::new(),
            settle,
        }
    }

    /// The trace this delivery's processing continues.
    #[must_use]
    pub fn with_trace_context(mut self, trace_context: TraceContext) -> Self {
        self.trace_context = trace_context;
        self
    }

    /// Done: remove the message for good.
    pub async fn ack(self) -> Result<(), QueueError> {
        self.settle.ack().await
    }

    /// Deliver again after `delay`, without holding a worker meanwhile.
    pub async fn retry_after(self, delay: Duration, reason: &str) -> Result<(), QueueError> {
        self.settle.retry_after(delay, reason).await
    }

    /// Give up: move to the dead-letter queue.
    pub async fn dead_letter(self, reason: &str) -> Result<(), QueueError> {
        self.settle.dead_letter(reason).await
    }
}

/// How a queue implementation settles one delivery.
#[async_trait]
pub trait Settle: Send + Sync {
    async fn ack(self: Box<Self>) -> Result<(), QueueError>;
    async fn retry_after(self: Box<Self>, delay: Duration, reason: &str) -> Result<(), QueueError>;
    async fn dead_letter(self: Box<Self>, reason: &str) -> Result<(), QueueError>;
}
