//! What every request can reach: options, the database, settings; and who is asking.
use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::*;
use sea_orm::{DatabaseConnection, EntityTrait};
use tower_sessions::Session;

use super::{config::Config, entity::user};
use crate::error::AppError;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The session key holding the signed-in member's id.
pub const USER_ID_KEY: &str = "user_id";

pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the Leptos context");
        AppError::Internal
    })
}

pub fn db() -> Result<DatabaseConnection, AppError> {
    Ok(app_state()?.db)
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer on this request");
        AppError::Internal
    })
}

/// The session key holding the day (days since 1970) the session's expiry was last pushed back.
const REFRESHED_DAY_KEY: &str = "refreshed_day";

/// The signed-in member, remembered for the rest of one request: the header, the page's data
/// and its forms all ask, and the answer cannot change within a request.
#[derive(Clone, Default)]
pub struct RequestUser(Arc<tokio::sync::OnceCell<Option<user::Model>>>);

/// Called once per request (page render or server-function call) by the router.
pub fn provide_request_context() {
    provide_context(RequestUser::default());
}

/// The signed-in member, if any. A session pointing at a deleted account counts as signed out.
pub async fn current_user() -> Result<Option<user::Model>, AppError> {
    match use_context::<RequestUser>() {
        Some(memo) => memo.0.get_or_try_init(load_current_user).await.cloned(),
        None => load_current_user().await,
    }
}

async fn load_current_user() -> Result<Option<user::Model>, AppError> {
    let session = session().await?;
    let fail = |e: tower_sessions::session::Error| {
        tracing::error!(error = %e, "session read/write failed");
        AppError::Internal
    };
    let id: Option<i64> = session.get(USER_ID_KEY).await.map_err(fail)?;
    let Some(id) = id else { return Ok(None) };
    // tower-sessions stores a new expiry only when the session changes. Touching it once a day
    // makes the 30-day limit count from the last visit, at one write per member per day.
    let today = chrono::Utc::now().timestamp() / 86_400;
    if session.get::<i64>(REFRESHED_DAY_KEY).await.map_err(fail)? != Some(today) {
        session
            .insert(REFRESHED_DAY_KEY, today)
            .await
            .map_err(fail)?;
    }
    Ok(user::Entity::find_by_id(id).one(&db()?).await?)
}

/// Gives an error its HTTP status for script clients. A plain HTML form post is left alone:
/// it must stay a redirect back to the form, which carries the error in its URL.
pub fn set_error_status(err: &AppError) {
    use axum::http::{StatusCode, header::ACCEPT};
    let is_form_post = use_context::<axum::http::request::Parts>()
        .and_then(|p| {
            p.headers
                .get(ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.contains("text/html"))
        })
        .unwrap_or(false);
    if let (false, Some(res), Ok(status)) = (
        is_form_post,
        use_context::<leptos_axum::ResponseOptions>(),
        StatusCode::from_u16(err.status()),
    ) {
        res.set_status(status);
    }
}

/// The local path (with query) of the page a form was posted from, without any error the URL
/// carried back from an earlier attempt; `fallback` when there is no usable Referer.
pub fn referring_path(fallback: &str) -> String {
    let referer = use_context::<axum::http::request::Parts>().and_then(|p| {
        p.headers
            .get(axum::http::header::REFERER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    let Some(referer) = referer else {
        return fallback.to_string();
    };
    let after_scheme = referer.find("://").map(|i| i + 3).unwrap_or(0);
    let path = match referer[after_scheme..].find('/') {
        Some(slash) => &referer[after_scheme + slash..],
        None => "/",
    };
    let path = path.split('#').next().unwrap_or("/");
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("__err=") && !kv.starts_with("__path="))
        .collect();
    if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}
