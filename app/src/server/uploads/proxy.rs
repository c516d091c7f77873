//! The image proxy (GitHub's camo is the model): a post's Markdown image from another site is
//! rendered as `/images/proxy/<signature>/<address>`, and this site fetches the image once
//! (media::fetch: public addresses only, redirects re-checked, 10 s, 10 MB), decodes and
//! re-encodes it like an upload, and keeps it. Readers' browsers never contact the other site,
//! so it learns nothing about them. The signature (an HMAC with a server secret) means the proxy
//! fetches only addresses a post showed, not whatever a URL asks for.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock, RwLock},
    time::Duration,
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use bytes::Bytes;
use chrono::Utc;
use media::{
    fetch::{FetchPolicy, Fetcher},
    store::Store,
};
use pulldown_cmark::{Event, Tag, TagEnd};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set, sea_query::OnConflict};

use super::{Variant, content_hash, insert_file, kind_name, off_runtime, rules};
use crate::{
    error::AppError,
    server::{
        auth::{hmac_sha256, server_secret, to_hex},
        entity::{file, proxied_image},
        settings,
    },
};

pub const PREFIX: &str = "/images/proxy/";

/// What a Markdown image from another site becomes: this site's image proxy (signed with the
/// proxy's key, so the proxy fetches only what a post showed), or a plain link to it (an admin
/// setting), so that readers' browsers never fetch from other sites.
#[derive(Clone)]
pub enum ExternalImages {
    Proxied([u8; 32]),
    Linked,
}

/// An image source on this site: an upload (`/uploads/<id>/…`) or the image proxy. The content
/// pipeline's allow-list keeps no other `img src`.
pub fn is_own_image(src: &str) -> bool {
    // A dot segment would take the reader's browser out of these paths to any address on the
    // site (a GET with their cookies): browsers resolve `..` (also `%2e%2e`, with `\` read as
    // `/`, and with tabs and newlines dropped) before they ask.
    let climbs = src
        .split(['/', '\\'])
        .map(|segment| {
            segment
                .replace(['\t', '\n', '\r'], "")
                .to_ascii_lowercase()
                .replace("%2e", ".")
        })
        .any(|segment| segment == "." || segment == "..");
    if climbs {
        return false;
    }
    let upload = src.strip_prefix("/uploads/").is_some_and(|rest| {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        digits > 0 && rest.as_bytes().get(digits) == Some(&b'/')
    });
    upload || src.starts_with(PREFIX)
}

fn is_web_url(url: &str) -> bool {
    let lower = url
        .trim_start()
        .get(..8)
        .unwrap_or(url)
        .to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// Markdown events with other sites' images pointed at the proxy, or turned into links.
pub struct OtherSitesImages<'i> {
    images: &'i ExternalImages,
    /// For each image open, whether it became a link.
    linked: Vec<bool>,
}

impl<'i> OtherSitesImages<'i> {
    pub fn new(images: &'i ExternalImages) -> Self {
        OtherSitesImages {
            images,
            linked: Vec::new(),
        }
    }

    pub fn rewrite<'e>(&mut self, event: Event<'e>) -> Event<'e> {
        match event {
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) if is_web_url(&dest_url) => match self.images {
                ExternalImages::Proxied(key) => Event::Start(Tag::Image {
                    link_type,
                    dest_url: url_for(key, &dest_url).into(),
                    title,
                    id,
                }),
                ExternalImages::Linked => {
                    self.linked.push(true);
                    Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id,
                    })
                }
            },
            Event::Start(Tag::Image { .. }) => {
                self.linked.push(false);
                event
            }
            Event::End(TagEnd::Image) if self.linked.pop() == Some(true) => {
                Event::End(TagEnd::Link)
            }
            other => other,
        }
    }
}
/// A failed fetch is tried again after this long (until then the proxy answers "not found").
const RETRY_FAILED_AFTER: Duration = Duration::from_secs(3600);
/// Longest address the proxy takes (what a post could hold, with room).
const MAX_URL: usize = 2048;

fn signature(key: &[u8; 32], url: &str) -> String {
    to_hex(&hmac_sha256(key, url.as_bytes()))[..32].to_string()
}

/// The proxy path for `url`, signed with `key`.
pub fn url_for(key: &[u8; 32], url: &str) -> String {
    // Signed as carried: `address_of` checks the signature of the address it decodes.
    let url = url.trim();
    format!("{PREFIX}{}/{}", signature(key, url), B64.encode(url))
}

/// The address a proxy path carries, when its signature holds.
pub fn address_of(key: &[u8; 32], signature_part: &str, encoded: &str) -> Option<String> {
    if encoded.len() > MAX_URL * 2 {
        return None;
    }
    let url = String::from_utf8(B64.decode(encoded).ok()?).ok()?;
    let expected = signature(key, &url);
    let same = signature_part.len() == expected.len()
        && signature_part
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    same.then_some(url)
}

/// Whether `url` is on this site (`public_url`'s scheme, host and port, as browsers compare
/// them). The proxy fetches none of those: a copy of this site's own upload, kept by the proxy,
/// stayed up after a moderator hid the post that shows it, where the upload itself answers "not
/// found".
pub fn is_this_sites(url: &str, public_url: &str) -> bool {
    fn origin(url: &str) -> Option<String> {
        let (scheme, rest) = url.trim().split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let authority = rest.split(['/', '?', '#', '\\']).next()?;
        let host_port = authority.rsplit('@').next()?.to_ascii_lowercase();
        let default = if scheme == "https" { ":443" } else { ":80" };
        let host_port = host_port.strip_suffix(default).unwrap_or(&host_port);
        Some(format!("{scheme}://{}", host_port.trim_end_matches('.')))
    }
    origin(url).is_some_and(|o| Some(o) == origin(public_url))
}

/// The proxy's key (the `image-proxy` server secret), read once per process.
pub async fn key(conn: &impl ConnectionTrait) -> Result<[u8; 32], AppError> {
    static KEY: tokio::sync::OnceCell<[u8; 32]> = tokio::sync::OnceCell::const_new();
    KEY.get_or_try_init(|| server_secret(conn, "image-proxy"))
        .await
        .copied()
}

/// What Markdown images from other sites become on this site now (the `external_images`
/// setting).
pub async fn external_images(conn: &impl ConnectionTrait) -> Result<ExternalImages, AppError> {
    if settings::text(conn, settings::EXTERNAL_IMAGES).await? == "link" {
        Ok(ExternalImages::Linked)
    } else {
        Ok(ExternalImages::Proxied(key(conn).await?))
    }
}

/// An image address set outside Markdown (an article's cover) as pages may use it: this site's
/// own (an upload) as it is; another site's through the proxy, or not shown when the site shows
/// other sites' images as links.
pub fn shown_src(images: &ExternalImages, url: Option<String>) -> Option<String> {
    let url = url?;
    if url.starts_with("/uploads/") {
        return Some(url);
    }
    match images {
        ExternalImages::Proxied(key) => Some(url_for(key, &url)),
        ExternalImages::Linked => None,
    }
}

/// The fetcher the proxy uses: made with the default policy (public addresses only) on first
/// use, unless a test of this project put its own in place with `set_test_policy`.
fn fetcher() -> Result<Fetcher, AppError> {
    if let Some(test) = TEST_FETCHER
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
    {
        return Ok(test);
    }
    static FETCHER: OnceLock<Result<Fetcher, String>> = OnceLock::new();
    FETCHER
        .get_or_init(|| {
            media::store::install_crypto();
            Fetcher::new(FetchPolicy::default()).map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| {
            tracing::error!(error = %e, "image proxy client");
            AppError::Internal
        })
}

/// A fetcher a test put in place (`set_test_policy`); None in production.
static TEST_FETCHER: RwLock<Option<Fetcher>> = RwLock::new(None);

/// For this project's own tests only: from now on the proxy fetches under `policy` (one that
/// allows a test server on 127.0.0.1, say). Production code never calls it, and no setting,
/// environment variable or request reaches it, so the escape hatch cannot be opened from outside
/// the process. Callable at any time (the production fetcher is a separate value).
#[doc(hidden)]
pub fn set_test_policy(policy: FetchPolicy) -> Result<(), String> {
    let fetcher = Fetcher::new(policy).map_err(|e| e.to_string())?;
    *TEST_FETCHER
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(fetcher);
    Ok(())
}

/// One fetch of an address at a time per process: a page with the same image twice, or a
/// hundred readers opening a new post at once, fetch it once.
fn in_flight(url_hash: &str) -> Arc<tokio::sync::Mutex<()>> {
    static FLIGHTS: OnceLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let mut flights = FLIGHTS.get_or_init(Default::default).lock().unwrap();
    flights.retain(|_, lock| Arc::strong_count(lock) > 1);
    flights.entry(url_hash.to_string()).or_default().clone()
}

/// The kept copy of the image at `url`: fetched, checked and kept the first time, then read
/// from the store. A failure is remembered for an hour ("not found" with why, to the log).
pub async fn image(
    db: &DatabaseConnection,
    store: &dyn Store,
    url: &str,
) -> Result<file::Model, AppError> {
    let url_hash = content_hash(url.as_bytes());
    let lock = in_flight(&url_hash);
    let _flight = lock.lock().await;
    let not_found = || AppError::NotFound("This image could not be loaded.".into());
    if let Some(row) = proxied_image::Entity::find_by_id(url_hash.clone())
        .one(db)
        .await?
    {
        if let Some(hash) = &row.file_hash
            && let Some(f) = file::Entity::find_by_id(hash.clone()).one(db).await?
        {
            return Ok(f);
        }
        let age = (Utc::now() - row.fetched_at).to_std().unwrap_or_default();
        if !row.error.is_empty() && age < RETRY_FAILED_AFTER {
            return Err(not_found());
        }
    }
    match fetch_and_keep(db, store, url).await {
        Ok(f) => {
            record(db, &url_hash, url, Some(f.hash.clone()), "").await?;
            Ok(f)
        }
        Err(why) => {
            tracing::info!(%url, error = %why, "image proxy: not fetched");
            let mut why = why;
            why.truncate(300);
            record(db, &url_hash, url, None, &why).await?;
            Err(not_found())
        }
    }
}

async fn record(
    db: &DatabaseConnection,
    url_hash: &str,
    url: &str,
    file_hash: Option<String>,
    error: &str,
) -> Result<(), AppError> {
    proxied_image::Entity::insert(proxied_image::ActiveModel {
        url_hash: Set(url_hash.to_string()),
        url: Set(url.to_string()),
        file_hash: Set(file_hash),
        error: Set(error.to_string()),
        fetched_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(proxied_image::Column::UrlHash)
            .update_columns([
                proxied_image::Column::FileHash,
                proxied_image::Column::Error,
                proxied_image::Column::FetchedAt,
            ])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Fetches, decodes and re-encodes, keeps. The error is for the log, not for readers.
async fn fetch_and_keep(
    db: &DatabaseConnection,
    store: &dyn Store,
    url: &str,
) -> Result<file::Model, String> {
    if url.len() > MAX_URL {
        return Err("address too long".into());
    }
    let fetched = fetcher()
        .map_err(|e| e.to_string())?
        .fetch(url)
        .await
        .map_err(|e| e.to_string())?;
    let hash = content_hash(&fetched.bytes);
    if let Some(f) = file::Entity::find_by_id(hash.clone())
        .one(db)
        .await
        .map_err(|e| e.to_string())?
    {
        return Ok(f);
    }
    let rules = rules(db).await.map_err(|e| e.to_string())?;
    let bytes = fetched.bytes;
    let processed = off_runtime(
        move |limits| media::image::process(&bytes, &limits),
        super::limits_for(&rules),
    )
    .await
    .map_err(|e| e.to_string())?;
    let put = |k: String, b: Vec<u8>| async move {
        store
            .put(&k, Bytes::from(b))
            .await
            .map_err(|e| e.to_string())
    };
    put(super::key(&hash, Variant::Main), processed.main.clone()).await?;
    put(super::key(&hash, Variant::Thumb), processed.thumb.clone()).await?;
    if let Some(webp) = &processed.webp {
        put(super::key(&hash, Variant::Webp), webp.clone()).await?;
    }
    insert_file(
        db,
        file::ActiveModel {
            hash: Set(hash.clone()),
            kind: Set(kind_name(processed.kind).into()),
            byte_size: Set(processed.main.len() as i64),
            width: Set(Some(processed.width as i32)),
            height: Set(Some(processed.height as i32)),
            animated: Set(processed.animated),
            has_webp: Set(processed.webp.is_some()),
            has_thumb: Set(true),
            created_at: Set(Utc::now()),
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    file::Entity::find_by_id(hash)
        .one(db)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "file row missing after insert".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_addresses_round_trip_and_forgeries_fail() {
        let key = [3u8; 32];
        let path = url_for(&key, "https://example.com/a.png");
        let rest = path.strip_prefix(PREFIX).unwrap();
        let (sig, encoded) = rest.split_once('/').unwrap();
        assert_eq!(
            address_of(&key, sig, encoded).as_deref(),
            Some("https://example.com/a.png")
        );
        assert_eq!(address_of(&[4u8; 32], sig, encoded), None, "another key");
        let other = B64.encode("http://169.254.169.254/");
        assert_eq!(address_of(&key, sig, &other), None, "another address");
        assert_eq!(address_of(&key, "00", encoded), None, "a short signature");
    }
}
