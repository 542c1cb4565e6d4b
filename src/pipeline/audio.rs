//! Step `audio`: the audio file, downloaded to `DATA_DIR/recordings/YYYY/MM/DD/{id}.{ext}`.

use std::io::Read;
use std::path::Path;

use std::path::PathBuf;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::step::{PipelineStep, StepError, Work};
use crate::domain::Step;
use crate::webex::WebexClient;

pub(super) struct Audio {
    pub webex: WebexClient,
    /// `DATA_DIR`.
    pub data_dir: PathBuf,
}

#[async_trait]
impl PipelineStep for Audio {
    fn step(&self) -> Step {
        Step::Audio
    }

    fn essential(&self) -> bool {
        true
    }

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
        let ext = extension(w.rec.audio_format.as_deref());
        // The id is validated (no dots or slashes), so the path stays inside DATA_DIR.
        let path = self
            .data_dir
            .join("recordings")
            .join(w.date_dirs())
            .join(format!("{id}.{ext}"));
        let earlier = match size {
            Some(size) if w.reuse_audio => earlier_download(&path, size).await,
            _ => None,
        };
        let (size_bytes, sha256_hex) = match earlier {
            Some(file) => {
                tracing::debug!("audio already downloaded by an earlier run");
                file
            }
            None => {
                let downloaded = self
                    .webex
                    .download_to_file(&link, &path, size)
                    .await
                    .map_err(|e| StepError::from_webex("audio download", &e))?;
                (downloaded.size_bytes, downloaded.sha256_hex)
            }
        };
        w.rec.audio_format = Some(ext);
        // Our own stable link: the Webex one expires after three hours.
        w.rec.audio_url = Some(format!("/api/v1/recordings/download/{id}/audio"));
        w.rec.audio_local_path = Some(path.display().to_string());
        w.rec.audio_size_bytes = i64::try_from(size_bytes).ok();
        w.rec.audio_sha256 = Some(sha256_hex);
        w.audio_path = Some(path);
        Ok(())
    }
}

/// Size and SHA-256 of the file an earlier run of this recording downloaded to `path`, if it is
/// there with the size Webex reports. A retry after a later step failed then skips the download:
/// files only ever appear at `path` complete (temp file, size check, rename).
async fn earlier_download(path: &Path, size: u64) -> Option<(u64, String)> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(&path).ok()?;
        if file.metadata().ok()?.len() != size {
            return None;
        }
        let mut hasher = Sha256::new();
        let mut buffer = vec![0; 64 * 1024];
        loop {
            match file.read(&mut buffer).ok()? {
                0 => break,
                n => hasher.update(&buffer[..n]),
            }
        }
        Some((size, hex::encode(hasher.finalize())))
    })
    .await
    .ok()
    .flatten()
}

/// File extension from the Webex format (`MP3` → `mp3`); anything odd becomes `mp3`.
fn extension(format: Option<&str>) -> String {
    format
        .map(|f| f.trim().to_ascii_lowercase())
        .filter(|f| !f.is_empty() && f.len() <= 8 && f.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "mp3".into())
}

#[cfg(test)]
mod tests {
    use super::extension;

    #[test]
    fn extension_is_safe() {
        assert_eq!(extension(Some("MP3")), "mp3");
        assert_eq!(extension(Some("wav")), "wav");
        assert_eq!(extension(None), "mp3");
        assert_eq!(extension(Some("../x")), "mp3");
        assert_eq!(extension(Some("")), "mp3");
    }
}
