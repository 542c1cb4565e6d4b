//! Scheduled jobs: a lease in the database so that one worker runs a job at a time, and the
//! reconciler's high-water mark.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Store, StoreError, from_millis, to_millis};

/// A job lease we hold until `until`.
#[derive(Debug, Clone)]
pub struct JobLease {
    pub job: String,
    pub owner: String,
    pub until: DateTime<Utc>,
    /// Where the last successful run ended.
    pub high_water_mark: Option<DateTime<Utc>>,
}

impl Store {
    /// Takes the job's lease if nobody holds it (or the holder's lease ran out).
    pub async fn try_lease_job(
        &self,
        job: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<JobLease>, StoreError> {
        sqlx::query(
            "INSERT INTO job_state (job, updated_at) VALUES ($1, $2) ON CONFLICT (job) DO NOTHING",
        )
        .bind(job)
        .bind(to_millis(now))
        .execute(&self.pool)
        .await?;
        let row = sqlx::query(
            "UPDATE job_state SET lease_owner = $2, lease_until = $3, updated_at = $4 \
             WHERE job = $1 AND (lease_owner IS NULL OR lease_until IS NULL OR lease_until <= $4 OR lease_owner = $2) \
             RETURNING high_water_mark",
        )
        .bind(job)
        .bind(owner)
        .bind(to_millis(until))
        .bind(to_millis(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(JobLease {
                job: job.to_string(),
                owner: owner.to_string(),
                until,
                high_water_mark: r
                    .try_get::<Option<i64>, _>(0)?
                    .map(from_millis)
                    .transpose()?,
            })
        })
        .transpose()
    }

    /// Ends the lease; on success the high-water mark moves to `mark`.
    pub async fn finish_job(
        &self,
        lease: &JobLease,
        outcome: Result<DateTime<Utc>, &str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let query = match outcome {
            Ok(mark) => sqlx::query(
                "UPDATE job_state SET lease_owner = NULL, lease_until = NULL, high_water_mark = $3, \
                   last_success_at = $4, last_error = NULL, updated_at = $4 \
                 WHERE job = $1 AND lease_owner = $2",
            )
            .bind(&lease.job)
            .bind(&lease.owner)
            .bind(to_millis(mark))
            .bind(to_millis(now)),
            Err(error) => sqlx::query(
                "UPDATE job_state SET lease_owner = NULL, lease_until = NULL, last_error = $3, updated_at = $4 \
                 WHERE job = $1 AND lease_owner = $2",
            )
            .bind(&lease.job)
            .bind(&lease.owner)
            .bind(error.to_string())
            .bind(to_millis(now)),
        };
        query.execute(&self.pool).await?;
        Ok(())
    }

    pub async fn job_high_water_mark(
        &self,
        job: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let mark: Option<Option<i64>> =
            sqlx::query_scalar("SELECT high_water_mark FROM job_state WHERE job = $1")
                .bind(job)
                .fetch_optional(&self.pool)
                .await?;
        mark.flatten().map(from_millis).transpose()
    }
}
