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
    use crate::server::views::confirm::{
        DELETE_ACCOUNT, DELETE_POST, DELETE_POSTS, REMOVE_SPAMMER,
    };
    use leptos::server_fn::ServerFn;
    let user = super::signed_in().await?;
    let mut confirmation =
        confirmation(&state::db()?, &user, &action, id, &option, &reason).await?;
    confirmation.endpoint = match action.as_str() {
        DELETE_ACCOUNT => super::admin::DeleteAccount::url(),
        REMOVE_SPAMMER => super::moderation::RemoveSpammer::url(),
        DELETE_POST => super::moderation::ModeratePost::url(),
        DELETE_POSTS => super::moderation::ModerateBulk::url(),
        _ => return Err(AppError::Internal),
    }
    .to_string();
    Ok(confirmation)
}

/// What the action `action` (see `views::confirm`) will do, checked as the
/// action is: the confirmation page's words, and the check before it is asked.
#[cfg(feature = "ssr")]
pub(crate) async fn confirmation(
    db: &sea_orm::DatabaseConnection,
    user: &crate::server::entity::user::Model,
    action: &str,
    id: i64,
    option: &str,
    reason: &str,
) -> Result<Confirmation, AppError> {
    if action == crate::server::views::confirm::DELETE_POSTS {
        let items: Vec<i64> = option
            .split(',')
            .filter_map(|id| id.trim().parse().ok())
            .collect();
        return crate::server::moderation::bulk_delete_confirmation(db, user, &items, reason).await;
    }
    crate::server::views::confirm::describe(db, user, action, id, option, reason).await
}
