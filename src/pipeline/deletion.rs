//! A recording deleted around its processing: by Webex (a `deleted` event), or through the API
//! while a run is going or waits for its retry. Whatever the order, its files do not stay.

use chrono::Utc;

use super::{Pipeline, Settlement};
use crate::domain::{ProcessingStatus, Recording, RecordingId};
use crate::retention::remove_recording_files;

impl Pipeline {
    /// Webex deleted it: marked deleted, unless held or purged, and its files removed as a
    /// deletion through the API removes them.
    pub(super) async fn deleted_at_webex(&self, id: &RecordingId, attempt: u32) -> Settlement {
        let database = |e| self.retry_or_give_up(attempt, format!("database: {e}"));
        match self.store.mark_recording_deleted(id, Utc::now()).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(
                    "Webex deleted a recording under legal hold (or purged): kept as it is"
                );
                return Settlement::Ack;
            }
            Err(e) => return database(e),
        }
        // Read after the mark: a run may record its files until then, and no run can after.
        let stored = match self.store.get_recording(id).await {
            Ok(stored) => stored,
            Err(e) => return database(e),
        };
        if let Some(rec) = stored
            && let Err(e) = remove_recording_files(&self.store, &self.storage, &rec).await
        {
            // It is marked: the retry marks it again and removes what is left.
            return self.retry_or_give_up(attempt, format!("removing its files: {e}"));
        }
        Settlement::Ack
    }

    /// Back to pending for a retry. When it was deleted meanwhile the retry will not come, so
    /// the files this run stored are removed now.
    pub(super) async fn release(&self, run: &Recording) {
        match self.store.release_recording(run, Utc::now()).await {
            Ok(true) => {}
            Ok(false) => self.remove_files_if_deleted(run).await,
            // The heartbeat goes stale and another worker takes over after `stale_after`.
            Err(e) => tracing::warn!(error = %e, "could not release recording"),
        }
    }

    async fn remove_files_if_deleted(&self, run: &Recording) {
        let deleted = match self.store.get_recording(&run.recording_id).await {
            Ok(stored) => {
                stored.is_none_or(|r| ProcessingStatus::HIDDEN.contains(&r.processing_status))
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read the recording back");
                return;
            }
        };
        if deleted {
            self.remove_run_files(run).await;
        }
    }

    pub(super) async fn remove_run_files(&self, run: &Recording) {
        tracing::info!("deleted while it was processed: nothing stored, its files removed");
        if let Err(e) = remove_recording_files(&self.store, &self.storage, run).await {
            tracing::warn!(error = %e, "could not remove the files of a deleted recording");
        }
    }
}
