//! Notifications: what the site tells a member about their own posts and account (hidden,
//! held, deleted, approved, suspended), each with the moderator's reason.
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, sea_query::Expr,
};

use super::entity::notification;
use crate::{error::AppError, model::NotificationView};

pub async fn notify(
    conn: &impl ConnectionTrait,
    user_id: i64,
    kind: &str,
    message: &str,
    link: &str,
) -> Result<(), AppError> {
    notification::ActiveModel {
        user_id: Set(user_id),
        kind: Set(kind.into()),
        message: Set(message.into()),
        link: Set(link.into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

pub async fn unread_count(db: &DatabaseConnection, user_id: i64) -> Result<u64, AppError> {
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// The member's latest 50 notifications, newest first.
pub async fn list(
    db: &DatabaseConnection,
    user_id: i64,
) -> Result<Vec<NotificationView>, AppError> {
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id)
        .limit(50)
        .all(db)
        .await?
        .into_iter()
        .map(|n| NotificationView {
            kind: n.kind,
            message: n.message,
            link: n.link,
            created_at: n.created_at,
            unread: n.read_at.is_none(),
        })
        .collect())
}

pub async fn mark_all_read(db: &DatabaseConnection, user_id: i64) -> Result<(), AppError> {
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The admins' welcome message, as the new member's first notification.
pub async fn welcome(db: &DatabaseConnection, user_id: i64) -> Result<(), AppError> {
    let message = super::settings::text(db, super::settings::WELCOME_MESSAGE).await?;
    super::notify::notify(db, user_id, "welcome", &message, "/").await
}
