//! Step `details`: the recording's details, fetched right before downloading because the
//! download links they carry expire after about three hours.

use async_trait::async_trait;
use serde_json::json;

use super::free_text::redact_free_text;
use super::step::{PipelineStep, StepError, Work};
use crate::webex::WebexClient;
use call_analysis::redact::Redactor;

/// Right after a `created` event Webex may not have the links yet: wait this many attempts
/// before saying they will not come.
const LINK_WAIT_ATTEMPTS: u32 = 4;

pub(crate) const NO_LINKS: &str = "Webex returned no download links for this recording. An admin \
token (spark-admin:recordings_read) never gets them: use a compliance officer token \
(spark-compliance:recordings_read) or the recording owner's token. Nobody gets them when \
\"Prevent Downloading\" is on for the recording";

pub(super) struct Details {
    pub webex: WebexClient,
    /// For the title, which is free text.
    pub redactor: Redactor,
}

#[async_trait]
impl PipelineStep for Details {
    async fn run(&self, w: &mut Work) -> Result<(), StepError> {
        let id = w.rec.recording_id.as_str();
        let details = self
            .webex
            .recording_details(id)
            .await
            .map_err(|e| StepError::from_webex("recording details", &e))?;
        let r = &details.recording;
        w.rec.timestamp = r.time_recorded.or(r.create_time).or(w.rec.timestamp);
        w.rec.duration = r.duration_seconds.or(w.rec.duration);
        w.rec.audio_format = r.format.clone().or_else(|| w.rec.audio_format.clone());
        // The recording without its links: they expire and carry tickets, never store them.
        let mut kept = json!({ "recording": r });
        redact_free_text(&mut kept, &self.redactor);
        w.rec.webex_metadata = Some(kept);

        if details.audio_link().is_none() {
            return Err(if w.attempt < LINK_WAIT_ATTEMPTS {
                StepError::Transient(
                    "Webex has no download links for this recording yet; trying again later".into(),
                )
            } else {
                StepError::Failed(NO_LINKS.into())
            });
        }
        w.details = Some(details);
        Ok(())
    }
}
