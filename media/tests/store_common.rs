//! What every `Store` must do, run against each backend by store_dir.rs and store_s3.rs
//! (included with `#[path]`; built alone it holds no tests).
#![allow(dead_code)]

use bytes::Bytes;
use media::store::{Store, StoreError};

pub const HASH: &str = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";

pub fn key(suffix: &str) -> String {
    format!("ab/{HASH}{suffix}")
}

/// put/get/delete/keys on an empty store; leaves it empty.
pub async fn round_trip(store: &dyn Store) {
    assert_eq!(
        store.keys().await.unwrap(),
        Vec::<String>::new(),
        "the store starts empty"
    );

    let original = key(".png");
    let thumb = key(".thumb.webp");
    let other = format!("cd/{}.gif", HASH.replace('a', "c"));
    let png = Bytes::from_static(b"\x89PNG\r\n\x1a\n not really a png");
    let webp = Bytes::from(vec![7u8; 300_000]);

    store.put(&original, png.clone()).await.unwrap();
    store.put(&thumb, webp.clone()).await.unwrap();
    store
        .put(&other, Bytes::from_static(b"GIF89a"))
        .await
        .unwrap();
    // A second put of a key (same bytes: keys are content hashes) is fine.
    store.put(&original, png.clone()).await.unwrap();

    assert_eq!(store.get(&original).await.unwrap(), Some(png.clone()));
    assert_eq!(store.get(&thumb).await.unwrap(), Some(webp));
    assert_eq!(
        store.get(&other).await.unwrap().as_deref(),
        Some(&b"GIF89a"[..])
    );
    // An empty file is a file.
    let empty = key(".empty");
    store.put(&empty, Bytes::new()).await.unwrap();
    assert_eq!(store.get(&empty).await.unwrap(), Some(Bytes::new()));

    let mut want = vec![
        original.clone(),
        thumb.clone(),
        other.clone(),
        empty.clone(),
    ];
    want.sort();
    let mut have = store.keys().await.unwrap();
    have.sort();
    assert_eq!(have, want);

    store.delete(&thumb).await.unwrap();
    assert_eq!(
        store.get(&thumb).await.unwrap(),
        None,
        "a deleted key reads as missing"
    );
    // Deleting what is not there is not an error.
    store.delete(&thumb).await.unwrap();
    store.delete(&key(".never-stored")).await.unwrap();
    assert_eq!(
        store.get(&original).await.unwrap(),
        Some(png),
        "deleting one key leaves the others"
    );

    let mut have = store.keys().await.unwrap();
    have.sort();
    let mut want = vec![original.clone(), other.clone(), empty.clone()];
    want.sort();
    assert_eq!(have, want);

    for k in [&original, &other, &empty] {
        store.delete(k).await.unwrap();
    }
    assert_eq!(store.keys().await.unwrap(), Vec::<String>::new());
}

pub async fn missing_key_is_none(store: &dyn Store) {
    assert_eq!(store.get(&key(".missing.png")).await.unwrap(), None);
    assert_eq!(store.get("zz/nothing-here").await.unwrap(), None);
}

pub const BAD_KEYS: [&str; 12] = [
    "",
    "/ab/abc.png",
    "ab/../../etc/passwd",
    "../outside",
    "ab//abc.png",
    "ab/",
    "AB/abc.png",
    "ab/abc png",
    "ab\\abc.png",
    "ab/.hidden",
    "ab/%2e%2e/x",
    "ab/abc.png\n",
];

/// Every operation refuses a bad key with InvalidKey, and nothing is written.
pub async fn bad_keys_refused(store: &dyn Store) {
    let long = "a".repeat(201);
    for bad in BAD_KEYS.iter().copied().chain([long.as_str()]) {
        let put = store.put(bad, Bytes::from_static(b"x")).await;
        assert!(
            matches!(put, Err(StoreError::InvalidKey(ref k)) if k == bad),
            "put {bad:?}: {put:?}"
        );
        let get = store.get(bad).await;
        assert!(
            matches!(get, Err(StoreError::InvalidKey(_))),
            "get {bad:?}: {get:?}"
        );
        let delete = store.delete(bad).await;
        assert!(
            matches!(delete, Err(StoreError::InvalidKey(_))),
            "delete {bad:?}: {delete:?}"
        );
    }
    assert_eq!(
        store.keys().await.unwrap(),
        Vec::<String>::new(),
        "a refused put wrote nothing"
    );
    // The longest valid key is fine.
    let longest = "a".repeat(200);
    store.put(&longest, Bytes::from_static(b"x")).await.unwrap();
    assert_eq!(
        store.get(&longest).await.unwrap().as_deref(),
        Some(&b"x"[..])
    );
    store.delete(&longest).await.unwrap();
}

/// Many puts of different keys at once all land.
pub async fn concurrent_puts(store: std::sync::Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for i in 0..32u32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let k = format!("{:02x}/{i:064x}.png", i % 4);
            store
                .put(&k, Bytes::from(i.to_be_bytes().repeat(1000)))
                .await
                .unwrap();
            k
        }));
    }
    let mut written = Vec::new();
    for task in tasks {
        written.push(task.await.unwrap());
    }
    for (i, k) in written.iter().enumerate() {
        let bytes = store.get(k).await.unwrap().expect("written");
        assert_eq!(bytes, Bytes::from((i as u32).to_be_bytes().repeat(1000)));
    }
    let mut have = store.keys().await.unwrap();
    have.sort();
    written.sort();
    assert_eq!(have, written);
    for k in &written {
        store.delete(k).await.unwrap();
    }
}
