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
/// Votes on an idea that arrived in a burst (`post_id` is the idea's opening post); decided
/// by the ideas feature, never by an action on the post.
pub const VOTE_BURST: &str = "vote_burst";

/// Puts a post in the review queue (one open item per post), with a snapshot of it now.
pub async fn open(
    conn: &impl ConnectionTrait,
    p: &post::Model,
    kind: &str,
) -> Result<(), AppError> {
    let already = review_item::Entity::find()
        .filter(review_item::Column::PostId.eq(p.id))
        .filter(review_item::Column::Kind.ne(VOTE_BURST))
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

/// Posts removed wholesale (a spammer's, a deleted account's): their open flags are upheld and
/// their queue items resolved as `resolution`, by `by`, so nothing is left to decide about them.
pub async fn close_for_removed(
    conn: &impl ConnectionTrait,
    post_ids: &[i64],
    by: i64,
    resolution: &str,
) -> Result<(), AppError> {
    use crate::server::entity::flag;
    use sea_orm::sea_query::Expr;
    let now = Utc::now();
    flag::Entity::update_many()
        .col_expr(flag::Column::State, Expr::value("upheld"))
        .col_expr(flag::Column::ResolvedAt, Expr::value(now))
        .filter(flag::Column::PostId.is_in(post_ids.iter().copied()))
        .filter(flag::Column::State.eq("open"))
        .exec(conn)
        .await?;
    review_item::Entity::update_many()
        .col_expr(review_item::Column::State, Expr::value("resolved"))
        .col_expr(review_item::Column::ResolvedAt, Expr::value(now))
        .col_expr(review_item::Column::ResolvedBy, Expr::value(by))
        .col_expr(review_item::Column::Resolution, Expr::value(resolution))
        .filter(review_item::Column::PostId.is_in(post_ids.iter().copied()))
        .filter(review_item::Column::Kind.ne(VOTE_BURST))
        .filter(review_item::Column::State.eq("open"))
        .exec(conn)
        .await?;
    Ok(())
}
