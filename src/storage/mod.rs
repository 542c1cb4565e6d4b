//! Where audio and transcript files live: a folder under `DATA_DIR` (the default) or any
//! S3-compatible object store (`STORAGE_URL=s3://BUCKET[/PREFIX]`).
//!
//! Everything that reads or writes those files goes through [`Storage`]: the pipeline, the audio
//! download endpoint, delete and `/readyz`. Uploads are streamed (multipart on S3) and hashed on
//! the way; reads stream back, optionally a byte range. Any process with the same settings can
//! serve any recording, whichever worker stored it.

mod key;
mod local;
mod s3;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};

use crate::config::{Config, StorageConfig};
use crate::domain::{Recording, RecordingId};

pub use key::{StorageKey, audio_extension};
pub(crate) use local::part_file;
pub use s3::S3Settings;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{0} is not in the store")]
    NotFound(StorageKey),
    #[error("byte range {start}-{end} is outside {key} ({size} bytes)")]
    InvalidRange {
        key: StorageKey,
        start: u64,
        end: u64,
        size: u64,
    },
    #[error("local storage, {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("object storage: {0}")]
    ObjectStore(#[source] object_store::Error),
    #[error("object storage settings: {0}")]
    Settings(String),
}

/// Why streaming into the store failed: the incoming stream, or the store itself.
#[derive(Debug, thiserror::Error)]
pub enum PutStreamError<E> {
    #[error(transparent)]
    Source(E),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What a completed upload holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub size_bytes: u64,
    pub sha256_hex: String,
}

/// What the store knows about an object without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    /// The store's own entity tag (not the SHA-256), when it has one.
    pub etag: Option<String>,
    pub last_modified: Option<DateTime<Utc>>,
}

/// An object (or a byte range of it) being read.
pub struct StoredObject {
    pub info: ObjectInfo,
    /// The bytes `body` yields, within `0..info.size`.
    pub range: Range<u64>,
    pub body: BoxStream<'static, Result<Bytes, StorageError>>,
}

impl std::fmt::Debug for StoredObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredObject")
            .field("info", &self.info)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

/// A file on the local disk with an object's bytes, for tools that need a path (speech-to-text).
/// For the local store it is the stored file itself; otherwise a private temporary copy that is
/// removed when this is dropped.
#[derive(Debug)]
pub enum LocalFile {
    Stored(PathBuf),
    Copy(tempfile::TempPath),
}

impl LocalFile {
    pub fn path(&self) -> &Path {
        match self {
            Self::Stored(path) => path,
            Self::Copy(temp) => temp,
        }
    }
}

/// The one interface to stored audio and transcripts. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Storage(Arc<Backend>);

#[derive(Debug)]
enum Backend {
    Local(local::LocalStore),
    S3(s3::S3Store),
}

/// An upload in progress; [`Upload::abort`] leaves nothing behind.
enum Upload {
    Local(local::LocalUpload),
    S3(s3::S3Upload),
}

impl Upload {
    async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        match self {
            Self::Local(u) => u.write(&chunk).await,
            Self::S3(u) => u.write(&chunk).await,
        }
    }

    async fn finish(self) -> Result<(), StorageError> {
        match self {
            Self::Local(u) => u.finish().await,
            Self::S3(u) => u.finish().await,
        }
    }

    async fn abort(self) {
        match self {
            Self::Local(u) => u.abort(),
            Self::S3(u) => u.abort().await,
        }
    }
}

impl Storage {
    /// The store `STORAGE_URL` names (files under `DATA_DIR` when it is unset).
    pub fn from_config(config: &Config) -> Result<Self, StorageError> {
        match &config.storage {
            StorageConfig::Local => Ok(Self::local(config.data_dir.clone())),
            StorageConfig::S3(settings) => Self::s3(settings),
        }
    }

    /// Files under `root` (`DATA_DIR`).
    pub fn local(root: PathBuf) -> Self {
        Self(Arc::new(Backend::Local(local::LocalStore::new(root))))
    }

    /// Objects in an S3-compatible bucket.
    pub fn s3(settings: &S3Settings) -> Result<Self, StorageError> {
        Ok(Self(Arc::new(Backend::S3(s3::S3Store::new(settings)?))))
    }

    /// Where `key` lives, for the record (`audio_local_path`, `transcript_vtt_path`): the file's
    /// path, or `s3://BUCKET/PREFIX/KEY`.
    pub fn location(&self, key: &StorageKey) -> String {
        match &*self.0 {
            Backend::Local(b) => b.path(key).display().to_string(),
            Backend::S3(b) => b.location(key),
        }
    }

    /// Streams `body` into `key`, hashing it on the way; memory stays flat whatever the size.
    /// The object appears only once complete: on any error nothing is left at `key` (an older
    /// object there stays as it was).
    pub async fn put_stream<S, E>(
        &self,
        key: &StorageKey,
        body: S,
    ) -> Result<Stored, PutStreamError<E>>
    where
        S: Stream<Item = Result<Bytes, E>>,
    {
        let mut upload = match &*self.0 {
            Backend::Local(b) => Upload::Local(b.begin(key).await?),
            Backend::S3(b) => Upload::S3(b.begin(key).await?),
        };
        let mut body = std::pin::pin!(body);
        let mut hasher = Sha256::new();
        let mut size_bytes = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    upload.abort().await;
                    return Err(PutStreamError::Source(e));
                }
            };
            size_bytes += chunk.len() as u64;
            hasher.update(&chunk);
            if let Err(e) = upload.write(chunk).await {
                upload.abort().await;
                return Err(e.into());
            }
        }
        upload.finish().await?;
        Ok(Stored {
            size_bytes,
            sha256_hex: hex::encode(hasher.finalize()),
        })
    }

    /// Stores a small object held in memory (a transcript).
    pub async fn put_bytes(&self, key: &StorageKey, bytes: Bytes) -> Result<Stored, StorageError> {
        let once = futures::stream::once(async { Ok::<_, std::convert::Infallible>(bytes) });
        self.put_stream(key, once).await.map_err(|e| match e {
            PutStreamError::Storage(e) => e,
            PutStreamError::Source(never) => match never {},
        })
    }

    /// Reads `key`, all of it or the bytes in `range` (which must lie inside the object).
    pub async fn get(
        &self,
        key: &StorageKey,
        range: Option<Range<u64>>,
    ) -> Result<StoredObject, StorageError> {
        match &*self.0 {
            Backend::Local(b) => b.get(key, range).await,
            Backend::S3(b) => b.get(key, range).await,
        }
    }

    pub async fn head(&self, key: &StorageKey) -> Result<ObjectInfo, StorageError> {
        match &*self.0 {
            Backend::Local(b) => b.head(key).await,
            Backend::S3(b) => b.head(key).await,
        }
    }

    /// Removes `key`; an object that is not there is not an error.
    pub async fn delete(&self, key: &StorageKey) -> Result<(), StorageError> {
        match &*self.0 {
            Backend::Local(b) => b.delete(key).await,
            Backend::S3(b) => b.delete(key).await,
        }
    }

    /// Removes partial local uploads abandoned `older_than` ago (by a worker that was killed);
    /// how many. On S3 the parts of an upload that was never completed are invisible to
    /// listing: a bucket lifecycle rule (`AbortIncompleteMultipartUpload`) removes them, as the
    /// README says.
    pub async fn remove_abandoned_uploads(&self, older_than: std::time::Duration) -> u64 {
        match &*self.0 {
            Backend::Local(b) => b.remove_abandoned_uploads(older_than).await,
            Backend::S3(_) => 0,
        }
    }

    /// Removes the audio and transcript a recording's record points to (delete and purge). Only
    /// keys of that recording are touched, whatever its stored locations say.
    pub async fn delete_files_of(&self, rec: &Recording) -> Result<(), StorageError> {
        let locations = [&rec.audio_local_path, &rec.transcript_vtt_path];
        for location in locations.into_iter().flatten() {
            self.delete_location(&rec.recording_id, location).await?;
        }
        Ok(())
    }

    /// Removes the file of recording `id` at a stored location (its audio or its transcript);
    /// a location that names no file of `id` is left alone.
    pub async fn delete_location(
        &self,
        id: &RecordingId,
        location: &str,
    ) -> Result<(), StorageError> {
        let key = StorageKey::audio_in_location(id, location)
            .or_else(|| StorageKey::transcript_in_location(id, location));
        match key {
            Some(key) => self.delete(&key).await,
            None => Ok(()),
        }
    }

    /// Whether the store can be reached (for `/readyz`).
    pub async fn check(&self) -> Result<(), StorageError> {
        match &*self.0 {
            Backend::Local(b) => b.check().await,
            Backend::S3(b) => b.check().await,
        }
    }

    /// Size and SHA-256 of the object at `key` when it is there with `expected_size` bytes:
    /// a retry then reuses what an earlier run stored instead of downloading it again. Objects
    /// only ever appear complete, so the size check is enough to trust it; the hash is read back.
    pub async fn complete_object(&self, key: &StorageKey, expected_size: u64) -> Option<Stored> {
        let object = self.get(key, None).await.ok()?;
        if object.info.size != expected_size {
            return None;
        }
        let mut hasher = Sha256::new();
        let mut body = object.body;
        while let Some(chunk) = body.next().await {
            hasher.update(chunk.ok()?);
        }
        Some(Stored {
            size_bytes: expected_size,
            sha256_hex: hex::encode(hasher.finalize()),
        })
    }

    /// A local file with the bytes of `key`: the stored file itself on the local store, else a
    /// private temporary copy named like the key (tools guess the format from the extension).
    pub async fn local_file(&self, key: &StorageKey) -> Result<LocalFile, StorageError> {
        if let Backend::Local(b) = &*self.0 {
            let path = b.path(key);
            b.head(key).await?;
            return Ok(LocalFile::Stored(path));
        }
        let io = |source| StorageError::Io {
            path: std::env::temp_dir(),
            source,
        };
        let suffix = format!(".{}", key.extension());
        // In the system's temporary folder itself (sticky, so no other user can swap the copy);
        // one a killed worker leaves is the system's to clean.
        let temp = tempfile::Builder::new()
            .prefix(".object-")
            .suffix(&suffix)
            .tempfile()
            .map_err(io)?;
        let (file, path) = temp.into_parts();
        let mut writer = tokio::fs::File::from_std(file);
        let object = self.get(key, None).await?;
        let mut reader = tokio_util::io::StreamReader::new(
            object
                .body
                .map_err(|e| std::io::Error::other(e.to_string())),
        );
        tokio::io::copy(&mut reader, &mut writer)
            .await
            .map_err(io)?;
        Ok(LocalFile::Copy(path))
    }
}

/// `range` (or everything) after checking it lies inside an object of `size` bytes.
fn checked_range(
    key: &StorageKey,
    range: Option<Range<u64>>,
    size: u64,
) -> Result<Range<u64>, StorageError> {
    match range {
        None => Ok(0..size),
        Some(r) if r.start < r.end && r.end <= size => Ok(r),
        Some(r) => Err(StorageError::InvalidRange {
            key: key.clone(),
            start: r.start,
            end: r.end,
            size,
        }),
    }
}
