//! Sign-up, log-in, log-out and "who am I".
use leptos::prelude::*;

use crate::{error::AppError, model::SessionUser};

#[cfg(feature = "ssr")]
use crate::server::{accounts, state};

pub use crate::messages::{RESET_LINK_BAD, RESET_SENT};

/// Signs the member in on this browser: a fresh session id (no fixation), then their id and
/// session generation. `verified_generation` is the generation of the account row whose
/// password was just checked: stamping that one, not a fresh read, means a log-in that checked
/// the old password while the password was changed (or the sessions ended) is ended with them.
#[cfg(feature = "ssr")]
async fn start_session(user_id: i64, verified_generation: Option<i64>) -> Result<(), AppError> {
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
    // Without a verified row (just after this member changed their own password), the
    // generation as of now: if their sessions end while this request finishes, this one ends too.
    let generation = match verified_generation {
        Some(generation) => generation,
        None => crate::server::session_store::session_generation(&state::db()?, user_id).await?,
    };
    session
        .insert(state::GENERATION_KEY, generation)
        .await
        .map_err(fail)?;
    state::start_timeouts(&session).await
}

/// After a sign-in: on to `next` (local paths only), or the error with its status.
#[cfg(feature = "ssr")]
fn signed_in_or_error(result: Result<(), AppError>, next: Option<String>) -> Result<(), AppError> {
    match result {
        Ok(()) => {
            super::redirect(next.as_deref().unwrap_or("/"));
            Ok(())
        }
        Err(e) => {
            crate::error::set_error_status(&e);
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
    // A plain form that fails comes back with the name and address typed (never the password).
    let kept = vec![
        ("username".to_string(), username.clone()),
        ("email".to_string(), email.clone()),
    ];
    let input = accounts::NewAccount {
        username,
        email,
        password,
        form_token: Some(form_token),
    };
    let result: Result<bool, AppError> = async {
        super::visitor_or_writer().await?;
        let user = accounts::sign_up(&state::db()?, input).await?;
        if user.awaiting_approval {
            return Ok(false);
        }
        start_session(user.id, Some(user.session_generation)).await?;
        super::ideas::cast_vote_kept_for_log_in(&user).await;
        Ok(true)
    }
    .await;
    match result {
        // Signed up, but an admin approves the account first: say so on the sign-up page.
        Ok(false) => {
            super::redirect("/signup?pending=1");
            Ok(())
        }
        Err(e) if state::plain_form() => signed_in_or_error(Err(e.in_form("", kept)), next),
        other => signed_in_or_error(other.map(|_| ()), next),
    }
}

#[server(endpoint = "log_in")]
pub async fn log_in(login: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let kept = vec![("login".to_string(), login.clone())];
    let result: Result<(), AppError> = async {
        let user = accounts::log_in(&state::db()?, &login, &password, state::client_ip()).await?;
        start_session(user.id, Some(user.session_generation)).await?;
        // A visitor who voted before logging in: the vote is cast now.
        super::ideas::cast_vote_kept_for_log_in(&user).await;
        Ok(())
    }
    .await;
    // A plain form comes back with the name typed (never the password).
    let result = result.map_err(|e| {
        if state::plain_form() {
            e.in_form("", kept)
        } else {
            e
        }
    });
    signed_in_or_error(result, next)
}

#[server(endpoint = "log_out")]
pub async fn log_out() -> Result<(), AppError> {
    let session = state::session().await?;
    session.flush().await.map_err(|e| {
        tracing::error!(error = %e, "session delete failed");
        AppError::Internal
    })?;
    super::redirect("/");
    Ok(())
}

#[server(endpoint = "me")]
pub async fn current_user() -> Result<Option<SessionUser>, AppError> {
    if let Some(inputs) = crate::server::page_inputs::prefetched() {
        return Ok(Some(inputs.user.clone()));
    }
    let Some(user) = state::current_user().await? else {
        return Ok(None);
    };
    let db = state::db()?;
    let mut me = user.to_session_user();
    // Opening a topic reads what the member was told about it. Marked here, before the header
    // counts, because the header and the page load together (a suspended member's reads write
    // nothing).
    let reading = state::request_path()
        .and_then(|p| super::forum::topic_page_path(&p))
        .filter(|_| crate::server::auth::check_not_suspended(&user).is_ok());
    me.unread_notifications =
        crate::server::notify::unread_after_reading(&db, user.id, reading).await?;
    if user.role() >= crate::model::Role::Moderator {
        me.open_review_items = crate::server::views::moderation::open_review_count_kept(
            &db,
            &state::app_state()?.review_open,
        )
        .await?;
    }
    Ok(Some(me))
}

/// A signed-in member changes their password. Every session of theirs ends, this browser's
/// too, and this browser is signed in again with a fresh session.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use crate::server::accounts::sign_in;
    let result = async {
        let user = super::writer().await?;
        sign_in::change_password(&state::db()?, user.id, &current_password, &new_password).await?;
        start_session(user.id, None).await
    }
    .await;
    match result {
        Ok(()) => {
            super::redirect("/account?changed=1");
            Ok(())
        }
        Err(e) => {
            crate::error::set_error_status(&e);
            Err(e)
        }
    }
}

/// Asks for a password-reset link. The answer is the same, and as quick, whether or not the
/// name or address belongs to an account: the work happens after answering.
#[server(endpoint = "request_reset")]
pub async fn request_reset(login: String) -> Result<(), AppError> {
    if let Err(e) = super::visitor_or_writer().await {
        crate::error::set_error_status(&e);
        return Err(e);
    }
    let app = state::app_state()?;
    let (db, public_url) = (app.db.clone(), app.config.public_url.clone());
    tokio::spawn(async move {
        if let Err(e) =
            crate::server::accounts::sign_in::request_reset(&db, &public_url, &login).await
        {
            tracing::error!(error = %e, "password reset request failed");
        }
    });
    super::redirect("/reset?sent=1");
    Ok(())
}

/// Sets a new password through a reset link, then sends the member to log in with it.
#[server(endpoint = "reset_password")]
pub async fn reset_password(token: String, new_password: String) -> Result<(), AppError> {
    let result = async {
        super::visitor_or_writer().await?;
        crate::server::accounts::sign_in::complete_reset(&state::db()?, &token, &new_password).await
    }
    .await;
    match result {
        Ok(_) => {
            super::redirect("/login?reset=1");
            Ok(())
        }
        Err(e) => {
            crate::error::set_error_status(&e);
            Err(e)
        }
    }
}

/// Whether a reset link can still be used (the page shows the form or says it expired).
#[server(endpoint = "reset_link_valid")]
pub async fn reset_link_valid(token: String) -> Result<bool, AppError> {
    Ok(
        crate::server::accounts::sign_in::reset_account(&state::db()?, &token)
            .await?
            .is_some(),
    )
}

/// Whether visitors may sign up: "open", "approval" or "closed" (the sign-up page shows no form
/// when closed, only why).
#[server(endpoint = "get_signup_mode")]
pub async fn get_signup_mode() -> Result<String, AppError> {
    crate::server::settings::text(&state::db()?, crate::server::settings::SIGNUP_MODE).await
}
