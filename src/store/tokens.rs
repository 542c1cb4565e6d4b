//! OAuth tokens of the Webex integration, kept in the database (never a file in the work tree).

use chrono::Utc;
use sqlx::Row;

use super::{Store, StoreError, from_millis, to_millis};
use crate::webex::OAuthTokens;

const PROVIDER: &str = "webex";

impl Store {
    pub async fn load_oauth_tokens(&self) -> Result<Option<OAuthTokens>, StoreError> {
        let row = sqlx::query(
            "SELECT access_token, access_expires_at, refresh_token, refresh_expires_at \
             FROM oauth_tokens WHERE provider = $1",
        )
        .bind(PROVIDER)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(OAuthTokens {
                access_token: r.try_get(0)?,
                access_expires_at: from_millis(r.try_get(1)?)?,
                refresh_token: r.try_get(2)?,
                refresh_expires_at: r
                    .try_get::<Option<i64>, _>(3)?
                    .map(from_millis)
                    .transpose()?,
            })
        })
        .transpose()
    }

    pub async fn save_oauth_tokens(&self, tokens: &OAuthTokens) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO oauth_tokens (provider, access_token, access_expires_at, refresh_token, refresh_expires_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (provider) DO UPDATE SET access_token = excluded.access_token, \
               access_expires_at = excluded.access_expires_at, refresh_token = excluded.refresh_token, \
               refresh_expires_at = excluded.refresh_expires_at, updated_at = excluded.updated_at",
        )
        .bind(PROVIDER)
        .bind(&tokens.access_token)
        .bind(to_millis(tokens.access_expires_at))
        .bind(&tokens.refresh_token)
        .bind(tokens.refresh_expires_at.map(to_millis))
        .bind(to_millis(Utc::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
