//! Site settings stored in the database, read on each use so an admin's change applies at once.
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set, sea_query::OnConflict};

use super::{
    auth::require_role,
    entity::{setting, user},
};
use crate::{error::AppError, model::Role};

/// Whether the public /accountability page is shown (default: on).
pub const ACCOUNTABILITY_PUBLIC: &str = "accountability_public";
/// Whether the public /moderation page is shown (default: on).
pub const MODERATION_LOG_PUBLIC: &str = "moderation_log_public";

/// Texts admins set, with their defaults.
pub const SITE_NAME: (&str, &str) = ("site_name", "Backyard");
pub const SITE_TAGLINE: (&str, &str) = (
    "site_tagline",
    "Ask questions, share feedback and ideas, report problems. Our team reads everything and answers here.",
);
pub const WELCOME_MESSAGE: (&str, &str) = (
    "welcome_message",
    "Welcome! Say hello, ask your first question or tell us what you think: the team reads everything.",
);
/// open | closed | approval
pub const SIGNUP_MODE: (&str, &str) = ("signup_mode", "open");

pub async fn text(
    conn: &impl ConnectionTrait,
    (key, default): (&str, &str),
) -> Result<String, AppError> {
    Ok(get(conn, key).await?.unwrap_or_else(|| default.to_string()))
}

/// Numbers admins set, with their defaults.
pub const FLAG_THRESHOLD: (&str, i64) = ("flag_threshold", 3);
/// How many of a new member's first posts wait for approval (0: none).
pub const NEW_MEMBER_HOLD: (&str, i64) = ("new_member_hold_posts", 1);
pub const POSTS_PER_10_MIN: (&str, i64) = ("rate_posts_per_10_min", 10);
pub const TOPICS_PER_HOUR: (&str, i64) = ("rate_topics_per_hour", 5);
pub const FLAGS_PER_HOUR: (&str, i64) = ("rate_flags_per_hour", 20);
/// A session ends after this many hours without a visit (default 30 days)...
pub const SESSION_IDLE_HOURS: (&str, i64) = ("session_idle_hours", 720);
/// ...and, however active, this many hours after signing in (default 90 days).
pub const SESSION_MAX_HOURS: (&str, i64) = ("session_max_hours", 2160);

/// A number setting, or its default when unset or unreadable.
pub async fn number(
    conn: &impl ConnectionTrait,
    (key, default): (&str, i64),
) -> Result<i64, AppError> {
    Ok(get(conn, key)
        .await?
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default))
}

pub async fn flag(conn: &impl ConnectionTrait, key: &str, default: bool) -> Result<bool, AppError> {
    Ok(match get(conn, key).await?.as_deref() {
        Some("true") => true,
        Some("false") => false,
        _ => default,
    })
}

/// Admins change a setting.
pub async fn set(
    db: &DatabaseConnection,
    actor: &user::Model,
    key: &str,
    value: &str,
) -> Result<(), AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    put(db, key, value).await
}

pub async fn get(conn: &impl ConnectionTrait, key: &str) -> Result<Option<String>, AppError> {
    Ok(setting::Entity::find_by_id(key.to_string())
        .one(conn)
        .await?
        .map(|s| s.value))
}

/// Stores a setting (the permission check is the caller's: `set` for admins, tests directly).
pub async fn put(conn: &impl ConnectionTrait, key: &str, value: &str) -> Result<(), AppError> {
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
    flag(db, ACCOUNTABILITY_PUBLIC, true).await
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
