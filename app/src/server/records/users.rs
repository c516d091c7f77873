//! Members by id.
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
