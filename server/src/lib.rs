#![recursion_limit = "256"]
//! The HTTP application: `router(state)` is what `main` serves and what the tests drive.
pub mod bench_seed;
pub mod page_cache;
use std::{sync::Arc, time::Instant};

use app::{
    app::{App, shell},
    server::{
        config::Config,
        feeds,
        session_store::DbSessionStore,
        state::{AppState, provide_request_context},
    },
};
use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sea_orm::DatabaseConnection;
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

/// Session cookies last 30 days from the last visit.
const SESSION_IDLE_DAYS: i64 = 30;
pub const SESSION_COOKIE: &str = "backyard_session";

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
            .output_name("backyard")
            .site_root(config.site_root.clone())
            .site_pkg_dir("pkg")
            .site_addr(config.addr)
            .build(),
    };
    AppState {
        leptos_options,
        db,
        config: Arc::new(config),
    }
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::days(SESSION_IDLE_DAYS),
        ));
    let shell_options = state.leptos_options.clone();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/blog/feed.xml", get(blog_feed))
        .route("/sitemap.xml", get(sitemap))
        .leptos_routes_with_context(&state, routes, provide_request_context, move || {
            shell(shell_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_request_context, shell))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            refuse_cross_origin_writes,
        ))
        .layer(middleware::from_fn_with_state(
            Arc::new(page_cache::PageCache::default()),
            page_cache::layer,
        ))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
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

/// The blog's Atom feed.
async fn blog_feed(State(state): State<AppState>) -> Response {
    use app::server::settings;
    let name = match settings::text(&state.db, settings::SITE_NAME).await {
        Ok(name) => name,
        Err(e) => return xml_response(Err(e), ""),
    };
    xml_response(
        feeds::atom_feed(&state.db, &state.config.public_url, &name).await,
        "application/atom+xml; charset=utf-8",
    )
}

async fn sitemap(State(state): State<AppState>) -> Response {
    xml_response(
        feeds::sitemap(&state.db, &state.config.public_url).await,
        "application/xml; charset=utf-8",
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

/// Leptos server functions have no CSRF protection of their own. A browser always says where a
/// write comes from (Sec-Fetch-Site, else Origin); anything from another site is refused.
async fn refuse_cross_origin_writes(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let header_str = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let allowed = match header_str("sec-fetch-site") {
        Some(site) => site == "same-origin" || site == "none",
        None => match header_str(header::ORIGIN.as_str()) {
            Some(origin) => {
                origin_is_ours(origin, &state.config, header_str(header::HOST.as_str()))
            }
            // Neither header: not a modern browser's cross-site request (curl, tests).
            None => true,
        },
    };
    if allowed {
        next.run(req).await
    } else {
        tracing::warn!(path = %req.uri().path(), "refused a cross-origin write");
        (
            StatusCode::FORBIDDEN,
            "Cross-site requests are not allowed.",
        )
            .into_response()
    }
}

fn origin_is_ours(origin: &str, config: &Config, host: Option<&str>) -> bool {
    if origin == config.public_origin() {
        return true;
    }
    // Also the address the request was sent to (someone browsing by the listen address).
    let bare = origin
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    host.is_some_and(|h| h == bare)
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
