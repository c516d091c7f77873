//! Moderation: members' flags (flags.rs), moderators' actions with the reason the author is told
//! (actions.rs), suspensions (suspensions.rs), watched words and moderation settings (words.rs).
//! Every action is checked for the moderator role, runs in one transaction, is logged and
//! notifies the author. The review queue and the log are read in `views::moderation`.
mod actions;
mod bulk;
mod flags;
mod suspensions;
mod words;

pub use actions::*;
pub use bulk::*;
pub use flags::*;
pub use suspensions::*;
pub use words::*;

use sea_orm::ConnectionTrait;

use super::{entity::post, records};
use crate::error::AppError;

pub const MAX_REASON_CHARS: usize = 1000;

/// A reason or a flag's note as it is kept and shown: without direction overrides (which make
/// text read in another order than it is written: a member's note disguised in the review
/// queue, a moderator's reason in the author's notice), and within its length.
pub(super) fn reason_text(reason: &str) -> Result<String, AppError> {
    let reason = crate::server::content::strip_direction_overrides(reason);
    let n = reason.chars().count();
    if n > MAX_REASON_CHARS {
        return Err(AppError::invalid(
            "reason",
            format!("Reasons can be at most 1,000 characters; this one has {n}."),
        ));
    }
    Ok(reason.into_owned())
}

pub(super) async fn link_to(
    conn: &impl ConnectionTrait,
    p: &post::Model,
) -> Result<String, AppError> {
    records::posts::url(conn, p).await
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use sea_orm::{
        ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
        QueryFilter, Set,
    };

    use super::*;
    use crate::model::Role;
    use crate::server::entity::moderation_log;
    use crate::server::entity::{category, flag, post, review_item, topic, user, watched_word};
    use crate::server::forum;
    use crate::server::posting::{HELD_NEW, HELD_WORDS};
    use crate::server::{settings, visibility};

    use crate::server::views::moderation::ReviewFilter;
    use crate::server::views::moderation::log_page;
    use crate::server::views::moderation::review_queue;
    use crate::server::views::moderation::{open_review_count, open_review_count_kept};
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

    /// The review queue's first page, unfiltered, as `who` sees it.
    async fn first_page(db: &DatabaseConnection, who: &user::Model) -> crate::model::ReviewQueue {
        review_queue(db, who, ReviewFilter::default(), 1, &Default::default())
            .await
            .unwrap()
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

    /// Customers' flags on a staff member's answer put it in the review queue but do not hide it
    /// (nor take the answer out of the response figures); staff members' flags count as on any
    /// post.
    #[tokio::test]
    async fn a_staff_answer_is_hidden_by_staff_members_flags_only() {
        let w = world().await;
        settings::put(&w.db, settings::FLAG_THRESHOLD.0, "2")
            .await
            .unwrap();
        let answer = reply(&w.db, &w.staff, w.topic.id, "We are on it.", None)
            .await
            .unwrap();
        let answered = || async {
            topic::Entity::find_by_id(w.topic.id)
                .one(&w.db)
                .await
                .unwrap()
                .unwrap()
                .first_staff_reply_at
        };
        let at = answered().await;
        assert!(at.is_some());
        for m in &w.members[1..4] {
            flag_post(&w.db, m, answer.id, "rude", "").await.unwrap();
        }
        assert_eq!(post_now(&w.db, answer.id).await.state, "visible");
        assert_eq!(answered().await, at);
        assert_eq!(
            open_review_count(&w.db).await.unwrap(),
            1,
            "in front of moderators"
        );
        flag_post(&w.db, &w.moderator, answer.id, "rude", "")
            .await
            .unwrap();
        assert_eq!(post_now(&w.db, answer.id).await.state, "visible");
        flag_post(&w.db, &w.admin, answer.id, "rude", "")
            .await
            .unwrap();
        let hidden = post_now(&w.db, answer.id).await;
        assert_eq!(
            (hidden.state.as_str(), hidden.moderation_reason.as_deref()),
            ("hidden", Some(AUTO_HIDDEN))
        );
    }

    /// Staff members' flags on a moderator's own post are decided by someone else: its author
    /// may not approve, restore, dismiss or keep it, under review or after another's decision,
    /// nor delete it and restore it (hiding or deleting it stays theirs); an admin may decide.
    #[tokio::test]
    async fn a_moderator_does_not_decide_on_flags_against_their_own_post() {
        let w = world().await;
        settings::put(&w.db, settings::FLAG_THRESHOLD.0, "2")
            .await
            .unwrap();
        let own = reply(&w.db, &w.moderator, w.topic.id, "Calm down, please.", None)
            .await
            .unwrap();
        for who in [&w.staff, &w.admin] {
            flag_post(&w.db, who, own.id, "rude", "").await.unwrap();
        }
        assert_eq!(post_now(&w.db, own.id).await.state, "hidden");
        // Each refused to its author, and nothing written.
        let refused = async |actions: &[PostAction]| {
            let before = counts(&w.db).await;
            for &action in actions {
                assert_eq!(
                    act_on_post(&w.db, &w.moderator, own.id, action, "Fine")
                        .await
                        .unwrap_err(),
                    AppError::invalid("form", OWN_POST),
                    "{action:?}"
                );
            }
            assert_eq!(counts(&w.db).await, before);
        };
        let undoing = [
            PostAction::Approve,
            PostAction::Restore,
            PostAction::Dismiss,
        ];
        refused(&undoing).await;
        refused(&[PostAction::KeepHidden]).await;
        // Kept hidden by an admin: its author cannot undo that either.
        act_on_post(&w.db, &w.admin, own.id, PostAction::KeepHidden, "Rude")
            .await
            .unwrap();
        refused(&undoing).await;
        // Deleted by its author, it stays deleted: restoring it is someone else's.
        act_on_post(&w.db, &w.moderator, own.id, PostAction::Delete, "Mine")
            .await
            .unwrap();
        assert_eq!(
            act_on_post(&w.db, &w.moderator, own.id, PostAction::Restore, "")
                .await
                .unwrap_err(),
            AppError::invalid("form", OWN_POST)
        );
        act_on_post(&w.db, &w.admin, own.id, PostAction::Restore, "")
            .await
            .unwrap();
        assert_eq!(post_now(&w.db, own.id).await.state, "visible");
    }

    /// The review queue's forms decide their item: once another moderator decided it (here,
    /// dismissed the flags), a form loaded before cannot hide or delete the post, alone or in
    /// bulk; the post's own tools still can.
    #[tokio::test]
    async fn a_queue_form_loaded_before_another_decision_changes_nothing() {
        let w = world().await;
        flag_post(&w.db, &w.members[1], w.post.id, "rude", "")
            .await
            .unwrap();
        let item = review_item::Entity::find()
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        act_on_item(&w.db, &w.admin, item.id, w.post.id, PostAction::Dismiss, "")
            .await
            .unwrap();
        let other = reply(&w.db, &w.members[0], w.topic.id, "Another post.", None)
            .await
            .unwrap();
        let before = counts(&w.db).await;
        for action in [PostAction::Hide, PostAction::Delete, PostAction::Dismiss] {
            assert_eq!(
                act_on_item(&w.db, &w.moderator, item.id, w.post.id, action, "Stale")
                    .await
                    .unwrap_err(),
                AppError::invalid("action", NOTHING_TO_DECIDE),
                "{action:?}"
            );
            assert_eq!(
                bulk(&w.db, &w.moderator, &[item.id], action, "Stale")
                    .await
                    .unwrap_err(),
                AppError::invalid("items", NOTHING_TO_DECIDE),
                "bulk {action:?}"
            );
        }
        // Another post's item, as a form could be made to say: refused as well.
        assert_eq!(
            act_on_item(
                &w.db,
                &w.moderator,
                item.id,
                other.id,
                PostAction::Hide,
                "x"
            )
            .await
            .unwrap_err(),
            AppError::invalid("action", NOTHING_TO_DECIDE)
        );
        assert_eq!(counts(&w.db).await, before);
        assert_eq!(post_now(&w.db, w.post.id).await.state, "visible");
        act_on_post(
            &w.db,
            &w.moderator,
            w.post.id,
            PostAction::Hide,
            "Rude after all",
        )
        .await
        .unwrap();
        assert_eq!(post_now(&w.db, w.post.id).await.state, "hidden");
    }

    /// A post the members' flags hid can be kept hidden: the flags upheld, the item resolved,
    /// the moderator's reason in place of the automatic one, the author told, and the topic no
    /// longer under review (out of the staff queue and the figures, as after a moderator's
    /// hide). Kept hidden once, there is nothing left to decide: hiding it again is refused, as
    /// is a post hidden by a moderator, a blank reason, and anyone below moderator; a refusal
    /// writes nothing.
    #[tokio::test]
    async fn a_post_hidden_by_flags_can_be_kept_hidden_once() {
        let w = world().await;
        for m in &w.members[1..4] {
            flag_post(&w.db, m, w.post.id, "rude", "").await.unwrap();
        }
        let hidden = post_now(&w.db, w.post.id).await;
        assert_eq!(hidden.moderation_reason.as_deref(), Some(AUTO_HIDDEN));
        let waits = || async {
            topic::Entity::find_by_id(w.topic.id)
                .one(&w.db)
                .await
                .unwrap()
                .unwrap()
                .awaiting_staff_since
                .is_some()
        };
        assert!(waits().await, "under review, the complaint still waits");

        let before = counts(&w.db).await;
        let below =
            crate::server::auth::require_role(Some(Role::Staff), Role::Moderator).unwrap_err();
        for (who, reason, error) in [
            (&w.staff, "Abuse", below.clone()),
            (&w.author, "Abuse", below),
            (
                &w.moderator,
                " \u{200B} ",
                AppError::invalid("reason", REASON_NEEDED),
            ),
        ] {
            assert_eq!(
                act_on_post(&w.db, who, w.post.id, PostAction::KeepHidden, reason)
                    .await
                    .unwrap_err(),
                error,
                "{}",
                who.username
            );
        }
        assert_eq!(counts(&w.db).await, before);
        assert_eq!(post_now(&w.db, w.post.id).await, hidden);

        act_on_post(
            &w.db,
            &w.moderator,
            w.post.id,
            PostAction::KeepHidden,
            "Abuse",
        )
        .await
        .unwrap();
        let kept = post_now(&w.db, w.post.id).await;
        assert_eq!(
            (kept.state.as_str(), kept.moderation_reason.as_deref()),
            ("hidden", Some("Abuse"))
        );
        let flags = flag::Entity::find().all(&w.db).await.unwrap();
        assert!(flags.iter().all(|f| f.state == "upheld"), "{flags:?}");
        let items = review_item::Entity::find().all(&w.db).await.unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(
            (items[0].state.as_str(), items[0].resolution.as_str()),
            ("resolved", "keep_hidden")
        );
        assert!(!waits().await, "decided by a moderator, it is out");
        let told = notification::Entity::find()
            .filter(notification::Column::UserId.eq(w.author.id))
            .all(&w.db)
            .await
            .unwrap();
        assert!(
            told.iter().any(|n| n.message
                == "A moderator reviewed your post and is keeping it hidden. Reason: Abuse"),
            "{told:?}"
        );

        // Nothing left to decide: sent again (or twice at once), refused and nothing written.
        let before = counts(&w.db).await;
        let again = tokio::join!(
            act_on_post(
                &w.db,
                &w.moderator,
                w.post.id,
                PostAction::KeepHidden,
                "Again"
            ),
            act_on_post(&w.db, &w.admin, w.post.id, PostAction::KeepHidden, "Again"),
        );
        for refused in [again.0, again.1] {
            assert_eq!(
                refused.unwrap_err(),
                AppError::invalid("action", NOTHING_TO_DECIDE)
            );
        }
        assert_eq!(counts(&w.db).await, before);
        assert_eq!(post_now(&w.db, w.post.id).await, kept);
        // "Hide" is for a public post; "keep hidden" for a hidden one: a form loaded before
        // another moderator made the post public cannot hide it again.
        assert_eq!(
            act_on_post(&w.db, &w.moderator, w.post.id, PostAction::Hide, "Again")
                .await
                .unwrap_err(),
            AppError::invalid("action", "That post is hidden, so it can't be hidden.")
        );
        // Nor can a form loaded before it was kept hidden make it public: that is "restore".
        for action in [PostAction::Approve, PostAction::Dismiss] {
            assert_eq!(
                act_on_post(&w.db, &w.admin, w.post.id, action, "")
                    .await
                    .unwrap_err(),
                AppError::invalid("action", NOTHING_TO_DECIDE),
                "{action:?}"
            );
        }
        assert_eq!(counts(&w.db).await, before);
        act_on_post(&w.db, &w.admin, w.post.id, PostAction::Restore, "")
            .await
            .unwrap();
        let before = counts(&w.db).await;
        assert_eq!(
            act_on_post(
                &w.db,
                &w.moderator,
                w.post.id,
                PostAction::KeepHidden,
                "Stale"
            )
            .await
            .unwrap_err(),
            AppError::invalid("action", "That post is public, so it can't be kept hidden.")
        );
        assert_eq!(counts(&w.db).await, before);
        assert_eq!(post_now(&w.db, w.post.id).await.state, "visible");
    }

    /// A topic whose opening post is hidden leaves every list (its title is in every list) and
    /// everyone's sight but its author's and moderators'; others' replies are refused; the
    /// flagger who hid it lands on its category. Made visible again, it comes back, and its
    /// category's figures follow it both ways.
    #[tokio::test]
    async fn hiding_an_opening_post_unlists_its_topic_until_it_is_visible_again() {
        let w = world().await;
        let figures = async || {
            let t = topic::Entity::find_by_id(w.topic.id)
                .one(&w.db)
                .await
                .unwrap()
                .unwrap();
            let c = category::Entity::find_by_id(t.category_id)
                .one(&w.db)
                .await
                .unwrap()
                .unwrap();
            (t, c)
        };
        // A reply that names staff: the staff member and the topic's author are told.
        reply(
            &w.db,
            &w.members[0],
            w.topic.id,
            "@user3 can you look?",
            None,
        )
        .await
        .unwrap();
        let told = async |user: &user::Model| {
            notification::Entity::find()
                .filter(notification::Column::UserId.eq(user.id))
                .filter(notification::Column::TopicId.eq(w.topic.id))
                .count(&w.db)
                .await
                .unwrap()
        };
        assert_eq!((told(&w.staff).await, told(&w.author).await), (1, 1));
        let (_, listed) = figures().await;
        for member in &w.members[1..4] {
            flag_post(&w.db, member, w.post.id, "rude", "")
                .await
                .unwrap();
        }
        assert_eq!(post_now(&w.db, w.post.id).await.state, "hidden");
        let (t, c) = figures().await;
        assert!(!t.visible, "unlisted");
        assert_eq!(
            (c.topic_count, c.post_count),
            (listed.topic_count - 1, listed.post_count - 2)
        );
        // The title named it in the bell and the digest: out of others' notifications too.
        assert_eq!(told(&w.staff).await, 0);
        assert!(told(&w.author).await >= 1, "the author keeps theirs");
        let viewers = [
            (None, false),
            (Some(&w.members[0]), false),
            (Some(&w.staff), false),
            (Some(&w.author), true),
            (Some(&w.moderator), true),
            (Some(&w.admin), true),
        ];
        for (viewer, sees) in viewers {
            let seen = visibility::can_see_topic(&w.db, &t, viewer).await.unwrap();
            assert_eq!(seen, sees, "{:?}", viewer.map(|u| &u.username));
        }
        let refused = reply(&w.db, &w.members[0], t.id, "Me too.", None).await;
        assert!(matches!(refused, Err(AppError::NotFound(_))), "{refused:?}");
        assert_eq!(
            after_flag(&w.db, &w.members[3], w.post.id).await.unwrap(),
            Some(AfterFlag::Category(format!("/c/{}", c.slug)))
        );
        assert!(matches!(
            after_flag(&w.db, &w.author, w.post.id).await.unwrap(),
            Some(AfterFlag::Post(_))
        ));

        // A site upgraded from before the rule: migration 30 unlists such a topic, and counts
        // its category again; undone, it had the topic listed as before.
        {
            use migrations::{Migrator, MigratorTrait, SchemaManager};
            let migration = Migrator::migrations()
                .into_iter()
                .find(|m| m.name() == "m20261219_000030_hidden_openings_unlisted")
                .unwrap();
            let manager = SchemaManager::new(&w.db);
            migration.down(&manager).await.unwrap();
            let (before, c) = figures().await;
            assert!(before.visible, "listed before the rule");
            assert_eq!(
                (c.topic_count, c.post_count),
                (listed.topic_count, listed.post_count - 1)
            );
            migration.up(&manager).await.unwrap();
            let (after, c) = figures().await;
            assert_eq!(after, t);
            assert_eq!(
                (c.topic_count, c.post_count),
                (listed.topic_count - 1, listed.post_count - 2)
            );
        }

        act_on_post(
            &w.db,
            &w.moderator,
            w.post.id,
            PostAction::Restore,
            "Rude, but about the product.",
        )
        .await
        .unwrap();
        let (t, c) = figures().await;
        assert!(t.visible, "listed again");
        assert_eq!(
            (c.topic_count, c.post_count, c.last_posted_at),
            (listed.topic_count, listed.post_count, listed.last_posted_at)
        );
        assert!(visibility::can_see_topic(&w.db, &t, None).await.unwrap());
    }

    /// A member's note and a moderator's reason are kept without direction overrides: shown
    /// in the review queue, the log and the author's notice, they could make text read in
    /// another order than it was written.
    #[tokio::test]
    async fn notes_and_reasons_lose_their_direction_overrides() {
        let w = world().await;
        let f = flag_post(
            &w.db,
            &w.members[0],
            w.post.id,
            "other",
            "see \u{202E}moc.elpmaxe\u{202C} now",
        )
        .await
        .unwrap();
        assert_eq!(f.note, "see moc.elpmaxe now");
        act_on_post(
            &w.db,
            &w.moderator,
            w.post.id,
            PostAction::Hide,
            "\u{2067}rude\u{2069} words",
        )
        .await
        .unwrap();
        let logged = moderation_log::Entity::find()
            .filter(moderation_log::Column::Action.eq("hide"))
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(logged.reason, "rude words");
        let suspended = suspend(
            &w.db,
            &w.moderator,
            w.members[1].id,
            Some(1),
            "\u{202D}spamming\u{202C}",
        )
        .await
        .unwrap();
        assert_eq!(suspended.suspension_reason.as_deref(), Some("spamming"));
        // A reason of nothing but overrides is no reason.
        assert_eq!(
            act_on_post(
                &w.db,
                &w.moderator,
                w.post.id,
                PostAction::Delete,
                "\u{202E}"
            )
            .await
            .unwrap_err(),
            AppError::invalid("reason", REASON_NEEDED)
        );
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
                "\u{200b}\u{2800}\u{feff}",
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
        let staff_queue =
            crate::server::views::staff::queue(&w.db, &w.staff, None, 1, &Default::default())
                .await
                .unwrap();
        let queued = staff_queue.items.iter().find(|i| i.id == t.id).unwrap();
        assert!(queued.held);
        let q = first_page(&w.db, &w.moderator).await;
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
        // The newcomer's post held, then approved; the topic's author told of the replies.
        assert_eq!(kinds, vec!["held", "approve", "reply"]);
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
        crate::server::testing::watch(
            &w.db,
            &[
                ("casino", "block"),
                ("crypto", "hold"),
                ("refund*", "flag"),
                ("darn", "censor"),
                ("buy now", "censor"),
                ("free money", "block"),
            ],
        )
        .await;
        // This member posts more than a member may in 10 minutes.
        settings::put(&w.db, settings::POSTS_PER_10_MIN.0, "0")
            .await
            .unwrap();
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
        assert_eq!(
            crate::server::views::forum::quote(&w.db, censored.id, None)
                .await
                .unwrap(),
            format!("@{} wrote:\n> ■■■■ it\n\n", m.username),
            "nor is it shown in a quote"
        );
        // The words are judged on what the post shows too: Markdown, an entity or a comment
        // inside a word does not hide it.
        let before = post::Entity::find().count(&w.db).await.unwrap();
        assert_eq!(
            reply(&w.db, m, w.topic.id, "Best ca<!-- -->sino", None)
                .await
                .unwrap_err(),
            AppError::invalid(
                "body",
                "Your post contains “casino”, which isn't allowed here. Please reword it."
            )
        );
        assert_eq!(post::Entity::find().count(&w.db).await.unwrap(), before);
        let held = reply(&w.db, m, w.topic.id, "Invest in cry**pto**", None)
            .await
            .unwrap();
        assert_eq!(held.state, "pending");
        let masked = reply(&w.db, m, w.topic.id, "da**rn** and dar&#x30A;n", None)
            .await
            .unwrap();
        assert_eq!(masked.html, "<p>■■<strong>■■</strong> and ■■■■</p>\n");
        assert_eq!(
            crate::server::views::forum::quote(&w.db, masked.id, None)
                .await
                .unwrap(),
            format!("@{} wrote:\n> ■■■■ and ■■■■\n\n", m.username),
            "a quote is the text shown, masks and all"
        );
        // Elements drawn within a word are read within it.
        for (body, html) in [
            ("da<wbr>rn", "<p>■■<wbr>■■</p>\n"),
            ("da<bdi>rn</bdi>", "<p>■■<bdi>■■</bdi></p>\n"),
            ("da<tt>rn</tt>", "<p>■■<tt>■■</tt></p>\n"),
        ] {
            let masked = reply(&w.db, m, w.topic.id, body, None).await.unwrap();
            assert_eq!(masked.html, html, "{body}");
        }
        // A blank drawn as wide as a letter parts words as a space does.
        for body in ["Best ca<wbr>sino", "Best casino\u{2800}x"] {
            assert!(
                reply(&w.db, m, w.topic.id, body, None).await.is_err(),
                "{body}"
            );
        }
        // A phrase does not run from one block into the next, and nothing is written between
        // blocks.
        for body in ["- buy\n- now", "I want to buy\n\nNow, about the price"] {
            let kept = reply(&w.db, m, w.topic.id, body, None).await.unwrap();
            assert!(!kept.html.contains('■'), "{}", kept.html);
        }
        let spanned = reply(&w.db, m, w.topic.id, "buy\nnow and buy<br>now", None)
            .await
            .unwrap();
        assert_eq!(spanned.html, "<p>■■■■■■■ and ■■■<br>■■■</p>\n");
        // A heading and the line after it are two blocks; a line break within one is not.
        let apart = reply(&w.db, m, w.topic.id, "# buy\nnow # free\nmoney", None).await;
        assert!(apart.is_err(), "free money in one heading");
        let apart = reply(&w.db, m, w.topic.id, "# buy free\nmoney now", None)
            .await
            .unwrap();
        assert!(apart.html.contains("buy"), "{}", apart.html);
        // Nor does an empty element on a line of its own, or a hard line break, part a phrase.
        for body in [
            "x buy\n<b></b>\nnow",
            "x buy  \nnow",
            "x buy\\\nnow",
            "buy\n\u{A0}\nnow",
        ] {
            let masked = reply(&w.db, m, w.topic.id, body, None).await.unwrap();
            assert!(!masked.html.contains("buy"), "{body:?}: {}", masked.html);
        }
        // Addresses and tags keep the word, so every link still leads where it did; the words
        // a reader sees are masked, a URL's too.
        let linked = reply(
            &w.db,
            m,
            w.topic.id,
            "[darn deals](https://shop.example/darn-deals \"darn\") and <https://x.example/darn>, \
             https://y.example/?q=darn darn, [here](/t/5/darn-it), [ref][d] and \
             <a href=\"/darn\" title=\"x\">darn</a>\n\n[d]: /darn-ref",
            None,
        )
        .await
        .unwrap();
        for kept in [
            "href=\"https://shop.example/darn-deals\"",
            "href=\"https://x.example/darn\"",
            "href=\"https://y.example/?q=darn\"",
            "href=\"/t/5/darn-it\"",
            "href=\"/darn-ref\"",
            "href=\"/darn\"",
        ] {
            assert!(linked.html.contains(kept), "{kept} in {}", linked.html);
        }
        // A URL shown as its own text shows the mask and still leads to the address.
        for masked in [
            ">■■■■ deals</a>",
            ">https://x.example/■■■■</a>",
            ">https://y.example/?q=■■■■</a> ■■■■,",
            ">■■■■</a>",
        ] {
            assert!(linked.html.contains(masked), "{masked} in {}", linked.html);
        }
        let kinds: Vec<_> = review_item::Entity::find()
            .all(&w.db)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.kind)
            .collect();
        assert_eq!(kinds, vec!["held_words", "flagged", "held_words"]);
    }

    /// A word that holds or flags a new post, edited into a public one by its author, asks a
    /// moderator to look; the post stays public.
    #[tokio::test]
    async fn an_edit_with_a_held_or_flagged_word_goes_to_the_review_queue() {
        let w = world().await;
        crate::server::testing::watch(&w.db, &[("crypto", "hold"), ("refund*", "flag")]).await;
        let m = &w.members[0];
        let clean = reply(&w.db, m, w.topic.id, "A plain reply", None)
            .await
            .unwrap();
        let open = |db: DatabaseConnection| async move {
            review_item::Entity::find()
                .all(&db)
                .await
                .unwrap()
                .into_iter()
                .map(|i| (i.post_id, i.kind))
                .collect::<Vec<_>>()
        };
        assert_eq!(open(w.db.clone()).await, vec![]);
        let edited = crate::server::forum::edit_post(&w.db, m, clean.id, "Buy crypto here")
            .await
            .unwrap();
        assert_eq!(edited.state, "visible");
        assert_eq!(
            open(w.db.clone()).await,
            vec![(
                clean.id,
                crate::server::records::review_items::FLAGGED.to_string()
            )]
        );
    }

    /// A watched word with no letters in it would watch for nothing: refused, nothing written.
    #[tokio::test]
    async fn a_watched_word_of_nothing_is_refused() {
        let w = world().await;
        for word in [
            "",
            "  ",
            "**",
            " * ",
            "\u{200b}",
            "*\u{2800}\u{feff}*",
            "\u{3164}",
            "\u{301}",
            "*\u{315}*",
        ] {
            assert_eq!(
                add_watched_word(&w.db, &w.admin, word, "block")
                    .await
                    .unwrap_err(),
                AppError::invalid("word", WORD_EMPTY),
                "{word:?}"
            );
        }
        for word in ["-", "...", "*.*", "?!", " — ", "？！", "«»", "、。"] {
            assert_eq!(
                add_watched_word(&w.db, &w.admin, word, "flag")
                    .await
                    .unwrap_err(),
                AppError::invalid("word", WORD_PUNCTUATION),
                "{word:?}"
            );
        }
        assert_eq!(watched_word::Entity::find().count(&w.db).await.unwrap(), 0);
        // A symbol or an emoji is a word of its own.
        add_watched_word(&w.db, &w.admin, "🖕", "censor")
            .await
            .unwrap();
        watched_word::Entity::delete_many()
            .exec(&w.db)
            .await
            .unwrap();
        add_watched_word(&w.db, &w.admin, "*scam*", "block")
            .await
            .unwrap();
        assert_eq!(watched_word::Entity::find().count(&w.db).await.unwrap(), 1);
        // One entry however its accents were typed.
        add_watched_word(&w.db, &w.admin, "AÑO", "block")
            .await
            .unwrap();
        assert_eq!(
            add_watched_word(&w.db, &w.admin, "an\u{303}o", "flag")
                .await
                .unwrap_err(),
            AppError::invalid("word", WORD_TAKEN)
        );
        assert_eq!(watched_word::Entity::find().count(&w.db).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn a_topic_locked_twice_at_once_is_logged_once() {
        let w = world().await;
        let lines = || async {
            moderation_log::Entity::find()
                .all(&w.db)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.action)
                .collect::<Vec<_>>()
        };
        let (a, b) = tokio::join!(
            act_on_topic(&w.db, &w.moderator, w.topic.id, TopicAction::Lock, ""),
            act_on_topic(&w.db, &w.moderator, w.topic.id, TopicAction::Lock, "")
        );
        a.unwrap();
        b.unwrap();
        act_on_topic(&w.db, &w.moderator, w.topic.id, TopicAction::Unpin, "")
            .await
            .unwrap();
        assert_eq!(lines().await, vec!["lock"]);
        act_on_topic(&w.db, &w.moderator, w.topic.id, TopicAction::Unlock, "")
            .await
            .unwrap();
        assert_eq!(lines().await, vec!["lock", "unlock"]);
        let t = topic::Entity::find_by_id(w.topic.id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert!(!t.locked && !t.pinned);
    }

    #[tokio::test]
    async fn actions_log_notify_and_the_author_can_edit_back_into_the_queue() {
        let w = world().await;
        flag_post(&w.db, &w.members[0], w.post.id, "rude", "")
            .await
            .unwrap();
        for blank in [" ", "\u{2060}\u{3164}"] {
            assert_eq!(
                act_on_post(&w.db, &w.moderator, w.post.id, PostAction::Hide, blank)
                    .await
                    .unwrap_err(),
                AppError::invalid("reason", REASON_NEEDED)
            );
        }
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
        let q = first_page(&w.db, &w.moderator).await;
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
        // Done again, or twice at once: nothing changes and nothing more is logged.
        let (a, b) = tokio::join!(
            act_on_topic(&w.db, &w.moderator, w.topic.id, TopicAction::Lock, "Again"),
            act_on_topic(&w.db, &w.moderator, w.topic.id, TopicAction::Pin, "")
        );
        a.unwrap();
        b.unwrap();
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
            suspend(&w.db, &w.moderator, w.author.id, Some(7), "\u{200B}")
                .await
                .unwrap_err(),
            AppError::invalid("reason", SUSPENSION_REASON_NEEDED)
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
        // The same suspension again, or twice at once: one line, one notice; a longer one is a
        // new decision.
        let told = || async {
            (
                moderation_log::Entity::find()
                    .filter(moderation_log::Column::Action.eq("suspend"))
                    .count(&w.db)
                    .await
                    .unwrap(),
                crate::server::entity::notification::Entity::find()
                    .filter(crate::server::entity::notification::Column::UserId.eq(w.author.id))
                    .filter(crate::server::entity::notification::Column::Kind.eq("suspended"))
                    .count(&w.db)
                    .await
                    .unwrap(),
            )
        };
        assert_eq!(told().await, (1, 1));
        let (a, b) = tokio::join!(
            suspend(
                &w.db,
                &w.moderator,
                w.author.id,
                Some(3),
                "Repeated insults"
            ),
            suspend(&w.db, &w.admin, w.author.id, Some(3), "Repeated insults")
        );
        assert_eq!(a.unwrap().suspended_until, suspended.suspended_until);
        assert_eq!(b.unwrap().suspended_until, suspended.suspended_until);
        assert_eq!(told().await, (1, 1));
        let longer = suspend(
            &w.db,
            &w.moderator,
            w.author.id,
            Some(7),
            "Repeated insults",
        )
        .await
        .unwrap();
        assert!(longer.suspended_until > suspended.suspended_until);
        assert_eq!(told().await, (2, 2));
        // Lifted twice at once: one line in the log, told once.
        let (a, b) = tokio::join!(
            unsuspend(&w.db, &w.moderator, w.author.id),
            unsuspend(&w.db, &w.admin, w.author.id)
        );
        a.unwrap();
        b.unwrap();
        let lifted = || async {
            moderation_log::Entity::find()
                .filter(moderation_log::Column::Action.eq("unsuspend"))
                .count(&w.db)
                .await
                .unwrap()
        };
        assert_eq!(lifted().await, 1);

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
        // The count moderators' headers show is kept per page version: every step below is a
        // page write, so the kept count follows it at once.
        let kept = crate::server::memo::Memo::default();
        let kept_count = || open_review_count_kept(&w.db, &kept);
        assert_eq!(kept_count().await.unwrap(), 3);
        assert_eq!(
            bulk(&w.db, &w.moderator, &ids[..2], PostAction::Hide, "Spam")
                .await
                .unwrap(),
            BulkDone { acted: 2, left: 0 }
        );
        assert_eq!(open_review_count(&w.db).await.unwrap(), 1);
        assert_eq!(kept_count().await.unwrap(), 1);
        let queue = review_queue(&w.db, &w.moderator, ReviewFilter::default(), 1, &kept)
            .await
            .unwrap();
        assert_eq!((queue.total, queue.items.len()), (1, 1));
        assert_eq!(
            remove_spammer(&w.db, &w.moderator, spammer.id, "")
                .await
                .unwrap(),
            3
        );
        // Sent again, with a reason that shows nothing (so the same "Spam"): taken once.
        assert_eq!(
            remove_spammer(&w.db, &w.admin, spammer.id, "\u{200B}")
                .await
                .unwrap(),
            0
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
        assert_eq!(kept_count().await.unwrap(), 0);
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
                ("suspend".to_string(), Some(w.author.id)),
                ("unsuspend".to_string(), Some(w.author.id)),
                ("hide".to_string(), Some(spammer.id)),
                ("hide".to_string(), Some(spammer.id)),
                ("remove_spammer".to_string(), Some(spammer.id)),
            ]
        );
    }

    /// Moderators acting on several posts of one topic at once, while members reply: every
    /// figure still counts every change (on PostgreSQL the writers really overlap).
    #[tokio::test]
    async fn parallel_actions_in_one_topic_keep_its_figures() {
        use crate::server::testing::{PostgresTestDb, World};
        async fn check(w: World) {
            let (t, _) = start_topic(&w.db, &w.customer, "questions", "Busy", "Go.", None)
                .await
                .unwrap();
            let mut replies = Vec::new();
            for n in 0..4 {
                replies.push(
                    reply(&w.db, &w.other, t.id, &format!("Reply {n}"), None)
                        .await
                        .unwrap(),
                );
            }
            let (a, b, c, d, e) = tokio::join!(
                act_on_post(&w.db, &w.moderator, replies[0].id, PostAction::Hide, "Rude"),
                act_on_post(&w.db, &w.admin, replies[1].id, PostAction::Delete, "Spam"),
                act_on_post(
                    &w.db,
                    &w.moderator,
                    replies[2].id,
                    PostAction::Delete,
                    "Spam"
                ),
                reply(&w.db, &w.customer, t.id, "Still here.", None),
                reply(&w.db, &w.staff, t.id, "We are on it.", None),
            );
            a.unwrap();
            b.unwrap();
            c.unwrap();
            d.unwrap();
            e.unwrap();
            let now = topic::Entity::find_by_id(t.id)
                .one(&w.db)
                .await
                .unwrap()
                .unwrap();
            // The opening post, reply 3, the customer's and the staff reply.
            assert_eq!(now.post_count, 4);
            assert_eq!(now.last_post_number, 7);
            assert!(now.first_staff_reply_at.is_some() && now.awaiting_staff_since.is_none());
            let questions = category::Entity::find_by_id(t.category_id)
                .one(&w.db)
                .await
                .unwrap()
                .unwrap();
            assert_eq!((questions.topic_count, questions.post_count), (1, 4));
        }
        check(World::new().await).await;
        if let Some(pg) = PostgresTestDb::create().await {
            check(World::builder().build_on(pg.db.clone()).await).await;
            pg.drop().await;
        }
    }

    /// Posts on their way when their member is removed as a spammer or deleted: one sent with
    /// the member as its request read them (before the removal) is refused and writes nothing;
    /// sent at once with the removal, none is left public after it (an outside tester found
    /// replies in flight written after the sweep, public under a suspended account).
    #[tokio::test]
    async fn posts_on_their_way_when_their_member_is_removed_are_refused_or_swept() {
        use crate::server::testing::{PostgresTestDb, World, insert_user};
        async fn check(w: World) {
            let (t, _) = start_topic(&w.db, &w.customer, "questions", "Busy", "Go.", None)
                .await
                .unwrap();
            let spammer = insert_user(&w.db, 41).await;
            let deleted = insert_user(&w.db, 42).await;
            let suspended = insert_user(&w.db, 44).await;
            let kept = reply(&w.db, &deleted, t.id, "Mine.", None).await.unwrap();
            let own = reply(&w.db, &suspended, t.id, "Also mine.", None)
                .await
                .unwrap();
            remove_spammer(&w.db, &w.moderator, spammer.id, "Spam")
                .await
                .unwrap();
            crate::server::admin::delete_account(&w.db, &w.admin, deleted.id, false)
                .await
                .unwrap();
            suspend(&w.db, &w.moderator, suspended.id, Some(3), "Cool off")
                .await
                .unwrap();
            let before = counts(&w.db).await;
            let users_before = user::Entity::find().all(&w.db).await.unwrap();
            // Edits and profile saves sent before, written after: refused too.
            let edited = forum::edit_post(&w.db, &deleted, kept.id, "Visit spam.example").await;
            assert!(matches!(edited, Err(AppError::Forbidden(_))), "{edited:?}");
            let edited = forum::edit_post(&w.db, &suspended, own.id, "Visit spam.example").await;
            assert!(matches!(edited, Err(AppError::Forbidden(_))), "{edited:?}");
            for id in [deleted.id, suspended.id] {
                let saved =
                    crate::server::accounts::profile::save(&w.db, id, "Visit spam", "Buy.").await;
                assert!(matches!(saved, Err(AppError::Forbidden(_))), "{saved:?}");
            }
            assert_eq!(user::Entity::find().all(&w.db).await.unwrap(), users_before);
            // Flags too: one in flight from a member suspended meanwhile counted towards hiding.
            let opening = crate::server::testing::post_at(&w.db, t.id, 1).await;
            for member in [&suspended, &deleted] {
                let flagged = flag_post(&w.db, member, opening.id, "spam", "").await;
                assert!(
                    matches!(flagged, Err(AppError::Forbidden(_))),
                    "{flagged:?}"
                );
            }
            assert_eq!(flag::Entity::find().count(&w.db).await.unwrap(), 0);
            let refused = |r: Result<post::Model, AppError>| match r {
                Err(AppError::Forbidden(m)) => m,
                other => panic!("{other:?}"),
            };
            let m = refused(reply(&w.db, &spammer, t.id, "Buy now.", None).await);
            assert!(m.starts_with("Your account is suspended"), "{m}");
            let m = refused(reply(&w.db, &deleted, t.id, "Still me.", None).await);
            assert_eq!(m, crate::server::posting::ACCOUNT_GONE);
            let started = start_topic(&w.db, &spammer, "questions", "Cheap", "Buy.", None).await;
            assert!(
                matches!(started, Err(AppError::Forbidden(_))),
                "{started:?}"
            );
            assert_eq!(counts(&w.db).await, before);

            let racer = insert_user(&w.db, 43).await;
            let sends = (0..8).map(|n| {
                let (db, racer) = (w.db.clone(), racer.clone());
                tokio::spawn(
                    async move { reply(&db, &racer, t.id, &format!("Spam {n}"), None).await },
                )
            });
            let sends: Vec<_> = sends.collect();
            tokio::task::yield_now().await;
            remove_spammer(&w.db, &w.moderator, racer.id, "Spam")
                .await
                .unwrap();
            for send in sends {
                let _ = send.await.unwrap();
            }
            let public = post::Entity::find()
                .filter(post::Column::AuthorId.eq(racer.id))
                .filter(post::Column::State.eq(crate::model::PostState::Visible.as_str()))
                .count(&w.db)
                .await
                .unwrap();
            assert_eq!(public, 0);
        }
        check(World::new().await).await;
        if let Some(pg) = PostgresTestDb::create().await {
            check(World::builder().build_on(pg.db.clone()).await).await;
            pg.drop().await;
        }
    }

    /// Moves back and forth while members reply: both categories' figures still equal their
    /// topics' (on PostgreSQL a move that read the topic before a reply settled took the old
    /// share away from the category and gave the new one, losing the reply).
    #[tokio::test]
    async fn moves_while_members_reply_keep_both_categories_figures() {
        use crate::server::testing::{PostgresTestDb, World};
        async fn check(w: World) {
            let (t, _) = start_topic(&w.db, &w.customer, "questions", "Moving", "Go.", None)
                .await
                .unwrap();
            for round in 0..6 {
                let to = if round % 2 == 0 { "ideas" } else { "questions" };
                let bodies = [0, 1, 2].map(|n| format!("Reply {round}.{n}"));
                let (m, a, b, c) = tokio::join!(
                    move_topic(&w.db, &w.moderator, t.id, to, ""),
                    reply(&w.db, &w.other, t.id, &bodies[0], None),
                    reply(&w.db, &w.customer, t.id, &bodies[1], None),
                    reply(&w.db, &w.staff, t.id, &bodies[2], None),
                );
                m.unwrap();
                a.unwrap();
                b.unwrap();
                c.unwrap();
            }
            let now = topic::Entity::find_by_id(t.id)
                .one(&w.db)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(now.post_count, 19);
            for c in category::Entity::find().all(&w.db).await.unwrap() {
                let here = now.category_id == c.id;
                assert_eq!(
                    (c.topic_count, c.post_count),
                    if here { (1, 19) } else { (0, 0) },
                    "{}",
                    c.slug
                );
                assert_eq!(
                    c.last_posted_at,
                    here.then_some(now.last_posted_at),
                    "{}",
                    c.slug
                );
            }
        }
        check(World::new().await).await;
        if let Some(pg) = PostgresTestDb::create().await {
            check(World::builder().build_on(pg.db.clone()).await).await;
            pg.drop().await;
        }
    }

    /// A bulk action is taken on every selected item's post it applies to; an item decided
    /// meanwhile, one on an admin's post and one that is not there are left and counted. When it
    /// applies to none, it is refused with the first one's reason and nothing is written. The
    /// queue shows a moderator no actions on the admin's post, saying why.
    #[tokio::test]
    async fn a_bulk_action_takes_what_it_can_and_counts_the_rest() {
        let w = world().await;
        let mut posts = Vec::new();
        for (who, text) in [
            (&w.members[3], "cheap pills 1"),
            (&w.members[3], "cheap pills 2"),
            (&w.members[3], "cheap pills 3"),
            (&w.admin, "An admin's word."),
        ] {
            let p = reply(&w.db, who, w.topic.id, text, None).await.unwrap();
            flag_post(&w.db, &w.members[0], p.id, "spam", "")
                .await
                .unwrap();
            posts.push(p);
        }
        let item_of = |post_id: i64| {
            let db = w.db.clone();
            async move {
                review_item::Entity::find()
                    .filter(review_item::Column::PostId.eq(post_id))
                    .one(&db)
                    .await
                    .unwrap()
                    .unwrap()
                    .id
            }
        };
        let mut items = Vec::new();
        for p in &posts {
            items.push(item_of(p.id).await);
        }
        // The first one decided by the admin before the moderator's form is sent.
        act_on_item(
            &w.db,
            &w.admin,
            items[0],
            posts[0].id,
            PostAction::Dismiss,
            "",
        )
        .await
        .unwrap();
        let queue = first_page(&w.db, &w.moderator).await;
        let admins = queue.items.iter().find(|i| i.id == items[3]).unwrap();
        assert_eq!(
            admins.not_yours.as_deref(),
            Some(crate::server::auth::PROTECTED_MEMBER)
        );
        assert!(!admins.own);
        let customers = queue.items.iter().find(|i| i.id == items[1]).unwrap();
        assert_eq!(
            (customers.not_yours.as_deref(), customers.own),
            (None, false)
        );
        let of_admin = first_page(&w.db, &w.admin).await;
        let own = of_admin.items.iter().find(|i| i.id == items[3]).unwrap();
        assert_eq!((own.not_yours.as_deref(), own.own), (None, true));

        // Every kind of refusal alone: refused with its reason, nothing written.
        let before = counts(&w.db).await;
        for (selected, refusal) in [
            (
                vec![items[0], items[3]],
                AppError::invalid("items", NOTHING_TO_DECIDE),
            ),
            (
                vec![items[3]],
                AppError::Forbidden(crate::server::auth::PROTECTED_MEMBER.into()),
            ),
            (vec![999_999], AppError::invalid("items", NOTHING_SELECTED)),
            (
                (1..=MOST_SELECTED as i64 + 1).collect(),
                AppError::invalid("items", TOO_MANY_SELECTED),
            ),
        ] {
            assert_eq!(
                bulk(&w.db, &w.moderator, &selected, PostAction::Hide, "Spam")
                    .await
                    .unwrap_err(),
                refusal,
                "{selected:?}"
            );
        }
        assert_eq!(counts(&w.db).await, before);

        let mut selected = items.clone();
        selected.extend([items[1], 999_999]);
        assert_eq!(
            bulk(&w.db, &w.moderator, &selected, PostAction::Hide, "Spam")
                .await
                .unwrap(),
            BulkDone { acted: 2, left: 3 }
        );
        let states = {
            let mut states = Vec::new();
            for p in &posts {
                states.push(post_now(&w.db, p.id).await.state);
            }
            states
        };
        assert_eq!(states, ["visible", "hidden", "hidden", "visible"]);
        let hides = moderation_log::Entity::find()
            .filter(moderation_log::Column::Action.eq("hide"))
            .count(&w.db)
            .await
            .unwrap();
        assert_eq!(hides, 2);
        // Sent again: every item is decided now, so nothing is done the second time.
        assert_eq!(
            bulk(&w.db, &w.moderator, &items[1..3], PostAction::Hide, "Spam")
                .await
                .unwrap_err(),
            AppError::invalid("items", NOTHING_TO_DECIDE)
        );
    }

    /// The items a bulk action leaves are counted the same whatever their order: an item of
    /// the post decided before (here with a later id than the open one) is left, not counted as
    /// decided by this action.
    #[tokio::test]
    async fn a_bulk_action_counts_an_item_decided_before_as_left_in_any_order() {
        let w = world().await;
        flag_post(&w.db, &w.members[1], w.post.id, "rude", "")
            .await
            .unwrap();
        let open = review_item::Entity::find()
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        let mut decided: review_item::ActiveModel = open.clone().into();
        decided.id = sea_orm::ActiveValue::NotSet;
        decided.state = Set("resolved".into());
        let decided = decided.insert(&w.db).await.unwrap();
        assert!(decided.id > open.id);
        assert_eq!(
            bulk(
                &w.db,
                &w.moderator,
                &[decided.id, open.id],
                PostAction::Hide,
                "Rude"
            )
            .await
            .unwrap(),
            BulkDone { acted: 1, left: 1 }
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
                review_queue(&w.db, who, ReviewFilter::default(), 1, &Default::default())
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
