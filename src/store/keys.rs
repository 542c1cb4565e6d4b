//! Access keys: a name, a role and the SHA-256 of the key (the key itself is never stored).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::{ExecuteOne, Store, StoreError, from_millis, to_millis};
use crate::access::{Principal, Role};

/// `last_used_at` is rewritten at most this often per key, not on every request.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// A key as `keys list` shows it: never the key or its hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyInfo {
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Fails with [`StoreError::Duplicate`] when a key (live or revoked) has this name.
    pub async fn create_key(
        &self,
        name: &str,
        role: Role,
        key_hash: &str,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO api_keys (name, role, key_hash, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(role.to_string())
        .bind(key_hash)
        .bind(to_millis(Utc::now()))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Duplicate(format!(
                "a key named {name:?} exists"
            )));
        }
        Ok(())
    }

    pub async fn list_keys(&self) -> Result<Vec<KeyInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, role, created_at, last_used_at, revoked_at FROM api_keys ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get(1)?;
                Ok(KeyInfo {
                    name: r.try_get(0)?,
                    role: role
                        .parse()
                        .map_err(|_| StoreError::Corrupt(format!("key role {role:?}")))?,
                    created_at: from_millis(r.try_get(2)?)?,
                    last_used_at: r
                        .try_get::<Option<i64>, _>(3)?
                        .map(from_millis)
                        .transpose()?,
                    revoked_at: r
                        .try_get::<Option<i64>, _>(4)?
                        .map(from_millis)
                        .transpose()?,
                })
            })
            .collect()
    }

    /// Revokes a live key and ends its console sessions; false if there is none by that name.
    pub async fn revoke_key(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let revoked = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL",
        )
        .bind(to_millis(Utc::now()))
        .bind(name)
        .execute_one(&mut *tx)
        .await?;
        super::sessions::end_sessions_of(&mut *tx, name).await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// The principal of a live key with this hash.
    pub async fn key_principal(&self, key_hash: &str) -> Result<Option<Principal>, StoreError> {
        let row = sqlx::query(
            "SELECT name, role, last_used_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let name: String = row.try_get(0)?;
        let role: String = row.try_get(1)?;
        let role: Role = role
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("key role {role:?}")))?;
        let now = to_millis(Utc::now());
        let stale = row
            .try_get::<Option<i64>, _>(2)?
            .is_none_or(|at| now - at >= i64::try_from(TOUCH_EVERY.as_millis()).unwrap_or(0));
        if stale {
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE name = $2")
                .bind(now)
                .bind(&name)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(Principal::new(name, role)))
    }
}
