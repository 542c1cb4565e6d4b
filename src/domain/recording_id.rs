use std::fmt;

use serde::{Deserialize, Serialize};

/// A Webex recording id that is safe to use as a file name and in SQL.
///
/// Webex ids are opaque (UUIDs and 32-hex ids both occur, base64-like ids elsewhere in the API),
/// so we accept a conservative alphabet instead of a fixed shape. No `.` and no `/`: an id can never
/// walk out of its folder.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RecordingId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid recording id: {0}")]
pub struct InvalidRecordingId(&'static str);

impl RecordingId {
    pub const MAX_LEN: usize = 200;
    /// What [`RecordingId::parse`] accepts, as a regular expression (for the OpenAPI document).
    pub const PATTERN: &'static str = "^[A-Za-z0-9_=-]{1,200}$";

    pub fn parse(raw: &str) -> Result<Self, InvalidRecordingId> {
        if raw.is_empty() {
            return Err(InvalidRecordingId("empty"));
        }
        if raw.len() > Self::MAX_LEN {
            return Err(InvalidRecordingId("longer than 200 characters"));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'='))
        {
            return Err(InvalidRecordingId(
                "only letters, digits, '-', '_' and '=' are allowed",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RecordingId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        RecordingId::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for RecordingId {
    type Err = InvalidRecordingId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_pattern_accepts_what_parse_accepts() {
        let pattern = regex::Regex::new(RecordingId::PATTERN).unwrap();
        let long = "a".repeat(RecordingId::MAX_LEN);
        let too_long = "a".repeat(RecordingId::MAX_LEN + 1);
        for raw in [
            "abc_DEF-123==",
            long.as_str(),
            too_long.as_str(),
            "",
            "a.b",
            "a/b",
            "é",
            "a b",
            "a\n",
        ] {
            assert_eq!(
                pattern.is_match(raw),
                RecordingId::parse(raw).is_ok(),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn webex_id_shapes_are_accepted() {
        for id in [
            "4f0b8c5e-2a0e-4c42-9a43-6a9d1f9c2b10",
            "1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a",
            "Y2lzY29zcGFyazovL3VzL1JFQ09SRElORy8x",
            "abc_DEF-123==",
        ] {
            assert_eq!(
                RecordingId::parse(id).map(|r| r.to_string()),
                Ok(id.to_string())
            );
        }
    }

    #[test]
    fn ids_that_could_become_paths_are_rejected() {
        for id in [
            "",
            "..",
            "../etc/passwd",
            "a/b",
            "a\\b",
            "a.mp3",
            "a b",
            "é",
            "a\0b",
        ] {
            assert!(RecordingId::parse(id).is_err(), "{id:?} accepted");
        }
        assert!(RecordingId::parse(&"a".repeat(201)).is_err());
    }
}
