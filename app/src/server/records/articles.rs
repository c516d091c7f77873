//! What an article row is: its state at a time, its address (the article whose comments a topic
//! holds: `visibility::article_of`).

use crate::model::Role;
use crate::server::entity::user;
use sea_orm::prelude::DateTimeUtc;

use crate::server::entity::article;
use crate::{
    error::AppError,
    model::{ArticleState, article_url},
};

pub fn state_of(a: &article::Model, now: DateTimeUtc) -> ArticleState {
    match (a.status.as_str(), a.published_at) {
        ("published", Some(at)) if at <= now => ArticleState::Published,
        ("published", Some(_)) => ArticleState::Scheduled,
        _ => ArticleState::Draft,
    }
}

/// Where an article is, for links.
pub fn url_of(a: &article::Model) -> String {
    article_url(&a.slug, 1)
}

/// Staff, moderators and admins write articles.
pub fn may_write(u: &user::Model) -> Result<(), AppError> {
    if u.role().is_staff() {
        Ok(())
    } else {
        Err(AppError::Forbidden(STAFF_ONLY.into()))
    }
}

/// An article is edited by its author (while staff) or by an admin.
pub fn may_edit(u: &user::Model, a: &article::Model) -> Result<(), AppError> {
    may_write(u)?;
    if u.id == a.author_id || u.role() == Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden(NOT_YOUR_ARTICLE.into()))
    }
}

pub const STAFF_ONLY: &str = "Only staff can write articles.";

pub const NOT_YOUR_ARTICLE: &str = "Only the article's author or an admin can edit it.";
