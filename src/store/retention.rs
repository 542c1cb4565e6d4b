//! Legal holds and retention: setting and releasing a hold (with its audit entry, in one
//! transaction), and purging recordings past retention down to a tombstone, in batches.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::audit::append_in;
use super::{NewAuditEntry, Store, StoreError, placeholders, to_millis};
use crate::domain::RecordingId;

/// Recordings purged per statement.
pub const PURGE_BATCH: usize = 500;

/// A recording about to be purged, with the files to remove first.
#[derive(Debug, Clone)]
pub struct PurgeCandidate {
    pub recording_id: String,
    pub audio_path: Option<String>,
    pub vtt_path: Option<String>,
}

/// What a hold request found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldChange {
    Done,
    NoSuchRecording,
}

impl Store {
    /// Puts a recording on hold (or replaces the hold's reason) and records it, atomically.
    pub async fn set_hold(
        &self,
        id: &RecordingId,
        reason: &str,
        audit: &NewAuditEntry,
    ) -> Result<HoldChange, StoreError> {
        self.change_hold(id, Some(reason), audit).await
    }

    pub async fn release_hold(
        &self,
        id: &RecordingId,
        audit: &NewAuditEntry,
    ) -> Result<HoldChange, StoreError> {
        self.change_hold(id, None, audit).await
    }

    /// `Some(reason)` sets the hold by the audit entry's actor, `None` releases it; the change
    /// and its audit entry commit together.
    async fn change_hold(
        &self,
        id: &RecordingId,
        reason: Option<&str>,
        audit: &NewAuditEntry,
    ) -> Result<HoldChange, StoreError> {
        let mut tx = self.begin_serialized().await?;
        let done = sqlx::query(
            "UPDATE recordings SET legal_hold_reason = $1, legal_hold_by = $2, legal_hold_at = $3 \
             WHERE recording_id = $4 AND processing_status <> 'purged'",
        )
        .bind(reason)
        .bind(reason.map(|_| audit.actor.as_str()))
        .bind(reason.map(|_| to_millis(audit.at)))
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(HoldChange::NoSuchRecording);
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(HoldChange::Done)
    }

    /// [`Store::mark_recording_deleted`] with the deletion's audit entry in the same
    /// transaction: a deletion is on record if and only if it happened.
    pub async fn mark_recording_deleted_audited(
        &self,
        id: &RecordingId,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_serialized().await?;
        if !super::recordings::mark_deleted(&mut *tx, id, audit.at).await? {
            return Ok(false);
        }
        append_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Up to `limit` ids of recordings recorded before `before`, not held, not yet purged.
    pub async fn purge_candidates(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let ids = sqlx::query_scalar(
            "SELECT recording_id FROM recordings \
             WHERE sort_at < $1 AND processing_status <> 'purged' AND legal_hold_at IS NULL \
             ORDER BY sort_at, recording_id LIMIT $2",
        )
        .bind(to_millis(before))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok(ids)
    }

    /// Up to `limit` purged recordings whose files are still to be removed, by id after
    /// `after` (a purge keeps the locations until the files are gone, so one that died in
    /// between is finished later).
    pub async fn purged_with_files(
        &self,
        after: &str,
        limit: usize,
    ) -> Result<Vec<PurgeCandidate>, StoreError> {
        let rows = sqlx::query(
            "SELECT recording_id, audio_local_path, transcript_vtt_path FROM recordings \
             WHERE processing_status = 'purged' AND recording_id > $1 \
               AND (audio_local_path IS NOT NULL OR transcript_vtt_path IS NOT NULL \
                    OR EXISTS (SELECT 1 FROM noted_files n \
                               WHERE n.recording_id = recordings.recording_id)) \
             ORDER BY recording_id LIMIT $2",
        )
        .bind(after)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PurgeCandidate {
                    recording_id: r.try_get(0)?,
                    audio_path: r.try_get(1)?,
                    vtt_path: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// Forgets the file locations of a purged recording whose files are gone.
    pub async fn forget_purged_files(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE recordings SET audio_local_path = NULL, transcript_vtt_path = NULL \
             WHERE recording_id = $1 AND processing_status = 'purged'",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// What a purge would remove now.
    pub async fn count_purgeable(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM recordings WHERE sort_at < $1 \
             AND processing_status <> 'purged' AND legal_hold_at IS NULL",
        )
        .bind(to_millis(before))
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Held recordings past retention (they stay).
    pub async fn held_past(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM recordings WHERE sort_at < $1 \
             AND processing_status <> 'purged' AND legal_hold_at IS NOT NULL",
        )
        .bind(to_millis(before))
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Reduces the given recordings to tombstones (id, time, caller, callee, duration, status
    /// `purged`, `purged_at`) in one statement, with one audit entry (`audit` is given the
    /// number purged); a recording put on hold since it was listed is skipped, and the check
    /// is in the statement. The file locations stay until [`Store::forget_purged_files`]: a
    /// hold cannot be set on a purged recording, so no file is removed under a hold.
    pub async fn purge(
        &self,
        ids: &[String],
        audit: impl FnOnce(u64) -> NewAuditEntry,
    ) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let ids_in = placeholders(2, ids.len());
        let sql = format!(
            "UPDATE recordings SET processing_status = 'purged', purged_at = $1, updated_at = $1, \
               caller_name = NULL, callee_name = NULL, participants = '[]', audio_url = NULL, \
               audio_format = NULL, audio_size_bytes = NULL, \
               audio_sha256 = NULL, transcript_text = NULL, \
               transcript_source = NULL, transcript_cues = NULL, has_webex_transcript = 0, \
               summary_text = NULL, summary_bullet_points = '[]', key_topics = '[]', \
               action_items = '[]', summary_source = NULL, sentiment_score = NULL, \
               sentiment_label = NULL, detected_language = NULL, language_confidence = NULL, \
               translated_text = NULL, call_metrics = NULL, processing_steps_completed = '[]', \
               processing_errors = '{{}}', quality_score = NULL, webex_metadata = NULL, \
               redactions = NULL, roles = NULL, sentiment_by_speaker = NULL, \
               sentiment_by_quarter = NULL, sentiment_end = NULL, insights = NULL, roles_swapped = 0, \
               processing_heartbeat_at = NULL \
             WHERE legal_hold_at IS NULL AND processing_status <> 'purged' \
               AND recording_id IN ({ids_in})"
        );
        let mut tx = self.begin_serialized().await?;
        let at = Utc::now();
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(to_millis(at));
        for id in ids {
            query = query.bind(id.as_str());
        }
        let purged = query.execute(&mut *tx).await?.rows_affected();
        // Tracker hits quote the text that is gone now.
        let sql = format!(
            "DELETE FROM tracker_matches WHERE recording_id IN ({}) AND recording_id IN \
               (SELECT recording_id FROM recordings WHERE processing_status = 'purged')",
            placeholders(1, ids.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(id.as_str());
        }
        query.execute(&mut *tx).await?;
        if purged > 0 {
            append_in(&mut tx, &audit(purged)).await?;
        }
        tx.commit().await?;
        Ok(purged)
    }
}
