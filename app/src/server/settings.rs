//! Site settings stored in the database, read on each use so an admin's change applies at once.
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set, sea_query::OnConflict};

use super::{
    auth::require_role,
    entity::{setting, user},
};
use crate::{error::AppError, model::Role};

/// Whether the public /accountability page is shown (default: on).
pub const ACCOUNTABILITY_PUBLIC: &str = "accountability_public";

pub async fn get(conn: &impl ConnectionTrait, key: &str) -> Result<Option<String>, AppError> {
    Ok(setting::Entity::find_by_id(key.to_string())
        .one(conn)
        .await?
        .map(|s| s.value))
}

async fn put(conn: &impl ConnectionTrait, key: &str, value: &str) -> Result<(), AppError> {
    setting::Entity::insert(setting::ActiveModel {
        key: Set(key.into()),
        value: Set(value.into()),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Key)
            .update_column(setting::Column::Value)
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

pub async fn accountability_public(db: &DatabaseConnection) -> Result<bool, AppError> {
    Ok(get(db, ACCOUNTABILITY_PUBLIC).await?.as_deref() != Some("false"))
}

/// Admins switch the public accountability page on or off.
pub async fn set_accountability_public(
    db: &DatabaseConnection,
    actor: &user::Model,
    on: bool,
) -> Result<(), AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    put(db, ACCOUNTABILITY_PUBLIC, if on { "true" } else { "false" }).await
}
