//! Re-evaluation of every stored recording after a tracker is created or changed: in the
//! background, in batches read in recording-id order, one worker at a time (a job lease), and
//! resumable because each batch's matches and the tracker's cursor are stored together.

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::{PendingTracker, PreparedRecording};
use crate::domain::RecordingId;
use crate::store::{Store, StoreError, TrackerBatch};

const JOB: &str = "trackers-reevaluate";

/// Timing and batch size of the re-evaluation.
#[derive(Debug, Clone)]
pub struct ReevaluationSettings {
    /// How often a worker looks for trackers to re-evaluate.
    pub poll: Duration,
    /// Recordings read per batch.
    pub batch: u32,
    /// How long the job lease lasts without renewal; renewed after every batch.
    pub lease: Duration,
}

impl Default for ReevaluationSettings {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(2),
            batch: 500,
            lease: Duration::from_secs(120),
        }
    }
}

/// Runs until `cancel`, re-evaluating whenever a tracker is behind: batch after batch while
/// there is work, then every `poll`.
pub async fn run(store: Store, settings: ReevaluationSettings, cancel: CancellationToken) {
    let owner = format!("reevaluate-{}", uuid::Uuid::new_v4());
    loop {
        let worked = match run_once(&store, &settings, &owner).await {
            Ok(worked) => worked,
            Err(e) => {
                tracing::warn!(error = %e, "tracker re-evaluation interrupted; resuming shortly");
                false
            }
        };
        if cancel.is_cancelled() {
            break;
        }
        if !worked {
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(settings.poll) => {}
            }
        }
    }
}

/// One batch for the trackers furthest behind, if any is behind and this worker gets the
/// lease. `true`: a batch was done (there may be more). Each call stands alone, so a worker
/// that stops between two calls loses nothing: the next one (here or elsewhere) resumes from
/// the stored cursor.
pub async fn run_once(
    store: &Store,
    settings: &ReevaluationSettings,
    owner: &str,
) -> Result<bool, StoreError> {
    // Cheap check first, so idle workers do not write a lease every poll.
    if store.pending_reevaluations().await?.is_empty() {
        return Ok(false);
    }
    let now = Utc::now();
    let lease_for = chrono::Duration::from_std(settings.lease).unwrap_or(chrono::Duration::MAX);
    let Some(lease) = store
        .try_lease_job(JOB, owner, now, now + lease_for)
        .await?
    else {
        return Ok(false);
    };
    // Read again under the lease: another worker may have moved the cursors meanwhile.
    let outcome = match furthest_behind(store.pending_reevaluations().await?) {
        Some(group) => evaluate_batch(store, settings, &group).await.map(|()| true),
        None => Ok(false),
    };
    let now = Utc::now();
    match &outcome {
        Ok(_) => store.finish_job(&lease, Ok(now), now).await?,
        Err(e) => store.finish_job(&lease, Err(&e.to_string()), now).await?,
    }
    outcome
}

/// The trackers at the smallest cursor: trackers created together share their batches, so
/// twenty new trackers read the recordings once, not twenty times.
fn furthest_behind(mut pending: Vec<PendingTracker>) -> Option<Vec<PendingTracker>> {
    let lowest = pending.iter().map(|p| p.cursor.clone()).min()?;
    pending.retain(|p| p.cursor == lowest);
    Some(pending)
}

/// One batch for a group of trackers at the same cursor.
async fn evaluate_batch(
    store: &Store,
    settings: &ReevaluationSettings,
    group: &[PendingTracker],
) -> Result<(), StoreError> {
    let cursor = group.first().and_then(|p| p.cursor.clone());
    let batch = store
        .recordings_after(cursor.as_deref(), settings.batch)
        .await?;
    if batch.is_empty() {
        for tracker in group {
            store
                .finish_reevaluation(&tracker.definition.name, tracker.version)
                .await?;
        }
        return Ok(());
    };
    let prepared: Vec<PreparedRecording<'_>> = batch.iter().map(PreparedRecording::new).collect();
    let results: Vec<TrackerBatch<'_>> = group
        .iter()
        .map(|tracker| TrackerBatch {
            tracker: &tracker.definition.name,
            version: tracker.version,
            matches: prepared
                .iter()
                .zip(&batch)
                .filter_map(|(p, rec)| {
                    p.evaluate(&tracker.definition)
                        .map(|m| (rec.recording_id.clone(), m.hits))
                })
                .collect(),
        })
        .collect();
    let evaluated: Vec<RecordingId> = batch.iter().map(|r| r.recording_id.clone()).collect();
    store
        .store_reevaluation_batch(&results, cursor.as_deref(), &evaluated)
        .await?;
    Ok(())
}
