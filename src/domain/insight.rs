//! Call insight on a record: who is the agent and who the customer, how each side felt and how
//! the call went quarter by quarter, per-role talk figures. Pure: the pipeline derives it after
//! the call metrics, and `swap-roles` re-derives it from the stored cues.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::Recording;
use call_analysis::insight::{self, ByRole, CallDirection, RoleHints, Roles};
use call_analysis::{Sentiment, SentimentLabel};

/// A record's sentiment: the call as a whole (by the LLM or the local analyser) and, computed
/// offline, each side's and each quarter's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CallSentiment {
    /// -1 (very negative) ..= 1 (very positive).
    #[schema(minimum = -1, maximum = 1)]
    pub score: f64,
    #[schema(value_type = SentimentLabelDoc)]
    pub label: SentimentLabel,
    /// Each role's sentiment; null while the roles are unknown.
    #[serde(default)]
    #[schema(value_type = Option<SentimentBySpeakerDoc>)]
    pub by_speaker: Option<ByRole<Sentiment>>,
    /// Scores (-1..1) of the call's four quarters of duration; null on records analysed
    /// before call insight.
    #[serde(default)]
    #[schema(value_type = Option<Vec<f64>>, min_items = 4, max_items = 4)]
    pub by_quarter: Option<[f64; 4]>,
    /// The last quarter's label: did the call end well?
    #[serde(default)]
    #[schema(value_type = Option<SentimentLabelDoc>)]
    pub end: Option<SentimentLabel>,
}

impl From<Sentiment> for CallSentiment {
    /// The call's sentiment alone, before the insight adds the sides and quarters.
    fn from(Sentiment { score, label }: Sentiment) -> Self {
        let (by_speaker, by_quarter, end) = (None, None, None);
        Self {
            score,
            label,
            by_speaker,
            by_quarter,
            end,
        }
    }
}

/// `positive`, `neutral` or `negative` (the document's name for [`SentimentLabel`]).
#[derive(ToSchema)]
#[schema(as = SentimentLabel, rename_all = "lowercase")]
#[allow(dead_code)]
pub enum SentimentLabelDoc {
    Positive,
    Neutral,
    Negative,
}

/// A score and its label (the document's name for [`Sentiment`]).
#[derive(ToSchema)]
#[schema(as = Sentiment)]
#[allow(dead_code)]
pub struct SentimentDoc {
    #[schema(minimum = -1, maximum = 1)]
    score: f64,
    label: SentimentLabelDoc,
}

/// Each role's sentiment.
#[derive(ToSchema)]
#[schema(as = SentimentBySpeaker)]
#[allow(dead_code)]
pub struct SentimentBySpeakerDoc {
    agent: SentimentDoc,
    customer: SentimentDoc,
}

/// The transcript speaker taking each role (the document's name for [`Roles`]).
#[derive(ToSchema)]
#[schema(as = Roles)]
#[allow(dead_code)]
pub struct RolesDoc {
    agent: String,
    customer: String,
}

/// Why roles cannot be swapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the recording has no roles to swap (no transcript with two speakers)")]
pub struct NoRoles;

/// Derives roles (from the metadata and the cues), per-speaker and per-quarter sentiment, the
/// per-role figures and the silences. Needs `call_metrics` set; a record without cues gets no
/// roles.
pub fn derive_insight(rec: &mut Recording) {
    let hints = role_hints(rec);
    let roles = rec
        .transcript_cues
        .as_ref()
        .and_then(|t| insight::decide_roles(&hints, &t.cues))
        .map(|r| if rec.roles_swapped { r.swapped() } else { r });
    apply_roles(rec, roles);
}

/// Swaps agent and customer and re-derives everything that depends on them.
pub fn swap_roles(rec: &mut Recording) -> Result<(), NoRoles> {
    let swapped = rec.roles.as_ref().ok_or(NoRoles)?.swapped();
    if rec.transcript_cues.is_none() {
        return Err(NoRoles);
    }
    apply_roles(rec, Some(swapped));
    rec.roles_swapped = !rec.roles_swapped;
    Ok(())
}

fn apply_roles(rec: &mut Recording, roles: Option<Roles>) {
    let Some(transcript) = rec.transcript_cues.as_ref() else {
        rec.roles = None;
        return;
    };
    let language = rec.detected_language.as_deref().unwrap_or("en");
    let found = insight::with_roles(&transcript.cues, duration_ms(rec.duration), language, roles);
    if let Some(sentiment) = rec.sentiment.as_mut() {
        sentiment.by_speaker = found.by_speaker;
        sentiment.by_quarter = Some(found.by_quarter);
        sentiment.end = Some(found.end);
    }
    if let Some(metrics) = rec.call_metrics.as_mut() {
        metrics.per_role = found.per_role;
        metrics.non_talk = found.non_talk;
    }
    rec.roles = found.roles;
}

/// The recording's length in milliseconds, when it is a usable number.
pub fn duration_ms(seconds: Option<f64>) -> Option<u64> {
    seconds
        .filter(|s| s.is_finite() && *s >= 0.0)
        // Saturating float-to-int cast: a huge value cannot wrap.
        .map(|s| (s * 1000.0).round() as u64)
}

/// What the metadata says about the parties: the owner (our Webex user, the agent) by the
/// metadata's `ownerName` or the party whose actor is the owner; the direction from which side
/// the owner is on.
pub fn role_hints(rec: &Recording) -> RoleHints {
    let metadata = rec.webex_metadata.as_ref().and_then(|m| m.get("metadata"));
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let owner_id = text(metadata.and_then(|m| m.get("ownerId")));
    let party_actor = |party: &str| {
        text(
            metadata
                .and_then(|m| m.get("serviceData"))
                .and_then(|sd| sd.get(party))
                .and_then(|p| p.get("actor"))
                .and_then(|a| a.get("id")),
        )
    };
    let owner_is = |party: &str| owner_id.is_some() && party_actor(party) == owner_id;
    let direction = if owner_is("calledParty") {
        Some(CallDirection::Inbound)
    } else if owner_is("callingParty") {
        Some(CallDirection::Outbound)
    } else {
        None
    };
    let owner_name = text(metadata.and_then(|m| m.get("ownerName"))).or_else(|| match direction {
        Some(CallDirection::Inbound) => rec.callee_name.clone(),
        Some(CallDirection::Outbound) => rec.caller_name.clone(),
        None => None,
    });
    RoleHints {
        owner_name,
        calling_party: rec.caller_name.clone().or_else(|| rec.caller.clone()),
        called_party: rec.callee_name.clone().or_else(|| rec.callee.clone()),
        direction,
    }
}

#[cfg(test)]
mod tests {
    use call_analysis::CallMetrics;
    use call_analysis::transcript::{Cue, Transcript};
    use chrono::Utc;
    use serde_json::json;

    use super::*;
    use crate::domain::RecordingId;

    fn call(metadata: Value, caller: &str, callee: &str) -> Recording {
        let mut r = Recording::pending(RecordingId::parse("r1").expect("id"), Utc::now());
        r.caller_name = Some(caller.into());
        r.callee_name = Some(callee.into());
        r.duration = Some(40.0);
        r.detected_language = Some("es".into());
        r.webex_metadata = Some(json!({ "metadata": metadata }));
        r.sentiment = Some(
            Sentiment {
                score: 0.0,
                label: SentimentLabel::Neutral,
            }
            .into(),
        );
        r.call_metrics = Some(CallMetrics::default());
        // The customer speaks first and nobody greets like a company: only the metadata can
        // tell the roles apart.
        r.transcript_cues = Some(Transcript {
            cues: vec![
                Cue::said(
                    0,
                    4,
                    "Ana",
                    "Hola, llamo porque estoy muy molesta con la factura.",
                ),
                Cue::said(5, 9, "Luis", "Lo reviso ahora mismo."),
                Cue::said(10, 14, "Ana", "Vale, gracias."),
                Cue::said(
                    30,
                    34,
                    "Luis",
                    "Ya está corregida, muchas gracias por su paciencia.",
                ),
            ],
        });
        r
    }

    fn roles(rec: &Recording) -> (String, String) {
        let roles = rec.roles.clone().expect("roles");
        (roles.agent, roles.customer)
    }

    #[test]
    fn the_owner_named_in_the_metadata_is_the_agent_on_an_inbound_call() {
        let metadata = json!({"ownerId": "p-luis", "ownerName": "Luis Gómez",
            "serviceData": {"calledParty": {"actor": {"id": "p-luis"}}}});
        let mut rec = call(metadata, "Ana Pérez", "Luis Gómez");
        assert_eq!(role_hints(&rec).direction, Some(CallDirection::Inbound));
        derive_insight(&mut rec);
        assert_eq!(roles(&rec), ("Luis".into(), "Ana".into()));
        let metrics = rec.call_metrics.clone().expect("metrics");
        let per_role = metrics.per_role.expect("per role");
        assert_eq!(per_role.customer.talk_seconds, 8.0);
        assert_eq!(metrics.non_talk.len(), 2, "{:?}", metrics.non_talk);
        let sentiment = rec.sentiment.clone().expect("sentiment");
        assert!(sentiment.by_speaker.is_some());
        assert!(sentiment.by_quarter.is_some() && sentiment.end.is_some());
    }

    #[test]
    fn on_an_outbound_call_the_owner_is_the_caller() {
        // No ownerName: the owner's name comes from the party whose actor is the owner.
        let metadata = json!({"ownerId": "p-luis",
            "serviceData": {"callingParty": {"actor": {"id": "p-luis"}}}});
        let mut rec = call(metadata, "Luis", "Ana");
        assert_eq!(role_hints(&rec).direction, Some(CallDirection::Outbound));
        derive_insight(&mut rec);
        assert_eq!(roles(&rec), ("Luis".into(), "Ana".into()));
    }

    #[test]
    fn without_matching_names_the_direction_decides_who_opened_the_call() {
        // Names that match no speaker: inbound, the first speaker (Ana) answered: the agent.
        let inbound =
            json!({"ownerId": "p1", "serviceData": {"calledParty": {"actor": {"id": "p1"}}}});
        let mut rec = call(inbound, "+34600000001", "4060");
        derive_insight(&mut rec);
        assert_eq!(roles(&rec), ("Ana".into(), "Luis".into()));
        // Outbound: the first speaker is the customer who picked up.
        let outbound =
            json!({"ownerId": "p1", "serviceData": {"callingParty": {"actor": {"id": "p1"}}}});
        let mut rec = call(outbound, "4060", "+34600000001");
        derive_insight(&mut rec);
        assert_eq!(roles(&rec), ("Luis".into(), "Ana".into()));
    }

    #[test]
    fn swapping_swaps_the_per_role_figures_and_needs_roles() {
        let metadata = json!({"ownerName": "Luis"});
        let mut rec = call(metadata, "Ana", "Luis");
        derive_insight(&mut rec);
        let before = rec.clone();
        swap_roles(&mut rec).expect("roles to swap");
        assert_eq!(roles(&rec), ("Ana".into(), "Luis".into()));
        let (b, a) = (
            before.call_metrics.unwrap().per_role.unwrap(),
            rec.call_metrics.clone().unwrap().per_role.unwrap(),
        );
        assert_eq!((b.agent, b.customer), (a.customer, a.agent));
        let (b, a) = (
            before.sentiment.unwrap().by_speaker.unwrap(),
            rec.sentiment.clone().unwrap().by_speaker.unwrap(),
        );
        assert_eq!((b.agent, b.customer), (a.customer, a.agent));

        let mut bare = Recording::pending(RecordingId::parse("r2").expect("id"), Utc::now());
        assert_eq!(swap_roles(&mut bare), Err(NoRoles));
    }
}
