//! The worker's half of a notification: followers of a topic (or watchers of a category, for a
//! new topic) are told in two set-based statements, whatever their number, then those who chose
//! e-mail at once get one. A turn to write claims and reads fan-outs a chunk at a time (four
//! statements for the chunk), spreads the chunk (three statements a fan-out, all of them one
//! round trip on SQLite), and ends after about 10 ms, so requests waiting for the write lock
//! wait for a few statements each, not for the whole crowd.
use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, JoinType,
    QueryFilter, QueryOrder, QuerySelect, Value,
    sea_query::{Expr, ExprTrait},
};

use super::{
    NEW_TOPIC, REPLY,
    compose::{self, Letter},
    hinted,
    preferences::{MailKind, Mode},
};
use crate::{
    error::AppError,
    model::PostState,
    server::{
        batch::Batch,
        db::{self, begin_private_write},
        entity::{article, category, fan_out, post, topic, user},
        records::posts,
        visibility,
    },
};

/// Spreads what is waiting, batch after batch of `BATCH`, until the queue is empty or `budget`
/// has passed; gives how many it did and how many failed. One batch a second was a ceiling of
/// 200 replies a second before the queue grew without end and followers heard of a reply
/// minutes late; each fan-out takes the write turn with others (`PER_TURN`, `TURN_TIME`), so
/// requests' writes go between them. A fan-out that fails is tried again in the next round, not
/// in a later batch of this one.
pub async fn catch_up(
    db: &DatabaseConnection,
    budget: std::time::Duration,
) -> Result<Round, AppError> {
    const BATCH: u64 = 200;
    let started = std::time::Instant::now();
    let mut round = Round::default();
    let mut failed = HashSet::new();
    loop {
        let (batch, taken) = run_batch(db, BATCH, &mut failed).await?;
        round.spread += batch.spread;
        round.failed += batch.failed;
        if taken < BATCH as usize || started.elapsed() >= budget {
            return Ok(round);
        }
    }
}

/// Spreads what is waiting, oldest first, at most `limit` fan-outs; gives how many it spread.
pub async fn run_due(db: &DatabaseConnection, limit: u64) -> Result<usize, AppError> {
    Ok(run_batch(db, limit, &mut HashSet::new()).await?.0.spread)
}

/// What a run of the worker did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// Fan-outs spread (or found to tell nobody) and gone from the queue.
    pub spread: usize,
    /// Fan-outs that could not be spread: left in the queue for a later round, or given up on
    /// after `MOST_ATTEMPTS`.
    pub failed: usize,
}

/// Fan-outs spread in one write transaction, claimed and read `CHUNK` at a time: beside 32
/// writers the worker's turn comes once after each of theirs (the turn is first come, first
/// served), so a turn must spread more than 32 for the queue not to grow (25 a turn left 1,600
/// waiting after 8 s of 32 writers).
const PER_TURN: usize = 64;
/// Fan-outs claimed and read together: one statement each for the claim, the topics with their
/// articles, the posts and the members who acted, instead of five a fan-out.
const CHUNK: usize = 16;
/// No chunk starts in a turn that has taken this long already.
const TURN_TIME: std::time::Duration = std::time::Duration::from_millis(10);
/// Rounds in which a fan-out may fail to spread before the worker gives up on it (logged as an
/// error). Only a failure of its own counts, never the database's trouble of the moment (see
/// `db::is_transient`): a fan-out that fails five times while the database answers will not
/// be spread, and must not wait in the queue for ever.
pub const MOST_ATTEMPTS: i32 = 5;

/// An error of the worker's, keeping the database's own error where there is one (`AppError`
/// keeps only what a visitor is told), so that the database's trouble of the moment can be told
/// from a fan-out that cannot be spread, and the log names the cause.
enum Failure {
    Database(DbErr),
    Other(AppError),
}

impl From<DbErr> for Failure {
    fn from(e: DbErr) -> Self {
        Failure::Database(e)
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure::Other(e)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Database(e) => e.fmt(f),
            Failure::Other(e) => e.fmt(f),
        }
    }
}

impl Failure {
    fn transient(&self) -> bool {
        matches!(self, Failure::Database(e) if db::is_transient(e))
    }
}

/// Why a turn failed: the fan-out it was spreading then (none while it claimed, read or
/// committed) and the error. The turn's writes are all rolled back.
struct TurnFailed {
    job: Option<i64>,
    error: Failure,
}

impl TurnFailed {
    fn at(job: Option<i64>, error: impl Into<Failure>) -> Self {
        TurnFailed {
            job,
            error: error.into(),
        }
    }
}

/// `run_due`, also giving how many jobs it found waiting (some may have been another worker's);
/// leaves out those in `failed` (which failed earlier in this round) and adds those that fail.
async fn run_batch(
    db: &DatabaseConnection,
    limit: u64,
    failed: &mut HashSet<i64>,
) -> Result<(Round, usize), AppError> {
    let waiting: Vec<i64> = fan_out::Entity::find()
        .select_only()
        .column(fan_out::Column::Id)
        .order_by_asc(fan_out::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    let taken = waiting.len();
    let mut rest: Vec<i64> = waiting
        .into_iter()
        .filter(|id| !failed.contains(id))
        .collect();
    let mut round = Round::default();
    // Spreading one fan-out failed on its own: counted against it, and the rest go on.
    let mut fail = async |id: i64, error: &Failure, round: &mut Round| {
        failed.insert(id);
        round.failed += 1;
        count_failure(db, id, error).await
    };
    while !rest.is_empty() {
        let failure = match turn(db, &rest).await {
            Ok((used, spread)) => {
                rest.drain(..used);
                round.spread += spread;
                continue;
            }
            Err(failure) => failure,
        };
        // The database's trouble (no connection, busy, a deadlock): the round ends, and the next
        // tries the same fan-outs again; none of them is to blame.
        if failure.error.transient() {
            tracing::warn!(error = %failure.error, "the notification worker's turn failed; the next round tries again");
            return Err(AppError::Internal);
        }
        match failure.job {
            // That fan-out's own statement failed: the others, again without it.
            Some(id) => {
                fail(id, &failure.error, &mut round).await?;
                rest.retain(|other| *other != id);
            }
            // Claiming or reading a chunk failed, for one fan-out in it that is not known: the
            // turn's share, one fan-out a turn.
            None => {
                tracing::warn!(error = %failure.error, "a turn of the notification worker failed; trying its fan-outs one at a time");
                let alone: Vec<i64> = rest.drain(..rest.len().min(PER_TURN)).collect();
                for id in alone {
                    match turn(db, &[id]).await {
                        Ok((_, spread)) => round.spread += spread,
                        Err(f) if f.error.transient() => {
                            tracing::warn!(error = %f.error, "the notification worker's turn failed; the next round tries again");
                            return Err(AppError::Internal);
                        }
                        Err(f) => fail(id, &f.error, &mut round).await?,
                    }
                }
            }
        }
    }
    Ok((round, taken))
}

/// One write turn of the worker over the first of `ids`: gives how many of them it took and how
/// many it spread (some may have been another worker's).
async fn turn(db: &DatabaseConnection, ids: &[i64]) -> Result<(usize, usize), TurnFailed> {
    // Several fan-outs a turn: one a turn waited behind every writer in the queue for each
    // (about 150 a second beside 32 writers, so the queue grew), and each committed alone, one
    // sync to disk apiece when nobody else was writing.
    let txn = begin_private_write(db)
        .await
        .map_err(|e| TurnFailed::at(None, e))?;
    // One worker's turn at a time on PostgreSQL, where each server runs a worker: two spreading
    // replies to one topic at once each missed the other's uncommitted notification and wrote
    // its own (two unread for one topic, both counted up after), and locked followers'
    // notifications in different orders (deadlocks). SQLite's turn is one at a time already.
    db::lock_key(&txn, "notification fan-out")
        .await
        .map_err(|e| TurnFailed::at(None, e))?;
    let started = std::time::Instant::now();
    let mut rest = ids;
    let mut spread_now = 0;
    // A fan-out to a crowd takes longer (a topic with 10,000 followers, some e-mailed at once):
    // the turn ends early rather than hold every writer back for a long batch.
    while !rest.is_empty() && ids.len() - rest.len() < PER_TURN && started.elapsed() < TURN_TIME {
        let (chunk, after) = rest.split_at(rest.len().min(CHUNK));
        rest = after;
        let mut claimed = claim(&txn, chunk)
            .await
            .map_err(|e| TurnFailed::at(None, e))?;
        claimed.sort_by_key(|job| job.id);
        // Read in the turn, so a post removed or a topic hidden since the job was queued is
        // seen as it is now.
        let facts = Facts::read_all(&txn, &claimed)
            .await
            .map_err(|e| TurnFailed::at(None, e))?;
        let mut planned = Vec::new();
        for (job, facts) in claimed.iter().zip(facts) {
            planned.extend(facts.and_then(|facts| plan(txn.get_database_backend(), job, facts)));
            spread_now += 1;
        }
        spread_all(&txn, planned).await?;
    }
    txn.commit().await.map_err(|e| TurnFailed::at(None, e))?;
    Ok((ids.len() - rest.len(), spread_now))
}

/// Counts a failed attempt against fan-out `id`, or gives it up (logged) at `MOST_ATTEMPTS`.
/// An error here is the database's, not the fan-out's: the round stops.
async fn count_failure(db: &DatabaseConnection, id: i64, error: &Failure) -> Result<(), AppError> {
    let txn = begin_private_write(db).await?;
    let counted = fan_out::Entity::update_many()
        .col_expr(
            fan_out::Column::Attempts,
            Expr::col(fan_out::Column::Attempts).add(1),
        )
        .filter(fan_out::Column::Id.eq(id))
        .exec_with_returning(&txn)
        .await?;
    if let Some(job) = counted.first()
        && job.attempts >= MOST_ATTEMPTS
    {
        fan_out::Entity::delete_by_id(id).exec(&txn).await?;
        tracing::error!(
            %error, fan_out = id, kind = %job.kind, topic = job.topic_id,
            post = job.post_id.unwrap_or_default(),
            "gave up telling followers of a change after {MOST_ATTEMPTS} failed rounds"
        );
    } else {
        tracing::warn!(%error, fan_out = id, "telling followers of a change failed; the next round tries it again");
    }
    txn.commit().await?;
    Ok(())
}

/// Takes the waiting jobs among `ids` (deleting them is the claim: a job another worker spread
/// meanwhile is gone) and gives them.
async fn claim(txn: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<fan_out::Model>, Failure> {
    let ids = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let backend = txn.get_database_backend();
    let sql = format!("DELETE FROM fan_outs WHERE id IN ({ids}) RETURNING *");
    Ok(fan_out::Entity::find()
        .from_raw_sql(sea_orm::Statement::from_string(backend, sql))
        .all(txn)
        .await?)
}

/// Who the fan-out reaches, as SQL over `$1` topic, `$2` actor, `$3` post (or 0), `$4` when the
/// change was made: followers of the topic, or for a new topic the category's watchers who did
/// not mute it; for a change by staff (status, official answer, merge) its voters too, whoever's
/// vote it was; only those who followed, watched or voted by the time of the change (one who
/// follows while the job waits has read it already); never the actor, never the topic's author
/// (told directly), never someone this post already told by name.
fn audience(kind: &str, backend: DbBackend) -> String {
    let sql = if kind == NEW_TOPIC {
        "SELECT w.user_id FROM category_watches w JOIN topics t ON t.id = $1
          WHERE w.category_id = t.category_id AND w.user_id <> $2 AND w.created_at <= $4
            AND NOT EXISTS (SELECT 1 FROM topic_follows m WHERE m.user_id = w.user_id
                            AND m.topic_id = $1 AND m.level = 'muted')
            AND NOT EXISTS (SELECT 1 FROM notifications n /*by post*/ WHERE n.post_id = $3
                            AND n.user_id = w.user_id)"
    } else if kind == REPLY {
        "SELECT f.user_id FROM topic_follows f /*by topic*/ JOIN topics t ON t.id = $1
          WHERE f.topic_id = $1 AND f.level = 'following' AND f.user_id <> $2
            AND f.created_at <= $4
            AND f.user_id <> t.author_id
            AND NOT EXISTS (SELECT 1 FROM notifications n /*by post*/ WHERE n.post_id = $3
                            AND n.user_id = f.user_id)"
    } else {
        "SELECT p.user_id FROM (
                SELECT f.user_id FROM topic_follows f /*by topic*/
                 WHERE f.topic_id = $1 AND f.level = 'following' AND f.created_at <= $4
                UNION
                SELECT v.user_id FROM votes v WHERE v.topic_id = $1 AND v.created_at <= $4
                  AND NOT EXISTS (SELECT 1 FROM topic_follows m WHERE m.user_id = v.user_id
                                  AND m.topic_id = $1 AND m.level = 'muted')
             ) p JOIN topics t ON t.id = $1
          WHERE p.user_id <> $2 AND p.user_id <> t.author_id
            AND NOT EXISTS (SELECT 1 FROM notifications n /*by post*/ WHERE n.post_id = $3
                            AND n.user_id = p.user_id)"
    };
    hinted(sql, backend)
}

/// What a fan-out's message is made of: its topic (with the article whose comments it holds),
/// its post, who acted, and whether the topic is an idea.
struct Facts {
    t: topic::Model,
    article: Option<article::Model>,
    p: Option<post::Model>,
    actor: user::Model,
    idea: bool,
}

impl Facts {
    /// Each job's facts, in order: None where the topic or the member who acted is gone (the
    /// fan-out tells nobody, and is done: an error would leave it first in the queue, stopping
    /// every fan-out after it). Four statements for any number of jobs.
    async fn read_all(
        conn: &impl ConnectionTrait,
        jobs: &[fan_out::Model],
    ) -> Result<Vec<Option<Facts>>, Failure> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let its_article = article::Entity::belongs_to(topic::Entity)
            .from(article::Column::TopicId)
            .to(topic::Column::Id)
            .into();
        let topics: HashMap<i64, (topic::Model, Option<article::Model>)> = topic::Entity::find()
            .filter(topic::Column::Id.is_in(jobs.iter().map(|j| j.topic_id)))
            .select_also(article::Entity)
            .join_rev(JoinType::LeftJoin, its_article)
            .all(conn)
            .await?
            .into_iter()
            .map(|(t, a)| (t.id, (t, a)))
            .collect();
        let actors: HashMap<i64, user::Model> = user::Entity::find()
            .filter(user::Column::Id.is_in(jobs.iter().map(|j| j.actor_id)))
            .all(conn)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let post_ids: Vec<i64> = jobs.iter().filter_map(|j| j.post_id).collect();
        let posts: HashMap<i64, post::Model> = if post_ids.is_empty() {
            HashMap::new()
        } else {
            post::Entity::find()
                .filter(post::Column::Id.is_in(post_ids))
                .all(conn)
                .await?
                .into_iter()
                .map(|p| (p.id, p))
                .collect()
        };
        // Only what staff decided asks whether the topic is an idea (see `spread`).
        let asks = |j: &fan_out::Model| j.kind != NEW_TOPIC && j.kind != REPLY;
        let idea_categories: Vec<i64> = if jobs.iter().any(asks) {
            category::Entity::find()
                .filter(category::Column::Kind.eq("ideas"))
                .select_only()
                .column(category::Column::Id)
                .into_tuple()
                .all(conn)
                .await?
        } else {
            Vec::new()
        };
        Ok(jobs
            .iter()
            .map(|job| {
                let (t, article) = topics.get(&job.topic_id)?.clone();
                let actor = actors.get(&job.actor_id)?.clone();
                let idea = asks(job) && idea_categories.contains(&t.category_id);
                Some(Facts {
                    p: job.post_id.and_then(|id| posts.get(&id).cloned()),
                    t,
                    article,
                    actor,
                    idea,
                })
            })
            .collect())
    }
}

/// A fan-out ready to spread: who gets an e-mail at once (read before the notifications are
/// written, which change the audience), the notifications, and the e-mail.
struct Planned {
    job: i64,
    wanting_mail: sea_orm::Statement,
    notifications: Batch,
    letter: Letter,
}

/// Spreads the chunk's fan-outs: every one's read and writes in one round trip on SQLite (one a
/// fan-out was 16 of a chunk's 20 inside the writers' turn), then the e-mails of those who want
/// them at once. A failure in the round trip is not known to be one fan-out's (unless it is
/// the only one): the worker tries them one at a time then (`run_batch`).
async fn spread_all(txn: &impl ConnectionTrait, planned: Vec<Planned>) -> Result<(), TurnFailed> {
    let only = match planned.as_slice() {
        [one] => Some(one.job),
        _ => None,
    };
    let mut parts = Vec::with_capacity(planned.len());
    let mut letters = Vec::with_capacity(planned.len());
    for p in planned {
        parts.push((p.wanting_mail, p.notifications));
        letters.push((p.job, p.letter));
    }
    let rows = Batch::after_all_each(txn, parts)
        .await
        .map_err(|e| TurnFailed::at(only, e))?;
    for (rows, (job, letter)) in rows.into_iter().zip(letters) {
        let ids: Vec<i64> = rows
            .iter()
            .map(|row| row.try_get::<i64>("", "user_id"))
            .collect::<Result<_, _>>()
            .map_err(|e| TurnFailed::at(Some(job), e))?;
        mail(txn, &ids, &letter)
            .await
            .map_err(|e| TurnFailed::at(Some(job), e))?;
    }
    Ok(())
}

/// What spreading `job` writes and reads, or nothing if it tells nobody.
fn plan(backend: DbBackend, job: &fan_out::Model, facts: Facts) -> Option<Planned> {
    let Facts {
        t,
        article,
        p,
        actor,
        idea,
    } = facts;
    // Removed or held again before the worker came to it: nobody hears of it.
    if job.post_id.is_some() && p.as_ref().is_none_or(|p| p.state() != PostState::Visible) {
        return None;
    }
    // Followers and watchers hear only of what anyone may read: a topic whose opening post was
    // removed or waits for approval, or an unpublished article's, tells nobody through here
    // (its author still hears directly).
    if !visibility::can_see_loaded_topic(&t, article.as_ref(), false, None) {
        return None;
    }
    let link = match &p {
        Some(p) => posts::url_in(p, &t, article.as_ref()),
        None => crate::model::topic_url(t.id, &t.slug, 1),
    };
    let staff = p.as_ref().is_some_and(|p| p.is_staff_reply) || actor.role().is_staff();
    let name = match &p {
        Some(p) if p.is_staff_reply => format!(
            "{}{}",
            actor.display_name,
            compose::staff_badge(p.staff_title.as_deref())
        ),
        _ => actor.display_name.clone(),
    };
    let (message, mail_kind, why) = match job.kind.as_str() {
        NEW_TOPIC => (
            format!("{name} started “{}”", t.title),
            MailKind::NewTopics,
            "You watch this category.",
        ),
        REPLY => (
            format!("{name} replied in “{}”", t.title),
            MailKind::Replies,
            "You follow this topic.",
        ),
        // What staff decided about an idea reaches its supporters like an answer (at once, by
        // default); about another topic, like its replies (the digest, by default).
        _ if idea => (
            job.message.clone(),
            MailKind::Answers,
            "You follow or voted for this idea.",
        ),
        _ => (
            job.message.clone(),
            MailKind::Replies,
            "You follow this topic.",
        ),
    };
    let kind = job.kind.as_str();
    let now = Utc::now();
    let post_id = job.post_id.unwrap_or(0);
    let audience = audience(kind, backend);
    let base = || -> Vec<Value> {
        vec![
            t.id.into(),
            actor.id.into(),
            post_id.into(),
            job.created_at.into(),
        ]
    };
    // Who gets an e-mail at once, chosen before the notifications below change the audience:
    // those who chose it for this kind (by default nobody: replies and new topics go to the
    // digest), and whose address may get mail.
    let wanted = if mail_kind.default_mode() == Mode::Immediately {
        "NOT EXISTS (SELECT 1 FROM mail_preferences mp WHERE mp.user_id = a.user_id
                     AND mp.kind = $5 AND mp.mode <> 'immediately')"
    } else {
        "EXISTS (SELECT 1 FROM mail_preferences mp WHERE mp.user_id = a.user_id
                 AND mp.kind = $5 AND mp.mode = 'immediately')"
    };
    let mut values = base();
    values.push(mail_kind.as_str().into());
    let wanting_mail = crate::server::db::numbered(
        backend,
        &format!(
            "SELECT a.user_id FROM ({audience}) a JOIN users u ON u.id = a.user_id
              WHERE u.email_confirmed_at IS NOT NULL AND u.email_bouncing_since IS NULL
                AND {wanted}"
        ),
        values,
    );
    // Into the unread notification of the same kind in this topic, where one exists...
    // (both writes after the read above, in one round trip with it on SQLite: `Batch`)
    let mut writes = Batch::default();
    let mut values = base();
    values.extend([now.into(), kind.into()]);
    writes.push(crate::server::db::numbered(
        backend,
        &hinted(
            &format!(
                "UPDATE notifications /*unread by topic*/ SET count = count + 1, updated_at = $5
                  WHERE topic_id = $1 AND kind = $6 AND read_at IS NULL
                    AND user_id IN ({audience})"
            ),
            backend,
        ),
        values,
    ));
    // ...else a new one.
    let mut values = base();
    values.extend([
        now.into(),
        kind.into(),
        message.clone().into(),
        link.clone().into(),
        staff.into(),
        mail_kind.as_str().into(),
        job.post_id.into(),
    ]);
    writes.push(crate::server::db::numbered(
        backend,
        &hinted(
            &format!(
                "INSERT INTO notifications (user_id, kind, message, link, created_at, read_at,
                                            topic_id, post_id, count, staff, mail_kind, updated_at)
                 SELECT a.user_id, $6, $7, $8, $5, NULL, $1, $11, 1, $9, $10, $5
                   FROM ({audience}) a
                  WHERE NOT EXISTS (SELECT 1 FROM notifications n /*unread by topic*/
                                    WHERE n.topic_id = $1 AND n.user_id = a.user_id
                                      AND n.kind = $6 AND n.read_at IS NULL)"
            ),
            backend,
        ),
        values,
    ));
    let letter = Letter {
        subject: t.title.clone(),
        headline: message,
        // Moved, not copied: most fan-outs mail nobody (replies are a daily digest by default).
        post_html: p.map(|p| p.html),
        link,
        why: why.into(),
        kind: mail_kind,
        topic_id: Some(t.id),
    };
    Some(Planned {
        job: job.id,
        wanting_mail,
        notifications: writes,
        letter,
    })
}

/// E-mails `letter` at once to the members `ids`.
async fn mail(txn: &impl ConnectionTrait, ids: &[i64], letter: &Letter) -> Result<(), Failure> {
    for chunk in ids.chunks(500) {
        let members = user::Entity::find()
            .filter(user::Column::Id.is_in(chunk.iter().copied()))
            .all(txn)
            .await?;
        compose::send_all(txn, &members, letter).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use sea_orm::ActiveModelTrait;

    use super::*;
    use crate::server::{
        forum,
        moderation::{PostAction, act_on_post},
        testing::World,
    };

    /// Two topics the moderator follows, with the queue their opening posts left spread.
    async fn two_followed_topics(w: &World) -> (topic::Model, topic::Model) {
        let mut topics = Vec::new();
        for title in ["First", "Second"] {
            let (t, _) = forum::start_topic(&w.db, &w.customer, "questions", title, "Body.", None)
                .await
                .unwrap();
            follow(w, w.moderator.id, t.id).await;
            topics.push(t);
        }
        catch_up(&w.db, std::time::Duration::from_secs(60))
            .await
            .unwrap();
        let second = topics.pop().unwrap();
        (topics.pop().unwrap(), second)
    }

    /// From now on, telling anyone of post `post` fails on its notification row (standing in
    /// for any error in one fan-out: a row the database refuses, a constraint, a broken value).
    async fn refuse_notifications_of(w: &World, post: i64) {
        w.db.execute_unprepared(&format!(
            "CREATE TRIGGER refuse BEFORE INSERT ON notifications WHEN NEW.post_id = {post}
             BEGIN SELECT RAISE(ABORT, 'refused'); END"
        ))
        .await
        .unwrap();
    }

    /// `member` follows topic `topic`.
    async fn follow(w: &World, member: i64, topic: i64) {
        crate::server::notify::following::set_level(
            &w.db,
            member,
            topic,
            crate::server::notify::following::Level::Following,
        )
        .await
        .unwrap();
    }

    /// What a fan-out tells is read in the worker's turn, not when the job was queued: a post
    /// removed meanwhile tells nobody, and a topic renamed meanwhile is told by its new title.
    #[tokio::test]
    async fn what_a_fan_out_tells_is_read_in_its_turn() {
        let w = World::new().await;
        let (t, _) = forum::start_topic(&w.db, &w.customer, "questions", "Old", "Body.", None)
            .await
            .unwrap();
        follow(&w, w.moderator.id, t.id).await;
        let removed = forum::reply(&w.db, &w.other, t.id, "A rude reply.", None)
            .await
            .unwrap();
        act_on_post(&w.db, &w.moderator, removed.id, PostAction::Hide, "Rude")
            .await
            .unwrap();
        let minute = std::time::Duration::from_secs(60);
        catch_up(&w.db, minute).await.unwrap();
        let told = || async {
            crate::server::entity::notification::Entity::find()
                .filter(crate::server::entity::notification::Column::UserId.eq(w.moderator.id))
                .all(&w.db)
                .await
                .unwrap()
        };
        assert_eq!(told().await, vec![], "a hidden reply tells nobody");
        forum::reply(&w.db, &w.other, t.id, "A kind reply.", None)
            .await
            .unwrap();
        topic::Entity::update_many()
            .col_expr(topic::Column::Title, sea_orm::sea_query::Expr::value("New"))
            .filter(topic::Column::Id.eq(t.id))
            .exec(&w.db)
            .await
            .unwrap();
        catch_up(&w.db, minute).await.unwrap();
        let told = told().await;
        assert_eq!(told.len(), 1);
        assert!(told[0].message.contains("“New”"), "{}", told[0].message);
    }

    /// Two workers on one PostgreSQL (each server runs one) spread a topic's replies one turn at
    /// a time: each follower has one unread notification counting every reply, and neither
    /// worker fails. Each claiming 16 at a time on its own, they told 32 followers twice (each
    /// missed the other's new notification) and deadlocked.
    #[tokio::test]
    async fn two_workers_on_postgresql_tell_each_follower_once() {
        let Some(pg) = crate::server::testing::PostgresTestDb::create().await else {
            return;
        };
        let w = World::builder().build_on(pg.db.clone()).await;
        let mut topics = Vec::new();
        for n in 0..3 {
            let (t, _) = forum::start_topic(
                &w.db,
                &w.customer,
                "questions",
                &format!("Busy {n}"),
                "Body.",
                None,
            )
            .await
            .unwrap();
            for member in [&w.moderator, &w.admin, &w.staff] {
                follow(&w, member.id, t.id).await;
            }
            topics.push(t);
        }
        for n in 0..60 {
            let t = &topics[n % 3];
            forum::reply(&w.db, &w.other, t.id, &format!("Reply {n}."), None)
                .await
                .unwrap();
        }
        let minute = std::time::Duration::from_secs(60);
        let (a, b) = tokio::join!(catch_up(&w.db, minute), catch_up(&w.db, minute));
        assert_eq!(
            a.unwrap().spread + b.unwrap().spread,
            63,
            "three opening posts, 60 replies"
        );
        for member in [&w.moderator, &w.admin, &w.staff] {
            let told = crate::server::entity::notification::Entity::find()
                .filter(crate::server::entity::notification::Column::UserId.eq(member.id))
                .filter(crate::server::entity::notification::Column::Kind.eq(REPLY))
                .all(&w.db)
                .await
                .unwrap();
            let mut counts: Vec<(Option<i64>, i32)> =
                told.iter().map(|n| (n.topic_id, n.count)).collect();
            counts.sort();
            let expected: Vec<(Option<i64>, i32)> =
                topics.iter().map(|t| (Some(t.id), 20)).collect();
            assert_eq!(counts, expected, "member {}", member.id);
        }
        pg.drop().await;
    }

    /// A fan-out whose actor is gone tells nobody and is done; it does not stop the ones
    /// around it (an error left it first in the queue for ever).
    #[tokio::test]
    async fn a_fan_out_whose_actor_is_gone_does_not_stop_the_queue() {
        let w = World::new().await;
        let (t, _) = forum::start_topic(&w.db, &w.customer, "questions", "Queue", "Body.", None)
            .await
            .unwrap();
        follow(&w, w.moderator.id, t.id).await;
        forum::reply(&w.db, &w.other, t.id, "Before.", None)
            .await
            .unwrap();
        fan_out::ActiveModel {
            kind: sea_orm::Set(REPLY.into()),
            topic_id: sea_orm::Set(t.id),
            post_id: sea_orm::Set(None),
            actor_id: sea_orm::Set(9_999),
            message: sea_orm::Set(String::new()),
            created_at: sea_orm::Set(Utc::now()),
            done_at: sea_orm::Set(None),
            ..Default::default()
        }
        .insert(&w.db)
        .await
        .unwrap();
        forum::reply(&w.db, &w.other, t.id, "After.", None)
            .await
            .unwrap();
        let minute = std::time::Duration::from_secs(60);
        assert_eq!(catch_up(&w.db, minute).await.unwrap().spread, 4);
        assert_eq!(fan_out::Entity::find().all(&w.db).await.unwrap(), vec![]);
        let told = crate::server::entity::notification::Entity::find()
            .filter(crate::server::entity::notification::Column::UserId.eq(w.moderator.id))
            .all(&w.db)
            .await
            .unwrap();
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].count, 2, "both replies");
    }

    /// A fan-out whose spreading fails does not hold up the ones queued after it: the worker
    /// tries the failed turn again one fan-out at a time, spreads the others, counts the
    /// failure against the one that failed, and gives it up after `MOST_ATTEMPTS`.
    #[tokio::test]
    async fn a_fan_out_that_fails_does_not_hold_up_the_others() {
        use crate::server::entity::notification;
        let w = World::new().await;
        let (t, u) = two_followed_topics(&w).await;
        let minute = std::time::Duration::from_secs(60);
        let failing = forum::reply(&w.db, &w.other, t.id, "Fails.", None)
            .await
            .unwrap();
        forum::reply(&w.db, &w.other, u.id, "After it.", None)
            .await
            .unwrap();
        refuse_notifications_of(&w, failing.id).await;
        let told = || async {
            let mut topics: Vec<Option<i64>> = notification::Entity::find()
                .filter(notification::Column::UserId.eq(w.moderator.id))
                .all(&w.db)
                .await
                .unwrap()
                .into_iter()
                .map(|n| n.topic_id)
                .collect();
            topics.sort();
            topics
        };
        assert_eq!(
            catch_up(&w.db, minute).await.unwrap(),
            Round {
                spread: 1,
                failed: 1
            }
        );
        assert_eq!(
            told().await,
            vec![Some(u.id)],
            "the reply after it was told"
        );
        let waiting = fan_out::Entity::find().all(&w.db).await.unwrap();
        assert_eq!(waiting.len(), 1);
        assert_eq!(
            (waiting[0].post_id, waiting[0].attempts),
            (Some(failing.id), 1)
        );
        for attempt in 2..=MOST_ATTEMPTS {
            assert_eq!(
                catch_up(&w.db, minute).await.unwrap(),
                Round {
                    spread: 0,
                    failed: 1
                },
                "attempt {attempt}"
            );
        }
        assert_eq!(fan_out::Entity::find().all(&w.db).await.unwrap(), vec![]);
        assert_eq!(told().await, vec![Some(u.id)], "nobody told twice");
        // Once the cause is gone, the worker carries on as before.
        w.db.execute_unprepared("DROP TRIGGER refuse")
            .await
            .unwrap();
        forum::reply(&w.db, &w.other, t.id, "Works again.", None)
            .await
            .unwrap();
        assert_eq!(catch_up(&w.db, minute).await.unwrap().spread, 1);
        assert_eq!(told().await, vec![Some(t.id), Some(u.id)]);
    }

    /// Under a backlog a round reads the queue batch after batch: a fan-out that failed in the
    /// first is not tried again in the next (five batches in one second would give it up
    /// before anything had time to change).
    #[tokio::test]
    async fn a_failing_fan_out_counts_once_a_round() {
        let w = World::new().await;
        let (t, u) = two_followed_topics(&w).await;
        let minute = std::time::Duration::from_secs(60);
        let failing = forum::reply(&w.db, &w.other, t.id, "Fails.", None)
            .await
            .unwrap();
        for n in 0..249 {
            forum::reply(&w.db, &w.other, u.id, &format!("Reply {n}."), None)
                .await
                .unwrap();
        }
        refuse_notifications_of(&w, failing.id).await;
        assert_eq!(
            catch_up(&w.db, minute).await.unwrap(),
            Round {
                spread: 249,
                failed: 1
            }
        );
        let waiting = fan_out::Entity::find().all(&w.db).await.unwrap();
        assert_eq!(waiting.len(), 1);
        assert_eq!(
            waiting[0].attempts, 1,
            "once in the round, not once a batch"
        );
    }
}
