//! `Storage` against the real S3-compatible server that scripts/services/40-s3.sh starts (s3s-fs on
//! 127.0.0.1:9014, checking every request's SigV4 signature) and against a local `DATA_DIR`.
//! Each S3 test works under a key prefix of its own in the test bucket.

use std::convert::Infallible;

use bytes::Bytes;
use chrono::{TimeZone, Utc};
use futures::{Stream, StreamExt};
use webex_recordings::domain::RecordingId;
use webex_recordings::storage::{PutStreamError, S3Settings, Storage, StorageError, StorageKey};

use crate::fake_webex::sha256_hex;

pub(crate) const S3_ENDPOINT: &str = "http://127.0.0.1:9014";
pub(crate) const S3_BUCKET: &str = "webex-recordings-test";
const S3_ACCESS_KEY: &str = "webex-recordings-test";
const S3_SECRET_KEY: &str = "webex-recordings-test-secret";
const MIB: usize = 1024 * 1024;

/// A key prefix no other test uses.
pub(crate) fn s3_prefix() -> String {
    format!("test-{}", uuid::Uuid::new_v4().simple())
}

/// `STORAGE_URL` and the `AWS_*` settings of an app storing under `prefix`.
pub(crate) fn s3_env(prefix: &str) -> Vec<(&'static str, String)> {
    vec![
        ("STORAGE_URL", format!("s3://{S3_BUCKET}/{prefix}")),
        ("AWS_ENDPOINT_URL", S3_ENDPOINT.into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", S3_ACCESS_KEY.into()),
        ("AWS_SECRET_ACCESS_KEY", S3_SECRET_KEY.into()),
        ("AWS_ALLOW_HTTP", "true".into()),
    ]
}

fn s3_settings(prefix: &str, secret: &str) -> S3Settings {
    S3Settings {
        bucket: S3_BUCKET.into(),
        prefix: Some(prefix.into()),
        endpoint: Some(S3_ENDPOINT.parse().expect("endpoint URL")),
        region: Some("us-east-1".into()),
        access_key_id: Some(S3_ACCESS_KEY.into()),
        secret_access_key: Some(secret.to_string().into()),
        allow_http: true,
    }
}

/// The S3 store of the test server under `prefix`; a server that is not up fails the test.
pub(crate) async fn s3_store(prefix: &str) -> Storage {
    let storage = Storage::s3(&s3_settings(prefix, S3_SECRET_KEY)).expect("S3 settings");
    if let Err(e) = storage.check().await {
        panic!("the S3 test server must be running (scripts/services/40-s3.sh): {e}");
    }
    storage
}

fn key(id: &str) -> StorageKey {
    let date = Utc.with_ymd_and_hms(2025, 3, 4, 10, 0, 0).unwrap();
    StorageKey::audio(&RecordingId::parse(id).expect("id"), date, "mp3")
}

/// `len` bytes that differ by `seed`, so a mixed-up object shows.
fn data(len: usize, seed: u8) -> Bytes {
    (0..len)
        .map(|i| (i % 251) as u8 ^ seed)
        .collect::<Vec<u8>>()
        .into()
}

/// `data` in 64 KiB chunks, as a download arrives.
fn chunks(data: &Bytes) -> impl Stream<Item = Result<Bytes, Infallible>> + use<> {
    let data = data.clone();
    let count = data.len().div_ceil(64 * 1024);
    futures::stream::iter(
        (0..count)
            .map(move |i| Ok(data.slice(i * 64 * 1024..((i + 1) * 64 * 1024).min(data.len())))),
    )
}

async fn read(storage: &Storage, key: &StorageKey, range: Option<std::ops::Range<u64>>) -> Vec<u8> {
    let object = storage.get(key, range).await.expect("object is readable");
    let mut body = object.body;
    let mut all = Vec::new();
    while let Some(chunk) = body.next().await {
        all.extend_from_slice(&chunk.expect("chunk"));
    }
    all
}

/// Store (in several multipart parts on S3), read all and a range, refuse a range past the
/// end, find it complete for a retry, delete.
async fn store_range_read_and_delete(storage: &Storage) {
    let audio = data(12 * MIB + 123, 7);
    let len = audio.len() as u64;
    let key = key("rec-1");
    let stored = storage
        .put_stream(&key, chunks(&audio))
        .await
        .expect("stored");
    assert_eq!(stored.size_bytes, len);
    assert_eq!(stored.sha256_hex, sha256_hex(&audio));
    assert_eq!(storage.head(&key).await.expect("head").size, len);

    assert!(
        read(storage, &key, None).await == audio.as_ref(),
        "whole object differs"
    );
    let object = storage
        .get(&key, Some(5_000_000..9_000_001))
        .await
        .expect("range");
    assert_eq!(
        (object.info.size, object.range.clone()),
        (len, 5_000_000..9_000_001)
    );
    assert!(read(storage, &key, Some(5_000_000..9_000_001)).await == audio[5_000_000..9_000_001]);
    assert!(matches!(
        storage.get(&key, Some(len - 1..len + 10)).await,
        Err(StorageError::InvalidRange { size, .. }) if size == len
    ));

    assert_eq!(storage.complete_object(&key, len).await, Some(stored));
    assert_eq!(storage.complete_object(&key, len + 1).await, None);

    storage.delete(&key).await.expect("deleted");
    assert!(matches!(
        storage.head(&key).await,
        Err(StorageError::NotFound(_))
    ));
    assert!(matches!(
        storage.get(&key, None).await,
        Err(StorageError::NotFound(_))
    ));
    storage
        .delete(&key)
        .await
        .expect("deleting a missing object is fine");
}

/// A download that breaks off leaves no object behind, and an earlier complete one untouched.
async fn a_broken_upload_leaves_nothing(storage: &Storage) {
    let broken = || {
        let first = data(9 * MIB, 1);
        chunks(&first)
            .map(|c| c.map_err(|never| match never {}))
            .chain(futures::stream::once(async { Err("connection reset") }))
    };
    let fresh = key("fresh");
    assert!(matches!(
        storage.put_stream(&fresh, broken()).await,
        Err(PutStreamError::Source("connection reset"))
    ));
    assert!(matches!(
        storage.head(&fresh).await,
        Err(StorageError::NotFound(_))
    ));

    let earlier = key("earlier");
    let complete = data(1000, 2);
    storage
        .put_stream(&earlier, chunks(&complete))
        .await
        .expect("stored");
    assert!(storage.put_stream(&earlier, broken()).await.is_err());
    assert!(read(storage, &earlier, None).await == complete.as_ref());
}

#[tokio::test]
async fn s3_store_range_read_and_delete() {
    store_range_read_and_delete(&s3_store(&s3_prefix()).await).await;
}

#[tokio::test]
async fn local_store_range_read_and_delete() {
    let dir = tempfile::tempdir().expect("temp dir");
    store_range_read_and_delete(&Storage::local(dir.path().to_path_buf())).await;
}

#[tokio::test]
async fn s3_broken_upload_leaves_nothing() {
    a_broken_upload_leaves_nothing(&s3_store(&s3_prefix()).await).await;
}

#[tokio::test]
async fn local_broken_upload_leaves_nothing_and_no_temp_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    a_broken_upload_leaves_nothing(&Storage::local(dir.path().to_path_buf())).await;
    let folder = dir.path().join("recordings/2025/03/04");
    let names: Vec<String> = std::fs::read_dir(&folder)
        .expect("folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["earlier.mp3".to_string()]);
}

/// A worker killed mid-download (`kill -9`) leaves its partial upload; the next start removes
/// those a day old, and nothing else.
#[tokio::test]
async fn partial_uploads_abandoned_a_day_ago_are_removed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = Storage::local(dir.path().to_path_buf());
    storage
        .put_bytes(&key("kept"), data(10, 0))
        .await
        .expect("stored");
    let folder = dir.path().join("recordings/2025/03/04");
    let day_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(25 * 3600);
    let write = |name: &str, at: std::time::SystemTime| {
        let file = std::fs::File::create(folder.join(name)).expect("create");
        file.set_modified(at).expect("mtime");
    };
    write(".upload-dead.part", day_ago);
    write(".upload-live.part", std::time::SystemTime::now());
    write("old-but-no-part.mp3", day_ago);
    let day = std::time::Duration::from_secs(24 * 3600);
    assert_eq!(storage.remove_abandoned_uploads(day).await, 1);
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .expect("folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [".upload-live.part", "kept.mp3", "old-but-no-part.mp3"]
    );
}

#[cfg(unix)]
#[tokio::test]
async fn local_files_and_folders_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = Storage::local(dir.path().join("data"));
    let key = key("private");
    storage.put_bytes(&key, data(10, 0)).await.expect("stored");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    let file = dir.path().join("data").join(key.as_str());
    assert_eq!(mode(&file), 0o600);
    let mut folder = file.parent().expect("parent");
    while folder != dir.path() {
        assert_eq!(mode(folder), 0o700, "{}", folder.display());
        folder = folder.parent().expect("parent");
    }
}

#[tokio::test]
async fn s3_requests_are_signed_and_a_wrong_secret_is_refused() {
    let prefix = s3_prefix();
    s3_store(&prefix).await;
    let wrong = Storage::s3(&s3_settings(&prefix, "not-the-secret")).expect("settings");
    assert!(wrong.check().await.is_err());
    assert!(wrong.put_bytes(&key("x"), data(10, 0)).await.is_err());
}
