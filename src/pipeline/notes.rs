//! Where a run stores a file is noted in the database before the file's first byte. The record
//! names its files only when the run ends; a worker killed before that would otherwise leave a
//! file that no deletion or purge knows of.

use chrono::Utc;

use super::step::StepError;
use crate::domain::RecordingId;
use crate::storage::{Storage, StorageKey};
use crate::store::Store;

#[derive(Debug, Clone)]
pub(super) struct FileNotes {
    pub store: Store,
    pub storage: Storage,
}

impl FileNotes {
    /// Notes `key` as a file of `id` about to be stored. A recording deleted meanwhile fails
    /// the step: nothing of it is stored any more.
    pub(super) async fn note(&self, id: &RecordingId, key: &StorageKey) -> Result<(), StepError> {
        let location = self.storage.location(key);
        match self.store.note_file(id, &location, Utc::now()).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(StepError::Failed(
                "the recording was deleted while it was processed".into(),
            )),
            Err(e) => Err(StepError::Transient(format!(
                "noting where its file goes: {e}"
            ))),
        }
    }
}
