//! SQL of the embedded durable queue.

use chrono::{DateTime, Utc};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe, Row};

use super::{Backend, ExecuteOne, Store, StoreError, to_millis};

/// A message as stored.
#[derive(Debug, Clone)]
pub struct QueueRow {
    pub message_id: String,
    pub routing_key: String,
    pub body: String,
    /// JSON of the publisher's W3C trace context, if it sent one.
    pub trace_context: Option<String>,
}

/// Our hold on a taken message: every change to it is guarded by both, so a consumer whose
/// lease ran out (and was taken by another) changes nothing.
#[derive(Debug, Clone)]
pub struct QueueLease {
    pub message_id: String,
    pub lease_token: String,
}

/// A message leased to one consumer until `leased_until`.
#[derive(Debug, Clone)]
pub struct TakenMessage {
    pub lease: QueueLease,
    pub body: String,
    /// Deliveries so far, this one included.
    pub attempts: u32,
    pub trace_context: Option<String>,
}

impl Store {
    /// Durable once this returns: the row is committed.
    pub async fn enqueue(&self, row: &QueueRow, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO queue_messages (message_id, routing_key, body, state, attempts, available_at, created_at, trace_context) \
             VALUES ($1, $2, $3, 'ready', 0, $4, $4, $5)",
        )
        .bind(&row.message_id)
        .bind(&row.routing_key)
        .bind(&row.body)
        .bind(to_millis(now))
        .bind(&row.trace_context)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Leases the message that has been available longest, if any, under a new lease token.
    pub async fn take_message(
        &self,
        now: DateTime<Utc>,
        leased_until: DateTime<Utc>,
    ) -> Result<Option<TakenMessage>, StoreError> {
        // PostgreSQL: SKIP LOCKED lets concurrent consumers pass over a row another one is
        // taking instead of queueing behind it. SQLite serialises writers, so the statement is
        // atomic there as it stands.
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE queue_messages SET attempts = attempts + 1, lease_token = $1, leased_until = $2 \
             WHERE message_id = ( \
               SELECT message_id FROM queue_messages \
               WHERE state = 'ready' AND available_at <= $3 \
                 AND (leased_until IS NULL OR leased_until <= $3) \
               ORDER BY available_at, message_id LIMIT 1 {lock}) \
             RETURNING message_id, body, attempts, trace_context"
        );
        let lease_token = uuid::Uuid::new_v4().to_string();
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(&lease_token)
            .bind(to_millis(leased_until))
            .bind(to_millis(now))
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(TakenMessage {
            lease: QueueLease {
                message_id: row.try_get(0)?,
                lease_token,
            },
            body: row.try_get(1)?,
            attempts: u32::try_from(row.try_get::<i64, _>(2)?).unwrap_or(u32::MAX),
            trace_context: row.try_get(3)?,
        }))
    }

    /// Keeps a long-running lease alive.
    pub async fn extend_lease(
        &self,
        lease: &QueueLease,
        leased_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        lease
            .bind("UPDATE queue_messages SET leased_until = $3 WHERE message_id = $1 AND lease_token = $2")
            .bind(to_millis(leased_until))
            .execute_one(&self.pool)
            .await
    }

    /// Removes a message we still hold. `false`: our lease was lost (another consumer has it).
    pub async fn ack_message(&self, lease: &QueueLease) -> Result<bool, StoreError> {
        lease
            .bind("DELETE FROM queue_messages WHERE message_id = $1 AND lease_token = $2")
            .execute_one(&self.pool)
            .await
    }

    pub async fn retry_message(
        &self,
        lease: &QueueLease,
        available_at: DateTime<Utc>,
        error: &str,
    ) -> Result<bool, StoreError> {
        lease
            .bind(
                "UPDATE queue_messages SET available_at = $3, lease_token = NULL, leased_until = NULL, last_error = $4 \
                 WHERE message_id = $1 AND lease_token = $2",
            )
            .bind(to_millis(available_at))
            .bind(error)
            .execute_one(&self.pool)
            .await
    }

    pub async fn dead_letter_message(
        &self,
        lease: &QueueLease,
        error: &str,
    ) -> Result<bool, StoreError> {
        lease
            .bind(
                "UPDATE queue_messages SET state = 'dead', lease_token = NULL, leased_until = NULL, last_error = $3 \
                 WHERE message_id = $1 AND lease_token = $2",
            )
            .bind(error)
            .execute_one(&self.pool)
            .await
    }

    /// (ready or leased, dead) message counts.
    pub async fn queue_depth(&self) -> Result<(u64, u64), StoreError> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(CASE WHEN state = 'ready' THEN 1 ELSE 0 END), 0) AS BIGINT), \
                    CAST(COALESCE(SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM queue_messages",
        )
        .fetch_one(&self.pool)
        .await?;
        let ready: i64 = row.try_get(0)?;
        let dead: i64 = row.try_get(1)?;
        Ok((
            u64::try_from(ready).unwrap_or(0),
            u64::try_from(dead).unwrap_or(0),
        ))
    }
}

impl QueueLease {
    /// `sql` with this lease as `$1` (message id) and `$2` (token), which it must guard on.
    fn bind(&self, sql: &'static str) -> Query<'_, Any, AnyArguments> {
        sqlx::query(sql)
            .bind(self.message_id.as_str())
            .bind(self.lease_token.as_str())
    }
}
