//! S3Store against a real S3-compatible server: the one BACKYARD_TEST_S3_ENDPOINT names
//! (scripts/s3_server.sh starts moto and sets it). Skipped with a note when it is unset, except
//! under CI=true, where it must run.

#[path = "store_common.rs"]
mod common;

use std::sync::Arc;

use bytes::Bytes;
use media::store::{S3Config, S3Store, Store, StoreError};

const SECRET: &str = "Sup3rSecretKey-never-in-a-message-0123456789";

fn endpoint() -> Option<String> {
    match std::env::var("BACKYARD_TEST_S3_ENDPOINT") {
        Ok(endpoint) if !endpoint.trim().is_empty() => Some(endpoint.trim().to_owned()),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "CI=true but BACKYARD_TEST_S3_ENDPOINT is unset (source scripts/s3_server.sh; start_s3_server)"
            )
        }
        _ => {
            eprintln!(
                "skipping an S3 test: BACKYARD_TEST_S3_ENDPOINT is unset \
                 (source scripts/s3_server.sh && start_s3_server starts moto and sets it)"
            );
            None
        }
    }
}

fn config(endpoint: &str, bucket: &str, prefix: &str) -> S3Config {
    S3Config {
        endpoint: Some(endpoint.to_owned()),
        bucket: bucket.to_owned(),
        region: "us-east-1".into(),
        access_key_id: "backyard-test".into(),
        secret_access_key: SECRET.into(),
        allow_http: true,
        prefix: prefix.to_owned(),
    }
}

/// A new, empty bucket with a name of its own (object_store cannot create buckets; moto takes
/// an unsigned path-style PUT).
async fn new_bucket(endpoint: &str, name: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let bucket = format!(
        "backyard-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    media::store::install_crypto();
    let response = reqwest::Client::new()
        .put(format!("{}/{bucket}", endpoint.trim_end_matches('/')))
        .send()
        .await
        .expect("the S3 test server answers");
    assert!(
        response.status().is_success(),
        "creating bucket {bucket}: {}",
        response.status()
    );
    bucket
}

#[tokio::test]
async fn round_trip() {
    let Some(endpoint) = endpoint() else { return };
    let bucket = new_bucket(&endpoint, "round-trip").await;
    let store = S3Store::new(&config(&endpoint, &bucket, "")).unwrap();
    assert_eq!(store.kind(), "s3");
    common::round_trip(&store).await;
}

#[tokio::test]
async fn missing_key_is_none() {
    let Some(endpoint) = endpoint() else { return };
    let bucket = new_bucket(&endpoint, "missing").await;
    let store = S3Store::new(&config(&endpoint, &bucket, "")).unwrap();
    common::missing_key_is_none(&store).await;
}

#[tokio::test]
async fn bad_keys_are_refused() {
    let Some(endpoint) = endpoint() else { return };
    let bucket = new_bucket(&endpoint, "bad-keys").await;
    let store = S3Store::new(&config(&endpoint, &bucket, "")).unwrap();
    common::bad_keys_refused(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_puts() {
    let Some(endpoint) = endpoint() else { return };
    let bucket = new_bucket(&endpoint, "concurrent").await;
    let store: Arc<dyn Store> = Arc::new(S3Store::new(&config(&endpoint, &bucket, "")).unwrap());
    common::concurrent_puts(store).await;
}

#[tokio::test]
async fn a_prefix_keeps_the_store_to_its_part_of_the_bucket() {
    let Some(endpoint) = endpoint() else { return };
    let bucket = new_bucket(&endpoint, "prefix").await;
    // Slashes at either end of the prefix are trimmed.
    let site = S3Store::new(&config(&endpoint, &bucket, "/site/uploads/")).unwrap();
    let other = S3Store::new(&config(&endpoint, &bucket, "other")).unwrap();
    let whole = S3Store::new(&config(&endpoint, &bucket, "")).unwrap();

    common::round_trip(&site).await;

    let key = common::key(".png");
    site.put(&key, Bytes::from_static(b"site")).await.unwrap();
    other.put(&key, Bytes::from_static(b"other")).await.unwrap();
    assert_eq!(site.get(&key).await.unwrap().as_deref(), Some(&b"site"[..]));
    assert_eq!(
        other.get(&key).await.unwrap().as_deref(),
        Some(&b"other"[..])
    );
    assert_eq!(site.keys().await.unwrap(), vec![key.clone()]);
    assert_eq!(other.keys().await.unwrap(), vec![key.clone()]);
    let mut all = whole.keys().await.unwrap();
    all.sort();
    assert_eq!(
        all,
        vec![format!("other/{key}"), format!("site/uploads/{key}")]
    );

    site.delete(&key).await.unwrap();
    assert_eq!(
        other.get(&key).await.unwrap().as_deref(),
        Some(&b"other"[..])
    );
    assert_eq!(whole.keys().await.unwrap(), vec![format!("other/{key}")]);
}

#[tokio::test]
async fn a_missing_bucket_is_a_clear_error_without_the_secret() {
    let Some(endpoint) = endpoint() else { return };
    let store = S3Store::new(&config(&endpoint, "backyard-no-such-bucket", "")).unwrap();
    let put = store
        .put(&common::key(".png"), Bytes::from_static(b"x"))
        .await
        .unwrap_err();
    let message = put.to_string();
    assert!(
        matches!(put, StoreError::Backend { store: "s3", .. }),
        "{put:?}"
    );
    assert!(
        message.contains(&common::key(".png")),
        "names the key: {message}"
    );
    assert!(
        message.starts_with(&format!(
            "s3 storage: writing {}: bucket backyard-no-such-bucket not found: ",
            common::key(".png")
        )),
        "{message}"
    );
    assert!(!message.contains('\n'), "one line: {message}");
    assert!(!message.contains(SECRET), "{message}");
    let keys = store.keys().await.unwrap_err().to_string();
    assert!(keys.starts_with("s3 storage: listing: "), "{keys}");
    assert!(keys.contains("NoSuchBucket"), "{keys}");
    assert!(!keys.contains(SECRET), "{keys}");
}

#[test]
fn settings_are_checked_and_never_print_the_secret() {
    let good = config("http://127.0.0.1:9", "bucket", "");
    assert!(!format!("{good:?}").contains(SECRET));
    let store = S3Store::new(&good).unwrap();
    assert!(!format!("{store:?}").contains(SECRET));

    let refused = |config: S3Config| match S3Store::new(&config) {
        Err(error @ StoreError::Config(_)) => {
            let message = error.to_string();
            assert!(!message.contains(SECRET), "{message}");
            message
        }
        other => panic!("{config:?} was accepted: {other:?}"),
    };
    let message = refused(S3Config {
        allow_http: false,
        ..good.clone()
    });
    assert!(message.contains("http"), "{message}");
    refused(S3Config {
        endpoint: Some("ftp://127.0.0.1:9".into()),
        ..good.clone()
    });
    refused(S3Config {
        endpoint: Some("not a url".into()),
        ..good.clone()
    });
    refused(S3Config {
        bucket: " ".into(),
        ..good.clone()
    });
    refused(S3Config {
        secret_access_key: String::new(),
        ..good.clone()
    });
    refused(S3Config {
        prefix: "a/../b".into(),
        ..good.clone()
    });
    refused(S3Config {
        prefix: "Uploads".into(),
        ..good.clone()
    });

    // AWS itself: no endpoint, https only.
    S3Store::new(&S3Config {
        endpoint: None,
        allow_http: false,
        ..good
    })
    .unwrap();
}
