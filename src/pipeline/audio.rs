//! Step `audio`: the audio file, streamed from Webex into the store at
//! `recordings/YYYY/MM/DD/{id}.{ext}`.

use async_trait::async_trait;

use super::notes::FileNotes;
use super::step::{PipelineStep, StepError, Work};
use crate::storage::{PutStreamError, Storage, StorageKey, Stored, audio_extension};
use crate::webex::WebexClient;

pub(super) struct Audio {
    pub webex: WebexClient,
    pub storage: Storage,
    pub notes: FileNotes,
}

#[async_trait]
impl PipelineStep for Audio {
    async fn run(&self, w: &mut Work) -> Result<(), StepError> {
        let id = w.rec.recording_id.clone();
        let (link, size) = {
            let details = w
                .details
                .as_ref()
                .ok_or_else(|| StepError::Failed("no recording details".into()))?;
            let link = details
                .audio_link()
                .map(str::to_owned)
                .ok_or_else(|| StepError::Failed(super::details::NO_LINKS.into()))?;
            (link, details.recording.size_bytes)
        };
        let ext = audio_extension(w.rec.audio_format.as_deref());
        let key = StorageKey::audio(&id, w.recorded_on(), &ext);
        // A retry after a later step failed skips the download when an earlier run stored the
        // audio: objects only ever appear complete, so the size Webex reports is enough.
        let earlier = match size {
            Some(size) if w.reuse_audio => self.storage.complete_object(&key, size).await,
            _ => None,
        };
        let Stored {
            size_bytes,
            sha256_hex,
        } = match earlier {
            Some(stored) => {
                tracing::debug!("audio already stored by an earlier run");
                stored
            }
            None => {
                self.notes.note(&id, &key).await?;
                self.download(&link, size, &key).await?
            }
        };
        w.rec.audio_format = Some(ext);
        // Our own stable link: the Webex one expires after three hours.
        w.rec.audio_url = Some(format!("/api/v1/recordings/download/{id}/audio"));
        w.rec.audio_local_path = Some(self.storage.location(&key));
        w.rec.audio_size_bytes = i64::try_from(size_bytes).ok();
        w.rec.audio_sha256 = Some(sha256_hex);
        w.audio_key = Some(key);
        Ok(())
    }
}

impl Audio {
    /// Streams the Webex download into the store as it arrives.
    async fn download(
        &self,
        link: &str,
        size: Option<u64>,
        key: &StorageKey,
    ) -> Result<Stored, StepError> {
        let download = self
            .webex
            .open_download(link, size)
            .await
            .map_err(|e| StepError::from_webex("audio download", &e))?;
        self.storage
            .put_stream(key, download.chunks())
            .await
            .map_err(|e| match e {
                PutStreamError::Source(e) => StepError::from_webex("audio download", &e),
                // The store may be back by the next attempt.
                PutStreamError::Storage(e) => {
                    StepError::Transient(format!("storing the audio: {e}"))
                }
            })
    }
}
