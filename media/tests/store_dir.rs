//! DirStore: uploads kept in a directory on the server's disk.

#[path = "store_common.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use media::store::{DirStore, Store, StoreError};

/// A fresh directory under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "backyard-store-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every file under `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let mut out = Vec::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out.sort();
    out
}

#[tokio::test]
async fn round_trip() {
    let dir = TempDir::new("round-trip");
    // new() creates the directory and its parents.
    let store = DirStore::new(dir.0.join("nested/uploads")).unwrap();
    assert_eq!(store.kind(), "directory");
    common::round_trip(&store).await;
}

#[tokio::test]
async fn files_are_plain_files_at_their_key_with_no_leftovers() {
    let dir = TempDir::new("layout");
    let store = DirStore::new(dir.0.clone()).unwrap();
    let key = common::key(".png");
    store.put(&key, Bytes::from_static(b"bytes")).await.unwrap();
    store.put(&key, Bytes::from_static(b"bytes")).await.unwrap();
    // Exactly one file, at root/<key>: no temporary file left beside it.
    assert_eq!(files_under(&dir.0), vec![key.clone()]);
    assert_eq!(std::fs::read(dir.0.join(&key)).unwrap(), b"bytes");

    // A second store over the same directory (a restart) sees what the first wrote.
    let again = DirStore::new(dir.0.clone()).unwrap();
    assert_eq!(again.keys().await.unwrap(), vec![key.clone()]);
    assert_eq!(
        again.get(&key).await.unwrap().as_deref(),
        Some(&b"bytes"[..])
    );

    again.delete(&key).await.unwrap();
    assert!(!dir.0.join(&key).exists());
}

#[tokio::test]
async fn missing_key_is_none() {
    let dir = TempDir::new("missing");
    let store = DirStore::new(dir.0.clone()).unwrap();
    common::missing_key_is_none(&store).await;
}

#[tokio::test]
async fn bad_keys_are_refused_and_nothing_is_written_anywhere() {
    let parent = TempDir::new("bad-keys");
    let root = parent.0.join("uploads");
    let store = DirStore::new(root.clone()).unwrap();
    common::bad_keys_refused(&store).await;
    // Nothing beside or above the store's directory either ("../outside" and friends).
    assert_eq!(files_under(&parent.0), Vec::<String>::new());
}

#[tokio::test]
async fn stray_files_are_left_out_of_the_listing() {
    let dir = TempDir::new("stray");
    let store = DirStore::new(dir.0.clone()).unwrap();
    std::fs::write(dir.0.join("README.TXT"), b"an operator's note").unwrap();
    std::fs::create_dir_all(dir.0.join("ab")).unwrap();
    std::fs::write(dir.0.join("ab/.DS_Store"), b"").unwrap();
    let key = common::key(".png");
    store.put(&key, Bytes::from_static(b"x")).await.unwrap();
    assert_eq!(store.keys().await.unwrap(), vec![key]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_puts() {
    let dir = TempDir::new("concurrent");
    let store: Arc<dyn Store> = Arc::new(DirStore::new(dir.0.clone()).unwrap());
    common::concurrent_puts(store).await;
}

#[test]
fn a_root_that_is_a_file_is_a_settings_error() {
    let dir = TempDir::new("file-root");
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join("not-a-directory");
    std::fs::write(&file, b"").unwrap();
    let error = DirStore::new(file.clone()).unwrap_err();
    assert!(matches!(error, StoreError::Config(_)), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains(&file.display().to_string()),
        "names the path: {message}"
    );
}
