//! Files a run is about to store, noted before their first byte (table `noted_files`): a worker
//! killed before it writes the record leaves a note, so a deletion or purge still finds them.

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};

use super::{Backend, Store, StoreError, to_millis};
use crate::domain::RecordingId;

impl Store {
    /// Notes that a run of `id` is about to store a file at `location` (again: the time is the
    /// latest run's, which the sweep's grace counts from). False, and nothing noted, when the
    /// recording is deleted or purged. The row is locked while it is checked
    /// (`BEGIN IMMEDIATE` on SQLite, `FOR UPDATE` on PostgreSQL), so a deletion either comes
    /// first and is seen, or waits and then finds the note.
    pub async fn note_file(
        &self,
        id: &RecordingId,
        location: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => "FOR UPDATE",
        };
        let mut tx = self.begin_write().await?;
        let status: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT processing_status FROM recordings WHERE recording_id = $1 {lock}"
        )))
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if status.is_none_or(|s| matches!(s.as_str(), "deleted" | "purged")) {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO noted_files (recording_id, location, noted_at) VALUES ($1, $2, $3) \
             ON CONFLICT (recording_id, location) DO UPDATE SET noted_at = excluded.noted_at",
        )
        .bind(id.as_str())
        .bind(location)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Up to `limit` notes of deleted or purged recordings noted before `before`, in
    /// (recording id, location) order after `after`: no run can still be writing their files.
    pub async fn abandoned_notes(
        &self,
        before: DateTime<Utc>,
        after: (&str, &str),
        limit: usize,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT n.recording_id, n.location FROM noted_files n \
             JOIN recordings r ON r.recording_id = n.recording_id \
             WHERE r.processing_status IN ('deleted', 'purged') AND n.noted_at < $1 \
               AND (n.recording_id > $2 OR (n.recording_id = $2 AND n.location > $3)) \
             ORDER BY n.recording_id, n.location LIMIT $4",
        )
        .bind(to_millis(before))
        .bind(after.0)
        .bind(after.1)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// The locations noted for `id` that no stored record has named since.
    pub async fn noted_files(&self, id: &RecordingId) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT location FROM noted_files WHERE recording_id = $1 ORDER BY location",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get(0).map_err(StoreError::from))
            .collect()
    }

    /// Drops the note of `location` (its file is gone).
    pub async fn forget_noted_file(&self, id: &str, location: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM noted_files WHERE recording_id = $1 AND location = $2")
            .bind(id)
            .bind(location)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
