//! Object keys: `recordings/YYYY/MM/DD/{id}.{ext}` and `transcripts/YYYY/MM/DD/{id}.vtt`.
//!
//! A key is only ever built from a parsed [`RecordingId`] (no dots, no slashes) and a safe
//! extension, so it can name neither a file outside `DATA_DIR` nor another object.

use std::fmt;

use chrono::{DateTime, Datelike, Utc};

use crate::domain::RecordingId;

/// Where one file of one recording lives, relative to the store's root.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StorageKey(String);

impl StorageKey {
    /// The audio of `id`, recorded on `date`, as `ext` (made safe: see [`audio_extension`]).
    pub fn audio(id: &RecordingId, date: DateTime<Utc>, ext: &str) -> Self {
        Self::dated("recordings", id, date, &audio_extension(Some(ext)))
    }

    /// The Webex VTT transcript of `id`.
    pub fn transcript(id: &RecordingId, date: DateTime<Utc>) -> Self {
        Self::dated("transcripts", id, date, "vtt")
    }

    fn dated(folder: &str, id: &RecordingId, date: DateTime<Utc>, ext: &str) -> Self {
        Self(format!(
            "{folder}/{:04}/{:02}/{:02}/{id}.{ext}",
            date.year(),
            date.month(),
            date.day()
        ))
    }

    /// The audio key inside a stored location (`audio_local_path`: a path under any
    /// `DATA_DIR`, or an `s3://` URL) of recording `id`: its last five segments must read
    /// `recordings/YYYY/MM/DD/{id}.{ext}`. Anything else is `None`, so a doctored location never
    /// reaches another file.
    pub fn audio_in_location(id: &RecordingId, location: &str) -> Option<Self> {
        Self::in_location("recordings", id, location, |ext| {
            audio_extension(Some(ext)) == ext
        })
    }

    /// The transcript key inside `transcript_vtt_path`, checked as for
    /// [`StorageKey::audio_in_location`].
    pub fn transcript_in_location(id: &RecordingId, location: &str) -> Option<Self> {
        Self::in_location("transcripts", id, location, |ext| ext == "vtt")
    }

    fn in_location(
        folder: &str,
        id: &RecordingId,
        location: &str,
        extension_ok: impl Fn(&str) -> bool,
    ) -> Option<Self> {
        let segments: Vec<&str> = location.rsplit(['/', '\\']).take(5).collect();
        let [file, day, month, year, top] = segments.as_slice() else {
            return None;
        };
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if *top != folder || !(digits(year, 4) && digits(month, 2) && digits(day, 2)) {
            return None;
        }
        let ext = file.strip_prefix(id.as_str())?.strip_prefix('.')?;
        extension_ok(ext).then(|| Self(format!("{folder}/{year}/{month}/{day}/{file}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The extension after the last dot (keys always have one).
    pub fn extension(&self) -> &str {
        self.0.rsplit('.').next().unwrap_or_default()
    }
}

impl fmt::Display for StorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// File extension from the Webex format (`MP3` → `mp3`); anything odd becomes `mp3`.
pub fn audio_extension(format: Option<&str>) -> String {
    format
        .map(|f| f.trim().to_ascii_lowercase())
        .filter(|f| !f.is_empty() && f.len() <= 8 && f.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "mp3".into())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn id(raw: &str) -> RecordingId {
        RecordingId::parse(raw).expect("valid id")
    }

    #[test]
    fn keys_follow_the_dated_layout() {
        let date = Utc.with_ymd_and_hms(2025, 3, 7, 10, 0, 0).unwrap();
        assert_eq!(
            StorageKey::audio(&id("abc"), date, "MP3").as_str(),
            "recordings/2025/03/07/abc.mp3"
        );
        assert_eq!(
            StorageKey::audio(&id("abc"), date, "../x").as_str(),
            "recordings/2025/03/07/abc.mp3"
        );
        assert_eq!(
            StorageKey::transcript(&id("abc"), date).as_str(),
            "transcripts/2025/03/07/abc.vtt"
        );
    }

    #[test]
    fn extension_is_safe() {
        assert_eq!(audio_extension(Some("MP3")), "mp3");
        assert_eq!(audio_extension(Some("wav")), "wav");
        assert_eq!(audio_extension(None), "mp3");
        assert_eq!(audio_extension(Some("../x")), "mp3");
        assert_eq!(audio_extension(Some("")), "mp3");
    }

    #[test]
    fn stored_locations_give_back_the_key_of_that_recording_only() {
        let r1 = id("r1");
        for location in [
            "/srv/data/recordings/2025/03/01/r1.mp3",
            "data/recordings/2025/03/01/r1.mp3",
            "s3://bucket/prefix/recordings/2025/03/01/r1.mp3",
            "recordings/2025/03/01/r1.mp3",
        ] {
            assert_eq!(
                StorageKey::audio_in_location(&r1, location).map(|k| k.to_string()),
                Some("recordings/2025/03/01/r1.mp3".into()),
                "{location}"
            );
        }
        for location in [
            "/srv/data/recordings/2025/03/01/r2.mp3",
            "/srv/data/recordings/2025/03/01/r1.mp3.part",
            "/srv/data/recordings/2025/03/01/r10.mp3",
            "/srv/data/transcripts/2025/03/01/r1.mp3",
            "/srv/data/recordings/2025/3/01/r1.mp3",
            "/srv/data/recordings/2025/03/01/r1",
            "/tmp/.tmpXYZ",
            "r1.mp3",
            "",
        ] {
            assert_eq!(
                StorageKey::audio_in_location(&r1, location),
                None,
                "{location}"
            );
        }
        assert_eq!(
            StorageKey::transcript_in_location(&r1, "s3://b/transcripts/2025/03/01/r1.vtt")
                .map(|k| k.to_string()),
            Some("transcripts/2025/03/01/r1.vtt".into())
        );
        for location in [
            "/d/transcripts/2025/03/01/r1.mp3",
            "/d/recordings/2025/03/01/r1.vtt",
        ] {
            assert_eq!(
                StorageKey::transcript_in_location(&r1, location),
                None,
                "{location}"
            );
        }
    }
}
