//! Storing what `swap-roles` re-derived: only the role-dependent fields, and only when the
//! record is the one that was read (a pipeline run that stored a new one meanwhile wins).

use chrono::{DateTime, Utc};

use super::recordings::to_json;
use super::{Store, StoreError, to_millis};
use crate::domain::Recording;

impl Store {
    /// Writes `rec`'s roles, per-speaker sentiment and call metrics (with `per_role`) and its
    /// tracker matches, in one transaction. False, and nothing written, when the stored record
    /// is no longer the one last updated at `read_updated_at` (or was purged).
    pub async fn store_swapped_roles(
        &self,
        rec: &Recording,
        read_updated_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let by_speaker = rec.sentiment.as_ref().and_then(|s| s.by_speaker.as_ref());
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE recordings SET roles = $1, sentiment_by_speaker = $2, call_metrics = $3, \
               updated_at = $4, roles_swapped = $7 \
             WHERE recording_id = $5 AND updated_at = $6 AND processing_status <> 'purged'",
        )
        .bind(rec.roles.as_ref().map(to_json).transpose()?)
        .bind(by_speaker.map(to_json).transpose()?)
        .bind(rec.call_metrics.as_ref().map(to_json).transpose()?)
        .bind(to_millis(rec.updated_at))
        .bind(rec.recording_id.as_str())
        .bind(to_millis(read_updated_at))
        .bind(i64::from(rec.roles_swapped))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        super::trackers::replace_recording_matches(&mut tx, rec).await?;
        tx.commit().await?;
        Ok(true)
    }
}
