//! Objects in an S3-compatible bucket, through `object_store`. Uploads are multipart: parts go
//! out while the next one fills, with a bounded number in flight, so memory stays flat.

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectMeta, ObjectStore, ObjectStoreExt,
    RetryConfig, WriteMultipart,
};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{ObjectInfo, StorageError, StorageKey, StoredObject, checked_range};

/// Size of one multipart part (S3 wants at least 5 MiB for all but the last).
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts uploading at once; with the one filling, memory holds at most this + 1 parts.
const PARTS_IN_FLIGHT: usize = 2;

/// `STORAGE_URL=s3://BUCKET[/PREFIX]` and the standard `AWS_*` settings.
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// Key prefix without leading or trailing slashes.
    pub prefix: Option<String>,
    /// `AWS_ENDPOINT_URL`: an S3-compatible server other than AWS.
    pub endpoint: Option<Url>,
    /// `AWS_REGION` (object_store's default, `us-east-1`, when unset).
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
    /// `AWS_ALLOW_HTTP=true`: a plain-HTTP endpoint is allowed.
    pub allow_http: bool,
}

#[derive(Debug)]
pub(super) struct S3Store {
    store: Arc<AmazonS3>,
    bucket: String,
    prefix: Option<String>,
}

pub(super) struct S3Upload {
    writer: WriteMultipart,
}

fn store_error(key: &StorageKey, e: object_store::Error) -> StorageError {
    match e {
        object_store::Error::NotFound { .. } => StorageError::NotFound(key.clone()),
        other => StorageError::ObjectStore(other),
    }
}

impl S3Store {
    pub(super) fn new(settings: &S3Settings) -> Result<Self, StorageError> {
        // No overall request timeout: an audio download to a slow client may take long. A
        // stalled connection is caught by the read timeout instead.
        let client = ClientOptions::new()
            .with_allow_http(settings.allow_http)
            .with_connect_timeout(Duration::from_secs(5))
            .with_read_timeout(Duration::from_secs(60))
            .with_timeout_disabled();
        // Fewer, shorter retries than the default (10 over 3 minutes): `/readyz` and the worker
        // should learn of an unreachable store within seconds; the queue retries the recording.
        let retry = RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 3,
            retry_timeout: Duration::from_secs(20),
        };
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&settings.bucket)
            .with_client_options(client)
            .with_retry(retry)
            .with_allow_http(settings.allow_http);
        if let Some(endpoint) = &settings.endpoint {
            builder = builder.with_endpoint(endpoint.as_str().trim_end_matches('/'));
        }
        if let Some(region) = &settings.region {
            builder = builder.with_region(region);
        }
        if let Some(id) = &settings.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &settings.secret_access_key {
            builder = builder.with_secret_access_key(secret.expose_secret());
        }
        let store = builder
            .build()
            .map_err(|e| StorageError::Settings(e.to_string()))?;
        Ok(Self {
            store: Arc::new(store),
            bucket: settings.bucket.clone(),
            prefix: settings.prefix.clone(),
        })
    }

    fn object_path(&self, key: &StorageKey) -> ObjectPath {
        match &self.prefix {
            Some(prefix) => ObjectPath::from(format!("{prefix}/{key}")),
            None => ObjectPath::from(key.as_str()),
        }
    }

    pub(super) fn location(&self, key: &StorageKey) -> String {
        format!("s3://{}/{}", self.bucket, self.object_path(key))
    }

    pub(super) async fn begin(&self, key: &StorageKey) -> Result<S3Upload, StorageError> {
        let upload = self
            .store
            .put_multipart(&self.object_path(key))
            .await
            .map_err(|e| store_error(key, e))?;
        Ok(S3Upload {
            writer: WriteMultipart::new_with_chunk_size(upload, PART_SIZE),
        })
    }

    pub(super) async fn head(&self, key: &StorageKey) -> Result<ObjectInfo, StorageError> {
        let meta = self
            .store
            .head(&self.object_path(key))
            .await
            .map_err(|e| store_error(key, e))?;
        Ok(info_of(&meta))
    }

    pub(super) async fn get(
        &self,
        key: &StorageKey,
        range: Option<Range<u64>>,
    ) -> Result<StoredObject, StorageError> {
        let options = GetOptions {
            range: range.clone().map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = self
            .store
            .get_opts(&self.object_path(key), options)
            .await
            .map_err(|e| store_error(key, e))?;
        let info = info_of(&result.meta);
        // S3 answers a range running past the end with what there is: refuse that here, as
        // the local store does, so both behave alike.
        let expected = checked_range(key, range, info.size)?;
        if result.range != expected {
            return Err(StorageError::InvalidRange {
                key: key.clone(),
                start: expected.start,
                end: expected.end,
                size: info.size,
            });
        }
        let body = result.into_stream().map_err(StorageError::ObjectStore);
        Ok(StoredObject {
            info,
            range: expected,
            body: Box::pin(body),
        })
    }

    pub(super) async fn delete(&self, key: &StorageKey) -> Result<(), StorageError> {
        match self.store.delete(&self.object_path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(StorageError::ObjectStore(e)),
        }
    }

    /// Lists one level under the prefix: fails when the endpoint, the credentials or the
    /// bucket are wrong.
    pub(super) async fn check(&self) -> Result<(), StorageError> {
        let prefix = self.prefix.as_deref().map(ObjectPath::from);
        self.store
            .list_with_delimiter(prefix.as_ref())
            .await
            .map(drop)
            .map_err(StorageError::ObjectStore)
    }
}

impl S3Upload {
    pub(super) async fn write(&mut self, chunk: &[u8]) -> Result<(), StorageError> {
        // Waits while too many parts are on their way: this is what keeps memory flat.
        self.writer
            .wait_for_capacity(PARTS_IN_FLIGHT)
            .await
            .map_err(StorageError::ObjectStore)?;
        self.writer.write(chunk);
        Ok(())
    }

    pub(super) async fn finish(self) -> Result<(), StorageError> {
        self.writer
            .finish()
            .await
            .map(drop)
            .map_err(StorageError::ObjectStore)
    }

    /// Tells the server to drop the parts sent so far (best effort: logged when it fails).
    pub(super) async fn abort(self) {
        if let Err(e) = self.writer.abort().await {
            tracing::warn!(error = %e, "could not abort an unfinished multipart upload");
        }
    }
}

fn info_of(meta: &ObjectMeta) -> ObjectInfo {
    ObjectInfo {
        size: meta.size,
        etag: meta.e_tag.clone(),
        last_modified: Some(meta.last_modified),
    }
}
