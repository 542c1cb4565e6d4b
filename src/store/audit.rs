//! The audit log: append-only (the database refuses UPDATE and DELETE), ids 1, 2, 3… assigned
//! under a lock, each entry hashed with the previous entry's hash. `verify_audit` re-walks it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Any, Row, Transaction};

use super::{Backend, Store, StoreError, from_millis, to_millis};

/// What the first entry chains to.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Entries read at a time by `verify_audit`.
const VERIFY_BATCH: i64 = 1000;

/// One action to record. `role` is absent when nobody could be authenticated.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NewAuditEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub role: Option<String>,
    pub action: String,
    pub recording_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The HTTP status answered (0 for the CLI's own actions).
    pub status: u16,
    pub detail: Option<String>,
}

impl NewAuditEntry {
    /// An entry of a job or a command rather than a request: no role, address or agent, status 0.
    pub fn unattended(actor: &str, action: &str, detail: Option<String>) -> Self {
        Self {
            at: Utc::now(),
            actor: actor.to_string(),
            role: None,
            action: action.to_string(),
            recording_id: None,
            ip: None,
            user_agent: None,
            status: 0,
            detail,
        }
    }
}

/// A stored entry, as `GET /api/v1/audit` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    #[serde(flatten)]
    pub entry: NewAuditEntry,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub recording_id: Option<String>,
    pub skip: u64,
    pub limit: u64,
}

/// Where the chain breaks, for `audit verify`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditBreak {
    #[error("entry {id}: its content does not match its hash (edited)")]
    Edited { id: i64 },
    #[error("entry {id}: it does not follow entry {previous} (an entry was removed or reordered)")]
    Chain { id: i64, previous: i64 },
}

fn content_hash(prev_hash: &str, id: i64, e: &NewAuditEntry) -> String {
    // A JSON array: unambiguous field boundaries, whatever the fields contain.
    let content = serde_json::json!([
        prev_hash,
        id,
        to_millis(e.at),
        e.actor,
        e.role,
        e.action,
        e.recording_id,
        e.ip,
        e.user_agent,
        e.status,
        e.detail
    ]);
    hex::encode(Sha256::digest(content.to_string().as_bytes()))
}

impl Store {
    /// A write transaction that holds the audit chain's lock from its first statement, so two
    /// writers (threads or processes) can never chain to the same entry.
    pub(crate) async fn begin_serialized(&self) -> Result<Transaction<'static, Any>, StoreError> {
        let mut tx = self.begin_write().await?;
        // SQLite's write lock, taken at BEGIN, already serializes; PostgreSQL needs a lock.
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7206355391)")
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// Appends one entry in its own transaction.
    pub async fn append_audit(&self, entry: &NewAuditEntry) -> Result<i64, StoreError> {
        let mut tx = self.begin_serialized().await?;
        let id = append_in(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
    ) -> Result<(u64, Vec<AuditEntry>), StoreError> {
        let mut clauses = Vec::new();
        let mut binds: Vec<Bind> = Vec::new();
        let mut push = |sql: &str, value: Bind| {
            binds.push(value);
            clauses.push(sql.replace('?', &format!("${}", binds.len())));
        };
        if let Some(from) = filter.from {
            push("at >= ?", Bind::Int(to_millis(from)));
        }
        if let Some(to) = filter.to {
            push("at < ?", Bind::Int(to_millis(to)));
        }
        if let Some(actor) = &filter.actor {
            push("actor = ?", Bind::Text(actor.clone()));
        }
        if let Some(action) = &filter.action {
            push("action = ?", Bind::Text(action.clone()));
        }
        if let Some(id) = &filter.recording_id {
            push("recording_id = ?", Bind::Text(id.clone()));
        }
        let filter_sql = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        let n = binds.len();
        // One round trip: the total rides along on every row (0 rows: a second query).
        let sql = format!(
            "SELECT id, at, actor, role, action, recording_id, ip, user_agent, status, detail, \
               COUNT(*) OVER () FROM audit_log{filter_sql} ORDER BY id DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            query = b.bind(query);
        }
        let rows = query
            .bind(i64::try_from(filter.limit).unwrap_or(i64::MAX))
            .bind(i64::try_from(filter.skip).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        let mut total = rows
            .first()
            .map(|r| r.try_get::<i64, _>(10))
            .transpose()?
            .unwrap_or(0);
        if rows.is_empty() && filter.skip > 0 {
            let sql = format!("SELECT COUNT(*) FROM audit_log{filter_sql}");
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for b in &binds {
                query = b.bind(query);
            }
            total = query.fetch_one(&self.pool).await?.try_get(0)?;
        }
        let items = rows.iter().map(read_entry).collect::<Result<_, _>>()?;
        Ok((u64::try_from(total).unwrap_or(0), items))
    }

    /// Walks the whole log in id order; the number of entries, or the first break.
    pub async fn verify_audit(&self) -> Result<Result<u64, AuditBreak>, StoreError> {
        let mut prev_hash = GENESIS.to_string();
        let mut prev_id = 0i64;
        loop {
            let rows = sqlx::query(
                "SELECT id, at, actor, role, action, recording_id, ip, user_agent, status, detail, \
                   prev_hash, hash FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(prev_id)
            .bind(VERIFY_BATCH)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                return Ok(Ok(u64::try_from(prev_id).unwrap_or(0)));
            }
            for row in &rows {
                let entry = read_entry(row)?;
                let stored_prev: String = row.try_get(10)?;
                let stored_hash: String = row.try_get(11)?;
                if entry.id != prev_id + 1 || stored_prev != prev_hash {
                    return Ok(Err(AuditBreak::Chain {
                        id: entry.id,
                        previous: prev_id,
                    }));
                }
                if content_hash(&stored_prev, entry.id, &entry.entry) != stored_hash {
                    return Ok(Err(AuditBreak::Edited { id: entry.id }));
                }
                prev_id = entry.id;
                prev_hash = stored_hash;
            }
        }
    }
}

/// Appends inside the caller's serialized transaction ([`Store::begin_serialized`]), so an
/// entry commits with the change it records, or neither does.
pub(crate) async fn append_in(
    tx: &mut Transaction<'static, Any>,
    e: &NewAuditEntry,
) -> Result<i64, StoreError> {
    let last = sqlx::query("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?;
    let (prev_id, prev_hash) = match last {
        Some(row) => (row.try_get::<i64, _>(0)?, row.try_get::<String, _>(1)?),
        None => (0, GENESIS.to_string()),
    };
    let id = prev_id + 1;
    let hash = content_hash(&prev_hash, id, e);
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor, role, action, recording_id, ip, user_agent, status, \
           detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id)
    .bind(to_millis(e.at))
    .bind(&e.actor)
    .bind(e.role.as_deref())
    .bind(&e.action)
    .bind(e.recording_id.as_deref())
    .bind(e.ip.as_deref())
    .bind(e.user_agent.as_deref())
    .bind(i64::from(e.status))
    .bind(e.detail.as_deref())
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

fn read_entry(row: &sqlx::any::AnyRow) -> Result<AuditEntry, StoreError> {
    let status: i64 = row.try_get(8)?;
    Ok(AuditEntry {
        id: row.try_get(0)?,
        entry: NewAuditEntry {
            at: from_millis(row.try_get(1)?)?,
            actor: row.try_get(2)?,
            role: row.try_get(3)?,
            action: row.try_get(4)?,
            recording_id: row.try_get(5)?,
            ip: row.try_get(6)?,
            user_agent: row.try_get(7)?,
            status: u16::try_from(status)
                .map_err(|_| StoreError::Corrupt(format!("audit status {status}")))?,
            detail: row.try_get(9)?,
        },
    })
}

enum Bind {
    Int(i64),
    Text(String),
}

impl Bind {
    fn bind<'q>(
        &'q self,
        q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
        match self {
            Self::Int(v) => q.bind(*v),
            Self::Text(v) => q.bind(v.as_str()),
        }
    }
}
