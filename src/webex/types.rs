//! Webex API objects. Every field that Webex may leave out is optional, unknown fields are
//! ignored, and dates or numbers in an unexpected shape become `None` instead of failing the
//! whole object: API additions and oddities must never break ingestion.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Parses an RFC 3339 date leniently: anything else (null, a number, junk) is `None`.
fn lenient_datetime<'de, D>(d: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(Option::<Value>::deserialize(d)?
        .as_ref()
        .and_then(value_to_datetime))
}

fn value_to_datetime(v: &Value) -> Option<DateTime<Utc>> {
    let s = v.as_str()?;
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Parses a non-negative integer given as a number (integer or float) or a numeric string.
fn lenient_u64<'de, D>(d: D) -> Result<Option<u64>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(Option::<Value>::deserialize(d)?
        .as_ref()
        .and_then(value_to_u64))
}

/// A non-negative number of seconds, decimals kept (`180.5`, `"180.5"`).
fn lenient_seconds<'de, D>(d: D) -> Result<Option<f64>, D::Error>
where
    D: Deserializer<'de>,
{
    let seconds = match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    Ok(seconds.filter(|s: &f64| s.is_finite() && *s >= 0.0))
}

fn value_to_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f.round() as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A converged recording as listed by `GET /convergedRecordings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Recording {
    pub id: String,
    pub topic: Option<String>,
    /// When the file was made.
    #[serde(deserialize_with = "lenient_datetime")]
    pub create_time: Option<DateTime<Utc>>,
    /// When recording started.
    #[serde(deserialize_with = "lenient_datetime")]
    pub time_recorded: Option<DateTime<Utc>>,
    pub format: Option<String>,
    pub service_type: Option<String>,
    #[serde(deserialize_with = "lenient_seconds")]
    pub duration_seconds: Option<f64>,
    #[serde(deserialize_with = "lenient_u64")]
    pub size_bytes: Option<u64>,
    /// `available`, `deleted`, `purged`.
    pub status: Option<String>,
    pub owner_id: Option<String>,
    pub owner_email: Option<String>,
    pub owner_type: Option<String>,
    pub storage_region: Option<String>,
    pub service_data: Option<ServiceData>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceData {
    pub location_id: Option<String>,
    pub call_session_id: Option<String>,
}

/// `GET /convergedRecordings/{id}`: the recording plus short-lived download links.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingDetails {
    #[serde(flatten)]
    pub recording: Recording,
    #[serde(default)]
    pub temporary_direct_download_links: Option<DownloadLinks>,
}

impl RecordingDetails {
    /// The audio download link, when Webex gave one that is not blank.
    pub fn audio_link(&self) -> Option<&str> {
        self.link(|l| l.audio_download_link.as_deref())
    }

    /// The transcript download link, when Webex gave one that is not blank.
    pub fn transcript_link(&self) -> Option<&str> {
        self.link(|l| l.transcript_download_link.as_deref())
    }

    fn link<'a>(&'a self, pick: impl Fn(&'a DownloadLinks) -> Option<&'a str>) -> Option<&'a str> {
        self.temporary_direct_download_links
            .as_ref()
            .and_then(pick)
            .filter(|l| !l.trim().is_empty())
    }
}

/// Links that expire about 3 hours after the details call: use them at once, never store them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DownloadLinks {
    pub audio_download_link: Option<String>,
    pub transcript_download_link: Option<String>,
    pub suggested_notes_download_link: Option<String>,
    pub short_notes_download_link: Option<String>,
    pub action_items_download_link: Option<String>,
    #[serde(deserialize_with = "lenient_datetime")]
    pub expiration: Option<DateTime<Utc>>,
}

/// `GET /convergedRecordings/{id}/metadata`: kept raw (the shape varies), with lenient helpers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordingMetadata {
    pub raw: Value,
}

/// One end of a call, or a participant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Party {
    /// As given by Webex, often a SIP URI such as `sip:4060@host;user=phone`.
    pub number: Option<String>,
    pub actor_id: Option<String>,
    pub actor_type: Option<String>,
    /// A display name when Webex supplies one (`name` / `displayName`).
    pub name: Option<String>,
}

impl Party {
    fn is_empty(&self) -> bool {
        self.number.is_none()
            && self.actor_id.is_none()
            && self.actor_type.is_none()
            && self.name.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parties {
    pub caller: Option<Party>,
    pub callee: Option<Party>,
    /// From `callActivity[].participants[]`, first occurrence order, without duplicates.
    pub participants: Vec<Party>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTimes {
    pub start: Option<DateTime<Utc>>,
    pub stop: Option<DateTime<Utc>>,
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads `{actor: {type, id}, <number_key>, name?}` leniently.
fn party_from(v: &Value, number_key: &str) -> Option<Party> {
    if !v.is_object() {
        return None;
    }
    let actor = v.get("actor");
    let party = Party {
        number: str_field(v, number_key),
        actor_id: actor.and_then(|a| str_field(a, "id")),
        actor_type: actor.and_then(|a| str_field(a, "type")),
        name: str_field(v, "name").or_else(|| str_field(v, "displayName")),
    };
    (!party.is_empty()).then_some(party)
}

impl RecordingMetadata {
    fn service_data(&self) -> Option<&Value> {
        self.raw.get("serviceData")
    }

    /// Caller, callee and participants; whatever is missing is `None` / left out.
    pub fn parties(&self) -> Parties {
        let Some(sd) = self.service_data() else {
            return Parties::default();
        };
        let caller = sd.get("callingParty").and_then(|p| party_from(p, "number"));
        let callee = sd.get("calledParty").and_then(|p| party_from(p, "number"));
        let mut participants: Vec<Party> = Vec::new();
        let activities = sd.get("callActivity").and_then(Value::as_array);
        for activity in activities.into_iter().flatten() {
            let list = activity.get("participants").and_then(Value::as_array);
            for p in list.into_iter().flatten() {
                if let Some(party) = party_from(p, "aor")
                    && !participants.contains(&party)
                {
                    participants.push(party);
                }
            }
        }
        Parties {
            caller,
            callee,
            participants,
        }
    }

    /// `serviceData.session.{startTime, stopTime}` when present.
    pub fn session_times(&self) -> SessionTimes {
        let session = self.service_data().and_then(|sd| sd.get("session"));
        SessionTimes {
            start: session
                .and_then(|s| s.get("startTime"))
                .and_then(value_to_datetime),
            stop: session
                .and_then(|s| s.get("stopTime"))
                .and_then(value_to_datetime),
        }
    }
}

/// A webhook as Webex returns it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Webhook {
    pub id: String,
    pub name: Option<String>,
    pub target_url: Option<String>,
    pub resource: Option<String>,
    pub event: Option<String>,
    pub filter: Option<String>,
    pub secret: Option<String>,
    /// `active` or `inactive` (Webex deactivates after repeated failed deliveries).
    pub status: Option<String>,
    #[serde(deserialize_with = "lenient_datetime")]
    pub created: Option<DateTime<Utc>>,
    pub owned_by: Option<String>,
    pub org_id: Option<String>,
    pub created_by: Option<String>,
    pub app_id: Option<String>,
}

/// Body of `POST /webhooks`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewWebhook {
    pub name: String,
    pub target_url: String,
    pub resource: String,
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// `"org"` for an org-wide webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
}

/// Body of `PUT /webhooks/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookUpdate {
    pub name: String,
    pub target_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// `"active"` re-activates a webhook Webex disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
}

/// `GET /people/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Person {
    pub id: String,
    pub display_name: Option<String>,
    pub nick_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub emails: Vec<String>,
    pub org_id: Option<String>,
    #[serde(rename = "type")]
    pub person_type: Option<String>,
    #[serde(deserialize_with = "lenient_datetime")]
    pub created: Option<DateTime<Utc>>,
}

/// `GET /people/me`.
pub type Me = Person;

/// `{"items": [...]}` page envelope; items are decoded one by one elsewhere.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ItemsPage {
    pub items: Vec<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn duration_keeps_its_decimals() {
        for (raw, expected) in [
            (json!(180.5), Some(180.5)),
            (json!("12.25"), Some(12.25)),
            (json!(-3), None),
            (json!("soon"), None),
        ] {
            let r: Recording =
                serde_json::from_value(json!({"id": "a", "durationSeconds": raw})).unwrap();
            assert_eq!(r.duration_seconds, expected, "{raw}");
        }
    }

    #[test]
    fn recording_tolerates_odd_and_unknown_fields() {
        let r: Recording = serde_json::from_value(json!({
            "id": "abc",
            "createTime": "2025-01-02T03:04:05Z",
            "timeRecorded": "not a date",
            "durationSeconds": "42",
            "sizeBytes": 1234.0,
            "brandNewField": {"x": 1},
            "serviceData": {"locationId": "L", "callSessionId": "S", "more": true}
        }))
        .unwrap();
        assert_eq!(r.id, "abc");
        assert_eq!(
            r.create_time.unwrap().to_rfc3339(),
            "2025-01-02T03:04:05+00:00"
        );
        assert_eq!(r.time_recorded, None);
        assert_eq!(r.duration_seconds, Some(42.0));
        assert_eq!(r.size_bytes, Some(1234));
        assert_eq!(
            r.service_data.unwrap().call_session_id.as_deref(),
            Some("S")
        );
    }

    #[test]
    fn details_flatten_recording_and_links() {
        let d: RecordingDetails = serde_json::from_value(json!({
            "id": "r1",
            "topic": "Call",
            "temporaryDirectDownloadLinks": {
                "audioDownloadLink": "https://x.webex.com/a.mp3",
                "expiration": "2025-01-02T06:04:05Z"
            }
        }))
        .unwrap();
        assert_eq!(d.recording.id, "r1");
        assert_eq!(d.recording.topic.as_deref(), Some("Call"));
        let links = d.temporary_direct_download_links.unwrap();
        assert_eq!(
            links.audio_download_link.as_deref(),
            Some("https://x.webex.com/a.mp3")
        );
        assert_eq!(links.transcript_download_link, None);
    }

    #[test]
    fn metadata_parties_and_times() {
        let m: RecordingMetadata = serde_json::from_value(json!({
            "id": "r1",
            "serviceData": {
                "callingParty": {"actor": {"type": "PERSON", "id": "p1"}, "number": "sip:4060@h;user=phone"},
                "calledParty": {"number": "+34911222333"},
                "session": {"startTime": "2025-01-02T03:04:05Z", "stopTime": "2025-01-02T03:05:05.5Z"},
                "callActivity": [
                    {"participants": [
                        {"actor": {"type": "PERSON", "id": "p1"}, "aor": "sip:4060@h"},
                        {"actor": {"type": "PERSON", "id": "p2"}, "aor": "sip:4061@h"}
                    ]},
                    {"participants": [
                        {"actor": {"type": "PERSON", "id": "p1"}, "aor": "sip:4060@h"},
                        "garbage"
                    ]},
                    {"noParticipants": 1}
                ]
            }
        }))
        .unwrap();
        let p = m.parties();
        let caller = p.caller.unwrap();
        assert_eq!(caller.number.as_deref(), Some("sip:4060@h;user=phone"));
        assert_eq!(caller.actor_id.as_deref(), Some("p1"));
        assert_eq!(caller.actor_type.as_deref(), Some("PERSON"));
        assert_eq!(p.callee.unwrap().number.as_deref(), Some("+34911222333"));
        let aors: Vec<_> = p
            .participants
            .iter()
            .map(|x| x.number.clone().unwrap())
            .collect();
        assert_eq!(aors, vec!["sip:4060@h", "sip:4061@h"]);
        let t = m.session_times();
        assert_eq!(t.start.unwrap().to_rfc3339(), "2025-01-02T03:04:05+00:00");
        assert!(t.stop.is_some());
    }

    #[test]
    fn metadata_missing_pieces_are_none() {
        let m = RecordingMetadata {
            raw: json!({"serviceData": {"callingParty": "weird", "callActivity": 3}}),
        };
        assert_eq!(m.parties(), Parties::default());
        assert_eq!(m.session_times(), SessionTimes::default());
        let empty = RecordingMetadata { raw: json!(null) };
        assert_eq!(empty.parties(), Parties::default());
    }

    #[test]
    fn new_webhook_skips_none() {
        let v = serde_json::to_value(NewWebhook {
            name: "n".into(),
            target_url: "https://t".into(),
            resource: "convergedRecordings".into(),
            event: "created".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            v,
            json!({"name": "n", "targetUrl": "https://t", "resource": "convergedRecordings", "event": "created"})
        );
    }
}
