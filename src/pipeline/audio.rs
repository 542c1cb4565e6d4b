//! Step `audio`: the audio file, downloaded to `DATA_DIR/recordings/YYYY/MM/DD/{id}.{ext}`.

use super::{Pipeline, StepError, Work};

pub(super) async fn run(p: &Pipeline, w: &mut Work) -> Result<(), StepError> {
    let id = w.rec.recording_id.clone();
    let (link, size) = {
        let details = w
            .details
            .as_ref()
            .ok_or_else(|| StepError::Failed("no recording details".into()))?;
        let link = details
            .temporary_direct_download_links
            .as_ref()
            .and_then(|l| l.audio_download_link.clone())
            .ok_or_else(|| StepError::Failed(super::details::NO_LINKS.into()))?;
        (link, details.recording.size_bytes)
    };
    let ext = extension(w.rec.audio_format.as_deref());
    // The id is validated (no dots or slashes), so the path stays inside DATA_DIR.
    let path = p
        .data_dir()
        .join("recordings")
        .join(w.date_dirs())
        .join(format!("{id}.{ext}"));
    let downloaded = p
        .deps
        .webex
        .download_to_file(&link, &path, size)
        .await
        .map_err(|e| StepError::from_webex("audio download", &e))?;
    w.rec.audio_format = Some(ext);
    // Our own stable link: the Webex one expires after three hours.
    w.rec.audio_url = Some(format!("/api/v1/recordings/download/{id}/audio"));
    w.rec.audio_local_path = Some(path.display().to_string());
    w.rec.audio_size_bytes = i64::try_from(downloaded.size_bytes).ok();
    w.rec.audio_sha256 = Some(downloaded.sha256_hex);
    w.audio_path = Some(path);
    Ok(())
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
