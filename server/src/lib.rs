#![recursion_limit = "256"]
//! The HTTP application: `router(state)` is what `main` serves and what the tests drive.
pub mod backup;
pub mod bench_seed;
pub mod bench_text;
pub mod bodies;
pub mod compress;
pub mod files;
pub mod form_errors;
pub mod metrics;
pub mod migrate_data;
pub mod page_cache;
pub mod robots;
pub mod security;
pub mod serve;
pub mod sqlite_file;
pub mod start_turn;
use std::{sync::Arc, time::Instant};

use app::{
    app::{App, shell},
    server::{
        config::Config,
        session_store::DbSessionStore,
        state::{AppState, provide_request_context},
    },
};
use axum::{
    Router,
    body::Body,
    extract::{Path, Query, Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sea_orm::DatabaseConnection;
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

/// Session cookies last 30 days from the last visit.
const SESSION_IDLE_DAYS: i64 = 30;
pub const SESSION_COOKIE: &str = "backyard_session";

/// `__Host-backyard_session` over https: the browser then accepts the cookie only from this
/// host, over https, for the whole site, so a sibling subdomain can't plant or widen it.
pub fn session_cookie_name(config: &Config) -> &'static str {
    if config.secure_cookies() {
        "__Host-backyard_session"
    } else {
        SESSION_COOKIE
    }
}

/// Builds the state from settings and an open, migrated database.
pub fn app_state(config: Config, db: DatabaseConnection) -> AppState {
    // Under cargo-leptos (`cargo leptos watch`) its settings win: they carry live reload.
    let from_cargo_leptos = std::env::var("LEPTOS_OUTPUT_NAME")
        .is_ok()
        .then(|| get_configuration(None).ok())
        .flatten();
    let leptos_options = match from_cargo_leptos {
        Some(conf) => conf.leptos_options,
        None => LeptosOptions::builder()
            .output_name(bundle_name(&config.site_root))
            .site_root(config.site_root.clone())
            .site_pkg_dir("pkg")
            .site_addr(config.addr)
            .build(),
    };
    let files =
        app::server::uploads::store::open(&config.uploads, &db).unwrap_or_else(|e| panic!("{e}"));
    AppState {
        leptos_options,
        db,
        config: Arc::new(config),
        files,
        site: Default::default(),
        home_pages: Arc::new(app::server::views::home::home_pages()),
        headline: Default::default(),
        waiting: Default::default(),
        review_open: Default::default(),
        topic_pages: Arc::new(app::server::views::topic::topic_pages()),
    }
}

pub fn router(state: AppState) -> Router {
    routers(state).site
}

/// What the server serves: the site, and the metrics page when it has an address of its own
/// (BACKYARD_METRICS_ADDR).
pub struct Routers {
    pub site: Router,
    pub metrics: Option<Router>,
}

pub fn routers(state: AppState) -> Routers {
    let routes = generate_route_list(App);
    // Every pattern given to axum, for the metrics' route labels.
    let mut patterns = metrics::Patterns::default();
    patterns.extend(routes.iter().map(|r| r.path().to_string()));
    patterns.extend(leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path.to_string()));
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(session_cookie_name(&state.config))
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::days(SESSION_IDLE_DAYS),
        ));
    let shell_options = state.leptos_options.clone();
    let config = state.config.clone();
    let metrics_settings = config.metrics.clone();
    let db = state.db.clone();
    let metrics_db = state.db.clone();
    let page_cache = Arc::new(page_cache::PageCache::new(db.clone()));
    let routes = Router::new()
        .route(patterns.add("/healthz"), get(healthz))
        .route(patterns.add("/blog/feed.xml"), get(blog_feed))
        .route(patterns.add("/feed.xml"), get(forum_feed))
        .route(patterns.add("/c/{slug}/feed.xml"), get(category_feed))
        .route(patterns.add("/robots.txt"), get(robots_txt))
        .route(patterns.add("/sitemap.xml"), get(sitemap))
        .route(patterns.add("/sitemap/{file}"), get(sitemap_page))
        .route(patterns.add("/theme.css"), get(theme_css))
        // The page itself (GET) is the Leptos route of the same path.
        .route(
            patterns.add("/unsubscribe/{token}"),
            post(one_click_unsubscribe),
        )
        .route(patterns.add("/notifications/{id}"), get(open_notification))
        .route(patterns.add("/staff/ideas.csv"), get(staff_ideas_csv))
        .route(
            patterns.add("/uploads"),
            post(files::upload).layer(axum::extract::DefaultBodyLimit::max(
                files::MAX_REQUEST_BYTES,
            )),
        )
        .route(patterns.add("/uploads/{id}/{*rest}"), get(files::serve))
        .route(
            patterns.add("/images/proxy/{signature}/{address}"),
            get(files::proxy),
        )
        .nest_service("/pkg", pkg_files(&state.leptos_options))
        .leptos_routes_with_context(&state, routes, provide_request_context, move || {
            shell(shell_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_request_context, shell))
        // Inside the session layer: it takes a no-JavaScript composer's files as the member's.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            files::composer_files,
        ))
        // Inside the session layer too: a member's page is keyed by what their session reads.
        .layer(middleware::from_fn_with_state(
            (page_cache.clone(), state.clone()),
            page_cache::member_layer,
        ))
        // Just inside the session layer: what it read decides that an answer is one member's.
        .layer(middleware::from_fn(page_cache::mark_sessions))
        .layer(sessions)
        .with_state(state);
    // The layers wrap the whole router as one service, not each route (as `Router::layer` on the
    // routes would): axum clones a route's whole layered service per request, and the Leptos
    // routes hold the app state, so a cache hit paid for cloning and dropping LeptosOptions
    // (12% of its time in a profile). Here a hit never reaches the routes.
    // The last layer added runs first. A request meets: the log line, the client's address,
    // per-address limits, the request-shape checks, the security headers (on every answer,
    // refusals included), the cross-site check, the form-error signature, compression, the page
    // cache, the noindex tag, the session, the mark on answers to a session, members' kept topic
    // pages, a no-JavaScript composer's files, the route. With metrics on, they time and count
    // each request just inside the log line.
    let site = Router::new()
        .fallback_service(routes)
        // Inside the cache, so a cached page has what this adds.
        .layer(middleware::from_fn(robots::noindex_meta))
        .layer(middleware::from_fn_with_state(
            page_cache,
            page_cache::layer,
        ))
        // Pages rendered for one reader leave compressed; cached ones carry their own copy.
        .layer(middleware::from_fn(compress::pages))
        // Outside the cache, so a page is cached (or not) after an unsigned error is removed.
        .layer(middleware::from_fn_with_state(
            Arc::new(form_errors::FormErrors::new(config.clone(), db.clone())),
            form_errors::layer,
        ))
        // Outside the cache, so cached pages never hold anyone's token.
        .layer(middleware::from_fn_with_state(
            Arc::new(security::CsrfGuard::new(config.clone(), db.clone())),
            security::csrf,
        ))
        .layer(middleware::from_fn_with_state(
            config.clone(),
            security::security_headers,
        ))
        .layer(middleware::from_fn(security::request_shape))
        .layer(middleware::from_fn_with_state(
            Arc::new(
                security::IpLimits::new(config.ip_concurrency, config.ip_writes_per_minute)
                    .sharing_buckets_in(&db),
            ),
            security::per_ip_limits,
        ))
        .layer(middleware::from_fn_with_state(config, security::client_ip));
    if !metrics_settings.enabled {
        return Routers {
            site: site.layer(middleware::from_fn(log_request)),
            metrics: None,
        };
    }
    // The browser bundle's directory (nest_service above).
    patterns.add("/pkg");
    patterns.add("/pkg/{*rest}");
    if metrics_settings.on_site_address() {
        patterns.add(metrics::PATH);
    }
    let own_address = metrics_settings.addr.is_some();
    let metrics = Arc::new(metrics::Metrics::new(
        metrics_settings,
        metrics_db,
        patterns,
    ));
    Routers {
        // Outside all but the log line: refusals and cache hits are timed and counted too.
        site: site
            .layer(middleware::from_fn_with_state(
                metrics.clone(),
                metrics::layer,
            ))
            .layer(middleware::from_fn(log_request)),
        metrics: own_address.then(|| metrics::own_address_router(metrics)),
    }
}

/// The name the site build gave the browser bundle (`backyard.<content hash>`, in the site
/// root's `bundle-name`): pages link `/pkg/<name>.js`, `<name>_bg.wasm` and `<name>.css`.
/// Without a build (tests of the server alone) the pages name `backyard`, which is not there.
pub fn bundle_name(site_root: &str) -> String {
    let path = std::path::Path::new(site_root).join("bundle-name");
    match std::fs::read_to_string(&path) {
        Ok(name) if is_bundle_name(name.trim()) => name.trim().to_string(),
        _ => {
            tracing::warn!(path = %path.display(), "no browser bundle built: pages will not hydrate");
            "backyard".to_string()
        }
    }
}

fn is_bundle_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
}

/// The browser bundle and stylesheet (/pkg), served here rather than by Leptos' fallback, which
/// passes on only Accept-Encoding to its file service. When their names carry a hash of their
/// content (scripts/lib.sh's build), a browser may keep them for a year without asking again
/// (`immutable`); a new build has new names. cargo-leptos keeps one name across builds, so
/// then a browser must ask each time (a 304 when unchanged), or after a rebuild and reload it
/// would run the old bundle against the new server. Answers other than the files (404s) are
/// not to be kept. Gzip and Brotli copies are sent when the build made them and the browser
/// takes them.
fn pkg_files(options: &LeptosOptions) -> Router {
    let files = ServeDir::new(std::path::Path::new(options.site_root.as_ref()).join("pkg"))
        .precompressed_gzip()
        .precompressed_br();
    let keep = if bundle_is_content_named(options) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Router::new()
        .fallback_service(files)
        .layer(middleware::map_response_with_state(keep, pkg_cache_control))
        .layer(SetResponseHeaderLayer::overriding(
            header::VARY,
            HeaderValue::from_static("accept-encoding"),
        ))
}

/// Whether the pages name a content-hashed bundle: the one the site root's `bundle-name` names
/// (see bundle_name). cargo-leptos's site root has no such file.
fn bundle_is_content_named(options: &LeptosOptions) -> bool {
    let path = std::path::Path::new(options.site_root.as_ref()).join("bundle-name");
    std::fs::read_to_string(path).is_ok_and(|name| name.trim() == options.output_name.as_ref())
}

async fn pkg_cache_control(State(keep): State<&'static str>, mut response: Response) -> Response {
    let found = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    let value = if found { keep } else { "no-store" };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}

/// Opening one of the member's notifications marks it read and lands on what it points to
/// (303). Someone else's, or one that does not exist, is "not found" and nothing changes; a
/// visitor is asked to log in first and comes back here.
async fn open_notification(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let see_other = |to: &str| {
        (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, app::api::safe_next(Some(to))),
                (header::CACHE_CONTROL, "no-store".into()),
            ],
        )
            .into_response()
    };
    let not_found = || (StatusCode::NOT_FOUND, "There is no such notification.").into_response();
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    let opened = async {
        let Some(member) = app::server::state::member_of(&session, &state.db).await? else {
            return Ok(Err(()));
        };
        app::server::notify::open(&state.db, &member, id)
            .await
            .map(Ok)
    }
    .await;
    match opened {
        Ok(Ok(Some(link))) if link.is_empty() => see_other("/notifications"),
        Ok(Ok(Some(link))) => see_other(&link),
        Ok(Ok(None)) => not_found(),
        Ok(Err(())) => see_other(&format!("/login?next=/notifications/{id}")),
        Err(e) => {
            tracing::error!(error = %e, "opening a notification");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
        }
    }
}

/// /staff/ideas.csv: the list /staff/ideas shows with the same filters (its query string), every
/// row, as a download. Staff only: anyone else is refused (403), visitors included.
async fn staff_ideas_csv(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    Query(q): Query<IdeasQuery>,
) -> Response {
    let refuse = |e: app::error::AppError| {
        (
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            [(header::CACHE_CONTROL, "no-store")],
            e.to_string(),
        )
            .into_response()
    };
    let member = match app::server::state::member_of(&session, &state.db).await {
        Ok(Some(member)) => member,
        Ok(None) => return refuse(app::error::AppError::Forbidden(app::api::SIGNED_OUT.into())),
        Err(e) => return refuse(e),
    };
    let filter = app::server::views::ideas::IdeasFilter {
        category: q.category,
        status: q.status,
        verified_only: q.verified.as_deref().is_some_and(app::model::ticked),
        from: q.from,
        to: q.to,
    };
    match app::server::views::ideas::staff_ideas_csv(
        &state.db,
        &member,
        filter,
        &state.config.public_url,
    )
    .await
    {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"ideas.csv\"",
                ),
                (header::CACHE_CONTROL, "no-store"),
            ],
            csv,
        )
            .into_response(),
        Err(e) => refuse(e),
    }
}

#[derive(serde::Deserialize)]
struct IdeasQuery {
    category: Option<String>,
    status: Option<String>,
    verified: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// 200 when the database answers, 503 when it does not.
async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// The one-click unsubscribe (RFC 8058): the post a mail client sends, from its own server, with
/// no cookie or Origin (security::csrf lets exactly this path through: the signed token is the
/// whole authority), and the unsubscribe page's button. The kind stops, and the answer is the
/// unsubscribe page, which now says so and how to undo it. A bad token changes nothing.
async fn one_click_unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Response {
    if let Err(e) = app::server::accounts::preferences::unsubscribe(&state.db, &token).await {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
        return security::refuse(status, &e.to_string());
    }
    let (mut parts, _) = req.into_parts();
    parts.method = Method::GET;
    let options = state.leptos_options.clone();
    let render = leptos_axum::render_app_async_with_context(
        move || {
            provide_context(state.clone());
            provide_request_context();
        },
        move || shell(options.clone()),
    );
    render(Request::from_parts(parts, Body::empty())).await
}

const ATOM: &str = "application/atom+xml; charset=utf-8";

/// The blog's Atom feed.
async fn blog_feed(State(state): State<AppState>) -> Response {
    let name = match site_name(&state).await {
        Ok(name) => name,
        Err(e) => return xml_response(Err(e), ""),
    };
    xml_response(
        app::server::views::feeds::atom_feed(&state.db, &state.config.public_url, &name).await,
        ATOM,
    )
}

/// The forum's Atom feed: its newest public topics.
async fn forum_feed(State(state): State<AppState>) -> Response {
    let name = match site_name(&state).await {
        Ok(name) => name,
        Err(e) => return xml_response(Err(e), ""),
    };
    xml_response(
        app::server::views::feeds::forum_feed(&state.db, &state.config.public_url, &name).await,
        ATOM,
    )
}

/// A category's Atom feed: its newest public topics.
async fn category_feed(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let name = match site_name(&state).await {
        Ok(name) => name,
        Err(e) => return xml_response(Err(e), ""),
    };
    xml_response(
        app::server::views::feeds::category_feed(&state.db, &state.config.public_url, &name, &slug)
            .await,
        ATOM,
    )
}

async fn site_name(state: &AppState) -> Result<String, app::error::AppError> {
    use app::server::settings;
    settings::text(&state.db, settings::SITE_NAME).await
}

/// robots.txt: where the sitemap is and what to leave alone, or, with indexing switched off in
/// the site settings, everything.
async fn robots_txt(State(state): State<AppState>) -> Response {
    match app::server::views::feeds::robots_txt(&state.db, &state.config.public_url).await {
        Ok(txt) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], txt).into_response(),
        Err(e) => xml_response(Err(e), ""),
    }
}

/// The theme stylesheet: accent colour and category colours (see app::server::theme). Asked for
/// with the current version (`?v=`, as pages link it) it may be kept for a year: a change makes
/// a new version, and pages link that. Any other request must revalidate.
async fn theme_css(State(state): State<AppState>, Query(query): Query<ThemeQuery>) -> Response {
    match app::server::theme::current(&state.db).await {
        Ok((css, version)) => {
            let cache = if query.v.as_deref() == Some(version.as_str()) {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            (
                [
                    (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                    (header::CACHE_CONTROL, cache),
                ],
                css,
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "theme stylesheet");
            (StatusCode::INTERNAL_SERVER_ERROR, "").into_response()
        }
    }
}

#[derive(serde::Deserialize)]
struct ThemeQuery {
    v: Option<String>,
}

const XML: &str = "application/xml; charset=utf-8";

/// The sitemap index: the site page and the topic pages.
async fn sitemap(State(state): State<AppState>) -> Response {
    use app::server::views::feeds;
    xml_response(
        feeds::sitemap_index(
            &state.db,
            &state.config.public_url,
            feeds::SITEMAP_PAGE_URLS,
        )
        .await,
        XML,
    )
}

/// One page of the sitemap (/sitemap/site.xml, /sitemap/topics-N.xml).
async fn sitemap_page(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    use app::server::views::feeds;
    let Some(page) = feeds::SitemapPage::parse(&file) else {
        return (StatusCode::NOT_FOUND, "There is no such sitemap page.").into_response();
    };
    xml_response(
        feeds::sitemap_page(
            &state.db,
            &state.config.public_url,
            page,
            feeds::SITEMAP_PAGE_URLS,
        )
        .await,
        XML,
    )
}

fn xml_response(doc: Result<String, app::error::AppError>, content_type: &'static str) -> Response {
    match doc {
        Ok(xml) => ([(header::CONTENT_TYPE, content_type)], xml).into_response(),
        Err(e) => (
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            e.to_string(),
        )
            .into_response(),
    }
}

/// One log line per request: method, path, status, time to the response head.
async fn log_request(req: Request<Body>, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let res = next.run(req).await;
    tracing::info!(
        %method,
        %path,
        status = res.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    res
}
