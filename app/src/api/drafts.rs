//! A signed-in member's drafts kept on the server (issue 19), for public/forms.js: it saves what
//! is typed in a composer here too (debounced) and, when a composer opens, asks for the draft
//! kept here, so a draft started on one device is offered on another. Only ever the member's
//! own draft; suspended members are refused like any write. Rules in server/drafts.rs.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A member's kept draft, as the script gets it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerDraft {
    pub title: String,
    pub summary: String,
    pub body: String,
    /// When it was kept, in milliseconds since 1970 (the script's `Date.now()` scale).
    pub saved_at: i64,
}

/// The member's draft for the composer `key` (`reply:12`, `topic`, `edit:40`, `article:0`), or
/// nothing. Signed out, refused.
#[server(endpoint = "member_draft")]
pub async fn member_draft(key: String) -> Result<Option<ServerDraft>, AppError> {
    let result = async {
        let user = super::signed_in().await?;
        let db = crate::server::state::db()?;
        let kept = crate::server::drafts::member_draft(&db, user.id, &key).await?;
        Ok(kept.map(|(d, at)| ServerDraft {
            title: d.title,
            summary: d.summary,
            body: d.body,
            saved_at: at.timestamp_millis(),
        }))
    }
    .await;
    if let Err(e) = &result {
        crate::error::set_error_status(e);
    }
    result
}

/// Keeps what the member's composer holds (a blank draft forgets the kept one). Refused, writing
/// nothing, when signed out, suspended, over the posting limits or over the member's room.
#[server(endpoint = "save_member_draft")]
pub async fn save_member_draft(
    key: String,
    #[server(default)] title: String,
    #[server(default)] summary: String,
    #[server(default)] body: String,
) -> Result<(), AppError> {
    let result = async {
        let user = super::writer().await?;
        let db = crate::server::state::db()?;
        let draft = crate::server::drafts::MemberDraft {
            title,
            summary,
            body,
        };
        crate::server::drafts::keep_for_member(&db, user.id, &key, &draft).await
    }
    .await;
    if let Err(e) = &result {
        crate::error::set_error_status(e);
    }
    result
}

/// Forgets the member's draft for `key` ("Discard", or the post landed).
#[server(endpoint = "discard_member_draft")]
pub async fn discard_member_draft(key: String) -> Result<(), AppError> {
    let result = async {
        let user = super::writer().await?;
        if !crate::server::drafts::member_key_valid(&key) {
            return Err(AppError::invalid(
                "key",
                crate::server::drafts::MEMBER_KEY_UNKNOWN,
            ));
        }
        let db = crate::server::state::db()?;
        crate::server::drafts::forget_for_member(&db, user.id, &key).await
    }
    .await;
    if let Err(e) = &result {
        crate::error::set_error_status(e);
    }
    result
}
