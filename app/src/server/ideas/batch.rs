//! Votes cast at the same moment are written together. On SQLite one writer writes at a time
//! (`db::begin_write`), and a vote written alone spends most of its turn on its transaction's
//! round trips and its sync to disk; so the voter whose turn comes writes every vote waiting by
//! then in one transaction, a few statements for them all and one commit, and hands each its
//! answer. A vote is answered only once its transaction has committed: each is as durable as if
//! written alone. On PostgreSQL, where writers write at once, each vote is its own batch.
use std::{
    collections::{HashMap, HashSet},
    net::IpAddr,
    sync::{
        LazyLock, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QuerySelect, Set, TryInsertResult, prelude::DateTimeUtc,
};
use tokio::sync::oneshot;

use super::{
    ALREADY_VOTED, MERGED_ELSEWHERE, Standing, Thresholds, VOTING_CLOSED, burst, held_reason,
};
use crate::{
    error::AppError,
    server::{
        auth::check_not_suspended,
        db::{self, WriterTurn},
        entity::{category, topic, user, vote},
        notify::following,
        records::votes::{self, COUNTED, PENDING},
        visibility::TOPIC_MISSING,
    },
};

/// One member's vote, checked on a reader a moment before (the idea is theirs to see and open
/// for votes). What can change in that moment is checked again in the transaction: the idea
/// (a merge, a status change, closing) and the voter (suspended, removed as a spammer, flagged,
/// confirmed since), whose account is read again there.
pub(super) struct Ballot {
    pub voter: user::Model,
    pub topic_id: i64,
    pub client: Option<IpAddr>,
    pub now: DateTimeUtc,
}

type Answer = Result<Standing, AppError>;

/// The voter's account was deleted while the vote waited.
const VOTER_GONE: &str = "This account no longer exists.";

struct Waiting {
    /// Tells this vote apart in the queue, to take it out if its request goes away.
    ticket: u64,
    db: DatabaseConnection,
    ballot: Ballot,
    answer: oneshot::Sender<Answer>,
}

/// Votes waiting for a turn to write, in the order they came.
static WAITING: LazyLock<Mutex<Vec<Waiting>>> = LazyLock::new(Default::default);
static TICKETS: AtomicU64 = AtomicU64::new(0);

/// Takes a vote out of the queue when its request is dropped (the browser left) before a
/// writer took it: a vote nobody waits for is not written later, when it may no longer hold.
/// One a writer took already is written with its batch, at once.
struct InQueue(u64);

impl Drop for InQueue {
    fn drop(&mut self) {
        lock_waiting().retain(|w| w.ticket != self.0);
    }
}

/// At most this many votes in one transaction.
const MOST: usize = 256;

/// Writes the vote, with the others waiting at the same moment on SQLite, and gives its answer
/// once it is on disk.
pub(super) async fn cast(db: &DatabaseConnection, ballot: Ballot) -> Answer {
    if db.get_database_backend() != DbBackend::Sqlite {
        let mut txn = db::begin_write(db).await?;
        let mut answers = write(&txn, vec![ballot]).await?;
        if answers.iter().all(Result::is_err) {
            txn.changed_no_page();
        }
        txn.commit().await?;
        return answers.pop().unwrap_or(Err(AppError::Internal));
    }
    let (answer, mut answered) = oneshot::channel();
    let ticket = TICKETS.fetch_add(1, Ordering::Relaxed);
    lock_waiting().push(Waiting {
        ticket,
        db: db.clone(),
        ballot,
        answer,
    });
    let _in_queue = InQueue(ticket);
    // Either a writer takes this vote with theirs and answers it, or its own turn comes first.
    let turn = tokio::select! {
        biased;
        answer = &mut answered => return answer.unwrap_or(Err(AppError::Internal)),
        turn = db::writer_turn(db) => turn,
    };
    let batch: Vec<Waiting> = {
        let mut waiting = lock_waiting();
        let mut batch = Vec::new();
        let mut rest = Vec::new();
        for w in waiting.drain(..) {
            // Its own vote always (nobody else may be left to take it), then others up to MOST.
            if w.ticket == ticket || (batch.len() < MOST && db::same_database(&w.db, db)) {
                batch.push(w);
            } else {
                rest.push(w);
            }
        }
        *waiting = rest;
        batch
    };
    // Written by a task of its own: a voter whose browser leaves meanwhile (the request is
    // dropped) does not roll back the votes of the others in the batch. This one's own vote is
    // in it, or in the batch that was being written when its turn came.
    if !batch.is_empty() {
        tokio::spawn(write_batch(db.clone(), turn, batch));
    } else {
        drop(turn);
    }
    answered.await.unwrap_or(Err(AppError::Internal))
}

fn lock_waiting() -> std::sync::MutexGuard<'static, Vec<Waiting>> {
    // A panic while holding it left a valid list.
    WAITING.lock().unwrap_or_else(|e| e.into_inner())
}

async fn write_batch(db: DatabaseConnection, turn: Option<WriterTurn>, batch: Vec<Waiting>) {
    let (ballots, senders): (Vec<Ballot>, Vec<_>) =
        batch.into_iter().map(|w| (w.ballot, w.answer)).unzip();
    let written = async {
        let mut txn = db::begin_write_in_turn(&db, turn).await?;
        let answers = write(&txn, ballots).await?;
        // Only refusals (a second vote, a suspended voter): no page changed, so the visitors'
        // page cache stays (otherwise one member could empty it every second).
        if answers.iter().all(Result::is_err) {
            txn.changed_no_page();
        }
        txn.commit().await?;
        Ok::<_, AppError>(answers)
    }
    .await;
    match written {
        Ok(answers) => {
            for (sender, answer) in senders.into_iter().zip(answers) {
                let _ = sender.send(answer);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, votes = senders.len(), "writing a batch of votes failed");
            for sender in senders {
                let _ = sender.send(Err(AppError::Internal));
            }
        }
    }
}

/// Writes the ballots in `txn`; gives each its answer, in order. An error is the whole batch's
/// (the transaction is not committed); a refused vote is only its own.
async fn write(
    txn: &impl ConnectionTrait,
    mut ballots: Vec<Ballot>,
) -> Result<Vec<Answer>, AppError> {
    // The voters as they are now: one suspended or removed since is refused, and why a vote
    // waits is decided from the account as it is.
    let accounts: HashMap<i64, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(distinct(ballots.iter().map(|b| b.voter.id))))
        .all(txn)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    // Read once for the batch, as they are now.
    let thresholds = Thresholds::read(txn).await?;
    let mut held: Vec<Option<&'static str>> = Vec::with_capacity(ballots.len());
    let mut voter_refused: Vec<Option<AppError>> = Vec::with_capacity(ballots.len());
    for b in &mut ballots {
        match accounts.get(&b.voter.id) {
            Some(account) if !crate::server::records::users::is_deleted(account) => {
                b.voter = account.clone();
                held.push(held_reason(account, &thresholds, b.now));
                voter_refused.push(check_not_suspended(account).err());
            }
            // Gone, or deleted (the row stays, renamed) while the vote waited.
            _ => {
                held.push(None);
                voter_refused.push(Some(AppError::Forbidden(VOTER_GONE.into())));
            }
        }
    }
    let topic_ids: Vec<i64> = distinct(ballots.iter().map(|b| b.topic_id));
    // Locked on PostgreSQL: a merge or a status change at the same moment comes before or
    // after, not between (SQLite's writer already holds the whole database).
    let topics: HashMap<i64, topic::Model> = topic::Entity::find()
        .filter(topic::Column::Id.is_in(topic_ids.iter().copied()))
        .lock_exclusive()
        .all(txn)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let categories: HashMap<i64, category::Model> = category::Entity::find()
        .filter(category::Column::Id.is_in(distinct(topics.values().map(|t| t.category_id))))
        .all(txn)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();

    // What each ballot gets when it is not written: the reason.
    let mut answers: Vec<Option<Answer>> = Vec::with_capacity(ballots.len());
    let mut seen: HashSet<(i64, i64)> = HashSet::new();
    for (b, voter_refused) in ballots.iter().zip(voter_refused) {
        if let Some(e) = voter_refused {
            answers.push(Some(Err(e)));
            continue;
        }
        let refused = match topics.get(&b.topic_id) {
            None => Some(AppError::NotFound(TOPIC_MISSING.into())),
            Some(t) if t.merged_into_id.is_some() => {
                Some(AppError::invalid("vote", MERGED_ELSEWHERE))
            }
            Some(t) => match categories.get(&t.category_id) {
                Some(c) if votes::voting_open(t, c) => None,
                _ => Some(AppError::invalid("vote", VOTING_CLOSED)),
            },
        };
        // The same member twice in one batch (two clicks at once): the second was cast already.
        let refused = refused.or_else(|| {
            (!seen.insert((b.topic_id, b.voter.id)))
                .then(|| AppError::invalid("vote", ALREADY_VOTED))
        });
        answers.push(refused.map(Err));
    }

    let rows: Vec<vote::ActiveModel> = ballots
        .iter()
        .zip(&held)
        .zip(&answers)
        .filter(|(_, a)| a.is_none())
        .map(|((b, held), _)| vote::ActiveModel {
            topic_id: Set(b.topic_id),
            user_id: Set(b.voter.id),
            created_at: Set(b.now),
            state: Set(if held.is_some() { PENDING } else { COUNTED }.into()),
            held_reason: Set(held.unwrap_or_default().into()),
            review_item_id: Set(None),
            client_address: Set(b.client.map(|a| a.to_string()).unwrap_or_default()),
            client_range: Set(votes::client_range(b.client)),
            ..Default::default()
        })
        .collect();
    let inserted: HashMap<(i64, i64), vote::Model> = if rows.is_empty() {
        HashMap::new()
    } else {
        match vote::Entity::insert_many(rows)
            .on_conflict_do_nothing_on([vote::Column::TopicId, vote::Column::UserId])
            .exec_with_returning_many(txn)
            .await?
        {
            TryInsertResult::Inserted(rows) => rows
                .into_iter()
                .map(|v| ((v.topic_id, v.user_id), v))
                .collect(),
            _ => HashMap::new(),
        }
    };
    for (b, answer) in ballots.iter().zip(answers.iter_mut()) {
        if answer.is_none() && !inserted.contains_key(&(b.topic_id, b.voter.id)) {
            *answer = Some(Err(AppError::invalid("vote", ALREADY_VOTED)));
        }
    }
    let cast: Vec<&Ballot> = ballots
        .iter()
        .zip(&answers)
        .filter(|(_, a)| a.is_none())
        .map(|(b, _)| b)
        .collect();
    let flagged: HashSet<(i64, i64)> = ballots
        .iter()
        .zip(&held)
        .filter(|(_, h)| **h == Some(votes::HELD_FLAGGED))
        .map(|(b, _)| (b.topic_id, b.voter.id))
        .collect();

    following::follow_all(
        txn,
        cast.iter()
            .filter(|b| b.voter.follow_on_vote)
            .map(|b| (b.voter.id, b.topic_id)),
    )
    .await?;

    // Bursts, among customers' votes (staff votes are never part of one).
    let mut held_now: HashSet<i64> = HashSet::new();
    if !cast.is_empty() {
        let now = batch_time(&cast);
        let customers_on: Vec<i64> = distinct(
            cast.iter()
                .filter(|b| !b.voter.role().is_staff())
                .map(|b| b.topic_id),
        );
        for id in burst::crowded(txn, &customers_on, &thresholds, now).await? {
            let voters: Vec<&user::Model> = cast
                .iter()
                .filter(|b| b.topic_id == id && !b.voter.role().is_staff())
                .map(|b| &b.voter)
                .collect();
            held_now.extend(burst::check(txn, &topics[&id], &voters, &thresholds, now).await?);
        }
    }

    for id in distinct(cast.iter().map(|b| b.topic_id)) {
        let flagged: Vec<i64> = cast
            .iter()
            .filter(|b| b.topic_id == id && flagged.contains(&(b.topic_id, b.voter.id)))
            .map(|b| inserted[&(b.topic_id, b.voter.id)].id)
            .collect();
        burst::hold_for_review(txn, &topics[&id], &flagged, batch_time(&cast)).await?;
    }

    let written: Vec<i64> = distinct(cast.iter().map(|b| b.topic_id));
    votes::recount_all(txn, written.iter().copied()).await?;
    let counts: HashMap<i64, i32> = topic::Entity::find()
        .select_only()
        .columns([topic::Column::Id, topic::Column::VoteCount])
        .filter(topic::Column::Id.is_in(written))
        .into_tuple::<(i64, i32)>()
        .all(txn)
        .await?
        .into_iter()
        .collect();

    Ok(ballots
        .iter()
        .zip(answers)
        .map(|(b, answer)| {
            answer.unwrap_or_else(|| {
                let v = &inserted[&(b.topic_id, b.voter.id)];
                Ok(Standing {
                    voted: true,
                    pending: v.state == PENDING || held_now.contains(&v.id),
                    count: counts.get(&b.topic_id).copied().unwrap_or(0),
                })
            })
        })
        .collect())
}

/// The batch's time: its latest vote's.
fn batch_time(cast: &[&Ballot]) -> DateTimeUtc {
    cast.iter().map(|b| b.now).max().unwrap_or_default()
}

fn distinct(ids: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut ids: Vec<i64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}
