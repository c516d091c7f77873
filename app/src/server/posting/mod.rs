//! The post lifecycle: the only code that creates a post or changes its state or text. Every
//! function takes the caller's write transaction, so what must happen when a post appears,
//! changes or disappears commits together or not at all. Read top to bottom:
//!
//! 1. `prepare` (before the transaction): the body is checked and rendered.
//! 2. `start_topic` / `reply`: admission (a reply sent twice, suspension, rate limits, watched
//!    words, the new-member hold) decides the post's state; the post is numbered and written; a
//!    held or flagged post enters the review queue and a held post's author is told why; a
//!    public post enters the search index (search_index, also after every edit and change of
//!    state); the author follows the topic; the topic's figures are settled (counts, last
//!    activity, listing, the response clock, the queue); a public reply from the topic's author
//!    may reopen it if it was resolved; a public post tells the topic's author and whom it
//!    mentions or quotes, and leaves the followers to the notification worker
//!    (notify::post_published). Writes that nothing reads before the end go with the next read
//!    (`Batch`): on SQLite each statement is a round trip inside the writers' turn.
//! 3. `edit`: a revision keeps the old text, the new text is admitted (blocked words refused,
//!    censored ones masked), a moderator's edit is marked; a hidden post edited by its author
//!    goes back to the review queue.
//! 4. `change_state`: a move from the table in `PostState::MOVES`; a post public for the first
//!    time (an approval) stamps its publication time, may reopen the topic and is announced like
//!    a new post; the topic's figures are settled.
//! 5. `settle` (in settle.rs): the one rule for derived figures, also run after a topic's status
//!    changes.
mod admission;
mod rules;
mod settle;

use chrono::{Duration, Utc};
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, QueryResult, QueryTrait, Set, Statement,
    sea_query::{Expr, ExprTrait},
};

pub use admission::{
    ACCOUNT_GONE, BODY_EMPTY, CATEGORY_ARCHIVED, COMMENTS_CLOSED, HELD_NEW, HELD_TOPIC, HELD_WORDS,
    NOT_PUBLISHED, Prepared, REPLY_SENT_TWICE, RateOf, SAME_REPLY_AGAIN, TOPIC_LOCKED, censor_html,
    check_may_post, check_not_held_for_others, check_rate, check_takes_posts, prepare,
    prepare_topic, render, shows_nothing, validate_body, watched_list,
};
pub use rules::DUPLICATE_WINDOW_SECS;
pub use settle::{end_archiving, move_topic, settle, under_review_sql};

use crate::{
    error::AppError,
    model::{PostState, TopicStatus},
    server::{
        batch::Batch,
        db::numbered,
        entity::{article, post, post_revision, topic, user},
        notify,
        records::{self, posts, review_items, topic_events},
        search_index, uploads,
        visibility::TOPIC_MISSING,
    },
};

/// A reply from the topic's author this soon after "resolved" reopens it.
pub const REOPEN_WINDOW_DAYS: i64 = 14;
pub const REOPENED_BY_REPLY: &str = "The customer replied after it was marked resolved.";

/// A new topic with its opening post (its title is judged with the post: `prepare_topic`).
pub struct NewTopic {
    pub category_id: i64,
}

/// Opens a topic with its first post.
pub async fn start_topic(
    txn: &impl ConnectionTrait,
    author: &user::Model,
    new: NewTopic,
    body: &Prepared,
) -> Result<(topic::Model, post::Model), AppError> {
    admission::share_author(txn, author).await?;
    let mut admission = admission::admit(txn, author, body, None, None).await?;
    let Some((title, slug)) = admission.title.take() else {
        return Err(AppError::Internal);
    };
    let t = open_topic(txn, new.category_id, author, title, slug, false).await?;
    let mut later = Batch::default();
    let backend = txn.get_database_backend();
    let read = write(
        backend,
        author,
        &t,
        body,
        &admission,
        t.title.clone(),
        &mut later,
    );
    let (settled, rows) = settle::settle_reading(txn, t.id, &mut later, vec![read]).await?;
    let first = written(txn, author, rows.into_iter().next(), &admission).await?;
    announce(txn, &first, &settled, author, None, &mut later, None).await?;
    later.run(txn).await?;
    Ok((settled, first))
}

/// Opens an empty topic: a forum topic's first step, or an article's comments. A topic started
/// by staff waits for nobody. Unlisted and uncounted until the caller settles it, once its
/// opening post (or its article) is written.
pub async fn open_topic(
    txn: &impl ConnectionTrait,
    category_id: i64,
    author: &user::Model,
    title: String,
    slug: String,
    locked: bool,
) -> Result<topic::Model, AppError> {
    let now = Utc::now();
    let created = topic::ActiveModel {
        category_id: Set(category_id),
        author_id: Set(author.id),
        started_by_staff: Set(author.role().is_staff()),
        awaiting_staff_since: Set(None),
        title: Set(title),
        slug: Set(slug),
        status: Set(TopicStatus::Open.as_str().into()),
        pinned: Set(false),
        locked: Set(locked),
        post_count: Set(0),
        last_post_number: Set(0),
        created_at: Set(now),
        last_posted_at: Set(now),
        // Listed once `settle` has seen its opening post (or its article).
        visible: Set(false),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(created)
}

/// Adds a post to an existing topic (the caller checked that the topic takes posts): `t` and
/// its article (if it is an article's comments), read in this transaction.
pub async fn reply(
    txn: &impl ConnectionTrait,
    author: &user::Model,
    t: &topic::Model,
    article: Option<&article::Model>,
    body: &Prepared,
) -> Result<post::Model, AppError> {
    let (created, last) = reply_under(txn, author, t, article, body, None).await?;
    last.run(txn).await?;
    Ok(created)
}

/// Admission's one read for a reply by `author` to topic `topic_id`, for a caller on SQLite to
/// send in the round trip that reads the topic in its transaction, then give to `reply_under`
/// (with `admission_rules`): a round trip fewer of a reply's six inside the writers' turn.
pub fn admission_read(
    backend: DbBackend,
    author: &user::Model,
    body: &Prepared,
    topic_id: i64,
) -> sea_orm::Statement {
    rules::Rules::statement(backend, author.id, &body.source, Some(topic_id))
}

/// The rules read by `admission_read`'s statement, from its rows.
pub fn admission_rules(rows: Vec<sea_orm::QueryResult>) -> Result<rules::Rules, AppError> {
    rules::Rules::from_rows(rows)
}

/// `reply`, with admission's rules read already in this transaction on SQLite (nothing is
/// written between the two on SQLite, whose writers take turns). On PostgreSQL they are read
/// here all the same: only after the topic's row lock does the read see a reply sent at once.
/// The reply's last writes, which nothing reads, are given back for the caller to send with
/// its commit (`db::WriteTransaction::commit_with`) or to run.
pub async fn reply_under(
    txn: &impl ConnectionTrait,
    author: &user::Model,
    t: &topic::Model,
    article: Option<&article::Model>,
    body: &Prepared,
    rules: Option<rules::Rules>,
) -> Result<(post::Model, Batch), AppError> {
    admission::share_author(txn, author).await?;
    // The topic's row lock next, so two identical replies sent at once see each other
    // (admission refuses the same reply again).
    records::topics::lock(txn, t.id).await?;
    let rules = rules.filter(|_| txn.get_database_backend() == DbBackend::Sqlite);
    let admission = admission::admit(txn, author, body, Some(t.id), rules).await?;
    // Writes nothing reads before the end are held back and sent with the next read (`Batch`):
    // a reply is round trips to SQLite's thread inside the writers' turn. The post is written,
    // read back and settled in one, with its topic's author (to be told of a public reply by
    // someone else).
    let backend = txn.get_database_backend();
    let mut later = Batch::default();
    let mut reads = vec![write(
        backend,
        author,
        t,
        body,
        &admission,
        String::new(),
        &mut later,
    )];
    let public = admission.state == PostState::Visible;
    let staff = author.role().is_staff();
    if public && t.author_id != author.id {
        reads.push(notify::TopicOwner::read(backend, t, staff));
    }
    let (settled, rows) = settle::settle_reading(txn, t.id, &mut later, reads).await?;
    let mut rows = rows.into_iter();
    let created = written(txn, author, rows.next(), &admission).await?;
    let owner = rows
        .next()
        .map(|rows| notify::TopicOwner::from_rows(rows, staff))
        .transpose()?;
    if public {
        let at = created.created_at;
        reopen_if_the_author_replied(txn, &created, &settled, at, &mut later).await?;
    }
    announce(txn, &created, &settled, author, article, &mut later, owner).await?;
    Ok((created, later))
}

/// Numbers and writes an admitted post, with its search row (`title` in it, for an opening
/// post) and its author's follow, all held in `later`: nothing is sent here. Gives the read of
/// the post as written, for the caller to send with those writes and the settling's read (one
/// round trip on SQLite), then to hand to `written`. Incrementing the topic's number first
/// takes its row lock on PostgreSQL, so concurrent replies get consecutive numbers; SQLite
/// already holds the database write lock. No topic, no post.
fn write(
    backend: DbBackend,
    author: &user::Model,
    t: &topic::Model,
    body: &Prepared,
    admission: &admission::Admission,
    title: String,
    later: &mut Batch,
) -> Statement {
    let now = Utc::now();
    let role = author.role();
    let public = admission.state == PostState::Visible;
    later.push(
        topic::Entity::update_many()
            .col_expr(
                topic::Column::LastPostNumber,
                Expr::col(topic::Column::LastPostNumber).add(1),
            )
            .filter(topic::Column::Id.eq(t.id))
            .build(backend),
    );
    later.push(numbered(
        backend,
        "INSERT INTO posts (topic_id, author_id, post_number, source, html, state,
                            moderation_reason, is_staff_reply, staff_title, created_at,
                            published_at)
         SELECT t.id, $2, t.last_post_number, $3, $4, $5, $6, $7, $8, $9, $10
           FROM topics t WHERE t.id = $1",
        vec![
            t.id.into(),
            author.id.into(),
            body.source.clone().into(),
            admission.html.clone().into(),
            admission.state.as_str().into(),
            admission.held_because.map(str::to_string).into(),
            role.is_staff().into(),
            author
                .staff_title
                .clone()
                .filter(|_| role.is_staff())
                .into(),
            now.into(),
            public.then_some(now).into(),
        ],
    ));
    if public {
        search_index::add_numbered_post(backend, t.id, title, &admission.html, later);
    }
    notify::following::follow_on_numbered_post(backend, author, t.id, later);
    posts::last_numbered_read(backend, t.id)
}

/// The post `write` wrote, from its read's rows, and what follows from it but the settling:
/// the uses of the uploads it links, its review item, its author's word that it is held.
async fn written(
    txn: &impl ConnectionTrait,
    author: &user::Model,
    rows: Option<Vec<QueryResult>>,
    admission: &admission::Admission,
) -> Result<post::Model, AppError> {
    let row = rows
        .and_then(|rows| rows.into_iter().next())
        .ok_or_else(|| AppError::NotFound(TOPIC_MISSING.into()))?;
    let created = post::Model::from_query_result(&row, "")?;
    // A new post uses no upload yet: only a text that links one has uses to record.
    if !uploads::referenced_ids(&created.source).is_empty() {
        uploads::attach(
            txn,
            uploads::User::Post(created.id),
            author.id,
            &created.source,
        )
        .await?;
    }
    if let Some(kind) = admission.queue {
        review_items::open(txn, &created, kind).await?;
    }
    if let Some(reason) = admission.held_because {
        let link = posts::url(txn, &created).await?;
        notify::notify(txn, created.author_id, "held", reason, &link).await?;
    }
    Ok(created)
}

/// A new post that is public tells whom it concerns, once its topic is settled (listed, so
/// the people it mentions may see it): `settled` is its topic then, and `owner` its author if
/// read already. The writes held in `later` go with its first read, and its own are left
/// there.
async fn announce(
    txn: &impl ConnectionTrait,
    p: &post::Model,
    settled: &topic::Model,
    author: &user::Model,
    article: Option<&article::Model>,
    later: &mut Batch,
    owner: Option<notify::TopicOwner>,
) -> Result<(), AppError> {
    if p.state() != PostState::Visible {
        return Ok(());
    }
    let link = posts::url_in(p, settled, article);
    let in_article = article.is_some();
    notify::post_published_in(txn, p, settled, author, in_article, &link, later, owner).await
}

/// New text for a post (its author's, or a moderator's), keeping the old as a revision. An edit
/// that changes nothing writes nothing. The post keeps its state.
pub async fn edit(
    txn: &impl ConnectionTrait,
    editor: &user::Model,
    existing: &post::Model,
    body: &Prepared,
) -> Result<post::Model, AppError> {
    if existing.source == body.source {
        return Ok(existing.clone());
    }
    let (html, watched_word) = admission::admit_edit(txn, editor, body).await?;
    let now = Utc::now();
    post_revision::ActiveModel {
        post_id: Set(existing.id),
        editor_id: Set(editor.id),
        old_source: Set(existing.source.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let mut row: post::ActiveModel = existing.clone().into();
    row.source = Set(body.source.clone());
    row.html = Set(html);
    row.edited_at = Set(Some(now));
    if editor.id != existing.author_id {
        row.moderator_edit_by = Set(Some(editor.id));
    }
    let updated = row.update(txn).await?;
    // The author's uploads, whoever edits: a moderator's edit cannot attach the moderator's own.
    uploads::attach(
        txn,
        uploads::User::Post(updated.id),
        updated.author_id,
        &updated.source,
    )
    .await?;
    search_index::sync_post(txn, &updated).await?;
    // A moderator hid it; its author's new version is for a moderator to look at again.
    if editor.id == updated.author_id && updated.state() == PostState::Hidden {
        review_items::open(txn, &updated, review_items::EDITED).await?;
    }
    // A word that would have held or flagged it as a new post, edited into a public one: it
    // stays public, and a moderator is asked to look (so posting clean text and editing the
    // word in later gets past nobody).
    if watched_word && editor.id == updated.author_id && updated.state() == PostState::Visible {
        review_items::open(txn, &updated, review_items::FLAGGED).await?;
    }
    Ok(updated)
}

/// A hidden post a moderator keeps hidden, deciding on what hid it (the caller closed its
/// flags): the moderator's reason replaces the one it had, and its topic is settled, as the
/// flags no longer hold it under review (`settle::under_review_sql`).
pub async fn keep_hidden(
    txn: &impl ConnectionTrait,
    p: &post::Model,
    reason: &str,
) -> Result<post::Model, AppError> {
    if p.state() != PostState::Hidden {
        return Err(AppError::invalid(
            "action",
            refused_move(p.state(), PostState::Hidden),
        ));
    }
    let mut row: post::ActiveModel = p.clone().into();
    row.moderation_reason = Set(Some(reason.to_string()));
    let updated = row.update(txn).await?;
    settle(txn, updated.topic_id).await?;
    Ok(updated)
}

/// Moves a post to another state (see `PostState::MOVES`); `reason` is kept for its author to
/// read while it is not public. Staying in the same state changes nothing.
pub async fn change_state(
    txn: &impl ConnectionTrait,
    p: &post::Model,
    to: PostState,
    reason: Option<&str>,
) -> Result<post::Model, AppError> {
    let from = p.state();
    if !from.may_become(to) {
        return Err(AppError::invalid("action", refused_move(from, to)));
    }
    if from == to {
        return Ok(p.clone());
    }
    let now = Utc::now();
    let first_public = to == PostState::Visible && p.published_at.is_none();
    let mut row: post::ActiveModel = p.clone().into();
    row.state = Set(to.as_str().into());
    row.moderation_reason = Set(reason
        .filter(|_| to != PostState::Visible)
        .map(str::to_string));
    if first_public {
        row.published_at = Set(Some(now));
    }
    let updated = row.update(txn).await?;
    search_index::sync_post(txn, &updated).await?;
    if first_public && let Some(t) = topic::Entity::find_by_id(updated.topic_id).one(txn).await? {
        reopen_if_the_author_replied(txn, &updated, &t, now, &mut Batch::default()).await?;
    }
    settle(txn, updated.topic_id).await?;
    if first_public {
        notify::post_published(txn, &updated).await?;
    }
    // Removed, out of the bell: a post once public deleted, or a forum topic removed with its
    // opening post (an article's comment topic stays with its article). Hiding a reply leaves
    // them.
    let removed =
        to == PostState::Deleted && matches!(from, PostState::Visible | PostState::Hidden);
    let opens_forum_topic = updated.post_number == 1
        && matches!(to, PostState::Deleted | PostState::Hidden)
        && crate::server::visibility::article_of(txn, updated.topic_id)
            .await?
            .is_none();
    let topic_gone = to == PostState::Deleted && opens_forum_topic;
    if removed || topic_gone {
        notify::withdraw(txn, &updated, topic_gone).await?;
    }
    // Hidden, a forum topic's opening post takes the topic out of others' sight (`settle`):
    // what told them of it goes too, its author's kept.
    if to == PostState::Hidden && from == PostState::Visible && opens_forum_topic {
        notify::withdraw_hidden_topic(txn, &updated).await?;
    }
    Ok(updated)
}

/// Deletes every post of an account that is not deleted yet (a spammer removed, an account
/// deleted with its posts): topics they started leave every list with their opening post.
pub async fn remove_all_by(
    txn: &impl ConnectionTrait,
    author_id: i64,
    reason: &str,
) -> Result<Vec<post::Model>, AppError> {
    let posts = post::Entity::find()
        .filter(post::Column::AuthorId.eq(author_id))
        .filter(post::Column::State.ne(PostState::Deleted.as_str()))
        .all(txn)
        .await?;
    for p in &posts {
        change_state(txn, p, PostState::Deleted, Some(reason)).await?;
    }
    Ok(posts)
}

fn refused_move(from: PostState, to: PostState) -> String {
    let now = match from {
        PostState::Visible => "public",
        PostState::Pending => "waiting for approval",
        PostState::Hidden => "hidden",
        PostState::Deleted => "deleted",
    };
    let what = match to {
        PostState::Visible => "made public",
        PostState::Pending => "put back in the approval queue",
        PostState::Hidden => "hidden",
        PostState::Deleted => "deleted",
    };
    format!("That post is {now}, so it can't be {what}.")
}

/// A post from the topic's author (not staff) made public within 14 days of "resolved" means
/// the answer did not settle it: the topic goes back to open and into the queue. `t` is the
/// post's topic as it is now, read under its lock; the writes held in `later` are sent first
/// when it reopens.
async fn reopen_if_the_author_replied(
    txn: &impl ConnectionTrait,
    p: &post::Model,
    t: &topic::Model,
    at: DateTimeUtc,
    later: &mut Batch,
) -> Result<(), AppError> {
    if p.post_number <= 1 || p.is_staff_reply {
        return Ok(());
    }
    let recently_resolved = t.status == TopicStatus::Resolved.as_str()
        && t.resolved_at
            .is_some_and(|r| at - r <= Duration::days(REOPEN_WINDOW_DAYS));
    if t.author_id == p.author_id && recently_resolved {
        std::mem::take(later).run(txn).await?;
        reopen(txn, t, p.author_id, REOPENED_BY_REPLY).await?;
    }
    Ok(())
}

/// Back to open, with the reason in the topic's history; `settle` then puts it in the queue.
pub async fn reopen(
    txn: &impl ConnectionTrait,
    t: &topic::Model,
    actor_id: i64,
    note: &str,
) -> Result<(), AppError> {
    topic::Entity::update_many()
        .col_expr(
            topic::Column::Status,
            Expr::value(TopicStatus::Open.as_str()),
        )
        .col_expr(topic::Column::ResolvedAt, Expr::value(None::<DateTimeUtc>))
        .col_expr(
            topic::Column::ResolutionConfirmedAt,
            Expr::value(None::<DateTimeUtc>),
        )
        .filter(topic::Column::Id.eq(t.id))
        .exec(txn)
        .await?;
    topic_events::record(
        txn,
        t.id,
        Some(actor_id),
        topic_events::REOPENED,
        "",
        note,
        false,
    )
    .await?;
    settle(txn, t.id).await?;
    Ok(())
}
