//! Retention: recordings recorded more than `RETENTION_DAYS` ago are purged down to a tombstone
//! (files first, then the text, in batches), except those under legal hold. Run by `purge` and,
//! in workers, every hour under a job lease so that one worker purges at a time.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio_util::sync::CancellationToken;

use crate::domain::{Recording, RecordingId};
use crate::storage::{Storage, StorageError};
use crate::store::{NewAuditEntry, PURGE_BATCH, Store, StoreError};

/// The job lease of the scheduled purge.
const JOB_NAME: &str = "retention";
const LEASE: Duration = Duration::from_secs(30 * 60);
/// How often workers look for recordings past retention.
pub const SCHEDULE: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub purged: u64,
    /// Past retention but under legal hold: kept.
    pub held: u64,
    /// Purged recordings whose files could not be removed yet (the next run tries again); at
    /// least this many when the store was down.
    pub files_left: u64,
}

/// Purges everything recorded before `now - retention` and not held. With `dry_run`, counts
/// what would go and changes nothing. `actor` is who the audit log names (`purge`, the CLI
/// user…).
///
/// The text goes first, in one statement that skips held recordings, and the files after: a
/// hold set while a batch is purged either comes first (and the recording is skipped whole)
/// or is refused (a purged recording cannot be held), so no file of a held call is removed.
/// The purged rows keep their file locations until the files are gone, so a purge that dies
/// in between, or a store that is down, leaves work the next run finishes.
pub async fn purge_expired(
    store: &Store,
    storage: &Storage,
    retention: Duration,
    dry_run: bool,
    actor: &str,
) -> Result<PurgeReport, StoreError> {
    let before = Utc::now() - TimeDelta::from_std(retention).unwrap_or(TimeDelta::MAX);
    let held = store.held_past(before).await?;
    if dry_run {
        let purged = store.count_purgeable(before).await?;
        return Ok(PurgeReport {
            purged,
            held,
            files_left: 0,
        });
    }
    let mut purged = 0;
    loop {
        let ids = store.purge_candidates(before, PURGE_BATCH).await?;
        if ids.is_empty() {
            break;
        }
        purged += store
            .purge(&ids, |count| audit_entry(actor, count, before))
            .await?;
        if ids.len() < PURGE_BATCH {
            break;
        }
    }
    let files_left = remove_purged_files(store, storage).await?;
    Ok(PurgeReport {
        purged,
        held,
        files_left,
    })
}

/// Removes the files of purged recordings; how many could not be removed. A batch in which
/// no removal succeeded means the store is down: the rest waits for the next run.
async fn remove_purged_files(store: &Store, storage: &Storage) -> Result<u64, StoreError> {
    let mut failed = 0;
    let mut after = String::new();
    loop {
        let batch = store.purged_with_files(&after, PURGE_BATCH).await?;
        let Some(last) = batch.last() else {
            break;
        };
        after = last.recording_id.clone();
        let mut removed = 0;
        for candidate in &batch {
            match remove_files(store, storage, candidate).await {
                Ok(()) => {
                    store.forget_purged_files(&candidate.recording_id).await?;
                    removed += 1;
                }
                Err(e) => {
                    tracing::warn!(recording_id = %candidate.recording_id, error = %e,
                        "could not remove the files of a purged recording; the next run retries");
                    failed += 1;
                }
            }
        }
        if removed == 0 {
            break;
        }
    }
    Ok(failed)
}

async fn remove_files(
    store: &Store,
    storage: &Storage,
    candidate: &crate::store::PurgeCandidate,
) -> Result<(), String> {
    let Ok(id) = RecordingId::parse(&candidate.recording_id) else {
        return Ok(()); // Not a safe name: nothing of it was ever stored under it.
    };
    let mut rec = Recording::pending(id, Utc::now());
    rec.audio_local_path = candidate.audio_path.clone();
    rec.transcript_vtt_path = candidate.vtt_path.clone();
    remove_recording_files(store, storage, &rec)
        .await
        .map_err(|e| e.to_string())
}

#[derive(Debug, thiserror::Error)]
pub enum RemoveFilesError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Removes every file of a recording (delete and purge): those its record names, and those a
/// run noted before storing them, which a worker killed before it wrote the record leaves as
/// the only trace of its files. The notes stay: a run that noted a file before the deletion
/// may still be writing it, so [`sweep_noted_files`] removes it again later.
pub async fn remove_recording_files(
    store: &Store,
    storage: &Storage,
    rec: &Recording,
) -> Result<(), RemoveFilesError> {
    let id = &rec.recording_id;
    storage.delete_files_of(rec).await?;
    for location in store.noted_files(id).await? {
        storage.delete_location(id, &location).await?;
    }
    Ok(())
}

/// How long after its note a file of a deleted recording may still be being written.
pub const NOTE_ABANDONED_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Removes the noted files of deleted and purged recordings once their notes are `older_than`
/// (no run can be writing them any more), and forgets the notes; how many were swept. A file
/// that cannot be removed keeps its note for the next sweep, and the rest go on.
pub async fn sweep_noted_files(
    store: &Store,
    storage: &Storage,
    older_than: Duration,
) -> Result<u64, StoreError> {
    let before = Utc::now() - TimeDelta::from_std(older_than).unwrap_or(TimeDelta::MAX);
    let mut swept = 0;
    let mut after = (String::new(), String::new());
    loop {
        let notes = store
            .abandoned_notes(before, (&after.0, &after.1), PURGE_BATCH)
            .await?;
        let full = notes.len() == PURGE_BATCH;
        for (id, location) in &notes {
            // An id that does not parse never named a stored file: only the note goes.
            if let Ok(parsed) = RecordingId::parse(id)
                && let Err(e) = storage.delete_location(&parsed, location).await
            {
                tracing::warn!(recording_id = %id, error = %e,
                    "could not remove a noted file of a deleted recording; the next sweep retries");
                continue;
            }
            store.forget_noted_file(id, location).await?;
            swept += 1;
        }
        match notes.into_iter().last() {
            Some(last) if full => after = last,
            _ => return Ok(swept),
        }
    }
}

/// Every [`SCHEDULE`], [`sweep_noted_files`] with [`NOTE_ABANDONED_AFTER`] (workers; no lease:
/// two sweeps at once only delete nothing twice).
pub async fn run_note_sweep(store: Store, storage: Storage, cancel: CancellationToken) {
    loop {
        match sweep_noted_files(&store, &storage, NOTE_ABANDONED_AFTER).await {
            Ok(0) => {}
            Ok(swept) => tracing::info!(
                swept,
                "removed the files of deleted recordings that runs noted"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "could not sweep noted files; the next sweep tries again")
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(SCHEDULE) => {}
        }
    }
}

fn audit_entry(actor: &str, count: u64, before: DateTime<Utc>) -> NewAuditEntry {
    let detail = format!(
        "{count} recordings recorded before {} purged",
        before.to_rfc3339()
    );
    NewAuditEntry::unattended(actor, "purge", Some(detail))
}

/// Every [`SCHEDULE`], one worker (holding the `retention` lease) purges.
pub async fn run_schedule(
    store: Store,
    storage: Storage,
    retention: Duration,
    cancel: CancellationToken,
) {
    let owner = uuid::Uuid::new_v4().to_string();
    loop {
        let now = Utc::now();
        let until = now + TimeDelta::from_std(LEASE).unwrap_or(TimeDelta::hours(1));
        match store.try_lease_job(JOB_NAME, &owner, now, until).await {
            Ok(Some(lease)) => {
                let outcome = purge_expired(&store, &storage, retention, false, "retention").await;
                let result = match &outcome {
                    Ok(report) => {
                        tracing::info!(
                            purged = report.purged,
                            held = report.held,
                            files_left = report.files_left,
                            "retention run"
                        );
                        Ok(Utc::now())
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "retention run failed");
                        Err(e.to_string())
                    }
                };
                if let Err(e) = store
                    .finish_job(
                        &lease,
                        result.as_ref().map(|t| *t).map_err(String::as_str),
                        Utc::now(),
                    )
                    .await
                {
                    tracing::warn!(error = %e, "could not release the retention lease");
                }
            }
            Ok(None) => tracing::debug!("another worker holds the retention lease"),
            Err(e) => tracing::warn!(error = %e, "could not take the retention lease"),
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(SCHEDULE) => {}
        }
    }
}
