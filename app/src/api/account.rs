//! The member's own e-mail settings on /account, and the links e-mails carry that work without
//! signing in (unsubscribe).
use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{AccountEmail, MailSettings, ProfileForm, UnsubscribeView},
};

#[cfg(feature = "ssr")]
use crate::server::{accounts, state};

/// The Notifications section of /account.
#[server(endpoint = "mail_settings")]
pub async fn get_mail_settings() -> Result<MailSettings, AppError> {
    let me = super::signed_in().await?;
    accounts::preferences::mail_settings(&state::db()?, &me).await
}

/// Saves the Notifications section in one go. `modes` maps each kind to its mode
/// (`modes[answers]=digest`); a checkbox left unticked is not sent at all.
#[server(endpoint = "save_mail_settings")]
pub async fn save_mail_settings(
    #[server(default)] modes: std::collections::HashMap<String, String>,
    follow_on_start: Option<String>,
    follow_on_reply: Option<String>,
    follow_on_vote: Option<String>,
    #[server(default)] time_zone: String,
) -> Result<(), AppError> {
    let form = accounts::preferences::MailForm {
        modes,
        follow_on_start: follow_on_start.is_some(),
        follow_on_reply: follow_on_reply.is_some(),
        follow_on_vote: follow_on_vote.is_some(),
        time_zone,
    };
    let result = async {
        let me = super::writer().await?;
        accounts::preferences::save_mail_settings(&state::db()?, me.id, form).await
    }
    .await;
    done_or_error(result, "/account?saved=1#notifications")
}

/// The Profile section of /account.
#[server(endpoint = "profile")]
pub async fn get_profile() -> Result<ProfileForm, AppError> {
    let me = super::signed_in().await?;
    Ok(accounts::profile::form(&me))
}

/// Saves the display name and bio. Refused as a whole (every field's problem at once, with
/// what was typed kept for the form) or saved as a whole.
#[server(endpoint = "save_profile")]
pub async fn save_profile(
    display_name: String,
    #[server(default)] bio: String,
) -> Result<(), AppError> {
    let result = async {
        let me = super::writer().await?;
        accounts::profile::save(&state::db()?, me.id, &display_name, &bio).await
    }
    .await
    .map_err(|e| {
        if state::plain_form() {
            e.in_form(
                "profile",
                vec![("display_name".into(), display_name), ("bio".into(), bio)],
            )
        } else {
            e
        }
    });
    done_or_error(result, "/account?profile=saved#profile")
}

/// After a form: on to `target`, or the error with its status.
#[cfg(feature = "ssr")]
fn done_or_error(result: Result<(), AppError>, target: &str) -> Result<(), AppError> {
    match result {
        Ok(()) => {
            super::redirect(target);
            Ok(())
        }
        Err(e) => {
            crate::error::set_error_status(&e);
            Err(e)
        }
    }
}

/// What an unsubscribe link would stop, for its page; changes nothing (link scanners open it).
#[server(endpoint = "unsubscribe_view")]
pub async fn get_unsubscribe_view(token: String) -> Result<UnsubscribeView, AppError> {
    accounts::preferences::unsubscribe_view(&state::db()?, &token).await
}

/// The E-mail address section of /account.
#[server(endpoint = "account_email")]
pub async fn get_account_email() -> Result<AccountEmail, AppError> {
    let me = super::signed_in().await?;
    let db = state::db()?;
    Ok(AccountEmail {
        confirmed: crate::server::notify::preferences::mailable(&me),
        pending: accounts::addresses::pending_change(&db, &me).await?,
        email: me.email,
    })
}

/// Asks to change the member's address: it changes when the new address confirms.
#[server(endpoint = "change_email")]
pub async fn change_email(email: String) -> Result<(), AppError> {
    let result = async {
        let me = super::writer().await?;
        accounts::addresses::request_change(&state::db()?, me.id, &email).await
    }
    .await;
    done_or_error(result, "/account?email_sent=1#email")
}

/// Sends a new confirmation link to the member's current address.
#[server(endpoint = "resend_confirmation")]
pub async fn resend_confirmation() -> Result<(), AppError> {
    let result = async {
        let me = super::writer().await?;
        accounts::addresses::resend_confirmation(&state::db()?, me.id).await
    }
    .await;
    done_or_error(result, "/account?email_sent=1#email")
}

/// Takes the member's avatar away: their initials show instead. The picture's bytes go with the
/// next sweep.
#[server(endpoint = "remove_avatar")]
pub async fn remove_avatar() -> Result<(), AppError> {
    let result = async {
        let me = super::writer().await?;
        crate::server::uploads::avatar::remove(&state::db()?, me.id).await
    }
    .await;
    done_or_error(result, "/account?avatar=removed#avatar")
}

/// Whether a confirmation link can still be used (its page shows the button or says why not).
#[server(endpoint = "confirm_link_valid")]
pub async fn confirm_link_valid(token: String) -> Result<bool, AppError> {
    Ok(
        accounts::addresses::confirmation_link(&state::db()?, &token)
            .await?
            .is_some(),
    )
}

/// Uses a confirmation link. The link is the authority, so no sign-in is needed; a suspended
/// member signed in on this browser is refused like any other write.
#[server(endpoint = "confirm_email")]
pub async fn confirm_email(token: String) -> Result<(), AppError> {
    let result = async {
        super::visitor_or_writer().await?;
        accounts::addresses::confirm(&state::db()?, &token)
            .await
            .map(|_| ())
    }
    .await;
    done_or_error(result, "/account?confirmed=1#email")
}
