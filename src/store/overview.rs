//! Counts for the console's overview: by status and sentiment, and calls per day.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

use super::{Store, StoreError, from_millis, to_millis};

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    /// Status → recordings (deleted and purged included: they are statuses too).
    pub by_status: BTreeMap<String, u64>,
    /// Sentiment label → recordings, over those not deleted or purged.
    pub by_sentiment: BTreeMap<String, u64>,
    /// Every day from `since` (UTC) on, with the calls recorded that day; days without calls
    /// are there with 0.
    pub per_day: Vec<(NaiveDate, u64)>,
}

impl Store {
    /// One round trip: the three counts as rows tagged by kind.
    pub async fn overview(&self, since: DateTime<Utc>) -> Result<Overview, StoreError> {
        let since_day = to_millis(since).div_euclid(DAY_MS);
        let rows = sqlx::query(
            "SELECT 'status', processing_status, COUNT(*) FROM recordings GROUP BY processing_status \
             UNION ALL \
             SELECT 'sentiment', sentiment_label, COUNT(*) FROM recordings \
               WHERE sentiment_label IS NOT NULL AND processing_status NOT IN ('deleted', 'purged') \
               GROUP BY sentiment_label \
             UNION ALL \
             SELECT 'day', CAST(sort_at / 86400000 AS TEXT), COUNT(*) FROM recordings \
               WHERE sort_at >= $1 AND processing_status NOT IN ('deleted', 'purged') \
               GROUP BY sort_at / 86400000",
        )
        .bind(since_day * DAY_MS)
        .fetch_all(&self.pool)
        .await?;
        let mut overview = Overview::default();
        let mut days = BTreeMap::new();
        for row in rows {
            let kind: String = row.try_get(0)?;
            let key: String = row.try_get(1)?;
            let count = u64::try_from(row.try_get::<i64, _>(2)?).unwrap_or(0);
            match kind.as_str() {
                "status" => {
                    overview.by_status.insert(key, count);
                }
                "sentiment" => {
                    overview.by_sentiment.insert(key, count);
                }
                _ => {
                    let day: i64 = key
                        .parse()
                        .map_err(|_| StoreError::Corrupt(format!("day number {key:?}")))?;
                    days.insert(day, count);
                }
            }
        }
        let today = Utc::now().timestamp_millis().div_euclid(DAY_MS);
        for day in since_day..=today {
            let date = from_millis(day * DAY_MS)?.date_naive();
            overview
                .per_day
                .push((date, days.get(&day).copied().unwrap_or(0)));
        }
        Ok(overview)
    }
}
