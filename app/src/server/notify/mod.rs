//! Notifications: what the site tells a member, on the site and by e-mail. Posting and staff
//! actions call `post_published` and `topic_changed` in their own transaction; those tell the
//! people addressed directly (the topic's author, who was mentioned or quoted) at once and leave
//! a fan-out row for followers and watchers, which the worker (`fan_out_due`) spreads in
//! set-based statements, so a topic with thousands of followers costs its reply one insert.
//! Several replies in a topic collapse into one unread notification ("5 new replies in ...").
pub mod compose;
pub mod digest;
mod events;
mod fan_out;
pub mod following;
pub mod preferences;
pub mod retention;

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
    sea_query::{Expr, ExprTrait},
};

pub use events::{Change, TopicOwner, names_in, post_published, post_published_in, topic_changed};
pub use fan_out::{catch_up as fan_out_catch_up, run_due as fan_out_due};

use self::{compose::Letter, preferences::Mode};
use super::{
    batch::Batch,
    db::numbered,
    entity::{notification, post, topic, user},
    records,
};
use crate::{
    error::AppError,
    model::{NotificationView, PostState},
};

pub const REPLY: &str = "reply";
pub const STAFF_ANSWER: &str = "staff_answer";
pub const STATUS: &str = "status";
pub const ANSWER: &str = "answer";
pub const CONFIRM: &str = "confirm";
pub const MENTION: &str = "mention";
pub const QUOTE: &str = "quote";
pub const NEW_TOPIC: &str = "new_topic";
pub const APPROVED: &str = "approved";
pub const MERGED: &str = "merged";

/// Kinds of which one member has at most one unread notification per topic: the next event
/// raises its count.
const COLLAPSING: [&str; 2] = [REPLY, STAFF_ANSWER];

/// On SQLite, names the index each marked table is read by. SQLite plans from the statistics
/// `PRAGMA optimize` last gathered, refreshed only when a table grows tenfold: taken while a
/// site's notifications and follows were a handful of rows, they made every probe a scan of the
/// whole table (on the benchmark's seed, 2,289 fan-outs took 7.9 s to tell; without those
/// statistics 1,105 took 1.4 s), and a reply's word to the topic's author read the whole
/// notifications table (0.58 ms of the reply's 2 ms in the writers' turn, after a few thousand
/// replies), as a member's topic page did to count their unread notifications. PostgreSQL
/// keeps its statistics up to date itself (autovacuum).
fn hinted(sql: &str, backend: DbBackend) -> String {
    let sqlite = backend == DbBackend::Sqlite;
    let hint = |index: &str| {
        if sqlite {
            format!("INDEXED BY {index}")
        } else {
            String::new()
        }
    };
    sql.replace("/*by topic*/", &hint("idx_topic_follows_topic"))
        .replace("/*by post*/", &hint("idx_notifications_post"))
        .replace("/*unread by topic*/", &hint("idx_notifications_topic"))
        .replace("/*unread by member*/", &hint("idx_notifications_user"))
}

/// What one member is told about a topic.
pub struct Notice {
    pub kind: &'static str,
    pub topic_id: i64,
    pub post_id: Option<i64>,
    pub message: String,
    pub link: String,
    pub staff: bool,
    pub mail_kind: preferences::MailKind,
}

/// Tells one member: into their unread notification of the same kind in the topic when the
/// kind collapses, else a new one; and an e-mail now when their preference says immediately
/// and their address may get mail.
pub async fn tell(
    conn: &impl ConnectionTrait,
    to: &user::Model,
    notice: &Notice,
    letter: &Letter,
) -> Result<(), AppError> {
    // The writes need no answer: sent with the read of the member's mail choice (one round
    // trip on SQLite, see `Batch`).
    let mut later = Batch::default();
    noted(conn.get_database_backend(), to, notice, &mut later);
    if !preferences::mailable(to) {
        return Ok(later.run(conn).await?);
    }
    if preferences::mode_after(conn, to.id, notice.mail_kind, later).await? == Mode::Immediately {
        compose::send(conn, to, letter).await?;
    }
    Ok(())
}

/// `tell`, with the member's mail choice for the notice read already (`mode`): the
/// notification's writes are left in `later`, for the caller to send.
pub async fn tell_chosen(
    conn: &impl ConnectionTrait,
    to: &user::Model,
    notice: &Notice,
    letter: &Letter,
    mode: Mode,
    later: &mut Batch,
) -> Result<(), AppError> {
    noted(conn.get_database_backend(), to, notice, later);
    if preferences::mailable(to) && mode == Mode::Immediately {
        compose::send(conn, to, letter).await?;
    }
    Ok(())
}

/// The writes of `tell`'s notification, held in `later`. A collapsing kind raises the count
/// of their unread notification, then writes a new one only if there is none.
fn noted(backend: DbBackend, to: &user::Model, notice: &Notice, later: &mut Batch) {
    let now = Utc::now();
    if COLLAPSING.contains(&notice.kind) {
        for write in counted_or_written(backend, to.id, notice, now) {
            later.push(write);
        }
    } else {
        let row = notification::ActiveModel {
            user_id: Set(to.id),
            kind: Set(notice.kind.into()),
            message: Set(notice.message.clone()),
            link: Set(notice.link.clone()),
            created_at: Set(now),
            read_at: Set(None),
            topic_id: Set(Some(notice.topic_id)),
            post_id: Set(notice.post_id),
            count: Set(1),
            staff: Set(notice.staff),
            mail_kind: Set(notice.mail_kind.as_str().into()),
            updated_at: Set(Some(now)),
            ..Default::default()
        };
        later.push(notification::Entity::insert(row).build(backend));
    }
}

/// The writes that tell member `to` of one more event of a collapsing kind: their unread
/// notification of that kind about the topic counts it, or, if there is none, a new one is
/// written. Both find the unread notification by the topic's index (see `hinted`).
fn counted_or_written(
    backend: DbBackend,
    to: i64,
    notice: &Notice,
    now: chrono::DateTime<Utc>,
) -> [sea_orm::Statement; 2] {
    [
        numbered(
            backend,
            &hinted(
                "UPDATE notifications /*unread by topic*/
                    SET \"count\" = \"count\" + 1, updated_at = $4
                  WHERE user_id = $1 AND topic_id = $2 AND kind = $3 AND read_at IS NULL",
                backend,
            ),
            vec![
                to.into(),
                notice.topic_id.into(),
                notice.kind.into(),
                now.into(),
            ],
        ),
        numbered(
            backend,
            &hinted(
                "INSERT INTO notifications (user_id, kind, message, link, created_at, topic_id,
                                            post_id, \"count\", staff, mail_kind, updated_at)
                 SELECT $1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $5
                  WHERE NOT EXISTS (SELECT 1 FROM notifications /*unread by topic*/
                                     WHERE user_id = $1 AND topic_id = $6 AND kind = $2
                                       AND read_at IS NULL)",
                backend,
            ),
            vec![
                to.into(),
                notice.kind.into(),
                notice.message.clone().into(),
                notice.link.clone().into(),
                now.into(),
                notice.topic_id.into(),
                notice.post_id.into(),
                notice.staff.into(),
                notice.mail_kind.as_str().into(),
            ],
        ),
    ]
}

/// A notice about the member's own post or account (held, approved, hidden, suspended...),
/// shown on the site only.
pub async fn notify(
    conn: &impl ConnectionTrait,
    user_id: i64,
    kind: &str,
    message: &str,
    link: &str,
) -> Result<(), AppError> {
    notification::ActiveModel {
        user_id: Set(user_id),
        kind: Set(kind.into()),
        message: Set(message.into()),
        link: Set(link.into()),
        created_at: Set(Utc::now()),
        count: Set(1),
        staff: Set(false),
        mail_kind: Set(String::new()),
        updated_at: Set(Some(Utc::now())),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// A forum topic whose opening post `p` was hidden: out of everyone's sight but its author's and
/// moderators' (`posting::settle`), so what told others of it leaves their notifications, the
/// bell and their next digest (its title named it there), as a removed topic's does. Its
/// author keeps theirs. Made visible again, it tells nobody again; e-mails already queued are
/// not called back.
pub async fn withdraw_hidden_topic(
    conn: &impl ConnectionTrait,
    p: &post::Model,
) -> Result<(), AppError> {
    notification::Entity::delete_many()
        .filter(notification::Column::TopicId.eq(p.topic_id))
        .filter(notification::Column::UserId.ne(p.author_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// A post removed (deleted), or with `topic_gone` its whole topic (its opening post deleted):
/// what told members of it leaves their notifications, and so the bell and their next digest,
/// so that a moderator's removal takes spam or abuse (and its author's name) out of everyone's
/// notifications too. As on Discourse, hiding a reply (a moderator's, or enough members' flags)
/// leaves them: a hidden reply is still on its page, and a moderator may make it visible again.
/// Hiding an opening post takes its whole topic out of sight: `withdraw_hidden_topic`.
///
/// A mention or quote of the post goes. A collapsed notification ("3 new replies in ...") that
/// the post was folded into counts one fewer, or goes when it was the last; one that named the
/// post's author (it pointed at the post) no longer does, and leads to the first reply it still
/// holds (`lead_past`). A collapsed notification holds the replies published from the one it
/// points at up to its latest change (the members the post told by name were not told of it
/// there), and never counts fewer than the visible replies it may hold. Restoring the post
/// tells nobody again; e-mails already queued are not called back.
pub async fn withdraw(
    conn: &impl ConnectionTrait,
    p: &post::Model,
    topic_gone: bool,
) -> Result<(), AppError> {
    let backend = conn.get_database_backend();
    if topic_gone {
        notification::Entity::delete_many()
            .filter(notification::Column::TopicId.eq(p.topic_id))
            .exec(conn)
            .await?;
        return Ok(());
    }
    let Some(published) = p.published_at else {
        return Ok(()); // never public: nobody was told of it
    };
    let named: Vec<i64> = notification::Entity::find()
        .select_only()
        .column(notification::Column::UserId)
        .filter(notification::Column::PostId.eq(p.id))
        .filter(notification::Column::Kind.is_in([MENTION, QUOTE]))
        .into_tuple()
        .all(conn)
        .await?;
    let Some((title, topic_author)) = topic::Entity::find_by_id(p.topic_id)
        .select_only()
        .column(topic::Column::Title)
        .column(topic::Column::AuthorId)
        .into_tuple::<(String, i64)>()
        .one(conn)
        .await?
    else {
        return Ok(());
    };
    let mut gone = Batch::default();
    // What is about this post alone: mentions, quotes, an official answer.
    gone.push(
        notification::Entity::delete_many()
            .filter(notification::Column::PostId.eq(p.id))
            .filter(notification::Column::Kind.is_not_in(COLLAPSING))
            .build(backend),
    );
    // The topic's author heard of a staff reply as a staff answer, everyone else as a reply.
    let mut folds = vec![(REPLY, format!("A new reply in “{title}”"), None)];
    if p.is_staff_reply {
        folds[0].2 = Some(false);
        folds.push((
            STAFF_ANSWER,
            format!("A staff answer in “{title}”"),
            Some(true),
        ));
    }
    let named = if named.is_empty() {
        "0".to_string()
    } else {
        named
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    for (kind, message, only_author) in folds {
        let whose = match only_author {
            None => "",
            Some(true) => "AND user_id = $5",
            Some(false) => "AND user_id <> $5",
        };
        // The replies it holds: published from its first one to its latest change.
        let first = "(SELECT f.published_at FROM posts f WHERE f.id = notifications.post_id)";
        let holding = format!(
            "topic_id = $1 AND kind = $2 AND user_id <> $3 AND user_id NOT IN ({named}) {whose}
             AND updated_at >= $4 AND {first} <= $4"
        );
        // The visible replies other than this one within those times that it may hold (not
        // those that told the member by name): it never counts fewer (so a reply deleted, restored and deleted again takes no other
        // reply's share, and the deletion of one it never held takes none).
        let visible = format!(
            "(SELECT COUNT(*) FROM posts q
               WHERE q.topic_id = $1 AND q.state = 'visible' AND q.post_number > 1 AND q.id <> $6
                 AND q.author_id <> notifications.user_id
                 AND q.published_at >= {first} AND q.published_at <= notifications.updated_at
                 AND NOT EXISTS (SELECT 1 FROM notifications m
                                  WHERE m.user_id = notifications.user_id AND m.post_id = q.id
                                    AND m.kind IN ('{MENTION}', '{QUOTE}'))
                 AND ((notifications.kind = '{STAFF_ANSWER}' AND q.is_staff_reply)
                      OR (notifications.kind = '{REPLY}'
                          AND (notifications.user_id <> $5 OR NOT q.is_staff_reply))))"
        );
        let values = || -> Vec<sea_orm::Value> {
            vec![
                p.topic_id.into(),
                kind.into(),
                p.author_id.into(),
                published.into(),
                topic_author.into(),
                p.id.into(),
            ]
        };
        gone.push(numbered(
            backend,
            &format!(
                "DELETE FROM notifications WHERE {holding} AND \"count\" <= 1 AND {visible} = 0"
            ),
            values(),
        ));
        let mut with_message = values();
        with_message.push(message.into());
        gone.push(numbered(
            backend,
            &format!(
                "UPDATE notifications
                    SET \"count\" = CASE WHEN {visible} >= \"count\" THEN \"count\"
                                         ELSE \"count\" - 1 END,
                        message = CASE WHEN post_id = $6 THEN $7 ELSE message END
                  WHERE {holding}"
            ),
            with_message,
        ));
    }
    gone.run(conn).await?;
    lead_past(conn, p, published, topic_author).await
}

/// A collapsed notification that led to `p`, removed, now leads to the first visible reply it
/// still holds that did not tell the member by name. It keeps its post, where its window of
/// replies starts (see `withdraw`), so which rows lead to `p` is read from their links (a reply
/// deleted after the one before it was); with no such reply left it leads where it did, to
/// the removal's placeholder.
async fn lead_past(
    conn: &impl ConnectionTrait,
    p: &post::Model,
    published: chrono::DateTime<Utc>,
    topic_author: i64,
) -> Result<(), AppError> {
    // The anchor ends the link, whatever the topic's slug was then.
    let rows = notification::Entity::find()
        .filter(notification::Column::TopicId.eq(p.topic_id))
        .filter(notification::Column::Kind.is_in(COLLAPSING))
        .filter(notification::Column::Link.like(format!("%#post-{}", p.post_number)))
        .all(conn)
        .await?;
    let mut links: HashMap<i64, String> = HashMap::new();
    for n in rows {
        // From where its window starts, its own post's time: a reply before `p` deleted and
        // restored since is held again.
        let start = match n.post_id.filter(|id| *id != p.id) {
            Some(id) => post::Entity::find_by_id(id)
                .select_only()
                .column(post::Column::PublishedAt)
                .into_tuple::<Option<chrono::DateTime<Utc>>>()
                .one(conn)
                .await?
                .flatten()
                .unwrap_or(published),
            None => published,
        };
        let mut next = post::Entity::find()
            .filter(post::Column::TopicId.eq(p.topic_id))
            .filter(post::Column::State.eq(PostState::Visible.as_str()))
            .filter(post::Column::PostNumber.gt(1))
            .filter(post::Column::Id.ne(p.id))
            .filter(post::Column::AuthorId.ne(n.user_id))
            .filter(post::Column::PublishedAt.gte(start))
            .filter(
                post::Column::Id.not_in_subquery(
                    notification::Entity::find()
                        .select_only()
                        .column(notification::Column::PostId)
                        .filter(notification::Column::UserId.eq(n.user_id))
                        .filter(notification::Column::TopicId.eq(p.topic_id))
                        .filter(notification::Column::Kind.is_in([MENTION, QUOTE]))
                        .filter(notification::Column::PostId.is_not_null())
                        .into_query(),
                ),
            );
        if let Some(until) = n.updated_at {
            next = next.filter(post::Column::PublishedAt.lte(until));
        }
        // As the row was counted: a staff answer holds staff replies; the topic's author heard
        // of staff replies as answers, not in their replies row.
        if n.kind == STAFF_ANSWER {
            next = next.filter(post::Column::IsStaffReply.eq(true));
        } else if n.user_id == topic_author {
            next = next.filter(post::Column::IsStaffReply.eq(false));
        }
        let Some(next) = next
            .order_by_asc(post::Column::PublishedAt)
            .order_by_asc(post::Column::Id)
            .one(conn)
            .await?
        else {
            continue;
        };
        let link = match links.get(&next.id) {
            Some(link) => link.clone(),
            None => {
                let link = records::posts::url(conn, &next).await?;
                links.insert(next.id, link.clone());
                link
            }
        };
        notification::Entity::update_many()
            .col_expr(notification::Column::Link, Expr::value(link))
            .filter(notification::Column::Id.eq(n.id))
            .exec(conn)
            .await?;
    }
    Ok(())
}

pub async fn unread_count(db: &DatabaseConnection, user_id: i64) -> Result<u64, AppError> {
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// How many notifications the member's list shows, unless more are unread.
const LISTED: u64 = 50;
/// How many unread notifications the list shows at most.
const MOST_UNREAD_LISTED: u64 = 200;

/// The member's notifications: the unread ones (the newest `MOST_UNREAD_LISTED`), then the
/// newest read ones, `LISTED` in all unless more are unread, each part newest activity first;
/// a collapsed one says how many events it stands for. Unread first: with the newest 50 of all,
/// a member whose older notifications were unread read "2 unread" in the header and found none
/// in the list. One statement, so that a notification read meanwhile (in another tab) is not
/// listed twice, as unread and as read.
pub async fn list(
    db: &DatabaseConnection,
    user_id: i64,
) -> Result<Vec<NotificationView>, AppError> {
    let mut rows = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .order_by_desc(Expr::col(notification::Column::ReadAt).is_null())
        .order_by_desc(notification::Column::UpdatedAt)
        .order_by_desc(notification::Column::Id)
        .limit(MOST_UNREAD_LISTED)
        .all(db)
        .await?;
    let unread = rows.iter().take_while(|n| n.read_at.is_none()).count();
    rows.truncate(unread.max(LISTED as usize));
    let collapsed: Vec<i64> = rows
        .iter()
        .filter(|n| n.count > 1)
        .filter_map(|n| n.topic_id)
        .collect();
    let titles: HashMap<i64, String> = if collapsed.is_empty() {
        HashMap::new()
    } else {
        topic::Entity::find()
            .select_only()
            .column(topic::Column::Id)
            .column(topic::Column::Title)
            .filter(topic::Column::Id.is_in(collapsed))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|n| {
            let title = n.topic_id.and_then(|t| titles.get(&t));
            let message = match (n.kind.as_str(), title) {
                (REPLY, Some(title)) if n.count > 1 => {
                    format!("{} new replies in “{title}”", n.count)
                }
                (STAFF_ANSWER, Some(title)) if n.count > 1 => {
                    format!("{} staff answers in “{title}”", n.count)
                }
                _ => n.message,
            };
            NotificationView {
                id: n.id,
                kind: n.kind,
                message,
                link: n.link,
                created_at: n.updated_at.unwrap_or(n.created_at),
                unread: n.read_at.is_none(),
                staff: n.staff,
                count: n.count,
            }
        })
        .collect())
}

/// Marks one of the member's notifications read and gives where it points; None when it is
/// not theirs. A suspended member's reads write nothing: they get the link only.
pub async fn open(
    db: &DatabaseConnection,
    member: &user::Model,
    id: i64,
) -> Result<Option<String>, AppError> {
    let Some(n) = notification::Entity::find_by_id(id)
        .filter(notification::Column::UserId.eq(member.id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if n.read_at.is_none() && super::auth::check_not_suspended(member).is_ok() {
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
            .filter(notification::Column::Id.eq(id))
            .exec(db)
            .await?;
    }
    Ok(Some(n.link))
}

/// The member's unread notifications for the header, once those about `reading` (the topic
/// page they are opening) are read: reading a topic reads its notifications. One indexed query
/// counts both (a topic page asked twice before), and the update runs only when there is
/// something about the topic to mark.
pub async fn unread_after_reading(
    db: &DatabaseConnection,
    user_id: i64,
    reading: Option<i64>,
) -> Result<u64, AppError> {
    let Some(topic_id) = reading else {
        return unread_count(db, user_id).await;
    };
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(unread_counts(backend, user_id, topic_id))
        .await?;
    let (total, about) = match row {
        Some(r) => (
            r.try_get::<i64>("", "total")?,
            r.try_get::<i64>("", "about")?,
        ),
        None => (0, 0),
    };
    if about == 0 {
        return Ok(u64::try_from(total).unwrap_or(0));
    }
    let marked = db
        .execute_raw(read_about(backend, user_id, topic_id, Utc::now()))
        .await?;
    Ok(u64::try_from(total)
        .unwrap_or(0)
        .saturating_sub(marked.rows_affected()))
}

/// How many unread notifications the member has (`total`), and how many of them are about the
/// topic (`about`): read by the member's index (see `hinted`).
fn unread_counts(backend: DbBackend, user_id: i64, topic_id: i64) -> sea_orm::Statement {
    numbered(
        backend,
        &hinted(
            "SELECT COUNT(*) AS total, COUNT(CASE WHEN topic_id = $2 THEN 1 END) AS about
               FROM notifications /*unread by member*/ WHERE user_id = $1 AND read_at IS NULL",
            backend,
        ),
        vec![user_id.into(), topic_id.into()],
    )
}

/// Marks the member's unread notifications about the topic read, found by the topic's index.
fn read_about(
    backend: DbBackend,
    user_id: i64,
    topic_id: i64,
    now: chrono::DateTime<Utc>,
) -> sea_orm::Statement {
    numbered(
        backend,
        &hinted(
            "UPDATE notifications /*unread by topic*/ SET read_at = $3
              WHERE topic_id = $1 AND user_id = $2 AND read_at IS NULL",
            backend,
        ),
        vec![topic_id.into(), user_id.into(), now.into()],
    )
}

pub async fn mark_all_read(db: &DatabaseConnection, user_id: i64) -> Result<(), AppError> {
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The admins' welcome message, as the new member's first notification.
pub async fn welcome(db: &DatabaseConnection, user_id: i64) -> Result<(), AppError> {
    let message = super::settings::text(db, super::settings::WELCOME_MESSAGE).await?;
    notify(db, user_id, "welcome", &message, "/").await
}

#[cfg(test)]
mod tests {
    // Who hears of what: the topic's author, followers, watchers, the mentioned and quoted, each
    // once, on the site and by e-mail as their preferences say.
    use chrono::{Duration, TimeZone, Utc};
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

    use super::{
        digest,
        following::{self, Level},
        preferences::{self, MailKind, Mode},
        *,
    };
    use crate::server::{
        auth::random_token,
        entity::{email, notification, user},
        forum, staff,
        testing::{World, insert_user, query_plan, with_statistics},
    };

    /// A reply's word to the topic's author finds their unread notification through the
    /// topic's index whatever the statistics say, and a member's topic page counts and reads
    /// theirs through the member's and the topic's: here with statistics as the benchmark's seed
    /// left them, taken while the site's two notifications were one member's about one topic,
    /// which had SQLite read the whole table for each (0.58 ms a reply after a few thousand
    /// replies).
    #[tokio::test]
    async fn unread_notifications_are_found_by_their_indexes() {
        let w = World::new().await;
        let backend = w.db.get_database_backend();
        let txn = with_statistics(
            &w.db,
            "DELETE FROM sqlite_stat1 WHERE tbl = 'notifications';
             INSERT INTO sqlite_stat1 VALUES
               ('notifications', 'idx_notifications_user', '2 2 2'),
               ('notifications', 'idx_notifications_topic', '2 2 2'),
               ('notifications', 'idx_notifications_post', '2 1 1');",
        )
        .await;
        let notice = Notice {
            kind: REPLY,
            topic_id: 7,
            post_id: Some(9),
            message: "m".into(),
            link: "/t/7".into(),
            staff: false,
            mail_kind: MailKind::Replies,
        };
        let member = w.customer.id;
        let [counted, written] = counted_or_written(backend, member, &notice, Utc::now());
        let by_topic =
            "SEARCH notifications USING INDEX idx_notifications_topic (topic_id=? AND user_id=?)";
        for (statement, by) in [
            (counted, by_topic),
            (written, by_topic),
            (read_about(backend, member, 7, Utc::now()), by_topic),
            (
                unread_counts(backend, member, 7),
                "SEARCH notifications USING INDEX idx_notifications_user (user_id=? AND read_at=?)",
            ),
        ] {
            let plan = query_plan(&txn, &statement, "notifications").await;
            assert_eq!(plan, [by], "{}", statement.sql);
        }
    }

    /// Every unread notification is listed, before the read ones, however many newer ones were
    /// read: the header's count of them is what the list shows.
    #[tokio::test]
    async fn the_list_shows_older_unread_notifications_first() {
        let w = World::new().await;
        let member = w.customer.id;
        for n in 0..2 {
            notify(&w.db, member, "welcome", &format!("old {n}"), "/")
                .await
                .unwrap();
        }
        notification::Entity::update_many()
            .col_expr(
                notification::Column::UpdatedAt,
                Expr::value(Utc::now() - Duration::days(3)),
            )
            .filter(notification::Column::UserId.eq(member))
            .exec(&w.db)
            .await
            .unwrap();
        for n in 0..(LISTED + 5) {
            notify(&w.db, member, "welcome", &format!("new {n}"), "/")
                .await
                .unwrap();
        }
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
            .filter(notification::Column::UserId.eq(member))
            .filter(notification::Column::Message.starts_with("new"))
            .exec(&w.db)
            .await
            .unwrap();
        let listed = list(&w.db, member).await.unwrap();
        assert_eq!(listed.len() as u64, LISTED);
        let unread: Vec<_> = listed
            .iter()
            .filter(|n| n.unread)
            .map(|n| &n.message)
            .collect();
        assert_eq!(unread, ["old 1", "old 0"]);
        assert!(listed[0].unread && listed[1].unread && !listed[2].unread);
        assert_eq!(listed[2].message, format!("new {}", LISTED + 4));
        assert_eq!(unread_count(&w.db, member).await.unwrap(), 2);

        // More unread than the list's length: all of them, up to the most it shows.
        notification::Entity::update_many()
            .col_expr(
                notification::Column::ReadAt,
                Expr::value(None::<chrono::DateTime<Utc>>),
            )
            .filter(notification::Column::UserId.eq(member))
            .exec(&w.db)
            .await
            .unwrap();
        let listed = list(&w.db, member).await.unwrap();
        assert_eq!(listed.len() as u64, LISTED + 7);
        assert!(listed.iter().all(|n| n.unread));
    }

    async fn notes(w: &World, user_id: i64) -> Vec<notification::Model> {
        notification::Entity::find()
            .filter(notification::Column::UserId.eq(user_id))
            .all(&w.db)
            .await
            .unwrap()
    }

    async fn mails_to(w: &World, address: &str) -> Vec<email::Model> {
        email::Entity::find()
            .filter(email::Column::ToAddress.eq(address))
            .all(&w.db)
            .await
            .unwrap()
    }

    /// The site's outside address as the e-mail tests expect it (https, replies by e-mail on);
    /// the same as loop_tests sets, so the order tests run in does not matter.
    fn configure_outside() {
        super::compose::configure(super::compose::Outside {
            public_url: "https://forum.example.com".into(),
            reply_address: Some("reply@feedback.example.com".into()),
        });
    }

    async fn topic_by(w: &World, author: &user::Model) -> crate::server::entity::topic::Model {
        forum::start_topic(
            &w.db,
            author,
            "questions",
            "The export fails",
            "It stops at 90 %.",
            None,
        )
        .await
        .unwrap()
        .0
    }

    #[tokio::test]
    async fn a_staff_answer_reaches_the_author_on_the_site_and_by_one_email() {
        configure_outside();
        let w = World::new().await;
        let t = topic_by(&w, &w.customer).await;
        forum::reply(
            &w.db,
            &w.staff,
            t.id,
            "Fixed in **2.3**: update and retry.",
            None,
        )
        .await
        .unwrap();
        let mine = notes(&w, w.customer.id).await;
        assert_eq!(mine.len(), 1, "{mine:?}");
        let n = &mine[0];
        assert_eq!(n.kind, STAFF_ANSWER);
        assert!(n.staff);
        assert_eq!(
            n.message,
            "User 3 (Support, staff) answered your topic “The export fails”"
        );
        assert!(n.link.ends_with("#post-2"), "{}", n.link);
        let mails = mails_to(&w, &w.customer.email).await;
        assert_eq!(mails.len(), 1);
        let m = &mails[0];
        assert_eq!(m.subject, "[Backyard] The export fails");
        assert!(
            m.body.contains("Fixed in 2.3: update and retry."),
            "{}",
            m.body
        );
        assert!(m.body.contains("You started this topic."));
        assert!(
            m.html_body
                .as_deref()
                .unwrap()
                .contains("<strong>2.3</strong>")
        );
        assert!(
            m.list_unsubscribe
                .as_deref()
                .unwrap()
                .contains("/unsubscribe/")
        );
        // Staff hear nothing of their own answer.
        assert!(notes(&w, w.staff.id).await.is_empty());
    }

    /// A burst bigger than one batch is spread in one round of the worker, not one batch a
    /// second (the queue grew without end above 200 replies a second); a short budget stops
    /// after a batch and leaves the rest for the next round.
    #[tokio::test]
    async fn the_worker_catches_up_with_a_burst_in_one_round() {
        let w = World::new().await;
        let (t, _) = forum::start_topic(&w.db, &w.customer, "questions", "Busy", "Body.", None)
            .await
            .unwrap();
        following::set_level(&w.db, w.moderator.id, t.id, Level::Following)
            .await
            .unwrap();
        for n in 0..449 {
            forum::reply(&w.db, &w.other, t.id, &format!("Reply {n}."), None)
                .await
                .unwrap();
        }
        let waiting = || async {
            crate::server::entity::fan_out::Entity::find()
                .count(&w.db)
                .await
                .unwrap()
        };
        assert_eq!(waiting().await, 450, "the opening post's and the replies'");
        let zero = std::time::Duration::ZERO;
        assert_eq!(fan_out_catch_up(&w.db, zero).await.unwrap().spread, 200);
        assert_eq!(waiting().await, 250);
        let minute = std::time::Duration::from_secs(60);
        assert_eq!(fan_out_catch_up(&w.db, minute).await.unwrap().spread, 250);
        assert_eq!(waiting().await, 0);
        let told = notes(&w, w.moderator.id).await;
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].count, 449);
        assert_eq!(fan_out_catch_up(&w.db, minute).await.unwrap().spread, 0);
    }

    /// The worker tells those who followed (or watched) when the reply was made, not a member
    /// who follows while it waits in the queue (they have read the reply already).
    #[tokio::test]
    async fn a_follower_hears_of_replies_made_after_they_followed() {
        let w = World::new().await;
        let (t, _) = forum::start_topic(&w.db, &w.customer, "questions", "Later", "Body.", None)
            .await
            .unwrap();
        following::set_level(&w.db, w.moderator.id, t.id, Level::Following)
            .await
            .unwrap();
        forum::reply(&w.db, &w.other, t.id, "First.", None)
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        following::set_level(&w.db, w.admin.id, t.id, Level::Following)
            .await
            .unwrap();
        fan_out_due(&w.db, 100).await.unwrap();
        assert_eq!(notes(&w, w.moderator.id).await.len(), 1);
        assert!(notes(&w, w.admin.id).await.is_empty(), "followed after it");
        forum::reply(&w.db, &w.other, t.id, "Second.", None)
            .await
            .unwrap();
        fan_out_due(&w.db, 100).await.unwrap();
        let told = notes(&w, w.admin.id).await;
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].count, 1, "the second reply only");
        assert_eq!(notes(&w, w.moderator.id).await[0].count, 2);
        // Pressing "Following" again (the button stays a button) keeps their time: a reply
        // waiting in the queue was made while they followed.
        forum::reply(&w.db, &w.other, t.id, "Third.", None)
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        following::set_level(&w.db, w.admin.id, t.id, Level::Following)
            .await
            .unwrap();
        fan_out_due(&w.db, 100).await.unwrap();
        assert_eq!(notes(&w, w.admin.id).await[0].count, 2);
        // Muting and following again is a new time: what came between is not told.
        following::set_level(&w.db, w.admin.id, t.id, Level::Muted)
            .await
            .unwrap();
        forum::reply(&w.db, &w.other, t.id, "Fourth.", None)
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        following::set_level(&w.db, w.admin.id, t.id, Level::Following)
            .await
            .unwrap();
        fan_out_due(&w.db, 100).await.unwrap();
        assert_eq!(notes(&w, w.admin.id).await[0].count, 2);
    }

    #[tokio::test]
    async fn followers_hear_nothing_of_a_topic_out_of_sight() {
        let w = World::new().await;
        let (t, opening) =
            forum::start_topic(&w.db, &w.customer, "questions", "Secret", "Body.", None)
                .await
                .unwrap();
        following::set_level(&w.db, w.other.id, t.id, Level::Following)
            .await
            .unwrap();
        fan_out_due(&w.db, 10).await.unwrap();
        // A moderator removes the opening post: the topic leaves every list.
        crate::server::moderation::act_on_post(
            &w.db,
            &w.moderator,
            opening.id,
            crate::server::moderation::PostAction::Delete,
            "Spam",
        )
        .await
        .unwrap();
        forum::reply(&w.db, &w.customer, t.id, "A secret reply.", None)
            .await
            .unwrap();
        fan_out_due(&w.db, 10).await.unwrap();
        assert!(notes(&w, w.other.id).await.is_empty());
        assert!(mails_to(&w, &w.other.email).await.is_empty());
    }

    #[tokio::test]
    async fn hostile_titles_and_names_stay_text_in_the_email() {
        let w = World::new().await;
        let hostile = "<img src=x onerror=alert(1)>\r\nBcc: evil@example.com \"'&";
        let mut row: user::ActiveModel = w.staff.clone().into();
        row.display_name = Set(hostile.into());
        row.staff_title = Set(Some("<script>alert(2)</script>".into()));
        let staff = row.update(&w.db).await.unwrap();
        let (t, _) = forum::start_topic(&w.db, &w.customer, "questions", hostile, "Body.", None)
            .await
            .unwrap();
        forum::reply(&w.db, &staff, t.id, "An <b onclick=x>answer</b>.", None)
            .await
            .unwrap();
        let m = mails_to(&w, &w.customer.email).await.pop().unwrap();
        let html = m.html_body.unwrap();
        // Every tag in the message is one the template or the sanitiser wrote, and no attribute
        // is a handler: the hostile text is text.
        for tag in html.split('<').skip(1) {
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
                .collect();
            assert!(
                [
                    "!doctype", "html", "body", "p", "strong", "div", "b", "a", "hr", "br"
                ]
                .contains(&name.to_ascii_lowercase().as_str()),
                "<{name} in {html}"
            );
            let inside = tag.split('>').next().unwrap();
            assert!(!inside.contains(" on"), "a handler in <{inside}>");
        }
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        // The subject keeps the title as text; the transport encodes it into one header.
        assert!(m.subject.starts_with("[Backyard] <img"));
    }

    #[tokio::test]
    async fn replies_collapse_into_one_unread_notification_and_followers_hear_through_the_worker() {
        collapsing_and_fan_out(World::new().await).await;
    }

    /// The fan-out's SQL is written by hand: the same story on PostgreSQL.
    #[tokio::test]
    async fn collapsing_and_fan_out_work_on_postgresql() {
        let Some(pg) = crate::server::testing::PostgresTestDb::create().await else {
            return;
        };
        let w = World::builder().build_on(pg.db.clone()).await;
        collapsing_and_fan_out(w).await;
        pg.drop().await;
    }

    async fn collapsing_and_fan_out(w: World) {
        let t = topic_by(&w, &w.customer).await;
        following::set_level(&w.db, w.moderator.id, t.id, Level::Following)
            .await
            .unwrap();
        following::set_level(&w.db, w.admin.id, t.id, Level::Muted)
            .await
            .unwrap();
        for n in 0..3 {
            forum::reply(&w.db, &w.other, t.id, &format!("Same here, try {n}."), None)
                .await
                .unwrap();
        }
        let mine = notes(&w, w.customer.id).await;
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].count, 3);
        assert_eq!(
            list(&w.db, w.customer.id).await.unwrap()[0].message,
            "3 new replies in “The export fails”"
        );
        // Replies default to the digest: no e-mail now.
        assert!(mails_to(&w, &w.customer.email).await.is_empty());
        // The replier follows the topic now, so they hear of the next reply, by the worker.
        assert!(
            notes(&w, w.moderator.id).await.is_empty(),
            "not in the request"
        );
        // The opening post's (for watchers) and the three replies'.
        assert_eq!(fan_out_due(&w.db, 100).await.unwrap(), 4);
        let followed = notes(&w, w.moderator.id).await;
        assert_eq!(followed.len(), 1);
        assert_eq!(followed[0].count, 3);
        // It points at the first of them (where the follower starts reading).
        assert!(followed[0].post_id.is_some() && followed[0].link.ends_with("#post-2"));
        assert!(notes(&w, w.admin.id).await.is_empty(), "muted");
        assert!(notes(&w, w.other.id).await.is_empty(), "their own replies");
        // Reading another topic reads none of them; reading this one reads them, and the
        // header's count that comes back says so.
        assert_eq!(
            unread_after_reading(&w.db, w.customer.id, Some(t.id + 1000))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            unread_after_reading(&w.db, w.customer.id, Some(t.id))
                .await
                .unwrap(),
            0
        );
        assert_eq!(unread_count(&w.db, w.customer.id).await.unwrap(), 0);
        // A new reply starts a new unread notification.
        forum::reply(&w.db, &w.staff, t.id, "We shipped 2.3.", None)
            .await
            .unwrap();
        forum::reply(&w.db, &w.other, t.id, "Works now.", None)
            .await
            .unwrap();
        assert_eq!(unread_count(&w.db, w.customer.id).await.unwrap(), 2);
        fan_out_due(&w.db, 100).await.unwrap();
        let other = notes(&w, w.other.id).await;
        assert_eq!(
            other.len(),
            1,
            "the staff reply reached the follower: {other:?}"
        );
        assert!(other[0].staff);
    }

    #[tokio::test]
    async fn watchers_hear_of_new_topics_and_mentions_and_quotes_are_told_once() {
        watchers_and_mentions(World::new().await).await;
    }

    #[tokio::test]
    async fn watchers_and_mentions_work_on_postgresql() {
        let Some(pg) = crate::server::testing::PostgresTestDb::create().await else {
            return;
        };
        watchers_and_mentions(World::builder().build_on(pg.db.clone()).await).await;
        pg.drop().await;
    }

    async fn watchers_and_mentions(w: World) {
        let questions = crate::server::entity::category::Entity::find()
            .filter(crate::server::entity::category::Column::Slug.eq("questions"))
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        following::set_watch(&w.db, w.staff.id, questions.id, true)
            .await
            .unwrap();
        preferences::set_mode(&w.db, w.staff.id, MailKind::NewTopics, Mode::Immediately)
            .await
            .unwrap();
        let (t, _) = forum::start_topic(
            &w.db,
            &w.customer,
            "questions",
            "Login loops",
            "@user2 do you see this too? @user2 @nobody",
            None,
        )
        .await
        .unwrap();
        let told = notes(&w, w.other.id).await;
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].kind, MENTION);
        let all = email::Entity::find().all(&w.db).await.unwrap();
        assert_eq!(
            mails_to(&w, &w.other.email).await.len(),
            1,
            "mentions mail at once: {all:?}"
        );
        fan_out_due(&w.db, 10).await.unwrap();
        let watcher = notes(&w, w.staff.id).await;
        assert_eq!(watcher.len(), 1);
        assert_eq!(watcher[0].kind, NEW_TOPIC);
        assert_eq!(mails_to(&w, &w.staff.email).await.len(), 1);
        // A quote tells the quoted member, as a quote, not as a mention as well.
        let quoted = forum::reply(
            &w.db,
            &w.moderator,
            t.id,
            "@user2 wrote:\n> do you see this too?\n\nYes, @user2.",
            None,
        )
        .await
        .unwrap();
        let told = notes(&w, w.other.id).await;
        assert_eq!(told.len(), 2, "{told:?}");
        assert!(
            told.iter()
                .any(|n| n.kind == QUOTE && n.post_id == Some(quoted.id))
        );
        fan_out_due(&w.db, 10).await.unwrap();
        assert_eq!(
            notes(&w, w.other.id).await.len(),
            2,
            "not told again as a follower"
        );
    }

    #[tokio::test]
    async fn what_a_moderator_removes_leaves_the_bell_and_the_digest() {
        removals_withdraw(World::new().await).await;
    }

    #[tokio::test]
    async fn removals_withdraw_on_postgresql() {
        let Some(pg) = crate::server::testing::PostgresTestDb::create().await else {
            return;
        };
        removals_withdraw(World::builder().build_on(pg.db.clone()).await).await;
        pg.drop().await;
    }

    /// A troll's reply mentions a member and starts the topic author's collapsed replies. Hidden,
    /// it leaves them (it may be made visible again); deleted, the mention goes, the collapsed
    /// notification stays for the reply after it without the troll's name, and the digest says
    /// nothing of the troll. Replies deleted later in a fold, or every reply of one, take their
    /// share; a removed topic leaves nothing in anyone's bell; notices about a member's own
    /// account, and notifications about other posts, stay.
    async fn removals_withdraw(w: World) {
        use crate::server::moderation::{self, PostAction};
        configure_outside();
        let troll = insert_user(&w.db, 60).await;
        let mut row: user::ActiveModel = troll.clone().into();
        row.display_name = Set("<b>Troll</b> Smith".into());
        let troll = row.update(&w.db).await.unwrap();
        let t = topic_by(&w, &w.customer).await;
        let abuse = forum::reply(&w.db, &troll, t.id, "@user2 you are an idiot.", None)
            .await
            .unwrap();
        forum::reply(&w.db, &w.other, t.id, "Try the 2.3 build.", None)
            .await
            .unwrap();
        let mentioned = notes(&w, w.other.id).await;
        assert_eq!(mentioned.len(), 1, "{mentioned:?}");
        assert_eq!(mentioned[0].kind, MENTION);
        let authors = notes(&w, w.customer.id).await;
        assert_eq!(authors.len(), 1, "{authors:?}");
        assert_eq!(authors[0].count, 2);
        assert!(
            authors[0].message.contains("Troll"),
            "{}",
            authors[0].message
        );
        // The same troll's mention of staff in another topic is about another post: it stays.
        let elsewhere = topic_by(&w, &w.admin).await;
        forum::reply(&w.db, &troll, elsewhere.id, "@user3 please look.", None)
            .await
            .unwrap();
        let untouched = notes(&w, w.staff.id).await;
        assert_eq!(untouched.len(), 1, "{untouched:?}");

        let act = |action, post_id| {
            moderation::act_on_post(&w.db, &w.moderator, post_id, action, "Abuse.")
        };
        act(PostAction::Hide, abuse.id).await.unwrap();
        assert_eq!(notes(&w, w.other.id).await, mentioned, "hiding leaves them");
        act(PostAction::Delete, abuse.id).await.unwrap();
        assert!(
            notes(&w, w.other.id).await.is_empty(),
            "the mention is withdrawn"
        );
        assert_eq!(unread_count(&w.db, w.other.id).await.unwrap(), 0);
        let authors = notes(&w, w.customer.id).await;
        assert_eq!(authors.len(), 1, "{authors:?}");
        assert_eq!(authors[0].count, 1);
        assert_eq!(authors[0].message, "A new reply in “The export fails”");
        // It leads to the reply that is left, not to the removed one's placeholder.
        assert!(authors[0].link.ends_with("#post-3"), "{}", authors[0].link);
        assert_eq!(
            list(&w.db, w.customer.id).await.unwrap()[0].message,
            "A new reply in “The export fails”"
        );
        assert_eq!(unread_count(&w.db, w.customer.id).await.unwrap(), 1);
        assert_eq!(
            notes(&w, w.staff.id).await,
            untouched,
            "others' stay as they were"
        );
        // The author's notice of the removal is theirs to keep.
        assert!(
            notes(&w, troll.id)
                .await
                .iter()
                .any(|n| n.post_id.is_none()),
            "{:?}",
            notes(&w, troll.id).await
        );
        // Restoring it tells nobody again.
        act(PostAction::Restore, abuse.id).await.unwrap();
        assert!(notes(&w, w.other.id).await.is_empty());
        assert_eq!(notes(&w, w.customer.id).await, authors);

        // The digest (the member's first, so due now) lists the reply that stays, not the troll.
        digest::send_due(&w.db, Utc::now()).await.unwrap();
        let digests: Vec<_> = mails_to(&w, &w.customer.email)
            .await
            .into_iter()
            .filter(|m| m.kind == "digest")
            .collect();
        assert_eq!(digests.len(), 1, "{digests:?}");
        assert!(
            digests[0]
                .body
                .contains("A new reply in “The export fails”"),
            "{}",
            digests[0].body
        );
        assert!(!digests[0].body.contains("Troll"), "{}", digests[0].body);

        // Later replies of a fold take their share; the last one takes the notification.
        let folded = forum::start_topic(&w.db, &w.admin, "questions", "Fold", "Text.", None)
            .await
            .unwrap()
            .0;
        forum::reply(&w.db, &w.other, folded.id, "A real answer.", None)
            .await
            .unwrap();
        let mut spam = Vec::new();
        for n in 0..2 {
            spam.push(
                forum::reply(&w.db, &troll, folded.id, &format!("Buy pills {n}."), None)
                    .await
                    .unwrap(),
            );
        }
        let fold = |w: &World| {
            let db = w.db.clone();
            let admin = w.admin.id;
            let topic = folded.id;
            async move {
                notification::Entity::find()
                    .filter(notification::Column::UserId.eq(admin))
                    .filter(notification::Column::TopicId.eq(topic))
                    .all(&db)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(fold(&w).await[0].count, 3);
        for p in &spam {
            act(PostAction::Delete, p.id).await.unwrap();
        }
        let left = fold(&w).await;
        assert_eq!(left.len(), 1, "{left:?}");
        assert_eq!(left[0].count, 1);
        assert!(
            left[0].message.starts_with("User 2 replied"),
            "{}",
            left[0].message
        );
        let only = crate::server::testing::post_at(&w.db, folded.id, 2).await;
        act(PostAction::Delete, only.id).await.unwrap();
        assert!(fold(&w).await.is_empty(), "no reply left, no notification");

        // Deleted, restored and deleted again, over and over, a reply takes one share only.
        let again = forum::start_topic(&w.db, &w.admin, "questions", "Again", "Text.", None)
            .await
            .unwrap()
            .0;
        let mut replies = Vec::new();
        for who in [&w.other, &troll, &w.staff] {
            replies.push(
                forum::reply(&w.db, who, again.id, "A reply.", None)
                    .await
                    .unwrap(),
            );
        }
        let in_again = || async {
            notification::Entity::find()
                .filter(notification::Column::UserId.eq(w.admin.id))
                .filter(notification::Column::TopicId.eq(again.id))
                .all(&w.db)
                .await
                .unwrap()
        };
        // The staff reply is a staff answer to the topic's author: a notification of its own.
        assert_eq!(in_again().await.len(), 2);
        for _ in 0..3 {
            act(PostAction::Delete, replies[1].id).await.unwrap();
            act(PostAction::Restore, replies[1].id).await.unwrap();
        }
        let kept = in_again().await;
        assert_eq!(kept.len(), 2, "{kept:?}");
        assert!(
            kept.iter().all(|n| n.count == 1 || n.kind == REPLY),
            "{kept:?}"
        );
        assert_eq!(
            kept.iter().find(|n| n.kind == REPLY).unwrap().count,
            1,
            "{kept:?}"
        );

        // A held reply approved later folds in by when it was published, not by its number.
        crate::server::testing::watch(&w.db, &[("lawsuit", "hold")]).await;
        let late = forum::start_topic(&w.db, &w.admin, "questions", "Late", "Text.", None)
            .await
            .unwrap()
            .0;
        let held = forum::reply(&w.db, &w.other, late.id, "A lawsuit, maybe.", None)
            .await
            .unwrap();
        assert_eq!(held.state, "pending");
        let after = forum::reply(&w.db, &w.customer, late.id, "No.", None)
            .await
            .unwrap();
        act(PostAction::Approve, held.id).await.unwrap();
        let in_late = || async {
            notification::Entity::find()
                .filter(notification::Column::UserId.eq(w.admin.id))
                .filter(notification::Column::TopicId.eq(late.id))
                .all(&w.db)
                .await
                .unwrap()
        };
        assert_eq!(in_late().await[0].count, 2);
        act(PostAction::Delete, held.id).await.unwrap();
        assert_eq!(in_late().await[0].count, 1);
        act(PostAction::Delete, after.id).await.unwrap();
        assert!(in_late().await.is_empty(), "{:?}", in_late().await);

        // Deleted one after another, each deletion leads past the reply it removed; a reply
        // that named the member told them by name, so it is neither led to nor counted.
        let chain = forum::start_topic(&w.db, &w.admin, "questions", "Chain", "Text.", None)
            .await
            .unwrap()
            .0;
        let first = forum::reply(&w.db, &w.other, chain.id, "One.", None)
            .await
            .unwrap();
        let second = forum::reply(&w.db, &troll, chain.id, "Two.", None)
            .await
            .unwrap();
        let naming = format!("@{} three.", w.admin.username);
        forum::reply(&w.db, &w.customer, chain.id, &naming, None)
            .await
            .unwrap();
        forum::reply(&w.db, &w.other, chain.id, "Four.", None)
            .await
            .unwrap();
        let in_chain = || async {
            notification::Entity::find()
                .filter(notification::Column::UserId.eq(w.admin.id))
                .filter(notification::Column::TopicId.eq(chain.id))
                .filter(notification::Column::Kind.eq(REPLY))
                .one(&w.db)
                .await
                .unwrap()
                .unwrap()
        };
        assert_eq!(in_chain().await.count, 3);
        act(PostAction::Delete, first.id).await.unwrap();
        let led = in_chain().await;
        assert_eq!(
            (led.count, led.link.ends_with("#post-3")),
            (2, true),
            "{led:?}"
        );
        act(PostAction::Delete, second.id).await.unwrap();
        let led = in_chain().await;
        assert_eq!(
            (led.count, led.link.ends_with("#post-5")),
            (1, true),
            "{led:?}"
        );
        // A reply deleted and restored is led to again once the one it was passed for goes.
        forum::reply(&w.db, &troll, chain.id, "Five.", None)
            .await
            .unwrap();
        act(PostAction::Restore, first.id).await.unwrap();
        let fifth = crate::server::testing::post_at(&w.db, chain.id, 5).await;
        act(PostAction::Delete, fifth.id).await.unwrap();
        let led = in_chain().await;
        assert!(led.link.ends_with("#post-2"), "{led:?}");

        // A spam topic removed with its opening post: no bell keeps its title.
        let spam = forum::start_topic(
            &w.db,
            &troll,
            "questions",
            "Cheap pills at spam.example",
            "@user2 @user3 look.",
            None,
        )
        .await
        .unwrap()
        .0;
        forum::reply(&w.db, &w.customer, spam.id, "Reported.", None)
            .await
            .unwrap();
        let spam_notes = || async {
            notification::Entity::find()
                .filter(notification::Column::TopicId.eq(spam.id))
                .count(&w.db)
                .await
                .unwrap()
        };
        assert!(
            spam_notes().await >= 3,
            "mentions and the troll's reply notice"
        );
        let opening = crate::server::testing::post_at(&w.db, spam.id, 1).await;
        act(PostAction::Delete, opening.id).await.unwrap();
        assert_eq!(spam_notes().await, 0);
        for member in [&w.customer, &w.other] {
            assert!(
                list(&w.db, member.id)
                    .await
                    .unwrap()
                    .iter()
                    .all(|n| !n.message.contains("pills")),
                "{}",
                member.id
            );
        }
    }

    #[tokio::test]
    async fn status_changes_and_official_answers_reach_the_author_and_followers() {
        let w = World::new().await;
        let t = topic_by(&w, &w.customer).await;
        following::set_level(&w.db, w.other.id, t.id, Level::Following)
            .await
            .unwrap();
        let answer = forum::reply(&w.db, &w.staff, t.id, "Update to 2.3.", None)
            .await
            .unwrap();
        staff::mark_answer(&w.db, &w.staff, t.id, answer.id)
            .await
            .unwrap();
        staff::set_status(&w.db, &w.staff, t.id, "resolved", "")
            .await
            .unwrap();
        let kinds: Vec<String> = notes(&w, w.customer.id)
            .await
            .into_iter()
            .map(|n| n.kind)
            .collect();
        assert_eq!(kinds, [STAFF_ANSWER, ANSWER, CONFIRM]);
        let confirm = notes(&w, w.customer.id).await.pop().unwrap();
        assert_eq!(
            confirm.message,
            "User 3 (Support, staff) marked “The export fails” resolved: did this solve it?"
        );
        // Answers and status changes mail at once: three e-mails.
        assert_eq!(mails_to(&w, &w.customer.email).await.len(), 3);
        fan_out_due(&w.db, 10).await.unwrap();
        let follower: Vec<String> = notes(&w, w.other.id)
            .await
            .into_iter()
            .map(|n| n.kind)
            .collect();
        assert_eq!(
            follower,
            [
                STAFF_ANSWER.replace("staff_answer", "reply"),
                ANSWER.into(),
                CONFIRM.into()
            ]
        );
        // Only the author is asked whether it solved it.
        assert_eq!(
            notes(&w, w.other.id).await.pop().unwrap().message,
            "User 3 (Support, staff) set “The export fails” to resolved"
        );
        // Followed topics' changes are for the digest by default.
        assert!(mails_to(&w, &w.other.email).await.is_empty());
    }

    /// What the author and a follower were told (site, e-mail) and the topic's history lines.
    async fn told_and_logged(w: &World, topic_id: i64) -> (usize, usize, usize, u64) {
        use crate::server::entity::topic_event;
        (
            notes(w, w.customer.id).await.len(),
            notes(w, w.other.id).await.len(),
            mails_to(w, &w.customer.email).await.len(),
            topic_event::Entity::find()
                .filter(topic_event::Column::TopicId.eq(topic_id))
                .count(&w.db)
                .await
                .unwrap(),
        )
    }

    #[tokio::test]
    async fn the_same_answer_marked_again_or_twice_at_once_tells_no_one_twice() {
        let w = World::new().await;
        let t = topic_by(&w, &w.customer).await;
        following::set_level(&w.db, w.other.id, t.id, Level::Following)
            .await
            .unwrap();
        let answer = forum::reply(&w.db, &w.staff, t.id, "Update to 2.3.", None)
            .await
            .unwrap();
        let counts = || told_and_logged(&w, t.id);
        let (a, b) = tokio::join!(
            staff::mark_answer(&w.db, &w.staff, t.id, answer.id),
            staff::mark_answer(&w.db, &w.staff, t.id, answer.id)
        );
        assert_eq!(a.unwrap().official_answer_post_id, Some(answer.id));
        assert_eq!(b.unwrap().official_answer_post_id, Some(answer.id));
        let once = counts().await;
        // The staff reply and the answer for the author; one answer event in the history.
        assert_eq!((once.0, once.2, once.3), (2, 2, 1), "{once:?}");
        staff::mark_answer(&w.db, &w.staff, t.id, answer.id)
            .await
            .unwrap();
        assert_eq!(counts().await, once, "marking it again changed nothing");
        // Taking it back twice at once leaves one line in the history.
        let (a, b) = tokio::join!(
            staff::unmark_answer(&w.db, &w.staff, t.id),
            staff::unmark_answer(&w.db, &w.staff, t.id)
        );
        assert!(a.unwrap().official_answer_post_id.is_none());
        assert!(b.unwrap().official_answer_post_id.is_none());
        assert_eq!(counts().await.3, once.3 + 1);
    }

    async fn topic_now_status(w: &World, id: i64) -> String {
        crate::server::entity::topic::Entity::find_by_id(id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap()
            .status
    }

    /// A status set again (a double click, two staff at once, a second "resolved" days later)
    /// tells no one twice, writes no second history line, and never undoes the author's
    /// confirmation; a note sent with it is still posted, and a customer waiting is answered.
    #[tokio::test]
    async fn the_same_status_set_again_or_twice_at_once_tells_no_one_twice() {
        let w = World::new().await;
        let t = topic_by(&w, &w.customer).await;
        following::set_level(&w.db, w.other.id, t.id, Level::Following)
            .await
            .unwrap();
        let counts = || told_and_logged(&w, t.id);
        let before = counts().await;
        let (a, b) = tokio::join!(
            staff::set_status(&w.db, &w.staff, t.id, "resolved", ""),
            staff::set_status(&w.db, &w.staff, t.id, "resolved", "")
        );
        assert_eq!(a.unwrap().status, "resolved");
        assert_eq!(b.unwrap().status, "resolved");
        let once = counts().await;
        // The author is told once, by the site and by e-mail; one line in the history.
        assert_eq!(
            (once.0, once.2, once.3),
            (before.0 + 1, before.2 + 1, before.3 + 1),
            "{before:?} {once:?}"
        );
        let confirmed = staff::confirm_resolution(&w.db, &w.customer, t.id, true)
            .await
            .unwrap();
        let at = confirmed.resolution_confirmed_at.expect("confirmed");
        let after_confirming = counts().await;
        let again = staff::set_status(&w.db, &w.staff, t.id, "resolved", "")
            .await
            .unwrap();
        assert_eq!(again.resolution_confirmed_at, Some(at));
        assert_eq!(again.resolved_at, confirmed.resolved_at);
        assert_eq!(
            counts().await,
            after_confirming,
            "setting it again changed nothing"
        );
        // With a note: the note is posted and told as a reply; the confirmation stands.
        let noted = staff::set_status(&w.db, &w.staff, t.id, "resolved", "Shipped in 2.4.")
            .await
            .unwrap();
        assert_eq!(noted.resolution_confirmed_at, Some(at));
        assert_eq!(noted.post_count, 2);
        assert_eq!(
            counts().await.3,
            after_confirming.3,
            "no second status line"
        );
        // A note that shows nothing is no note: a repeat, with nothing posted.
        let blank = staff::set_status(&w.db, &w.staff, t.id, "resolved", "\u{200B}\u{2060}")
            .await
            .unwrap();
        assert_eq!(blank.post_count, 2);
        let markup = staff::set_status(&w.db, &w.staff, t.id, "resolved", "<!-- x --><b></b>")
            .await
            .unwrap();
        assert_eq!(markup.post_count, 2);
        assert_eq!(counts().await.3, after_confirming.3);
        // Two staff members giving a new status with the same note at once: both notes are
        // posted (each is someone's answer), the status is set and told once.
        let (a, b) = tokio::join!(
            staff::set_status(&w.db, &w.staff, t.id, "planned", "For June."),
            staff::set_status(&w.db, &w.admin, t.id, "planned", "For June.")
        );
        a.unwrap();
        b.unwrap();
        let planned = counts().await;
        assert_eq!(
            (planned.3, topic_now_status(&w, t.id).await),
            (after_confirming.3 + 1, "planned".to_string())
        );
        assert!(!crate::server::records::topics::waits_for_confirmation(
            &noted
        ));
    }

    #[tokio::test]
    async fn an_unconfirmed_or_bouncing_address_gets_no_mail_but_the_site_still_tells() {
        let w = World::new().await;
        let mut row: user::ActiveModel = w.customer.clone().into();
        row.email_confirmed_at = Set(None);
        row.update(&w.db).await.unwrap();
        let t = topic_by(&w, &w.customer).await;
        forum::reply(&w.db, &w.staff, t.id, "Answered.", None)
            .await
            .unwrap();
        assert_eq!(notes(&w, w.customer.id).await.len(), 1);
        assert!(mails_to(&w, &w.customer.email).await.is_empty());
        let mut row: user::ActiveModel = w.other.clone().into();
        row.email_bouncing_since = Set(Some(Utc::now()));
        row.update(&w.db).await.unwrap();
        let t = topic_by(&w, &w.other).await;
        forum::reply(&w.db, &w.staff, t.id, "Answered too.", None)
            .await
            .unwrap();
        assert!(mails_to(&w, &w.other.email).await.is_empty());
    }

    /// The topic's author is read with the reply's settling, their choice for the kind of
    /// notice it is with them: a member's reply asks their choice for replies, a staff answer
    /// theirs for answers, and neither reads the other's.
    #[tokio::test]
    async fn a_reply_to_ones_topic_mails_by_the_choice_for_its_own_kind() {
        configure_outside();
        let w = World::new().await;
        // The topic author's choices for replies and for answers.
        let choose = |replies: Mode, answers: Mode| {
            let (db, id) = (w.db.clone(), w.customer.id);
            async move {
                for (kind, mode) in [(MailKind::Replies, replies), (MailKind::Answers, answers)] {
                    preferences::set_mode(&db, id, kind, mode).await.unwrap();
                }
            }
        };
        choose(Mode::Immediately, Mode::Never).await;
        let t = topic_by(&w, &w.customer).await;
        forum::reply(&w.db, &w.staff, t.id, "Staff here.", None)
            .await
            .unwrap();
        assert!(mails_to(&w, &w.customer.email).await.is_empty());
        forum::reply(&w.db, &w.other, t.id, "Me too.", Some(&random_token()))
            .await
            .unwrap();
        let mails = mails_to(&w, &w.customer.email).await;
        assert_eq!(mails.len(), 1, "{mails:?}");
        assert!(mails[0].body.contains("Me too."), "{}", mails[0].body);
        let kinds: Vec<String> = notes(&w, w.customer.id)
            .await
            .into_iter()
            .map(|n| n.kind)
            .collect();
        assert_eq!(kinds.len(), 2, "{kinds:?}");
        assert!(kinds.contains(&STAFF_ANSWER.to_string()) && kinds.contains(&REPLY.to_string()));
        // The other way round.
        choose(Mode::Never, Mode::Immediately).await;
        forum::reply(&w.db, &w.other, t.id, "Still here.", Some(&random_token()))
            .await
            .unwrap();
        assert_eq!(mails_to(&w, &w.customer.email).await.len(), 1);
        forum::reply(&w.db, &w.staff, t.id, "Fixed now.", Some(&random_token()))
            .await
            .unwrap();
        assert_eq!(mails_to(&w, &w.customer.email).await.len(), 2);
    }

    #[tokio::test]
    async fn never_means_never_and_a_muted_own_topic_is_silent() {
        let w = World::new().await;
        preferences::set_mode(&w.db, w.customer.id, MailKind::Answers, Mode::Never)
            .await
            .unwrap();
        let t = topic_by(&w, &w.customer).await;
        forum::reply(&w.db, &w.staff, t.id, "Answered.", None)
            .await
            .unwrap();
        assert_eq!(notes(&w, w.customer.id).await.len(), 1);
        assert!(mails_to(&w, &w.customer.email).await.is_empty());
        following::set_level(&w.db, w.customer.id, t.id, Level::Muted)
            .await
            .unwrap();
        forum::reply(&w.db, &w.staff, t.id, "Answered again.", None)
            .await
            .unwrap();
        assert_eq!(notes(&w, w.customer.id).await.len(), 1);
    }

    #[tokio::test]
    async fn the_daily_digest_gathers_the_day_into_one_message_at_seven_local_time() {
        configure_outside();
        let w = World::new().await;
        let mut row: user::ActiveModel = w.customer.clone().into();
        row.time_zone = Set(Some("America/New_York".into()));
        row.update(&w.db).await.unwrap();
        let t = topic_by(&w, &w.customer).await;
        forum::reply(&w.db, &w.other, t.id, "First reply.", None)
            .await
            .unwrap();
        let t2 = forum::start_topic(&w.db, &w.customer, "ideas", "Dark mode", "Please.", None)
            .await
            .unwrap()
            .0;
        forum::reply(&w.db, &w.other, t2.id, "Yes please.", None)
            .await
            .unwrap();
        forum::reply(&w.db, &w.other, t2.id, "And a high-contrast theme.", None)
            .await
            .unwrap();
        let now = Utc::now();
        // 06:59 in New York on the next digest day: not yet; 07:00: one digest; later that day:
        // nothing more.
        let ny: chrono_tz::Tz = "America/New_York".parse().unwrap();
        // The next 07:00 in New York after now: today's, or tomorrow's once it has passed (the
        // day in New York, not in UTC: from 00:00 to 05:00 UTC they are two days apart).
        let seven = |day: chrono::NaiveDate| {
            ny.from_local_datetime(&day.and_hms_opt(7, 0, 0).unwrap())
                .unwrap()
                .with_timezone(&Utc)
        };
        let today = now.with_timezone(&ny).date_naive();
        let tomorrow = if now < seven(today) {
            today
        } else {
            today + Duration::days(1)
        };
        let at = |h, m| {
            ny.from_local_datetime(&tomorrow.and_hms_opt(h, m, 0).unwrap())
                .unwrap()
                .with_timezone(&Utc)
        };
        // The first run sees no digest yet (none was sent): it sends one now; the test then
        // asks about the next 07:00.
        digest::send_due(&w.db, now).await.unwrap();
        let before = mails_to(&w, &w.customer.email).await.len();
        forum::reply(&w.db, &w.other, t.id, "Second reply.", None)
            .await
            .unwrap();
        assert_eq!(digest::send_due(&w.db, at(6, 59)).await.unwrap(), 0);
        assert_eq!(digest::send_due(&w.db, at(7, 0)).await.unwrap(), 1);
        assert_eq!(digest::send_due(&w.db, at(20, 0)).await.unwrap(), 0);
        let mails = mails_to(&w, &w.customer.email).await;
        assert_eq!(mails.len(), before + 1);
        let d = mails.last().unwrap();
        assert_eq!(d.kind, "digest");
        assert!(d.body.contains("The export fails"), "{}", d.body);
        assert!(d.body.contains("/unsubscribe/"));
        let _ = insert_user;
        let _ = PaginatorTrait::count(email::Entity::find(), &w.db)
            .await
            .unwrap();
    }
}
