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
    /// Where uploaded files are kept (BACKYARD_UPLOADS).
    pub files: Arc<dyn media::store::Store>,
    /// The site's name, brand and switches, which every page shows (api::forum::get_site_info).
    pub site: Arc<super::memo::Memo<crate::model::SiteInfo>>,
    /// The home page's pages as every reader sees them (views::home::HomePages).
    pub home_pages: Arc<super::memo::MemoMap<u64, Arc<crate::model::HomeView>>>,
    /// The home page's response headline (views::home::headline).
    pub headline: Arc<super::memo::Memo<Option<crate::model::ResponseHeadline>>>,
    /// The staff queue's waiting topics per category: (category, how many, oldest since).
    pub waiting: Arc<super::memo::Memo<Vec<(i64, i64, Option<chrono::DateTime<chrono::Utc>>)>>>,
    /// How many review items are open (views::moderation::open_review_count_kept).
    pub review_open: Arc<super::memo::Memo<u64>>,
    /// Topic page data kept per page version: views::topic::TopicPages, typed there (the
    /// platform knows nothing of views; views::topic::kept_pages reads it).
    pub topic_pages: Arc<dyn std::any::Any + Send + Sync>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The address a request came from (the TCP peer, or the proxy's header when configured), put
/// on the request by the router; absent in in-process tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub std::net::IpAddr);

/// The client's address for the request being handled, if known.
pub fn client_ip() -> Option<std::net::IpAddr> {
    use_context::<axum::http::request::Parts>()
        .and_then(|p| p.extensions.get::<ClientIp>().map(|c| c.0))
}

// The session's keys live with the store that reads them on every load.
pub use super::session_store::{GENERATION_KEY, USER_ID_KEY};

pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        if request_gone() {
            tracing::debug!("a page's load ran on after its reader left");
        } else {
            tracing::error!("AppState missing from the Leptos context");
        }
        AppError::Internal
    })
}

/// Whether this runs for a request that is gone. A page's data loads in tasks of their own
/// (leptos' resources), which run on after their reader left mid-render, when the page's owner
/// and every context it held have been dropped: nobody waits for what they find, and they stop
/// at their first look-up. That is not a fault to report (an outside tester saw it as "no
/// session layer on this request", once for each reader that gave up); a context missing
/// while the request's own parts are there is.
fn request_gone() -> bool {
    use_context::<axum::http::request::Parts>().is_none() && use_context::<AppState>().is_none()
}

pub fn db() -> Result<DatabaseConnection, AppError> {
    Ok(app_state()?.db)
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        if request_gone() {
            tracing::debug!("a page's load ran on after its reader left");
        } else {
            tracing::error!(error = %e, "no session layer on this request");
        }
        AppError::Internal
    })
}

/// Session keys: when the member signed in on this browser, and when they were last seen (both
/// unix seconds), for the absolute and idle timeouts.
const SIGNED_IN_AT_KEY: &str = "signed_in_at";
const SEEN_AT_KEY: &str = "seen_at";
/// How often "last seen" moves forward: one session write per member per hour of activity.
const SEEN_REFRESH_SECS: i64 = 3600;

/// Stamps a session for a member who has just signed in (api::auth).
pub async fn start_timeouts(session: &Session) -> Result<(), AppError> {
    let now = chrono::Utc::now().timestamp();
    refresh_timeouts(session, now, now, timeouts(&db()?).await?).await
}

/// Records "seen now" and sets the session to expire at whichever timeout comes first: idle
/// (the admin's session_idle_hours after now) or absolute (session_max_hours after signing in).
/// The store then refuses the session by itself once that time passes.
async fn refresh_timeouts(
    session: &Session,
    signed_in_at: i64,
    now: i64,
    (idle, max): (i64, i64),
) -> Result<(), AppError> {
    session
        .insert(SIGNED_IN_AT_KEY, signed_in_at)
        .await
        .map_err(session_fail)?;
    session
        .insert(SEEN_AT_KEY, now)
        .await
        .map_err(session_fail)?;
    let expires = (now + idle).min(signed_in_at + max);
    let at = time::OffsetDateTime::from_unix_timestamp(expires).map_err(|_| AppError::Internal)?;
    session.set_expiry(Some(tower_sessions::Expiry::AtDateTime(at)));
    Ok(())
}

/// The idle and absolute timeouts in seconds, from the site settings.
async fn timeouts(db: &DatabaseConnection) -> Result<(i64, i64), AppError> {
    use super::settings::{SESSION_IDLE_HOURS, SESSION_MAX_HOURS, number};
    let hours = |h: i64| h.clamp(1, 24 * 400) * 3600;
    Ok((
        hours(number(db, SESSION_IDLE_HOURS).await?),
        hours(number(db, SESSION_MAX_HOURS).await?),
    ))
}

fn session_fail(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session read/write failed");
    AppError::Internal
}

/// The signed-in member, remembered for the rest of one request: the header, the page's data
/// and its forms all ask, and the answer cannot change within a request.
#[derive(Clone, Default)]
pub struct RequestUser(Arc<tokio::sync::OnceCell<Option<user::Model>>>);

/// Called once per request (page render or server-function call) by the router.
pub fn provide_request_context() {
    provide_context(RequestUser::default());
}

/// The request is a plain form's post (the browser asks for a page back), not the hydrated
/// form's fetch, which takes the server function's answer.
pub fn plain_form() -> bool {
    use_context::<axum::http::request::Parts>().is_some_and(|p| {
        p.headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

/// The path of the page being rendered (without its query), if this is a request for one.
pub fn request_path() -> Option<String> {
    use_context::<axum::http::request::Parts>().map(|p| p.uri.path().to_string())
}

/// The signed-in member, if any. A session pointing at a deleted account counts as signed out.
pub async fn current_user() -> Result<Option<user::Model>, AppError> {
    match use_context::<RequestUser>() {
        Some(memo) => memo.0.get_or_try_init(load_current_user).await.cloned(),
        None => load_current_user().await,
    }
}

async fn load_current_user() -> Result<Option<user::Model>, AppError> {
    member_of(&session().await?, &db()?).await
}

/// The member a session is signed in as, if any, with the session's timeouts enforced: for
/// plain axum handlers, which have no Leptos context.
pub async fn member_of(
    session: &Session,
    db: &DatabaseConnection,
) -> Result<Option<user::Model>, AppError> {
    let id: Option<i64> = session.get(USER_ID_KEY).await.map_err(session_fail)?;
    let Some(id) = id else { return Ok(None) };
    let now = chrono::Utc::now().timestamp();
    let signed_in_at: Option<i64> = session.get(SIGNED_IN_AT_KEY).await.map_err(session_fail)?;
    let seen_at: Option<i64> = session.get(SEEN_AT_KEY).await.map_err(session_fail)?;
    if seen_at.is_none_or(|seen| now - seen >= SEEN_REFRESH_SECS) {
        // Sessions from before the timeouts existed count from now.
        let signed_in_at = signed_in_at.unwrap_or(now);
        let (idle, max) = timeouts(db).await?;
        if seen_at.is_some_and(|seen| now - seen > idle) || now - signed_in_at > max {
            session.flush().await.map_err(session_fail)?;
            return Ok(None);
        }
        refresh_timeouts(session, signed_in_at, now, (idle, max)).await?;
    }
    // The session's load read the account with it (to check its generation): this request's
    // copy, read a moment ago, saves reading it again.
    if let Some(account) = super::session_store::take_loaded_account(session, id).await {
        return Ok(Some(account));
    }
    Ok(user::Entity::find_by_id(id).one(db).await?)
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
        .filter(|kv| {
            !kv.is_empty()
                && !kv.starts_with("__err=")
                && !kv.starts_with("__path=")
                && !kv.starts_with("__sig=")
        })
        .collect();
    let path = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    // A Referer is whatever the address bar held: `//evil.example` is a path there.
    crate::paths::local_path(&path).unwrap_or_else(|| fallback.to_string())
}

#[cfg(test)]
mod tests {
    use leptos::prelude::*;
    use leptos::reactive::computed::ScopedFuture;

    /// A page's load runs in a task under an owner of the page's. Polled while the page lives, it
    /// finds the request's parts; polled after the page's owner was dropped (its reader gone
    /// mid-render), it finds no context at all, and counts as a request that is gone, not as a
    /// server missing its session layer.
    #[tokio::test]
    async fn a_load_left_by_its_reader_is_told_apart_from_a_missing_layer() {
        let page = Owner::new_root(None);
        let (while_read, after_left) = page.with(|| {
            provide_context(axum::http::Request::new(()).into_parts().0);
            let component = Owner::current().expect("the page's owner").child();
            component.with(|| {
                (
                    ScopedFuture::new_untracked(async { super::request_gone() }),
                    ScopedFuture::new_untracked(async { super::request_gone() }),
                )
            })
        });
        page.clone().unset();
        assert!(
            !while_read.await,
            "the page's parts are there while it is read"
        );
        drop(page);
        assert!(
            after_left.await,
            "its reader gone, the load has no context left"
        );
    }
}
