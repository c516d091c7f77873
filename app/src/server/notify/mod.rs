//! Notifications: what the site tells a member, on the site and by e-mail. Posting and staff
//! actions call `post_published` and `topic_changed` in their own transaction; those tell the
//! people addressed directly (the topic's author, who was mentioned or quoted) at once and leave
//! a fan-out row for followers and watchers, which the worker (`fan_out_due`) spreads in
//! set-based statements, so a topic with thousands of followers costs its reply one insert.
//! Several replies in a topic collapse into one unread notification ("5 new replies in ...").
pub mod compose;
pub mod digest;
mod events;
mod fan_out;
pub mod following;
pub mod preferences;

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};

pub use events::{Change, names_in, post_published, topic_changed};
pub use fan_out::run_due as fan_out_due;

use self::{compose::Letter, preferences::Mode};
use super::entity::{notification, topic, user};
use crate::{error::AppError, model::NotificationView};

pub const REPLY: &str = "reply";
pub const STAFF_ANSWER: &str = "staff_answer";
pub const STATUS: &str = "status";
pub const ANSWER: &str = "answer";
pub const CONFIRM: &str = "confirm";
pub const MENTION: &str = "mention";
pub const QUOTE: &str = "quote";
pub const NEW_TOPIC: &str = "new_topic";
pub const APPROVED: &str = "approved";

/// Kinds of which one member has at most one unread notification per topic: the next event
/// raises its count.
const COLLAPSING: [&str; 2] = [REPLY, STAFF_ANSWER];

/// What one member is told about a topic.
pub struct Notice {
    pub kind: &'static str,
    pub topic_id: i64,
    pub post_id: Option<i64>,
    pub message: String,
    pub link: String,
    pub staff: bool,
    pub mail_kind: preferences::MailKind,
}

/// Tells one member: into their unread notification of the same kind in the topic when the
/// kind collapses, else a new one; and an e-mail now when their preference says immediately
/// and their address may get mail.
pub async fn tell(
    conn: &impl ConnectionTrait,
    to: &user::Model,
    notice: &Notice,
    letter: &Letter,
) -> Result<(), AppError> {
    let now = Utc::now();
    let collapsed = if COLLAPSING.contains(&notice.kind) {
        notification::Entity::update_many()
            .col_expr(
                notification::Column::Count,
                Expr::col(notification::Column::Count).add(1),
            )
            .col_expr(notification::Column::UpdatedAt, Expr::value(now))
            .filter(notification::Column::UserId.eq(to.id))
            .filter(notification::Column::TopicId.eq(notice.topic_id))
            .filter(notification::Column::Kind.eq(notice.kind))
            .filter(notification::Column::ReadAt.is_null())
            .exec(conn)
            .await?
            .rows_affected
            > 0
    } else {
        false
    };
    if !collapsed {
        notification::ActiveModel {
            user_id: Set(to.id),
            kind: Set(notice.kind.into()),
            message: Set(notice.message.clone()),
            link: Set(notice.link.clone()),
            created_at: Set(now),
            read_at: Set(None),
            topic_id: Set(Some(notice.topic_id)),
            post_id: Set(notice.post_id),
            count: Set(1),
            staff: Set(notice.staff),
            mail_kind: Set(notice.mail_kind.as_str().into()),
            updated_at: Set(Some(now)),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    if preferences::mailable(to)
        && preferences::mode(conn, to.id, notice.mail_kind).await? == Mode::Immediately
    {
        compose::send(conn, to, letter).await?;
    }
    Ok(())
}

/// A notice about the member's own post or account (held, approved, hidden, suspended...),
/// shown on the site only.
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
        count: Set(1),
        staff: Set(false),
        mail_kind: Set(String::new()),
        updated_at: Set(Some(Utc::now())),
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

/// The member's latest 50 notifications, newest activity first; a collapsed one says how many
/// events it stands for.
pub async fn list(
    db: &DatabaseConnection,
    user_id: i64,
) -> Result<Vec<NotificationView>, AppError> {
    let rows = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .order_by_desc(notification::Column::UpdatedAt)
        .order_by_desc(notification::Column::Id)
        .limit(50)
        .all(db)
        .await?;
    let collapsed: Vec<i64> = rows
        .iter()
        .filter(|n| n.count > 1)
        .filter_map(|n| n.topic_id)
        .collect();
    let titles: HashMap<i64, String> = if collapsed.is_empty() {
        HashMap::new()
    } else {
        topic::Entity::find()
            .select_only()
            .column(topic::Column::Id)
            .column(topic::Column::Title)
            .filter(topic::Column::Id.is_in(collapsed))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|n| {
            let title = n.topic_id.and_then(|t| titles.get(&t));
            let message = match (n.kind.as_str(), title) {
                (REPLY, Some(title)) if n.count > 1 => {
                    format!("{} new replies in “{title}”", n.count)
                }
                (STAFF_ANSWER, Some(title)) if n.count > 1 => {
                    format!("{} staff answers in “{title}”", n.count)
                }
                _ => n.message,
            };
            NotificationView {
                id: n.id,
                kind: n.kind,
                message,
                link: n.link,
                created_at: n.updated_at.unwrap_or(n.created_at),
                unread: n.read_at.is_none(),
                staff: n.staff,
                count: n.count,
            }
        })
        .collect())
}

/// Marks one of the member's notifications read and gives where it points; None when it is
/// not theirs.
pub async fn open(
    db: &DatabaseConnection,
    user_id: i64,
    id: i64,
) -> Result<Option<String>, AppError> {
    let Some(n) = notification::Entity::find_by_id(id)
        .filter(notification::Column::UserId.eq(user_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if n.read_at.is_none() {
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
            .filter(notification::Column::Id.eq(id))
            .exec(db)
            .await?;
    }
    Ok(Some(n.link))
}

/// Reading a topic reads its notifications. Costs one indexed read when there is none.
pub async fn mark_topic_read(
    db: &DatabaseConnection,
    user_id: i64,
    topic_id: i64,
) -> Result<(), AppError> {
    let unread = notification::Entity::find()
        .filter(notification::Column::TopicId.eq(topic_id))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?;
    if unread > 0 {
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
            .filter(notification::Column::TopicId.eq(topic_id))
            .filter(notification::Column::UserId.eq(user_id))
            .filter(notification::Column::ReadAt.is_null())
            .exec(db)
            .await?;
    }
    Ok(())
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
    notify(db, user_id, "welcome", &message, "/").await
}

#[cfg(test)]
mod tests;
