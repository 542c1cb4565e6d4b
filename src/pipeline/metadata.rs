//! Step `metadata`: caller, callee and participants from the call metadata, names from the
//! People API. Numbers are kept as Webex gives them (often SIP URIs).

use async_trait::async_trait;
use serde_json::Value;

use super::free_text::redact_free_text;
use super::step::{PipelineStep, StepError, Work};
use crate::webex::{Party, PeopleNames, WebexClient};
use call_analysis::redact::Redactor;

/// Webex answers 204 while the metadata is not ready: wait this many attempts, then go on
/// without it (the step fails, the recording does not).
const METADATA_WAIT_ATTEMPTS: u32 = 3;

pub(super) struct Metadata {
    pub webex: WebexClient,
    pub names: PeopleNames,
    /// For people's names, which are free text.
    pub redactor: Redactor,
}

#[async_trait]
impl PipelineStep for Metadata {
    async fn run(&self, w: &mut Work) -> Result<(), StepError> {
        let id = w.rec.recording_id.as_str();
        let metadata = match self.webex.recording_metadata(id).await {
            Ok(Some(m)) => m,
            Ok(None) if w.attempt < METADATA_WAIT_ATTEMPTS => {
                return Err(StepError::Transient(
                    "Webex has no call metadata yet (204); trying again later".into(),
                ));
            }
            Ok(None) => {
                return Err(StepError::Failed(format!(
                    "Webex still had no call metadata (204) after {} attempts",
                    w.attempt
                )));
            }
            Err(e) => return Err(StepError::from_webex("call metadata", &e)),
        };

        let parties = metadata.parties();
        let redacted = |name: Option<String>| name.map(|n| self.redactor.text(&n));
        if let Some(caller) = &parties.caller {
            w.rec.caller = caller.number.clone();
            w.rec.caller_name = redacted(name_of(&self.names, caller).await);
        }
        if let Some(callee) = &parties.callee {
            w.rec.callee = callee.number.clone();
            w.rec.callee_name = redacted(name_of(&self.names, callee).await);
        }
        w.rec.participants = parties
            .participants
            .iter()
            .filter_map(|party| {
                party
                    .number
                    .clone()
                    .or_else(|| redacted(party.name.clone()))
                    .or_else(|| party.actor_id.clone())
            })
            .collect();
        if let Some(Value::Object(map)) = &mut w.rec.webex_metadata {
            let mut raw = metadata.raw;
            redact_free_text(&mut raw, &self.redactor);
            map.insert("metadata".into(), raw);
        }
        Ok(())
    }
}

/// The name Webex gave, else the person's display name; `None` when neither is known
/// (an unresolved name never fails the step).
async fn name_of(names: &PeopleNames, party: &Party) -> Option<String> {
    if let Some(name) = &party.name {
        return Some(name.clone());
    }
    let actor = party.actor_id.as_deref()?;
    // Only people have names in the People API; places, lines and queues do not.
    let is_person = party
        .actor_type
        .as_deref()
        .is_none_or(|t| t.eq_ignore_ascii_case("person") || t.eq_ignore_ascii_case("user"));
    if !is_person {
        return None;
    }
    names.name(actor).await
}
