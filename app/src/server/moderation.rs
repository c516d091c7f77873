//! Moderation: members' flags and their weight, the one review queue, moderators' actions with
//! the reason the author is told, suspensions, and the moderation log. Every action is checked
//! for the moderator role, runs in one transaction, is logged and notifies the author.
use super::auth::check_may_act_on_author;
use super::records::moderation_log::log;
use std::collections::HashSet;

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, Set,
    sea_query::{Expr, ExprTrait, Query},
};

use super::{
    auth::{self, check_may_act_on, require_role},
    db::begin_write,
    entity::{category, flag, post, review_item, topic, user, watched_word},
    forms, forum, notify, posting, records, settings, visibility,
    watched_words::WordAction,
};
use crate::{
    error::AppError,
    model::{FLAG_REASONS, PostState, Role},
};

pub const MAX_REASON_CHARS: usize = 1000;

pub const FLAG_REASON_UNKNOWN: &str = "Choose why you are flagging this post.";
pub const FLAG_NOTE_NEEDED: &str = "Say what is wrong with this post.";
pub const FLAG_OWN_POST: &str = "You can't flag your own post.";
pub const FLAG_REMOVED_POST: &str = "That post was removed, so it can't be flagged.";
pub const FLAG_NOT_PUBLIC: &str =
    "That post is not public, so there is nothing to flag: a moderator already has it.";
pub const FLAG_TWICE: &str = "You have already flagged this post; a moderator will look at it.";
pub const REASON_NEEDED: &str = "Give a reason: the author will see it.";
pub const NOTHING_SELECTED: &str = "Select at least one item.";
pub const NOT_YOURSELF: &str = "You can't suspend yourself.";
pub const ACTION_UNKNOWN: &str = "Choose an action.";
pub const ARTICLE_COMMENTS_STAY: &str =
    "An article's comments stay with the article: they can't be moved into the forum.";
pub const AUTO_HIDDEN: &str =
    "Hidden automatically after members flagged it; a moderator will review it.";

fn reason_length(reason: &str) -> Result<(), AppError> {
    let n = reason.chars().count();
    if n > MAX_REASON_CHARS {
        return Err(AppError::invalid(
            "reason",
            format!("Reasons can be at most 1,000 characters; this one has {n}."),
        ));
    }
    Ok(())
}

/// A flag's weight, in hundredths: a member whose flags moderators usually upheld counts
/// double; an account less than a day old counts half.
pub async fn flag_weight(
    conn: &impl ConnectionTrait,
    flagger: &user::Model,
) -> Result<i32, AppError> {
    if Utc::now() - flagger.created_at < Duration::days(1) {
        return Ok(50);
    }
    let count = |state: &'static str| {
        flag::Entity::find()
            .filter(flag::Column::FlaggerId.eq(flagger.id))
            .filter(flag::Column::State.eq(state))
            .count(conn)
    };
    let (upheld, dismissed) = (count("upheld").await?, count("dismissed").await?);
    Ok(if upheld >= 3 && upheld >= 2 * dismissed {
        200
    } else {
        100
    })
}

/// A signed-in member flags a post. Enough weight of open flags hides it until a moderator
/// decides.
pub async fn flag_post(
    db: &DatabaseConnection,
    flagger: &user::Model,
    post_id: i64,
    reason: &str,
    note: &str,
) -> Result<flag::Model, AppError> {
    if !FLAG_REASONS.iter().any(|(key, _)| *key == reason) {
        return Err(AppError::invalid("reason", FLAG_REASON_UNKNOWN));
    }
    let note = note.trim();
    if reason == "other" && note.is_empty() {
        return Err(AppError::invalid("note", FLAG_NOTE_NEEDED));
    }
    reason_length(note).map_err(|_| {
        AppError::invalid(
            "note",
            format!(
                "Reasons can be at most 1,000 characters; this one has {}.",
                note.chars().count()
            ),
        )
    })?;
    // A post the flagger may not read is not there for them: the answer is the one for no post.
    let (p, _) = visibility::post(db, post_id, Some(flagger)).await?;
    match p.state() {
        PostState::Visible => {}
        PostState::Deleted => return Err(AppError::invalid("form", FLAG_REMOVED_POST)),
        PostState::Pending | PostState::Hidden => {
            return Err(AppError::invalid("form", FLAG_NOT_PUBLIC));
        }
    }
    if p.author_id == flagger.id {
        return Err(AppError::invalid("form", FLAG_OWN_POST));
    }
    auth::check_not_suspended(flagger)?;
    posting::check_rate(
        db,
        flagger,
        settings::FLAGS_PER_HOUR,
        Duration::hours(1),
        posting::RateOf::Flags,
    )
    .await?;
    let weight = flag_weight(db, flagger).await?;
    let threshold = std::cmp::max(settings::number(db, settings::FLAG_THRESHOLD).await?, 1) * 100;

    let txn = begin_write(db).await?;
    // Counted again under the lock: the check above only spares a refused flag the work.
    posting::check_rate(
        &txn,
        flagger,
        settings::FLAGS_PER_HOUR,
        Duration::hours(1),
        posting::RateOf::Flags,
    )
    .await?;
    let already = flag::Entity::find()
        .filter(flag::Column::PostId.eq(p.id))
        .filter(flag::Column::FlaggerId.eq(flagger.id))
        .filter(flag::Column::State.eq("open"))
        .count(&txn)
        .await?;
    if already > 0 {
        return Err(AppError::invalid("form", FLAG_TWICE));
    }
    let created = flag::ActiveModel {
        post_id: Set(p.id),
        flagger_id: Set(flagger.id),
        reason: Set(reason.into()),
        note: Set(note.into()),
        weight: Set(weight),
        state: Set("open".into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    records::review_items::open(&txn, &p, records::review_items::FLAGGED).await?;
    let total: Option<i64> = flag::Entity::find()
        .select_only()
        .column_as(Expr::col(flag::Column::Weight).sum(), "total")
        .filter(flag::Column::PostId.eq(p.id))
        .filter(flag::Column::State.eq("open"))
        .into_tuple()
        .one(&txn)
        .await?
        .flatten();
    if total.unwrap_or(0) >= threshold {
        posting::change_state(&txn, &p, PostState::Hidden, Some(AUTO_HIDDEN)).await?;
        notify::notify(
            &txn,
            p.author_id,
            "hidden",
            &format!("Your post was hidden: {AUTO_HIDDEN}"),
            &link_to(&txn, &p).await?,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(created)
}

async fn link_to(conn: &impl ConnectionTrait, p: &post::Model) -> Result<String, AppError> {
    records::posts::url(conn, p).await
}

/// What a moderator does to a post.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostAction {
    Approve,
    Dismiss,
    Hide,
    Delete,
    Restore,
}

impl PostAction {
    pub fn parse(s: &str) -> Option<PostAction> {
        Some(match s {
            "approve" => PostAction::Approve,
            "dismiss" => PostAction::Dismiss,
            "hide" => PostAction::Hide,
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
            PostAction::Delete => "deleted",
            PostAction::Restore => "restored",
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            PostAction::Approve => "approve",
            PostAction::Dismiss => "dismiss",
            PostAction::Hide => "hide",
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
    require_role(Some(moderator.role()), Role::Moderator)?;
    let reason = check_reason(action, reason)?;
    let txn = begin_write(db).await?;
    act_in(&txn, moderator, post_id, action, &reason).await?;
    txn.commit().await?;
    Ok(())
}

fn check_reason(action: PostAction, reason: &str) -> Result<String, AppError> {
    let reason = reason.trim();
    if matches!(action, PostAction::Hide | PostAction::Delete) && reason.is_empty() {
        return Err(AppError::invalid("reason", REASON_NEEDED));
    }
    reason_length(reason)?;
    Ok(reason.to_string())
}

async fn act_in(
    conn: &impl ConnectionTrait,
    moderator: &user::Model,
    post_id: i64,
    action: PostAction,
    reason: &str,
) -> Result<(), AppError> {
    let p = post::Entity::find_by_id(post_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(visibility::POST_MISSING.into()))?;
    check_may_act_on_author(conn, moderator, p.author_id).await?;
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
    let (state, flags_to, item_to, told) = match action {
        PostAction::Approve => (
            PostState::Visible,
            "dismissed",
            "resolved",
            "Your post was approved and is now public.",
        ),
        PostAction::Dismiss => (PostState::Visible, "dismissed", "rejected", ""),
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
    posting::change_state(conn, &p, state, Some(reason)).await?;
    let now = Utc::now();
    flag::Entity::update_many()
        .col_expr(flag::Column::State, Expr::value(flags_to))
        .col_expr(flag::Column::ResolvedAt, Expr::value(now))
        .filter(flag::Column::PostId.eq(p.id))
        .filter(flag::Column::State.eq("open"))
        .exec(conn)
        .await?;
    review_item::Entity::update_many()
        .col_expr(review_item::Column::State, Expr::value(item_to))
        .col_expr(review_item::Column::ResolvedAt, Expr::value(now))
        .col_expr(review_item::Column::ResolvedBy, Expr::value(moderator.id))
        .col_expr(
            review_item::Column::Resolution,
            Expr::value(action.as_str()),
        )
        .filter(review_item::Column::PostId.eq(p.id))
        .filter(review_item::Column::State.eq("open"))
        .exec(conn)
        .await?;
    let public = matches!(
        action,
        PostAction::Hide | PostAction::Delete | PostAction::Restore
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
            &link_to(conn, &p).await?,
        )
        .await?;
    }
    Ok(())
}

/// Whether a moderator replying to this topic approves it too: its opening post waits for
/// approval.
pub async fn replying_approves(
    db: &DatabaseConnection,
    moderator: &user::Model,
    topic_id: i64,
) -> Result<bool, AppError> {
    if moderator.role() < Role::Moderator {
        return Ok(false);
    }
    Ok(post::Entity::find()
        .filter(post::Column::TopicId.eq(topic_id))
        .filter(post::Column::PostNumber.eq(1))
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
    act_in(&txn, moderator, opening.id, PostAction::Approve, "").await?;
    let t = visibility::topic(&txn, t.id, Some(moderator)).await?;
    let created = posting::reply(&txn, moderator, &t, &prepared).await?;
    txn.commit().await?;
    Ok(created)
}

/// One action on several review items at once.
pub async fn bulk(
    db: &DatabaseConnection,
    moderator: &user::Model,
    item_ids: &[i64],
    action: PostAction,
    reason: &str,
) -> Result<usize, AppError> {
    require_role(Some(moderator.role()), Role::Moderator)?;
    if item_ids.is_empty() {
        return Err(AppError::invalid("items", NOTHING_SELECTED));
    }
    let reason = check_reason(action, reason)?;
    let txn = begin_write(db).await?;
    let posts: Vec<i64> = review_item::Entity::find()
        .select_only()
        .column(review_item::Column::PostId)
        .filter(review_item::Column::Id.is_in(item_ids.iter().copied()))
        .into_tuple()
        .all(&txn)
        .await?;
    if posts.is_empty() {
        return Err(AppError::invalid("items", NOTHING_SELECTED));
    }
    let unique: HashSet<i64> = posts.into_iter().collect();
    for post_id in &unique {
        act_in(&txn, moderator, *post_id, action, &reason).await?;
    }
    txn.commit().await?;
    Ok(unique.len())
}

/// Suspends a member for `days` (None: for good), ending their sessions.
pub async fn suspend(
    db: &DatabaseConnection,
    moderator: &user::Model,
    user_id: i64,
    days: Option<i64>,
    reason: &str,
) -> Result<user::Model, AppError> {
    require_role(Some(moderator.role()), Role::Moderator)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("reason", REASON_NEEDED));
    }
    reason_length(reason)?;
    if let Some(d) = days
        && ![1, 3, 7, 30].contains(&d)
    {
        return Err(AppError::invalid(
            "days",
            "Suspend for 1, 3, 7 or 30 days, or for good.",
        ));
    }
    let target = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no such member.".into()))?;
    check_can_suspend(moderator, &target)?;
    let txn = begin_write(db).await?;
    let updated = suspend_in(&txn, moderator, &target, days, reason, "suspend").await?;
    txn.commit().await?;
    Ok(updated)
}

fn check_can_suspend(moderator: &user::Model, target: &user::Model) -> Result<(), AppError> {
    if target.id == moderator.id {
        return Err(AppError::Forbidden(NOT_YOURSELF.into()));
    }
    check_may_act_on(moderator, target)
}

async fn suspend_in(
    conn: &impl ConnectionTrait,
    moderator: &user::Model,
    target: &user::Model,
    days: Option<i64>,
    reason: &str,
    action: &str,
) -> Result<user::Model, AppError> {
    // "For good" is a date no one will see pass.
    let until = Utc::now() + days.map_or(Duration::days(365 * 100), Duration::days);
    let mut row: user::ActiveModel = target.clone().into();
    row.suspended_until = Set(Some(until));
    row.suspension_reason = Set(Some(reason.to_string()));
    let updated = row.update(conn).await?;
    super::sign_in::end_sessions(conn, target.id).await?;
    log(
        conn,
        moderator,
        action,
        None,
        None,
        Some(target.id),
        reason,
        false,
    )
    .await?;
    let how_long = match days {
        Some(1) => "for a day".to_string(),
        Some(d) => format!("for {d} days"),
        None => "for good".to_string(),
    };
    notify::notify(
        conn,
        target.id,
        "suspended",
        &format!("Your account was suspended {how_long}. Reason: {reason}"),
        "",
    )
    .await?;
    Ok(updated)
}

pub async fn unsuspend(
    db: &DatabaseConnection,
    moderator: &user::Model,
    user_id: i64,
) -> Result<(), AppError> {
    require_role(Some(moderator.role()), Role::Moderator)?;
    let target = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no such member.".into()))?;
    check_may_act_on(moderator, &target)?;
    let txn = begin_write(db).await?;
    let mut row: user::ActiveModel = target.clone().into();
    row.suspended_until = Set(None);
    row.suspension_reason = Set(None);
    row.update(&txn).await?;
    log(
        &txn,
        moderator,
        "unsuspend",
        None,
        None,
        Some(target.id),
        "",
        false,
    )
    .await?;
    notify::notify(
        &txn,
        target.id,
        "unsuspended",
        "Your suspension was lifted.",
        "",
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// "Remove spammer": every post of the account deleted and the account suspended for good, in
/// one step.
pub async fn remove_spammer(
    db: &DatabaseConnection,
    moderator: &user::Model,
    user_id: i64,
    reason: &str,
) -> Result<u64, AppError> {
    require_role(Some(moderator.role()), Role::Moderator)?;
    let reason = if reason.trim().is_empty() {
        "Spam"
    } else {
        reason.trim()
    };
    reason_length(reason)?;
    let target = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no such member.".into()))?;
    check_can_suspend(moderator, &target)?;
    if target.role().is_staff() {
        return Err(AppError::Forbidden(
            "Staff accounts can't be removed as spammers.".into(),
        ));
    }
    let txn = begin_write(db).await?;
    let posts = posting::remove_all_by(&txn, target.id, reason).await?;
    let now = Utc::now();
    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    flag::Entity::update_many()
        .col_expr(flag::Column::State, Expr::value("upheld"))
        .col_expr(flag::Column::ResolvedAt, Expr::value(now))
        .filter(flag::Column::PostId.is_in(ids.clone()))
        .filter(flag::Column::State.eq("open"))
        .exec(&txn)
        .await?;
    review_item::Entity::update_many()
        .col_expr(review_item::Column::State, Expr::value("resolved"))
        .col_expr(review_item::Column::ResolvedAt, Expr::value(now))
        .col_expr(review_item::Column::ResolvedBy, Expr::value(moderator.id))
        .col_expr(
            review_item::Column::Resolution,
            Expr::value("remove_spammer"),
        )
        .filter(review_item::Column::PostId.is_in(ids))
        .filter(review_item::Column::State.eq("open"))
        .exec(&txn)
        .await?;
    suspend_in(&txn, moderator, &target, None, reason, "remove_spammer").await?;
    txn.commit().await?;
    Ok(posts.len() as u64)
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
    reason_length(reason)?;
    let t = visibility::topic(db, topic_id, Some(moderator)).await?;
    let (column, value, name) = match action {
        TopicAction::Lock => (topic::Column::Locked, true, "lock"),
        TopicAction::Unlock => (topic::Column::Locked, false, "unlock"),
        TopicAction::Pin => (topic::Column::Pinned, true, "pin"),
        TopicAction::Unpin => (topic::Column::Pinned, false, "unpin"),
    };
    let txn = begin_write(db).await?;
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
    reason_length(reason)?;
    let t = visibility::topic(db, topic_id, Some(moderator)).await?;
    // In a forum category an article's comments would show the article's title whatever its
    // state, and the article would lose them.
    if crate::server::records::articles::article_for_topic(db, t.id)
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
    let txn = begin_write(db).await?;
    let t = visibility::topic(&txn, t.id, Some(moderator)).await?;
    posting::move_topic(&txn, &t, to.id).await?;
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
    let note = if reason.trim().is_empty() {
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
    reason_length(reason)?;
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

/// An edit from the edit page: the author's own, or a moderator's of someone else's post
/// (logged, and the author told).
pub async fn edit_from_page(
    db: &DatabaseConnection,
    editor: &user::Model,
    post_id: i64,
    body: &str,
    reason: &str,
) -> Result<post::Model, AppError> {
    let someone_elses = post::Entity::find_by_id(post_id)
        .one(db)
        .await?
        .is_some_and(|p| p.author_id != editor.id);
    if someone_elses && editor.role() >= Role::Moderator {
        edit_post(db, editor, post_id, body, reason).await
    } else {
        forum::edit_post(db, editor, post_id, body).await
    }
}

/// Admins save the moderation numbers (bounds in `settings::ALL`) and the public log switch.
pub async fn save_settings(
    db: &DatabaseConnection,
    actor: &user::Model,
    values: &[(&str, &str)],
    log_public: bool,
) -> Result<(), AppError> {
    let mut values = values.to_vec();
    values.push((
        settings::MODERATION_LOG_PUBLIC,
        if log_public { "true" } else { "false" },
    ));
    let txn = begin_write(db).await?;
    settings::change_all(&txn, settings::ChangedBy::Admin(actor), &values).await?;
    txn.commit().await?;
    Ok(())
}

pub const WORD_EMPTY: &str = "Give a word or phrase to watch for.";
pub const WORD_TAKEN: &str = "That word is already watched; remove it first to change its action.";

/// Admins add a watched word (`*` at either end for "and more letters").
pub async fn add_watched_word(
    db: &DatabaseConnection,
    actor: &user::Model,
    word: &str,
    action: &str,
) -> Result<(), AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    let word = word.trim().to_lowercase();
    if word.trim_matches('*').is_empty() {
        return Err(AppError::invalid("word", WORD_EMPTY));
    }
    if word.chars().count() > 100 {
        return Err(AppError::invalid(
            "word",
            "Watched words can be at most 100 characters.",
        ));
    }
    let action = WordAction::parse(action)
        .ok_or_else(|| AppError::invalid("action", "Choose block, hold, flag or censor."))?;
    let exists = watched_word::Entity::find()
        .filter(watched_word::Column::Word.eq(word.as_str()))
        .count(db)
        .await?;
    if exists > 0 {
        return Err(AppError::invalid("word", WORD_TAKEN));
    }
    watched_word::ActiveModel {
        word: Set(word),
        action: Set(action.as_str().into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn remove_watched_word(
    db: &DatabaseConnection,
    actor: &user::Model,
    id: i64,
) -> Result<(), AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    watched_word::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::entity::moderation_log;
    use crate::server::posting::{HELD_NEW, HELD_WORDS};

    use crate::server::views::moderation::ReviewFilter;
    use crate::server::views::moderation::log_page;
    use crate::server::views::moderation::open_review_count;
    use crate::server::views::moderation::review_queue;
    use crate::server::{
        entity::notification,
        forum::{reply, start_topic},
        testing::{self, insert_user},
    };

    struct World {
        db: DatabaseConnection,
        author: user::Model,
        members: Vec<user::Model>,
        staff: user::Model,
        moderator: user::Model,
        admin: user::Model,
        topic: topic::Model,
        post: post::Model,
    }

    async fn with(db: &DatabaseConnection, id: i64, role: Role, trust: i16) -> user::Model {
        let mut row: user::ActiveModel = insert_user(db, id).await.into();
        row.role = Set(role.as_str().into());
        row.trust_level = Set(trust);
        // A day old, so their flags count fully.
        row.created_at = Set(Utc::now() - Duration::days(2));
        row.update(db).await.unwrap()
    }

    /// The shared world with the default rate limits, members who joined two days ago (so their
    /// flags count fully), four more customers to flag with, and a rude topic to moderate.
    async fn world() -> World {
        let shared = testing::World::builder()
            .with_rate_limits()
            .members_aged(Duration::days(2))
            .build()
            .await;
        let db = shared.db;
        let mut members = vec![shared.other];
        for id in 6..=10 {
            members.push(with(&db, id, Role::Customer, 1).await);
        }
        let (topic, post) = start_topic(
            &db,
            &shared.customer,
            "questions",
            "Rude topic",
            "You are all idiots.",
            None,
        )
        .await
        .unwrap();
        World {
            db,
            author: shared.customer,
            members,
            staff: shared.staff,
            moderator: shared.moderator,
            admin: shared.admin,
            topic,
            post,
        }
    }

    async fn post_now(db: &DatabaseConnection, id: i64) -> post::Model {
        post::Entity::find_by_id(id).one(db).await.unwrap().unwrap()
    }

    async fn counts(db: &DatabaseConnection) -> (u64, u64, u64, u64) {
        (
            flag::Entity::find().count(db).await.unwrap(),
            review_item::Entity::find().count(db).await.unwrap(),
            moderation_log::Entity::find().count(db).await.unwrap(),
            notification::Entity::find().count(db).await.unwrap(),
        )
    }

    #[tokio::test]
    async fn flags_weigh_by_history_and_hide_at_the_threshold() {
        let w = world().await;
        // A brand-new account's flag counts half; a member whose flags were upheld counts double.
        let mut fresh: user::ActiveModel = w.members[0].clone().into();
        fresh.created_at = Set(Utc::now());
        let fresh = fresh.update(&w.db).await.unwrap();
        assert_eq!(flag_weight(&w.db, &fresh).await.unwrap(), 50);
        assert_eq!(flag_weight(&w.db, &w.members[1]).await.unwrap(), 100);
        for _ in 0..3 {
            flag::ActiveModel {
                post_id: Set(w.post.id),
                flagger_id: Set(w.members[2].id),
                reason: Set("spam".into()),
                note: Set(String::new()),
                weight: Set(100),
                state: Set("upheld".into()),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&w.db)
            .await
            .unwrap();
        }
        assert_eq!(flag_weight(&w.db, &w.members[2]).await.unwrap(), 200);

        // Threshold 3: half + one = 1.5, still visible; + double = 3.5, hidden.
        flag_post(&w.db, &fresh, w.post.id, "rude", "")
            .await
            .unwrap();
        flag_post(&w.db, &w.members[1], w.post.id, "rude", "")
            .await
            .unwrap();
        assert_eq!(post_now(&w.db, w.post.id).await.state, "visible");
        flag_post(&w.db, &w.members[2], w.post.id, "rude", "")
            .await
            .unwrap();
        let hidden = post_now(&w.db, w.post.id).await;
        assert_eq!(
            (hidden.state.as_str(), hidden.moderation_reason.as_deref()),
            ("hidden", Some(AUTO_HIDDEN))
        );
        let items = review_item::Entity::find().all(&w.db).await.unwrap();
        assert_eq!(items.len(), 1, "one open item per post, however many flags");
        assert_eq!(items[0].snapshot_html, "<p>You are all idiots.</p>\n");
        let told = notification::Entity::find().all(&w.db).await.unwrap();
        assert_eq!(told.len(), 1);
        assert!(told[0].message.contains(AUTO_HIDDEN));
    }

    #[tokio::test]
    async fn bad_flags_are_refused_and_write_nothing() {
        let w = world().await;
        let long = "x".repeat(1001);
        let before = counts(&w.db).await;
        for (who, post_id, reason, note, expected) in [
            (
                &w.author,
                w.post.id,
                "rude",
                "",
                AppError::invalid("form", FLAG_OWN_POST),
            ),
            (
                &w.members[0],
                w.post.id,
                "boring",
                "",
                AppError::invalid("reason", FLAG_REASON_UNKNOWN),
            ),
            (
                &w.members[0],
                w.post.id,
                "other",
                "  ",
                AppError::invalid("note", FLAG_NOTE_NEEDED),
            ),
            (
                &w.members[0],
                w.post.id,
                "other",
                long.as_str(),
                AppError::invalid(
                    "note",
                    "Reasons can be at most 1,000 characters; this one has 1001.",
                ),
            ),
            (
                &w.members[0],
                9999,
                "spam",
                "",
                AppError::NotFound(visibility::POST_MISSING.into()),
            ),
        ] {
            assert_eq!(
                flag_post(&w.db, who, post_id, reason, note)
                    .await
                    .unwrap_err(),
                expected
            );
        }
        assert_eq!(counts(&w.db).await, before);
        flag_post(&w.db, &w.members[0], w.post.id, "spam", "")
            .await
            .unwrap();
        let after_one = counts(&w.db).await;
        assert_eq!(
            flag_post(&w.db, &w.members[0], w.post.id, "rude", "")
                .await
                .unwrap_err(),
            AppError::invalid("form", FLAG_TWICE)
        );
        act_on_post(
            &w.db,
            &w.moderator,
            w.post.id,
            PostAction::Delete,
            "Abusive.",
        )
        .await
        .unwrap();
        let after_delete = counts(&w.db).await;
        assert_eq!(
            flag_post(&w.db, &w.members[1], w.post.id, "spam", "")
                .await
                .unwrap_err(),
            AppError::NotFound(visibility::POST_MISSING.into())
        );
        assert_eq!(counts(&w.db).await, after_delete);
        assert_eq!(after_one.0, 1);
    }

    #[tokio::test]
    async fn new_members_first_posts_wait_for_approval_when_admins_turn_holding_on() {
        let w = world().await;
        let newcomer = with(&w.db, 30, Role::Customer, 0).await;
        // Off by default: a first complaint is answered, not parked.
        assert_eq!(
            settings::number(&w.db, settings::NEW_MEMBER_HOLD)
                .await
                .unwrap(),
            0
        );
        settings::put(&w.db, settings::NEW_MEMBER_HOLD.0, "1")
            .await
            .unwrap();
        let (t, first) = start_topic(
            &w.db,
            &newcomer,
            "questions",
            "Hello",
            "My first post",
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            (first.state.as_str(), first.moderation_reason.as_deref()),
            ("pending", Some(HELD_NEW))
        );
        let t = topic::Entity::find_by_id(t.id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert!(!t.visible, "the topic waits with its opening post");
        // Not listed anywhere meanwhile: not in its category, not as the latest on the home
        // page, not on the member's page, not in the staff queue.
        let listed = crate::server::views::forum::category_page(&w.db, "questions", 1, None)
            .await
            .unwrap();
        assert!(listed.topics.iter().all(|x| x.id != t.id));
        let home = crate::server::views::forum::list_categories(&w.db)
            .await
            .unwrap();
        assert!(
            home.iter()
                .all(|c| c.latest_topic_title.as_deref() != Some("Hello"))
        );
        assert_eq!(
            crate::server::views::forum::user_profile(&w.db, "user30")
                .await
                .unwrap()
                .topic_count,
            0
        );
        // Staff see it waiting, marked: the customer is waiting all the same.
        let staff_queue = crate::server::views::staff::queue(&w.db, &w.staff, None, 1)
            .await
            .unwrap();
        let queued = staff_queue.items.iter().find(|i| i.id == t.id).unwrap();
        assert!(queued.held);
        let q = review_queue(&w.db, &w.moderator, ReviewFilter::default(), 1)
            .await
            .unwrap();
        assert_eq!((q.total, q.items[0].kind.as_str()), (1, "held_new"));
        act_on_post(&w.db, &w.moderator, first.id, PostAction::Approve, "")
            .await
            .unwrap();
        assert_eq!(post_now(&w.db, first.id).await.state, "visible");
        assert!(
            topic::Entity::find_by_id(t.id)
                .one(&w.db)
                .await
                .unwrap()
                .unwrap()
                .visible
        );
        // One approved post is enough at 1: the next goes straight up.
        let second = reply(&w.db, &newcomer, t.id, "Thanks!", None)
            .await
            .unwrap();
        assert_eq!(second.state, "visible");
        // 0 turns holding off.
        settings::put(&w.db, settings::NEW_MEMBER_HOLD.0, "0")
            .await
            .unwrap();
        let other = with(&w.db, 31, Role::Customer, 0).await;
        assert_eq!(
            reply(&w.db, &other, t.id, "Hi", None).await.unwrap().state,
            "visible"
        );
        let kinds: Vec<_> = notification::Entity::find()
            .all(&w.db)
            .await
            .unwrap()
            .into_iter()
            .map(|n| n.kind)
            .collect();
        assert_eq!(kinds, vec!["held", "approve"]);
    }

    #[tokio::test]
    async fn rate_limits_say_how_long_to_wait() {
        let w = world().await;
        settings::put(&w.db, settings::POSTS_PER_10_MIN.0, "2")
            .await
            .unwrap();
        reply(&w.db, &w.members[0], w.topic.id, "one", None)
            .await
            .unwrap();
        reply(&w.db, &w.members[0], w.topic.id, "two", None)
            .await
            .unwrap();
        let err = reply(&w.db, &w.members[0], w.topic.id, "three", None)
            .await
            .unwrap_err();
        let AppError::Invalid { field, message } = err else {
            panic!("{err:?}")
        };
        assert_eq!(field, "form");
        assert!(
            message.starts_with(
                "You've reached the limit of 2 posts for now. Try again in 10 minutes"
            ) || message
                .starts_with("You've reached the limit of 2 posts for now. Try again in 9 minutes"),
            "{message}"
        );
        // Staff are not limited.
        for n in 0..3 {
            reply(&w.db, &w.staff, w.topic.id, &format!("staff {n}"), None)
                .await
                .unwrap();
        }
        settings::put(&w.db, settings::TOPICS_PER_HOUR.0, "1")
            .await
            .unwrap();
        let err = start_topic(&w.db, &w.author, "questions", "Another", "again", None)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("limit of 1 new topics"), "{err}");
    }

    #[tokio::test]
    async fn watched_words_block_hold_flag_or_censor() {
        let w = world().await;
        for (word, action) in [
            ("casino", "block"),
            ("crypto", "hold"),
            ("refund*", "flag"),
            ("darn", "censor"),
        ] {
            watched_word::ActiveModel {
                word: Set(word.into()),
                action: Set(action.into()),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&w.db)
            .await
            .unwrap();
        }
        let m = &w.members[0];
        let before = post::Entity::find().count(&w.db).await.unwrap();
        assert_eq!(
            reply(&w.db, m, w.topic.id, "Best CA\u{200B}SINO in town", None)
                .await
                .unwrap_err(),
            AppError::invalid(
                "body",
                "Your post contains “casino”, which isn't allowed here. Please reword it."
            )
        );
        assert_eq!(post::Entity::find().count(&w.db).await.unwrap(), before);
        let held = reply(&w.db, m, w.topic.id, "Invest in ｃｒｙｐｔｏ", None)
            .await
            .unwrap();
        assert_eq!(
            (held.state.as_str(), held.moderation_reason.as_deref()),
            ("pending", Some(HELD_WORDS))
        );
        let flagged = reply(&w.db, m, w.topic.id, "I want refunds now", None)
            .await
            .unwrap();
        assert_eq!(flagged.state, "visible");
        let censored = reply(&w.db, m, w.topic.id, "Darn it", None).await.unwrap();
        assert_eq!(censored.html, "<p>■■■■ it</p>\n");
        assert_eq!(censored.source, "Darn it", "the author's own text is kept");
        let kinds: Vec<_> = review_item::Entity::find()
            .all(&w.db)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.kind)
            .collect();
        assert_eq!(kinds, vec!["held_words", "flagged"]);
    }

    #[tokio::test]
    async fn actions_log_notify_and_the_author_can_edit_back_into_the_queue() {
        let w = world().await;
        flag_post(&w.db, &w.members[0], w.post.id, "rude", "")
            .await
            .unwrap();
        assert_eq!(
            act_on_post(&w.db, &w.moderator, w.post.id, PostAction::Hide, " ")
                .await
                .unwrap_err(),
            AppError::invalid("reason", REASON_NEEDED)
        );
        act_on_post(
            &w.db,
            &w.moderator,
            w.post.id,
            PostAction::Hide,
            "Please keep it civil.",
        )
        .await
        .unwrap();
        let hidden = post_now(&w.db, w.post.id).await;
        assert_eq!(
            hidden.moderation_reason.as_deref(),
            Some("Please keep it civil.")
        );
        assert_eq!(
            flag::Entity::find()
                .one(&w.db)
                .await
                .unwrap()
                .unwrap()
                .state,
            "upheld"
        );
        assert_eq!(open_review_count(&w.db).await.unwrap(), 0);
        let entry = moderation_log::Entity::find()
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                entry.actor_id,
                entry.action.as_str(),
                entry.post_id,
                entry.user_id,
                entry.reason.as_str()
            ),
            (
                w.moderator.id,
                "hide",
                Some(w.post.id),
                Some(w.author.id),
                "Please keep it civil."
            )
        );
        let told = notification::Entity::find()
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            told.message,
            "Your post was hidden by a moderator. Reason: Please keep it civil."
        );

        // The author edits it: back in the queue as "edited", still hidden until approved.
        forum::edit_post(&w.db, &w.author, w.post.id, "Sorry, I was frustrated.")
            .await
            .unwrap();
        let q = review_queue(&w.db, &w.moderator, ReviewFilter::default(), 1)
            .await
            .unwrap();
        assert_eq!(q.items[0].kind, "edited");
        assert_eq!(q.items[0].current_html, "<p>Sorry, I was frustrated.</p>\n");
        assert_eq!(q.items[0].author_moderation_count, 1);
        act_on_post(&w.db, &w.moderator, w.post.id, PostAction::Approve, "")
            .await
            .unwrap();
        assert_eq!(post_now(&w.db, w.post.id).await.state, "visible");

        // Topic actions, each logged.
        act_on_topic(
            &w.db,
            &w.moderator,
            w.topic.id,
            TopicAction::Lock,
            "Cooling off",
        )
        .await
        .unwrap();
        act_on_topic(&w.db, &w.moderator, w.topic.id, TopicAction::Pin, "")
            .await
            .unwrap();
        move_topic(&w.db, &w.moderator, w.topic.id, "ideas", "Better fit")
            .await
            .unwrap();
        let t = topic::Entity::find_by_id(w.topic.id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert!(t.locked && t.pinned);
        let ideas = category::Entity::find()
            .filter(category::Column::Slug.eq("ideas"))
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (t.category_id, ideas.topic_count, ideas.post_count),
            (ideas.id, 1, 1)
        );
        let edit = edit_post(
            &w.db,
            &w.moderator,
            w.post.id,
            "Edited by a moderator.",
            "Tone",
        )
        .await
        .unwrap();
        assert_eq!(edit.source, "Edited by a moderator.");
        let actions: Vec<_> = moderation_log::Entity::find()
            .all(&w.db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            vec!["hide", "approve", "lock", "pin", "move", "edit"]
        );
        let public = log_page(&w.db, None, true, 1).await.unwrap();
        assert!(
            public
                .entries
                .iter()
                .all(|e| e.actor.is_empty() && e.member.is_empty()),
            "no names in public"
        );
        assert_eq!(
            public.entries.len(),
            5,
            "the approval is not a public action"
        );
    }

    #[tokio::test]
    async fn suspensions_bulk_actions_and_removing_a_spammer() {
        let w = world().await;
        assert_eq!(
            suspend(&w.db, &w.moderator, w.admin.id, Some(7), "No")
                .await
                .unwrap_err(),
            AppError::Forbidden(crate::server::auth::PROTECTED_MEMBER.into())
        );
        assert_eq!(
            suspend(&w.db, &w.moderator, w.author.id, Some(5), "Rude")
                .await
                .unwrap_err(),
            AppError::invalid("days", "Suspend for 1, 3, 7 or 30 days, or for good.")
        );
        let suspended = suspend(
            &w.db,
            &w.moderator,
            w.author.id,
            Some(3),
            "Repeated insults",
        )
        .await
        .unwrap();
        let err = reply(&w.db, &suspended, w.topic.id, "let me back", None)
            .await
            .unwrap_err();
        let AppError::Forbidden(message) = err else {
            panic!()
        };
        assert!(
            message.starts_with("Your account is suspended until ")
                && message.ends_with("Reason: Repeated insults"),
            "{message}"
        );
        unsuspend(&w.db, &w.moderator, w.author.id).await.unwrap();

        assert_eq!(
            bulk(&w.db, &w.moderator, &[], PostAction::Hide, "x")
                .await
                .unwrap_err(),
            AppError::invalid("items", NOTHING_SELECTED)
        );
        let spammer = &w.members[3];
        for n in 0..3 {
            let p = reply(
                &w.db,
                spammer,
                w.topic.id,
                &format!("cheap pills {n}"),
                None,
            )
            .await
            .unwrap();
            flag_post(&w.db, &w.members[0], p.id, "spam", "")
                .await
                .unwrap();
        }
        let ids: Vec<i64> = review_item::Entity::find()
            .all(&w.db)
            .await
            .unwrap()
            .iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(
            bulk(&w.db, &w.moderator, &ids[..2], PostAction::Hide, "Spam")
                .await
                .unwrap(),
            2
        );
        assert_eq!(open_review_count(&w.db).await.unwrap(), 1);
        assert_eq!(
            remove_spammer(&w.db, &w.moderator, spammer.id, "")
                .await
                .unwrap(),
            3
        );
        let left = post::Entity::find()
            .filter(post::Column::AuthorId.eq(spammer.id))
            .filter(post::Column::State.ne("deleted"))
            .count(&w.db)
            .await
            .unwrap();
        assert_eq!(left, 0);
        let gone = user::Entity::find_by_id(spammer.id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert!(gone.suspended_until.unwrap() > Utc::now() + Duration::days(365 * 50));
        assert_eq!(open_review_count(&w.db).await.unwrap(), 0);
        // Each action is in the log, with whom it was about.
        let logged: Vec<_> = moderation_log::Entity::find()
            .all(&w.db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.action, e.user_id))
            .collect();
        assert_eq!(
            logged,
            vec![
                ("suspend".to_string(), Some(w.author.id)),
                ("unsuspend".to_string(), Some(w.author.id)),
                ("hide".to_string(), Some(spammer.id)),
                ("hide".to_string(), Some(spammer.id)),
                ("remove_spammer".to_string(), Some(spammer.id)),
            ]
        );
    }

    #[tokio::test]
    async fn only_moderators_and_admins_moderate() {
        let w = world().await;
        let before = counts(&w.db).await;
        for who in [&w.members[0], &w.staff] {
            let refused =
                |r: Result<(), AppError>| assert!(matches!(r, Err(AppError::Forbidden(_))));
            refused(act_on_post(&w.db, who, w.post.id, PostAction::Hide, "x").await);
            refused(act_on_topic(&w.db, who, w.topic.id, TopicAction::Lock, "x").await);
            refused(move_topic(&w.db, who, w.topic.id, "ideas", "x").await);
            refused(
                bulk(&w.db, who, &[1], PostAction::Hide, "x")
                    .await
                    .map(|_| ()),
            );
            refused(
                suspend(&w.db, who, w.author.id, Some(1), "x")
                    .await
                    .map(|_| ()),
            );
            refused(unsuspend(&w.db, who, w.author.id).await);
            refused(
                remove_spammer(&w.db, who, w.author.id, "x")
                    .await
                    .map(|_| ()),
            );
            refused(edit_post(&w.db, who, w.post.id, "x", "x").await.map(|_| ()));
            refused(
                review_queue(&w.db, who, ReviewFilter::default(), 1)
                    .await
                    .map(|_| ()),
            );
            refused(log_page(&w.db, Some(who), false, 1).await.map(|_| ()));
        }
        assert_eq!(counts(&w.db).await, before);
        assert_eq!(
            post_now(&w.db, w.post.id).await.source,
            "You are all idiots."
        );
    }
}
