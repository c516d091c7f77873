//! Destructive actions ask first. Their server functions act only when the form carries
//! `confirmed`: with JavaScript, /forms.js asks in a dialog and adds it; without, the post
//! lands on /confirm, which says what will happen and posts the same fields with it. So a
//! form that skipped the question (no JavaScript, a script, a stale page) never deletes.
use leptos::prelude::*;

use crate::{error::AppError, model::Confirmation};

#[cfg(feature = "ssr")]
use crate::server::state;

/// What `action` will do, for /confirm. Refused, like the action, to anyone without the right.
#[server(endpoint = "confirmation")]
pub async fn get_confirmation(
    action: String,
    id: i64,
    option: String,
    reason: String,
) -> Result<Confirmation, AppError> {
    use crate::server::views::confirm::{DELETE_ACCOUNT, DELETE_POST, REMOVE_SPAMMER, describe};
    use leptos::server_fn::ServerFn;
    let user = super::signed_in().await?;
    let mut confirmation = describe(&state::db()?, &user, &action, id, &option, &reason).await?;
    confirmation.endpoint = match action.as_str() {
        DELETE_ACCOUNT => super::admin::DeleteAccount::url(),
        REMOVE_SPAMMER => super::moderation::RemoveSpammer::url(),
        DELETE_POST => super::moderation::ModeratePost::url(),
        _ => return Err(AppError::Internal),
    }
    .to_string();
    Ok(confirmation)
}
