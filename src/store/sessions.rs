//! Console sessions, pending OAuth logins and the readiness probe's write.

use std::time::Duration;

use chrono::Utc;
use sqlx::{Any, Executor, Row};

use super::{ExecuteOne, Store, StoreError, to_millis};
use crate::access::{Principal, Role};

/// A session's `last_seen_at` is rewritten at most this often, not on every request.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A live console session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub principal: Principal,
    /// SHA-256 of the secret it was signed in with, where that secret is not a stored key.
    pub credential_hash: Option<String>,
}

impl Store {
    pub async fn create_session(
        &self,
        token_hash: &str,
        principal: &Principal,
        credential_hash: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = to_millis(Utc::now());
        sqlx::query(
            "INSERT INTO sessions (token_hash, actor, role, created_at, last_seen_at, credential_hash) \
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(token_hash)
        .bind(&principal.actor)
        .bind(principal.role.to_string())
        .bind(now)
        .bind(credential_hash)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A live session; one idle for `idle` or longer is gone. `activity`: the request counts as
    /// the session's use and keeps it alive (a refused cross-site request must not).
    pub async fn session(
        &self,
        token_hash: &str,
        idle: Duration,
        activity: bool,
    ) -> Result<Option<Session>, StoreError> {
        let now = to_millis(Utc::now());
        let row = sqlx::query(
            "SELECT actor, role, last_seen_at, credential_hash FROM sessions \
             WHERE token_hash = $1 AND last_seen_at > $2",
        )
        .bind(token_hash)
        .bind(now - millis(idle))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let actor: String = row.try_get(0)?;
        let role: String = row.try_get(1)?;
        let last_seen: i64 = row.try_get(2)?;
        let credential_hash: Option<String> = row.try_get(3)?;
        let role: Role = role
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("session role {role:?}")))?;
        if activity && now - last_seen >= millis(TOUCH_EVERY) {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(token_hash)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(Session {
            principal: Principal::new(actor, role),
            credential_hash,
        }))
    }

    pub async fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records a pending OAuth login. Expired states go, and each actor keeps at most
    /// `max_per_actor` (its oldest dropped), so nobody can evict another actor's login.
    pub async fn save_oauth_state(
        &self,
        state_hash: &str,
        binding_hash: &str,
        actor: &str,
        ttl: Duration,
        max_per_actor: u32,
    ) -> Result<(), StoreError> {
        let now = to_millis(Utc::now());
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM oauth_states WHERE created_at <= $1")
            .bind(now - millis(ttl))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM oauth_states WHERE actor = $1 AND state_hash NOT IN \
             (SELECT state_hash FROM oauth_states WHERE actor = $1 \
              ORDER BY created_at DESC, state_hash LIMIT $2)",
        )
        .bind(actor)
        .bind(i64::from(max_per_actor.saturating_sub(1)))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO oauth_states (state_hash, binding_hash, actor, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(state_hash)
        .bind(binding_hash)
        .bind(actor)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Redeems a pending login once: true only for a live state presented with the binding it
    /// was issued to. A state presented without its binding stays for its rightful holder.
    pub async fn take_oauth_state(
        &self,
        state_hash: &str,
        binding_hash: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = to_millis(Utc::now());
        sqlx::query(
            "DELETE FROM oauth_states WHERE state_hash = $1 AND binding_hash = $2 AND created_at > $3",
        )
        .bind(state_hash)
        .bind(binding_hash)
        .bind(now - millis(ttl))
        .execute_one(&self.pool)
        .await
    }

    /// For `/readyz`: one small write, so "ready" means a webhook could be queued.
    pub async fn probe_write(&self) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO readiness_probe (id, checked_at) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
        )
        .bind(to_millis(Utc::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// In the transaction that revokes the actor's key: its sessions end with it.
pub(super) async fn end_sessions_of<'c>(
    executor: impl Executor<'c, Database = Any>,
    actor: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE actor = $1")
        .bind(actor)
        .execute(executor)
        .await?;
    Ok(())
}
