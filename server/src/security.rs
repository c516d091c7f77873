//! The router's outer defences, in the order a request meets them: the client's address, per-
//! address limits, the body size limit, the cross-site check, and the security headers on the
//! way out. The threat model and what each covers: docs/SECURITY.md.
use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use app::server::{auth::random_token, config::Config, state::ClientIp};
use axum::{
    body::{Body, Bytes},
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The largest request body anything accepts. The longest legitimate body is an article
/// (100,000 characters, up to 400 KB of UTF-8, urlencoded up to 3 times that).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// A plain-text refusal: the status and one sentence saying what to do.
pub fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_string(),
    )
        .into_response()
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

// ---------------------------------------------------------------------------------------------
// The client's address

/// Finds who is asking: the TCP peer, or, behind a reverse proxy that the operator named in
/// BACKYARD_CLIENT_IP_HEADER, the last address that proxy appended (earlier ones are whatever
/// the client claimed). Stored as a request extension for the limits and the login throttle.
pub async fn client_ip(
    State(config): State<Arc<Config>>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let from_proxy = config.client_ip_header.as_deref().and_then(|name| {
        let value = req.headers().get(name)?.to_str().ok()?;
        value.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
    });
    if let Some(ip) = from_proxy.or(peer) {
        req.extensions_mut().insert(ClientIp(ip));
    }
    next.run(req).await
}

// ---------------------------------------------------------------------------------------------
// Per-address limits

/// Per-address fairness: at most `concurrency` requests in progress from one address, and
/// writes at `writes_per_minute` (a bucket that holds one minute's worth). One client flooding
/// the site is then answered 429 at once and everyone else is served. Requests with no known
/// address (in-process tests) are not limited here.
///
/// On PostgreSQL, where several servers may share the site, the write buckets are rows
/// (app::server::rate_buckets), so a client gets one budget whichever server it reaches. The
/// slots for requests in progress stay per server: they protect that server's CPU and
/// connections, and a client spread over two servers holds two servers' worth of them.
pub struct IpLimits {
    concurrency: u32,
    writes_per_minute: u32,
    clients: Mutex<HashMap<IpAddr, Client>>,
    /// Set on PostgreSQL: where the write buckets are kept.
    shared_buckets: Option<sea_orm::DatabaseConnection>,
    /// When idle buckets were last forgotten from the database.
    buckets_swept: Mutex<Instant>,
}

struct Client {
    in_flight: u32,
    write_tokens: f64,
    refilled: Instant,
}

impl IpLimits {
    pub fn new(concurrency: u32, writes_per_minute: u32) -> Self {
        IpLimits {
            concurrency,
            writes_per_minute,
            clients: Mutex::new(HashMap::new()),
            shared_buckets: None,
            buckets_swept: Mutex::new(Instant::now()),
        }
    }

    /// Keeps the write buckets in `db` when it is PostgreSQL (see the type's comment).
    pub fn sharing_buckets_in(mut self, db: &sea_orm::DatabaseConnection) -> Self {
        if db.get_database_backend() == sea_orm::DbBackend::Postgres {
            self.shared_buckets = Some(db.clone());
        }
        self
    }

    /// Takes a write token from the database's bucket for `ip`: Err when it is empty. A database
    /// that cannot be asked lets the write through: it will meet the same database and fail
    /// there with the usual message, and a limit must not turn an outage into refusals.
    async fn admit_shared_write(
        &self,
        db: &sea_orm::DatabaseConnection,
        ip: IpAddr,
    ) -> Result<(), &'static str> {
        use app::server::rate_buckets;
        let due = {
            let mut swept = self.buckets_swept.lock().unwrap();
            let due = swept.elapsed() >= Duration::from_secs(60);
            if due {
                *swept = Instant::now();
            }
            due
        };
        if due {
            let db = db.clone();
            tokio::spawn(async move {
                if let Err(e) = rate_buckets::forget_idle(&db).await {
                    tracing::warn!(error = %e, "forgetting idle write budgets");
                }
            });
        }
        match rate_buckets::take(db, &format!("writes:{ip}"), self.writes_per_minute).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(TOO_MANY_WRITES),
            Err(e) => {
                tracing::warn!(error = %e, "reading a write budget: letting the write through");
                Ok(())
            }
        }
    }

    /// Takes a slot (and a write token for a write), or says why not.
    fn admit(&self, ip: IpAddr, write: bool) -> Result<(), &'static str> {
        let mut clients = self.clients.lock().unwrap();
        // Forget idle clients now and then so the map stays bounded by who is active.
        if clients.len() > 10_000 {
            clients.retain(|_, c| c.in_flight > 0 || c.refilled.elapsed().as_secs() < 60);
        }
        let per_minute = f64::from(self.writes_per_minute);
        let client = clients.entry(ip).or_insert_with(|| Client {
            in_flight: 0,
            write_tokens: per_minute,
            refilled: Instant::now(),
        });
        if self.concurrency > 0 && client.in_flight >= self.concurrency {
            return Err(
                "Too many requests at once from your address. Wait a moment and try again.",
            );
        }
        if write && self.writes_per_minute > 0 {
            let now = Instant::now();
            let earned = now.duration_since(client.refilled).as_secs_f64() * per_minute / 60.0;
            client.write_tokens = (client.write_tokens + earned).min(per_minute);
            client.refilled = now;
            if client.write_tokens < 1.0 {
                return Err(TOO_MANY_WRITES);
            }
            client.write_tokens -= 1.0;
        }
        client.in_flight += 1;
        Ok(())
    }

    fn release(&self, ip: IpAddr) {
        if let Some(c) = self.clients.lock().unwrap().get_mut(&ip) {
            c.in_flight = c.in_flight.saturating_sub(1);
        }
    }
}

/// Gives the slot back however the request ends (including a client hanging up mid-request,
/// which drops the future).
struct Slot<'a>(&'a IpLimits, IpAddr);
impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.release(self.1);
    }
}

pub async fn per_ip_limits(
    State(limits): State<Arc<IpLimits>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(ClientIp(ip)) = req.extensions().get::<ClientIp>().copied() else {
        return next.run(req).await;
    };
    let too_many = |message| {
        let mut res = refuse(StatusCode::TOO_MANY_REQUESTS, message);
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
        res
    };
    let write = is_write(req.method());
    let shared_write = write && limits.writes_per_minute > 0 && limits.shared_buckets.is_some();
    if let Err(message) = limits.admit(ip, write && !shared_write) {
        return too_many(message);
    }
    let _slot = Slot(&limits, ip);
    if let Some(db) = limits.shared_buckets.as_ref().filter(|_| shared_write)
        && let Err(message) = limits.admit_shared_write(db, ip).await
    {
        return too_many(message);
    }
    next.run(req).await
}

const TOO_MANY_WRITES: &str =
    "Too many changes sent from your address in the last minute. Wait a minute and try again.";

// ---------------------------------------------------------------------------------------------
// The shape of a request

pub const TOO_LARGE: &str = "This request is too large: the limit is 2 MB.";
pub const URL_TOO_LONG: &str = "This address is too long: the limit is 8,000 characters.";
pub const HEADERS_TOO_LARGE: &str = "This request's headers are too large: the limit is 32 KB.";
pub const BAD_PAGE: &str = "Page numbers are whole numbers from 1 to 100,000.";
pub const NOT_UTF8: &str =
    "This form sent text that isn't valid UTF-8. Check the text and send it again.";
pub const NUL_IN_TEXT: &str =
    "Text can't contain NUL (zero) characters. Remove them and send it again.";
/// Longer than any address the site makes (a search with a long query is well under).
pub const MAX_URL_BYTES: usize = 8000;
/// Room for every cookie a browser would send here, many times over.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
pub const MAX_PAGE: u64 = 100_000;

/// Refuses malformed requests before anything reads them, each with its status and a sentence:
/// over-long addresses (414) and headers (431); bodies over MAX_BODY_BYTES (413), whether they
/// announce their length or not (undeclared ones are read up to the limit and no further); a
/// `page` that is not 1..=100,000 (400); form text that is not UTF-8 or holds NUL (400), which
/// no field of the site accepts, so the rules never see it. Cookies whose names are
/// percent-encoded are dropped (`literal_cookie_names`).
pub async fn request_shape(req: Request, next: Next) -> Response {
    // Measured without formatting the URI: servers receive path and query (origin form).
    let url_bytes = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len())
        + req.uri().authority().map_or(0, |a| a.as_str().len());
    if url_bytes > MAX_URL_BYTES {
        return refuse(StatusCode::URI_TOO_LONG, URL_TOO_LONG);
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return refuse(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            HEADERS_TOO_LARGE,
        );
    }
    let req = literal_cookie_names(req);
    // Every `page`, not the first: pages read the last one.
    if let Some(query) = req.uri().query()
        && !page_is_valid(query)
    {
        return refuse(StatusCode::BAD_REQUEST, BAD_PAGE);
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Files arrive as multipart posts to the upload endpoint and the composers' no-JavaScript
    // forms: those stream to their handler, which holds each file to the site's file limit.
    if crate::files::takes_files(&req) {
        if declared.is_some_and(|n| n > crate::files::MAX_REQUEST_BYTES as u64) {
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE);
        }
        return next.run(req).await;
    }
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE);
    }
    if !is_write(req.method()) {
        return next.run(req).await;
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE);
    };
    if is_form {
        for (key, value) in form_pairs(&bytes) {
            for text in [key, value] {
                if std::str::from_utf8(&text).is_err() {
                    return refuse(StatusCode::BAD_REQUEST, NOT_UTF8);
                }
                if text.contains(&0) {
                    return refuse(StatusCode::BAD_REQUEST, NUL_IN_TEXT);
                }
            }
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// False when a query string has a `page` that is not a whole number from 1 to MAX_PAGE.
pub fn page_is_valid(query: &str) -> bool {
    form_pairs(query.as_bytes())
        .filter(|(k, _)| k.as_slice() == b"page")
        .all(|(_, value)| {
            std::str::from_utf8(&value)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|n| (1..=MAX_PAGE).contains(&n))
        })
}

/// The decoded key/value pairs of a urlencoded string (`+` is a space, `%XX` a byte).
pub fn form_pairs(raw: &[u8]) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> + '_ {
    raw.split(|&b| b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let mut halves = pair.splitn(2, |&b| b == b'=');
            let key = percent_decode(halves.next().unwrap_or_default());
            let value = percent_decode(halves.next().unwrap_or_default());
            (key, value)
        })
}

pub fn percent_decode(raw: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                match (
                    raw.get(i + 1).and_then(|&b| hex(b)),
                    raw.get(i + 2).and_then(|&b| hex(b)),
                ) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Cross-site request forgery

pub const CROSS_SITE: &str = "Cross-site requests are not allowed.";
pub const NO_TOKEN: &str =
    "This form could not be verified as sent from this site. Reload the page and send it again.";
/// The form field and header that carry the synchronizer token.
pub const CSRF_FIELD: &str = "_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The cookie holding this browser's token. `__Host-` over https: such a cookie can only be
/// set by this host, over https, for the whole site, so a sibling subdomain cannot plant one.
pub fn csrf_cookie_name(config: &Config) -> &'static str {
    if config.secure_cookies() {
        "__Host-backyard_csrf"
    } else {
        "backyard_csrf"
    }
}

/// The Set-Cookie value that gives a browser the token cookie `value` (a fresh random token).
pub(crate) fn csrf_cookie(config: &Config, value: &str) -> HeaderValue {
    let secure = if config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict{secure}",
        csrf_cookie_name(config)
    );
    HeaderValue::from_str(&cookie).expect("a hex token makes a valid header")
}

/// What the cross-site check needs: the configured origin, and the key that signs tokens
/// (the database's `csrf` server secret, read on first use).
pub struct CsrfGuard {
    config: Arc<Config>,
    db: sea_orm::DatabaseConnection,
    key: tokio::sync::OnceCell<[u8; 32]>,
}

impl CsrfGuard {
    pub fn new(config: Arc<Config>, db: sea_orm::DatabaseConnection) -> Self {
        CsrfGuard {
            config,
            db,
            key: tokio::sync::OnceCell::new(),
        }
    }

    async fn key(&self) -> Option<&[u8; 32]> {
        self.key
            .get_or_try_init(|| app::server::auth::server_secret(&self.db, "csrf"))
            .await
            .ok()
    }

    /// The token for a browser: its token cookie's random value and its session cookie (none
    /// before it has a session), signed with the server's key. A client cannot make one for a
    /// cookie it chose, and one browser's token does not work with another's session.
    fn token(key: &[u8; 32], nonce: &str, session: Option<&str>) -> String {
        let message = format!("{nonce}|{}", session.unwrap_or(""));
        app::server::auth::to_hex(&app::server::auth::hmac_sha256(key, message.as_bytes()))
    }
}

/// A write must come from this site, which is the configured public origin
/// (BACKYARD_PUBLIC_URL) and nothing else: a browser that sends Origin must send that one
/// (whatever Host says: under DNS rebinding an attacker's name reaches this server, and the
/// browser calls that same-origin), and one that sends Sec-Fetch-Site must say same-origin or
/// none. A client that sends neither must echo the token this site gave it: the `_csrf` field
/// that every post form carries, or the X-CSRF-Token header, signed for its token cookie and
/// its session (see `CsrfGuard::token`). Reads pass, and also get the token: see
/// `with_csrf_token`.
pub async fn csrf(State(guard): State<Arc<CsrfGuard>>, req: Request, next: Next) -> Response {
    let config = &guard.config;
    let cookie_name = csrf_cookie_name(config);
    let nonce = cookie_value(req.headers(), cookie_name).filter(|t| is_token(t));
    let session = cookie_value(req.headers(), crate::session_cookie_name(config));
    if !is_write(req.method()) {
        // A browser that sends Sec-Fetch-Site (every current one) sends it with its writes too,
        // and those are judged by it: only clients without it need the token in their forms.
        if req.headers().contains_key("sec-fetch-site") {
            return next.run(req).await;
        }
        let res = next.run(req).await;
        return with_csrf_token(res, &guard, nonce.as_deref(), session.as_deref()).await;
    }
    if is_one_click_unsubscribe(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let header_str = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let site_ok = header_str("sec-fetch-site").map(|site| site == "same-origin" || site == "none");
    let origin_ok = header_str(header::ORIGIN.as_str()).map(|o| o == config.public_origin());
    let verdict = match (site_ok, origin_ok) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), _) | (None, Some(true)) => Some(true),
        (None, None) => None,
    };
    match verdict {
        Some(true) => next.run(req).await,
        Some(false) => {
            tracing::warn!(path = %req.uri().path(), "refused a cross-site write");
            refuse(StatusCode::FORBIDDEN, CROSS_SITE)
        }
        None => {
            let Some(nonce) = nonce else {
                return refuse(StatusCode::FORBIDDEN, NO_TOKEN);
            };
            let Some(key) = guard.key().await else {
                return refuse(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE);
            };
            let expected = CsrfGuard::token(key, &nonce, session.as_deref());
            let (req, sent) = sent_token(req).await;
            match sent {
                Some(sent) if constant_time_eq(sent.as_bytes(), expected.as_bytes()) => {
                    next.run(req).await
                }
                _ => refuse(StatusCode::FORBIDDEN, NO_TOKEN),
            }
        }
    }
}

/// The one write that comes from elsewhere by design: a mail client's one-click unsubscribe
/// (RFC 8058) posts from its own server, with no cookie, Origin or token. The signed token in
/// its path is its whole authority, and it borrows nothing from the browser (it reads no
/// session), so a forged request gains nothing a link's holder lacks. Exactly
/// `POST /unsubscribe/<one segment>`: nothing under or beside it.
pub fn is_one_click_unsubscribe(method: &Method, path: &str) -> bool {
    method == Method::POST
        && path
            .strip_prefix("/unsubscribe/")
            .is_some_and(|token| !token.is_empty() && !token.contains('/'))
}

const UNAVAILABLE: &str = "The site can't take changes right now. Try again in a moment.";

/// The token the request carries: the header, or the `_csrf` field of a urlencoded body (the
/// body is read, within the size limit already applied, and put back).
async fn sent_token(req: Request) -> (Request, Option<String>) {
    if let Some(v) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        let v = v.to_string();
        return (req, Some(v));
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return (req, None);
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .unwrap_or_default();
    let token = form_field(&bytes, CSRF_FIELD);
    (Request::from_parts(parts, Body::from(bytes)), token)
}

/// One field of a urlencoded body. Tokens are hex, so no percent-decoding is needed; a value
/// that is not plain hex is no token.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    body.split(|&b| b == b'&').find_map(|pair| {
        let rest = pair.strip_prefix(name.as_bytes())?.strip_prefix(b"=")?;
        let value = std::str::from_utf8(rest).ok()?;
        is_token(value).then(|| value.to_string())
    })
}

pub(crate) fn is_token(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name` exactly as the session layer reads cookies (tower-cookies): each
/// Cookie header as UTF-8, split at `;`, each pair parsed with its value percent-decoded, and
/// the last of a name winning. Read any other way (the first, say), a request carrying two
/// session cookies had its cross-site token checked against one session and was served as the
/// other (an outside test).
pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    cookies(headers)
        .filter(|cookie| cookie.name() == name)
        .last()
        .map(|cookie| cookie.value().to_string())
}

/// A request's cookies as the session layer reads them (tower-cookies): each Cookie header
/// that is UTF-8, split at `;`, each pair parsed with its name and value percent-decoded.
pub(crate) fn cookies(
    headers: &HeaderMap,
) -> impl Iterator<Item = tower_sessions::cookie::Cookie<'_>> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| tower_sessions::cookie::Cookie::parse_encoded(pair).ok())
}

/// The request without the cookies whose names are percent-encoded, which this site never
/// sets. The session layer decodes names, so `%5F%5FHost-backyard_session` would be read as
/// `__Host-backyard_session`, the name a browser lets only this very host set, over https: by
/// its encoded name, a sibling subdomain or a plain-http answer could plant a session (an
/// outside test). Done before anything reads a cookie.
fn literal_cookie_names(mut req: Request) -> Request {
    let cookies = req.headers().get_all(header::COOKIE);
    if !cookies.iter().any(|v| v.as_bytes().contains(&b'%')) {
        return req;
    }
    let kept: Vec<HeaderValue> = cookies
        .iter()
        .filter_map(|value| {
            let Ok(text) = std::str::from_utf8(value.as_bytes()) else {
                return Some(value.clone()); // read by no one: tower-cookies skips it
            };
            let pairs: Vec<&str> = text
                .split(';')
                .filter(|pair| !pair.split('=').next().unwrap_or("").contains('%'))
                .collect();
            HeaderValue::from_bytes(pairs.join(";").as_bytes()).ok()
        })
        .collect();
    let headers = req.headers_mut();
    headers.remove(header::COOKIE);
    for value in kept {
        headers.append(header::COOKIE, value);
    }
    req
}

/// Puts the browser's token into every post form of an HTML page, as the `_csrf` field, and
/// gives a browser without a token cookie a new one. Done here, after the page cache, so
/// cached pages (shared by every visitor) never hold anyone's token, and no form can be
/// written without it. The token is signed for the session the page leaves the browser with:
/// the one this response starts (or ends), else the one the request came with.
async fn with_csrf_token(
    res: Response,
    guard: &CsrfGuard,
    nonce: Option<&str>,
    session: Option<&str>,
) -> Response {
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !is_html {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        return refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The page could not be sent.",
        );
    };
    let Ok(html) = std::str::from_utf8(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    // Only post forms carry a token: a page whose only form is a GET one (the header's search
    // box is on every page) is sent as it is, with no token cookie.
    if !has_post_form(html) {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let Some(key) = guard.key().await else {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE);
    };
    let session_name = crate::session_cookie_name(&guard.config);
    let set_session = parts
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            let value = c.strip_prefix(session_name)?.strip_prefix('=')?;
            Some(value.split(';').next().unwrap_or("").to_string())
        });
    let session = match &set_session {
        Some(value) if value.is_empty() => None,
        Some(value) => Some(value.as_str()),
        None => session,
    };
    let nonce = match nonce {
        Some(n) => n.to_string(),
        None => {
            let fresh = random_token();
            parts
                .headers
                .append(header::SET_COOKIE, csrf_cookie(&guard.config, &fresh));
            fresh
        }
    };
    let html = insert_token_fields(html, &CsrfGuard::token(key, &nonce, session));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(Bytes::from(html)))
}

/// Whether the page has a form whose method is post (the forms `insert_token_fields` changes).
fn has_post_form(html: &str) -> bool {
    let mut rest = html;
    while let Some(start) = rest.find("<form") {
        let from_tag = &rest[start..];
        let Some(end) = start_tag_end(from_tag) else {
            return false;
        };
        if is_post_form(&from_tag[..end]) {
            return true;
        }
        rest = &from_tag[end..];
    }
    false
}

fn is_post_form(start_tag: &str) -> bool {
    start_tag.to_ascii_lowercase().contains(r#"method="post""#)
}

/// Adds `<input type="hidden" name="_csrf" value=TOKEN>` as the last child of every form whose
/// method is post. Last, not first: an island hydrating its form walks the children it rendered
/// in order and never reaches one after them. Attribute values are quoted by the renderer, so
/// the start tag ends at the first `>` outside quotes; forms do not nest.
pub fn insert_token_fields(html: &str, token: &str) -> String {
    let field = format!(r#"<input type="hidden" name="{CSRF_FIELD}" value="{token}">"#);
    let mut out = String::with_capacity(html.len() + 256);
    let mut rest = html;
    while let Some(start) = rest.find("<form") {
        let (before, from_tag) = rest.split_at(start);
        out.push_str(before);
        let Some(end) = start_tag_end(from_tag) else {
            break;
        };
        let is_post = is_post_form(&from_tag[..end]);
        let close = from_tag[end..].find("</form>").map(|i| end + i);
        match close {
            Some(close) if is_post => {
                out.push_str(&from_tag[..close]);
                out.push_str(&field);
                rest = &from_tag[close..];
            }
            _ => {
                out.push_str(&from_tag[..end]);
                rest = &from_tag[end..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The index just past the `>` that ends the start tag at the beginning of `tag`.
fn start_tag_end(tag: &str) -> Option<usize> {
    let mut quote = None;
    tag.char_indices().find_map(|(i, c)| match (quote, c) {
        (None, '"' | '\'') => {
            quote = Some(c);
            None
        }
        (Some(q), c) if c == q => {
            quote = None;
            None
        }
        (None, '>') => Some(i + 1),
        _ => None,
    })
}

// ---------------------------------------------------------------------------------------------
// Headers

/// The policy for anything that is not a rendered page (feeds, errors, server functions):
/// nothing may run or be framed. Pages get their own policy with the render's nonce.
const STRICT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// nosniff, Referrer-Policy, framing refused, HSTS over https, and a CSP on every response
/// that has none of its own.
pub async fn security_headers(
    State(config): State<Arc<Config>>,
    req: Request,
    next: Next,
) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(STRICT_CSP),
        );
    }
    if config.secure_cookies() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_fields_go_into_post_forms_only() {
        let html = r#"<p>x</p><form method="post" action="/api/a" data-x="a>b"><input name=q></form><form method="get" action="/search"></form><form class="y" method="POST">"#;
        assert!(has_post_form(html));
        assert!(!has_post_form(
            r#"<form method="get" action="/search"><input name=q></form>"#
        ));
        let out = insert_token_fields(html, &"a".repeat(64));
        let field = format!(
            r#"<input type="hidden" name="_csrf" value="{}">"#,
            "a".repeat(64)
        );
        assert_eq!(
            out.matches(&field).count(),
            1,
            "an unclosed form gets none: {out}"
        );
        assert!(out.contains(&format!(r#"data-x="a>b"><input name=q>{field}</form>"#)));
        assert!(out.contains(r#"<form method="get" action="/search"></form>"#));
        let two = insert_token_fields(
            r#"<form method="post"><b>x</b></form><form method="post"></form>"#,
            "t",
        );
        assert_eq!(two.matches(r#"value="t"></form>"#).count(), 2, "{two}");
    }

    #[test]
    fn form_fields_and_cookies_are_read_exactly() {
        let t = "b".repeat(64);
        assert_eq!(
            form_field(format!("x=1&_csrf={t}&y=2").as_bytes(), "_csrf"),
            Some(t.clone())
        );
        assert_eq!(form_field(b"x_csrf=1&_csrfx=2", "_csrf"), None);
        assert_eq!(form_field(b"_csrf=%3Cscript%3E", "_csrf"), None);
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=1; backyard_csrf={t}")).unwrap(),
        );
        assert_eq!(cookie_value(&h, "backyard_csrf"), Some(t.clone()));
        assert_eq!(cookie_value(&h, "backyard"), None);
        // As the session layer reads them: the last of a name, spaces around it trimmed.
        h.append(
            header::COOKIE,
            HeaderValue::from_static("backyard_csrf =second; x=1"),
        );
        assert_eq!(cookie_value(&h, "backyard_csrf").as_deref(), Some("second"));
    }

    #[test]
    fn urlencoded_text_is_decoded_byte_for_byte() {
        assert_eq!(percent_decode(b"a+b%20c%2"), b"a b c%2");
        assert_eq!(
            percent_decode(b"%FF%00%zz"),
            vec![0xFF, 0, b'%', b'z', b'z']
        );
        let pairs: Vec<_> = form_pairs(b"x=1&&page=%32").collect();
        assert_eq!(
            pairs,
            vec![
                (b"x".to_vec(), b"1".to_vec()),
                (b"page".to_vec(), b"2".to_vec())
            ]
        );
    }

    proptest::proptest! {
        /// Whatever a browser encodes decodes back to itself, and no body makes the parser
        /// panic or invent bytes.
        #[test]
        fn form_text_round_trips(text in ".{0,200}", junk in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let encoded = app::paths::encode_query_value(&text);
            proptest::prop_assert_eq!(percent_decode(encoded.as_bytes()), text.as_bytes());
            for (k, v) in form_pairs(&junk) {
                proptest::prop_assert!(k.len() + v.len() <= junk.len());
            }
        }

        #[test]
        fn page_numbers_are_one_to_the_limit(n in proptest::num::i64::ANY, extra in "[a-o=&]{0,10}") {
            let query = format!("{extra}&page={n}");
            proptest::prop_assert_eq!(page_is_valid(&query), (1..=MAX_PAGE as i64).contains(&n));
        }
    }

    #[test]
    fn one_address_is_limited_and_others_are_not() {
        let limits = IpLimits::new(2, 3);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        assert!(limits.admit(a, false).is_ok());
        assert!(limits.admit(a, false).is_ok());
        assert!(limits.admit(a, false).is_err(), "a third at once");
        assert!(limits.admit(b, false).is_ok(), "another address is served");
        limits.release(a);
        limits.release(a);
        for _ in 0..3 {
            assert!(limits.admit(a, true).is_ok());
            limits.release(a);
        }
        assert!(limits.admit(a, true).unwrap_err().contains("last minute"));
        assert!(limits.admit(a, false).is_ok(), "reads go on");
    }
}
