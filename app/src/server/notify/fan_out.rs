//! The worker's half of a notification: followers of a topic (or watchers of a category, for a
//! new topic) are told in two set-based statements, whatever their number, then those who chose
//! e-mail at once get one. What a fan-out reads is read before the turn to write, and a turn
//! holds a few fan-outs for at most about 10 ms, so requests waiting for the write lock wait for
//! a few statements each, not for the whole crowd.
use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, JoinType, QueryFilter,
    QueryOrder, QuerySelect, Value,
};

use super::{
    NEW_TOPIC, REPLY,
    compose::{self, Letter},
    preferences::{MailKind, Mode},
};
use crate::{
    error::AppError,
    model::PostState,
    server::{
        db::begin_private_write,
        entity::{article, fan_out, post, topic, user},
        records::posts,
        visibility,
    },
};

/// Spreads what is waiting, batch after batch of `BATCH`, until the queue is empty or `budget`
/// has passed; gives how many it did. One batch a second was a ceiling of 200 replies a second
/// before the queue grew without end and followers heard of a reply minutes late; each fan-out
/// takes the write turn with a few others (`PER_TURN`), so requests' writes go between them.
pub async fn catch_up(
    db: &DatabaseConnection,
    budget: std::time::Duration,
) -> Result<usize, AppError> {
    const BATCH: u64 = 200;
    let started = std::time::Instant::now();
    let mut done = 0;
    loop {
        let (spread, taken) = run_batch(db, BATCH).await?;
        done += spread;
        if taken < BATCH as usize || started.elapsed() >= budget {
            return Ok(done);
        }
    }
}

/// Spreads what is waiting, oldest first, at most `limit` fan-outs; gives how many it did.
pub async fn run_due(db: &DatabaseConnection, limit: u64) -> Result<usize, AppError> {
    Ok(run_batch(db, limit).await?.0)
}

/// Fan-outs spread in one write transaction: a few milliseconds of the writers' turn (six
/// statements each, more where someone gets an e-mail at once).
const PER_TURN: usize = 25;
/// No fan-out starts in a turn that has taken this long already.
const TURN_TIME: std::time::Duration = std::time::Duration::from_millis(10);

/// `run_due`, also giving how many jobs it found waiting (some may have been another worker's).
async fn run_batch(db: &DatabaseConnection, limit: u64) -> Result<(usize, usize), AppError> {
    let waiting = fan_out::Entity::find()
        .order_by_asc(fan_out::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let taken = waiting.len();
    // Read before the turn to write, which is then held for the claims, checks and writes
    // only (on SQLite every statement in the turn holds back every writer).
    let mut read = Vec::with_capacity(taken);
    for job in &waiting {
        read.push(Facts::read(db, job).await?);
    }
    let mut jobs = waiting.into_iter().zip(read).peekable();
    let mut done = 0;
    while jobs.peek().is_some() {
        // Several fan-outs a turn: one a turn waited behind every writer in the queue for each
        // (about 150 a second beside 32 writers, so the queue grew), and each committed alone,
        // one sync to disk apiece when nobody else was writing.
        let txn = begin_private_write(db).await?;
        let turn = std::time::Instant::now();
        let mut in_turn = 0;
        // A fan-out to a crowd takes longer (a topic with 10,000 followers, some e-mailed at
        // once): the turn ends early rather than hold every writer back for a long batch.
        while in_turn < PER_TURN && turn.elapsed() < TURN_TIME {
            let Some((job, read)) = jobs.next() else {
                break;
            };
            in_turn += 1;
            // Taking the row is the claim: a second worker deletes nothing and moves on.
            let claimed = fan_out::Entity::delete_many()
                .filter(fan_out::Column::Id.eq(job.id))
                .exec(&txn)
                .await?
                .rows_affected
                == 1;
            if !claimed {
                continue;
            }
            // A post removed or a topic hidden meanwhile is seen here, as if read in the turn.
            let facts = match read {
                Some(facts) if facts.still_hold(&txn, &job).await? => Some(facts),
                Some(_) => Facts::read(&txn, &job).await?,
                None => None,
            };
            if let Some(facts) = facts {
                spread(&txn, &job, facts).await?;
            }
            done += 1;
        }
        txn.commit().await?;
    }
    Ok((done, taken))
}

/// Who the fan-out reaches, as SQL over `$1` topic, `$2` actor, `$3` post (or 0), `$4` when the
/// change was made: followers of the topic, or for a new topic the category's watchers who did
/// not mute it; for a change by staff (status, official answer, merge) its voters too, whoever's
/// vote it was; only those who followed, watched or voted by the time of the change (one who
/// follows while the job waits has read it already); never the actor, never the topic's author
/// (told directly), never someone this post already told by name.
fn audience(kind: &str) -> &'static str {
    if kind == NEW_TOPIC {
        "SELECT w.user_id FROM category_watches w JOIN topics t ON t.id = $1
          WHERE w.category_id = t.category_id AND w.user_id <> $2 AND w.created_at <= $4
            AND NOT EXISTS (SELECT 1 FROM topic_follows m WHERE m.user_id = w.user_id
                            AND m.topic_id = $1 AND m.level = 'muted')
            AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = w.user_id
                            AND n.post_id = $3)"
    } else if kind == REPLY {
        "SELECT f.user_id FROM topic_follows f JOIN topics t ON t.id = $1
          WHERE f.topic_id = $1 AND f.level = 'following' AND f.user_id <> $2
            AND f.created_at <= $4
            AND f.user_id <> t.author_id
            AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = f.user_id
                            AND n.post_id = $3)"
    } else {
        "SELECT p.user_id FROM (
                SELECT f.user_id FROM topic_follows f WHERE f.topic_id = $1 AND f.level = 'following'
                  AND f.created_at <= $4
                UNION
                SELECT v.user_id FROM votes v WHERE v.topic_id = $1 AND v.created_at <= $4
                  AND NOT EXISTS (SELECT 1 FROM topic_follows m WHERE m.user_id = v.user_id
                                  AND m.topic_id = $1 AND m.level = 'muted')
             ) p JOIN topics t ON t.id = $1
          WHERE p.user_id <> $2 AND p.user_id <> t.author_id
            AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = p.user_id
                            AND n.post_id = $3)"
    }
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
    /// None when the topic or the member who acted is gone: the fan-out tells nobody, and is
    /// done (an error would leave it first in the queue, stopping every fan-out after it).
    async fn read(
        conn: &impl ConnectionTrait,
        job: &fan_out::Model,
    ) -> Result<Option<Facts>, AppError> {
        let Some((t, article)) = topic_and_article(conn, job.topic_id).await? else {
            return Ok(None);
        };
        let Some(actor) = user::Entity::find_by_id(job.actor_id).one(conn).await? else {
            return Ok(None);
        };
        let p = post_of(conn, job).await?;
        // Only what staff decided asks (see `spread`).
        let idea = job.kind != NEW_TOPIC
            && job.kind != REPLY
            && crate::server::entity::category::Entity::find_by_id(t.category_id)
                .one(conn)
                .await?
                .is_some_and(|c| c.kind == "ideas");
        Ok(Some(Facts {
            t,
            article,
            p,
            actor,
            idea,
        }))
    }

    /// Whether the topic, its article and the post are still as read, in what the fan-out uses
    /// of them: two statements instead of reading everything again in the turn. (A topic's
    /// counts and clock move with every reply; they are not part of a message.)
    async fn still_hold(
        &self,
        conn: &impl ConnectionTrait,
        job: &fan_out::Model,
    ) -> Result<bool, AppError> {
        let Some((t, article)) = topic_and_article(conn, job.topic_id).await? else {
            return Ok(false);
        };
        let told = |t: &topic::Model| {
            (
                t.visible,
                t.title.clone(),
                t.slug.clone(),
                t.category_id,
                t.author_id,
            )
        };
        Ok(told(&t) == told(&self.t)
            && article == self.article
            && post_of(conn, job).await? == self.p)
    }
}

async fn topic_and_article(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<(topic::Model, Option<article::Model>)>, AppError> {
    let its_article = article::Entity::belongs_to(topic::Entity)
        .from(article::Column::TopicId)
        .to(topic::Column::Id)
        .into();
    Ok(topic::Entity::find_by_id(id)
        .select_also(article::Entity)
        .join_rev(JoinType::LeftJoin, its_article)
        .one(conn)
        .await?)
}

async fn post_of(
    conn: &impl ConnectionTrait,
    job: &fan_out::Model,
) -> Result<Option<post::Model>, AppError> {
    Ok(match job.post_id {
        Some(id) => post::Entity::find_by_id(id).one(conn).await?,
        None => None,
    })
}

async fn spread(
    txn: &impl ConnectionTrait,
    job: &fan_out::Model,
    facts: Facts,
) -> Result<(), AppError> {
    let Facts {
        t,
        article,
        p,
        actor,
        idea,
    } = facts;
    // Removed or held again before the worker came to it: nobody hears of it.
    if job.post_id.is_some() && p.as_ref().is_none_or(|p| p.state() != PostState::Visible) {
        return Ok(());
    }
    // Followers and watchers hear only of what anyone may read: a topic whose opening post was
    // removed or waits for approval, or an unpublished article's, tells nobody through here
    // (its author still hears directly).
    if !visibility::can_see_loaded_topic(&t, article.as_ref(), false, None) {
        return Ok(());
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
    let backend = txn.get_database_backend();
    let now = Utc::now();
    let post_id = job.post_id.unwrap_or(0);
    let audience = audience(kind);
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
    let ids: Vec<i64> = txn
        .query_all_raw(crate::server::db::numbered(
            backend,
            &format!(
                "SELECT a.user_id FROM ({audience}) a JOIN users u ON u.id = a.user_id
                  WHERE u.email_confirmed_at IS NOT NULL AND u.email_bouncing_since IS NULL
                    AND {wanted}"
            ),
            values,
        ))
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<i64>(0))
        .collect::<Result<_, _>>()?;
    // Into the unread notification of the same kind in this topic, where one exists...
    let mut values = base();
    values.extend([now.into(), kind.into()]);
    txn.execute_raw(crate::server::db::numbered(
        backend,
        &format!(
            "UPDATE notifications SET count = count + 1, updated_at = $5
              WHERE topic_id = $1 AND kind = $6 AND read_at IS NULL
                AND user_id IN ({audience})"
        ),
        values,
    ))
    .await?;
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
    txn.execute_raw(crate::server::db::numbered(
        backend,
        &format!(
            "INSERT INTO notifications (user_id, kind, message, link, created_at, read_at,
                                        topic_id, post_id, count, staff, mail_kind, updated_at)
             SELECT a.user_id, $6, $7, $8, $5, NULL, $1, $11, 1, $9, $10, $5
               FROM ({audience}) a
              WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = a.user_id
                                AND n.topic_id = $1 AND n.kind = $6 AND n.read_at IS NULL)"
        ),
        values,
    ))
    .await?;
    if ids.is_empty() {
        return Ok(());
    }
    let letter = Letter {
        subject: t.title.clone(),
        headline: message,
        post_html: p.as_ref().map(|p| p.html.clone()),
        link,
        why: why.into(),
        kind: mail_kind,
        topic_id: Some(t.id),
    };
    for chunk in ids.chunks(500) {
        let members = user::Entity::find()
            .filter(user::Column::Id.is_in(chunk.iter().copied()))
            .all(txn)
            .await?;
        compose::send_all(txn, &members, &letter).await?;
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

    /// What the worker read before its turn is used only while it still holds: another reply
    /// (which moves the topic's counts) leaves it good; a removed post or a renamed topic makes
    /// the worker read again in the turn.
    #[tokio::test]
    async fn facts_read_before_the_turn_are_checked_in_it() {
        let w = World::new().await;
        let (t, _) = forum::start_topic(&w.db, &w.customer, "questions", "Old", "Body.", None)
            .await
            .unwrap();
        let p = forum::reply(&w.db, &w.other, t.id, "A reply.", None)
            .await
            .unwrap();
        let job = fan_out::Entity::find()
            .filter(fan_out::Column::PostId.eq(p.id))
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        let read = Facts::read(&w.db, &job).await.unwrap().unwrap();
        forum::reply(&w.db, &w.staff, t.id, "Another.", None)
            .await
            .unwrap();
        assert!(read.still_hold(&w.db, &job).await.unwrap());
        act_on_post(&w.db, &w.moderator, p.id, PostAction::Hide, "Rude")
            .await
            .unwrap();
        assert!(!read.still_hold(&w.db, &job).await.unwrap());
        let again = Facts::read(&w.db, &job).await.unwrap().unwrap();
        topic::Entity::update_many()
            .col_expr(topic::Column::Title, sea_orm::sea_query::Expr::value("New"))
            .filter(topic::Column::Id.eq(t.id))
            .exec(&w.db)
            .await
            .unwrap();
        assert!(!again.still_hold(&w.db, &job).await.unwrap());
    }

    /// A fan-out whose actor is gone tells nobody and is done; it does not stop the ones
    /// around it (an error left it first in the queue for ever).
    #[tokio::test]
    async fn a_fan_out_whose_actor_is_gone_does_not_stop_the_queue() {
        let w = World::new().await;
        let (t, _) = forum::start_topic(&w.db, &w.customer, "questions", "Queue", "Body.", None)
            .await
            .unwrap();
        crate::server::notify::following::set_level(
            &w.db,
            w.moderator.id,
            t.id,
            crate::server::notify::following::Level::Following,
        )
        .await
        .unwrap();
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
        assert_eq!(catch_up(&w.db, minute).await.unwrap(), 4);
        assert_eq!(fan_out::Entity::find().all(&w.db).await.unwrap(), vec![]);
        let told = crate::server::entity::notification::Entity::find()
            .filter(crate::server::entity::notification::Column::UserId.eq(w.moderator.id))
            .all(&w.db)
            .await
            .unwrap();
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].count, 2, "both replies");
    }
}
