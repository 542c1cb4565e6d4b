//! Every SQL statement about trackers: their definitions, the matches per recording, and the
//! progress of the background re-evaluation.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use super::{ExecuteOne, Store, StoreError, from_millis, placeholders, to_millis};
use crate::domain::{Recording, RecordingId};
use crate::trackers::{TrackerDefinition, TrackerHit, TrackerMatch};

/// Statuses whose records hold what rules look at; pending or processing ones are evaluated by
/// the pipeline when they finish.
const EVALUATED_STATUSES: &str = "('completed', 'partial', 'failed')";

/// Rows per multi-row insert of re-evaluation matches (3 parameters each, well under the
/// backends' parameter limits).
const MATCH_ROWS_PER_INSERT: usize = 200;

/// A tracker as stored, with its match count and re-evaluation progress.
#[derive(Debug, Clone)]
pub struct StoredTracker {
    pub definition: TrackerDefinition,
    pub matches: u64,
    /// Recordings evaluated so far by the re-evaluation of the current definition.
    pub evaluated: u64,
    /// Recordings the re-evaluation has to go through.
    pub total: u64,
    /// Whether the re-evaluation of the current rules is finished.
    pub done: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A tracker whose stored recordings are still to be (re-)evaluated.
#[derive(Debug, Clone)]
pub struct PendingTracker {
    pub definition: TrackerDefinition,
    pub version: i64,
    /// Last recording id already evaluated for `version`.
    pub cursor: Option<String>,
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn definition_from(raw: &str) -> Result<TrackerDefinition, StoreError> {
    let value: Value = serde_json::from_str(raw)
        .map_err(|e| StoreError::Corrupt(format!("tracker definition: {e}")))?;
    TrackerDefinition::from_stored(&value)
        .map_err(|e| StoreError::Corrupt(format!("tracker definition: {e}")))
}

fn stored_from_row(row: &AnyRow) -> Result<StoredTracker, StoreError> {
    Ok(StoredTracker {
        definition: definition_from(&row.try_get::<String, _>("definition")?)?,
        matches: unsigned(row.try_get("matches")?),
        evaluated: unsigned(row.try_get("reeval_evaluated")?),
        total: unsigned(row.try_get("reeval_total")?),
        done: row.try_get::<i64, _>("evaluated_version")? >= row.try_get::<i64, _>("version")?,
        created_at: from_millis(row.try_get("created_at")?)?,
        updated_at: from_millis(row.try_get("updated_at")?)?,
    })
}

/// `matches` counts what users see: a deleted recording keeps its hits (it is still readable
/// by id) but is no longer counted.
const TRACKER_COLUMNS: &str = "t.definition, t.reeval_evaluated, t.reeval_total, t.version, \
    t.evaluated_version, t.created_at, t.updated_at, \
    (SELECT COUNT(*) FROM tracker_matches m JOIN recordings r ON r.recording_id = m.recording_id \
     WHERE m.tracker = t.name AND r.processing_status NOT IN ('deleted', 'purged')) AS matches";

/// One tracker's matches in a re-evaluation batch.
#[derive(Debug)]
pub struct TrackerBatch<'a> {
    pub tracker: &'a str,
    pub version: i64,
    pub matches: Vec<(RecordingId, Vec<TrackerHit>)>,
}

impl Store {
    /// Stores a new tracker and schedules the re-evaluation of every stored recording.
    /// `false`: a tracker of that name exists already.
    pub async fn create_tracker(
        &self,
        tracker: &TrackerDefinition,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO trackers (name, definition, version, reeval_total, created_at, updated_at) \
             SELECT $1, $2, 1, COUNT(*), $3, $3 FROM recordings WHERE processing_status IN {EVALUATED_STATUSES} \
             ON CONFLICT (name) DO NOTHING"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(&tracker.name)
            .bind(tracker.to_json().to_string())
            .bind(to_millis(now))
            .execute_one(&self.pool)
            .await
    }

    /// Replaces a tracker's rules; its old matches go and the re-evaluation starts over.
    /// `false`: no such tracker.
    pub async fn update_tracker(
        &self,
        tracker: &TrackerDefinition,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "UPDATE trackers SET definition = $2, version = version + 1, reeval_cursor = NULL, \
               reeval_evaluated = 0, updated_at = $3, \
               reeval_total = (SELECT COUNT(*) FROM recordings WHERE processing_status IN {EVALUATED_STATUSES}) \
             WHERE name = $1"
        );
        let updated = sqlx::query(AssertSqlSafe(sql))
            .bind(&tracker.name)
            .bind(tracker.to_json().to_string())
            .bind(to_millis(now))
            .execute_one(&mut *tx)
            .await?;
        if !updated {
            return Ok(false);
        }
        sqlx::query("DELETE FROM tracker_matches WHERE tracker = $1")
            .bind(&tracker.name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// `false`: no such tracker.
    pub async fn delete_tracker(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM tracker_matches WHERE tracker = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let deleted = sqlx::query("DELETE FROM trackers WHERE name = $1")
            .bind(name)
            .execute_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(deleted)
    }

    pub async fn get_tracker(&self, name: &str) -> Result<Option<StoredTracker>, StoreError> {
        let sql = format!("SELECT {TRACKER_COLUMNS} FROM trackers t WHERE t.name = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(stored_from_row).transpose()
    }

    /// All trackers by name.
    pub async fn list_trackers(&self) -> Result<Vec<StoredTracker>, StoreError> {
        let sql = format!("SELECT {TRACKER_COLUMNS} FROM trackers t ORDER BY t.name");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(stored_from_row).collect()
    }

    /// Every tracker's rules, for the pipeline's tracker step.
    pub async fn tracker_definitions(&self) -> Result<Vec<TrackerDefinition>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT definition FROM trackers ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|raw| definition_from(raw)).collect()
    }

    /// Fills `trackers` of each recording from the stored matches, in one query.
    pub(crate) async fn attach_trackers(&self, recs: &mut [Recording]) -> Result<(), StoreError> {
        if recs.is_empty() {
            return Ok(());
        }
        let placeholders = placeholders(1, recs.len());
        let sql = format!(
            "SELECT recording_id, tracker, hits FROM tracker_matches \
             WHERE recording_id IN ({placeholders}) ORDER BY tracker"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for rec in recs.iter() {
            query = query.bind(rec.recording_id.as_str());
        }
        let mut by_recording: HashMap<String, Vec<TrackerMatch>> = HashMap::new();
        for row in query.fetch_all(&self.pool).await? {
            let hits: Vec<TrackerHit> = serde_json::from_str(&row.try_get::<String, _>("hits")?)
                .map_err(|e| StoreError::Corrupt(format!("tracker hits: {e}")))?;
            by_recording
                .entry(row.try_get("recording_id")?)
                .or_default()
                .push(TrackerMatch {
                    name: row.try_get("tracker")?,
                    hits,
                });
        }
        for rec in recs.iter_mut() {
            rec.trackers = by_recording
                .remove(rec.recording_id.as_str())
                .unwrap_or_default();
        }
        Ok(())
    }

    /// Trackers whose stored recordings still need evaluating, oldest change first.
    pub async fn pending_reevaluations(&self) -> Result<Vec<PendingTracker>, StoreError> {
        let rows = sqlx::query(
            "SELECT definition, version, reeval_cursor FROM trackers \
             WHERE evaluated_version < version ORDER BY updated_at, name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PendingTracker {
                    definition: definition_from(&row.try_get::<String, _>("definition")?)?,
                    version: row.try_get("version")?,
                    cursor: row.try_get("reeval_cursor")?,
                })
            })
            .collect()
    }

    /// Up to `limit` evaluable recordings with ids after `after`, in id order.
    pub async fn recordings_after(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Recording>, StoreError> {
        let sql = format!(
            "SELECT {}, {} FROM recordings WHERE processing_status IN {EVALUATED_STATUSES} \
             AND recording_id > $1 ORDER BY recording_id LIMIT $2",
            super::recordings::COLUMNS,
            super::recordings::HOLD_COLUMNS
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(super::recordings::recording_from_row)
            .collect()
    }

    /// Stores one batch of re-evaluation for a group of trackers at the same cursor: each one's
    /// matches among the recordings `evaluated` (read after `after`, in id order) and its new
    /// cursor, all in one transaction (one commit per batch, not one per tracker). A tracker
    /// changed, deleted or moved on meanwhile (`version`, cursor) is skipped: the next round
    /// starts it from what is stored. How many trackers were stored.
    pub async fn store_reevaluation_batch(
        &self,
        group: &[TrackerBatch<'_>],
        after: Option<&str>,
        evaluated: &[RecordingId],
    ) -> Result<usize, StoreError> {
        let Some(last) = evaluated.last() else {
            return Ok(0);
        };
        let mut tx = self.begin_write().await?;
        let mut stored = 0;
        for batch in group {
            let moved = sqlx::query(
                "UPDATE trackers SET reeval_cursor = $3, reeval_evaluated = reeval_evaluated + $4 \
                 WHERE name = $1 AND version = $2 AND COALESCE(reeval_cursor, '') = $5",
            )
            .bind(batch.tracker)
            .bind(batch.version)
            .bind(last.as_str())
            .bind(i64::try_from(evaluated.len()).unwrap_or(i64::MAX))
            .bind(after.unwrap_or(""))
            .execute(&mut *tx)
            .await?;
            if moved.rows_affected() == 0 {
                continue;
            }
            // Only the recordings read are replaced: one the pipeline stored in this id range
            // after the read keeps the match it stored (with the same rules).
            for chunk in evaluated.chunks(MATCH_ROWS_PER_INSERT) {
                let sql = format!(
                    "DELETE FROM tracker_matches WHERE tracker = $1 AND recording_id IN ({})",
                    placeholders(2, chunk.len())
                );
                let mut delete = sqlx::query(AssertSqlSafe(sql)).bind(batch.tracker);
                for id in chunk {
                    delete = delete.bind(id.as_str());
                }
                delete.execute(&mut *tx).await?;
            }
            // Many rows per statement: a batch of a broad tracker can match every recording.
            for chunk in batch.matches.chunks(MATCH_ROWS_PER_INSERT) {
                let values = (0..chunk.len())
                    .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "INSERT INTO tracker_matches (tracker, recording_id, hits) VALUES {values}"
                );
                let mut insert = sqlx::query(AssertSqlSafe(sql));
                for (id, hits) in chunk {
                    let hits = serde_json::to_string(hits)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    insert = insert.bind(batch.tracker).bind(id.as_str()).bind(hits);
                }
                insert.execute(&mut *tx).await?;
            }
            stored += 1;
        }
        tx.commit().await?;
        Ok(stored)
    }

    /// Marks a tracker's re-evaluation finished (unless it was changed meanwhile).
    pub async fn finish_reevaluation(&self, tracker: &str, version: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE trackers SET evaluated_version = version, reeval_cursor = NULL, \
               reeval_total = reeval_evaluated WHERE name = $1 AND version = $2",
        )
        .bind(tracker)
        .bind(version)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

async fn insert_match(
    tx: &mut Transaction<'static, Any>,
    tracker: &str,
    id: &RecordingId,
    hits: &[TrackerHit],
) -> Result<(), StoreError> {
    let hits = serde_json::to_string(hits).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query("INSERT INTO tracker_matches (tracker, recording_id, hits) VALUES ($1, $2, $3)")
        .bind(tracker)
        .bind(id.as_str())
        .bind(hits)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Replaces a recording's matches with those the pipeline just computed (inside the
/// transaction that stores the recording). Only trackers that still exist are written.
pub(super) async fn replace_recording_matches(
    tx: &mut Transaction<'static, Any>,
    rec: &Recording,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM tracker_matches WHERE recording_id = $1")
        .bind(rec.recording_id.as_str())
        .execute(&mut **tx)
        .await?;
    for m in &rec.trackers {
        let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM trackers WHERE name = $1")
            .bind(&m.name)
            .fetch_one(&mut **tx)
            .await?;
        if exists > 0 {
            insert_match(tx, &m.name, &rec.recording_id, &m.hits).await?;
        }
    }
    Ok(())
}
