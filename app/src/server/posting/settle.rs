//! The derived figures of a topic and its category, recomputed from the rows after every change
//! of a post's state or a topic's status: never patched in place, so no order of actions can
//! leave them wrong. (A property test in `lifecycle_properties` checks them after random
//! sequences of actions.)
//!
//! - post count: the topic's visible posts; last activity: the latest time one became public.
//! - listed: the opening post is visible; a held, hidden or deleted one takes the topic out of
//!   every list (and out of everyone's sight but its author's and moderators', `visibility`), as
//!   a forum that hides a flagged opening post unlists its topic: its title is in every list.
//!   An article's comment topic has no opening post of its own and is listed with its article.
//! - first staff reply: the earliest time a staff reply that is visible now became public (its
//!   creation, or its approval if it was held). None for a topic staff started: no clock runs.
//! - awaiting staff: since the topic's creation, or its latest reopening, unless staff have
//!   answered (a visible staff reply public since then) or decided (a status, or "no reply
//!   needed", or a merge into another idea, after it). A topic whose opening post is held waits
//!   too (the queue shows it as waiting for approval); one whose opening post is hidden or
//!   deleted does not; nothing waits in an archived category, and once it is restored (or the
//!   topic moved out) a wait runs from then at the earliest (`end_archiving`).
//! - category: its listed topics, the sum of their post counts, its latest activity.
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryResult,
    QuerySelect, QueryTrait, Statement,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    error::AppError,
    model::PostState,
    server::{
        batch::Batch,
        db::numbered,
        entity::{category, topic},
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
    let mut later = Batch::default();
    let after = settle_after(txn, topic_id, &mut later).await?;
    later.run(txn).await?;
    Ok(after)
}

/// Ends the archiving of category `category` for a topic whose wait it ended, now in a category
/// that takes posts (it was restored, or the topic moved out): `kind` (`CATEGORY_RESTORED` or
/// `MOVED_OUT_OF_ARCHIVE`) goes in its history, with `note` if it waits again, and it waits from
/// now if nothing answered or decided it meanwhile.
pub async fn end_archiving(
    txn: &impl ConnectionTrait,
    topic_id: i64,
    actor_id: i64,
    kind: &str,
    category: &str,
    note: &str,
) -> Result<(), AppError> {
    let waits = settle(txn, topic_id).await?.awaiting_staff_since.is_some();
    let note = if waits { note } else { "" };
    topic_events::record(txn, topic_id, Some(actor_id), kind, category, note, false).await?;
    settle(txn, topic_id).await?;
    Ok(())
}

/// `settle`, sending the caller's writes held in `later` with its read and leaving its own
/// writes there, for the caller's next statement (a reply's whole settling is one round trip on
/// SQLite, and its writes go with the next). Nothing here reads what `later` holds on entry.
pub(super) async fn settle_after(
    txn: &impl ConnectionTrait,
    topic_id: i64,
    later: &mut Batch,
) -> Result<topic::Model, AppError> {
    Ok(settle_reading(txn, topic_id, later, Vec::new()).await?.0)
}

/// `settle_after`, with the reads `beside` sent in the same round trip as its own, after the
/// writes held in `later`, and their rows given back: reads the caller needs next of rows that
/// nothing here writes (a reply's word to its topic's author, `notify::TopicOwner`).
pub(super) async fn settle_reading(
    txn: &impl ConnectionTrait,
    topic_id: i64,
    later: &mut Batch,
    beside: Vec<Statement>,
) -> Result<(topic::Model, Vec<Vec<QueryResult>>), AppError> {
    // Locked first, so two moderators acting on two posts of one topic at once settle one after
    // the other, each counting the other's change.
    crate::server::records::topics::lock(txn, topic_id).await?;
    let (facts, beside) = Facts::read(txn, topic_id, std::mem::take(later), beside)
        .await?
        .ok_or_else(|| AppError::NotFound(TOPIC_MISSING.into()))?;
    let Facts {
        before,
        post_count,
        last_public,
        opening,
        is_article_topic,
        first_staff_reply,
        last_staff_reply,
        latest_event,
        archive_ended,
        archived,
    } = facts;
    let listed = is_article_topic || opening == Some(PostState::Visible);
    let first_staff_reply_at = if before.started_by_staff {
        None
    } else {
        first_staff_reply
    };
    // Held for approval, the customer waits all the same; and hidden by members' flags until a
    // moderator decides (`under_review`): three members' flags must not take an unanswered
    // complaint out of the queue and the public figures. A moderator's hide or delete does.
    let opening_waits = match opening {
        Some(PostState::Visible | PostState::Pending) => true,
        Some(PostState::Hidden) => under_review(txn, topic_id).await?,
        _ => false,
    };
    let awaiting_staff_since = if before.started_by_staff || !opening_waits {
        None
    } else {
        let wait_start = match &latest_event {
            None => Some(before.created_at),
            Some((kind, at)) if kind == topic_events::REOPENED => Some(*at),
            Some(_) => None,
        };
        // Answered: a staff reply public since the wait began (the latest one is, if any is).
        // It waits since then, or since its category's archiving ended for it if later.
        wait_start
            .filter(|start| last_staff_reply.is_none_or(|at| at < *start))
            .map(|start| archive_ended.map_or(start, |end| std::cmp::max(start, end)))
    };
    // Nobody can answer in an archived category, so nothing waits there. A wait a moderator's
    // action would start there (a staff reply deleted, an opening post restored) is marked as
    // its archiving marked the waits it found, once, so that restoring the category looks at the
    // topic again (`end_archiving`).
    let awaiting_staff_since = match (archived, awaiting_staff_since) {
        (None, waits) => waits,
        (Some(_), None) => None,
        (Some(name), Some(_)) => {
            if !topic_events::ended_by_archiving(txn, topic_id).await? {
                topic_events::record(
                    txn,
                    topic_id,
                    None,
                    topic_events::CATEGORY_ARCHIVED,
                    &name,
                    "",
                    false,
                )
                .await?;
            }
            None
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
        later.push(
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
                .build(txn.get_database_backend()),
        );
        recount_category(txn, before.category_id, Some(&before), Some(&after), later).await?;
    }
    Ok((after, beside))
}

/// Whether the topic's opening post, hidden, still has open flags: members' flags hid it and a
/// moderator has not decided yet (every moderator's action on a post closes its flags).
async fn under_review(txn: &impl ConnectionTrait, topic_id: i64) -> Result<bool, AppError> {
    Ok(txn
        .query_one_raw(numbered(
            txn.get_database_backend(),
            &format!("SELECT 1 AS open WHERE {}", under_review_sql("$1")),
            vec![topic_id.into()],
        ))
        .await?
        .is_some())
}

/// True of the topic whose id is `topic` (a column or a placeholder) when its opening post is
/// hidden with flags still open (`under_review`).
pub fn under_review_sql(topic: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM posts p JOIN flags f ON f.post_id = p.id
                  WHERE p.topic_id = {topic} AND p.post_number = 1 AND p.state = '{}'
                    AND f.state = 'open')",
        PostState::Hidden.as_str()
    )
}

/// What `settle` works from, read in one statement: the topic's row and, from its posts and
/// history, the figures the rule derives. (One statement, not eight: a reply settles its topic
/// inside the writers' turn on SQLite, where each statement is a round trip to SQLite's thread.)
struct Facts {
    before: topic::Model,
    /// Its visible posts.
    post_count: i32,
    /// The latest time one of them became public.
    last_public: Option<DateTimeUtc>,
    /// The opening post's state (none for an article's comment topic).
    opening: Option<PostState>,
    is_article_topic: bool,
    /// The earliest and latest times a visible staff reply (not the opening post) became public.
    first_staff_reply: Option<DateTimeUtc>,
    last_staff_reply: Option<DateTimeUtc>,
    /// The latest event that starts or ends a wait for staff: its kind and time.
    latest_event: Option<(String, DateTimeUtc)>,
    /// The latest time an archiving that ended its wait was over for it.
    archive_ended: Option<DateTimeUtc>,
    /// The category's name, when it is archived.
    archived: Option<String>,
}

impl Facts {
    /// Read after the writes held in `later`, with the reads `beside` after it (their rows
    /// given back).
    async fn read(
        txn: &impl ConnectionTrait,
        topic_id: i64,
        later: Batch,
        beside: Vec<Statement>,
    ) -> Result<Option<(Facts, Vec<Vec<QueryResult>>)>, AppError> {
        let backend = txn.get_database_backend();
        let read = numbered(backend, &Facts::sql(), vec![topic_id.into()]);
        let (row, beside) = if beside.is_empty() {
            (later.then_one(txn, read).await?, Vec::new())
        } else {
            let mut reads = vec![read];
            reads.extend(beside);
            let mut rows = later.then_each(txn, reads).await?.into_iter();
            let row = rows.next().and_then(|facts| facts.into_iter().next());
            (row, rows.collect())
        };
        let Some(row) = row else {
            return Ok(None);
        };
        let event_kind: Option<String> = row.try_get("", "f_event_kind")?;
        let event_at: Option<DateTimeUtc> = row.try_get("", "f_event_at")?;
        let facts = Facts {
            before: topic::Model::from_query_result(&row, "")?,
            post_count: row.try_get::<i64>("", "f_post_count")? as i32,
            last_public: row.try_get("", "f_last_public")?,
            opening: row
                .try_get::<Option<String>>("", "f_opening")?
                .map(|s| PostState::parse(&s)),
            is_article_topic: row.try_get("", "f_article")?,
            first_staff_reply: row.try_get("", "f_first_staff")?,
            last_staff_reply: row.try_get("", "f_last_staff")?,
            latest_event: event_kind.zip(event_at),
            archive_ended: row.try_get("", "f_archive_ended")?,
            archived: row.try_get("", "f_archived")?,
        };
        Ok(Some((facts, beside)))
    }

    /// The statement `read` runs, for the topic `$1`.
    fn sql() -> String {
        let visible = format!(
            "FROM posts p WHERE p.topic_id = t.id AND p.state = '{}'",
            PostState::Visible.as_str()
        );
        // Read through idx_posts_topic_state_staff_published: the staff flag compared to a
        // value (a bare column is no index key), and the number kept out of the index choice
        // (`+`): SQLite, keying on the post number, read every post of the topic. (PostgreSQL
        // takes the staff times from the index with either text.)
        let staff = format!("{visible} AND +p.post_number > 1 AND p.is_staff_reply = TRUE");
        let latest = topic_events::latest_clock_event_sql;
        format!(
            "SELECT t.*,
                    (SELECT COUNT(*) {visible}) AS f_post_count,
                    (SELECT MAX(p.published_at) {visible}) AS f_last_public,
                    (SELECT p.state FROM posts p WHERE p.topic_id = t.id AND p.post_number = 1)
                      AS f_opening,
                    EXISTS (SELECT 1 FROM articles a WHERE a.topic_id = t.id) AS f_article,
                    (SELECT MIN(p.published_at) {staff}) AS f_first_staff,
                    (SELECT MAX(p.published_at) {staff}) AS f_last_staff,
                    {} AS f_event_kind,
                    {} AS f_event_at,
                    {} AS f_archive_ended,
                    (SELECT c.name FROM categories c WHERE c.id = t.category_id AND c.archived)
                      AS f_archived
               FROM topics t WHERE t.id = $1",
            latest("kind"),
            latest("created_at"),
            topic_events::latest_archive_end_sql(),
        )
    }
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
    let mut later = Batch::default();
    recount_category(txn, t.category_id, Some(t), None, &mut later).await?;
    let moved = topic::Model {
        category_id: to_category,
        ..t.clone()
    };
    recount_category(txn, to_category, None, Some(&moved), &mut later).await?;
    Ok(later.run(txn).await?)
}

/// A category's figures after one of its topics changed from `before` to `after` (None: not in
/// it). The counts move by the difference of the topic's share, which was itself recomputed, so
/// a category of many topics is never summed again per post; its latest activity is looked up
/// again only when the topic that held it moved back or left. The usual case (a reply) is one
/// write, held in `later`; the writes held there are sent before any read.
async fn recount_category(
    txn: &impl ConnectionTrait,
    category_id: i64,
    before: Option<&topic::Model>,
    after: Option<&topic::Model>,
    later: &mut Batch,
) -> Result<(), AppError> {
    let none = Share {
        listed: false,
        posts: 0,
    };
    let (old, new) = (
        before.map(Share::of).unwrap_or(none),
        after.map(Share::of).unwrap_or(none),
    );
    let old_last = before.filter(|t| t.visible).map(|t| t.last_posted_at);
    let new_last = after.filter(|t| t.visible).map(|t| t.last_posted_at);
    let backend = txn.get_database_backend();
    let counts = category::Entity::update_many()
        // Added, not written, so concurrent writers in one category (on PostgreSQL) add up; the
        // update also takes the category's row lock, so the latest activity below is read and
        // written by one writer at a time.
        .col_expr(
            category::Column::TopicCount,
            Expr::col(category::Column::TopicCount)
                .add(i32::from(new.listed) - i32::from(old.listed)),
        )
        .col_expr(
            category::Column::PostCount,
            Expr::col(category::Column::PostCount).add(new.posts - old.posts),
        )
        .filter(category::Column::Id.eq(category_id));
    if new_last >= old_last {
        // The topic's activity did not move back (a reply, an approval): the category's latest
        // is the later of the two, in the same statement.
        let later_of_two = Expr::case(
            Expr::col(category::Column::LastPostedAt)
                .is_null()
                .or(Expr::col(category::Column::LastPostedAt).lt(new_last)),
            Expr::value(new_last),
        )
        .finally(Expr::col(category::Column::LastPostedAt));
        let counts = if new_last.is_some() {
            counts.col_expr(category::Column::LastPostedAt, later_of_two.into())
        } else {
            counts
        };
        later.push(counts.build(backend));
        return Ok(());
    }
    later.push(counts.build(backend));
    std::mem::take(later).run(txn).await?;
    let Some(c) = category::Entity::find_by_id(category_id).one(txn).await? else {
        return Ok(());
    };
    // It moved back (a post deleted or hidden, the topic unlisted): if it held the category's
    // latest, the latest is looked up again.
    let last = if old_last == c.last_posted_at {
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

#[cfg(test)]
mod tests {
    use sea_orm::ConnectionTrait;

    use super::Facts;
    use crate::server::{
        db::numbered,
        forum,
        testing::{World, query_plan, with_statistics},
    };

    /// Settle reads a topic's posts on every write to it, inside the writers' turn on SQLite:
    /// through idx_posts_topic_state_staff_published (index entries only, and one entry for
    /// each staff time), never row by row through the index by post number, whatever the
    /// statistics say. Here with statistics taken on a topic of 400 posts, as a site's own
    /// `PRAGMA optimize` would leave them.
    #[tokio::test]
    async fn settle_reads_a_long_topic_through_its_index() {
        let w = World::new().await;
        let (t, _) = forum::start_topic(&w.db, &w.customer, "questions", "Long", "Opening.", None)
            .await
            .unwrap();
        forum::reply(&w.db, &w.staff, t.id, "From staff.", None)
            .await
            .unwrap();
        let copies = "INSERT INTO posts (topic_id, author_id, post_number, source, html, state,
                                         is_staff_reply, created_at, published_at)
                      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
                      SELECT topic_id, author_id, post_number + 10 + i, source, html, state,
                             is_staff_reply, created_at, published_at
                        FROM posts, n WHERE topic_id = $1 AND post_number = 1";
        let backend = w.db.get_database_backend();
        w.db.execute_raw(numbered(backend, copies, vec![t.id.into()]))
            .await
            .unwrap();
        let txn = with_statistics(&w.db, "").await;
        let facts = numbered(backend, &Facts::sql(), vec![t.id.into()]);
        let plan = query_plan(&txn, &facts, "p").await;
        let index = "idx_posts_topic_state_staff_published";
        assert_eq!(
            plan,
            [
                // The count and the latest public time: index entries of the visible posts.
                format!("SEARCH p USING COVERING INDEX {index} (topic_id=? AND state=?)"),
                format!("SEARCH p USING COVERING INDEX {index} (topic_id=? AND state=?)"),
                // The opening post, by its number.
                "SEARCH p USING INDEX idx_posts_topic_number (topic_id=? AND post_number=?)".into(),
                // The first and last staff times: the first entry in order that is a reply.
                format!(
                    "SEARCH p USING INDEX {index} (topic_id=? AND state=? AND is_staff_reply=?)"
                ),
                format!(
                    "SEARCH p USING INDEX {index} (topic_id=? AND state=? AND is_staff_reply=?)"
                ),
            ],
            "a read of the topic's posts row by row"
        );
    }
}
