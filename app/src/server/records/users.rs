//! Members by id, and whether a moderator may act on one.
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::error::AppError;
use crate::server::entity::user;

pub async fn member(conn: &impl ConnectionTrait, id: i64) -> Result<user::Model, AppError> {
    user::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(MEMBER_MISSING.into()))
}

pub const MEMBER_MISSING: &str = "There is no such member.";

/// `auth::check_may_act_on` for the author of a post the moderator acts on.
pub async fn check_may_act_on_author(
    conn: &impl ConnectionTrait,
    moderator: &user::Model,
    author_id: i64,
) -> Result<(), AppError> {
    let author = user::Entity::find_by_id(author_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(crate::server::visibility::POST_MISSING.into()))?;
    crate::server::auth::check_may_act_on(moderator, &author)
}
