//! What a member has read: per topic, the highest post number they have seen (as Discourse keeps
//! `last_read_post_number`), and when they last marked everything read. From these, the one rule
//! of what is new to them ([`unread_by_topic`], [`unread_by_category`]): a visible post by
//! someone else, numbered after the last one they read, written after their horizon.
use std::collections::HashMap;

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, prelude::DateTimeUtc};

use crate::error::AppError;
use crate::model::Unread;
use crate::server::db::{begin_private_write, numbered, placeholders};
use crate::server::entity::user;

/// Activity older than this is never "new": a member back after a year is not shown the whole
/// forum as unread, and the count per category reads a bounded range of recent posts.
pub const NEW_WITHIN_DAYS: i64 = 30;

/// Marks `topic_id` read up to post `number` for `member`: the last post of the page they were
/// shown. Never moves back (reading page 1 again after page 3 keeps page 3 read), and writes
/// nothing when it would not move forward, so re-reading a topic costs one indexed read.
pub async fn mark_read(
    db: &DatabaseConnection,
    member: i64,
    topic_id: i64,
    number: i32,
) -> Result<(), AppError> {
    let read = last_read(db, member, topic_id).await?;
    mark_read_past(db, member, topic_id, number, read).await
}

/// `mark_read` for a caller that has just read the member's `last_read` (the topic page, which
/// reads it with the reader's other rows). A stale `read` is harmless: the write never moves
/// the marker back.
pub async fn mark_read_past(
    db: &DatabaseConnection,
    member: i64,
    topic_id: i64,
    number: i32,
    read: Option<i32>,
) -> Result<(), AppError> {
    if number < 1 || read >= Some(number) {
        return Ok(());
    }
    // What a member has read shows on their own pages only, never cached: no page version bump.
    let txn = begin_private_write(db).await?;
    txn.execute_raw(numbered(
        db.get_database_backend(),
        "INSERT INTO topic_reads (user_id, topic_id, last_read_post_number, last_read_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, topic_id) DO UPDATE
            SET last_read_post_number = excluded.last_read_post_number,
                last_read_at = excluded.last_read_at
          WHERE topic_reads.last_read_post_number < excluded.last_read_post_number",
        vec![
            member.into(),
            topic_id.into(),
            number.into(),
            Utc::now().into(),
        ],
    ))
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The highest post number `member` has read in `topic_id`, if they ever opened it.
pub async fn last_read(
    db: &DatabaseConnection,
    member: i64,
    topic_id: i64,
) -> Result<Option<i32>, AppError> {
    let row = db
        .query_one_raw(numbered(
            db.get_database_backend(),
            "SELECT last_read_post_number FROM topic_reads WHERE user_id = $1 AND topic_id = $2",
            vec![member.into(), topic_id.into()],
        ))
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get_by_index::<i32>(0)?),
        None => None,
    })
}

/// "Mark all read": everything up to now stops being new or unread for `member`. One row, not
/// one per topic, however large the forum.
pub async fn mark_all_read(db: &DatabaseConnection, member: i64) -> Result<(), AppError> {
    // What a member has read shows on their own pages only, never cached: no page version bump.
    let txn = begin_private_write(db).await?;
    txn.execute_raw(numbered(
        db.get_database_backend(),
        "INSERT INTO read_horizons (user_id, all_read_at) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET all_read_at = excluded.all_read_at",
        vec![member.into(), Utc::now().into()],
    ))
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Since when activity can be new to `member`: the latest of when they joined (the forum as it
/// was then is not news to them), when they last marked all read, and [`NEW_WITHIN_DAYS`] ago.
pub async fn horizon(
    db: &DatabaseConnection,
    member: &user::Model,
    now: DateTimeUtc,
) -> Result<DateTimeUtc, AppError> {
    let marked: Option<DateTimeUtc> = match db
        .query_one_raw(numbered(
            db.get_database_backend(),
            "SELECT all_read_at FROM read_horizons WHERE user_id = $1",
            vec![member.id.into()],
        ))
        .await?
    {
        Some(row) => Some(row.try_get_by_index(0)?),
        None => None,
    };
    let window = now - Duration::days(NEW_WITHIN_DAYS);
    Ok([Some(member.created_at), marked, Some(window)]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(window))
}

/// The posts the rule reads, from `idx_posts_topic_visible_created` (a topic's visible posts by
/// when they were written): only a topic's public posts after the horizon, however many posts
/// before it, or deleted and held ones, the topic has. SQLite is told the index: with the
/// statistics of `ANALYZE` it preferred the topic's posts by number, which walked all of those
/// (26 to 50 ms a home page with 200,000 of them in one topic; 0.15 ms from this index).
/// PostgreSQL picks it itself. The state is written out, not bound: a partial index is used only
/// when the query says its condition.
fn visible_posts(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Sqlite => "posts p INDEXED BY idx_posts_topic_visible_created",
        _ => "posts p",
    }
}

/// What the rule counts, shared by both groupings so a category's marker and its topics' markers
/// never disagree (within the [`COUNTED_TOPICS`] that a category's marker looks at): `$1` the
/// member, `$2` their horizon, `$3` true.
fn unread_from(backend: DbBackend) -> String {
    format!(
        "FROM {posts}
     JOIN topics t ON t.id = p.topic_id
     LEFT JOIN topic_reads r ON r.topic_id = p.topic_id AND r.user_id = $1
    WHERE p.state = 'visible'
      AND p.created_at > $2
      AND p.author_id <> $1
      AND p.post_number > COALESCE(r.last_read_post_number, 0)
      AND t.visible = $3",
        posts = visible_posts(backend)
    )
}

/// For each of `topics` that holds something new to `member`: [`Unread::New`] for a topic they
/// never opened whose opening post is itself new to them (someone else's, after their horizon),
/// else how many posts they have not read. One query, whatever the number of topics; topics with
/// nothing new are absent. `since` is the member's [`horizon`], read once by a page that asks
/// both this and [`unread_by_category`].
pub async fn unread_by_topic(
    db: &DatabaseConnection,
    member: &user::Model,
    since: DateTimeUtc,
    topics: &[i64],
) -> Result<HashMap<i64, Unread>, AppError> {
    if topics.is_empty() {
        return Ok(HashMap::new());
    }
    let backend = db.get_database_backend();
    let sql = format!(
        "SELECT p.topic_id, COUNT(*) AS unread,
                CAST(MAX(r.last_read_post_number) AS BIGINT) AS last_read,
                CAST(MIN(p.post_number) AS BIGINT) AS first_unread
           {}
            AND p.topic_id IN ({})
          GROUP BY p.topic_id",
        unread_from(backend),
        placeholders(4, topics.len())
    );
    let mut values: Vec<sea_orm::Value> = vec![member.id.into(), since.into(), true.into()];
    values.extend(topics.iter().map(|id| (*id).into()));
    let mut out = HashMap::new();
    for row in db.query_all_raw(numbered(backend, &sql, values)).await? {
        let topic_id: i64 = row.try_get("", "topic_id")?;
        let count: i64 = row.try_get("", "unread")?;
        let last_read: Option<i64> = row.try_get("", "last_read")?;
        let first_unread: i64 = row.try_get("", "first_unread")?;
        let unread = if last_read.is_none() && first_unread == 1 {
            Unread::New
        } else {
            Unread::Posts(count.clamp(0, u32::MAX as i64) as u32)
        };
        out.insert(topic_id, unread);
    }
    Ok(out)
}

/// How many of the forum's most recently active topics [`unread_by_category`] looks at. Every
/// topic active since a member's horizon is a probe into posts on each of their home pages: for
/// anyone who joined over [`NEW_WITHIN_DAYS`] ago on a forum of a million posts, 1,974 topics,
/// 8 to 45 ms on SQLite and 50 to 70 ms on PostgreSQL, where a forum of 10,000 posts has 42.
/// Discourse bounds what it tracks the same way (new topics only among its newest few
/// hundred). What is new further down still shows on the topic lists' own markers
/// ([`unread_by_topic`]).
pub const COUNTED_TOPICS: u32 = 200;

/// For each category with something new to `member`: how many of its topics hold it (by the
/// same rule as [`unread_by_topic`]), among the [`COUNTED_TOPICS`] most recently active (the
/// latest first, as the topic lists order them: ties by the newest topic). One grouped query
/// for the whole page, whose cost grows neither with the number of topics nor with their length
/// (only with a topic's public posts since the horizon, which the probe reads from their index).
/// `since` is the member's [`horizon`].
pub async fn unread_by_category(
    db: &DatabaseConnection,
    member: &user::Model,
    since: DateTimeUtc,
) -> Result<HashMap<i64, u32>, AppError> {
    // The same rule as `unread_from`, asked per topic: from the latest forum topics active since
    // the horizon (a topic's last_posted_at is its newest visible post's publication, never
    // before that post was written; read newest first from its index; articles' comment topics
    // are in no category the page lists, and would take the places of forum topics), whether
    // one of its public posts after the horizon answers it (an index probe that stops at the
    // first). Asked as a subquery with a limit, not EXISTS: PostgreSQL turned EXISTS into a hash
    // join over all of the last 30 days' posts (35,000 at a million posts, 50 ms) whatever the
    // number of topics. (Counting every new post instead read all of those posts on every
    // member's home page: 0.2 to 1.9 s at a million posts, depending on the plan.)
    let backend = db.get_database_backend();
    let sql = format!(
        "SELECT t.category_id, COUNT(*) AS topics
           FROM (SELECT id, category_id FROM topics
                  WHERE visible = $3
                    AND last_posted_at > $2
                    AND id NOT IN (SELECT topic_id FROM articles)
                  ORDER BY last_posted_at DESC, id DESC
                  LIMIT {COUNTED_TOPICS}) t
           LEFT JOIN topic_reads r ON r.topic_id = t.id AND r.user_id = $1
          WHERE (SELECT 1 FROM {posts}
                  WHERE p.topic_id = t.id
                    AND p.state = 'visible'
                    AND p.created_at > $2
                    AND p.author_id <> $1
                    AND p.post_number > COALESCE(r.last_read_post_number, 0)
                  LIMIT 1) IS NOT NULL
          GROUP BY t.category_id",
        posts = visible_posts(backend)
    );
    let values: Vec<sea_orm::Value> = vec![member.id.into(), since.into(), true.into()];
    let mut out = HashMap::new();
    for row in db.query_all_raw(numbered(backend, &sql, values)).await? {
        let category_id: i64 = row.try_get("", "category_id")?;
        let topics: i64 = row.try_get("", "topics")?;
        out.insert(category_id, topics.clamp(0, u32::MAX as i64) as u32);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::entity::topic;
    use crate::server::forum;
    use crate::server::moderation::{PostAction, act_on_post};
    use crate::server::testing::{World, insert_user};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    /// A world whose members joined yesterday, so everything written in the test is after their
    /// horizon.
    async fn world() -> World {
        World::builder()
            .members_aged(Duration::days(1))
            .build()
            .await
    }

    async fn unread_of(w: &World, member: &user::Model, topic_id: i64) -> Option<Unread> {
        let since = horizon(&w.db, member, Utc::now()).await.unwrap();
        unread_by_topic(&w.db, member, since, &[topic_id])
            .await
            .unwrap()
            .remove(&topic_id)
    }

    async fn categories_of(w: &World, member: &user::Model) -> HashMap<i64, u32> {
        let since = horizon(&w.db, member, Utc::now()).await.unwrap();
        unread_by_category(&w.db, member, since).await.unwrap()
    }

    /// The rule's queries name the visible state as text, as the partial index's condition does.
    #[test]
    fn the_rule_names_the_visible_state_as_stored() {
        assert_eq!(crate::model::PostState::Visible.as_str(), "visible");
    }

    #[tokio::test]
    async fn unread_counts_follow_reads_replies_and_hidden_posts() {
        let w = world().await;
        let (t, _) = forum::start_topic(
            &w.db,
            &w.other,
            "questions",
            "Export to CSV?",
            "How do I export?",
            None,
        )
        .await
        .unwrap();
        // Never opened, started after they joined: new to the customer, not to its author.
        assert_eq!(unread_of(&w, &w.customer, t.id).await, Some(Unread::New));
        assert_eq!(unread_of(&w, &w.other, t.id).await, None);
        assert_eq!(
            categories_of(&w, &w.customer).await.get(&t.category_id),
            Some(&1)
        );
        assert!(categories_of(&w, &w.other).await.is_empty());

        mark_read(&w.db, w.customer.id, t.id, 1).await.unwrap();
        assert_eq!(unread_of(&w, &w.customer, t.id).await, None);
        assert!(categories_of(&w, &w.customer).await.is_empty());

        let first = forum::reply(&w.db, &w.staff, t.id, "Use the Export button.", None)
            .await
            .unwrap();
        forum::reply(&w.db, &w.other, t.id, "Thanks, found it.", None)
            .await
            .unwrap();
        assert_eq!(
            unread_of(&w, &w.customer, t.id).await,
            Some(Unread::Posts(2))
        );
        assert_eq!(
            categories_of(&w, &w.customer).await.get(&t.category_id),
            Some(&1)
        );
        // The author of the topic has one reply they have not read (their own never counts).
        assert_eq!(unread_of(&w, &w.other, t.id).await, Some(Unread::Posts(1)));

        // A post a moderator hid is nothing to read.
        act_on_post(
            &w.db,
            &w.moderator,
            first.id,
            PostAction::Hide,
            "Wrong advice",
        )
        .await
        .unwrap();
        assert_eq!(
            unread_of(&w, &w.customer, t.id).await,
            Some(Unread::Posts(1))
        );
        assert_eq!(unread_of(&w, &w.other, t.id).await, None);

        // Their own reply is read by writing it; what came before it is still unread.
        forum::reply(&w.db, &w.customer, t.id, "Me too.", None)
            .await
            .unwrap();
        assert_eq!(
            unread_of(&w, &w.customer, t.id).await,
            Some(Unread::Posts(1))
        );
        // The category's probe looks past their own newest post, to the reply they have not
        // read.
        assert_eq!(
            categories_of(&w, &w.customer).await.get(&t.category_id),
            Some(&1)
        );

        mark_read(&w.db, w.customer.id, t.id, 4).await.unwrap();
        assert_eq!(unread_of(&w, &w.customer, t.id).await, None);
        assert_eq!(
            last_read(&w.db, w.customer.id, t.id).await.unwrap(),
            Some(4)
        );
        // Reading page 1 again does not make the rest unread.
        mark_read(&w.db, w.customer.id, t.id, 1).await.unwrap();
        assert_eq!(
            last_read(&w.db, w.customer.id, t.id).await.unwrap(),
            Some(4)
        );
        assert!(categories_of(&w, &w.customer).await.is_empty());
    }

    #[tokio::test]
    async fn an_opened_topic_counts_replies_and_an_old_one_is_not_new() {
        let w = world().await;
        let (t, _) = forum::start_topic(
            &w.db,
            &w.other,
            "questions",
            "Dark mode",
            "Please add it.",
            None,
        )
        .await
        .unwrap();
        // Someone who joined after the topic started: it is not new to them...
        let late = insert_user(&w.db, 40).await;
        assert_eq!(unread_of(&w, &late, t.id).await, None);
        // ...but a reply after they joined is, counted as a reply, not as a new topic.
        forum::reply(&w.db, &w.staff, t.id, "It is planned.", None)
            .await
            .unwrap();
        assert_eq!(unread_of(&w, &late, t.id).await, Some(Unread::Posts(1)));
    }

    #[tokio::test]
    async fn mark_all_read_clears_every_marker_until_something_new() {
        let w = world().await;
        let (a, _) = forum::start_topic(
            &w.db,
            &w.other,
            "questions",
            "First question",
            "Body one.",
            None,
        )
        .await
        .unwrap();
        let (b, _) = forum::start_topic(&w.db, &w.other, "ideas", "First idea", "Body two.", None)
            .await
            .unwrap();
        assert_eq!(categories_of(&w, &w.customer).await.len(), 2);
        mark_all_read(&w.db, w.customer.id).await.unwrap();
        assert_eq!(unread_of(&w, &w.customer, a.id).await, None);
        assert_eq!(unread_of(&w, &w.customer, b.id).await, None);
        assert!(categories_of(&w, &w.customer).await.is_empty());
        // Another member's markers are theirs.
        assert_eq!(unread_of(&w, &w.staff, a.id).await, Some(Unread::New));
        // Timestamps are compared strictly: let the clock move past the horizon.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        forum::reply(&w.db, &w.staff, a.id, "Answered.", None)
            .await
            .unwrap();
        assert_eq!(
            unread_of(&w, &w.customer, a.id).await,
            Some(Unread::Posts(1))
        );
        assert_eq!(
            categories_of(&w, &w.customer).await.get(&a.category_id),
            Some(&1)
        );
    }

    #[tokio::test]
    async fn a_category_counts_only_among_the_most_recently_active_topics() {
        let w = world().await;
        let (idea, _) = forum::start_topic(&w.db, &w.other, "ideas", "Oldest", "Body.", None)
            .await
            .unwrap();
        for n in 0..COUNTED_TOPICS {
            forum::start_topic(
                &w.db,
                &w.other,
                "questions",
                &format!("Question {n}"),
                "Body.",
                None,
            )
            .await
            .unwrap();
        }
        let questions = categories_of(&w, &w.customer).await;
        assert_eq!(questions.get(&idea.category_id), None);
        assert_eq!(questions.values().sum::<u32>(), COUNTED_TOPICS);
        // A reply brings the idea back among the latest, and the oldest question drops out.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        forum::reply(&w.db, &w.staff, idea.id, "Planned.", None)
            .await
            .unwrap();
        let both = categories_of(&w, &w.customer).await;
        assert_eq!(both.get(&idea.category_id), Some(&1));
        assert_eq!(both.values().sum::<u32>(), COUNTED_TOPICS);
        // The topic list's own marker still shows what the count no longer looks at.
        let oldest_question = topic::Entity::find()
            .filter(topic::Column::Title.eq("Question 0"))
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            unread_of(&w, &w.customer, oldest_question.id).await,
            Some(Unread::New)
        );
    }

    /// Topics last posted at the same moment across the edge of the counted ones: the newest
    /// topics go first, as on the topic lists. Without the tie-break PostgreSQL took whichever
    /// of them its plan met first (rows moved by an update come later in its table).
    async fn ties_at_the_edge_go_to_the_newest_topic(w: &World) {
        let edge = COUNTED_TOPICS as usize;
        let mut ids = Vec::new();
        for n in 0..edge + 20 {
            let (t, _) = forum::start_topic(
                &w.db,
                &w.other,
                "questions",
                &format!("Tied {n}"),
                "B.",
                None,
            )
            .await
            .unwrap();
            ids.push(t.id);
        }
        // Oldest first: the 40 oldest share one moment, 20 of them inside the counted 200.
        // The newer half of them is updated first, so the older half ends up later in the table.
        let (older, newer) = ids[..40].split_at(20);
        let at = Utc::now() - Duration::hours(1);
        for part in [newer, older] {
            topic::Entity::update_many()
                .col_expr(
                    topic::Column::LastPostedAt,
                    sea_orm::sea_query::Expr::value(at),
                )
                .filter(topic::Column::Id.is_in(part.to_vec()))
                .exec(&w.db)
                .await
                .unwrap();
        }
        // The customer has read the tied topics inside the 200: what is new to them is the
        // other 180, and none of the tied ones outside.
        for id in newer {
            mark_read(&w.db, w.customer.id, *id, 1).await.unwrap();
        }
        let counts = categories_of(w, &w.customer).await;
        assert_eq!(counts.values().sum::<u32>(), COUNTED_TOPICS - 20);
    }

    #[tokio::test]
    async fn ties_at_the_edge_go_to_the_newest_topic_on_both_engines() {
        ties_at_the_edge_go_to_the_newest_topic(&world().await).await;
        if let Some(pg) = crate::server::testing::PostgresTestDb::create().await {
            let w = World::builder()
                .members_aged(Duration::days(1))
                .build_on(pg.db.clone())
                .await;
            ties_at_the_edge_go_to_the_newest_topic(&w).await;
            pg.drop().await;
        }
    }

    #[tokio::test]
    async fn a_topic_waiting_for_approval_is_nothing_to_read() {
        let w = world().await;
        let (t, _) = forum::start_topic(&w.db, &w.other, "questions", "Held one", "Body.", None)
            .await
            .unwrap();
        let mut row: topic::ActiveModel = t.clone().into();
        row.visible = sea_orm::Set(false);
        sea_orm::ActiveModelTrait::update(row, &w.db).await.unwrap();
        assert_eq!(unread_of(&w, &w.customer, t.id).await, None);
        assert!(categories_of(&w, &w.customer).await.is_empty());
    }
}
