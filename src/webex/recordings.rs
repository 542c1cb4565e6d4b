//! Converged recordings: list (paged), details, metadata, delete (recycle bin or permanent).

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::types::{Recording, RecordingDetails, RecordingMetadata};
use super::{ApiRequest, Pages, WebexClient, WebexError};

/// Which listing to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListScope {
    /// `/admin/convergedRecordings`: the whole org (admin or compliance officer token);
    /// `from`–`to` must span at most 30 days.
    Admin,
    /// `/convergedRecordings`: the token owner's own recordings.
    User,
}

/// Query of a recordings listing; `None` fields are left out (Webex defaults apply).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    /// Inclusive start.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive end.
    pub to: Option<DateTime<Utc>>,
    /// Page size, 1–100.
    pub max: Option<u32>,
    /// `available` (Webex default), `deleted`, `purged` (admin).
    pub status: Option<String>,
    /// `calling`, `customerAssist`.
    pub service_type: Option<String>,
    pub format: Option<String>,
    pub owner_type: Option<String>,
    /// Admin listing only.
    pub owner_id: Option<String>,
    /// Admin listing only.
    pub owner_email: Option<String>,
    pub storage_region: Option<String>,
    pub location_id: Option<String>,
    pub topic: Option<String>,
}

/// How a recording was removed at Webex by [`WebexClient::delete_as_allowed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebexDeletion {
    /// Moved to the owner's recycle bin (`softDelete`): restorable at Webex for a while.
    RecycleBin,
    /// Deleted for good (a compliance officer's token).
    Permanent,
    /// Webex no longer had it (404): nothing left to delete.
    AlreadyGone,
}

/// Why the service deletes, for the permanent deletion's audit fields at Webex.
pub struct DeletionNote<'a> {
    pub reason: &'a str,
    pub comment: &'a str,
}

/// ISO 8601 in UTC with a `Z` (fractional seconds only when present).
fn iso(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

impl ListQuery {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        if let Some(v) = &self.from {
            p.push(("from", iso(v)));
        }
        if let Some(v) = &self.to {
            p.push(("to", iso(v)));
        }
        if let Some(v) = self.max {
            p.push(("max", v.to_string()));
        }
        let strings = [
            ("status", &self.status),
            ("serviceType", &self.service_type),
            ("format", &self.format),
            ("ownerType", &self.owner_type),
            ("ownerId", &self.owner_id),
            ("ownerEmail", &self.owner_email),
            ("storageRegion", &self.storage_region),
            ("locationId", &self.location_id),
            ("topic", &self.topic),
        ];
        for (name, value) in strings {
            if let Some(v) = value {
                p.push((name, v.clone()));
            }
        }
        p
    }
}

impl WebexClient {
    /// Lists recordings page by page (newest first), following `Link rel="next"` as given.
    pub fn list_recordings(&self, scope: ListScope, query: &ListQuery) -> Pages<Recording> {
        let mut url = match scope {
            ListScope::Admin => self.endpoint(&["admin", "convergedRecordings"]),
            ListScope::User => self.endpoint(&["convergedRecordings"]),
        };
        let pairs = query.pairs();
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        Pages::new(self.clone(), url)
    }

    /// Details, including `temporaryDirectDownloadLinks` (valid about 3 hours: fetch them
    /// right before downloading). Admin tokens get no links; see [`RecordingDetails`].
    pub async fn recording_details(&self, id: &str) -> Result<RecordingDetails, WebexError> {
        self.get_json(self.endpoint(&["convergedRecordings", id]))
            .await
    }

    /// Call metadata; `Ok(None)` when Webex answers 204 (not ready yet) or an empty body.
    pub async fn recording_metadata(
        &self,
        id: &str,
    ) -> Result<Option<RecordingMetadata>, WebexError> {
        let mut url = self.endpoint(&["convergedRecordings", id, "metadata"]);
        url.query_pairs_mut().append_pair("showAllTypes", "true");
        let resp = self.execute(ApiRequest::get(url)).await?;
        if resp.status() == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        let body = resp.bytes().await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let raw: Value = serde_json::from_slice(&body)
            .map_err(|e| WebexError::Decode(format!("recording metadata of {id}: {e}")))?;
        Ok(Some(RecordingMetadata { raw }))
    }

    /// Moves recordings to their owner's recycle bin (any `*:recordings_write` scope).
    /// `owner_email` is used by Webex only for admin-on-behalf-of tokens and ignored otherwise.
    pub async fn soft_delete_recordings(
        &self,
        ids: &[&str],
        owner_email: Option<&str>,
    ) -> Result<(), WebexError> {
        let mut body = json!({ "recordingIds": ids });
        if let Some(email) = owner_email {
            body["ownerEmail"] = Value::from(email);
        }
        let url = self.endpoint(&["convergedRecordings", "softDelete"]);
        self.execute(ApiRequest::new(Method::POST, url).json(body))
            .await?;
        Ok(())
    }

    /// Deletes one recording the way the token is allowed to, found by trying: first the
    /// recycle bin, which user and admin tokens may use and which can be undone; when Webex
    /// refuses that (403), the permanent deletion that only a compliance officer may make,
    /// with `note` as its reason and comment. A 404 from either means it is already gone.
    pub async fn delete_as_allowed(
        &self,
        id: &str,
        owner_email: Option<&str>,
        note: &DeletionNote<'_>,
    ) -> Result<WebexDeletion, WebexError> {
        let refused = match self.soft_delete_recordings(&[id], owner_email).await {
            Ok(()) => return Ok(WebexDeletion::RecycleBin),
            Err(e) if e.status() == Some(404) => return Ok(WebexDeletion::AlreadyGone),
            Err(e) if e.status() == Some(403) => e,
            Err(e) => return Err(e),
        };
        tracing::debug!(recording_id = id, error = %refused, "recycle bin refused; trying the permanent deletion");
        match self
            .delete_recording(id, Some(note.reason), Some(note.comment))
            .await
        {
            Ok(()) => Ok(WebexDeletion::Permanent),
            Err(e) if e.status() == Some(404) => Ok(WebexDeletion::AlreadyGone),
            Err(e) => Err(e),
        }
    }

    /// Deletes a recording permanently at Webex (compliance officer). `reason` and `comment`
    /// are sent as a JSON body when given (required when deleting another user's recording).
    pub async fn delete_recording(
        &self,
        id: &str,
        reason: Option<&str>,
        comment: Option<&str>,
    ) -> Result<(), WebexError> {
        let mut req = ApiRequest::new(Method::DELETE, self.endpoint(&["convergedRecordings", id]));
        if reason.is_some() || comment.is_some() {
            let mut body = Map::new();
            if let Some(r) = reason {
                body.insert("reason".into(), Value::from(r));
            }
            if let Some(c) = comment {
                body.insert("comment".into(), Value::from(c));
            }
            req = req.json(Value::Object(body));
        }
        self.execute(req).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn query_pairs_use_webex_names_and_z_times() {
        let q = ListQuery {
            from: Some(Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap()),
            to: Some(Utc.with_ymd_and_hms(2025, 3, 2, 12, 30, 0).unwrap()),
            max: Some(100),
            service_type: Some("calling".into()),
            owner_email: Some("a@b.c".into()),
            ..Default::default()
        };
        assert_eq!(
            q.pairs(),
            vec![
                ("from", "2025-03-01T00:00:00Z".to_string()),
                ("to", "2025-03-02T12:30:00Z".to_string()),
                ("max", "100".to_string()),
                ("serviceType", "calling".to_string()),
                ("ownerEmail", "a@b.c".to_string()),
            ]
        );
    }
}
