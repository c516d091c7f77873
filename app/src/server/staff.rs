//! Staff response: statuses with notes, official answers, "no reply needed", resolutions the
//! customer confirms, and response targets. Every action here is checked for the staff role and
//! written to the topic's history (`topic_events`); the clock and the queue follow from that
//! history and the posts (`posting::settle`). The queue and the figures are read in
//! `views::staff`.

use chrono::Utc;
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr,
};

use super::{
    auth::require_role,
    db::begin_write,
    entity::{category, topic, user},
    notify, posting,
    records::topic_events,
    settings, visibility,
};
use crate::server::records::{topics::asks_author_to_confirm, users};
use crate::{
    error::AppError,
    model::{PostState, Role, TopicStatus},
};

pub const MAX_REASON_CHARS: usize = 1000;

pub const ANSWER_ELSEWHERE: &str = "That post is not a reply in this topic.";
pub const REASON_MISSING: &str = "Say why no staff reply is needed; other staff will see it.";
pub const NOT_WAITING: &str = "This topic is not waiting for staff.";
pub const ONLY_THE_AUTHOR: &str = "Only the person who started this topic can confirm it.";
pub const NOTHING_TO_CONFIRM: &str = "This topic is not waiting for your confirmation.";
pub const REOPENED_BY_NO: &str = "The customer said this did not solve it.";

async fn locked_topic(conn: &impl ConnectionTrait, id: i64) -> Result<topic::Model, AppError> {
    crate::server::records::topics::locked(conn, id)
        .await?
        .ok_or_else(|| AppError::NotFound(crate::server::visibility::TOPIC_MISSING.into()))
}

async fn topic_by_id(conn: &impl ConnectionTrait, id: i64) -> Result<topic::Model, AppError> {
    topic::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(crate::server::visibility::TOPIC_MISSING.into()))
}

/// Staff set a topic's status, optionally with a note that is posted in the thread as a staff
/// post (and so answers the topic, for the clock and the queue).
pub async fn set_status(
    db: &DatabaseConnection,
    actor: &user::Model,
    topic_id: i64,
    status: &str,
    note: &str,
) -> Result<topic::Model, AppError> {
    require_role(Some(actor.role()), Role::Staff)?;
    let status = TopicStatus::parse(status)
        .ok_or_else(|| AppError::invalid("status", super::records::topics::STATUS_UNKNOWN))?;
    let t = visibility::topic(db, topic_id, Some(actor)).await?;
    // A note that shows nothing (white space, zero-width characters) is no note.
    let note = if crate::server::invisible::is_blank(note) {
        ""
    } else {
        note.trim()
    };
    let prepared = if note.is_empty() {
        None
    } else {
        match posting::prepare(db, note).await {
            Ok(prepared) => Some(prepared),
            // Markup that shows nothing (a comment, an empty tag) is no note either.
            Err(AppError::Invalid { message, .. }) if message == posting::BODY_EMPTY => None,
            Err(AppError::Invalid { message, .. }) => {
                return Err(AppError::invalid("note", message));
            }
            Err(other) => return Err(other),
        }
    };
    let note = if prepared.is_some() { note } else { "" };
    let now = Utc::now();
    let txn = begin_write(db).await?;
    // Read again on the locked row: the same status sent twice (a double click, two staff at
    // once) is taken once. The status a topic already has is not set again: it never starts the
    // resolution over (a second "resolved" wiped the author's confirmation and asked them
    // again), and adds no history line and no notice, except to answer a customer waiting for
    // staff, which takes the topic out of the queue. A note with it is posted as a reply.
    let current = locked_topic(&txn, t.id).await?;
    // A note is a staff post, refused where a reply is: a locked topic, an archived category
    // (the status alone they take), an article whose comments are closed, a topic whose opening
    // post waits for approval.
    if prepared.is_some() {
        let found = visibility::topic_to_post_in(&txn, t.id, Some(actor)).await?;
        let as_note = |e: AppError| match e {
            AppError::Invalid { message, .. } => AppError::invalid("note", message),
            other => other,
        };
        posting::check_takes_posts(&found).map_err(as_note)?;
        posting::check_not_held_for_others(&txn, &found.topic, actor)
            .await
            .map_err(as_note)?;
    }
    let unchanged = current.status == status.as_str();
    let restated = unchanged && prepared.is_none() && current.awaiting_staff_since.is_some();
    if unchanged && prepared.is_none() && !restated {
        return Ok(current);
    }
    if let Some(prepared) = &prepared {
        // The note is a staff post in the thread, so it answers the topic.
        let article = super::visibility::article_of(&txn, t.id).await?;
        posting::reply(&txn, actor, &t, article.as_ref(), prepared).await?;
    }
    let resolved = status == TopicStatus::Resolved;
    if !unchanged {
        topic::Entity::update_many()
            .col_expr(topic::Column::Status, Expr::value(status.as_str()))
            .col_expr(topic::Column::StatusChangedAt, Expr::value(now))
            .col_expr(
                topic::Column::ResolvedAt,
                Expr::value(resolved.then_some(now)),
            )
            .col_expr(
                topic::Column::ResolutionConfirmedAt,
                Expr::value(None::<DateTimeUtc>),
            )
            .filter(topic::Column::Id.eq(t.id))
            .exec(&txn)
            .await?;
    }
    if !unchanged || restated {
        topic_events::record(
            &txn,
            t.id,
            Some(actor.id),
            topic_events::STATUS,
            status.as_str(),
            note,
            false,
        )
        .await?;
    }
    // Staff have looked at it: whatever they decided, it no longer waits in the queue.
    let updated = posting::settle(&txn, t.id).await?;
    if !unchanged || restated {
        // A confirmed resolution stays confirmed when staff say it again; a staff author is not
        // asked at all, nor anyone where the answer is refused (an archived category).
        let asks_to_confirm = resolved
            && asks_author_to_confirm(
                &updated,
                users::member(&txn, updated.author_id).await?.role(),
            )
            && !category_archived(&txn, updated.category_id).await?;
        let change = notify::Change::Status {
            label: status.label().to_lowercase(),
            asks_to_confirm,
        };
        notify::topic_changed(&txn, &updated, actor, change).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

/// Staff mark one reply in the topic as the official answer (replacing any earlier one). Marking
/// the answer it already has changes nothing: no history line and no one told again (a double
/// click, or the same form sent twice at once, told the author and every follower twice).
pub async fn mark_answer(
    db: &DatabaseConnection,
    actor: &user::Model,
    topic_id: i64,
    post_id: i64,
) -> Result<topic::Model, AppError> {
    require_role(Some(actor.role()), Role::Staff)?;
    let t = visibility::topic(db, topic_id, Some(actor)).await?;
    let txn = begin_write(db).await?;
    // Locked, so a moderator hiding it at the same moment comes before or after, not between.
    let p = crate::server::records::posts::locked(&txn, post_id)
        .await?
        .filter(|p| p.topic_id == t.id && p.post_number > 1 && p.state() == PostState::Visible)
        .ok_or_else(|| AppError::invalid("post", ANSWER_ELSEWHERE))?;
    // Read in the transaction, the topic's row locked: of two identical requests, the second
    // sees the first's answer.
    let current = crate::server::records::topics::locked(&txn, t.id)
        .await?
        .ok_or_else(|| AppError::NotFound(visibility::TOPIC_MISSING.into()))?;
    if current.official_answer_post_id == Some(p.id) {
        return Ok(current);
    }
    topic::Entity::update_many()
        .col_expr(topic::Column::OfficialAnswerPostId, Expr::value(p.id))
        .filter(topic::Column::Id.eq(t.id))
        .exec(&txn)
        .await?;
    topic_events::record(
        &txn,
        t.id,
        Some(actor.id),
        topic_events::ANSWER,
        &p.post_number.to_string(),
        "",
        false,
    )
    .await?;
    let updated = topic_by_id(&txn, t.id).await?;
    let link = crate::server::records::posts::url(&txn, &p).await?;
    notify::topic_changed(&txn, &updated, actor, notify::Change::Answer { link }).await?;
    txn.commit().await?;
    Ok(updated)
}

pub async fn unmark_answer(
    db: &DatabaseConnection,
    actor: &user::Model,
    topic_id: i64,
) -> Result<topic::Model, AppError> {
    require_role(Some(actor.role()), Role::Staff)?;
    let t = visibility::topic(db, topic_id, Some(actor)).await?;
    if t.official_answer_post_id.is_none() {
        return Ok(t);
    }
    let txn = begin_write(db).await?;
    // Again in the transaction: of two at once, the second finds nothing to take back.
    let current = crate::server::records::topics::locked(&txn, t.id)
        .await?
        .ok_or_else(|| AppError::NotFound(visibility::TOPIC_MISSING.into()))?;
    if current.official_answer_post_id.is_none() {
        return Ok(current);
    }
    topic::Entity::update_many()
        .col_expr(
            topic::Column::OfficialAnswerPostId,
            Expr::value(None::<i64>),
        )
        .filter(topic::Column::Id.eq(t.id))
        .exec(&txn)
        .await?;
    topic_events::record(
        &txn,
        t.id,
        Some(actor.id),
        topic_events::UNANSWER,
        "",
        "",
        false,
    )
    .await?;
    let updated = topic_by_id(&txn, t.id).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Staff take a topic out of the queue without replying, saying why (other staff see it).
pub async fn no_reply_needed(
    db: &DatabaseConnection,
    actor: &user::Model,
    topic_id: i64,
    reason: &str,
) -> Result<topic::Model, AppError> {
    require_role(Some(actor.role()), Role::Staff)?;
    // Counted as it is kept (`topic_events::record`), without direction overrides.
    let reason = super::content::strip_direction_overrides(reason.trim());
    if crate::server::invisible::is_blank(&reason) {
        return Err(AppError::invalid("reason", REASON_MISSING));
    }
    let n = reason.chars().count();
    if n > MAX_REASON_CHARS {
        return Err(AppError::invalid(
            "reason",
            format!("Reasons can be at most 1,000 characters; this one has {n}."),
        ));
    }
    let t = visibility::topic(db, topic_id, Some(actor)).await?;
    if t.awaiting_staff_since.is_none() {
        return Err(AppError::invalid("reason", NOT_WAITING));
    }
    let txn = begin_write(db).await?;
    // Checked again on the locked row: the same decision sent twice at once is taken once.
    let t = locked_topic(&txn, t.id).await?;
    if t.awaiting_staff_since.is_none() {
        return Err(AppError::invalid("reason", NOT_WAITING));
    }
    topic_events::record(
        &txn,
        t.id,
        Some(actor.id),
        topic_events::NO_REPLY_NEEDED,
        "",
        &reason,
        true,
    )
    .await?;
    let updated = posting::settle(&txn, t.id).await?;
    txn.commit().await?;
    Ok(updated)
}

async fn category_archived(conn: &impl ConnectionTrait, id: i64) -> Result<bool, AppError> {
    Ok(category::Entity::find_by_id(id)
        .one(conn)
        .await?
        .is_some_and(|c| c.archived))
}

/// The topic's author answers "Did this solve it?": yes confirms the resolution; no reopens it
/// into the awaiting-staff queue.
pub async fn confirm_resolution(
    db: &DatabaseConnection,
    author: &user::Model,
    topic_id: i64,
    solved: bool,
) -> Result<topic::Model, AppError> {
    let t = visibility::topic(db, topic_id, Some(author)).await?;
    if t.author_id != author.id {
        return Err(AppError::Forbidden(ONLY_THE_AUTHOR.into()));
    }
    if !asks_author_to_confirm(&t, author.role()) {
        return Err(AppError::invalid("form", NOTHING_TO_CONFIRM));
    }
    let txn = begin_write(db).await?;
    let t = locked_topic(&txn, t.id).await?;
    // Their role as of the write: made staff since the request began, they are not asked.
    let role = users::member(&txn, author.id).await?.role();
    if !asks_author_to_confirm(&t, role) {
        return Err(AppError::invalid("form", NOTHING_TO_CONFIRM));
    }
    // Read-only, like its posts: a "no" would reopen it where no staff reply is taken.
    if category_archived(&txn, t.category_id).await? {
        return Err(AppError::invalid("form", posting::CATEGORY_ARCHIVED));
    }
    if solved {
        topic::Entity::update_many()
            .col_expr(
                topic::Column::ResolutionConfirmedAt,
                Expr::value(Utc::now()),
            )
            .filter(topic::Column::Id.eq(t.id))
            .exec(&txn)
            .await?;
        topic_events::record(
            &txn,
            t.id,
            Some(author.id),
            topic_events::CONFIRMED,
            "",
            "",
            false,
        )
        .await?;
    } else {
        posting::reopen(&txn, &t, author.id, REOPENED_BY_NO).await?;
    }
    let updated = topic_by_id(&txn, t.id).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Admins set a category's target time to first staff reply.
pub async fn set_response_target(
    db: &DatabaseConnection,
    actor: &user::Model,
    category_slug: &str,
    minutes: i64,
) -> Result<(), AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    let minutes = settings::check_target(minutes, "target")?;
    let res = category::Entity::update_many()
        .col_expr(
            category::Column::ResponseTargetMinutes,
            Expr::value(minutes),
        )
        .filter(category::Column::Slug.eq(category_slug))
        .filter(category::Column::Kind.ne("blog_comments"))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound("There is no such category.".into()));
    }
    // One statement, not a write transaction: category pages show the target.
    crate::server::page_version::changed(db).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::entity::topic_event;
    use crate::server::posting::REOPENED_BY_REPLY;
    use crate::server::views::staff::accountability;
    use crate::server::views::staff::figures;
    use crate::server::views::staff::percentile;
    use crate::server::views::staff::queue;
    use crate::server::{
        entity::post,
        forum::{reply, start_topic},
        testing::World,
        views::topic::topic_page,
    };
    use chrono::Duration;
    use sea_orm::PaginatorTrait;
    use sea_orm::{ActiveModelTrait, Set};

    async fn topic_now(db: &DatabaseConnection, id: i64) -> topic::Model {
        topic::Entity::find_by_id(id)
            .one(db)
            .await
            .unwrap()
            .unwrap()
    }

    async fn new_topic(w: &World, author: &user::Model, title: &str) -> topic::Model {
        start_topic(&w.db, author, "questions", title, "Help, please.", None)
            .await
            .unwrap()
            .0
    }

    async fn queue_titles(w: &World) -> Vec<String> {
        queue(&w.db, &w.staff, None, 1, &Default::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|i| i.title)
            .collect()
    }

    /// A status's note is a staff post: refused where a reply by its writer is (here a
    /// locked topic and one whose opening post waits for approval), with the reply's message
    /// under the note, and nothing of the change written; the status alone is still taken.
    #[tokio::test]
    async fn a_status_note_is_refused_where_a_reply_is() {
        let w = World::new().await;
        let locked = new_topic(&w, &w.customer, "Locked one").await;
        let mut row: topic::ActiveModel = locked.clone().into();
        row.locked = Set(true);
        row.update(&w.db).await.unwrap();
        let held = new_topic(&w, &w.customer, "Held one").await;
        post::Entity::update_many()
            .col_expr(
                post::Column::State,
                Expr::value(PostState::Pending.as_str()),
            )
            .filter(post::Column::TopicId.eq(held.id))
            .exec(&w.db)
            .await
            .unwrap();
        posting::settle(&w.db, held.id).await.unwrap();
        let posts = || post::Entity::find().count(&w.db);
        let events = || topic_event::Entity::find().count(&w.db);
        let (posts_before, events_before) = (posts().await.unwrap(), events().await.unwrap());
        for (t, message) in [
            (&locked, posting::TOPIC_LOCKED),
            (&held, posting::HELD_TOPIC),
        ] {
            let refused = set_status(&w.db, &w.staff, t.id, "planned", "We are on it.").await;
            assert_eq!(refused, Err(AppError::invalid("note", message)));
            assert_eq!(topic_now(&w.db, t.id).await.status, "open");
        }
        assert_eq!(
            (posts().await.unwrap(), events().await.unwrap()),
            (posts_before, events_before)
        );
        let planned = set_status(&w.db, &w.staff, locked.id, "planned", "")
            .await
            .unwrap();
        assert_eq!(planned.status, "planned");
    }

    #[tokio::test]
    async fn the_clock_counts_the_first_staff_reply_only() {
        let w = World::new().await;
        let t = new_topic(&w, &w.customer, "Export fails").await;
        assert_eq!(t.awaiting_staff_since, Some(t.created_at));
        reply(&w.db, &w.other, t.id, "Same here.", None)
            .await
            .unwrap();
        reply(&w.db, &w.customer, t.id, "Any news?", None)
            .await
            .unwrap();
        let after_customers = topic_now(&w.db, t.id).await;
        assert_eq!(
            after_customers.first_staff_reply_at, None,
            "customers do not stop the clock"
        );
        assert!(after_customers.awaiting_staff_since.is_some());

        let first = reply(&w.db, &w.staff, t.id, "Looking into it.", None)
            .await
            .unwrap();
        let answered = topic_now(&w.db, t.id).await;
        assert_eq!(answered.first_staff_reply_at, Some(first.created_at));
        assert_eq!(answered.awaiting_staff_since, None);
        reply(&w.db, &w.admin, t.id, "Fixed now.", None)
            .await
            .unwrap();
        assert_eq!(
            topic_now(&w.db, t.id).await.first_staff_reply_at,
            Some(first.created_at),
            "a later staff reply does not move it"
        );
        assert!(first.is_staff_reply && first.staff_title.as_deref() == Some("Support"));

        // Role changes do not rewrite history: the demoted member's reply still counts, and a
        // promoted customer's earlier replies still do not.
        let mut demoted: user::ActiveModel = w.staff.clone().into();
        demoted.role = Set("customer".into());
        demoted.update(&w.db).await.unwrap();
        let mut promoted: user::ActiveModel = w.other.clone().into();
        promoted.role = Set("staff".into());
        promoted.update(&w.db).await.unwrap();
        let page = topic_page(&w.db, t.id, 1, None).await.unwrap();
        let badges: Vec<_> = page.posts.iter().map(|p| p.is_staff_reply).collect();
        assert_eq!(badges, vec![false, false, false, true, true]);
        assert_eq!(
            topic_now(&w.db, t.id).await.first_staff_reply_at,
            Some(first.created_at)
        );

        // A staff member's own topic waits for nobody.
        let own = new_topic(&w, &w.admin, "Welcome").await;
        assert!(own.started_by_staff && own.awaiting_staff_since.is_none());
    }

    #[tokio::test]
    async fn removing_staff_replies_resets_the_clock_only_when_none_is_left() {
        let w = World::new().await;
        let t = new_topic(&w, &w.customer, "Billing question").await;
        let a = reply(&w.db, &w.staff, t.id, "First answer.", None)
            .await
            .unwrap();
        let b = reply(&w.db, &w.admin, t.id, "Second answer.", None)
            .await
            .unwrap();
        let remove = |p: post::Model| {
            let db = w.db.clone();
            async move {
                let txn = begin_write(&db).await.unwrap();
                posting::change_state(&txn, &p, PostState::Deleted, Some("Wrong topic"))
                    .await
                    .unwrap();
                txn.commit().await.unwrap();
            }
        };
        remove(a.clone()).await;
        assert_eq!(
            topic_now(&w.db, t.id).await.first_staff_reply_at,
            b.published_at,
            "another staff reply remains: the clock stops at the earliest one still public"
        );
        assert!(queue_titles(&w).await.is_empty());
        remove(b).await;
        let reset = topic_now(&w.db, t.id).await;
        assert_eq!(reset.first_staff_reply_at, None);
        assert_eq!(reset.awaiting_staff_since, Some(t.created_at));
        assert_eq!(queue_titles(&w).await, vec!["Billing question"]);
    }

    /// Members' flags that hide a complaint's opening post do not take it out of the queue or
    /// the figures: it waits, and counts (answered or not), until a moderator decides. Staff who
    /// are not moderators see that it waits, not what it says. A moderator's delete or hide
    /// takes it out, even one made while flags were open below the threshold.
    #[tokio::test]
    async fn a_complaint_hidden_by_flags_waits_and_counts_until_a_moderator_decides() {
        use crate::server::moderation::{PostAction, act_on_post, flag_post};
        let w = World::builder()
            .members_aged(Duration::days(30))
            .build()
            .await;
        let opening = |t: &topic::Model| {
            let (db, id) = (w.db.clone(), t.id);
            async move { crate::server::testing::post_at(&db, id, 1).await }
        };
        let overall = || async {
            figures(&w.db, &[30], Utc::now()).await.unwrap()[0]
                .overall
                .clone()
        };
        // One flag hides a post (a member of a month counts 100).
        settings::put(&w.db, settings::FLAG_THRESHOLD.0, "1")
            .await
            .unwrap();
        let waiting = new_topic(&w, &w.customer, "Refund never came").await;
        let answered = new_topic(&w, &w.customer, "Invoice is wrong").await;
        reply(&w.db, &w.staff, answered.id, "Fixed it, sorry.", None)
            .await
            .unwrap();
        let before = overall().await;
        assert_eq!((before.topics, before.answered, before.waiting), (2, 1, 1));

        for t in [&waiting, &answered] {
            flag_post(&w.db, &w.other, opening(t).await.id, "rude", "")
                .await
                .unwrap();
        }
        let now = topic_now(&w.db, waiting.id).await;
        assert_eq!(opening(&waiting).await.state(), PostState::Hidden);
        assert!(!now.visible, "out of the lists");
        assert_eq!(now.awaiting_staff_since, Some(waiting.created_at));
        let flagged = overall().await;
        assert_eq!(
            (flagged.topics, flagged.answered, flagged.waiting),
            (2, 1, 1)
        );
        assert_eq!(flagged.median_minutes, before.median_minutes);

        let for_staff = queue(&w.db, &w.staff, None, 1, &Default::default())
            .await
            .unwrap();
        let item = &for_staff.items[0];
        assert_eq!(for_staff.items.len(), 1);
        assert!(item.under_review && item.withheld);
        assert!(item.title.is_empty() && item.excerpt.is_empty() && item.author.is_empty());
        assert_eq!((item.id, item.slug.as_str()), (0, ""));
        let for_moderator = queue(&w.db, &w.moderator, None, 1, &Default::default())
            .await
            .unwrap();
        let item = &for_moderator.items[0];
        assert!(item.under_review && !item.withheld);
        assert_eq!(item.title, "Refund never came");

        // The moderator decides: deleted, it is nobody's question any more.
        for t in [&waiting, &answered] {
            act_on_post(
                &w.db,
                &w.moderator,
                opening(t).await.id,
                PostAction::Delete,
                "Abuse",
            )
            .await
            .unwrap();
        }
        assert_eq!(
            topic_now(&w.db, waiting.id).await.awaiting_staff_since,
            None
        );
        let decided = overall().await;
        assert_eq!((decided.topics, decided.waiting), (0, 0));
        assert!(queue_titles(&w).await.is_empty());

        // Flags below the threshold, then a moderator's hide: out, not waiting on open flags.
        settings::put(&w.db, settings::FLAG_THRESHOLD.0, "2")
            .await
            .unwrap();
        let rude = new_topic(&w, &w.customer, "You are all useless").await;
        flag_post(&w.db, &w.other, opening(&rude).await.id, "rude", "")
            .await
            .unwrap();
        assert_eq!(opening(&rude).await.state(), PostState::Visible);
        act_on_post(
            &w.db,
            &w.moderator,
            opening(&rude).await.id,
            PostAction::Hide,
            "Abuse",
        )
        .await
        .unwrap();
        assert_eq!(topic_now(&w.db, rude.id).await.awaiting_staff_since, None);
        assert_eq!(overall().await.topics, 0);
        assert!(queue_titles(&w).await.is_empty());
    }

    /// "Recently set aside" names only topics the viewer may see: one hidden since is for
    /// moderators (found by an outside tester: its title reached every staff member).
    #[tokio::test]
    async fn topics_set_aside_then_hidden_are_named_to_moderators_only() {
        use crate::server::moderation::{PostAction, act_on_post};
        let w = World::new().await;
        let t = new_topic(&w, &w.customer, "Secret zeta title").await;
        no_reply_needed(&w.db, &w.staff, t.id, "A duplicate.")
            .await
            .unwrap();
        let set_aside = |viewer: &user::Model| {
            let (db, viewer) = (w.db.clone(), viewer.clone());
            async move {
                queue(&db, &viewer, None, 1, &Default::default())
                    .await
                    .unwrap()
                    .recent_no_reply
                    .into_iter()
                    .map(|d| d.topic_title)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(set_aside(&w.staff).await, vec!["Secret zeta title"]);
        let opening = crate::server::testing::post_at(&w.db, t.id, 1).await;
        act_on_post(&w.db, &w.moderator, opening.id, PostAction::Hide, "Abuse")
            .await
            .unwrap();
        assert!(set_aside(&w.staff).await.is_empty());
        assert_eq!(set_aside(&w.moderator).await, vec!["Secret zeta title"]);
    }

    #[tokio::test]
    async fn the_queue_holds_unanswered_and_reopened_topics_oldest_first() {
        let w = World::new().await;
        let old = new_topic(&w, &w.customer, "Oldest").await;
        let answered = new_topic(&w, &w.customer, "Answered").await;
        let set_aside = new_topic(&w, &w.other, "Thanks all").await;
        new_topic(&w, &w.staff, "Staff announcement").await;
        reply(&w.db, &w.staff, answered.id, "Here you go.", None)
            .await
            .unwrap();
        for blank in ["  ", "\u{200B}\u{2800}", "\u{2066}\u{202E}\u{2069}"] {
            assert_eq!(
                no_reply_needed(&w.db, &w.staff, set_aside.id, blank)
                    .await
                    .unwrap_err(),
                AppError::invalid("reason", REASON_MISSING)
            );
        }
        // Kept without direction overrides, as every note of a topic's history is.
        no_reply_needed(
            &w.db,
            &w.staff,
            set_aside.id,
            "Just a \u{202E}thank-you\u{202C} note.",
        )
        .await
        .unwrap();
        assert_eq!(
            no_reply_needed(&w.db, &w.staff, set_aside.id, "again")
                .await
                .unwrap_err(),
            AppError::invalid("reason", NOT_WAITING)
        );
        assert_eq!(queue_titles(&w).await, vec!["Oldest"]);
        let q = queue(&w.db, &w.staff, None, 1, &Default::default())
            .await
            .unwrap();
        assert_eq!(q.recent_no_reply[0].reason, "Just a thank-you note.");
        // The reason is for staff: customers do not see it in the topic's history.
        let for_customer = topic_page(&w.db, set_aside.id, 1, Some(&w.customer))
            .await
            .unwrap();
        assert!(for_customer.events.is_empty());
        let for_staff = topic_page(&w.db, set_aside.id, 1, Some(&w.staff))
            .await
            .unwrap();
        assert_eq!(for_staff.events[0].note, "Just a thank-you note.");

        // Resolved, then "No": back in the queue, marked reopened, behind the older one.
        set_status(&w.db, &w.staff, answered.id, "resolved", "")
            .await
            .unwrap();
        assert!(!queue_titles(&w).await.contains(&"Answered".to_string()));
        assert_eq!(
            confirm_resolution(&w.db, &w.other, answered.id, false)
                .await
                .unwrap_err(),
            AppError::Forbidden(ONLY_THE_AUTHOR.into())
        );
        let reopened = confirm_resolution(&w.db, &w.customer, answered.id, false)
            .await
            .unwrap();
        assert_eq!(reopened.status, "open");
        let q = queue(&w.db, &w.staff, None, 1, &Default::default())
            .await
            .unwrap();
        let titles: Vec<_> = q
            .items
            .iter()
            .map(|i| (i.title.as_str(), i.reopened))
            .collect();
        assert_eq!(titles, vec![("Oldest", false), ("Answered", true)]);
        assert_eq!(
            queue(&w.db, &w.staff, Some("ideas"), 1, &Default::default())
                .await
                .unwrap()
                .items
                .len(),
            0,
            "the category filter"
        );
        assert_eq!(old.awaiting_staff_since, q.items[0].awaiting_since.into());

        // Customers may not look at the queue.
        assert!(matches!(
            queue(&w.db, &w.customer, None, 1, &Default::default()).await,
            Err(AppError::Forbidden(_))
        ));
    }

    #[tokio::test]
    async fn resolutions_are_confirmed_or_reopened_by_the_author() {
        let w = World::new().await;
        let t = new_topic(&w, &w.customer, "Can't log in").await;
        assert_eq!(
            confirm_resolution(&w.db, &w.customer, t.id, true)
                .await
                .unwrap_err(),
            AppError::invalid("form", NOTHING_TO_CONFIRM)
        );
        set_status(
            &w.db,
            &w.staff,
            t.id,
            "resolved",
            "Reset your password from the log-in page.",
        )
        .await
        .unwrap();
        let page = topic_page(&w.db, t.id, 1, Some(&w.customer)).await.unwrap();
        assert!(page.asks_viewer_to_confirm);
        assert!(
            !topic_page(&w.db, t.id, 1, Some(&w.other))
                .await
                .unwrap()
                .asks_viewer_to_confirm
        );
        // The note is a staff post and answers the topic.
        assert_eq!(
            page.posts[1].html,
            "<p>Reset your password from the log-in page.</p>\n"
        );
        assert!(page.posts[1].is_staff_reply && page.staff_reply_minutes.is_some());
        let confirmed = confirm_resolution(&w.db, &w.customer, t.id, true)
            .await
            .unwrap();
        assert!(confirmed.resolution_confirmed_at.is_some());
        assert_eq!(
            confirm_resolution(&w.db, &w.customer, t.id, false)
                .await
                .unwrap_err(),
            AppError::invalid("form", NOTHING_TO_CONFIRM)
        );

        // A new reply from the author within 14 days reopens it; after that it does not.
        let u = new_topic(&w, &w.customer, "Slow reports").await;
        set_status(&w.db, &w.staff, u.id, "resolved", "")
            .await
            .unwrap();
        reply(&w.db, &w.customer, u.id, "Still slow for me.", None)
            .await
            .unwrap();
        let back = topic_now(&w.db, u.id).await;
        assert_eq!(back.status, "open");
        assert!(back.awaiting_staff_since.is_some());
        let v = new_topic(&w, &w.customer, "Old resolution").await;
        set_status(&w.db, &w.staff, v.id, "resolved", "")
            .await
            .unwrap();
        topic::Entity::update_many()
            .col_expr(
                topic::Column::ResolvedAt,
                Expr::value(Utc::now() - Duration::days(15)),
            )
            .filter(topic::Column::Id.eq(v.id))
            .exec(&w.db)
            .await
            .unwrap();
        reply(&w.db, &w.customer, v.id, "Thanks again!", None)
            .await
            .unwrap();
        assert_eq!(topic_now(&w.db, v.id).await.status, "resolved");
        // Every change is in the history.
        let kinds: Vec<_> = topic_page(&w.db, u.id, 1, None)
            .await
            .unwrap()
            .events
            .into_iter()
            .map(|e| (e.kind, e.detail, e.note))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("status".into(), "resolved".into(), String::new()),
                ("reopened".into(), String::new(), REOPENED_BY_REPLY.into()),
            ]
        );
    }

    /// A status with its note sent twice (a double click, a retried request) posts the note
    /// once.
    #[tokio::test]
    async fn a_customer_made_staff_is_not_asked_to_confirm() {
        let w = World::new().await;
        let t = new_topic(&w, &w.customer, "Export is slow").await;
        let mut promoted: user::ActiveModel = w.customer.clone().into();
        promoted.role = Set("staff".into());
        let promoted = promoted.update(&w.db).await.unwrap();
        set_status(&w.db, &w.staff, t.id, "resolved", "")
            .await
            .unwrap();
        // Told of the status, not asked; the page does not ask either.
        let kinds: Vec<String> = crate::server::entity::notification::Entity::find()
            .filter(crate::server::entity::notification::Column::UserId.eq(promoted.id))
            .all(&w.db)
            .await
            .unwrap()
            .into_iter()
            .map(|n| n.kind)
            .collect();
        assert_eq!(kinds, [notify::STATUS]);
        let page = topic_page(&w.db, t.id, 1, Some(&promoted)).await.unwrap();
        assert!(!page.asks_viewer_to_confirm);
        // Neither answer is taken, from the member as loaded before or after the change: their
        // role is read again in the write. Nothing is written.
        for author in [&w.customer, &promoted] {
            for solved in [true, false] {
                assert_eq!(
                    confirm_resolution(&w.db, author, t.id, solved)
                        .await
                        .unwrap_err(),
                    AppError::invalid("form", NOTHING_TO_CONFIRM)
                );
            }
        }
        let now = topic_now(&w.db, t.id).await;
        assert_eq!(
            (now.status.as_str(), now.resolution_confirmed_at),
            ("resolved", None)
        );
        // The figure counts a resolution no customer confirmed.
        let all = &figures(&w.db, &[7], Utc::now()).await.unwrap()[0].overall;
        assert_eq!((all.resolved, all.confirmed_percent), (1, Some(0)));
    }

    #[tokio::test]
    async fn a_status_note_sent_twice_is_posted_once() {
        let w = World::new().await;
        let t = new_topic(&w, &w.customer, "Slow export").await;
        set_status(&w.db, &w.staff, t.id, "planned", "On our list for May.")
            .await
            .unwrap();
        assert_eq!(
            set_status(&w.db, &w.staff, t.id, "planned", "On our list for May.")
                .await
                .unwrap_err(),
            AppError::invalid("form", posting::SAME_REPLY_AGAIN)
        );
        assert_eq!(topic_now(&w.db, t.id).await.post_count, 2);
    }

    #[tokio::test]
    async fn statuses_and_answers_refuse_bad_input_and_customers() {
        let w = World::new().await;
        let t = new_topic(&w, &w.customer, "Dark mode?").await;
        let other = new_topic(&w, &w.other, "Elsewhere").await;
        let theirs = reply(&w.db, &w.staff, other.id, "In another topic.", None)
            .await
            .unwrap();
        let answer = reply(&w.db, &w.staff, t.id, "It's planned.", None)
            .await
            .unwrap();
        let before = topic_now(&w.db, t.id).await;

        assert_eq!(
            set_status(&w.db, &w.staff, t.id, "someday", "")
                .await
                .unwrap_err(),
            AppError::invalid("status", crate::server::records::topics::STATUS_UNKNOWN)
        );
        assert_eq!(
            mark_answer(&w.db, &w.staff, t.id, theirs.id)
                .await
                .unwrap_err(),
            AppError::invalid("post", ANSWER_ELSEWHERE)
        );
        let first = crate::server::testing::post_at(&w.db, t.id, 1).await;
        assert_eq!(
            mark_answer(&w.db, &w.staff, t.id, first.id)
                .await
                .unwrap_err(),
            AppError::invalid("post", ANSWER_ELSEWHERE),
            "the question is not its own answer"
        );
        for (who, expected) in [
            (&w.customer, "Only staff and above can do that."),
            (&w.other, "Only staff and above can do that."),
        ] {
            let forbidden = AppError::Forbidden(expected.into());
            assert_eq!(
                set_status(&w.db, who, t.id, "planned", "")
                    .await
                    .unwrap_err(),
                forbidden
            );
            assert_eq!(
                mark_answer(&w.db, who, t.id, answer.id).await.unwrap_err(),
                forbidden
            );
            assert_eq!(
                unmark_answer(&w.db, who, t.id).await.unwrap_err(),
                forbidden
            );
            assert_eq!(
                no_reply_needed(&w.db, who, t.id, "because")
                    .await
                    .unwrap_err(),
                forbidden
            );
        }
        assert_eq!(topic_now(&w.db, t.id).await, before, "nothing changed");
        assert_eq!(topic_event::Entity::find().count(&w.db).await.unwrap(), 0);

        set_status(&w.db, &w.staff, t.id, "planned", "")
            .await
            .unwrap();
        mark_answer(&w.db, &w.staff, t.id, answer.id).await.unwrap();
        let page = topic_page(&w.db, t.id, 1, None).await.unwrap();
        assert_eq!(page.status, "planned");
        assert_eq!(page.official_answer.map(|p| p.id), Some(answer.id));
        let list =
            crate::server::views::forum::category_page(&w.db, "questions", 1, Some("planned"))
                .await
                .unwrap();
        let listed: Vec<_> = list
            .topics
            .iter()
            .map(|t| (t.title.as_str(), t.answered))
            .collect();
        assert_eq!(listed, vec![("Dark mode?", true)]);
        // A hidden answer answers nobody, in lists as on the topic page; restored, it does again.
        for (state, answered) in [(PostState::Hidden, false), (PostState::Visible, true)] {
            let now = post::Entity::find_by_id(answer.id)
                .one(&w.db)
                .await
                .unwrap()
                .unwrap();
            let txn = begin_write(&w.db).await.unwrap();
            posting::change_state(&txn, &now, state, Some("Checking"))
                .await
                .unwrap();
            txn.commit().await.unwrap();
            let list =
                crate::server::views::forum::category_page(&w.db, "questions", 1, Some("planned"))
                    .await
                    .unwrap();
            assert_eq!(list.topics[0].answered, answered, "{state:?}");
            let page = topic_page(&w.db, t.id, 1, None).await.unwrap();
            assert_eq!(page.official_answer.is_some(), answered, "{state:?}");
        }
        unmark_answer(&w.db, &w.staff, t.id).await.unwrap();
        assert!(
            topic_now(&w.db, t.id)
                .await
                .official_answer_post_id
                .is_none()
        );
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[7], 0.9), Some(7));
        assert_eq!(percentile(&[10, 30, 50, 90, 200], 0.5), Some(50));
        assert_eq!(percentile(&[10, 30, 50, 90, 200], 0.9), Some(200));
        assert_eq!(percentile(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9), Some(9));
    }

    /// Moves a topic into the past: started `age` ago, first answered by staff `took` later.
    /// The rows are written as they would have been then, and the figures settled from them.
    async fn history(w: &World, category: &str, age: Duration, took: Option<i64>) -> topic::Model {
        let t = start_topic(&w.db, &w.customer, category, "History", "x", None)
            .await
            .unwrap()
            .0;
        let created = Utc::now() - age;
        let answer = match took {
            Some(_) => Some(reply(&w.db, &w.staff, t.id, "Answer", None).await.unwrap()),
            None => None,
        };
        topic::Entity::update_many()
            .col_expr(topic::Column::CreatedAt, Expr::value(created))
            .filter(topic::Column::Id.eq(t.id))
            .exec(&w.db)
            .await
            .unwrap();
        let mut when = vec![(1, created)];
        if let (Some(a), Some(m)) = (&answer, took) {
            when.push((a.post_number, created + Duration::minutes(m)));
        }
        for (number, at) in when {
            post::Entity::update_many()
                .col_expr(post::Column::CreatedAt, Expr::value(at))
                .col_expr(post::Column::PublishedAt, Expr::value(at))
                .filter(post::Column::TopicId.eq(t.id))
                .filter(post::Column::PostNumber.eq(number))
                .exec(&w.db)
                .await
                .unwrap();
        }
        let txn = begin_write(&w.db).await.unwrap();
        let settled = posting::settle(&txn, t.id).await.unwrap();
        txn.commit().await.unwrap();
        settled
    }

    /// In an archived category "Did this solve it?" is read-only like its posts: neither answer
    /// is taken (a "no" reopened the topic where no staff reply is taken), nothing is written.
    #[tokio::test]
    async fn an_archived_categorys_resolutions_are_not_answered() {
        let w = World::new().await;
        let (answered, _) = start_topic(&w.db, &w.customer, "questions", "Answered", "?", None)
            .await
            .unwrap();
        let (later, _) = start_topic(&w.db, &w.customer, "questions", "Later", "?", None)
            .await
            .unwrap();
        set_status(&w.db, &w.staff, answered.id, "resolved", "")
            .await
            .unwrap();
        let questions = category::Entity::find_by_id(answered.category_id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        crate::server::admin::set_archived(&w.db, &w.admin, questions.id, true)
            .await
            .unwrap();
        // Not asked where the answer is refused: not on the page, nor when staff resolve a
        // topic there.
        let asked = |id: i64| {
            let db = w.db.clone();
            let customer = w.customer.clone();
            async move {
                topic_page(&db, id, 1, Some(&customer))
                    .await
                    .unwrap()
                    .asks_viewer_to_confirm
            }
        };
        assert!(!asked(answered.id).await);
        set_status(&w.db, &w.staff, later.id, "resolved", "")
            .await
            .unwrap();
        let told = crate::server::entity::notification::Entity::find()
            .filter(crate::server::entity::notification::Column::TopicId.eq(later.id))
            .all(&w.db)
            .await
            .unwrap();
        let kinds: Vec<&str> = told.iter().map(|n| n.kind.as_str()).collect();
        assert_eq!(kinds, [notify::STATUS]);
        let before = topic_by_id(&w.db, answered.id).await.unwrap();
        // A status it takes, but not its note: that would be a staff post where none is taken.
        let posts = || post::Entity::find().count(&w.db);
        let count = posts().await.unwrap();
        assert_eq!(
            set_status(&w.db, &w.staff, answered.id, "planned", "Soon.")
                .await
                .unwrap_err(),
            AppError::invalid("note", posting::CATEGORY_ARCHIVED)
        );
        assert_eq!(posts().await.unwrap(), count);
        assert_eq!(topic_by_id(&w.db, answered.id).await.unwrap(), before);
        for solved in [true, false] {
            assert_eq!(
                confirm_resolution(&w.db, &w.customer, answered.id, solved)
                    .await
                    .unwrap_err(),
                AppError::invalid("form", posting::CATEGORY_ARCHIVED)
            );
        }
        assert_eq!(topic_by_id(&w.db, answered.id).await.unwrap(), before);
        crate::server::admin::set_archived(&w.db, &w.admin, questions.id, false)
            .await
            .unwrap();
        assert!(asked(answered.id).await && asked(later.id).await);
        assert!(
            confirm_resolution(&w.db, &w.customer, answered.id, true)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn figures_match_a_history_worked_out_by_hand() {
        let w = World::new().await;
        set_response_target(&w.db, &w.admin, "questions", 60)
            .await
            .unwrap();
        // Questions (target 60 m), this week: answered after 10, 30, 50, 90 and 200 minutes;
        // one waiting for 2 hours (past target) and one for 10 minutes (not yet due).
        for took in [10, 30, 50, 90, 200] {
            history(&w, "questions", Duration::days(2), Some(took)).await;
        }
        let late = history(&w, "questions", Duration::hours(2), None).await;
        history(&w, "questions", Duration::minutes(10), None).await;
        // Three weeks ago: answered after 1,000 minutes (only in the 30-day window).
        history(&w, "questions", Duration::days(20), Some(1000)).await;
        // Two months ago: in neither window.
        history(&w, "questions", Duration::days(60), Some(5)).await;
        // Ideas (target 24 h): answered after 300 minutes, three days ago.
        let idea = history(&w, "ideas", Duration::days(3), Some(300)).await;
        // Staff's own topics do not count, resolved and confirmed by themselves neither.
        let (own, _) = start_topic(&w.db, &w.staff, "questions", "Announcement", "x", None)
            .await
            .unwrap();
        set_status(&w.db, &w.staff, own.id, "resolved", "")
            .await
            .unwrap();
        // Whether the author may confirm it at all, it must not count.
        let _ = confirm_resolution(&w.db, &w.staff, own.id, true).await;
        // Two resolved this week, one of them confirmed by its author.
        set_status(&w.db, &w.staff, idea.id, "resolved", "")
            .await
            .unwrap();
        confirm_resolution(&w.db, &w.customer, idea.id, true)
            .await
            .unwrap();
        let unconfirmed = history(&w, "ideas", Duration::days(1), Some(60)).await;
        set_status(&w.db, &w.staff, unconfirmed.id, "resolved", "")
            .await
            .unwrap();

        let windows = figures(&w.db, &[7, 30], Utc::now()).await.unwrap();
        let (week, month) = (&windows[0], &windows[1]);
        let questions = &week.categories[0];
        assert_eq!(questions.category.as_ref().unwrap().slug, "questions");
        assert_eq!((questions.topics, questions.answered), (7, 5));
        // Sorted 10 30 50 90 200: nearest rank ceil(0.5*5)=3 -> 50; ceil(0.9*5)=5 -> 200.
        assert_eq!(
            (questions.median_minutes, questions.p90_minutes),
            (Some(50), Some(200))
        );
        // Within 60 m: 10, 30, 50 = 3 of the 6 due (5 answered + the one waiting 2 h) = 50%.
        assert_eq!(questions.within_target_percent, Some(50));
        assert_eq!(questions.waiting, 2);
        assert_eq!(questions.oldest_waiting_since, late.awaiting_staff_since);

        let ideas = &week.categories[1];
        // 300 and 60 minutes, both within 24 h; two resolved, one confirmed.
        assert_eq!(
            (ideas.median_minutes, ideas.within_target_percent),
            (Some(60), Some(100))
        );
        assert_eq!((ideas.resolved, ideas.confirmed_percent), (2, Some(50)));

        // All categories this week: 10 30 50 60 90 200 300 -> median rank 4 = 60, p90 rank 7 =
        // 300; within target 3 + 2 = 5 of 8 due = 63%.
        let all = &week.overall;
        assert_eq!((all.topics, all.answered), (9, 7));
        assert_eq!((all.median_minutes, all.p90_minutes), (Some(60), Some(300)));
        assert_eq!(all.within_target_percent, Some(63));
        assert_eq!(
            (all.waiting, all.resolved, all.confirmed_percent),
            (2, 2, Some(50))
        );

        // The last 30 days add the 1,000-minute answer: 10 30 50 90 200 1000 in Questions.
        let questions30 = &month.categories[0];
        assert_eq!((questions30.topics, questions30.answered), (8, 6));
        assert_eq!(
            (questions30.median_minutes, questions30.p90_minutes),
            (Some(50), Some(1000))
        );
        // 3 within of 7 due = 43%.
        assert_eq!(questions30.within_target_percent, Some(43));
    }

    #[tokio::test]
    async fn targets_and_the_public_page_are_for_admins() {
        let w = World::new().await;
        for minutes in [0, settings::MAX_TARGET_MINUTES + 1, -5] {
            assert_eq!(
                set_response_target(&w.db, &w.admin, "questions", minutes)
                    .await
                    .unwrap_err(),
                AppError::invalid("target", settings::TARGET_INVALID)
            );
        }
        assert!(matches!(
            set_response_target(&w.db, &w.staff, "questions", 30).await,
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            settings::set_accountability_public(&w.db, &w.staff, false).await,
            Err(AppError::Forbidden(_))
        ));
        let q = category::Entity::find()
            .filter(category::Column::Slug.eq("questions"))
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(q.response_target_minutes, 24 * 60, "nothing written");
        accountability(&w.db).await.unwrap();
        settings::set_accountability_public(&w.db, &w.admin, false)
            .await
            .unwrap();
        assert!(matches!(
            accountability(&w.db).await,
            Err(AppError::NotFound(_))
        ));
    }
}
