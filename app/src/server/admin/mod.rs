//! The admin panel's rules: categories (categories.rs), members (members.rs), site settings
//! (site_settings.rs) and the mail outbox (mail.rs). Admins only; every change is written to the moderation log. The pages
//! read through `views::admin`.
mod categories;
mod mail;
mod members;
mod site_settings;

pub use categories::*;
pub use mail::*;
pub use members::*;
pub use site_settings::*;

use sea_orm::ConnectionTrait;

use super::entity::user;
use crate::error::AppError;

/// An admin action in the moderation log (about no post or topic).
pub(super) async fn log(
    conn: &impl ConnectionTrait,
    actor: &user::Model,
    action: &str,
    reason: &str,
) -> Result<(), AppError> {
    crate::server::records::moderation_log::log(
        conn, actor, action, None, None, None, reason, false,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{
        ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
        QueryFilter, Set,
    };

    use crate::server::entity::moderation_log;
    use crate::server::records::categories::renamed_to;
    use crate::server::views::admin::categories;
    use crate::server::views::admin::dashboard;
    use crate::server::views::admin::search_users;
    use crate::server::views::admin::site_settings;
    use crate::server::{entity::category, settings};
    use crate::server::{
        forum,
        testing::{insert_user, test_db},
    };

    async fn admin_and_moderator(db: &DatabaseConnection) -> (user::Model, user::Model) {
        let mut a: user::ActiveModel = insert_user(db, 1).await.into();
        a.role = Set("admin".into());
        let mut m: user::ActiveModel = insert_user(db, 2).await.into();
        m.role = Set("moderator".into());
        (a.update(db).await.unwrap(), m.update(db).await.unwrap())
    }

    fn input(name: &str, slug: &str) -> CategoryInput {
        CategoryInput {
            name: name.into(),
            slug: slug.into(),
            description: "Where we talk about it.".into(),
            colour: "#3B6EA5".into(),
            target_hours: "4".into(),
            customers_may_start: true,
            kind: String::new(),
        }
    }

    async fn log_actions(db: &DatabaseConnection) -> Vec<String> {
        moderation_log::Entity::find()
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    }

    #[tokio::test]
    async fn categories_are_created_edited_reordered_and_archived_by_admins() {
        let db = test_db().await;
        let (admin, moderator) = admin_and_moderator(&db).await;
        let a = create_category(&db, &admin, &input("Billing", ""))
            .await
            .unwrap();
        assert_eq!(
            (
                a.slug.as_str(),
                a.colour.as_str(),
                a.response_target_minutes
            ),
            ("billing", "#3b6ea5", 240)
        );
        let b = create_category(&db, &admin, &input("Ideas", "ideas"))
            .await
            .unwrap();
        assert!(matches!(
            create_category(&db, &moderator, &input("Nope", "")).await,
            Err(AppError::Forbidden(_))
        ));

        // A new address keeps the old one as a redirect.
        update_category(
            &db,
            &admin,
            a.id,
            &input("Billing and invoices", "invoices"),
        )
        .await
        .unwrap();
        assert_eq!(
            renamed_to(&db, "billing").await.unwrap().as_deref(),
            Some("invoices")
        );

        move_category(&db, &admin, b.id, true).await.unwrap();
        let order: Vec<_> = categories(&db, &admin)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.slug)
            .collect();
        assert_eq!(order, vec!["ideas", "invoices"]);

        set_archived(&db, &admin, b.id, true).await.unwrap();
        let postable = crate::server::views::forum::postable_categories(&db, true)
            .await
            .unwrap();
        assert!(
            postable.iter().all(|c| c.slug != "ideas"),
            "archived: not offered for new topics"
        );
        assert_eq!(
            log_actions(&db).await,
            vec![
                "category_create",
                "category_create",
                "category_edit",
                "category_reorder",
                "category_archive"
            ]
        );
    }

    /// An address made from the name reads as the name does without its accents, and is never
    /// refused: a name with no Latin letter gives "category", a taken one a number after it. An
    /// address typed by the admin is theirs, and refused when taken (below).
    #[tokio::test]
    async fn addresses_made_from_names_are_readable_and_free() {
        let db = test_db().await;
        let (admin, _) = admin_and_moderator(&db).await;
        let mut made = Vec::new();
        for name in [
            "Общие вопросы",
            "質問",
            "Questions",
            "Questions!",
            "Problème réglé",
        ] {
            let c = create_category(&db, &admin, &input(name, ""))
                .await
                .unwrap();
            made.push(c.slug);
        }
        assert_eq!(
            made,
            [
                "category",
                "category-2",
                "questions",
                "questions-2",
                "probleme-regle"
            ]
        );
        // Saved again under its own name, a category keeps its address (no "-3", no redirect).
        let second = category::Entity::find()
            .filter(category::Column::Slug.eq("questions-2"))
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        let again = update_category(&db, &admin, second.id, &input("Questions!", ""))
            .await
            .unwrap();
        assert_eq!(again.slug, "questions-2");
        assert_eq!(renamed_to(&db, "questions-2").await.unwrap(), None);
        // Nor when the plain address is free again: /c/category moved to "Alpha" and redirects
        // there, and "質問" stays at /c/category-2.
        let first = category::Entity::find()
            .filter(category::Column::Slug.eq("category"))
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        update_category(&db, &admin, first.id, &input("Alpha", ""))
            .await
            .unwrap();
        let second = category::Entity::find()
            .filter(category::Column::Slug.eq("category-2"))
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        let kept = update_category(&db, &admin, second.id, &input("質問", ""))
            .await
            .unwrap();
        assert_eq!(kept.slug, "category-2");
        assert_eq!(
            renamed_to(&db, "category").await.unwrap().as_deref(),
            Some("alpha")
        );
        // A long name's address is cut to fit, with room for a number after it.
        for name in ["Straße ".repeat(9), "ß".repeat(64)] {
            let long = create_category(&db, &admin, &input(name.trim(), ""))
                .await
                .unwrap();
            assert!(
                long.slug.len() <= 60 && long.slug.starts_with("ss")
                    || long.slug.starts_with("strasse"),
                "{}",
                long.slug
            );
        }
    }

    #[tokio::test]
    async fn bad_categories_get_their_message_and_write_nothing() {
        let db = test_db().await;
        let (admin, _) = admin_and_moderator(&db).await;
        create_category(&db, &admin, &input("Billing", "billing"))
            .await
            .unwrap();
        let before = category::Entity::find().count(&db).await.unwrap();
        let with = |f: &dyn Fn(&mut CategoryInput)| {
            let mut i = input("Fine", "fine");
            f(&mut i);
            i
        };
        for (bad, expected) in [
            (
                with(&|i| i.slug = "billing".into()),
                AppError::invalid(
                    "slug",
                    "Another category already uses /c/billing. Choose another address.",
                ),
            ),
            (
                with(&|i| i.name = "  ".into()),
                AppError::invalid("name", NAME_EMPTY),
            ),
            (
                with(&|i| i.name = "\u{200b}\u{feff} \u{2800}".into()),
                AppError::invalid("name", NAME_EMPTY),
            ),
            (
                with(&|i| i.colour = "blue".into()),
                AppError::invalid("colour", COLOUR_INVALID),
            ),
            (
                with(&|i| i.colour = "#12345g".into()),
                AppError::invalid("colour", COLOUR_INVALID),
            ),
            (
                with(&|i| i.target_hours = "0".into()),
                AppError::invalid("target_hours", settings::TARGET_INVALID),
            ),
            (
                with(&|i| i.target_hours = "721".into()),
                AppError::invalid("target_hours", settings::TARGET_INVALID),
            ),
            (
                with(&|i| i.slug = "../x".into()),
                AppError::invalid("slug", SLUG_SHAPE),
            ),
        ] {
            assert_eq!(
                create_category(&db, &admin, &bad).await.unwrap_err(),
                expected
            );
        }
        assert_eq!(category::Entity::find().count(&db).await.unwrap(), before);
        assert_eq!(log_actions(&db).await, vec!["category_create"]);
    }

    /// "Delete account, remove their posts" takes their topics out of every list, page, sitemap
    /// and queue, as "remove spammer" does, and the figures with them. On SQLite and, when a
    /// server answers (always under CI=true), on PostgreSQL.
    #[tokio::test]
    async fn deleting_an_account_with_its_posts_leaves_no_empty_topics() {
        use crate::server::{
            forum::{reply, start_topic},
            testing::{PostgresTestDb, World},
            views::{feeds, forum as pages, staff as queue},
        };
        use sea_orm::{ColumnTrait, QueryFilter};
        async fn check(w: World) {
            let (t, _) = start_topic(
                &w.db,
                &w.customer,
                "questions",
                "Leaving soon",
                "Help.",
                None,
            )
            .await
            .unwrap();
            reply(&w.db, &w.other, t.id, "Me too.", None).await.unwrap();
            let (kept, _) = start_topic(&w.db, &w.other, "questions", "Staying", "Hi.", None)
                .await
                .unwrap();
            let kept_reply = reply(&w.db, &w.customer, kept.id, "Their reply.", None)
                .await
                .unwrap();
            // A member flagged one of their posts: the queue item must not outlive them.
            crate::server::moderation::flag_post(&w.db, &w.staff, kept_reply.id, "spam", "")
                .await
                .unwrap();
            // An address change asked for before the deletion must not bring the account back.
            crate::server::accounts::addresses::request_change(
                &w.db,
                w.customer.id,
                "comeback@example.com",
            )
            .await
            .unwrap();
            delete_account(&w.db, &w.admin, w.customer.id, true)
                .await
                .unwrap();
            {
                use crate::server::entity::{email_token, topic_follow};
                for (table, left) in [
                    (
                        "email_tokens",
                        email_token::Entity::find()
                            .filter(email_token::Column::UserId.eq(w.customer.id))
                            .count(&w.db)
                            .await
                            .unwrap(),
                    ),
                    (
                        "topic_follows",
                        topic_follow::Entity::find()
                            .filter(topic_follow::Column::UserId.eq(w.customer.id))
                            .count(&w.db)
                            .await
                            .unwrap(),
                    ),
                ] {
                    assert_eq!(left, 0, "{table} of a deleted account");
                }
            }
            let open_items = crate::server::entity::review_item::Entity::find()
                .filter(crate::server::entity::review_item::Column::State.eq("open"))
                .count(&w.db)
                .await
                .unwrap();
            assert_eq!(
                open_items, 0,
                "nothing left to decide about a deleted account's posts"
            );

            let listed = pages::category_page(&w.db, "questions", 1, None)
                .await
                .unwrap();
            let ids: Vec<i64> = listed.topics.iter().map(|x| x.id).collect();
            assert_eq!(
                ids,
                vec![kept.id],
                "only the other member's topic is listed"
            );
            assert_eq!(
                listed.topics[0].reply_count, 0,
                "their reply is gone from the count"
            );
            let home = pages::list_categories(&w.db).await.unwrap();
            let questions = home.iter().find(|c| c.slug == "questions").unwrap();
            assert_eq!((questions.topic_count, questions.post_count), (1, 1));
            assert_eq!(
                crate::server::views::topic::topic_page(&w.db, t.id, 1, None)
                    .await
                    .unwrap_err(),
                AppError::NotFound(crate::server::visibility::TOPIC_MISSING.into())
            );
            let sitemap = feeds::sitemap_page(
                &w.db,
                "https://example.com",
                feeds::SitemapPage::Topics(1),
                feeds::SITEMAP_PAGE_URLS,
            )
            .await
            .unwrap();
            assert!(!sitemap.contains(&format!("/t/{}/", t.id)), "{sitemap}");
            assert!(sitemap.contains(&format!("/t/{}/", kept.id)), "{sitemap}");
            let waiting = queue::queue(&w.db, &w.staff, None, 1, &Default::default())
                .await
                .unwrap();
            assert!(waiting.items.iter().all(|i| i.id != t.id));
            assert!(waiting.items.iter().any(|i| i.id == kept.id));
            let figures = queue::figures(&w.db, &[7], chrono::Utc::now())
                .await
                .unwrap();
            assert_eq!(
                (figures[0].overall.topics, figures[0].overall.waiting),
                (1, 1),
                "the removed topic is nobody's unanswered question"
            );
        }
        check(World::new().await).await;
        if let Some(pg) = PostgresTestDb::create().await {
            check(World::builder().build_on(pg.db.clone()).await).await;
            pg.drop().await;
        }
    }

    /// Archiving a category takes its waiting topics out of the staff queue, each with a note in
    /// its history, and the figures stop counting them as waiting.
    #[tokio::test]
    async fn archiving_a_category_takes_its_topics_out_of_the_queue_with_a_note() {
        use crate::server::{
            forum::start_topic,
            testing::World,
            views::staff::{events, queue},
        };
        let w = World::new().await;
        let (t, _) = start_topic(&w.db, &w.customer, "ideas", "Dark mode", "Please.", None)
            .await
            .unwrap();
        let (other, _) = start_topic(&w.db, &w.customer, "questions", "Hi", "Hello.", None)
            .await
            .unwrap();
        let ideas = category::Entity::find()
            .all(&w.db)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.slug == "ideas")
            .unwrap();
        set_archived(&w.db, &w.admin, ideas.id, true).await.unwrap();
        let waiting: Vec<i64> = queue(&w.db, &w.staff, None, 1, &Default::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(waiting, vec![other.id]);
        let history = events(&w.db, t.id, false).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].kind, "category_archived");
        assert!(
            history[0]
                .sentence()
                .contains("archived the category Ideas")
        );
        // Restored, the category takes posts again, and what its archiving took out of the
        // queue waits again, from now, with a note; nothing else moves (the other topic's wait
        // was never ended by it).
        let before = crate::server::entity::topic::Entity::find_by_id(other.id)
            .one(&w.db)
            .await
            .unwrap();
        set_archived(&w.db, &w.admin, ideas.id, false)
            .await
            .unwrap();
        let mut waiting: Vec<i64> = queue(&w.db, &w.staff, None, 1, &Default::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|i| i.id)
            .collect();
        waiting.sort();
        assert_eq!(waiting, vec![t.id, other.id]);
        let history = events(&w.db, t.id, false).await.unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[1].kind, "category_restored");
        assert_eq!(history[1].note, CATEGORY_RESTORED);
        assert_eq!(history[1].sentence(), "user5 restored the category Ideas");
        assert_eq!(
            crate::server::entity::topic::Entity::find_by_id(other.id)
                .one(&w.db)
                .await
                .unwrap(),
            before
        );
        // Archived again and restored again: one more note each, never two at once; either
        // sent twice (a second tab) changes nothing the second time.
        for archived in [true, true, false, false] {
            set_archived(&w.db, &w.admin, ideas.id, archived)
                .await
                .unwrap();
        }
        assert_eq!(events(&w.db, t.id, false).await.unwrap().len(), 4);
        // A topic is not moved into an archived category, where nobody could answer it.
        set_archived(&w.db, &w.admin, ideas.id, true).await.unwrap();
        let moved = crate::server::moderation::move_topic(
            &w.db,
            &w.moderator,
            other.id,
            "ideas",
            "Fits better",
        )
        .await;
        assert_eq!(
            moved,
            Err(AppError::invalid(
                "category",
                crate::server::posting::CATEGORY_ARCHIVED
            ))
        );
        assert_eq!(
            crate::server::entity::topic::Entity::find_by_id(other.id)
                .one(&w.db)
                .await
                .unwrap(),
            before
        );
        // Moved out of the archived category, it waits again, with a note.
        crate::server::moderation::move_topic(&w.db, &w.moderator, t.id, "questions", "")
            .await
            .unwrap();
        let moved = crate::server::entity::topic::Entity::find_by_id(t.id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert!(moved.awaiting_staff_since.is_some());
        let history = events(&w.db, t.id, false).await.unwrap();
        assert_eq!(
            history.last().map(|e| e.note.as_str()),
            Some(crate::server::moderation::MOVED_OUT_OF_ARCHIVE)
        );
    }

    /// A wait a moderator's action would start in an archived category (a staff reply deleted,
    /// a deleted opening post restored) does not start: the topic is marked once, with a line in
    /// its history, and waits from the category's restoring. A topic answered again meanwhile
    /// does not wait then, nor when moved out.
    #[tokio::test]
    async fn moderating_in_an_archived_category_starts_no_wait() {
        use crate::server::{
            entity::topic,
            forum::{reply, start_topic},
            moderation::{PostAction, act_on_post, move_topic},
            testing::World,
            views::staff::{events, queue},
        };
        let w = World::new().await;
        let mut topics = Vec::new();
        let mut answers = Vec::new();
        for title in ["Dark mode", "Spam?", "Shown", "Moved", "Decided"] {
            let (t, opening) = start_topic(&w.db, &w.customer, "ideas", title, "Please.", None)
                .await
                .unwrap();
            // Each answered, but the one whose opening post is removed and the one staff decide.
            if !["Spam?", "Decided"].contains(&title) {
                answers.push(reply(&w.db, &w.staff, t.id, "Noted.", None).await.unwrap());
            }
            topics.push((t.id, opening.id));
        }
        let [
            (lost, _),
            (removed, removed_opening),
            (shown, _),
            (moved, _),
            (decided, _),
        ] = topics[..]
        else {
            unreachable!()
        };
        act_on_post(
            &w.db,
            &w.moderator,
            removed_opening,
            PostAction::Delete,
            "Spam",
        )
        .await
        .unwrap();
        let ideas = category::Entity::find()
            .filter(category::Column::Slug.eq("ideas"))
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        set_archived(&w.db, &w.admin, ideas.id, true).await.unwrap();
        let waits = |id: i64| {
            let db = w.db.clone();
            async move {
                topic::Entity::find_by_id(id)
                    .one(&db)
                    .await
                    .unwrap()
                    .unwrap()
                    .awaiting_staff_since
            }
        };
        let marks = |id: i64| {
            let db = w.db.clone();
            async move {
                events(&db, id, false)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|e| e.kind == "category_archived")
                    .collect::<Vec<_>>()
            }
        };
        let act = async |post_id: i64, action: PostAction| {
            act_on_post(&w.db, &w.moderator, post_id, action, "Checking")
                .await
                .unwrap()
        };
        act(answers[0].id, PostAction::Delete).await;
        act(removed_opening, PostAction::Restore).await;
        for a in &answers[1..] {
            for action in [PostAction::Hide, PostAction::Restore, PostAction::Hide] {
                act(a.id, action).await;
            }
            act(a.id, PostAction::Restore).await;
        }
        for t in [lost, removed, shown, moved] {
            assert_eq!(waits(t).await, None);
            // Marked once, however often it would have started waiting.
            let marks = marks(t).await;
            assert_eq!(marks.len(), 1, "{marks:?}");
            assert_eq!(
                marks[0].sentence(),
                "The category Ideas is archived, so this does not wait for staff"
            );
        }
        assert!(
            queue(&w.db, &w.staff, None, 1, &Default::default())
                .await
                .unwrap()
                .items
                .is_empty()
        );
        move_topic(&w.db, &w.moderator, moved, "questions", "")
            .await
            .unwrap();
        crate::server::staff::set_status(&w.db, &w.staff, decided, "planned", "")
            .await
            .unwrap();
        // Restored, the topics that lost their answer wait again, from then; the ones answered
        // again do not, and have no note that says they do.
        let restored_at = chrono::Utc::now();
        set_archived(&w.db, &w.admin, ideas.id, false)
            .await
            .unwrap();
        for t in [lost, removed] {
            assert!(waits(t).await.is_some_and(|since| since >= restored_at));
        }
        for (t, kind) in [
            (shown, "category_restored"),
            (moved, "moved_out_of_archive"),
            (decided, "category_restored"),
        ] {
            assert_eq!(waits(t).await, None);
            let history = events(&w.db, t, false).await.unwrap();
            let last = history.last().unwrap();
            assert_eq!((last.kind.as_str(), last.note.as_str()), (kind, ""));
        }
        // The answer removed while it was archived, restored now, answers it again: the time
        // archived delays the wait's start, not what counts as its answer.
        act(answers[0].id, PostAction::Restore).await;
        assert_eq!(waits(lost).await, None);
        // Archived again, a wait a moderator's action would start is marked again, for this
        // archiving.
        set_archived(&w.db, &w.admin, ideas.id, true).await.unwrap();
        act(answers[0].id, PostAction::Delete).await;
        assert_eq!(marks(lost).await.len(), 2);
        assert_eq!(waits(lost).await, None);
    }

    /// Topics moved into a category while it is archived: each move is refused, or comes first
    /// and is taken out of the queue with the category's other topics; none waits in it after
    /// (an outside tester left 45 of 80 waiting where nobody may answer).
    #[tokio::test]
    async fn moves_racing_an_archiving_leave_nothing_waiting_in_it() {
        use crate::server::testing::{PostgresTestDb, World};
        async fn check(w: World) {
            let mut topics = Vec::new();
            for n in 0..6 {
                let title = format!("Waiting {n}");
                let (t, _) = forum::start_topic(&w.db, &w.customer, "questions", &title, "?", None)
                    .await
                    .unwrap();
                topics.push(t.id);
            }
            let ideas = category::Entity::find()
                .all(&w.db)
                .await
                .unwrap()
                .into_iter()
                .find(|c| c.slug == "ideas")
                .unwrap();
            let moves: Vec<_> = topics
                .iter()
                .map(|&id| {
                    let (db, moderator) = (w.db.clone(), w.moderator.clone());
                    tokio::spawn(async move {
                        crate::server::moderation::move_topic(&db, &moderator, id, "ideas", "")
                            .await
                    })
                })
                .collect();
            tokio::task::yield_now().await;
            set_archived(&w.db, &w.admin, ideas.id, true).await.unwrap();
            for m in moves {
                let _ = m.await.unwrap();
            }
            let waiting_there = crate::server::entity::topic::Entity::find()
                .filter(crate::server::entity::topic::Column::CategoryId.eq(ideas.id))
                .filter(crate::server::entity::topic::Column::AwaitingStaffSince.is_not_null())
                .count(&w.db)
                .await
                .unwrap();
            assert_eq!(waiting_there, 0);
        }
        check(World::new().await).await;
        if let Some(pg) = PostgresTestDb::create().await {
            check(World::builder().build_on(pg.db.clone()).await).await;
            pg.drop().await;
        }
    }

    #[tokio::test]
    async fn a_staff_title_of_invisible_characters_is_no_title() {
        let db = test_db().await;
        let (admin, _) = admin_and_moderator(&db).await;
        let customer = insert_user(&db, 3).await;
        let staff = set_role(
            &db,
            &admin,
            customer.id,
            "staff",
            "\u{200b}\u{2800} \u{feff}",
        )
        .await
        .unwrap();
        assert_eq!((staff.role.as_str(), staff.staff_title), ("staff", None));
        // The log and the member's notice say no title, not the invisible text.
        let logged: Vec<String> = moderation_log::Entity::find()
            .all(&db)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "role")
            .map(|e| e.reason)
            .collect();
        assert_eq!(logged, ["Member () → Staff ()"]);
        // Back to customer with a title in the form: none is stored, none is logged.
        let customer = set_role(&db, &admin, customer.id, "customer", "Support")
            .await
            .unwrap();
        assert_eq!(customer.staff_title, None);
        let last = moderation_log::Entity::find()
            .all(&db)
            .await
            .unwrap()
            .pop()
            .unwrap();
        assert_eq!(last.reason, "Staff () → Member ()");
        // Direction overrides are dropped from a title, as from every name: one drew the text
        // after it (the site's name in a tab, a badge) backwards.
        let staff = set_role(
            &db,
            &admin,
            customer.id,
            "staff",
            "Lead\u{202E} \u{2066}dev",
        )
        .await
        .unwrap();
        assert_eq!(staff.staff_title.as_deref(), Some("Lead dev"));
        let c = create_category(
            &db,
            &admin,
            &CategoryInput {
                name: "Bugs\u{202E}".into(),
                description: "Report \u{202D}them\u{202C} here".into(),
                ..input("", "")
            },
        )
        .await
        .unwrap();
        assert_eq!(
            (c.name.as_str(), c.description.as_str()),
            ("Bugs", "Report them here")
        );
    }

    #[tokio::test]
    async fn roles_sessions_and_deletion_with_the_last_admin_kept() {
        let db = test_db().await;
        let (admin, moderator) = admin_and_moderator(&db).await;
        let customer = insert_user(&db, 3).await;
        // Promoting: admins only, logged, the member told.
        assert!(matches!(
            set_role(&db, &moderator, customer.id, "staff", "Support").await,
            Err(AppError::Forbidden(_))
        ));
        let staff = set_role(&db, &admin, customer.id, "staff", "Support Lead")
            .await
            .unwrap();
        assert_eq!(
            (staff.role.as_str(), staff.staff_title.as_deref()),
            ("staff", Some("Support Lead"))
        );
        assert_eq!(
            set_role(&db, &admin, customer.id, "owner", "")
                .await
                .unwrap_err(),
            AppError::invalid("role", ROLE_UNKNOWN)
        );
        // The last admin stays one.
        assert_eq!(
            set_role(&db, &admin, admin.id, "customer", "")
                .await
                .unwrap_err(),
            AppError::invalid("role", LAST_ADMIN)
        );
        // A new post by the promoted member carries the badge with the title.
        forum::create_category(
            &db,
            forum::NewCategory {
                slug: "q",
                name: "Q",
                description: "",
                colour: "#2f855a",
            },
        )
        .await
        .unwrap();
        let (_, first) = forum::start_topic(&db, &staff, "q", "Hello", "Hi all", None)
            .await
            .unwrap();
        assert_eq!(
            (first.is_staff_reply, first.staff_title.as_deref()),
            (true, Some("Support Lead"))
        );

        // Search: by name for moderators; by e-mail, and e-mails shown, for admins only.
        assert_eq!(
            search_users(&db, &moderator, "user3").await.unwrap()[0].email,
            None
        );
        assert!(
            search_users(&db, &moderator, "example.com")
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            search_users(&db, &admin, "user3@example")
                .await
                .unwrap()
                .len(),
            1
        );

        assert_eq!(
            log_out_everywhere(&db, &moderator, customer.id)
                .await
                .unwrap(),
            0
        );
        // Deleting keeps the posts, signed "deleted user", and nothing personal.
        assert!(matches!(
            delete_account(&db, &moderator, customer.id, false).await,
            Err(AppError::Forbidden(_))
        ));
        delete_account(&db, &admin, customer.id, false)
            .await
            .unwrap();
        let gone = user::Entity::find_by_id(customer.id)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                gone.display_name.as_str(),
                gone.email.contains("example.com")
            ),
            ("deleted user", false)
        );
        let kept = super::super::entity::post::Entity::find_by_id(first.id)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(kept.state, "visible");
        assert_eq!(
            log_actions(&db).await,
            vec!["role", "log_out_everywhere", "delete_account"]
        );
    }

    #[tokio::test]
    async fn the_dashboard_counts_the_last_thirty_days_by_day() {
        let db = test_db().await;
        let (admin, moderator) = admin_and_moderator(&db).await;
        forum::create_category(
            &db,
            forum::NewCategory {
                slug: "q",
                name: "Q",
                description: "",
                colour: "#2f855a",
            },
        )
        .await
        .unwrap();
        let customer = insert_user(&db, 3).await;
        forum::start_topic(&db, &customer, "q", "Waiting", "Help?", None)
            .await
            .unwrap();
        forum::start_topic(&db, &customer, "q", "Waiting too", "Help!", None)
            .await
            .unwrap();
        // A topic held for approval waits too, as the staff queue and /accountability say.
        crate::server::testing::watch(&db, &[("crypto", "hold")]).await;
        let (held, _) = forum::start_topic(&db, &customer, "q", "Held", "Buy crypto.", None)
            .await
            .unwrap();
        assert!(!held.visible && held.awaiting_staff_since.is_some());
        let d = dashboard(&db, &moderator).await.unwrap();
        assert_eq!((d.new_members.len(), d.new_posts.len()), (30, 30));
        assert_eq!(
            (d.new_members[29], d.new_posts[29]),
            (3, 3),
            "today is the last day"
        );
        assert_eq!(
            (d.awaiting_staff, d.past_target, d.open_review_items),
            (3, 0, 1)
        );
        assert!(!d.viewer_is_admin && dashboard(&db, &admin).await.unwrap().viewer_is_admin);
        let customer_view = dashboard(&db, &customer).await;
        assert!(matches!(customer_view, Err(AppError::Forbidden(_))));
    }

    #[tokio::test]
    async fn site_settings_and_sign_up_decisions_are_logged() {
        let db = test_db().await;
        let (admin, moderator) = admin_and_moderator(&db).await;
        let mut s = site_settings(&db, &admin).await.unwrap();
        assert_eq!(
            (s.site_name.as_str(), s.signup_mode.as_str()),
            ("Backyard", "open")
        );
        s.site_name = "Acme".into();
        s.signup_mode = "approval".into();
        assert!(matches!(
            save_site_settings(&db, &moderator, &s, &[]).await,
            Err(AppError::Forbidden(_))
        ));
        let mut bad = s.clone();
        bad.signup_mode = "sometimes".into();
        assert!(matches!(
            save_site_settings(&db, &admin, &bad, &[]).await,
            Err(AppError::Invalid { .. })
        ));
        save_site_settings(&db, &admin, &s, &[]).await.unwrap();
        assert_eq!(site_settings(&db, &admin).await.unwrap().site_name, "Acme");
        let waiting = insert_user(&db, 5).await;
        let mut row: user::ActiveModel = waiting.clone().into();
        row.awaiting_approval = Set(true);
        row.update(&db).await.unwrap();
        assert_eq!(
            site_settings(&db, &admin)
                .await
                .unwrap()
                .awaiting_approval
                .len(),
            1
        );
        decide_signup(&db, &admin, waiting.id, true).await.unwrap();
        assert!(
            decide_signup(&db, &admin, waiting.id, true).await.is_err(),
            "decided already"
        );
        assert_eq!(log_actions(&db).await, vec!["settings", "approve_signup"]);
    }
}
