//! The derived figures of a topic and its category, recomputed from the rows after every change
//! of a post's state or a topic's status: never patched in place, so no order of actions can
//! leave them wrong. (A property test in `lifecycle_properties` checks them after random
//! sequences of actions.)
//!
//! - post count: the topic's visible posts; last activity: the latest time one became public.
//! - listed: the opening post is visible or hidden (a hidden one leaves its place, marked); a
//!   held or deleted opening post takes the topic out of every list. An article's comment topic
//!   has no opening post of its own and is listed with its article.
//! - first staff reply: the earliest time a staff reply that is visible now became public (its
//!   creation, or its approval if it was held). None for a topic staff started: no clock runs.
//! - awaiting staff: since the topic's creation, or its latest reopening, unless staff have
//!   answered (a visible staff reply public since then) or decided (a status, or "no reply
//!   needed", or its category archived, or a merge into another idea, after it). A topic whose opening post is held waits too (the queue shows it as
//!   waiting for approval); one whose opening post is hidden or deleted does not.
//! - category: its listed topics, the sum of their post counts, its latest activity.
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    error::AppError,
    model::PostState,
    server::{
        entity::{article, category, post, topic, topic_event},
        records::topic_events,
        visibility::TOPIC_MISSING,
    },
};

/// What a topic adds to its category's figures.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Share {
    listed: bool,
    posts: i32,
}

impl Share {
    fn of(t: &topic::Model) -> Share {
        Share {
            listed: t.visible,
            posts: if t.visible { t.post_count } else { 0 },
        }
    }
}

/// Recomputes the topic's figures (and its category's) from its posts and history. Runs in the
/// caller's write transaction, after the change.
pub async fn settle(txn: &impl ConnectionTrait, topic_id: i64) -> Result<topic::Model, AppError> {
    // Locked first, so two moderators acting on two posts of one topic at once settle one after
    // the other, each counting the other's change.
    let before = crate::server::records::topics::locked(txn, topic_id)
        .await?
        .ok_or_else(|| AppError::NotFound(TOPIC_MISSING.into()))?;
    let visible = || {
        post::Entity::find()
            .filter(post::Column::TopicId.eq(topic_id))
            .filter(post::Column::State.eq(PostState::Visible.as_str()))
    };
    let post_count = visible().count(txn).await? as i32;
    let last_public: Option<DateTimeUtc> = visible()
        .select_only()
        .column_as(post::Column::PublishedAt.max(), "at")
        .into_tuple::<Option<DateTimeUtc>>()
        .one(txn)
        .await?
        .flatten();
    let opening = post::Entity::find()
        .filter(post::Column::TopicId.eq(topic_id))
        .filter(post::Column::PostNumber.eq(1))
        .select_only()
        .column(post::Column::State)
        .into_tuple::<String>()
        .one(txn)
        .await?
        .map(|s| PostState::parse(&s));
    let is_article_topic = article::Entity::find()
        .filter(article::Column::TopicId.eq(topic_id))
        .count(txn)
        .await?
        > 0;
    let listed =
        is_article_topic || matches!(opening, Some(PostState::Visible | PostState::Hidden));

    let staff_replies = || {
        visible()
            .filter(post::Column::PostNumber.gt(1))
            .filter(post::Column::IsStaffReply.eq(true))
    };
    let first_staff_reply_at = if before.started_by_staff {
        None
    } else {
        staff_replies()
            .select_only()
            .column_as(post::Column::PublishedAt.min(), "at")
            .into_tuple::<Option<DateTimeUtc>>()
            .one(txn)
            .await?
            .flatten()
    };

    let awaiting_staff_since = if before.started_by_staff
        || !matches!(opening, Some(PostState::Visible | PostState::Pending))
    {
        None
    } else {
        let latest = topic_event::Entity::find()
            .filter(topic_event::Column::TopicId.eq(topic_id))
            .filter(topic_event::Column::Kind.is_in([
                topic_events::REOPENED,
                topic_events::STATUS,
                topic_events::NO_REPLY_NEEDED,
                topic_events::CATEGORY_ARCHIVED,
                topic_events::MERGED,
            ]))
            .order_by_desc(topic_event::Column::CreatedAt)
            .order_by_desc(topic_event::Column::Id)
            .one(txn)
            .await?;
        let wait_start = match &latest {
            None => Some(before.created_at),
            Some(e) if e.kind == topic_events::REOPENED => Some(e.created_at),
            Some(_) => None,
        };
        match wait_start {
            None => None,
            Some(start) => {
                let answered = staff_replies()
                    .filter(post::Column::PublishedAt.gte(start))
                    .count(txn)
                    .await?
                    > 0;
                (!answered).then_some(start)
            }
        }
    };

    let last_posted_at = last_public.unwrap_or(before.created_at);
    let after = topic::Model {
        post_count,
        last_posted_at,
        visible: listed,
        first_staff_reply_at,
        awaiting_staff_since,
        ..before.clone()
    };
    if after != before {
        topic::Entity::update_many()
            .col_expr(topic::Column::PostCount, Expr::value(post_count))
            .col_expr(topic::Column::LastPostedAt, Expr::value(last_posted_at))
            .col_expr(topic::Column::Visible, Expr::value(listed))
            .col_expr(
                topic::Column::FirstStaffReplyAt,
                Expr::value(first_staff_reply_at),
            )
            .col_expr(
                topic::Column::AwaitingStaffSince,
                Expr::value(awaiting_staff_since),
            )
            .filter(topic::Column::Id.eq(topic_id))
            .exec(txn)
            .await?;
        recount_category(txn, before.category_id, Some(&before), Some(&after)).await?;
    }
    Ok(after)
}

/// Moves a topic to another category, taking its share of the figures with it.
pub async fn move_topic(
    txn: &impl ConnectionTrait,
    t: &topic::Model,
    to_category: i64,
) -> Result<(), AppError> {
    topic::Entity::update_many()
        .col_expr(topic::Column::CategoryId, Expr::value(to_category))
        .filter(topic::Column::Id.eq(t.id))
        .exec(txn)
        .await?;
    recount_category(txn, t.category_id, Some(t), None).await?;
    let moved = topic::Model {
        category_id: to_category,
        ..t.clone()
    };
    recount_category(txn, to_category, None, Some(&moved)).await
}

/// A category's figures after one of its topics changed from `before` to `after` (None: not in
/// it). The counts move by the difference of the topic's share, which was itself recomputed, so
/// a category of many topics is never summed again per post; its latest activity is looked up
/// again only when the topic that held it moved back or left.
async fn recount_category(
    txn: &impl ConnectionTrait,
    category_id: i64,
    before: Option<&topic::Model>,
    after: Option<&topic::Model>,
) -> Result<(), AppError> {
    let none = Share {
        listed: false,
        posts: 0,
    };
    let (old, new) = (
        before.map(Share::of).unwrap_or(none),
        after.map(Share::of).unwrap_or(none),
    );
    // Added, not written, so concurrent writers in one category (on PostgreSQL) add up; the
    // update also takes the category's row lock, so the latest activity below is read and
    // written by one writer at a time.
    category::Entity::update_many()
        .col_expr(
            category::Column::TopicCount,
            Expr::col(category::Column::TopicCount)
                .add(i32::from(new.listed) - i32::from(old.listed)),
        )
        .col_expr(
            category::Column::PostCount,
            Expr::col(category::Column::PostCount).add(new.posts - old.posts),
        )
        .filter(category::Column::Id.eq(category_id))
        .exec(txn)
        .await?;
    let Some(c) = category::Entity::find_by_id(category_id).one(txn).await? else {
        return Ok(());
    };
    let old_last = before.filter(|t| t.visible).map(|t| t.last_posted_at);
    let new_last = after.filter(|t| t.visible).map(|t| t.last_posted_at);
    let last = if old_last.is_some() && old_last == c.last_posted_at && new_last < old_last {
        topic::Entity::find()
            .filter(topic::Column::CategoryId.eq(category_id))
            .filter(topic::Column::Visible.eq(true))
            .select_only()
            .column_as(topic::Column::LastPostedAt.max(), "at")
            .into_tuple::<Option<DateTimeUtc>>()
            .one(txn)
            .await?
            .flatten()
    } else {
        std::cmp::max(c.last_posted_at, new_last)
    };
    if last != c.last_posted_at {
        category::Entity::update_many()
            .col_expr(category::Column::LastPostedAt, Expr::value(last))
            .filter(category::Column::Id.eq(category_id))
            .exec(txn)
            .await?;
    }
    Ok(())
}
