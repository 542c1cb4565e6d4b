//! The worker: takes queue deliveries, processes each recording step by step, stores the
//! result, then settles the delivery (ack, retry later, or dead-letter).
//!
//! Every step is a [`PipelineStep`] in a file of its own, holding only the clients and settings
//! it needs; `stages.rs` lists them in order as [`Stage`]s (name, when attempted, work)
//! and [`run_step`] runs each one. A step
//! either succeeds, fails for good (recorded in `processing_errors`, processing goes on unless
//! the step is essential) or fails transiently (the recording is released and the message
//! retried later with a growing delay).

mod analysis;
mod audio;
mod deletion;
mod details;
mod free_text;
mod metadata;
mod notes;
mod observe;
mod stages;
mod step;
mod trackers;
mod transcript;

use std::sync::Arc;
use std::time::Duration;

use backon::Retryable;
use chrono::Utc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::ai::{ChatClient, SttClient};
use crate::domain::{QueueMessage, Recording, RecordingEvent, RecordingId, Step};
use crate::queue::{Consumer, Delivery, MAX_DELIVERY_ATTEMPTS};
use crate::retry::RetryPolicy;
use crate::storage::Storage;
use crate::store::{Claim, Store};
use crate::webex::WebexClient;
use call_analysis::redact::RedactKinds;

use stages::{Attempt, Stage};
pub use step::{PipelineStep, StepError, Work};

/// Timing of the worker.
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    /// How often a worker tells the database it is still on a recording.
    pub heartbeat: Duration,
    /// A recording whose heartbeat is older than this may be taken over by another worker.
    pub stale_after: Duration,
    /// Re-queue delays of a transiently failed recording, and the attempts before it is
    /// dead-lettered (`Retry-After` does not apply: Webex waits happen inside the client).
    pub retry: RetryPolicy,
    /// Tries at storing a finished record, in place: once they are used up the message goes back
    /// to the queue, and its next run does the whole call again, AI requests included.
    pub save_retry: RetryPolicy,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(30),
            stale_after: Duration::from_secs(120),
            retry: RetryPolicy {
                max_attempts: MAX_DELIVERY_ATTEMPTS,
                base_delay: Duration::from_secs(30),
                max_delay: Duration::from_secs(30 * 60),
                max_retry_after: Duration::ZERO,
                // The queue's delay tiers round delays anyway.
                jitter: false,
            },
            // Each try on SQLite already waits out the 10 s busy timeout.
            save_retry: RetryPolicy {
                max_attempts: 3,
                base_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(4),
                max_retry_after: Duration::ZERO,
                jitter: true,
            },
        }
    }
}

/// Everything the pipeline needs, handed over once.
#[derive(Debug, Clone)]
pub struct PipelineDeps {
    pub store: Store,
    pub webex: WebexClient,
    /// Where audio and transcript files go (`DATA_DIR` or S3).
    pub storage: Storage,
    /// LLM analysis and translation; `None`: the local analyser only.
    pub chat: Option<ChatClient>,
    /// Speech-to-text for recordings without a Webex transcript.
    pub stt: Option<SttClient>,
    pub summary_language: String,
    pub translate_to: Option<String>,
    /// `REDACT`: what is replaced in transcripts and in what the LLM returns.
    pub redact: RedactKinds,
    pub settings: PipelineSettings,
}

/// Processes recordings; shared by all worker tasks.
pub struct Pipeline {
    store: Store,
    /// To remove what a run stored for a recording deleted meanwhile.
    storage: Storage,
    settings: PipelineSettings,
    /// In the order they run.
    stages: Vec<Stage>,
    /// Whether results write alert events to the outbox.
    alerts: bool,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("settings", &self.settings)
            .field(
                "steps",
                &self.stages.iter().map(|s| s.step).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// What one processing run of a recording leads to.
enum Run {
    /// Finished (completed, partial or failed for good): store it and ack.
    Finished(Box<Recording>),
    /// A step failed transiently: retry later (or give up at the last attempt).
    Transient {
        work: Box<Work>,
        step: Step,
        reason: String,
    },
}

/// What became of one step.
enum StepOutcome {
    Succeeded,
    Failed,
    Transient(String),
}

/// Why a run ended before its last step.
enum Stop {
    /// An essential step failed for good.
    Fatal,
    /// A step failed transiently.
    Transient(Step, String),
}

/// Runs one step and records its outcome on the recording: every step passes through here.
async fn run_step(stage: &Stage, work: &mut Work) -> StepOutcome {
    match observe::step(stage.step, stage.work.run(work)).await {
        Ok(()) => {
            work.record(stage.step, Ok(()));
            StepOutcome::Succeeded
        }
        Err(StepError::Failed(reason)) => {
            work.record(stage.step, Err(reason));
            StepOutcome::Failed
        }
        Err(StepError::Transient(reason)) => StepOutcome::Transient(reason),
    }
}

/// How a delivery is settled.
#[derive(Debug)]
enum Settlement {
    Ack,
    Retry { delay: Duration, reason: String },
    DeadLetter(String),
}

/// Stops the heartbeat when processing ends, also when the task is aborted mid-way.
struct HeartbeatGuard(tokio::task::JoinHandle<()>);

impl Drop for HeartbeatGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Pipeline {
    pub fn new(deps: PipelineDeps) -> Self {
        let stages = stages::in_order(&deps);
        Self {
            store: deps.store,
            storage: deps.storage,
            settings: deps.settings,
            stages,
            alerts: false,
        }
    }

    /// With `true`, each stored result writes its alerts to the outbox (`ALERT_WEBHOOK_URL`).
    pub fn with_alerts(mut self, on: bool) -> Self {
        self.alerts = on;
        self
    }

    /// Stores a finished recording with its tracker matches and, when alerts are on, its
    /// events, all in one transaction, tried again as `save_retry` allows.
    /// `false`: the recording was deleted or purged while it was processed; nothing is stored
    /// and the files this run wrote are removed (the deletion could not know of them).
    async fn store_result(&self, rec: &Recording) -> Result<bool, crate::store::StoreError> {
        let events = if self.alerts {
            crate::alerts::events_for(rec, Utc::now())
        } else {
            Vec::new()
        };
        let stored = (|| self.store.save_recording(rec, &events))
            .retry(self.settings.save_retry.backoff())
            .notify(|error, wait| {
                tracing::warn!(%error, ?wait, "could not store the result; trying again");
            })
            .await?;
        if !stored {
            self.remove_run_files(rec).await;
        }
        Ok(stored)
    }

    pub fn settings(&self) -> &PipelineSettings {
        &self.settings
    }

    /// Processes one delivery and settles it. Never fails: settlement errors are logged (the
    /// queue redelivers an unsettled message).
    pub async fn handle(&self, delivery: Delivery) {
        let span = observe::run_span(&delivery);
        self.settle(delivery).instrument(span).await;
    }

    async fn settle(&self, delivery: Delivery) {
        let settlement = self.decide(&delivery).await;
        let message_id = delivery.message_id.clone();
        tracing::debug!(?settlement, "settling delivery");
        let settled = match settlement {
            Settlement::Ack => delivery.ack().await,
            Settlement::Retry { delay, reason } => delivery.retry_after(delay, &reason).await,
            Settlement::DeadLetter(reason) => delivery.dead_letter(&reason).await,
        };
        if let Err(e) = settled {
            tracing::warn!(%message_id, error = %e, "could not settle delivery; it will come again");
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.settings.retry.delay(attempt)
    }

    /// Whether `attempt` was the last one the retry policy allows.
    fn last_attempt(&self, attempt: u32) -> bool {
        attempt >= self.settings.retry.max_attempts
    }

    /// Retry later, or dead-letter once the attempts are used up.
    fn retry_or_give_up(&self, attempt: u32, reason: String) -> Settlement {
        if self.last_attempt(attempt) {
            Settlement::DeadLetter(format!("gave up after {attempt} attempts: {reason}"))
        } else {
            Settlement::Retry {
                delay: self.backoff(attempt),
                reason,
            }
        }
    }

    async fn decide(&self, delivery: &Delivery) -> Settlement {
        let message = match &delivery.payload {
            Ok(m) => m,
            // Retrying cannot make an unreadable body readable.
            Err(e) => return Settlement::DeadLetter(format!("unreadable message: {e}")),
        };
        let attempt = delivery.attempt.max(1);
        match message.event {
            RecordingEvent::Deleted => self.deleted_at_webex(&message.recording_id, attempt).await,
            RecordingEvent::Created => self.created(message, attempt).await,
        }
    }

    async fn created(&self, message: &QueueMessage, attempt: u32) -> Settlement {
        let store = &self.store;
        let id = &message.recording_id;
        let now = Utc::now();
        let stale_before = now
            - chrono::Duration::from_std(self.settings.stale_after)
                .unwrap_or(chrono::Duration::MAX);
        let claim = match store
            .claim_recording(id, message.forces_work(), now, stale_before)
            .await
        {
            Ok(c) => c,
            Err(e) => return self.retry_or_give_up(attempt, format!("database: {e}")),
        };
        let rec = match claim {
            Claim::AlreadyDone | Claim::Deleted => return Settlement::Ack,
            Claim::InProgress if self.last_attempt(attempt) => {
                // The holder settles its own message; this copy is redundant by now.
                tracing::info!("still in progress elsewhere; dropping duplicate");
                return Settlement::Ack;
            }
            Claim::InProgress => {
                return Settlement::Retry {
                    delay: self.backoff(attempt),
                    reason: "another worker is processing this recording".into(),
                };
            }
            Claim::Claimed(rec) => *rec,
        };
        observe::started();

        // Kept beating until the result is stored: storing may take a few tries.
        let _heartbeat = self.start_heartbeat(id.clone());
        let run = self.run_steps(rec, attempt, !message.forces_work()).await;
        match run {
            Run::Finished(rec) => match self.store_result(&rec).await {
                Ok(stored) => {
                    if stored {
                        observe::finished(&rec);
                    }
                    Settlement::Ack
                }
                Err(e) => {
                    self.release(&rec).await;
                    self.retry_or_give_up(attempt, format!("database: {e}"))
                }
            },
            Run::Transient { work, step, reason } => {
                if self.last_attempt(attempt) {
                    let reason = format!("gave up after {attempt} attempts: {reason}");
                    let mut work = *work;
                    work.record(step, Err(reason.clone()));
                    let rec = work.finish(true);
                    observe::finished(&rec);
                    if let Err(e) = self.store_result(&rec).await {
                        tracing::warn!(error = %e, "could not record the failure");
                        self.release(&rec).await;
                    }
                    Settlement::DeadLetter(reason)
                } else {
                    tracing::info!(step = step.as_str(), %reason, "transient failure; retrying later");
                    // Back to pending so nobody waits for a heartbeat that no longer comes.
                    self.release(&work.rec).await;
                    Settlement::Retry {
                        delay: self.backoff(attempt),
                        reason,
                    }
                }
            }
        }
    }

    fn start_heartbeat(&self, id: RecordingId) -> HeartbeatGuard {
        let store = self.store.clone();
        let period = self.settings.heartbeat.max(Duration::from_millis(10));
        HeartbeatGuard(tokio::spawn(
            async move {
                loop {
                    tokio::time::sleep(period).await;
                    if let Err(e) = store.heartbeat_recording(&id, Utc::now()).await {
                        tracing::warn!(error = %e, "heartbeat failed");
                    }
                }
            }
            // The run's span: its lines carry the recording id like the rest of the run.
            .in_current_span(),
        ))
    }

    async fn run_steps(&self, rec: Recording, attempt: u32, reuse_audio: bool) -> Run {
        let mut work = Work::new(rec, attempt, reuse_audio);
        // Once an essential step failed or one failed transiently, the remaining steps are only
        // counted (for the quality score), not run.
        let mut stop: Option<Stop> = None;
        for stage in &self.stages {
            if !stage.work.applies(&work) {
                continue;
            }
            work.applicable += 1;
            let ready = stage.attempt != Attempt::WithTranscript || work.has_transcript();
            if stop.is_some() || !ready {
                continue;
            }
            stop = match run_step(stage, &mut work).await {
                StepOutcome::Succeeded => None,
                StepOutcome::Failed if stage.attempt == Attempt::Essential => Some(Stop::Fatal),
                StepOutcome::Failed => None,
                StepOutcome::Transient(reason) => Some(Stop::Transient(stage.step, reason)),
            };
        }
        match stop {
            None => Run::Finished(Box::new(work.finish(false))),
            Some(Stop::Fatal) => Run::Finished(Box::new(work.finish(true))),
            Some(Stop::Transient(step, reason)) => Run::Transient {
                work: Box::new(work),
                step,
                reason,
            },
        }
    }
}

/// Takes deliveries and processes up to `concurrency` at once. On `cancel` it stops taking new
/// ones and waits for those in flight (each is acked only after its result is stored).
pub async fn run_consumer(
    consumer: Arc<dyn Consumer>,
    pipeline: Arc<Pipeline>,
    concurrency: usize,
    cancel: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = JoinSet::new();
    loop {
        while let Some(done) = tasks.try_join_next() {
            log_task_end(done);
        }
        // Take a delivery only with a free slot: waiting deliveries stay with the queue
        // (and with other workers).
        let permit = tokio::select! {
            () = cancel.cancelled() => break,
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let delivery = match consumer.next(&cancel).await {
            Ok(Some(d)) => d,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %e, "queue unavailable; trying again shortly");
                tokio::select! {
                    () = cancel.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        let pipeline = Arc::clone(&pipeline);
        tasks.spawn(async move {
            let _slot = permit;
            pipeline.handle(delivery).await;
        });
    }
    tracing::info!(
        in_flight = tasks.len(),
        "consumer stopping; draining in-flight work"
    );
    while let Some(done) = tasks.join_next().await {
        log_task_end(done);
    }
}

fn log_task_end(done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done
        && e.is_panic()
    {
        // The delivery was dropped unsettled, so the queue brings it back.
        tracing::error!(error = %e, "a worker task panicked");
    }
}
