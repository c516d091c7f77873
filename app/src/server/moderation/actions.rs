//! Moderators' actions on posts and topics: approve, dismiss, hide, delete, restore (several at
//! once: bulk.rs), approve and answer a held topic, lock, pin, move, and edit someone's post.
//! Each is logged and the author told, in the action's transaction.
use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect,
    sea_query::{Expr, Query},
};

use super::{link_to, reason_text};
use crate::server::records::moderation_log::log;
use crate::server::records::topic_events;
use crate::server::records::users::check_may_act_on_author;
use crate::server::{
    auth::require_role,
    db::begin_write,
    entity::{category, flag, post, review_item, topic, user},
    forms, notify, posting, visibility,
};
use crate::{
    error::AppError,
    model::{PostState, Role},
};

/// The note on a topic moved out of an archived category, whose wait its archiving had ended.
pub const MOVED_OUT_OF_ARCHIVE: &str =
    "Moved out of an archived category, so it waits for staff again.";
pub const REASON_NEEDED: &str = "Give a reason: the author will see it.";

pub const NOTHING_TO_DECIDE: &str =
    "Nothing about that post waits for a decision: another moderator may have made it already.";

pub const OWN_POST: &str = "Another moderator or an admin decides on your own posts: you may hide or delete them, nothing else.";

pub const ACTION_UNKNOWN: &str = "Choose an action.";

pub const ARTICLE_COMMENTS_STAY: &str =
    "An article's comments stay with the article: they can't be moved into the forum.";

/// What a moderator does to a post.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostAction {
    Approve,
    Dismiss,
    Hide,
    /// Upholds what holds a hidden post under review (its flags, or its author's edit): it stays
    /// hidden. Its own action, so that a stale "keep hidden" cannot hide again a post another
    /// moderator made public meanwhile.
    KeepHidden,
    Delete,
    Restore,
}

impl PostAction {
    pub fn parse(s: &str) -> Option<PostAction> {
        Some(match s {
            "approve" => PostAction::Approve,
            "dismiss" => PostAction::Dismiss,
            "hide" => PostAction::Hide,
            "keep_hidden" => PostAction::KeepHidden,
            "delete" => PostAction::Delete,
            "restore" => PostAction::Restore,
            _ => return None,
        })
    }

    /// The states a post may be in for this action. Approving is for a held post, or a hidden
    /// one a moderator finds fine after all; restoring brings back a hidden or deleted one;
    /// dismissing flags keeps a post (or brings back one they hid).
    fn applies_to(self) -> &'static [PostState] {
        use PostState::*;
        match self {
            PostAction::Approve => &[Pending, Hidden],
            PostAction::Dismiss => &[Visible, Hidden],
            PostAction::Hide => &[Visible],
            PostAction::KeepHidden => &[Hidden],
            PostAction::Delete => &[Pending, Visible, Hidden],
            PostAction::Restore => &[Hidden, Deleted],
        }
    }

    /// "approved", for messages.
    fn done(self) -> &'static str {
        match self {
            PostAction::Approve => "approved",
            PostAction::Dismiss => "cleared of its flags",
            PostAction::Hide => "hidden",
            PostAction::KeepHidden => "kept hidden",
            PostAction::Delete => "deleted",
            PostAction::Restore => "restored",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PostAction::Approve => "approve",
            PostAction::Dismiss => "dismiss",
            PostAction::Hide => "hide",
            PostAction::KeepHidden => "keep_hidden",
            PostAction::Delete => "delete",
            PostAction::Restore => "restore",
        }
    }
}

/// A moderator acts on one post; the author is told, with the reason.
pub async fn act_on_post(
    db: &DatabaseConnection,
    moderator: &user::Model,
    post_id: i64,
    action: PostAction,
    reason: &str,
) -> Result<(), AppError> {
    act_on(db, moderator, post_id, None, action, reason).await
}

/// `act_on_post` from the review queue's item `item`, which must still be open: a page loaded
/// before another moderator decided the item cannot undo that decision (hiding or deleting a
/// post whose flags were dismissed, say).
pub async fn act_on_item(
    db: &DatabaseConnection,
    moderator: &user::Model,
    item: i64,
    post_id: i64,
    action: PostAction,
    reason: &str,
) -> Result<(), AppError> {
    act_on(db, moderator, post_id, Some(item), action, reason).await
}

async fn act_on(
    db: &DatabaseConnection,
    moderator: &user::Model,
    post_id: i64,
    item: Option<i64>,
    action: PostAction,
    reason: &str,
) -> Result<(), AppError> {
    require_role(Some(moderator.role()), Role::Moderator)?;
    let reason = check_reason(action, reason)?;
    let txn = begin_write(db).await?;
    act_in(&txn, moderator, post_id, item, action, &reason).await?;
    txn.commit().await?;
    Ok(())
}

/// The reason `action` needs (hiding and deleting say why), trimmed and within its length.
pub fn check_reason(action: PostAction, reason: &str) -> Result<String, AppError> {
    let reason = reason.trim();
    if matches!(
        action,
        PostAction::Hide | PostAction::KeepHidden | PostAction::Delete
    ) && crate::server::invisible::is_blank(reason)
    {
        return Err(AppError::invalid("reason", REASON_NEEDED));
    }
    reason_text(reason)
}

/// `item`: the review item the action decides, which must still be open (read once the post is
/// locked, so two decisions at once see each other).
async fn act_in(
    conn: &impl ConnectionTrait,
    moderator: &user::Model,
    post_id: i64,
    item: Option<i64>,
    action: PostAction,
    reason: &str,
) -> Result<(), AppError> {
    let p = decidable(conn, moderator, post_id, item, action).await?;
    apply(conn, moderator, &p, action, reason).await
}

/// The post `action` is about, locked, or why the moderator may not take it: every refusal of
/// an action comes from here, before anything is written.
pub(super) async fn decidable(
    conn: &impl ConnectionTrait,
    moderator: &user::Model,
    post_id: i64,
    item: Option<i64>,
    action: PostAction,
) -> Result<post::Model, AppError> {
    // Locked: the same action sent twice at once runs once, the second refused as done.
    let p = crate::server::records::posts::locked(conn, post_id)
        .await?
        .ok_or_else(|| AppError::NotFound(visibility::POST_MISSING.into()))?;
    check_may_act_on_author(conn, moderator, p.author_id).await?;
    if let Some(item) = item {
        let open = review_item::Entity::find_by_id(item)
            .filter(review_item::Column::PostId.eq(p.id))
            .filter(review_item::Column::State.eq("open"))
            .filter(review_item::Column::Kind.ne(crate::server::records::review_items::VOTE_BURST))
            .count(conn)
            .await?;
        if open == 0 {
            return Err(AppError::invalid("action", NOTHING_TO_DECIDE));
        }
    }
    // Making one's own post public again, or clearing or upholding what holds it, is someone
    // else's decision: with staff members' flags alone able to hide a staff post, its author
    // could otherwise undo them (or skip the new-member hold by deleting and restoring).
    if p.author_id == moderator.id && !matches!(action, PostAction::Hide | PostAction::Delete) {
        return Err(AppError::invalid("form", OWN_POST));
    }
    if !action.applies_to().contains(&p.state()) {
        return Err(AppError::invalid(
            "action",
            format!(
                "That post is {}, so it can't be {}.",
                p.state().label(),
                action.done()
            ),
        ));
    }
    // A decision on flags or a review needs one still open: a form loaded before another
    // moderator decided cannot undo that decision (a hidden post is made public again on
    // purpose with "restore").
    let decides = matches!(action, PostAction::KeepHidden | PostAction::Dismiss)
        || (action == PostAction::Approve && p.state() == PostState::Hidden);
    if decides && !under_review(conn, p.id).await? {
        return Err(AppError::invalid("action", NOTHING_TO_DECIDE));
    }
    Ok(p)
}

/// Takes `action` on post `p` (from `decidable`): its flags and review items decided, its state
/// changed, the action logged and its author told.
pub(super) async fn apply(
    conn: &impl ConnectionTrait,
    moderator: &user::Model,
    p: &post::Model,
    action: PostAction,
    reason: &str,
) -> Result<(), AppError> {
    let keeps_hidden = action == PostAction::KeepHidden;
    let (state, flags_to, item_to, told) = match action {
        PostAction::Approve => (
            PostState::Visible,
            "dismissed",
            "resolved",
            "Your post was approved and is now public.",
        ),
        PostAction::Dismiss => (PostState::Visible, "dismissed", "rejected", ""),
        PostAction::KeepHidden => (
            PostState::Hidden,
            "upheld",
            "resolved",
            "A moderator reviewed your post and is keeping it hidden.",
        ),
        PostAction::Hide => (
            PostState::Hidden,
            "upheld",
            "resolved",
            "Your post was hidden by a moderator.",
        ),
        PostAction::Delete => (
            PostState::Deleted,
            "upheld",
            "resolved",
            "Your post was deleted by a moderator.",
        ),
        PostAction::Restore => (
            PostState::Visible,
            "dismissed",
            "resolved",
            "Your post was restored.",
        ),
    };
    // The flags are decided first: the topic is settled with the state change, and an opening
    // post hidden with flags open still counts as waiting for staff (`posting::settle`).
    let now = Utc::now();
    flag::Entity::update_many()
        .col_expr(flag::Column::State, Expr::value(flags_to))
        .col_expr(flag::Column::ResolvedAt, Expr::value(now))
        .filter(flag::Column::PostId.eq(p.id))
        .filter(flag::Column::State.eq("open"))
        .exec(conn)
        .await?;
    if keeps_hidden {
        posting::keep_hidden(conn, p, reason).await?;
    } else {
        posting::change_state(conn, p, state, Some(reason)).await?;
    }
    review_item::Entity::update_many()
        .col_expr(review_item::Column::State, Expr::value(item_to))
        .col_expr(review_item::Column::ResolvedAt, Expr::value(now))
        .col_expr(review_item::Column::ResolvedBy, Expr::value(moderator.id))
        .col_expr(
            review_item::Column::Resolution,
            Expr::value(action.as_str()),
        )
        .filter(review_item::Column::PostId.eq(p.id))
        .filter(review_item::Column::Kind.ne(crate::server::records::review_items::VOTE_BURST))
        .filter(review_item::Column::State.eq("open"))
        .exec(conn)
        .await?;
    let public = matches!(
        action,
        PostAction::Hide | PostAction::KeepHidden | PostAction::Delete | PostAction::Restore
    );
    log(
        conn,
        moderator,
        action.as_str(),
        Some(p.id),
        Some(p.topic_id),
        Some(p.author_id),
        reason,
        public,
    )
    .await?;
    if !told.is_empty() {
        let message = if reason.is_empty() {
            told.to_string()
        } else {
            format!("{told} Reason: {reason}")
        };
        notify::notify(
            conn,
            p.author_id,
            action.as_str(),
            &message,
            &link_to(conn, p).await?,
        )
        .await?;
    }
    Ok(())
}

/// Whether a post has open flags or an open review item (a burst of votes apart): a decision
/// about it is still to be made.
async fn under_review(conn: &impl ConnectionTrait, post_id: i64) -> Result<bool, AppError> {
    let flags = flag::Entity::find()
        .filter(flag::Column::PostId.eq(post_id))
        .filter(flag::Column::State.eq("open"))
        .count(conn)
        .await?;
    if flags > 0 {
        return Ok(true);
    }
    Ok(review_item::Entity::find()
        .filter(review_item::Column::PostId.eq(post_id))
        .filter(review_item::Column::Kind.ne(crate::server::records::review_items::VOTE_BURST))
        .filter(review_item::Column::State.eq("open"))
        .count(conn)
        .await?
        > 0)
}

/// Whether a moderator replying to this topic approves it too: its opening post waits for
/// approval.
pub async fn replying_approves(
    db: &DatabaseConnection,
    moderator: &user::Model,
    topic_id: i64,
) -> Result<bool, AppError> {
    if moderator.role() < Role::Moderator
        || crate::server::visibility::article_of(db, topic_id)
            .await?
            .is_some()
    {
        // An article's first comment is no topic's opening post: approving it is for the queue.
        return Ok(false);
    }
    // A moderator's own held topic is someone else's to approve: their reply is a reply.
    Ok(post::Entity::find()
        .filter(post::Column::TopicId.eq(topic_id))
        .filter(post::Column::PostNumber.eq(1))
        .filter(post::Column::AuthorId.ne(moderator.id))
        .filter(post::Column::State.eq(PostState::Pending.as_str()))
        .count(db)
        .await?
        > 0)
}

/// A moderator answers a topic held for approval in one step: its opening post is approved (its
/// author told, the queue item resolved, the log written) and the reply posted, together.
pub async fn approve_and_reply(
    db: &DatabaseConnection,
    moderator: &user::Model,
    topic_id: i64,
    body: &str,
    form_token: Option<&str>,
) -> Result<post::Model, AppError> {
    require_role(Some(moderator.role()), Role::Moderator)?;
    let t = visibility::topic(db, topic_id, Some(moderator)).await?;
    posting::validate_body(body)?;
    if let Some(token) = form_token {
        forms::check_unused(db, token, posting::REPLY_SENT_TWICE).await?;
    }
    let prepared = posting::prepare(db, body).await?;
    let txn = begin_write(db).await?;
    if let Some(token) = form_token {
        forms::consume(&txn, token, posting::REPLY_SENT_TWICE).await?;
    }
    let opening = post::Entity::find()
        .filter(post::Column::TopicId.eq(t.id))
        .filter(post::Column::PostNumber.eq(1))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(visibility::POST_MISSING.into()))?;
    // Locked, as the approval would lock it: a second reply sent at once waits for the first.
    let opening = crate::server::records::posts::locked(&txn, opening.id)
        .await?
        .ok_or_else(|| AppError::NotFound(visibility::POST_MISSING.into()))?;
    let found = visibility::topic_to_post_in(&txn, t.id, Some(moderator)).await?;
    posting::check_takes_posts(&found)?;
    let visibility::ToPostIn {
        topic: t, article, ..
    } = found;
    // Approved since the form was sent (the same moderator's reply sent twice at once, or
    // another moderator): the reply is only a reply, not refused as an approval of a public post.
    if opening.state() != PostState::Visible {
        act_in(&txn, moderator, opening.id, None, PostAction::Approve, "").await?;
    }
    let created = posting::reply(&txn, moderator, &t, article.as_ref(), &prepared).await?;
    txn.commit().await?;
    Ok(created)
}

/// Topic-level actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicAction {
    Lock,
    Unlock,
    Pin,
    Unpin,
}

impl TopicAction {
    pub fn parse(s: &str) -> Option<TopicAction> {
        Some(match s {
            "lock" => TopicAction::Lock,
            "unlock" => TopicAction::Unlock,
            "pin" => TopicAction::Pin,
            "unpin" => TopicAction::Unpin,
            _ => return None,
        })
    }
}

pub async fn act_on_topic(
    db: &DatabaseConnection,
    moderator: &user::Model,
    topic_id: i64,
    action: TopicAction,
    reason: &str,
) -> Result<(), AppError> {
    require_role(Some(moderator.role()), Role::Moderator)?;
    let reason = reason_text(reason)?;
    let reason = reason.as_str();
    let t = visibility::topic(db, topic_id, Some(moderator)).await?;
    let (column, value, name) = match action {
        TopicAction::Lock => (topic::Column::Locked, true, "lock"),
        TopicAction::Unlock => (topic::Column::Locked, false, "unlock"),
        TopicAction::Pin => (topic::Column::Pinned, true, "pin"),
        TopicAction::Unpin => (topic::Column::Pinned, false, "unpin"),
    };
    let txn = begin_write(db).await?;
    // Read on the locked row: locking a locked topic (a double click, two moderators at once)
    // changes nothing and writes no second line in its public history.
    let current = crate::server::records::topics::locked(&txn, t.id)
        .await?
        .ok_or_else(|| AppError::NotFound(visibility::TOPIC_MISSING.into()))?;
    let already = match action {
        TopicAction::Lock | TopicAction::Unlock => current.locked == value,
        TopicAction::Pin | TopicAction::Unpin => current.pinned == value,
    };
    if already {
        return Ok(());
    }
    topic::Entity::update_many()
        .col_expr(column, Expr::value(value))
        .filter(topic::Column::Id.eq(t.id))
        .exec(&txn)
        .await?;
    log(
        &txn,
        moderator,
        name,
        None,
        Some(t.id),
        Some(t.author_id),
        reason.trim(),
        true,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Moves a topic to another forum category, with its counts.
pub async fn move_topic(
    db: &DatabaseConnection,
    moderator: &user::Model,
    topic_id: i64,
    category_slug: &str,
    reason: &str,
) -> Result<(), AppError> {
    require_role(Some(moderator.role()), Role::Moderator)?;
    let reason = reason_text(reason)?;
    let reason = reason.as_str();
    let t = visibility::topic(db, topic_id, Some(moderator)).await?;
    // In a forum category an article's comments would show the article's title whatever its
    // state, and the article would lose them.
    if crate::server::visibility::article_of(db, t.id)
        .await?
        .is_some()
    {
        return Err(AppError::invalid("category", ARTICLE_COMMENTS_STAY));
    }
    let to = category::Entity::find()
        .filter(category::Column::Slug.eq(category_slug))
        .filter(category::Column::Kind.ne("blog_comments"))
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "category",
                crate::server::records::categories::CATEGORY_MISSING,
            )
        })?;
    if to.id == t.category_id {
        return Ok(());
    }
    // Read-only: nobody could answer it there, and it would wait in the queue for good.
    if to.archived {
        return Err(AppError::invalid(
            "category",
            crate::server::posting::CATEGORY_ARCHIVED,
        ));
    }
    let txn = begin_write(db).await?;
    // Locked before it is read: a reply settling at the same moment (on PostgreSQL) would
    // otherwise add its post to the category this move takes the topic's old share from.
    crate::server::records::topics::lock(&txn, t.id).await?;
    let t = visibility::topic(&txn, t.id, Some(moderator)).await?;
    if to.id == t.category_id {
        return Ok(());
    }
    // Archived meanwhile? Read again in the write, after the topic's lock (the order replies
    // take), and on PostgreSQL shared until the commit: an archiving then waits for this move
    // and takes the topic out of the queue with the others, or this waits and sees it archived.
    let mut now = category::Entity::find_by_id(to.id);
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        now = now.lock_shared();
    }
    if now.one(&txn).await?.is_none_or(|c| c.archived) {
        return Err(AppError::invalid(
            "category",
            crate::server::posting::CATEGORY_ARCHIVED,
        ));
    }
    posting::move_topic(&txn, &t, to.id).await?;
    // Out of an archived category into one that takes posts: a wait its archiving ended
    // starts again, as restoring the category would have done.
    let from = category::Entity::find_by_id(t.category_id)
        .one(&txn)
        .await?;
    if let Some(from) = from.filter(|c| c.archived)
        && topic_events::ended_by_archiving(&txn, t.id).await?
    {
        posting::end_archiving(
            &txn,
            t.id,
            moderator.id,
            topic_events::MOVED_OUT_OF_ARCHIVE,
            &from.name,
            MOVED_OUT_OF_ARCHIVE,
        )
        .await?;
    }
    review_item::Entity::update_many()
        .col_expr(review_item::Column::CategoryId, Expr::value(to.id))
        .filter(
            review_item::Column::PostId.in_subquery(
                Query::select()
                    .column(post::Column::Id)
                    .from(post::Entity)
                    .and_where(post::Column::TopicId.eq(t.id))
                    .to_owned(),
            ),
        )
        .exec(&txn)
        .await?;
    let note = if crate::server::invisible::is_blank(reason) {
        format!("Moved to {}", to.name)
    } else {
        format!("Moved to {}: {}", to.name, reason.trim())
    };
    log(
        &txn,
        moderator,
        "move",
        None,
        Some(t.id),
        Some(t.author_id),
        &note,
        true,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A moderator edits someone's post: the old text is kept as a revision, the edit is logged and
/// the author told, all in one transaction.
pub async fn edit_post(
    db: &DatabaseConnection,
    moderator: &user::Model,
    post_id: i64,
    body: &str,
    reason: &str,
) -> Result<post::Model, AppError> {
    require_role(Some(moderator.role()), Role::Moderator)?;
    let reason = reason_text(reason)?;
    let reason = reason.as_str();
    let (p, _) = visibility::post(db, post_id, Some(moderator)).await?;
    check_may_act_on_author(db, moderator, p.author_id).await?;
    posting::validate_body(body)?;
    let prepared = posting::prepare(db, body).await?;
    let txn = begin_write(db).await?;
    let (existing, _) = visibility::post(&txn, post_id, Some(moderator)).await?;
    if existing.state() == PostState::Deleted {
        return Err(AppError::NotFound(visibility::POST_MISSING.into()));
    }
    let edited = posting::edit(&txn, moderator, &existing, &prepared).await?;
    if edited == existing {
        return Ok(edited);
    }
    log(
        &txn,
        moderator,
        "edit",
        Some(edited.id),
        Some(edited.topic_id),
        Some(edited.author_id),
        reason.trim(),
        true,
    )
    .await?;
    if edited.author_id != moderator.id {
        let message = match reason.trim() {
            "" => "A moderator edited your post.".to_string(),
            r => format!("A moderator edited your post. Reason: {r}"),
        };
        notify::notify(
            &txn,
            edited.author_id,
            "edited",
            &message,
            &link_to(&txn, &edited).await?,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(edited)
}
