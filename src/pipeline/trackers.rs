//! The last step: every tracker evaluated on the finished record (transcript as stored, i.e.
//! redacted, plus the figures of the earlier steps). The matches are stored with the record.

use async_trait::async_trait;

use super::step::{PipelineStep, StepError, Work};
use crate::store::Store;
use crate::trackers::evaluate_all;

pub(super) struct Trackers {
    pub store: Store,
}

#[async_trait]
impl PipelineStep for Trackers {
    async fn run(&self, w: &mut Work) -> Result<(), StepError> {
        // Read per call so a tracker created a moment ago applies to the next call at once.
        let trackers = self
            .store
            .tracker_definitions()
            .await
            .map_err(|e| StepError::Transient(format!("loading trackers: {e}")))?;
        w.rec.trackers = evaluate_all(&w.rec, &trackers);
        Ok(())
    }
}
