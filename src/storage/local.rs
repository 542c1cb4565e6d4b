//! The default store: files under `DATA_DIR`, private to the service's user (folders 0700,
//! files 0600). An upload goes to a temporary file next to its target, is synced, then renamed
//! over it, so a file at a key is always complete.

use std::io::SeekFrom;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;

use super::{ObjectInfo, StorageError, StorageKey, StoredObject, checked_range};

/// How an upload's temporary file is named (`.upload-….part`), so leftovers can be found.
const UPLOAD_PREFIX: &str = ".upload-";

#[derive(Debug)]
pub(super) struct LocalStore {
    root: PathBuf,
}

pub(super) struct LocalUpload {
    file: tokio::fs::File,
    /// Deletes the temporary file when dropped, so an abandoned upload leaves nothing.
    temp: tempfile::TempPath,
    dest: PathBuf,
}

/// A new `PREFIX….part` file in `folder`, private (tempfile creates it 0600) and removed when
/// its path is dropped: where a file is written before it is renamed into place.
pub(crate) async fn part_file(
    folder: &Path,
    prefix: &'static str,
) -> std::io::Result<(tokio::fs::File, tempfile::TempPath)> {
    let folder = folder.to_path_buf();
    let temp = tokio::task::spawn_blocking(move || {
        tempfile::Builder::new()
            .prefix(prefix)
            .suffix(".part")
            .tempfile_in(folder)
    })
    .await
    .map_err(std::io::Error::other)??;
    let (file, path) = temp.into_parts();
    Ok((tokio::fs::File::from_std(file), path))
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StorageError + '_ {
    move |source| StorageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates `dir` and its missing parents, each readable by the service's user only.
async fn create_private_dir(dir: &Path) -> Result<(), StorageError> {
    let mut builder = tokio::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir).await.map_err(io_error(dir))
}

impl LocalStore {
    pub(super) fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// Keys are built from parsed ids only (no `..`), so the path stays under the root.
    pub(super) fn path(&self, key: &StorageKey) -> PathBuf {
        self.root.join(key.as_str())
    }

    pub(super) async fn begin(&self, key: &StorageKey) -> Result<LocalUpload, StorageError> {
        let dest = self.path(key);
        let parent = dest.parent().unwrap_or(&self.root).to_path_buf();
        create_private_dir(&parent).await?;
        let (file, temp) = part_file(&parent, UPLOAD_PREFIX)
            .await
            .map_err(io_error(&parent))?;
        Ok(LocalUpload { file, temp, dest })
    }

    pub(super) async fn head(&self, key: &StorageKey) -> Result<ObjectInfo, StorageError> {
        let path = self.path(key);
        let meta = tokio::fs::metadata(&path)
            .await
            .map_err(|e| not_found_or(key, &path, e))?;
        if !meta.is_file() {
            return Err(StorageError::NotFound(key.clone()));
        }
        Ok(ObjectInfo {
            size: meta.len(),
            etag: None,
            last_modified: meta.modified().ok().map(DateTime::<Utc>::from),
        })
    }

    pub(super) async fn get(
        &self,
        key: &StorageKey,
        range: Option<Range<u64>>,
    ) -> Result<StoredObject, StorageError> {
        let path = self.path(key);
        let info = self.head(key).await?;
        let range = checked_range(key, range, info.size)?;
        let mut file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| not_found_or(key, &path, e))?;
        if range.start > 0 {
            file.seek(SeekFrom::Start(range.start))
                .await
                .map_err(io_error(&path))?;
        }
        let body = ReaderStream::new(file.take(range.end - range.start)).map_err(move |source| {
            StorageError::Io {
                path: path.clone(),
                source,
            }
        });
        Ok(StoredObject {
            info,
            range,
            body: Box::pin(body),
        })
    }

    pub(super) async fn delete(&self, key: &StorageKey) -> Result<(), StorageError> {
        let path = self.path(key);
        match tokio::fs::remove_file(&path).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(&path)(e)),
            _ => Ok(()),
        }
    }

    /// Removes the `.upload-…part` files under the root last written `older_than` ago: what a
    /// worker killed mid-download (`kill -9`, out of memory) left, call audio no record points
    /// to. A live upload writes its file every few seconds, so it is never that old. How many.
    pub(super) async fn remove_abandoned_uploads(&self, older_than: Duration) -> u64 {
        let walk = remove_abandoned_parts(self.root.clone(), older_than);
        tokio::task::spawn_blocking(walk)
            .await
            .ok()
            .flatten()
            .unwrap_or(0)
    }

    pub(super) async fn check(&self) -> Result<(), StorageError> {
        create_private_dir(&self.root).await?;
        let meta = tokio::fs::metadata(&self.root)
            .await
            .map_err(io_error(&self.root))?;
        if meta.permissions().readonly() {
            return Err(io_error(&self.root)(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "the data folder is read-only",
            )));
        }
        Ok(())
    }
}

impl LocalUpload {
    pub(super) async fn write(&mut self, chunk: &[u8]) -> Result<(), StorageError> {
        self.file
            .write_all(chunk)
            .await
            .map_err(io_error(&self.temp))
    }

    pub(super) async fn finish(mut self) -> Result<(), StorageError> {
        self.file.flush().await.map_err(io_error(&self.temp))?;
        self.file.sync_all().await.map_err(io_error(&self.temp))?;
        drop(self.file);
        let dest = self.dest;
        let temp = self.temp;
        tokio::task::spawn_blocking(move || -> Result<(), StorageError> {
            temp.persist(&dest).map_err(|e| io_error(&dest)(e.error))?;
            // Make the rename itself durable (best effort: not every platform allows it).
            if let Some(parent) = dest.parent()
                && let Ok(dir) = std::fs::File::open(parent)
            {
                let _ = dir.sync_all();
            }
            Ok(())
        })
        .await
        .map_err(|e| StorageError::Io {
            path: PathBuf::new(),
            source: std::io::Error::other(e),
        })?
    }

    /// Dropping the temporary path deletes the partial file.
    pub(super) fn abort(self) {}
}

/// Removes the upload `.part` files below `root` last written `older_than` ago (links are not
/// followed); how many.
fn remove_abandoned_parts(root: PathBuf, older_than: Duration) -> impl FnOnce() -> Option<u64> {
    move || {
        let cutoff = SystemTime::now().checked_sub(older_than)?;
        let mut removed = 0;
        let mut folders = vec![root];
        while let Some(folder) = folders.pop() {
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    folders.push(entry.path());
                    continue;
                }
                let name = entry.file_name();
                let name = name.to_string_lossy();
                let abandoned = kind.is_file()
                    && name.starts_with(UPLOAD_PREFIX)
                    && name.ends_with(".part")
                    && entry
                        .metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|at| at < cutoff);
                if abandoned && std::fs::remove_file(entry.path()).is_ok() {
                    removed += 1;
                }
            }
        }
        Some(removed)
    }
}

fn not_found_or(key: &StorageKey, path: &Path, e: std::io::Error) -> StorageError {
    if e.kind() == std::io::ErrorKind::NotFound {
        StorageError::NotFound(key.clone())
    } else {
        io_error(path)(e)
    }
}
