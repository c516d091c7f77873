//! The review queue's rows: one open item per post a moderator should look at.
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};

use crate::{
    error::AppError,
    server::entity::{post, review_item, topic},
};

/// Why a post is in the queue.
pub const FLAGGED: &str = "flagged";
pub const HELD_NEW: &str = "held_new";
pub const HELD_WORDS: &str = "held_words";
/// Its author edited it after a moderator hid it.
pub const EDITED: &str = "edited";

/// Puts a post in the review queue (one open item per post), with a snapshot of it now.
pub async fn open(
    conn: &impl ConnectionTrait,
    p: &post::Model,
    kind: &str,
) -> Result<(), AppError> {
    let already = review_item::Entity::find()
        .filter(review_item::Column::PostId.eq(p.id))
        .filter(review_item::Column::State.eq("open"))
        .count(conn)
        .await?;
    if already > 0 {
        return Ok(());
    }
    let category_id = topic::Entity::find_by_id(p.topic_id)
        .select_only()
        .column(topic::Column::CategoryId)
        .into_tuple::<i64>()
        .one(conn)
        .await?
        .unwrap_or_default();
    review_item::ActiveModel {
        post_id: Set(p.id),
        kind: Set(kind.into()),
        state: Set("open".into()),
        snapshot_html: Set(p.html.clone()),
        category_id: Set(category_id),
        created_at: Set(Utc::now()),
        resolution: Set(String::new()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}
