//! Bursts: more than N votes on one idea, within a short window, from accounts created within
//! M minutes of each other or from one address range. Their votes wait (pending, held by one
//! review item per idea in the moderation queue) until a moderator accepts them (they count)
//! or rejects them (they go, and their accounts are flagged: later votes wait for review too).
use std::collections::{HashMap, HashSet};

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, prelude::DateTimeUtc, sea_query::Expr,
};

use super::Thresholds;
use crate::{
    error::AppError,
    model::Role,
    server::{
        auth::require_role,
        db::begin_write,
        entity::{post, review_item, topic, user, vote},
        records::{
            moderation_log,
            review_items::VOTE_BURST,
            votes::{self, COUNTED, HELD_BURST, PENDING},
        },
    },
};

pub const NOT_A_BURST: &str = "That review item is not a burst of votes waiting for a decision.";

/// At most this many of an idea's latest votes are looked at: a burst is recent by definition.
const LOOK_BACK: u64 = 1000;

/// The votes a burst at `now` is made of: cast within the window, not moved away by a merge.
fn in_window(thresholds: &Thresholds, now: DateTimeUtc) -> sea_orm::Select<vote::Entity> {
    let since = now - Duration::minutes(thresholds.burst_window_minutes);
    vote::Entity::find()
        .filter(vote::Column::CreatedAt.gte(since))
        .filter(vote::Column::State.ne(votes::MERGED))
}

/// The ideas among `topic_ids` with more than the burst limit of votes since the window
/// opened: only they can hold a burst, and most ideas are not near one (one query for a batch
/// of votes).
pub(super) async fn crowded(
    txn: &impl ConnectionTrait,
    topic_ids: &[i64],
    thresholds: &Thresholds,
    now: DateTimeUtc,
) -> Result<HashSet<i64>, AppError> {
    let limit = thresholds.burst_votes;
    if limit <= 0 || topic_ids.is_empty() {
        return Ok(HashSet::new());
    }
    let counts: Vec<(i64, i64)> = in_window(thresholds, now)
        .select_only()
        .column(vote::Column::TopicId)
        .column_as(vote::Column::Id.count(), "n")
        .filter(vote::Column::TopicId.is_in(topic_ids.iter().copied()))
        .group_by(vote::Column::TopicId)
        .into_tuple()
        .all(txn)
        .await?;
    Ok(counts
        .into_iter()
        .filter(|&(_, n)| n > limit)
        .map(|(id, _)| id)
        .collect())
}

/// After the votes of `voters` on `t` (cast at `now`): finds the burst each belongs to, if any,
/// and holds its votes in the idea's open burst review (opened now if there is none); gives the
/// votes it now holds.
pub(super) async fn check(
    txn: &impl ConnectionTrait,
    t: &topic::Model,
    voters: &[&user::Model],
    thresholds: &Thresholds,
    now: DateTimeUtc,
) -> Result<HashSet<i64>, AppError> {
    let limit = thresholds.burst_votes;
    if limit <= 0 || voters.is_empty() {
        return Ok(HashSet::new());
    }
    let recent = in_window(thresholds, now)
        .filter(vote::Column::TopicId.eq(t.id))
        .order_by_desc(vote::Column::CreatedAt)
        .limit(LOOK_BACK)
        .all(txn)
        .await?;
    // A burst needs more than `limit` votes: most votes are not near one.
    if (recent.len() as i64) <= limit {
        return Ok(HashSet::new());
    }
    let accounts: HashMap<i64, (DateTimeUtc, String)> = user::Entity::find()
        .select_only()
        .columns([
            user::Column::Id,
            user::Column::CreatedAt,
            user::Column::Role,
        ])
        .filter(user::Column::Id.is_in(recent.iter().map(|v| v.user_id)))
        .into_tuple::<(i64, DateTimeUtc, String)>()
        .all(txn)
        .await?
        .into_iter()
        .map(|(id, at, role)| (id, (at, role)))
        .collect();
    // Staff votes are never part of a burst.
    let customers: Vec<(&vote::Model, DateTimeUtc)> = recent
        .iter()
        .filter_map(|v| {
            let (at, role) = accounts.get(&v.user_id)?;
            let staff = Role::parse(role).is_some_and(|r| r.is_staff());
            (!staff).then_some((v, *at))
        })
        .collect();
    let mut by_signup: Vec<(DateTimeUtc, i64)> =
        customers.iter().map(|(v, at)| (*at, v.id)).collect();
    by_signup.sort();
    let mut caught: HashSet<i64> = HashSet::new();
    for voter in voters {
        caught.extend(caught_with(&customers, &by_signup, voter, thresholds));
    }
    if caught.is_empty() {
        return Ok(caught);
    }
    // A vote a moderator already accepted in an earlier review stays counted.
    caught.retain(|id| {
        recent
            .iter()
            .any(|v| v.id == *id && v.review_item_id.is_none())
    });
    if caught.is_empty() {
        return Ok(caught);
    }
    let item = open_review(txn, t, now).await?;
    vote::Entity::update_many()
        .col_expr(vote::Column::State, Expr::value(PENDING))
        .col_expr(vote::Column::HeldReason, Expr::value(HELD_BURST))
        .col_expr(vote::Column::ReviewItemId, Expr::value(item))
        .filter(vote::Column::Id.is_in(caught.iter().copied()))
        .filter(vote::Column::ReviewItemId.is_null())
        .exec(txn)
        .await?;
    Ok(caught)
}

/// Votes of flagged accounts (whose earlier votes a moderator rejected) wait in the idea's open
/// burst review too, so a moderator decides on them rather than nobody.
pub(super) async fn hold_for_review(
    txn: &impl ConnectionTrait,
    t: &topic::Model,
    vote_ids: &[i64],
    now: DateTimeUtc,
) -> Result<(), AppError> {
    if vote_ids.is_empty() {
        return Ok(());
    }
    let item = open_review(txn, t, now).await?;
    vote::Entity::update_many()
        .col_expr(vote::Column::ReviewItemId, Expr::value(item))
        .filter(vote::Column::Id.is_in(vote_ids.iter().copied()))
        .filter(vote::Column::ReviewItemId.is_null())
        .exec(txn)
        .await?;
    Ok(())
}

/// The recent customers' votes in a burst with `voter`'s: the largest group of accounts created
/// within M minutes of each other that includes theirs, and the votes from their address range,
/// each if larger than the limit. `by_signup`: the votes' accounts' creation times, sorted.
fn caught_with(
    customers: &[(&vote::Model, DateTimeUtc)],
    by_signup: &[(DateTimeUtc, i64)],
    voter: &user::Model,
    thresholds: &Thresholds,
) -> Vec<i64> {
    let limit = thresholds.burst_votes;
    let mut caught = Vec::new();
    let span = Duration::minutes(thresholds.burst_signup_minutes);
    let mut best: &[(DateTimeUtc, i64)] = &[];
    let mut end = 0;
    for start in 0..by_signup.len() {
        end = end.max(start);
        while end < by_signup.len() && by_signup[end].0 - by_signup[start].0 <= span {
            end += 1;
        }
        let group = &by_signup[start..end];
        let mine = group
            .first()
            .zip(group.last())
            .is_some_and(|(a, b)| a.0 <= voter.created_at && voter.created_at <= b.0);
        if mine && group.len() > best.len() {
            best = group;
        }
    }
    if best.len() as i64 > limit {
        caught.extend(best.iter().map(|(_, id)| *id));
    }
    // One address range.
    let range = customers
        .iter()
        .find(|(v, _)| v.user_id == voter.id)
        .map(|(v, _)| v.client_range.clone())
        .unwrap_or_default();
    if !range.is_empty() {
        let same: Vec<i64> = customers
            .iter()
            .filter(|(v, _)| v.client_range == range)
            .map(|(v, _)| v.id)
            .collect();
        if same.len() as i64 > limit {
            caught.extend(same);
        }
    }
    caught
}

/// The idea's open burst review, or a new one.
async fn open_review(
    txn: &impl ConnectionTrait,
    t: &topic::Model,
    now: DateTimeUtc,
) -> Result<i64, AppError> {
    let opening: i64 = post::Entity::find()
        .select_only()
        .column(post::Column::Id)
        .filter(post::Column::TopicId.eq(t.id))
        .filter(post::Column::PostNumber.eq(1))
        .into_tuple()
        .one(txn)
        .await?
        .ok_or(AppError::Internal)?;
    let open: Option<i64> = review_item::Entity::find()
        .select_only()
        .column(review_item::Column::Id)
        .filter(review_item::Column::PostId.eq(opening))
        .filter(review_item::Column::Kind.eq(VOTE_BURST))
        .filter(review_item::Column::State.eq("open"))
        .into_tuple()
        .one(txn)
        .await?;
    if let Some(id) = open {
        return Ok(id);
    }
    let item = review_item::ActiveModel {
        post_id: Set(opening),
        kind: Set(VOTE_BURST.into()),
        state: Set("open".into()),
        snapshot_html: Set(String::new()),
        category_id: Set(t.category_id),
        created_at: Set(now),
        resolution: Set(String::new()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(item.id)
}

/// The open burst review `item_id`, read for a decision.
async fn open_burst(
    conn: &impl ConnectionTrait,
    item_id: i64,
) -> Result<review_item::Model, AppError> {
    review_item::Entity::find_by_id(item_id)
        .one(conn)
        .await?
        .filter(|i| i.kind == VOTE_BURST && i.state == "open")
        .ok_or_else(|| AppError::invalid("item", NOT_A_BURST))
}

/// The ideas whose votes the review holds.
async fn held_topics(conn: &impl ConnectionTrait, item_id: i64) -> Result<Vec<i64>, AppError> {
    Ok(vote::Entity::find()
        .select_only()
        .column(vote::Column::TopicId)
        .distinct()
        .filter(vote::Column::ReviewItemId.eq(item_id))
        .into_tuple()
        .all(conn)
        .await?)
}

async fn close(
    conn: &impl ConnectionTrait,
    item: &review_item::Model,
    moderator: &user::Model,
    state: &str,
    resolution: &str,
) -> Result<(), AppError> {
    review_item::Entity::update_many()
        .col_expr(review_item::Column::State, Expr::value(state))
        .col_expr(review_item::Column::ResolvedAt, Expr::value(Utc::now()))
        .col_expr(review_item::Column::ResolvedBy, Expr::value(moderator.id))
        .col_expr(review_item::Column::Resolution, Expr::value(resolution))
        .filter(review_item::Column::Id.eq(item.id))
        .exec(conn)
        .await?;
    Ok(())
}

/// A moderator accepts a burst: its votes count. Gives how many.
pub async fn accept_burst(
    db: &DatabaseConnection,
    moderator: &user::Model,
    item_id: i64,
) -> Result<u64, AppError> {
    require_role(Some(moderator.role()), Role::Moderator)?;
    let txn = begin_write(db).await?;
    let item = open_burst(&txn, item_id).await?;
    let topics = held_topics(&txn, item.id).await?;
    // The moderator vouched for these accounts: a flag from an earlier rejection is lifted.
    let voters: Vec<i64> = vote::Entity::find()
        .select_only()
        .column(vote::Column::UserId)
        .filter(vote::Column::ReviewItemId.eq(item.id))
        .filter(vote::Column::State.eq(PENDING))
        .into_tuple()
        .all(&txn)
        .await?;
    user::Entity::update_many()
        .col_expr(
            user::Column::VotesFlaggedAt,
            Expr::value(Option::<DateTimeUtc>::None),
        )
        .filter(user::Column::Id.is_in(voters))
        .exec(&txn)
        .await?;
    let accepted = vote::Entity::update_many()
        .col_expr(vote::Column::State, Expr::value(COUNTED))
        .col_expr(vote::Column::HeldReason, Expr::value(""))
        .filter(vote::Column::ReviewItemId.eq(item.id))
        .filter(vote::Column::State.eq(PENDING))
        .exec(&txn)
        .await?
        .rows_affected;
    close(&txn, &item, moderator, "resolved", "accept_votes").await?;
    votes::recount_all(&txn, topics.iter().copied()).await?;
    moderation_log::log(
        &txn,
        moderator,
        "accept_votes",
        Some(item.post_id),
        topics.first().copied(),
        None,
        &format!(
            "{} accepted",
            crate::format::count(accepted as i64, "vote", "votes")
        ),
        false,
    )
    .await?;
    txn.commit().await?;
    Ok(accepted)
}

/// A moderator rejects a burst: its votes are removed and their accounts flagged. Gives how many
/// votes went.
pub async fn reject_burst(
    db: &DatabaseConnection,
    moderator: &user::Model,
    item_id: i64,
) -> Result<u64, AppError> {
    require_role(Some(moderator.role()), Role::Moderator)?;
    let txn = begin_write(db).await?;
    let item = open_burst(&txn, item_id).await?;
    let topics = held_topics(&txn, item.id).await?;
    let voters: Vec<i64> = vote::Entity::find()
        .select_only()
        .column(vote::Column::UserId)
        .filter(vote::Column::ReviewItemId.eq(item.id))
        .filter(vote::Column::State.eq(PENDING))
        .into_tuple()
        .all(&txn)
        .await?;
    let rejected = vote::Entity::delete_many()
        .filter(vote::Column::ReviewItemId.eq(item.id))
        .filter(vote::Column::State.eq(PENDING))
        .exec(&txn)
        .await?
        .rows_affected;
    // Staff are never in a burst; the filter keeps a flag off them all the same.
    user::Entity::update_many()
        .col_expr(user::Column::VotesFlaggedAt, Expr::value(Utc::now()))
        .filter(user::Column::Id.is_in(voters))
        .filter(user::Column::VotesFlaggedAt.is_null())
        .filter(user::Column::Role.eq(Role::Customer.as_str()))
        .exec(&txn)
        .await?;
    close(&txn, &item, moderator, "rejected", "reject_votes").await?;
    votes::recount_all(&txn, topics.iter().copied()).await?;
    moderation_log::log(
        &txn,
        moderator,
        "reject_votes",
        Some(item.post_id),
        topics.first().copied(),
        None,
        &format!(
            "{} rejected; their accounts flagged",
            crate::format::count(rejected as i64, "vote", "votes")
        ),
        false,
    )
    .await?;
    txn.commit().await?;
    Ok(rejected)
}
