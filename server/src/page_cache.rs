//! A short-lived cache of whole pages for visitors who are not signed in, who are most readers
//! of a public forum. Their pages do not depend on who they are, so a topic read by a thousand
//! visitors is rendered once, not a thousand times.
//!
//! Correctness rules: only GETs of public content pages (/, /c/, /t/, /u/, /blog, optionally with
//! ?page=N) without a session cookie are cached, at most 32 MB of them, only 200 HTML answers
//! that set no cookie are stored, and entries live `TTL`. Entries are served only while the
//! page version (app::server::page_version, bumped after every commit that may change a page)
//! is the one they were stored under, so a new reply shows at once, and a request that wrote
//! nothing (a 404, a refused form, a failed log-in) leaves the cache alone. A render that
//! overlapped a version change is not stored (generation check). Shared pages allow their
//! inline scripts by hash, not by nonce, so a hit is the stored bytes as they are.
//!
//! Several servers on one PostgreSQL: the version is in the database, and a hit is served only
//! after a read of it that began after the request arrived. A write bumps the version before
//! its response leaves, so whichever server a later request reaches, it never gets a page from
//! before that write. The requests waiting at the same time share one read (`fresh_version`):
//! under load one query answers a whole batch of hits.
//!
//! Signed-in members' topic pages are kept too (`member_layer`), under the same version, TTL
//! and emptying, keyed by everything their render reads (app::server::page_inputs): members
//! whose topic page would be the same get one render, with their own name and form token put
//! into it.
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use crate::robots::X_ROBOTS_TAG;
use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
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
    page: Shared,
}

/// A page as every visitor gets it: the same bytes, with a policy that allows its inline
/// scripts by hash rather than by a per-reader nonce (see csp::with_script_hashes), and a gzip
/// copy made once when it is stored (a 29 KB topic page goes out as 4.5 KB).
#[derive(Clone)]
struct Shared {
    content_type: HeaderValue,
    policy: HeaderValue,
    /// `noindex` when the page said so (an empty list, or indexing switched off), so a hit
    /// answers crawlers as the render did. A change of that switch is a write: it empties the
    /// cache like any other.
    robots: Option<HeaderValue>,
    body: Bytes,
    gzip: Bytes,
}

impl Shared {
    /// What it takes of the cache's budget: both copies.
    fn size(&self) -> usize {
        self.body.len() + self.gzip.len()
    }

    fn into_response(self, gzip: bool) -> Response {
        let (body, encoding) = if gzip {
            (self.gzip, Some(HeaderValue::from_static("gzip")))
        } else {
            (self.body, None)
        };
        let mut res = (
            [
                (header::CONTENT_TYPE, self.content_type),
                (header::CONTENT_SECURITY_POLICY, self.policy),
                (header::VARY, HeaderValue::from_static("accept-encoding")),
            ],
            body,
        )
            .into_response();
        if let Some(encoding) = encoding {
            res.headers_mut().insert(header::CONTENT_ENCODING, encoding);
        }
        if let Some(robots) = self.robots {
            res.headers_mut().insert(X_ROBOTS_TAG, robots);
        }
        res
    }
}

pub struct PageCache {
    entries: Mutex<Entries>,
    /// Changes when the entries are emptied: a render that began under an older one is not
    /// stored (a write it did not see may have landed meanwhile).
    generation: AtomicU64,
    db: sea_orm::DatabaseConnection,
    /// Version reads begun (see `fresh_version`).
    checks_started: AtomicU64,
    /// The last version read, and the number of the read that got it. Held across a read, so
    /// requests that arrive during one queue here and the first of them makes the next.
    last_check: tokio::sync::Mutex<Check>,
}

#[derive(Default)]
struct Check {
    number: u64,
    version: u64,
}

/// A stored file (an upload's image, thumbnail or avatar, a proxied image) as a visitor gets
/// it: whether a visitor may see it is the same answer for every visitor, so the permission
/// check and the store read are done once per `TTL`, like a page's render. Any write empties
/// these with the pages: a hidden post's files stop being served at once.
#[derive(Clone)]
struct SharedFile {
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Default)]
struct Entries {
    pages: HashMap<String, Entry>,
    files: HashMap<String, (Instant, SharedFile)>,
    bytes: usize,
    /// Members' topic pages (`member_layer`), by their inputs' key, within their own bound.
    members: HashMap<[u8; 32], (Instant, Arc<MemberPage>)>,
    member_bytes: usize,
    /// The page version every entry was stored under.
    version: u64,
}

/// Files larger than this are not kept: a thumbnail is tens of KB, a re-encoded 2,000-pixel photo
/// about 0.6 to 0.9 MB (read from the database store, one costs 2 to 3 ms to serve; kept, a
/// fraction of that).
const MAX_FILE_BYTES: usize = 2 * 1024 * 1024;

impl PageCache {
    pub fn new(db: sea_orm::DatabaseConnection) -> Self {
        PageCache {
            entries: Mutex::default(),
            generation: AtomicU64::new(0),
            db,
            checks_started: AtomicU64::new(0),
            last_check: tokio::sync::Mutex::default(),
        }
    }

    /// The page version as of a moment after this call began, or None when it cannot be read
    /// (then nothing is served from the cache). On SQLite this process's counter; on
    /// PostgreSQL a read that began after this call did: one already running when the call
    /// came may have missed a write acknowledged just before, so it does not count, and
    /// callers queued behind it share the next one.
    async fn fresh_version(&self) -> Option<u64> {
        use app::server::page_version;
        if !page_version::shared(&self.db) {
            return page_version::current(&self.db).await.ok();
        }
        let arrived_after = self.checks_started.load(Ordering::SeqCst);
        let mut last = self.last_check.lock().await;
        if last.number > arrived_after {
            return Some(last.version);
        }
        let number = self.checks_started.fetch_add(1, Ordering::SeqCst) + 1;
        match page_version::current(&self.db).await {
            Ok(version) => {
                *last = Check { number, version };
                Some(version)
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading the page version: not serving from the cache");
                None
            }
        }
    }

    /// Empties the cache when the version moved on since its entries were stored. An older
    /// version (a read that began before another's) changes nothing: entries stored under a
    /// newer one are at least as fresh as the caller needs.
    fn settle(&self, version: u64) {
        let mut entries = self.entries.lock().unwrap();
        if version > entries.version {
            self.empty(&mut entries);
            entries.version = version;
        }
    }

    /// What `lookup` finds, if the page version still is the one it was stored under. The
    /// version is read on a miss too: the render that follows is stored under it, and the rows
    /// it reads are at least that new, since the version is bumped only after the commits it
    /// counts. (Stored under an older one, the page would be thrown away by the next hit.)
    async fn fresh<T>(&self, lookup: impl Fn(&Self) -> Option<T>) -> Option<T> {
        let version = self.fresh_version().await?;
        self.settle(version);
        lookup(self)
    }

    fn get(&self, key: &str) -> Option<Shared> {
        let entries = self.entries.lock().unwrap();
        let e = entries.pages.get(key)?;
        // Reference counts only: the lock is held for a few increments.
        (e.stored.elapsed() < TTL).then(|| e.page.clone())
    }

    fn put(&self, key: String, generation: u64, page: Shared) {
        let mut entries = self.entries.lock().unwrap();
        if self.generation.load(Ordering::SeqCst) != generation {
            return; // a write happened while this page rendered: it may already be stale
        }
        let size = page.size();
        if entries.bytes + size > MAX_BYTES {
            entries.pages.retain(|_, e| e.stored.elapsed() < TTL);
            entries.bytes = entries.pages.values().map(|e| e.page.size()).sum();
            if entries.bytes + size > MAX_BYTES {
                return;
            }
        }
        entries.bytes += size;
        let fresh = Entry {
            stored: Instant::now(),
            page,
        };
        if let Some(old) = entries.pages.insert(key, fresh) {
            entries.bytes -= old.page.size();
        }
    }

    fn get_file(&self, key: &str) -> Option<SharedFile> {
        let entries = self.entries.lock().unwrap();
        let (stored, file) = entries.files.get(key)?;
        (stored.elapsed() < TTL).then(|| file.clone())
    }

    fn put_file(&self, key: String, generation: u64, file: SharedFile) {
        let mut entries = self.entries.lock().unwrap();
        if self.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        let size = file.body.len();
        if entries.bytes + size > MAX_BYTES {
            entries.pages.retain(|_, e| e.stored.elapsed() < TTL);
            entries.files.retain(|_, (at, _)| at.elapsed() < TTL);
            entries.bytes = entries.pages.values().map(|e| e.page.size()).sum::<usize>()
                + entries
                    .files
                    .values()
                    .map(|(_, f)| f.body.len())
                    .sum::<usize>();
            if entries.bytes + size > MAX_BYTES {
                return;
            }
        }
        entries.bytes += size;
        if let Some((_, old)) = entries.files.insert(key, (Instant::now(), file)) {
            entries.bytes -= old.body.len();
        }
    }

    /// Empties the cache, whatever the version says.
    pub fn clear(&self) {
        self.empty(&mut self.entries.lock().unwrap());
    }

    fn empty(&self, entries: &mut Entries) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.pages.clear();
        entries.files.clear();
        entries.bytes = 0;
        entries.members.clear();
        entries.member_bytes = 0;
    }

    fn get_member_page(&self, key: &[u8; 32]) -> Option<Arc<MemberPage>> {
        let entries = self.entries.lock().unwrap();
        let (stored, page) = entries.members.get(key)?;
        (stored.elapsed() < TTL).then(|| page.clone())
    }

    fn put_member_page(&self, key: [u8; 32], generation: u64, page: MemberPage) {
        let mut entries = self.entries.lock().unwrap();
        if self.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        let size = page.size;
        if entries.member_bytes + size > MAX_MEMBER_BYTES {
            entries.members.retain(|_, (at, _)| at.elapsed() < TTL);
            entries.member_bytes = entries.members.values().map(|(_, p)| p.size).sum();
            if entries.member_bytes + size > MAX_MEMBER_BYTES {
                return;
            }
        }
        entries.member_bytes += size;
        if let Some((_, old)) = entries
            .members
            .insert(key, (Instant::now(), Arc::new(page)))
        {
            entries.member_bytes -= old.size;
        }
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

/// Whether the request carries a session cookie as the session layer reads cookies
/// (tower-cookies: each header as UTF-8, split at `;`, names percent-decoded), or may: a header
/// that is not UTF-8, or that names the cookie anywhere, counts too. Reading less than the
/// session layer did let a member's page through as a visitor's (an outside test: another
/// cookie with a non-ASCII value beside the session, or `backyard%5Fsession`). `mark_sessions`
/// is the backstop.
fn has_session_cookie(req: &Request) -> bool {
    let headers = req.headers();
    headers.get_all(header::COOKIE).iter().any(|value| {
        std::str::from_utf8(value.as_bytes())
            .map_or(true, |text| text.contains(crate::SESSION_COOKIE))
    }) || crate::security::cookies(headers)
        .any(|cookie| cookie.name().contains(crate::SESSION_COOKIE))
}

/// Marks the answer to a request that came with a session (as the session layer, just outside,
/// read it) or left with one, so that neither cache keeps it for visitors, whatever
/// `has_session_cookie` thought: a page or file for one member is never anyone else's. Nor does
/// the browser's cache or a proxy keep it (`no-store`, unless the answer says how it may be
/// kept, as files and the bundle do): a member's account page or an admin's mail page stayed
/// readable from the cache, with the Back button, after logging out on a shared computer.
pub async fn mark_sessions(req: Request, next: Next) -> Response {
    let session = req.extensions().get::<tower_sessions::Session>().cloned();
    let came_with_one = session.as_ref().is_some_and(|s| s.id().is_some());
    let mut res = next.run(req).await;
    if came_with_one || session.is_some_and(|s| s.id().is_some()) {
        res.extensions_mut().insert(ForOneSession);
        if !res.headers().contains_key(header::CACHE_CONTROL) {
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
        }
    }
    res
}

/// See `mark_sessions`.
#[derive(Clone, Copy)]
struct ForOneSession;

pub async fn layer(State(cache): State<Arc<PageCache>>, req: Request, next: Next) -> Response {
    let uri = req.uri();
    if req.method() == Method::GET
        && uri.query().is_none()
        && is_file(uri.path())
        && !has_session_cookie(&req)
    {
        return file(&cache, req, next).await;
    }
    let eligible = req.method() == Method::GET
        && cacheable(uri.path(), uri.query())
        && !has_session_cookie(&req);
    if !eligible {
        return next.run(req).await;
    }
    let key = uri.to_string();
    let gzip_ok = crate::compress::browser_takes_gzip(req.headers());
    let hit = cache.fresh(|c| c.get(&key)).await;
    crate::metrics::page_cache_lookup(crate::metrics::Cached::Page, hit.is_some());
    if let Some(hit) = hit {
        return hit.into_response(gzip_ok);
    }
    let generation = cache.generation.load(Ordering::SeqCst);
    let res = next.run(req).await;
    if res.extensions().get::<ForOneSession>().is_some() {
        return res;
    }
    let (parts, bytes) = match keepable(res).await {
        Ok(page) => page,
        Err(res) => return res,
    };
    match shareable(&parts.headers, &bytes) {
        // The visitor who caused the render gets the shared form too: one page, one policy.
        Some(page) => {
            cache.put(key, generation, page.clone());
            page.into_response(gzip_ok)
        }
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}

/// A rendered page read whole, if it may be kept: a 200 HTML answer that sets no cookie and
/// is at most `MAX_PAGE_BYTES`. Anything else is given back to be sent as it is, to this
/// reader alone.
async fn keepable(res: Response) -> Result<(axum::http::response::Parts, Bytes), Response> {
    let storable = res.status() == StatusCode::OK
        && !res.headers().contains_key(header::SET_COOKIE)
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !storable {
        return Err(res);
    }
    let (parts, body) = res.into_parts();
    match crate::bodies::up_to(body, MAX_PAGE_BYTES).await {
        Ok(bytes) => Ok((parts, bytes)),
        Err(body) => Err(Response::from_parts(parts, body)),
    }
}

/// Stored files, for visitors: an upload's copies and proxied images.
fn is_file(path: &str) -> bool {
    path.starts_with("/uploads/") || path.starts_with("/images/proxy/")
}

/// A file for a visitor: from the cache, else served and kept when it is a 200 small enough.
/// Keyed by whether the browser takes WebP, the one thing the answer varies by.
async fn file(cache: &PageCache, req: Request, next: Next) -> Response {
    let webp = req
        .headers()
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("image/webp"));
    let key = format!(
        "{}{}",
        if webp { "webp:" } else { "file:" },
        req.uri().path()
    );
    let etag = req.headers().get(header::IF_NONE_MATCH).cloned();
    let hit = cache.fresh(|c| c.get_file(&key)).await;
    crate::metrics::page_cache_lookup(crate::metrics::Cached::File, hit.is_some());
    if let Some(hit) = hit {
        if etag.is_some() && hit.headers.get(header::ETAG) == etag.as_ref() {
            let mut res = StatusCode::NOT_MODIFIED.into_response();
            *res.headers_mut() = hit.headers;
            res.headers_mut().remove(header::CONTENT_LENGTH);
            return res;
        }
        let mut res = hit.body.into_response();
        *res.headers_mut() = hit.headers;
        return res;
    }
    let generation = cache.generation.load(Ordering::SeqCst);
    let res = next.run(req).await;
    if res.status() != StatusCode::OK
        || res.headers().contains_key(header::SET_COOKIE)
        || res.extensions().get::<ForOneSession>().is_some()
    {
        return res;
    }
    let (parts, body) = res.into_parts();
    // Only what is known to be small is kept; anything else goes out as it is.
    use axum::body::HttpBody;
    if body
        .size_hint()
        .exact()
        .is_none_or(|n| n as usize > MAX_FILE_BYTES)
    {
        return Response::from_parts(parts, body);
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FILE_BYTES).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "file unreadable").into_response();
    };
    cache.put_file(
        key,
        generation,
        SharedFile {
            headers: parts.headers.clone(),
            body: bytes.clone(),
        },
    );
    Response::from_parts(parts, Body::from(bytes))
}

/// Members' topic pages kept at most: about 200 pages of 30 posts.
const MAX_MEMBER_BYTES: usize = 8 * 1024 * 1024;

/// A signed-in member's topic page as the next member with the same inputs gets it
/// (app::server::page_inputs): the page with holes for what is that reader's own, their name
/// in the header and their reply form's one-shot token. Its inline scripts are allowed by hash,
/// as on a visitor's page; the cross-site token goes in after it, as on every page (security.rs).
pub struct MemberPage {
    pieces: Vec<MemberPiece>,
    headers: HeaderMap,
    size: usize,
}

enum MemberPiece {
    Html(Bytes),
    Name,
    FormToken,
}

/// Where the header writes the member's name: the one place on a topic page it depends on who
/// reads (a post's author is the same for everyone, and keys nothing here).
const NAME_BEFORE: &str = "Signed in as <strong>";
const NAME_AFTER: &str = "</strong>";

impl MemberPage {
    /// The page with `name`'s and `form_token`'s places made holes, if it has exactly one
    /// place for the name and the token shows only as itself.
    fn from_render(
        headers: &HeaderMap,
        body: &Bytes,
        name: &str,
        form_token: &str,
    ) -> Option<Self> {
        let (shared, policy) = with_script_hashes(headers, body)?;
        let written_name = format!(
            "{NAME_BEFORE}{}{NAME_AFTER}",
            html_escape::encode_text(name)
        );
        let name_at = shared.find(&written_name)?;
        if shared[name_at + 1..].contains(&written_name) || form_token.len() < 32 {
            return None;
        }
        let name_start = name_at + NAME_BEFORE.len();
        let name_end = name_at + written_name.len() - NAME_AFTER.len();
        let mut pieces = with_token_holes(&shared[..name_start], form_token);
        pieces.push(MemberPiece::Name);
        pieces.extend(with_token_holes(&shared[name_end..], form_token));
        let mut headers = headers.clone();
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        headers.remove(header::CONTENT_LENGTH);
        Some(MemberPage {
            size: shared.len(),
            pieces,
            headers,
        })
    }

    fn response(&self, name: &str, form_token: &str) -> Response {
        let name = html_escape::encode_text(name);
        let mut body = Vec::with_capacity(self.size + name.len());
        for piece in &self.pieces {
            body.extend_from_slice(match piece {
                MemberPiece::Html(bytes) => bytes,
                MemberPiece::Name => name.as_bytes(),
                MemberPiece::FormToken => form_token.as_bytes(),
            });
        }
        let mut res = Body::from(body).into_response();
        *res.headers_mut() = self.headers.clone();
        res
    }
}

fn with_token_holes(html: &str, form_token: &str) -> Vec<MemberPiece> {
    let mut pieces = Vec::new();
    for (i, part) in html.split(form_token).enumerate() {
        if i > 0 {
            pieces.push(MemberPiece::FormToken);
        }
        pieces.push(MemberPiece::Html(Bytes::copy_from_slice(part.as_bytes())));
    }
    pieces
}

/// A signed-in member's topic page (`/t/{id}/{slug}`, with nothing or `?page=N` after it):
/// its inputs loaded first (app::api::page_inputs), then the page kept for
/// those inputs if there is one, else rendered from them and kept. Inside the session layer,
/// which the loading needs. Anything else, a visitor included, goes on to the routes.
pub async fn member_layer(
    State((cache, state)): State<(Arc<PageCache>, app::server::state::AppState)>,
    req: Request,
    next: Next,
) -> Response {
    let uri = req.uri();
    let address = (req.method() == Method::GET && has_session_cookie(&req))
        .then(|| topic_address(uri.path(), uri.query()))
        .flatten();
    let Some((id, page)) = address else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    let Some(version) = cache.fresh_version().await else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    cache.settle(version);
    let inputs = match load_inputs(&state, &parts, id, page).await {
        Ok(Some(inputs)) => Arc::new(inputs),
        // A visitor, or an error the render will show as it does.
        _ => return next.run(Request::from_parts(parts, body)).await,
    };
    let key = inputs.key(
        version,
        parts.uri.path_and_query().map_or("", |p| p.as_str()),
    );
    let hit = cache.get_member_page(&key);
    crate::metrics::page_cache_lookup(crate::metrics::Cached::MemberPage, hit.is_some());
    if let Some(hit) = hit {
        return hit.response(&inputs.user.username, &inputs.composer.form_token);
    }
    let generation = cache.generation.load(Ordering::SeqCst);
    parts.extensions.insert(inputs.clone());
    let res = next.run(Request::from_parts(parts, body)).await;
    let (parts, bytes) = match keepable(res).await {
        Ok(page) => page,
        Err(res) => return res,
    };
    let kept = MemberPage::from_render(
        &parts.headers,
        &bytes,
        &inputs.user.username,
        &inputs.composer.form_token,
    );
    if let Some(page) = kept {
        cache.put_member_page(key, generation, page);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The topic and page number of a topic page's address, when it is one a member's page may be
/// kept for: `/t/{id}/{slug}` with no query or `?page=N`.
fn topic_address(path: &str, query: Option<&str>) -> Option<(i64, u64)> {
    let mut segments = path.strip_prefix("/t/")?.split('/');
    let (id, _slug) = (canonical(segments.next()?)?, segments.next()?);
    if segments.next().is_some() || !cacheable(path, query) {
        return None;
    }
    let page = match query {
        Some(q) => canonical(q.strip_prefix("page=")?)?,
        None => 1,
    };
    Some((id, page as u64))
}

/// A positive number as the site writes it: no sign, no leading zeros. `/t/01/…` or
/// `?page=02` would otherwise keep a copy of the same page per spelling.
fn canonical(digits: &str) -> Option<i64> {
    let n: i64 = digits.parse().ok()?;
    (n > 0 && n.to_string() == digits).then_some(n)
}

/// Runs the page's own loads in a Leptos context like the render's (the request's parts, the
/// app state, the request's member), so they read and mark exactly what the render would.
async fn load_inputs(
    state: &app::server::state::AppState,
    parts: &axum::http::request::Parts,
    id: i64,
    page: u64,
) -> Result<Option<app::server::page_inputs::TopicPageInputs>, app::error::AppError> {
    use leptos::prelude::{Owner, provide_context};
    // A root of its own. `Owner::new` would make it a child of the owner this thread set last,
    // and a render paused at an await leaves its root set: the loads then found that render's
    // contexts, another member's page and account among them (an outside test's finding).
    let owner = Owner::new_root(None);
    let load = owner.with(|| {
        provide_context(parts.clone());
        provide_context(state.clone());
        app::server::state::provide_request_context();
        leptos::reactive::computed::ScopedFuture::new_untracked(app::api::page_inputs::topic_page(
            id, page,
        ))
    });
    // `new_root` made it this thread's owner; the future sets it only while it runs.
    owner.clone().unset();
    let inputs = load.await?;
    // And whatever happened above, the page is only ever this session's member's.
    let session_member = match parts.extensions.get::<tower_sessions::Session>() {
        Some(session) => session
            .get::<i64>(app::server::state::USER_ID_KEY)
            .await
            .ok()
            .flatten(),
        None => None,
    };
    Ok(inputs.filter(|i| Some(i.user.id) == session_member))
}

/// The rendered page in the form every visitor can be sent, if it has one: its nonce swapped
/// for script hashes. Pages without a nonce policy, or whose nonce shows up outside the script
/// tags, are not shared.
fn shareable(headers: &HeaderMap, body: &Bytes) -> Option<Shared> {
    let content_type = headers.get(header::CONTENT_TYPE)?.clone();
    let (html, policy) = with_script_hashes(headers, body)?;
    Some(Shared {
        content_type,
        policy,
        robots: headers.get(X_ROBOTS_TAG).cloned(),
        gzip: crate::compress::gzip(html.as_bytes(), flate2::Compression::default())?,
        body: Bytes::from(html),
    })
}

/// A rendered HTML page's text with its nonce swapped for script hashes, and the policy that
/// allows them (app::server::csp::with_script_hashes).
fn with_script_hashes(headers: &HeaderMap, body: &Bytes) -> Option<(String, HeaderValue)> {
    if !headers
        .get(header::CONTENT_TYPE)?
        .as_bytes()
        .starts_with(b"text/html")
    {
        return None;
    }
    let policy = headers
        .get(header::CONTENT_SECURITY_POLICY)?
        .to_str()
        .ok()?;
    let nonce = app::server::csp::nonce_of(policy)?;
    let html = std::str::from_utf8(body).ok()?;
    let (html, policy) = app::server::csp::with_script_hashes(html, nonce)?;
    Some((html, HeaderValue::from_str(&policy).ok()?))
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
