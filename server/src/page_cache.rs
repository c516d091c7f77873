//! A short-lived cache of whole pages for visitors who are not signed in, who are most readers
//! of a public forum. Their pages do not depend on who they are, so a topic read by a thousand
//! visitors is rendered once, not a thousand times.
//!
//! Correctness rules: only GETs of public content pages (/, /c/, /t/, /u/, /blog, optionally with
//! ?page=N) without a session cookie are cached, at most 32 MB of them, only 200 HTML answers that set no cookie are stored, entries live
//! `TTL`, and any write (any other method) empties the cache, so a new reply shows at once.
//! A render that overlapped a write is not stored (generation check).
use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Long enough to absorb a burst of readers; short enough that relative times ("2 minutes
/// ago") stay right.
pub const TTL: Duration = Duration::from_secs(10);
/// Bounds on what the cache may hold, whatever URLs it is asked for.
const MAX_BYTES: usize = 32 * 1024 * 1024;
const MAX_PAGE_BYTES: usize = 1024 * 1024;

struct Entry {
    stored: Instant,
    content_type: HeaderValue,
    body: Bytes,
}

#[derive(Default)]
pub struct PageCache {
    entries: Mutex<Entries>,
    generation: AtomicU64,
}

#[derive(Default)]
struct Entries {
    pages: HashMap<String, Entry>,
    bytes: usize,
}

impl PageCache {
    fn get(&self, key: &str) -> Option<(HeaderValue, Bytes)> {
        let entries = self.entries.lock().unwrap();
        let e = entries.pages.get(key)?;
        (e.stored.elapsed() < TTL).then(|| (e.content_type.clone(), e.body.clone()))
    }

    fn put(&self, key: String, generation: u64, content_type: HeaderValue, body: Bytes) {
        let mut entries = self.entries.lock().unwrap();
        if self.generation.load(Ordering::SeqCst) != generation {
            return; // a write happened while this page rendered: it may already be stale
        }
        if entries.bytes + body.len() > MAX_BYTES {
            entries.pages.retain(|_, e| e.stored.elapsed() < TTL);
            entries.bytes = entries.pages.values().map(|e| e.body.len()).sum();
            if entries.bytes + body.len() > MAX_BYTES {
                return;
            }
        }
        entries.bytes += body.len();
        let fresh = Entry {
            stored: Instant::now(),
            content_type,
            body,
        };
        if let Some(old) = entries.pages.insert(key, fresh) {
            entries.bytes -= old.body.len();
        }
    }

    pub fn clear(&self) {
        let mut entries = self.entries.lock().unwrap();
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.pages.clear();
        entries.bytes = 0;
    }
}

/// Public content pages, with no query or just `?page=N`: anything else (random query strings
/// sent to fill the cache, `?quote=`, error echoes) renders normally.
fn cacheable(path: &str, query: Option<&str>) -> bool {
    let page_query = match query {
        None => true,
        Some(q) => q.strip_prefix("page=").is_some_and(|n| {
            !n.is_empty() && n.len() <= 6 && n.bytes().all(|b| b.is_ascii_digit())
        }),
    };
    page_query
        && (path == "/"
            || path.starts_with("/c/")
            || path.starts_with("/t/")
            || path.starts_with("/u/")
            || path == "/blog"
            || path == "/accountability"
            || (path.starts_with("/blog/") && path != "/blog/new" && !path.ends_with("/edit")))
}

fn has_session_cookie(req: &Request) -> bool {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(crate::SESSION_COOKIE))
}

pub async fn layer(
    State(cache): State<std::sync::Arc<PageCache>>,
    req: Request,
    next: Next,
) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let res = next.run(req).await;
        cache.clear();
        return res;
    }
    let uri = req.uri();
    let eligible = req.method() == Method::GET
        && cacheable(uri.path(), uri.query())
        && !has_session_cookie(&req);
    if !eligible {
        return next.run(req).await;
    }
    let key = uri.to_string();
    if let Some((content_type, body)) = cache.get(&key) {
        return ([(header::CONTENT_TYPE, content_type)], body).into_response();
    }
    let generation = cache.generation.load(Ordering::SeqCst);
    let res = next.run(req).await;
    let storable = res.status() == StatusCode::OK
        && !res.headers().contains_key(header::SET_COOKIE)
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !storable {
        return res;
    }
    let (parts, body) = res.into_parts();
    match axum::body::to_bytes(body, MAX_PAGE_BYTES).await {
        Ok(bytes) => {
            if let Some(content_type) = parts.headers.get(header::CONTENT_TYPE) {
                cache.put(key, generation, content_type.clone(), bytes.clone());
            }
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "page too large").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::cacheable;

    #[test]
    fn only_plain_content_urls_are_cached() {
        for yes in [
            ("/", None),
            ("/t/1/x", None),
            ("/t/1/x", Some("page=2")),
            ("/c/q", Some("page=10")),
            ("/u/ada", None),
            ("/blog", Some("page=2")),
            ("/blog/spring-update", None),
        ] {
            assert!(cacheable(yes.0, yes.1), "{yes:?}");
        }
        for no in [
            ("/signup", None),
            ("/t/1/x", Some("quote=3")),
            ("/t/1/x", Some("page=2&x=1")),
            ("/t/1/x", Some("page=")),
            ("/c/q", Some("__err=x")),
            ("/api/x", None),
            ("/blog/new", None),
            ("/blog/spring-update/edit", None),
            ("/blog/spring-update", Some("saved=draft")),
        ] {
            assert!(!cacheable(no.0, no.1), "{no:?}");
        }
    }
}
