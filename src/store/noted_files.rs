//! Files a run is about to store, noted before their first byte (table `noted_files`): a worker
//! killed before it writes the record leaves a note, so a deletion or purge still finds them.

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};

use super::{ExecuteOne, Store, StoreError, placeholders, to_millis};
use crate::domain::RecordingId;

impl Store {
    /// Notes that the run holding `id` is about to store a file at `location`. False, and
    /// nothing noted, when the recording is no longer being processed (deleted or purged): the
    /// check writes the row, so on PostgreSQL a deletion committing meanwhile is waited for and
    /// seen, and a deletion that comes after reads the note.
    pub async fn note_file(
        &self,
        id: &RecordingId,
        location: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let processing = sqlx::query(
            "UPDATE recordings SET processing_heartbeat_at = $2 \
             WHERE recording_id = $1 AND processing_status = 'processing'",
        )
        .bind(id.as_str())
        .bind(to_millis(now))
        .execute_one(&mut *tx)
        .await?;
        if !processing {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO noted_files (recording_id, location, noted_at) VALUES ($1, $2, $3) \
             ON CONFLICT (recording_id, location) DO NOTHING",
        )
        .bind(id.as_str())
        .bind(location)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
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

    /// Drops the notes of `locations` (their files are gone).
    pub async fn forget_noted_files(
        &self,
        id: &RecordingId,
        locations: &[String],
    ) -> Result<(), StoreError> {
        if locations.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "DELETE FROM noted_files WHERE recording_id = $1 AND location IN ({})",
            placeholders(2, locations.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(id.as_str());
        for location in locations {
            query = query.bind(location.as_str());
        }
        query.execute(&self.pool).await?;
        Ok(())
    }
}
