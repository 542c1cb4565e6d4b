//! Streaming download of recording files to disk: host allow-list, manual redirects,
//! SHA-256 on the fly, temp file + fsync + atomic rename.

use std::path::{Path, PathBuf};

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use url::Url;

use super::{ApiRequest, WebexClient, WebexError, redact_url};

/// A file that was downloaded completely and moved into place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub path: PathBuf,
    pub size_bytes: u64,
    pub sha256_hex: String,
    pub content_type: Option<String>,
}

impl WebexClient {
    /// Starts a download from an allowed host.
    async fn open_download(&self, url: &str) -> Result<reqwest::Response, WebexError> {
        let url = Url::parse(url).map_err(|e| {
            // Do not echo the URL: it may carry a ticket.
            WebexError::HostNotAllowed(format!("not a valid URL ({e})"))
        })?;
        // Checked here too (execute checks again) so nothing touches the disk for a bad host.
        if !self.is_allowed_url(&url) {
            return Err(WebexError::HostNotAllowed(redact_url(&url)));
        }
        let mut req = ApiRequest::get(url);
        req.download = true;
        self.execute(req).await
    }

    /// Downloads a text file (a VTT transcript) into memory only: what it says must be
    /// redacted before any of it is written anywhere. More than `max_bytes` is a
    /// [`WebexError::SizeMismatch`]; invalid UTF-8 is replaced, as a lenient parser would.
    pub async fn download_text(&self, url: &str, max_bytes: u64) -> Result<String, WebexError> {
        let mut resp = self.open_download(url).await?;
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            body.extend_from_slice(&chunk);
            if body.len() as u64 > max_bytes {
                return Err(WebexError::SizeMismatch {
                    expected: max_bytes,
                    actual: body.len() as u64,
                });
            }
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// Downloads `url` into `dest` (parent directories are created).
    ///
    /// Only Webex hosts (and the configured API host) are contacted, redirects included; the
    /// body is streamed to a temporary file next to `dest`, hashed on the way, synced, then
    /// renamed over `dest`. On any failure `dest` is left untouched and no temp file remains.
    /// `expected_size`: when given, a different size is a [`WebexError::SizeMismatch`].
    pub async fn download_to_file(
        &self,
        url: &str,
        dest: &Path,
        expected_size: Option<u64>,
    ) -> Result<Downloaded, WebexError> {
        let mut resp = self.open_download(url).await?;

        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let announced = resp
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if let (Some(expected), Some(actual)) = (expected_size, announced)
            && expected != actual
        {
            return Err(WebexError::SizeMismatch { expected, actual });
        }

        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        tokio::fs::create_dir_all(&parent).await?;
        let temp = {
            let parent = parent.clone();
            tokio::task::spawn_blocking(move || {
                tempfile::Builder::new()
                    .prefix(".download-")
                    .suffix(".part")
                    .tempfile_in(parent)
            })
            .await
            .map_err(std::io::Error::other)??
        };
        // `temp_path` deletes the file when dropped: every early return below cleans up.
        let (std_file, temp_path) = temp.into_parts();
        let mut file = tokio::fs::File::from_std(std_file);

        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        // Chunk by chunk: memory stays flat whatever the file size.
        while let Some(chunk) = resp.chunk().await? {
            size += chunk.len() as u64;
            if let Some(expected) = expected_size
                && size > expected
            {
                // Stop early rather than filling the disk; `actual` is what arrived so far.
                return Err(WebexError::SizeMismatch {
                    expected,
                    actual: size,
                });
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await?;
        }
        if let Some(expected) = expected_size
            && size != expected
        {
            return Err(WebexError::SizeMismatch {
                expected,
                actual: size,
            });
        }
        file.flush().await?;
        file.sync_all().await?;
        drop(file);

        let dest_owned = dest.to_path_buf();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            temp_path
                .persist(&dest_owned)
                .map_err(|e| std::io::Error::new(e.error.kind(), e.error))?;
            // Make the rename itself durable (best effort: not every platform allows it).
            if let Ok(dir) = std::fs::File::open(&parent) {
                let _ = dir.sync_all();
            }
            Ok(())
        })
        .await
        .map_err(std::io::Error::other)??;

        tracing::debug!(path = %dest.display(), size, "downloaded Webex file");
        Ok(Downloaded {
            path: dest.to_path_buf(),
            size_bytes: size,
            sha256_hex: hex::encode(hasher.finalize()),
            content_type,
        })
    }
}
