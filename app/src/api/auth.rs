//! Sign-up, log-in, log-out and "who am I".
use leptos::prelude::*;

use crate::{error::AppError, model::SessionUser};

#[cfg(feature = "ssr")]
use crate::server::{accounts, state};

/// Signs the member in on this browser: a fresh session id (no fixation), then their id.
#[cfg(feature = "ssr")]
async fn start_session(user_id: i64) -> Result<(), AppError> {
    let session = state::session().await?;
    let fail = |e: tower_sessions::session::Error| {
        tracing::error!(error = %e, "session write failed");
        AppError::Internal
    };
    session.cycle_id().await.map_err(fail)?;
    session
        .insert(state::USER_ID_KEY, user_id)
        .await
        .map_err(fail)?;
    Ok(())
}

/// After a sign-in: on to `next` (local paths only), or the error with its status.
#[cfg(feature = "ssr")]
fn signed_in_or_error(result: Result<(), AppError>, next: Option<String>) -> Result<(), AppError> {
    match result {
        Ok(()) => {
            leptos_axum::redirect(&super::safe_next(next.as_deref()));
            Ok(())
        }
        Err(e) => {
            state::set_error_status(&e);
            Err(e)
        }
    }
}

#[server(endpoint = "sign_up")]
pub async fn sign_up(
    username: String,
    email: String,
    password: String,
    form_token: String,
    next: Option<String>,
) -> Result<(), AppError> {
    let input = accounts::NewAccount {
        username,
        email,
        password,
        form_token: Some(form_token),
    };
    let result = async {
        let user = accounts::sign_up(&state::db()?, input).await?;
        if user.awaiting_approval {
            return Ok(false);
        }
        start_session(user.id).await.map(|_| true)
    }
    .await;
    match result {
        // Signed up, but an admin approves the account first: say so on the sign-up page.
        Ok(false) => {
            leptos_axum::redirect("/signup?pending=1");
            Ok(())
        }
        other => signed_in_or_error(other.map(|_| ()), next),
    }
}

#[server(endpoint = "log_in")]
pub async fn log_in(login: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let result = async {
        let user = accounts::log_in(&state::db()?, &login, &password).await?;
        start_session(user.id).await
    }
    .await;
    signed_in_or_error(result, next)
}

#[server(endpoint = "log_out")]
pub async fn log_out() -> Result<(), AppError> {
    let session = state::session().await?;
    session.flush().await.map_err(|e| {
        tracing::error!(error = %e, "session delete failed");
        AppError::Internal
    })?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(endpoint = "me")]
pub async fn current_user() -> Result<Option<SessionUser>, AppError> {
    let Some(user) = state::current_user().await? else {
        return Ok(None);
    };
    let db = state::db()?;
    let mut me = user.to_session_user();
    me.unread_notifications = crate::server::notify::unread_count(&db, user.id).await?;
    if user.role() >= crate::model::Role::Moderator {
        me.open_review_items = crate::server::moderation::open_review_count(&db).await?;
    }
    Ok(Some(me))
}
