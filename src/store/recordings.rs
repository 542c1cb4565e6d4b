use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Executor, Row};

use super::{ExecuteOne, Store, StoreError, from_millis, placeholders, to_millis};
use crate::domain::{CallSentiment, ProcessingStatus, Recording, RecordingId};
use call_analysis::transcript::Transcript;
use call_analysis::{SentimentLabel, SummarySource};

pub(super) const COLUMNS: &str = "recording_id, recorded_at, sort_at, caller, callee, caller_name, \
    callee_name, duration_seconds, participants, audio_url, audio_local_path, audio_format, \
    audio_size_bytes, audio_sha256, transcript_text, transcript_vtt_path, transcript_source, \
    transcript_cues, has_webex_transcript, summary_text, summary_bullet_points, key_topics, \
    action_items, summary_source, sentiment_score, sentiment_label, detected_language, \
    language_confidence, translated_text, call_metrics, redactions, processing_status, \
    processing_steps_completed, processing_errors, quality_score, webex_metadata, created_at, \
    updated_at, roles, sentiment_by_speaker, sentiment_by_quarter, sentiment_end, insights, \
    roles_swapped";

/// Set only by holds and retention, never by the pipeline's upsert: read beside `COLUMNS`.
pub(crate) const HOLD_COLUMNS: &str = "legal_hold_reason, legal_hold_by, legal_hold_at, purged_at";

/// Built once from `COLUMNS`: every column but the key and `created_at` is replaced on conflict.
static UPSERT_SQL: LazyLock<String> = LazyLock::new(|| {
    let updates = COLUMNS
        .split(',')
        .map(str::trim)
        .filter(|c| !matches!(*c, "recording_id" | "created_at"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let placeholders = placeholders(1, COLUMNS.split(',').count());
    format!(
        "INSERT INTO recordings ({COLUMNS}, processing_heartbeat_at) VALUES ({placeholders}, NULL) \
         ON CONFLICT (recording_id) DO UPDATE SET {updates}, processing_heartbeat_at = NULL \
         WHERE recordings.processing_status NOT IN ('deleted', 'purged') \
            OR (recordings.processing_status = 'deleted' AND excluded.processing_status = 'deleted')"
    )
});

/// Leaves out what users see only when they ask for it by status (deleted, purged).
static NOT_HIDDEN: LazyLock<String> = LazyLock::new(|| {
    let hidden: Vec<String> = ProcessingStatus::HIDDEN
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!("processing_status NOT IN ({})", hidden.join(", "))
});

/// Counts of `GET /api/v1/recordings/stats/summary`; `deleted` and `purged` recordings are
/// counted only under `by_status`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Stats {
    pub total_recordings: u64,
    /// Every status, with 0 where none.
    pub by_status: BTreeMap<String, u64>,
    pub with_transcripts: u64,
    pub with_summaries: u64,
    pub average_quality_score: Option<f64>,
    pub total_storage_mb: f64,
}

/// What the worker may do with a recording it was asked to process.
#[derive(Debug)]
pub enum Claim {
    /// It is ours now (status `processing`); here is what was stored before.
    Claimed(Box<Recording>),
    /// Finished already (`completed` or `partial`) and the message does not force work.
    AlreadyDone,
    /// Another worker is on it (its heartbeat is fresh).
    InProgress,
    Deleted,
}

/// What the reconciler needs to know of a stored recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredState {
    pub status: ProcessingStatus,
    pub heartbeat_at: Option<i64>,
}

impl Store {
    pub async fn get_recording(&self, id: &RecordingId) -> Result<Option<Recording>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS}, {HOLD_COLUMNS} FROM recordings WHERE recording_id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        let mut found: Vec<Recording> = row
            .map(|r| recording_from_row(&r))
            .transpose()?
            .into_iter()
            .collect();
        self.attach_trackers(&mut found).await?;
        Ok(found.pop())
    }

    /// Inserts or replaces the whole record; one row per recording id, ever.
    /// A recording marked `deleted` stays deleted unless the new record is itself `deleted`;
    /// a purged one is never written again.
    pub async fn upsert_recording(&self, rec: &Recording) -> Result<(), StoreError> {
        self.save_recording(rec, &[]).await.map(|_| ())
    }

    /// [`Self::upsert_recording`], and in the same transaction the recording's tracker matches
    /// (`rec.trackers`) and the alerts about it: an alert exists if and only if its record does.
    /// `false`: the recording was deleted or purged meanwhile, and nothing was written.
    #[must_use = "a recording deleted meanwhile leaves the caller's files to remove"]
    pub async fn save_recording(
        &self,
        rec: &Recording,
        alerts: &[crate::alerts::AlertEvent],
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let sql = UPSERT_SQL.as_str();
        let sort_at = to_millis(rec.timestamp.unwrap_or(rec.created_at));
        let sentiment = rec.sentiment.as_ref();
        let saved = sqlx::query(AssertSqlSafe(sql))
            // Not a cached prepared statement: sqlx 0.9's Any driver declares a NULL f64 as a
            // PostgreSQL float4 (sqlx-core any/arguments.rs), and a statement first prepared
            // with `quality_score` (or `duration`) NULL then refuses an f64 on that connection
            // ("incorrect binary data format"). Unprepared, the types are declared per call.
            .persistent(false)
            .bind(rec.recording_id.as_str())
            .bind(rec.timestamp.map(to_millis))
            .bind(sort_at)
            .bind(rec.caller.clone())
            .bind(rec.callee.clone())
            .bind(rec.caller_name.clone())
            .bind(rec.callee_name.clone())
            .bind(rec.duration)
            .bind(to_json(&rec.participants)?)
            .bind(rec.audio_url.clone())
            .bind(rec.audio_local_path.clone())
            .bind(rec.audio_format.clone())
            .bind(rec.audio_size_bytes)
            .bind(rec.audio_sha256.clone())
            .bind(rec.transcript_text.clone())
            .bind(rec.transcript_vtt_path.clone())
            .bind(rec.transcript_source.clone())
            .bind(rec.transcript_cues.as_ref().map(to_json).transpose()?)
            .bind(i64::from(rec.has_webex_transcript))
            .bind(rec.summary_text.clone())
            .bind(to_json(&rec.summary_bullet_points)?)
            .bind(to_json(&rec.key_topics)?)
            .bind(to_json(&rec.action_items)?)
            .bind(rec.summary_source.map(|s| match s {
                SummarySource::Llm => "llm",
                SummarySource::Local => "local",
            }))
            .bind(rec.sentiment.as_ref().map(|s| s.score))
            .bind(rec.sentiment.as_ref().map(|s| label_str(s.label)))
            .bind(rec.detected_language.clone())
            .bind(rec.language_confidence)
            .bind(rec.translated_text.clone())
            .bind(rec.call_metrics.as_ref().map(to_json).transpose()?)
            .bind(to_json(&rec.redactions)?)
            .bind(rec.processing_status.as_str())
            .bind(to_json(&rec.processing_steps_completed)?)
            .bind(to_json(&rec.processing_errors)?)
            .bind(rec.quality_score)
            .bind(rec.webex_metadata.as_ref().map(to_json).transpose()?)
            .bind(to_millis(rec.created_at))
            .bind(to_millis(rec.updated_at))
            .bind(rec.roles.as_ref().map(to_json).transpose()?)
            .bind(
                sentiment
                    .and_then(|s| s.by_speaker.as_ref())
                    .map(to_json)
                    .transpose()?,
            )
            .bind(
                sentiment
                    .and_then(|s| s.by_quarter.as_ref())
                    .map(to_json)
                    .transpose()?,
            )
            .bind(sentiment.and_then(|s| s.end).map(label_str))
            .bind(rec.insights.as_ref().map(to_json).transpose()?)
            .bind(i64::from(rec.roles_swapped))
            .execute(&mut *tx)
            .await?;
        if saved.rows_affected() == 0 {
            // Deleted or purged while the pipeline worked: no matches, no alerts about it.
            return Ok(false);
        }
        // The files the record now names are found through it.
        sqlx::query("DELETE FROM noted_files WHERE recording_id = $1 AND location IN ($2, $3)")
            .bind(rec.recording_id.as_str())
            .bind(rec.audio_local_path.as_deref())
            .bind(rec.transcript_vtt_path.as_deref())
            .execute(&mut *tx)
            .await?;
        super::trackers::replace_recording_matches(&mut tx, rec).await?;
        for alert in alerts {
            super::alerts::enqueue_alert(&mut tx, alert, rec.updated_at).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn stats(&self) -> Result<Stats, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT COUNT(*), \
               CAST(COALESCE(SUM(CASE WHEN transcript_text IS NOT NULL AND transcript_text <> '' THEN 1 ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(CASE WHEN summary_text IS NOT NULL AND summary_text <> '' THEN 1 ELSE 0 END), 0) AS BIGINT), \
               CAST(AVG(quality_score) AS DOUBLE PRECISION), \
               CAST(COALESCE(SUM(audio_size_bytes), 0) AS BIGINT) \
             FROM recordings WHERE {}",
            *NOT_HIDDEN
        )))
        .fetch_one(&self.pool)
        .await?;
        let by_status_rows = sqlx::query(
            "SELECT processing_status, COUNT(*) FROM recordings GROUP BY processing_status",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut by_status: BTreeMap<String, u64> = ProcessingStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), 0))
            .collect();
        for r in &by_status_rows {
            let status: String = r.try_get(0)?;
            let count: i64 = r.try_get(1)?;
            by_status.insert(status, u64::try_from(count).unwrap_or(0));
        }
        let bytes: i64 = row.try_get(4)?;
        Ok(Stats {
            total_recordings: u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0),
            by_status,
            with_transcripts: u64::try_from(row.try_get::<i64, _>(1)?).unwrap_or(0),
            with_summaries: u64::try_from(row.try_get::<i64, _>(2)?).unwrap_or(0),
            average_quality_score: row.try_get::<Option<f64>, _>(3)?,
            total_storage_mb: (bytes as f64 / (1024.0 * 1024.0) * 100.0).round() / 100.0,
        })
    }

    /// Takes a recording for processing. Only one worker holds it at a time: another worker's
    /// claim wins only once the holder's heartbeat is older than `stale_before`.
    pub async fn claim_recording(
        &self,
        id: &RecordingId,
        force: bool,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        let now_ms = to_millis(now);
        sqlx::query(
            "INSERT INTO recordings (recording_id, sort_at, processing_status, created_at, updated_at) \
             VALUES ($1, $2, 'pending', $2, $2) ON CONFLICT (recording_id) DO NOTHING",
        )
        .bind(id.as_str())
        .bind(now_ms)
        .execute(&self.pool)
        .await?;

        let claimable = if force {
            // A forced run overwrites the record: never one under legal hold.
            "processing_status NOT IN ('deleted', 'purged') AND legal_hold_at IS NULL"
        } else {
            "processing_status NOT IN ('deleted', 'purged', 'completed', 'partial')"
        };
        let sql = format!(
            "UPDATE recordings SET processing_status = 'processing', processing_heartbeat_at = $2, \
               attempts = attempts + 1, updated_at = $2 \
             WHERE recording_id = $1 AND {claimable} \
               AND (processing_status <> 'processing' OR processing_heartbeat_at IS NULL \
                    OR processing_heartbeat_at < $3)"
        );
        let claimed = sqlx::query(AssertSqlSafe(sql))
            .bind(id.as_str())
            .bind(now_ms)
            .bind(to_millis(stale_before))
            .execute_one(&self.pool)
            .await?;

        let current = self
            .get_recording(id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("recording {id} vanished while claimed")))?;
        Ok(match current.processing_status {
            _ if claimed => Claim::Claimed(Box::new(current)),
            ProcessingStatus::Deleted | ProcessingStatus::Purged => Claim::Deleted,
            ProcessingStatus::Processing => Claim::InProgress,
            _ => Claim::AlreadyDone,
        })
    }

    /// Tells other workers we are still on it.
    pub async fn heartbeat_recording(
        &self,
        id: &RecordingId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE recordings SET processing_heartbeat_at = $2 \
             WHERE recording_id = $1 AND processing_status = 'processing'",
        )
        .bind(id.as_str())
        .bind(to_millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Puts a claimed recording back (its message will be retried later). The heartbeat is set to
    /// `now`, the time its retry was sent, as [`Store::mark_enqueued`] does: a reconcile then sees
    /// a recording that is queued, not one that was never sent. The files the run stored are
    /// recorded, so a deletion while the retry waits removes them, and so is what it learned of
    /// the call (time, parties, duration), so the list shows it meanwhile. False, and nothing
    /// changed, when the recording is no longer being processed (deleted or purged meanwhile).
    #[must_use = "a recording deleted meanwhile leaves the caller's files to remove"]
    pub async fn release_recording(
        &self,
        run: &Recording,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        sqlx::query(
            "UPDATE recordings SET processing_status = 'pending', processing_heartbeat_at = $2, updated_at = $2, \
             audio_local_path = COALESCE($3, audio_local_path), \
             transcript_vtt_path = COALESCE($4, transcript_vtt_path), \
             recorded_at = COALESCE($5, recorded_at), sort_at = COALESCE($5, sort_at), \
             caller = COALESCE($6, caller), callee = COALESCE($7, callee), \
             caller_name = COALESCE($8, caller_name), callee_name = COALESCE($9, callee_name), \
             duration_seconds = COALESCE($10, duration_seconds) \
             WHERE recording_id = $1 AND processing_status = 'processing'",
        )
        // Unprepared, as in `save_recording`: a NULL f64 must not fix the statement's type.
        .persistent(false)
        .bind(run.recording_id.as_str())
        .bind(to_millis(now))
        .bind(run.audio_local_path.as_deref())
        .bind(run.transcript_vtt_path.as_deref())
        .bind(run.timestamp.map(to_millis))
        .bind(run.caller.as_deref())
        .bind(run.callee.as_deref())
        .bind(run.caller_name.as_deref())
        .bind(run.callee_name.as_deref())
        .bind(run.duration)
        .execute_one(&self.pool)
        .await
    }

    /// Marks a recording `deleted` (a row is made if we never saw it, so it is not fetched
    /// later). False, and nothing changed, when it is under legal hold or already purged: the
    /// guard is in the statement, so a hold set a moment earlier cannot be raced.
    pub async fn mark_recording_deleted(
        &self,
        id: &RecordingId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        mark_deleted(&self.pool, id, now).await
    }

    /// The stored state of each of `ids` that we have (one query per 500 ids).
    pub async fn recording_states(
        &self,
        ids: &[RecordingId],
    ) -> Result<HashMap<RecordingId, StoredState>, StoreError> {
        let mut states = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let placeholders = placeholders(1, chunk.len());
            let sql = format!(
                "SELECT recording_id, processing_status, processing_heartbeat_at FROM recordings \
                 WHERE recording_id IN ({placeholders})"
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                let id: String = row.try_get(0)?;
                let status: String = row.try_get(1)?;
                states.insert(
                    RecordingId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    StoredState {
                        status: parse_status(&status)?,
                        heartbeat_at: row.try_get(2)?,
                    },
                );
            }
        }
        Ok(states)
    }
}

/// [`Store::mark_recording_deleted`] on its own, or in the transaction of its audit entry.
pub(super) async fn mark_deleted<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: &RecordingId,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    sqlx::query(
        "INSERT INTO recordings (recording_id, sort_at, processing_status, created_at, updated_at) \
         VALUES ($1, $2, 'deleted', $2, $2) \
         ON CONFLICT (recording_id) DO UPDATE SET processing_status = 'deleted', \
           processing_heartbeat_at = NULL, updated_at = $2 \
         WHERE recordings.legal_hold_at IS NULL AND recordings.processing_status <> 'purged'",
    )
    .bind(id.as_str())
    .bind(to_millis(at))
    .execute_one(executor)
    .await
}

pub(super) fn label_str(label: SentimentLabel) -> &'static str {
    match label {
        SentimentLabel::Positive => "positive",
        SentimentLabel::Neutral => "neutral",
        SentimentLabel::Negative => "negative",
    }
}

fn parse_label(raw: &str) -> SentimentLabel {
    match raw {
        "positive" => SentimentLabel::Positive,
        "negative" => SentimentLabel::Negative,
        _ => SentimentLabel::Neutral,
    }
}

fn parse_status(raw: &str) -> Result<ProcessingStatus, StoreError> {
    ProcessingStatus::parse(raw)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown processing status {raw:?}")))
}

pub(super) fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: DeserializeOwned>(raw: &str, column: &str) -> Result<T, StoreError> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

fn opt_json<T: DeserializeOwned>(row: &AnyRow, column: &str) -> Result<Option<T>, StoreError> {
    row.try_get::<Option<String>, _>(column)?
        .map(|raw| from_json(&raw, column))
        .transpose()
}

pub(super) fn recording_from_row(row: &AnyRow) -> Result<Recording, StoreError> {
    let id: String = row.try_get("recording_id")?;
    let status: String = row.try_get("processing_status")?;
    let sentiment = match (
        row.try_get::<Option<f64>, _>("sentiment_score")?,
        row.try_get::<Option<String>, _>("sentiment_label")?,
    ) {
        (Some(score), Some(label)) => Some(CallSentiment {
            score,
            label: parse_label(&label),
            by_speaker: opt_json(row, "sentiment_by_speaker")?,
            by_quarter: opt_json(row, "sentiment_by_quarter")?,
            end: row
                .try_get::<Option<String>, _>("sentiment_end")?
                .as_deref()
                .map(parse_label),
        }),
        _ => None,
    };
    let summary_source = match row
        .try_get::<Option<String>, _>("summary_source")?
        .as_deref()
    {
        Some("llm") => Some(SummarySource::Llm),
        Some("local") => Some(SummarySource::Local),
        _ => None,
    };
    let json_list = |column: &str| -> Result<Vec<String>, StoreError> {
        from_json(&row.try_get::<String, _>(column)?, column)
    };
    // A purged row keeps its file locations only until retention has removed the files
    // (`purged_with_files` reads them): a tombstone shows none.
    let purged = status == ProcessingStatus::Purged.as_str();
    let location = |column: &str| -> Result<Option<String>, StoreError> {
        Ok(row
            .try_get::<Option<String>, _>(column)?
            .filter(|_| !purged))
    };
    Ok(Recording {
        recording_id: RecordingId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        timestamp: row
            .try_get::<Option<i64>, _>("recorded_at")?
            .map(from_millis)
            .transpose()?,
        caller: row.try_get("caller")?,
        callee: row.try_get("callee")?,
        caller_name: row.try_get("caller_name")?,
        callee_name: row.try_get("callee_name")?,
        duration: row.try_get("duration_seconds")?,
        participants: json_list("participants")?,
        audio_url: row.try_get("audio_url")?,
        audio_local_path: location("audio_local_path")?,
        audio_format: row.try_get("audio_format")?,
        audio_size_bytes: row.try_get("audio_size_bytes")?,
        audio_sha256: row.try_get("audio_sha256")?,
        transcript_text: row.try_get("transcript_text")?,
        transcript_vtt_path: location("transcript_vtt_path")?,
        transcript_source: row.try_get("transcript_source")?,
        transcript_cues: opt_json::<Transcript>(row, "transcript_cues")?,
        has_webex_transcript: row.try_get::<i64, _>("has_webex_transcript")? != 0,
        summary_text: row.try_get("summary_text")?,
        summary_bullet_points: json_list("summary_bullet_points")?,
        key_topics: json_list("key_topics")?,
        action_items: json_list("action_items")?,
        summary_source,
        sentiment,
        detected_language: row.try_get("detected_language")?,
        language_confidence: row.try_get("language_confidence")?,
        translated_text: row.try_get("translated_text")?,
        call_metrics: opt_json(row, "call_metrics")?,
        roles: opt_json(row, "roles")?,
        insights: opt_json(row, "insights")?,
        roles_swapped: row.try_get::<i64, _>("roles_swapped")? != 0,
        // Rows from before redaction existed have none recorded.
        redactions: opt_json(row, "redactions")?.unwrap_or_default(),
        processing_status: parse_status(&status)?,
        processing_steps_completed: json_list("processing_steps_completed")?,
        processing_errors: from_json(
            &row.try_get::<String, _>("processing_errors")?,
            "processing_errors",
        )?,
        quality_score: row.try_get("quality_score")?,
        webex_metadata: opt_json(row, "webex_metadata")?,
        // Filled from `tracker_matches` by the caller (see `store::trackers`).
        trackers: Vec::new(),
        created_at: from_millis(row.try_get("created_at")?)?,
        updated_at: from_millis(row.try_get("updated_at")?)?,
        legal_hold: legal_hold_from_row(row)?,
        purged_at: row
            .try_get::<Option<i64>, _>("purged_at")?
            .map(from_millis)
            .transpose()?,
    })
}

fn legal_hold_from_row(row: &AnyRow) -> Result<Option<crate::domain::LegalHold>, StoreError> {
    let at: Option<i64> = row.try_get("legal_hold_at")?;
    let Some(at) = at else { return Ok(None) };
    Ok(Some(crate::domain::LegalHold {
        reason: row
            .try_get::<Option<String>, _>("legal_hold_reason")?
            .unwrap_or_default(),
        by: row
            .try_get::<Option<String>, _>("legal_hold_by")?
            .unwrap_or_default(),
        at: from_millis(at)?,
    }))
}
