//! Where uploaded files are kept: one small interface, [`Store`], and two backends chosen by a
//! setting, a directory on the server's disk ([`DirStore`]) and an S3-compatible bucket
//! ([`S3Store`]: AWS, MinIO, Garage, moto). The app crate adds a third, in the database, over
//! the same trait.
//!
//! Keys are content hashes with a suffix ("ab/abcdef...64 hex.thumb.webp"), so a key names one
//! byte string forever: putting a key twice stores the same bytes, and nothing here needs
//! locking or versioning. Every backend refuses a key [`valid_key`] refuses, so a key can never
//! climb out of its directory or prefix.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// Where files are kept. Implementations are shared by every request (`Arc<dyn Store>`).
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Idempotent: keys are content hashes, so a second put of a key stores the same bytes.
    async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StoreError>;
    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError>;
    /// A key that is not there is not an error.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Every key held (for `backyard uploads migrate`); a full listing. Entries that are not
    /// valid keys (a stray file in the directory, another application's objects under the
    /// prefix) are left out.
    async fn keys(&self) -> Result<Vec<String>, StoreError>;
    /// "directory", "s3" (the app's is "database"): for logs and the admin page.
    fn kind(&self) -> &'static str;
}

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 200;

/// Whether `key` may name a stored file: 1 to 200 characters from `[a-z0-9._-]` and `/`, where
/// `/` separates non-empty segments (none leading, trailing or doubled) and no segment starts
/// with a dot (so no ".", "..", or hidden files). Anything else is refused by every backend.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && !key.contains("..")
        && key.split('/').all(|segment| {
            !segment.is_empty()
                && !segment.starts_with('.')
                && segment
                    .bytes()
                    .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
        })
}

/// What went wrong in a store. Messages are meant for an operator's log: they name the backend
/// and the key or path, never a credential.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A key [`valid_key`] refuses; nothing was read or written.
    #[error("invalid storage key {0:?}")]
    InvalidKey(String),
    /// The store could not be set up from its settings.
    #[error("storage settings: {0}")]
    Config(String),
    /// The backend failed (disk, network, permissions, a missing bucket, ...).
    #[error("{store} storage: {message}")]
    Backend {
        /// [`Store::kind`] of the failing store.
        store: &'static str,
        message: String,
    },
}

/// Makes ring the process's rustls crypto provider, which reqwest needs before it builds a
/// client (it is compiled with no provider of its own: ring is the tree's one crypto library).
/// Idempotent: a provider already installed (by an earlier call or anyone else) is kept.
/// [`S3Store::new`] and [`crate::fetch::Fetcher::new`] call it themselves.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn checked_path(key: &str) -> Result<ObjectPath, StoreError> {
    if !valid_key(key) {
        return Err(StoreError::InvalidKey(key.to_owned()));
    }
    // A valid key is always a valid object_store path (no empty, "." or ".." segments).
    ObjectPath::parse(key).map_err(|_| StoreError::InvalidKey(key.to_owned()))
}

/// The operations both object_store-backed stores share.
struct Objects {
    inner: Arc<dyn ObjectStore>,
    kind: &'static str,
    /// Scrubbed from error messages (the S3 secret key), in case a backend ever echoed it.
    secret: Option<String>,
    /// What a write's "not found" means (S3: the bucket is missing).
    write_not_found: Option<String>,
}

impl Objects {
    /// `context` is what was being done ("reading ab/cd.png"); the backend's error follows.
    fn error(&self, context: String, error: object_store::Error) -> StoreError {
        let mut message = format!("{context}: {error}");
        if let Some(secret) = self.secret.as_deref().filter(|s| !s.is_empty()) {
            message = message.replace(secret, "[secret]");
        }
        // One log line, even when the backend's answer (S3's XML) spans several.
        let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
        StoreError::Backend {
            store: self.kind,
            message,
        }
    }

    async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StoreError> {
        let path = checked_path(key)?;
        self.inner
            .put(&path, PutPayload::from_bytes(bytes))
            .await
            .map(|_| ())
            .map_err(|e| match (&e, &self.write_not_found) {
                (object_store::Error::NotFound { .. }, Some(meaning)) => {
                    self.error(format!("writing {key}: {meaning}"), e)
                }
                _ => self.error(format!("writing {key}"), e),
            })
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        let path = checked_path(key)?;
        let result = match self.inner.get(&path).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.error(format!("reading {key}"), e)),
        };
        match result.bytes().await {
            Ok(bytes) => Ok(Some(bytes)),
            // Deleted between the open and the read.
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.error(format!("reading {key}"), e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = checked_path(key)?;
        match self.inner.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.error(format!("deleting {key}"), e)),
        }
    }

    async fn keys(&self) -> Result<Vec<String>, StoreError> {
        let metas: Vec<_> = self
            .inner
            .list(None)
            .try_collect()
            .await
            .map_err(|e| self.error("listing".into(), e))?;
        let mut keys = Vec::with_capacity(metas.len());
        for meta in metas {
            let key = meta.location.to_string();
            if valid_key(&key) {
                keys.push(key);
            } else {
                tracing::warn!(store = self.kind, entry = %key, "not a storage key; left out of the listing");
            }
        }
        keys.sort_unstable();
        Ok(keys)
    }
}

/// Files in a directory on the server's disk, at `root/<key>`. A put writes a temporary file
/// beside the target, fsyncs it, renames it into place and fsyncs the directory, so once `put`
/// returns the file is whole and durable, and a reader never sees half a file.
pub struct DirStore {
    objects: Objects,
    root: PathBuf,
}

impl DirStore {
    /// Creates `root` (and its parents) when missing.
    pub fn new(root: PathBuf) -> Result<Self, StoreError> {
        std::fs::create_dir_all(&root).map_err(|e| {
            StoreError::Config(format!(
                "cannot create the upload directory {}: {e}",
                root.display()
            ))
        })?;
        let local = object_store::local::LocalFileSystem::new_with_prefix(&root)
            .map_err(|e| StoreError::Config(format!("upload directory {}: {e}", root.display())))?
            .with_fsync(true);
        Ok(DirStore {
            objects: Objects {
                inner: Arc::new(local),
                kind: "directory",
                secret: None,
                write_not_found: None,
            },
            root,
        })
    }

    /// The directory as given to [`DirStore::new`].
    pub fn root(&self) -> &std::path::Path {
        &self.root
    }
}

impl fmt::Debug for DirStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirStore")
            .field("root", &self.root)
            .finish()
    }
}

#[async_trait::async_trait]
impl Store for DirStore {
    async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StoreError> {
        self.objects.put(key, bytes).await
    }
    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        self.objects.get(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.objects.delete(key).await
    }
    async fn keys(&self) -> Result<Vec<String>, StoreError> {
        self.objects.keys().await
    }
    fn kind(&self) -> &'static str {
        "directory"
    }
}

/// The settings of an S3-compatible bucket.
#[derive(Clone)]
pub struct S3Config {
    /// None for AWS itself (virtual-hosted requests to s3.<region>.amazonaws.com); for MinIO,
    /// Garage, moto and the like their URL, e.g. "http://127.0.0.1:9000" (path-style requests:
    /// <endpoint>/<bucket>/<key>).
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Allow an http:// endpoint (a server on the same machine or private network).
    pub allow_http: bool,
    /// Keys are stored under this prefix ("" for the bucket's root; "backyard/uploads"
    /// without slashes at either end, or with them: they are trimmed).
    pub prefix: String,
}

/// Never prints the secret key.
impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[secret]")
            .field("allow_http", &self.allow_http)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// Files in an S3-compatible bucket, at `<prefix>/<key>`. The bucket must exist: operators
/// create it (and its access policy) with their provider's tools.
pub struct S3Store {
    objects: Objects,
    description: String,
}

impl S3Store {
    /// Checks the settings and builds the client; makes no request.
    pub fn new(config: &S3Config) -> Result<Self, StoreError> {
        install_crypto();
        if config.bucket.trim().is_empty() {
            return Err(StoreError::Config("the S3 bucket name is empty".into()));
        }
        if config.access_key_id.is_empty() || config.secret_access_key.is_empty() {
            return Err(StoreError::Config(
                "the S3 access key id and secret access key are both required".into(),
            ));
        }
        let region = match config.region.trim() {
            "" => "us-east-1",
            region => region,
        };
        let mut builder = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(config.bucket.trim())
            .with_region(region)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(&config.secret_access_key)
            .with_allow_http(config.allow_http)
            // A request handler waits on these: a few quick retries, not object_store's
            // default of 10 over up to three minutes.
            .with_retry(object_store::RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(30),
                ..Default::default()
            });
        match config
            .endpoint
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            Some(endpoint) => {
                let url = url::Url::parse(endpoint).map_err(|e| {
                    StoreError::Config(format!("the S3 endpoint {endpoint:?} is not a URL: {e}"))
                })?;
                match url.scheme() {
                    "https" => {}
                    "http" if config.allow_http => {}
                    "http" => {
                        return Err(StoreError::Config(format!(
                            "the S3 endpoint {endpoint} is plain http; allow http to use it"
                        )));
                    }
                    other => {
                        return Err(StoreError::Config(format!(
                            "the S3 endpoint {endpoint} has scheme {other:?}; expected https or http"
                        )));
                    }
                }
                builder = builder
                    .with_endpoint(endpoint.trim_end_matches('/'))
                    .with_virtual_hosted_style_request(false);
            }
            None => builder = builder.with_virtual_hosted_style_request(true),
        }
        let s3 = builder.build().map_err(|e| {
            StoreError::Config(
                format!("S3 bucket {}: {e}", config.bucket)
                    .replace(&config.secret_access_key, "[secret]"),
            )
        })?;
        let prefix = config.prefix.trim().trim_matches('/');
        let inner: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            if !valid_key(prefix) {
                return Err(StoreError::Config(format!(
                    "the S3 prefix {prefix:?} may hold only a-z, 0-9, '.', '_', '-' and single '/' separators"
                )));
            }
            let path = ObjectPath::parse(prefix)
                .map_err(|e| StoreError::Config(format!("the S3 prefix {prefix:?}: {e}")))?;
            Arc::new(object_store::prefix::PrefixStore::new(s3, path))
        };
        let description = format!(
            "s3://{}/{}{}",
            config.bucket.trim(),
            prefix,
            config
                .endpoint
                .as_deref()
                .map(|e| format!(" at {e}"))
                .unwrap_or_default()
        );
        Ok(S3Store {
            objects: Objects {
                inner,
                kind: "s3",
                secret: Some(config.secret_access_key.clone()),
                write_not_found: Some(format!("bucket {} not found", config.bucket.trim())),
            },
            description,
        })
    }
}

/// Bucket, prefix and endpoint; never the credentials.
impl fmt::Debug for S3Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("S3Store").field(&self.description).finish()
    }
}

#[async_trait::async_trait]
impl Store for S3Store {
    async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StoreError> {
        self.objects.put(key, bytes).await
    }
    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        self.objects.get(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.objects.delete(key).await
    }
    async fn keys(&self) -> Result<Vec<String>, StoreError> {
        self.objects.keys().await
    }
    fn kind(&self) -> &'static str {
        "s3"
    }
}

#[cfg(test)]
mod tests {
    use super::valid_key;

    #[test]
    fn keys_like_the_uploads_ones_are_valid() {
        let hash = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
        assert!(valid_key(&format!("ab/{hash}.thumb.webp")));
        assert!(valid_key(&format!("{hash}.png")));
        assert!(valid_key("a"));
        assert!(valid_key("x_y-z/0.9"));
        assert!(valid_key(&"a".repeat(200)));
    }

    #[test]
    fn everything_else_is_refused() {
        for key in [
            "",
            "/ab/c.png",
            "ab/",
            "ab//c.png",
            "ab/../c.png",
            "..",
            "a..b",
            ".",
            "ab/./c",
            "ab/.hidden",
            ".env",
            "AB/c.png",
            "ab\\c.png",
            "ab/c png",
            "ab/c%2e.png",
            "ab/c#1",
            "ab/ç.png",
            "ab/c\0.png",
            "ab/c\n.png",
        ] {
            assert!(!valid_key(key), "{key:?} was accepted");
        }
        assert!(!valid_key(&"a".repeat(201)));
    }
}
