//! Streaming download of recording files (into the store, or to a file): host allow-list, manual redirects,
//! SHA-256 on the fly, temp file + fsync + atomic rename.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::{Stream, StreamExt};
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

/// A download under way: the response headers are in, the body comes as [`Download::chunks`].
#[derive(Debug)]
pub struct Download {
    pub content_type: Option<String>,
    response: reqwest::Response,
    expected_size: Option<u64>,
}

impl Download {
    /// The body chunk by chunk, so memory stays flat whatever the size. With an expected size,
    /// more bytes stop the stream early and fewer end it with [`WebexError::SizeMismatch`].
    pub fn chunks(self) -> impl Stream<Item = Result<Bytes, WebexError>> {
        let expected = self.expected_size;
        futures::stream::try_unfold(
            (self.response, 0u64, false),
            move |(mut response, size, done)| async move {
                if done {
                    return Ok(None);
                }
                match response.chunk().await? {
                    Some(chunk) => {
                        let size = size + chunk.len() as u64;
                        if let Some(expected) = expected
                            && size > expected
                        {
                            // Stop early rather than storing too much; `actual` is what came so far.
                            return Err(WebexError::SizeMismatch {
                                expected,
                                actual: size,
                            });
                        }
                        Ok(Some((chunk, (response, size, false))))
                    }
                    None => match expected {
                        Some(expected) if size != expected => Err(WebexError::SizeMismatch {
                            expected,
                            actual: size,
                        }),
                        _ => Ok(None),
                    },
                }
            },
        )
    }
}

impl WebexClient {
    /// Starts downloading `url`.
    ///
    /// Only Webex hosts (and the configured API host) are contacted, redirects included.
    /// `expected_size`: when given, a different size is a [`WebexError::SizeMismatch`], from
    /// the announced `Content-Length` already or while the body streams.
    pub async fn open_download(
        &self,
        url: &str,
        expected_size: Option<u64>,
    ) -> Result<Download, WebexError> {
        let url = Url::parse(url).map_err(|e| {
            // Do not echo the URL: it may carry a ticket.
            WebexError::HostNotAllowed(format!("not a valid URL ({e})"))
        })?;
        // Checked here too (execute checks again) so nothing is requested from a bad host.
        if !self.is_allowed_url(&url) {
            return Err(WebexError::HostNotAllowed(redact_url(&url)));
        }

        let mut req = ApiRequest::get(url);
        req.download = true;
        let response = self.execute(req).await?;

        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let announced = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if let (Some(expected), Some(actual)) = (expected_size, announced)
            && expected != actual
        {
            return Err(WebexError::SizeMismatch { expected, actual });
        }
        Ok(Download {
            content_type,
            response,
            expected_size,
        })
    }

    /// Downloads `url` into `dest` (parent directories are created).
    ///
    /// The body is streamed to a temporary file next to `dest`, hashed on the way, synced, then
    /// renamed over `dest`. On any failure `dest` is left untouched and no temp file remains.
    /// See [`WebexClient::open_download`] for the hosts contacted and `expected_size`.
    pub async fn download_to_file(
        &self,
        url: &str,
        dest: &Path,
        expected_size: Option<u64>,
    ) -> Result<Downloaded, WebexError> {
        let download = self.open_download(url, expected_size).await?;
        let content_type = download.content_type.clone();
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        tokio::fs::create_dir_all(&parent).await?;
        // `temp_path` deletes the file when dropped: every early return below cleans up.
        let (mut file, temp_path) = crate::storage::part_file(&parent, ".download-").await?;

        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut chunks = std::pin::pin!(download.chunks());
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            hasher.update(&chunk);
            file.write_all(&chunk).await?;
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
