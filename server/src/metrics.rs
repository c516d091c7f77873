//! `/metrics` in Prometheus' text format, off unless BACKYARD_METRICS=on (config.rs says where
//! and for whom). What a request pays when it is on: one route lookup (the same matcher axum
//! routes with), two clock reads and three relaxed atomic additions into fixed arrays; no lock,
//! no allocation. Everything else (the database pool, the outbox, memory) is read when the
//! page is scraped.
//!
//! Requests are labelled by the route pattern they match (`/t/{id}/{slug}`), never the raw
//! path: a crawler asking for a million made-up addresses adds no series, since every path no
//! route matches shares the one label `unmatched`.
use std::{
    fmt::Write,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use app::server::config::MetricsSettings;
use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use sea_orm::DatabaseConnection;

pub const PATH: &str = "/metrics";
/// The label of every path no route pattern matches.
pub const UNMATCHED: &str = "unmatched";
/// Upper bounds of the latency buckets, in seconds: a page-cache hit takes well under a
/// millisecond, a rendered page a few, a request stuck behind the database seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
/// A scrape never waits longer than this for the database (a saturated pool would otherwise
/// hold it for the pool's 10 s); `backyard_database_up` then says 0.
const DATABASE_WAIT: Duration = Duration::from_secs(3);

/// The route patterns the router answers, gathered while it is built: `lib::router` passes
/// each path it gives axum through `add`.
#[derive(Default)]
pub struct Patterns(Vec<String>);

impl Patterns {
    pub fn add(&mut self, pattern: &'static str) -> &'static str {
        self.0.push(pattern.to_string());
        pattern
    }

    pub fn extend(&mut self, patterns: impl IntoIterator<Item = String>) {
        self.0.extend(patterns);
    }
}

/// One route's counts. The buckets are not cumulative (each request adds to one); the last
/// slot is above the highest bound. The page adds them up.
#[derive(Default)]
struct RouteStats {
    by_class: [AtomicU64; STATUS_CLASSES.len()],
    buckets: [AtomicU64; BUCKETS.len() + 1],
    nanos: AtomicU64,
}

/// Request counts per route pattern: fixed arrays made when the router is built.
pub struct Http {
    routes: matchit::Router<usize>,
    /// Pattern of each index of `stats`; the last is `UNMATCHED`.
    names: Vec<String>,
    stats: Box<[RouteStats]>,
}

impl Http {
    pub fn new(patterns: Patterns) -> Http {
        let mut routes = matchit::Router::new();
        let mut names = Vec::new();
        for pattern in patterns.0 {
            // A pattern given twice counts once; the matcher refuses a second spelling of one
            // already there (`{id}` and `{name}` in the same place), which then shares it.
            if routes.insert(pattern.clone(), names.len()).is_ok() {
                names.push(pattern);
            }
        }
        names.push(UNMATCHED.to_string());
        let stats = (0..names.len()).map(|_| RouteStats::default()).collect();
        Http {
            routes,
            names,
            stats,
        }
    }

    /// The index of the route `path` matches, or of `UNMATCHED`.
    fn route_of(&self, path: &str) -> usize {
        self.routes
            .at(path)
            .map_or(self.names.len() - 1, |found| *found.value)
    }

    fn record(&self, route: usize, status: StatusCode, took: Duration) {
        let stats = &self.stats[route];
        let class = (status.as_u16() / 100).clamp(1, 5) as usize - 1;
        stats.by_class[class].fetch_add(1, Relaxed);
        let seconds = took.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(BUCKETS.len());
        stats.buckets[bucket].fetch_add(1, Relaxed);
        stats
            .nanos
            .fetch_add(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }
}

/// The site's request counts and what a scrape needs to read the rest.
pub struct Metrics {
    http: Http,
    settings: MetricsSettings,
    db: DatabaseConnection,
}

impl Metrics {
    pub fn new(settings: MetricsSettings, db: DatabaseConnection, patterns: Patterns) -> Metrics {
        std::sync::LazyLock::force(&STARTED);
        Metrics {
            http: Http::new(patterns),
            settings,
            db,
        }
    }

    /// The answer to a scrape: the token checked, then the page.
    async fn answer(&self, req: Request) -> Response {
        if let Some(refusal) = self.refusal(&req) {
            return refusal;
        }
        drop(req);
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            self.render().await,
        )
            .into_response()
    }

    /// Why this request may not read the page, if it may not.
    fn refusal(&self, req: &Request) -> Option<Response> {
        if !matches!(*req.method(), Method::GET | Method::HEAD) {
            return Some(
                (
                    StatusCode::METHOD_NOT_ALLOWED,
                    [(header::ALLOW, "GET, HEAD")],
                    "The metrics are read with GET.",
                )
                    .into_response(),
            );
        }
        if let Some(token) = &self.settings.token
            && !bearer_matches(req, token)
        {
            return Some(
                (
                    StatusCode::UNAUTHORIZED,
                    [
                        (header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\""),
                        (header::CACHE_CONTROL, "no-store"),
                    ],
                    "The metrics need the bearer token set in BACKYARD_METRICS_TOKEN \
                     (Authorization: Bearer TOKEN).",
                )
                    .into_response(),
            );
        }
        None
    }

    /// The whole page, in the text exposition format.
    pub async fn render(&self) -> String {
        let mut page = Page::default();
        self.render_http(&mut page);
        render_page_cache(&mut page);
        self.render_database(&mut page).await;
        render_workers(&mut page);
        render_process(&mut page, self.db.get_database_backend());
        page.0
    }

    fn render_http(&self, page: &mut Page) {
        let http = &self.http;
        let used: Vec<(&str, &RouteStats)> = http
            .names
            .iter()
            .zip(http.stats.iter())
            .map(|(name, stats)| (name.as_str(), stats))
            .filter(|(_, stats)| stats.by_class.iter().any(|n| n.load(Relaxed) > 0))
            .collect();
        page.family(
            "backyard_http_requests_total",
            "counter",
            "HTTP requests answered, by route pattern and status class.",
        );
        for (route, stats) in &used {
            for (class, count) in STATUS_CLASSES.iter().zip(&stats.by_class) {
                let count = count.load(Relaxed);
                if count > 0 {
                    page.sample(
                        "backyard_http_requests_total",
                        &[("route", route), ("status", class)],
                        count,
                    );
                }
            }
        }
        let name = "backyard_http_request_duration_seconds";
        page.family(
            name,
            "histogram",
            "Time from a request's arrival to its response head, by route pattern.",
        );
        for (route, stats) in &used {
            let mut cumulative = 0;
            for (i, slot) in stats.buckets.iter().enumerate() {
                cumulative += slot.load(Relaxed);
                let le = BUCKETS.get(i).map_or("+Inf".to_string(), f64::to_string);
                page.sample(
                    &format!("{name}_bucket"),
                    &[("route", route), ("le", &le)],
                    cumulative,
                );
            }
            let seconds = stats.nanos.load(Relaxed) as f64 / 1e9;
            page.sample(&format!("{name}_sum"), &[("route", route)], seconds);
            page.sample(&format!("{name}_count"), &[("route", route)], cumulative);
        }
    }

    async fn render_database(&self, page: &mut Page) {
        if let Some(pool) = app::server::metrics::pool(&self.db) {
            page.family(
                "backyard_db_pool_connections",
                "gauge",
                "Database connections: in use by a query or transaction, or open and idle.",
            );
            page.sample(
                "backyard_db_pool_connections",
                &[("state", "in_use")],
                pool.in_use,
            );
            page.sample(
                "backyard_db_pool_connections",
                &[("state", "idle")],
                pool.idle,
            );
            page.gauge(
                "backyard_db_pool_max_connections",
                "The most connections the pool opens; with all in use, requests wait.",
                pool.max,
            );
        }
        if self.db.get_database_backend() == sea_orm::DbBackend::Sqlite {
            page.gauge(
                "backyard_db_writers_waiting",
                "Writes waiting for SQLite's one writer (this process's queue).",
                app::server::db::writers_waiting(),
            );
            page.family(
                "backyard_db_writer_busy_seconds_total",
                "counter",
                "Time SQLite's one writer was busy with a write; its rate near 1: writes queue.",
            );
            page.sample(
                "backyard_db_writer_busy_seconds_total",
                &[],
                app::server::db::writer_busy_seconds(),
            );
        }
        let queues = async {
            let now = chrono::Utc::now();
            Ok::<_, app::error::AppError>((
                app::server::metrics::outbox(&self.db, now).await?,
                app::server::metrics::fan_outs(&self.db, now).await?,
            ))
        };
        let queues = match tokio::time::timeout(DATABASE_WAIT, queues).await {
            Ok(Ok(figures)) => Some(figures),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "metrics: reading the outbox and the notification queue");
                None
            }
            Err(_) => {
                tracing::warn!("metrics: the database did not answer within {DATABASE_WAIT:?}");
                None
            }
        };
        page.gauge(
            "backyard_database_up",
            "1 when the database answered this scrape's queue queries in time, else 0.",
            u8::from(queues.is_some()),
        );
        if let Some((outbox, fan_outs)) = queues {
            page.gauge(
                "backyard_outbox_queued",
                "E-mails queued and not yet sent nor given up.",
                outbox.queued,
            );
            page.gauge(
                "backyard_outbox_oldest_due_seconds",
                "How long the longest-waiting due e-mail has been due (0: none due).",
                outbox.oldest_due_seconds,
            );
            page.gauge(
                "backyard_notifications_waiting",
                "Posts and changes whose followers and watchers are still to be told.",
                fan_outs.waiting,
            );
            page.gauge(
                "backyard_notifications_oldest_seconds",
                "How long the oldest of them has waited for the worker (0: none waits).",
                fan_outs.oldest_seconds,
            );
        }
    }
}

/// Compares the Authorization header's bearer token with `token` in time that does not depend
/// on where they first differ.
fn bearer_matches(req: &Request, token: &str) -> bool {
    let Some(given) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        // The scheme's name is case-insensitive (RFC 9110, 11.1): some scrapers send "bearer".
        .and_then(|v| {
            v.get(..7)
                .filter(|scheme| scheme.eq_ignore_ascii_case("Bearer "))
                .map(|_| &v[7..])
        })
    else {
        return false;
    };
    given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// The middleware: times and counts every request it wraps; on the site's address (no
/// BACKYARD_METRICS_ADDR) it also answers `/metrics` itself, before any other layer.
pub async fn layer(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = metrics.http.route_of(req.uri().path());
    let res = if req.uri().path() == PATH && metrics.settings.on_site_address() {
        metrics.answer(req).await
    } else {
        next.run(req).await
    };
    metrics.http.record(route, res.status(), started.elapsed());
    res
}

/// The router for BACKYARD_METRICS_ADDR: `/metrics` and nothing else.
pub fn own_address_router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route(
            PATH,
            get(|State(m): State<Arc<Metrics>>, req: Request| async move { m.answer(req).await }),
        )
        .with_state(metrics)
}

/// The page being written. HELP and TYPE come once per family, before its samples.
#[derive(Default)]
struct Page(String);

impl Page {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (key, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{key}=\"");
                for c in value.chars() {
                    match c {
                        '\\' => self.0.push_str("\\\\"),
                        '"' => self.0.push_str("\\\""),
                        '\n' => self.0.push_str("\\n"),
                        c => self.0.push(c),
                    }
                }
                self.0.push('"');
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    fn gauge(&mut self, name: &str, help: &str, value: impl std::fmt::Display) {
        self.family(name, "gauge", help);
        self.sample(name, &[], value);
    }
}

/// What a page-cache lookup was for.
#[derive(Clone, Copy)]
pub enum Cached {
    Page = 0,
    File = 1,
    /// A signed-in member's topic page (page_cache::member_layer).
    MemberPage = 2,
}

/// Page-cache lookups, [kind][hit]: process-wide, like the workers'.
static PAGE_CACHE: [[AtomicU64; 2]; 3] = [const { [const { AtomicU64::new(0) }; 2] }; 3];

/// Counts one lookup in the page cache (page_cache.rs).
pub fn page_cache_lookup(kind: Cached, hit: bool) {
    PAGE_CACHE[kind as usize][usize::from(hit)].fetch_add(1, Relaxed);
}

fn render_page_cache(page: &mut Page) {
    let name = "backyard_page_cache_lookups_total";
    page.family(
        name,
        "counter",
        "Page-cache lookups: hit (served from memory) or miss (rendered); visitors' pages and \
         files, and members' topic pages.",
    );
    for (kind, counts) in ["page", "file", "member_page"].iter().zip(&PAGE_CACHE) {
        for (result, count) in ["miss", "hit"].iter().zip(counts) {
            page.sample(
                name,
                &[("kind", kind), ("result", result)],
                count.load(Relaxed),
            );
        }
    }
}

/// The background workers `main` runs.
#[derive(Clone, Copy)]
pub enum Worker {
    /// Delivering the outbox.
    Mail = 0,
    /// Telling followers and watchers (the fan-out queue).
    Notifications = 1,
    /// Daily digest e-mails.
    Digest = 2,
    /// Counting new members' votes that came of age.
    AgedVotes = 3,
    /// Expired sessions, spent form tokens, old log-in failures, unused uploads.
    Cleanup = 4,
}

const WORKER_NAMES: [&str; 5] = ["mail", "notifications", "digest", "aged_votes", "cleanup"];
static WORKER_FAILURES: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];
/// Unix seconds of each worker's last finished round (0: none yet).
static WORKER_LAST_RUN: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];

/// Records one round of `worker`, failed or not.
pub fn worker_round(worker: Worker, failed: bool) {
    if failed {
        WORKER_FAILURES[worker as usize].fetch_add(1, Relaxed);
    }
    WORKER_LAST_RUN[worker as usize].store(unix_seconds(SystemTime::now()), Relaxed);
}

fn render_workers(page: &mut Page) {
    let name = "backyard_worker_failures_total";
    page.family(
        name,
        "counter",
        "Failed rounds of each background worker (each one also logged as a warning).",
    );
    for (worker, count) in WORKER_NAMES.iter().zip(&WORKER_FAILURES) {
        page.sample(name, &[("worker", worker)], count.load(Relaxed));
    }
    let name = "backyard_worker_last_round_timestamp_seconds";
    page.family(
        name,
        "gauge",
        "When each background worker last finished a round (absent: not yet, or not running).",
    );
    for (worker, at) in WORKER_NAMES.iter().zip(&WORKER_LAST_RUN) {
        let at = at.load(Relaxed);
        if at > 0 {
            page.sample(name, &[("worker", worker)], at);
        }
    }
}

fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// When the process started, for `process_start_time_seconds` (the first `Metrics` sets it,
/// as the router is built).
static STARTED: std::sync::LazyLock<SystemTime> = std::sync::LazyLock::new(SystemTime::now);

fn render_process(page: &mut Page, backend: sea_orm::DbBackend) {
    if let Some(memory) = ProcessMemory::read() {
        page.gauge(
            "process_resident_memory_bytes",
            "Resident memory now (VmRSS).",
            memory.resident_bytes,
        );
        page.gauge(
            "backyard_process_peak_resident_memory_bytes",
            "The most resident memory the process has had since it started (VmHWM).",
            memory.peak_bytes,
        );
    }
    page.gauge(
        "process_start_time_seconds",
        "When the process started, in Unix seconds.",
        unix_seconds(*STARTED),
    );
    page.family(
        "backyard_build_info",
        "gauge",
        "The running build: its version and the database it uses. Always 1.",
    );
    let database = match backend {
        sea_orm::DbBackend::Postgres => "postgres",
        sea_orm::DbBackend::Sqlite => "sqlite",
        _ => "other",
    };
    page.sample(
        "backyard_build_info",
        &[
            ("version", env!("CARGO_PKG_VERSION")),
            (
                "profile",
                if cfg!(debug_assertions) {
                    "debug"
                } else {
                    "release"
                },
            ),
            ("database", database),
        ],
        1,
    );
}

/// The process's memory from /proc/self/status (Linux; elsewhere nothing is reported).
struct ProcessMemory {
    resident_bytes: u64,
    peak_bytes: u64,
}

impl ProcessMemory {
    fn read() -> Option<ProcessMemory> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let kib = |key: &str| -> Option<u64> {
            let line = status.lines().find(|l| l.starts_with(key))?;
            let n = line[key.len()..].trim().strip_suffix("kB")?.trim();
            n.parse::<u64>().ok().map(|n| n * 1024)
        };
        Some(ProcessMemory {
            resident_bytes: kib("VmRSS:")?,
            peak_bytes: kib("VmHWM:")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_lands_in_the_first_bucket_that_holds_it() {
        let mut patterns = Patterns::default();
        patterns.add("/t/{id}/{slug}");
        patterns.add("/");
        let m = Http::new(patterns);
        let topic = m.route_of("/t/12/some-title");
        assert_eq!(m.names[topic], "/t/{id}/{slug}");
        assert_eq!(m.names[m.route_of("/nope/at/all")], UNMATCHED);
        m.record(topic, StatusCode::OK, Duration::from_micros(300));
        m.record(topic, StatusCode::OK, Duration::from_millis(3));
        m.record(topic, StatusCode::NOT_FOUND, Duration::from_secs(60));
        let stats = &m.stats[topic];
        assert_eq!(stats.buckets[0].load(Relaxed), 1, "0.3 ms in le=0.0005");
        assert_eq!(stats.buckets[3].load(Relaxed), 1, "3 ms in le=0.005");
        assert_eq!(
            stats.buckets[BUCKETS.len()].load(Relaxed),
            1,
            "60 s above 10"
        );
        assert_eq!(stats.by_class[1].load(Relaxed), 2);
        assert_eq!(stats.by_class[3].load(Relaxed), 1);
    }

    #[test]
    fn label_values_are_escaped() {
        let mut page = Page::default();
        page.sample("x", &[("route", "a\"b\\c\nd")], 1);
        assert_eq!(page.0, "x{route=\"a\\\"b\\\\c\\nd\"} 1\n");
    }

    #[test]
    fn memory_is_read_from_proc() {
        let memory = ProcessMemory::read().expect("Linux /proc/self/status");
        assert!(memory.resident_bytes > 1024 * 1024);
        assert!(memory.peak_bytes >= memory.resident_bytes);
    }
}
