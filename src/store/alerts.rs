//! Every SQL statement of the alert outbox: events are written with the recording they are
//! about, claimed by one dispatcher at a time (a short lease per event), then marked delivered,
//! rescheduled or failed.

use chrono::{DateTime, Utc};
use sqlx::{Any, Row, Transaction};

use super::{Store, StoreError, from_millis, to_millis};
use crate::alerts::AlertEvent;

/// An event claimed for one delivery attempt.
#[derive(Debug, Clone)]
pub struct OutboxAlert {
    pub event: AlertEvent,
    /// Attempts made before this one.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

pub(super) async fn enqueue_alert(
    tx: &mut Transaction<'static, Any>,
    event: &AlertEvent,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO alert_outbox (id, event_type, body, state, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, 'pending', $4, $4)",
    )
    .bind(&event.id)
    .bind(&event.event_type)
    .bind(&event.body)
    .bind(to_millis(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Takes up to `limit` due events for `lease_until`; another dispatcher skips them until the
    /// lease runs out (so a crashed dispatcher's events come back).
    pub async fn claim_due_alerts(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxAlert>, StoreError> {
        // The state and lease are checked again outside the sub-select: PostgreSQL re-checks
        // those on a row another dispatcher updated meanwhile, so an event is claimed once.
        let rows = sqlx::query(
            "UPDATE alert_outbox SET lease_until = $2 \
             WHERE id IN (SELECT id FROM alert_outbox WHERE state = 'pending' AND next_attempt_at <= $1 \
                            AND (lease_until IS NULL OR lease_until <= $1) \
                          ORDER BY next_attempt_at, id LIMIT $3) \
               AND state = 'pending' AND (lease_until IS NULL OR lease_until <= $1) \
             RETURNING id, event_type, body, attempts, created_at",
        )
        .bind(to_millis(now))
        .bind(to_millis(lease_until))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = rows
            .iter()
            .map(|row| {
                Ok(OutboxAlert {
                    event: AlertEvent {
                        id: row.try_get("id")?,
                        event_type: row.try_get("event_type")?,
                        body: row.try_get("body")?,
                    },
                    attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(0),
                    created_at: from_millis(row.try_get("created_at")?)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // RETURNING gives no order; deliver oldest first.
        claimed.sort_by(|a, b| (a.created_at, &a.event.id).cmp(&(b.created_at, &b.event.id)));
        Ok(claimed)
    }

    pub async fn alert_delivered(&self, id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE alert_outbox SET state = 'delivered', attempts = attempts + 1, \
               lease_until = NULL, last_error = NULL, finished_at = $2 WHERE id = $1",
        )
        .bind(id)
        .bind(to_millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A failed attempt: tried again at `retry_at`, or (`None`) given up for good.
    pub async fn alert_attempt_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let query = match retry_at {
            Some(at) => sqlx::query(
                "UPDATE alert_outbox SET attempts = attempts + 1, lease_until = NULL, \
                   last_error = $2, next_attempt_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(error.to_string())
            .bind(to_millis(at)),
            None => sqlx::query(
                "UPDATE alert_outbox SET state = 'failed', attempts = attempts + 1, \
                   lease_until = NULL, last_error = $2, finished_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(error.to_string())
            .bind(to_millis(now)),
        };
        query.execute(&self.pool).await?;
        Ok(())
    }

    /// Events given up on after retrying for the whole delivery window (`alerts_failed`).
    pub async fn alerts_failed(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alert_outbox WHERE state = 'failed'")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Events not delivered yet (for tests and the dispatcher's log).
    pub async fn alerts_pending(&self) -> Result<u64, StoreError> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM alert_outbox WHERE state = 'pending'")
                .fetch_one(&self.pool)
                .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
