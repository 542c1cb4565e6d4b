//! Statements of the reconciler: mark recordings as sent for processing, and a bulk import of
//! bare rows (benchmarks and tests).

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::{Store, StoreError, to_millis};
use crate::domain::{ProcessingStatus, RecordingId};

/// Rows per multi-row `INSERT` (3 or 4 parameters each: well under every backend's limit).
const ROWS_PER_STATEMENT: usize = 250;

/// A recording the reconciler sent for processing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnqueuedRecording {
    pub id: RecordingId,
    /// When Webex says it was recorded, if known.
    pub recorded_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Records that `items` were just sent for processing: a missing row is created as
    /// `pending`; a `pending`, `failed` or stale `processing` row goes (back) to `pending`.
    /// Either way `processing_heartbeat_at` is set to `now`: for a `pending` row it is the time
    /// it was last enqueued. Rows a worker holds (fresh `processing`) or finished are left
    /// alone. One statement per 250 items.
    pub async fn mark_enqueued(
        &self,
        items: &[EnqueuedRecording],
        now: DateTime<Utc>,
        processing_stale_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut affected = 0;
        for chunk in items.chunks(ROWS_PER_STATEMENT) {
            // $1 = now, $2 = stale limit, then (id, recorded_at, sort_at) per row.
            let values = (0..chunk.len())
                .map(|i| {
                    let b = 3 + i * 3;
                    format!("(${b}, ${}, ${}, 'pending', $1, $1, $1)", b + 1, b + 2)
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO recordings (recording_id, recorded_at, sort_at, processing_status, \
                   processing_heartbeat_at, created_at, updated_at) VALUES {values} \
                 ON CONFLICT (recording_id) DO UPDATE SET processing_status = 'pending', \
                   processing_heartbeat_at = $1, updated_at = $1 \
                 WHERE recordings.processing_status IN ('pending', 'failed') \
                   OR (recordings.processing_status = 'processing' \
                       AND (recordings.processing_heartbeat_at IS NULL \
                            OR recordings.processing_heartbeat_at < $2))"
            );
            let now_ms = to_millis(now);
            let mut query = sqlx::query(AssertSqlSafe(sql))
                .bind(now_ms)
                .bind(to_millis(processing_stale_before));
            for item in chunk {
                let recorded = item.recorded_at.map(to_millis);
                query = query
                    .bind(item.id.as_str())
                    .bind(recorded)
                    .bind(recorded.unwrap_or(now_ms));
            }
            affected += query.execute(&self.pool).await?.rows_affected();
        }
        Ok(affected)
    }

    /// Inserts bare rows (id and status only) in one transaction; existing ids are left alone.
    /// For benchmarks and tests that need a large table quickly.
    pub async fn import_bare_recordings(
        &self,
        rows: &[(RecordingId, ProcessingStatus)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let values = (0..chunk.len())
                .map(|i| format!("(${}, $1, ${}, $1, $1)", 2 + i * 2, 3 + i * 2))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO recordings (recording_id, sort_at, processing_status, created_at, \
                   updated_at) VALUES {values} ON CONFLICT (recording_id) DO NOTHING"
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(to_millis(now));
            for (id, status) in chunk {
                query = query.bind(id.as_str()).bind(status.as_str());
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
