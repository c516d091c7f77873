//! Ideas and votes: a member votes for an idea (a topic in an ideas category) once, and may
//! take the vote back. The public count holds verified votes only: a vote from an account that
//! is new, unconfirmed or flagged, or that arrives in a burst, waits as pending (`burst.rs`);
//! new accounts' votes count by themselves once the account is old enough (`count_aged`).
//! Staff merge duplicates (`merge.rs`). Each change recounts the idea
//! (`records::votes::recount`) in its own transaction.
mod batch;
mod burst;
mod merge;

use chrono::{Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait, prelude::DateTimeUtc, sea_query::Expr,
};

pub use burst::{NOT_A_BURST, accept_burst, reject_burst};
pub use merge::{MERGE_ALREADY, MERGE_CYCLE, MERGE_HIDDEN, MERGE_NOT_IDEA, MERGE_SELF, merge};

use super::{
    db::begin_write,
    entity::{category, topic, user, vote},
    records::votes::{self, COUNTED, PENDING},
    settings, visibility,
};
use crate::error::AppError;

pub const NOT_AN_IDEA: &str = "Only ideas take votes, and this topic is not in an ideas category.";
pub const ALREADY_VOTED: &str = "You have already voted for this idea.";
pub const NOT_VOTED: &str = "You haven't voted for this idea.";
pub const VOTING_CLOSED: &str = "Voting on this idea has closed.";
pub const MERGED_ELSEWHERE: &str =
    "This idea was merged into another one: vote for that one instead.";

/// Where a member's vote on an idea stands after they voted or took it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    pub voted: bool,
    /// The vote waits (new account, unconfirmed address, burst): not in the public count yet.
    pub pending: bool,
    /// The public count now.
    pub count: i32,
}

/// Votes for the idea `topic_id` as `voter`, from `client` (kept for burst reviews).
pub async fn vote(
    db: &DatabaseConnection,
    voter: &user::Model,
    topic_id: i64,
    client: Option<std::net::IpAddr>,
) -> Result<Standing, AppError> {
    vote_at(db, voter, topic_id, client, Utc::now()).await
}

/// `vote` at a given time (tests script bursts and ageing with it).
pub async fn vote_at(
    db: &DatabaseConnection,
    voter: &user::Model,
    topic_id: i64,
    client: Option<std::net::IpAddr>,
    now: DateTimeUtc,
) -> Result<Standing, AppError> {
    // Refused here, on a reader, a vote never waits for a turn to write.
    votable(db, voter, topic_id).await?;
    batch::cast(
        db,
        batch::Ballot {
            voter: voter.clone(),
            topic_id,
            client,
            now,
        },
    )
    .await
}

/// Takes the member's vote back, counted or pending, while the idea takes votes.
pub async fn withdraw(
    db: &DatabaseConnection,
    voter: &user::Model,
    topic_id: i64,
) -> Result<Standing, AppError> {
    let txn = begin_write(db).await?;
    crate::server::records::topics::locked(&txn, topic_id).await?;
    // As for voting: a closed, merged or unpublished idea's count stays as it is.
    let t = votable(&txn, voter, topic_id).await?;
    let removed = vote::Entity::delete_many()
        .filter(vote::Column::TopicId.eq(t.id))
        .filter(vote::Column::UserId.eq(voter.id))
        // A vote moved to the original by a merge is withdrawn there.
        .filter(vote::Column::State.ne(votes::MERGED))
        .exec(&txn)
        .await?
        .rows_affected;
    if removed == 0 {
        return Err(AppError::invalid("vote", NOT_VOTED));
    }
    votes::recount(&txn, t.id).await?;
    let standing = standing(&txn, voter.id, t.id).await?;
    txn.commit().await?;
    Ok(standing)
}

/// The idea, if `voter` may see it and vote on it now; the reason otherwise.
async fn votable(
    conn: &impl ConnectionTrait,
    voter: &user::Model,
    topic_id: i64,
) -> Result<topic::Model, AppError> {
    // The idea and its category in one read (this runs for every vote); then the one rule of
    // who may see a topic, so one out of sight is "not found" before anything else is said.
    let in_category = topic::Entity::belongs_to(category::Entity)
        .from(topic::Column::CategoryId)
        .to(category::Column::Id)
        .into();
    let (t, c) = topic::Entity::find_by_id(topic_id)
        .join(sea_orm::JoinType::InnerJoin, in_category)
        .select_also(category::Entity)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(visibility::TOPIC_MISSING.into()))?;
    if !visibility::can_see_topic(conn, &t, Some(voter)).await? {
        return Err(AppError::NotFound(visibility::TOPIC_MISSING.into()));
    }
    let c = c
        .filter(votes::is_ideas)
        .ok_or_else(|| AppError::invalid("vote", NOT_AN_IDEA))?;
    if t.merged_into_id.is_some() {
        return Err(AppError::invalid("vote", MERGED_ELSEWHERE));
    }
    if !votes::voting_open(&t, &c) {
        return Err(AppError::invalid("vote", VOTING_CLOSED));
    }
    Ok(t)
}

/// Why a vote cast now by this member would wait, if it would. Staff votes always count.
fn held_reason(voter: &user::Model, t: &Thresholds, now: DateTimeUtc) -> Option<&'static str> {
    if voter.role().is_staff() {
        None
    } else if voter.votes_flagged_at.is_some() {
        Some(votes::HELD_FLAGGED)
    } else if voter.email_confirmed_at.is_none() {
        Some(votes::HELD_UNCONFIRMED)
    } else if voter.created_at > now - Duration::hours(t.min_account_hours) {
        Some(votes::HELD_NEW_ACCOUNT)
    } else {
        None
    }
}

/// The vote thresholds in the site settings.
#[derive(Clone, Copy, Debug)]
struct Thresholds {
    min_account_hours: i64,
    burst_votes: i64,
    burst_window_minutes: i64,
    burst_signup_minutes: i64,
}

impl Thresholds {
    async fn read(conn: &impl ConnectionTrait) -> Result<Self, AppError> {
        let [
            min_account_hours,
            burst_votes,
            burst_window_minutes,
            burst_signup_minutes,
        ] = settings::numbers(
            conn,
            [
                settings::VOTE_MIN_ACCOUNT_HOURS,
                settings::VOTE_BURST_VOTES,
                settings::VOTE_BURST_WINDOW_MINUTES,
                settings::VOTE_BURST_SIGNUP_MINUTES,
            ],
        )
        .await?;
        Ok(Thresholds {
            min_account_hours,
            burst_votes,
            burst_window_minutes,
            burst_signup_minutes,
        })
    }
}

/// The member's vote on the idea and its public count, as they stand in `conn`.
pub async fn standing(
    conn: &impl ConnectionTrait,
    user_id: i64,
    topic_id: i64,
) -> Result<Standing, AppError> {
    let state: Option<String> = vote::Entity::find()
        .select_only()
        .column(vote::Column::State)
        .filter(vote::Column::TopicId.eq(topic_id))
        .filter(vote::Column::UserId.eq(user_id))
        .into_tuple()
        .one(conn)
        .await?;
    let count: i32 = topic::Entity::find_by_id(topic_id)
        .select_only()
        .column(topic::Column::VoteCount)
        .into_tuple()
        .one(conn)
        .await?
        .unwrap_or(0);
    Ok(Standing {
        voted: state.as_deref().is_some_and(|s| s != votes::MERGED),
        pending: state.as_deref() == Some(PENDING),
        count,
    })
}

/// Counts the pending votes of accounts that have since come of age (old enough, address
/// confirmed, not flagged) and were not caught in a burst; gives how many now count. The
/// worker runs it every minute.
pub async fn count_aged(db: &DatabaseConnection, now: DateTimeUtc) -> Result<u64, AppError> {
    let hours = settings::number(db, settings::VOTE_MIN_ACCOUNT_HOURS).await?;
    let cutoff = now - Duration::hours(hours);
    let eligible = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::CreatedAt.lte(cutoff))
        .filter(user::Column::EmailConfirmedAt.is_not_null())
        .filter(user::Column::VotesFlaggedAt.is_null())
        .into_query();
    let due: Vec<(i64, i64)> = vote::Entity::find()
        .select_only()
        .columns([vote::Column::Id, vote::Column::TopicId])
        .filter(vote::Column::State.eq(PENDING))
        .filter(vote::Column::ReviewItemId.is_null())
        .filter(vote::Column::HeldReason.is_in([votes::HELD_NEW_ACCOUNT, votes::HELD_UNCONFIRMED]))
        .filter(vote::Column::UserId.in_subquery(eligible))
        .limit(5000)
        .into_tuple()
        .all(db)
        .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let txn = begin_write(db).await?;
    let mut counted = 0;
    for chunk in due.chunks(500) {
        counted += vote::Entity::update_many()
            .col_expr(vote::Column::State, Expr::value(COUNTED))
            .col_expr(vote::Column::HeldReason, Expr::value(""))
            .filter(vote::Column::Id.is_in(chunk.iter().map(|(id, _)| *id)))
            // Caught in a burst since it was read: the review decides.
            .filter(vote::Column::ReviewItemId.is_null())
            .filter(vote::Column::State.eq(PENDING))
            .exec(&txn)
            .await?
            .rows_affected;
    }
    votes::recount_all(&txn, due.iter().map(|(_, t)| *t)).await?;
    txn.commit().await?;
    Ok(counted)
}
