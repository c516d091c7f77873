//! Who follows or mutes a topic, and who watches a category.
use chrono::Utc;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};

use crate::{
    error::AppError,
    server::{
        batch::Batch,
        db::numbered,
        entity::{category_watch, topic_follow, user},
    },
};

pub const FOLLOWING: &str = "following";
pub const MUTED: &str = "muted";

/// A member's relation to a topic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Level {
    /// Every reply and change (the default for topics one started or replied to).
    Following,
    /// Only what is addressed to them: answers on their own topic, mentions, quotes.
    #[default]
    Normal,
    /// Nothing at all from this topic.
    Muted,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            FOLLOWING => Some(Level::Following),
            "normal" => Some(Level::Normal),
            MUTED => Some(Level::Muted),
            _ => None,
        }
    }

    /// The level a stored row says (normal has no row; anything unknown reads as normal).
    pub fn parse_stored(s: &str) -> Level {
        match s {
            FOLLOWING => Level::Following,
            MUTED => Level::Muted,
            _ => Level::Normal,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Following => FOLLOWING,
            Level::Normal => "normal",
            Level::Muted => MUTED,
        }
    }
}

pub const LEVEL_UNKNOWN: &str = "Choose following, normal or muted.";

pub async fn level(
    conn: &impl ConnectionTrait,
    user_id: i64,
    topic_id: i64,
) -> Result<Level, AppError> {
    let row = topic_follow::Entity::find_by_id((user_id, topic_id))
        .one(conn)
        .await?;
    Ok(row.map_or(Level::Normal, |r| Level::parse_stored(&r.level)))
}

/// Sets the member's level for a topic (normal removes the row).
pub async fn set_level(
    conn: &impl ConnectionTrait,
    user_id: i64,
    topic_id: i64,
    level: Level,
) -> Result<(), AppError> {
    if level == Level::Normal {
        topic_follow::Entity::delete_many()
            .filter(topic_follow::Column::UserId.eq(user_id))
            .filter(topic_follow::Column::TopicId.eq(topic_id))
            .exec(conn)
            .await?;
        return Ok(());
    }
    topic_follow::Entity::insert(row(user_id, topic_id, level))
        .on_conflict(
            OnConflict::columns([topic_follow::Column::UserId, topic_follow::Column::TopicId])
                .update_column(topic_follow::Column::Level)
                // Since when, if the level changes: the worker tells a follower only of what
                // came after. Pressing "Following" again keeps the time (a reply waiting in the
                // queue was made while they followed).
                .value(
                    topic_follow::Column::CreatedAt,
                    Expr::cust(
                        "CASE WHEN topic_follows.level = excluded.level \
                         THEN topic_follows.created_at ELSE excluded.created_at END",
                    ),
                )
                .to_owned(),
        )
        .exec(conn)
        .await?;
    Ok(())
}

fn row(user_id: i64, topic_id: i64, level: Level) -> topic_follow::ActiveModel {
    topic_follow::ActiveModel {
        user_id: Set(user_id),
        topic_id: Set(topic_id),
        level: Set(level.as_str().into()),
        created_at: Set(Utc::now()),
    }
}

/// The author of a post being written in the same round trip (the last numbered in topic
/// `topic_id`, `posting::write`) follows the topic if their preference for starting a topic,
/// or for replying (an article's comment too), says so: which one is known when the post is
/// numbered, so the condition is in the statement (held in `later`). A level they chose
/// already stays.
pub fn follow_on_numbered_post(
    backend: DbBackend,
    author: &user::Model,
    topic_id: i64,
    later: &mut Batch,
) {
    let (start, reply) = (author.follow_on_start, author.follow_on_reply);
    if !start && !reply {
        return;
    }
    let mut values: Vec<sea_orm::Value> = vec![
        author.id.into(),
        topic_id.into(),
        Level::Following.as_str().into(),
        Utc::now().into(),
    ];
    // Only one of the two: the post's number decides (1 opens a forum topic; an article's
    // first comment is a reply, as its notices say). SQLite reads an upsert's SELECT right
    // only with a WHERE.
    let condition = if start == reply {
        "TRUE"
    } else {
        values.push(start.into());
        "((SELECT t.last_post_number FROM topics t WHERE t.id = $2) = 1
          AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.topic_id = $2)) = $5"
    };
    later.push(numbered(
        backend,
        &format!(
            "INSERT INTO topic_follows (user_id, topic_id, level, created_at)
             SELECT $1, $2, $3, $4 WHERE {condition}
             ON CONFLICT (user_id, topic_id) DO NOTHING"
        ),
        values,
    ));
}

/// Follows the topic unless the member already chose a level for it (voting on an idea, when
/// their preference says so).
pub async fn follow(
    conn: &impl ConnectionTrait,
    user_id: i64,
    topic_id: i64,
) -> Result<(), AppError> {
    follow_all(conn, [(user_id, topic_id)]).await
}

/// `follow` for each (member, topic), in one statement.
pub async fn follow_all(
    conn: &impl ConnectionTrait,
    pairs: impl IntoIterator<Item = (i64, i64)>,
) -> Result<(), AppError> {
    let rows: Vec<_> = pairs
        .into_iter()
        .map(|(user_id, topic_id)| row(user_id, topic_id, Level::Following))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    topic_follow::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([topic_follow::Column::UserId, topic_follow::Column::TopicId])
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

pub async fn watches(
    conn: &impl ConnectionTrait,
    user_id: i64,
    category_id: i64,
) -> Result<bool, AppError> {
    Ok(category_watch::Entity::find_by_id((user_id, category_id))
        .one(conn)
        .await?
        .is_some())
}

pub async fn set_watch(
    conn: &impl ConnectionTrait,
    user_id: i64,
    category_id: i64,
    watch: bool,
) -> Result<(), AppError> {
    if !watch {
        category_watch::Entity::delete_many()
            .filter(category_watch::Column::UserId.eq(user_id))
            .filter(category_watch::Column::CategoryId.eq(category_id))
            .exec(conn)
            .await?;
        return Ok(());
    }
    category_watch::Entity::insert(category_watch::ActiveModel {
        user_id: Set(user_id),
        category_id: Set(category_id),
        created_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([
        category_watch::Column::UserId,
        category_watch::Column::CategoryId,
    ])
    .exec(conn)
    .await?;
    Ok(())
}
