//! The worker: takes queue deliveries, processes each recording step by step, stores the
//! result, then settles the delivery (ack, retry later, or dead-letter).
//!
//! Each step lives in a file of its own. A step either succeeds, fails for good (recorded in
//! `processing_errors`, processing goes on where that makes sense) or fails transiently (the
//! recording is released and the message retried later with a growing delay).

mod analysis;
mod audio;
mod details;
mod metadata;
mod observe;
mod transcript;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::ai::{ChatClient, SttClient};
use crate::domain::{ProcessingStatus, QueueMessage, Recording, RecordingEvent, RecordingId, Step};
use crate::queue::{Consumer, Delivery, MAX_DELIVERY_ATTEMPTS};
use crate::store::{Claim, Store};
use crate::webex::{RecordingDetails, WebexClient, WebexError};

pub use analysis::{AnalysisStep, analysis_steps};

/// Timing of the worker.
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    /// How often a worker tells the database it is still on a recording.
    pub heartbeat: Duration,
    /// A recording whose heartbeat is older than this may be taken over by another worker.
    pub stale_after: Duration,
    /// Delay before the first retry of a transiently failed recording; doubles per attempt.
    pub retry_base: Duration,
    /// Upper bound of one retry delay.
    pub retry_max: Duration,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(30),
            stale_after: Duration::from_secs(120),
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(30 * 60),
        }
    }
}

/// Everything the pipeline needs, handed over once.
#[derive(Debug, Clone)]
pub struct PipelineDeps {
    pub store: Store,
    pub webex: WebexClient,
    /// `DATA_DIR`: audio and transcript files go below it.
    pub data_dir: PathBuf,
    /// LLM analysis and translation; `None`: the local analyser only.
    pub chat: Option<ChatClient>,
    /// Speech-to-text for recordings without a Webex transcript.
    pub stt: Option<SttClient>,
    pub summary_language: String,
    pub translate_to: Option<String>,
    pub settings: PipelineSettings,
}

/// Processes recordings; shared by all worker tasks.
pub struct Pipeline {
    deps: PipelineDeps,
    /// Person id → display name (`None`: Webex does not know it). Calls often involve the same
    /// people, so this saves People API calls; errors are not cached.
    names: Mutex<HashMap<String, Option<String>>>,
    analysis: Vec<Box<dyn AnalysisStep>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("deps", &self.deps)
            .finish_non_exhaustive()
    }
}

/// How a step went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StepError {
    /// Trying again later may work: the whole recording is retried.
    Transient(String),
    /// This step will not work for this recording; recorded in `processing_errors`.
    Failed(String),
}

impl StepError {
    /// Webex errors that a later attempt may get past: rate limits, server errors, network
    /// trouble, and downloads that came out short.
    fn from_webex(context: &str, e: &WebexError) -> Self {
        let transient =
            e.is_transient() || matches!(e, WebexError::Http(_) | WebexError::SizeMismatch { .. });
        let reason = format!("{context}: {e}");
        if transient {
            Self::Transient(reason)
        } else {
            Self::Failed(reason)
        }
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

/// How a delivery is settled.
#[derive(Debug)]
enum Settlement {
    Ack,
    Retry { delay: Duration, reason: String },
    DeadLetter(String),
}

/// The recording under work plus what steps hand to later steps.
pub(crate) struct Work {
    pub rec: Recording,
    /// Delivery attempt, 1 for the first.
    pub attempt: u32,
    /// Fresh details with the short-lived download links (never stored).
    pub details: Option<RecordingDetails>,
    pub audio_path: Option<PathBuf>,
    /// Whether an audio file already in place may stand for the download (not on reprocess).
    pub reuse_audio: bool,
}

impl Work {
    fn new(mut rec: Recording, attempt: u32, reuse_audio: bool) -> Self {
        // The record shows this run's steps and errors only (quality and status follow them).
        rec.processing_steps_completed.clear();
        rec.processing_errors.clear();
        Self {
            rec,
            attempt,
            details: None,
            audio_path: None,
            reuse_audio,
        }
    }

    fn record(&mut self, step: Step, result: Result<(), String>) {
        match result {
            Ok(()) => {
                self.rec
                    .processing_steps_completed
                    .push(step.as_str().to_string());
            }
            Err(reason) => {
                tracing::warn!(step = step.as_str(), %reason, "step failed");
                self.rec
                    .processing_errors
                    .insert(step.as_str().to_string(), reason);
            }
        }
    }

    /// Status and quality from the steps attempted; `fatal`: details or audio could not be had.
    fn finish(mut self, fatal: bool) -> Recording {
        let now = Utc::now();
        // Each attempted step is either completed or has an error (one entry per step).
        let succeeded = self.rec.processing_steps_completed.len();
        let attempted = succeeded + self.rec.processing_errors.len();
        self.rec.quality_score = (attempted > 0).then(|| succeeded as f64 / attempted as f64);
        self.rec.processing_status = if fatal {
            ProcessingStatus::Failed
        } else if succeeded == attempted {
            ProcessingStatus::Completed
        } else {
            ProcessingStatus::Partial
        };
        self.rec.updated_at = now;
        self.rec
    }

    /// `YYYY/MM/DD` of the recording (when it was made, else when we first saw it).
    pub fn date_dirs(&self) -> PathBuf {
        let date: DateTime<Utc> = self.rec.timestamp.unwrap_or(self.rec.created_at);
        PathBuf::from(format!("{:04}", date.year()))
            .join(format!("{:02}", date.month()))
            .join(format!("{:02}", date.day()))
    }
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
        Self {
            deps,
            names: Mutex::new(HashMap::new()),
            analysis: analysis_steps(),
        }
    }

    pub fn settings(&self) -> &PipelineSettings {
        &self.deps.settings
    }

    pub(crate) fn data_dir(&self) -> &Path {
        &self.deps.data_dir
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
        tracing::debug!(%message_id, attempt = delivery.attempt, ?settlement, "settling delivery");
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
        backoff(&self.deps.settings, attempt)
    }

    /// Retry later, or dead-letter once the attempts are used up.
    fn retry_or_give_up(&self, attempt: u32, reason: String) -> Settlement {
        if attempt >= MAX_DELIVERY_ATTEMPTS {
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
            RecordingEvent::Deleted => {
                match self
                    .deps
                    .store
                    .mark_recording_deleted(&message.recording_id, Utc::now())
                    .await
                {
                    Ok(()) => Settlement::Ack,
                    Err(e) => self.retry_or_give_up(attempt, format!("database: {e}")),
                }
            }
            RecordingEvent::Created => self.created(message, attempt).await,
        }
    }

    async fn created(&self, message: &QueueMessage, attempt: u32) -> Settlement {
        let store = &self.deps.store;
        let id = &message.recording_id;
        let now = Utc::now();
        let stale_before = now
            - chrono::Duration::from_std(self.deps.settings.stale_after)
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
            Claim::InProgress if attempt >= MAX_DELIVERY_ATTEMPTS => {
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
        observe::started(attempt);

        let heartbeat = self.start_heartbeat(id.clone());
        let run = self.run_steps(rec, attempt, !message.forces_work()).await;
        drop(heartbeat);

        match run {
            Run::Finished(rec) => match store.upsert_recording(&rec).await {
                Ok(()) => {
                    observe::finished(&rec);
                    Settlement::Ack
                }
                Err(e) => {
                    self.release(id).await;
                    self.retry_or_give_up(attempt, format!("database: {e}"))
                }
            },
            Run::Transient { work, step, reason } => {
                if attempt >= MAX_DELIVERY_ATTEMPTS {
                    let reason = format!("gave up after {attempt} attempts: {reason}");
                    let mut work = *work;
                    work.record(step, Err(reason.clone()));
                    let rec = work.finish(true);
                    observe::finished(&rec);
                    if let Err(e) = store.upsert_recording(&rec).await {
                        tracing::warn!(error = %e, "could not record the failure");
                        self.release(id).await;
                    }
                    Settlement::DeadLetter(reason)
                } else {
                    tracing::info!(step = step.as_str(), %reason, "transient failure; retrying later");
                    // Back to pending so nobody waits for a heartbeat that no longer comes.
                    self.release(id).await;
                    Settlement::Retry {
                        delay: self.backoff(attempt),
                        reason,
                    }
                }
            }
        }
    }

    async fn release(&self, id: &RecordingId) {
        if let Err(e) = self
            .deps
            .store
            .release_recording(id, ProcessingStatus::Pending, Utc::now())
            .await
        {
            // The heartbeat goes stale and another worker takes over after `stale_after`.
            tracing::warn!(error = %e, "could not release recording");
        }
    }

    fn start_heartbeat(&self, id: RecordingId) -> HeartbeatGuard {
        let store = self.deps.store.clone();
        let period = self.deps.settings.heartbeat.max(Duration::from_millis(10));
        HeartbeatGuard(tokio::spawn(
            async move {
                loop {
                    tokio::time::sleep(period).await;
                    if let Err(e) = store.heartbeat_recording(&id, Utc::now()).await {
                        tracing::warn!(error = %e, "heartbeat failed");
                    }
                }
            }
            .in_current_span(),
        ))
    }

    async fn run_steps(&self, rec: Recording, attempt: u32, reuse_audio: bool) -> Run {
        let mut w = Work::new(rec, attempt, reuse_audio);
        for step in [Step::Details, Step::Metadata, Step::Audio, Step::Transcript] {
            let result = observe::step(step, async {
                match step {
                    Step::Details => details::run(self, &mut w).await,
                    Step::Metadata => metadata::run(self, &mut w).await,
                    Step::Audio => audio::run(self, &mut w).await,
                    _ => transcript::run(self, &mut w).await,
                }
            })
            .await;
            match result {
                Ok(()) => w.record(step, Ok(())),
                Err(StepError::Transient(reason)) => {
                    return Run::Transient {
                        work: Box::new(w),
                        step,
                        reason,
                    };
                }
                Err(StepError::Failed(reason)) => {
                    w.record(step, Err(reason));
                    // Without details or audio there is no recording worth keeping.
                    if matches!(step, Step::Details | Step::Audio) {
                        return Run::Finished(Box::new(w.finish(true)));
                    }
                }
            }
        }

        // Analysis needs words; without a transcript its steps are not attempted.
        if w.rec
            .transcript_cues
            .as_ref()
            .is_some_and(|t| !t.is_empty())
        {
            for step in &self.analysis {
                if step.applies(self, &w.rec) {
                    let result = observe::step(step.step(), step.run(self, &mut w.rec)).await;
                    w.record(step.step(), result);
                }
            }
        }
        Run::Finished(Box::new(w.finish(false)))
    }

    /// Display name of a Webex person, cached; `None` when unknown or the lookup failed.
    pub(crate) async fn person_name(&self, person_id: &str) -> Option<String> {
        if let Ok(cache) = self.names.lock()
            && let Some(hit) = cache.get(person_id)
        {
            return hit.clone();
        }
        match self.deps.webex.person(person_id).await {
            Ok(person) => {
                let name = person.and_then(|p| {
                    p.display_name.filter(|n| !n.trim().is_empty()).or_else(|| {
                        let full = [p.first_name, p.last_name]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(" ");
                        (!full.trim().is_empty()).then_some(full)
                    })
                });
                if let Ok(mut cache) = self.names.lock() {
                    cache.insert(person_id.to_string(), name.clone());
                }
                name
            }
            Err(e) => {
                tracing::debug!(person_id, error = %e, "could not resolve a name");
                None
            }
        }
    }
}

/// `retry_base * 2^(attempt-1)`, capped at `retry_max`.
fn backoff(s: &PipelineSettings, attempt: u32) -> Duration {
    let exp = attempt.saturating_sub(1).min(20);
    s.retry_base.saturating_mul(1u32 << exp).min(s.retry_max)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_per_attempt_up_to_the_cap() {
        let s = PipelineSettings::default();
        let secs = |a| backoff(&s, a).as_secs();
        assert_eq!(
            [secs(0), secs(1), secs(2), secs(3), secs(7), secs(40)],
            [30, 30, 60, 120, 1800, 1800]
        );
    }

    #[test]
    fn step_error_classifies_webex_errors() {
        let e = WebexError::Api {
            status: 503,
            message: "busy".into(),
            tracking_id: None,
        };
        assert!(matches!(
            StepError::from_webex("x", &e),
            StepError::Transient(_)
        ));
        let e = WebexError::Api {
            status: 404,
            message: "gone".into(),
            tracking_id: None,
        };
        assert!(matches!(
            StepError::from_webex("x", &e),
            StepError::Failed(_)
        ));
    }
}
