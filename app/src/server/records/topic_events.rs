//! A topic's history (`topic_events`): statuses with their notes, official answers, "no reply
//! needed", confirmations and reopenings. The response clock reads the latest status, "no reply
//! needed" and reopening from here (see `posting::settle`).
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::{
    error::AppError,
    server::{content::strip_direction_overrides, entity::topic_event},
};

/// Staff set a status (`detail` is the status).
pub const STATUS: &str = "status";
/// Staff took the topic out of the queue without replying (the note says why; staff only).
pub const NO_REPLY_NEEDED: &str = "no_reply_needed";
/// Back to open and into the queue.
pub const REOPENED: &str = "reopened";
pub const ANSWER: &str = "answer";
pub const UNANSWER: &str = "unanswer";
pub const CONFIRMED: &str = "confirmed";
/// Staff merged the idea into another (`detail` is the original's id).
pub const MERGED: &str = "merged";
/// A moderator archived the topic's category: it leaves the queue.
pub const CATEGORY_ARCHIVED: &str = "category_archived";

#[allow(clippy::too_many_arguments)]
/// The events that start or end a topic's wait for staff (`posting::settle`): the latest of
/// them decides.
pub const CLOCK_EVENTS: [&str; 5] = [REOPENED, STATUS, NO_REPLY_NEEDED, CATEGORY_ARCHIVED, MERGED];

pub async fn record(
    conn: &impl ConnectionTrait,
    topic_id: i64,
    actor_id: Option<i64>,
    kind: &str,
    detail: &str,
    note: &str,
    staff_only: bool,
) -> Result<(), AppError> {
    topic_event::ActiveModel {
        topic_id: Set(topic_id),
        actor_id: Set(actor_id),
        kind: Set(kind.into()),
        detail: Set(detail.into()),
        // Typed by staff and shown to them (and a status's to everyone): never out of the
        // order it was written in.
        note: Set(strip_direction_overrides(note).into_owned()),
        staff_only: Set(staff_only),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// SQL for `column` of the latest of topic `t`'s events that decide its wait (`CLOCK_EVENTS`),
/// for statements over topics `t`: `settle` reads it, restoring a category selects by it.
pub fn latest_clock_event_sql(column: &str) -> String {
    let kinds = CLOCK_EVENTS.map(|k| format!("'{k}'")).join(", ");
    format!(
        "(SELECT e.{column} FROM topic_events e WHERE e.topic_id = t.id AND e.kind IN ({kinds})
           ORDER BY e.created_at DESC, e.id DESC LIMIT 1)"
    )
}

/// The kind of the latest of `topic_id`'s events that decide its wait (`CLOCK_EVENTS`).
pub async fn latest_clock_event(
    conn: &impl ConnectionTrait,
    topic_id: i64,
) -> Result<Option<String>, AppError> {
    Ok(topic_event::Entity::find()
        .filter(topic_event::Column::TopicId.eq(topic_id))
        .filter(topic_event::Column::Kind.is_in(CLOCK_EVENTS))
        .order_by_desc(topic_event::Column::CreatedAt)
        .order_by_desc(topic_event::Column::Id)
        .one(conn)
        .await?
        .map(|e| e.kind))
}
