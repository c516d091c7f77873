//! A member's own choices of what to hear about: following, leaving or muting a topic, and
//! watching a category for its new topics. The rows and what they mean to a notification live in
//! `notify::following`; here are the checks a click must pass. Suspension is refused by the api
//! layer (`api::writer`), like every write.
use sea_orm::{DatabaseConnection, EntityTrait};

use super::{
    entity::{category, user},
    notify::following::{self, LEVEL_UNKNOWN, Level},
    records::categories::CATEGORY_MISSING,
    visibility,
};
use crate::error::AppError;

pub const CATEGORY_NOT_WATCHABLE: &str =
    "That category is archived: it takes no new topics to watch for.";

/// The member's level for a topic they may see ("not found" otherwise, as for no topic).
pub async fn topic_level(
    db: &DatabaseConnection,
    member: &user::Model,
    topic_id: i64,
) -> Result<Level, AppError> {
    visibility::topic(db, topic_id, Some(member)).await?;
    following::level(db, member.id, topic_id).await
}

/// Follow, leave at normal, or mute a topic the member may see. `level` is what the form sent:
/// anything but the three levels is refused with a clear message before anything is read.
pub async fn set_topic_level(
    db: &DatabaseConnection,
    member: &user::Model,
    topic_id: i64,
    level: &str,
) -> Result<Level, AppError> {
    let level =
        Level::parse(level.trim()).ok_or_else(|| AppError::invalid("level", LEVEL_UNKNOWN))?;
    visibility::topic(db, topic_id, Some(member)).await?;
    following::set_level(db, member.id, topic_id, level).await?;
    Ok(level)
}

/// Watch (or stop watching) a forum category. Only forum categories have a page to watch from,
/// and an archived one takes no new topics, so watching it is refused; stopping never is.
pub async fn set_category_watch(
    db: &DatabaseConnection,
    member: &user::Model,
    category_id: i64,
    watch: bool,
) -> Result<(), AppError> {
    let c = category::Entity::find_by_id(category_id)
        .one(db)
        .await?
        .filter(|c| c.kind != "blog_comments")
        .ok_or_else(|| AppError::NotFound(CATEGORY_MISSING.into()))?;
    if watch && c.archived {
        return Err(AppError::invalid("watch", CATEGORY_NOT_WATCHABLE));
    }
    following::set_watch(db, member.id, c.id, watch).await
}

/// Whether the member watches the category.
pub async fn watches(
    db: &DatabaseConnection,
    member: &user::Model,
    category_id: i64,
) -> Result<bool, AppError> {
    following::watches(db, member.id, category_id).await
}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

    use super::*;
    use crate::server::{
        entity::{category_watch, notification, topic, topic_follow},
        forum, notify,
        testing::World,
    };

    async fn unread(w: &World, member: &user::Model) -> Vec<notification::Model> {
        notification::Entity::find()
            .filter(notification::Column::UserId.eq(member.id))
            .filter(notification::Column::ReadAt.is_null())
            .all(&w.db)
            .await
            .unwrap()
    }

    async fn follows(w: &World) -> u64 {
        topic_follow::Entity::find().count(&w.db).await.unwrap()
    }

    #[tokio::test]
    async fn followers_hear_of_a_reply_once_the_worker_runs_and_muted_members_never() {
        let w = World::new().await;
        let (t, _) = forum::start_topic(&w.db, &w.customer, "questions", "Export", "How?", None)
            .await
            .unwrap();
        // The new topic's own fan-out (to the category's watchers: none).
        notify::fan_out_due(&w.db, 10).await.unwrap();
        set_topic_level(&w.db, &w.other, t.id, "following")
            .await
            .unwrap();
        set_topic_level(&w.db, &w.moderator, t.id, "following")
            .await
            .unwrap();
        set_topic_level(&w.db, &w.moderator, t.id, "muted")
            .await
            .unwrap();
        assert_eq!(
            topic_level(&w.db, &w.moderator, t.id).await.unwrap(),
            Level::Muted
        );

        forum::reply(&w.db, &w.staff, t.id, "Use the export page.", None)
            .await
            .unwrap();
        // The author is told in the reply's transaction; followers by the worker.
        assert_eq!(unread(&w, &w.customer).await.len(), 1);
        assert!(unread(&w, &w.other).await.is_empty());
        assert_eq!(notify::fan_out_due(&w.db, 10).await.unwrap(), 1);

        let told = unread(&w, &w.other).await;
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!(told[0].topic_id, Some(t.id));
        assert!(told[0].staff, "a staff member's reply is marked as staff");
        assert!(unread(&w, &w.moderator).await.is_empty(), "muted");
        assert!(unread(&w, &w.staff).await.is_empty(), "never the writer");
        // The worker has nothing left to do.
        assert_eq!(notify::fan_out_due(&w.db, 10).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn three_replies_are_one_unread_notification_saying_three_and_opening_reads_it() {
        let w = World::new().await;
        let (t, _) =
            forum::start_topic(&w.db, &w.customer, "questions", "Dark mode", "Please", None)
                .await
                .unwrap();
        set_topic_level(&w.db, &w.other, t.id, "following")
            .await
            .unwrap();
        for body in ["One more thing.", "And another.", "Last one, promise."] {
            forum::reply(&w.db, &w.customer, t.id, body, None)
                .await
                .unwrap();
            notify::fan_out_due(&w.db, 10).await.unwrap();
        }
        let told = unread(&w, &w.other).await;
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!(told[0].count, 3);
        let listed = notify::list(&w.db, w.other.id).await.unwrap();
        assert_eq!(listed[0].message, "3 new replies in “Dark mode”");
        assert_eq!(notify::unread_count(&w.db, w.other.id).await.unwrap(), 1);

        // Someone else's notification: nothing to open, nothing changes.
        assert_eq!(
            notify::open(&w.db, &w.customer, told[0].id).await.unwrap(),
            None
        );
        assert_eq!(notify::unread_count(&w.db, w.other.id).await.unwrap(), 1);
        let link = notify::open(&w.db, &w.other, told[0].id)
            .await
            .unwrap()
            .unwrap();
        assert!(link.starts_with(&format!("/t/{}/", t.id)), "{link}");
        assert!(link.contains('#'), "lands on the post: {link}");
        assert_eq!(notify::unread_count(&w.db, w.other.id).await.unwrap(), 0);

        // A later reply starts a new unread one.
        forum::reply(&w.db, &w.customer, t.id, "Really the last.", None)
            .await
            .unwrap();
        notify::fan_out_due(&w.db, 10).await.unwrap();
        assert_eq!(unread(&w, &w.other).await[0].count, 1);
    }

    #[tokio::test]
    async fn an_unknown_level_or_a_topic_out_of_sight_is_refused_and_nothing_is_written() {
        let w = World::new().await;
        let (t, _) =
            forum::start_topic(&w.db, &w.customer, "questions", "Hidden", "Soon gone", None)
                .await
                .unwrap();
        let before = follows(&w).await;
        for bad in ["", "watching", "FOLLOWING ", "muted; drop table"] {
            let e = set_topic_level(&w.db, &w.other, t.id, bad)
                .await
                .unwrap_err();
            assert_eq!(e, AppError::invalid("level", LEVEL_UNKNOWN), "{bad:?}");
        }
        let e = set_topic_level(&w.db, &w.other, 9999, "following")
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{e:?}");
        // A topic whose opening post was removed is out of sight for other customers.
        let mut row: topic::ActiveModel = t.clone().into();
        row.visible = Set(false);
        row.update(&w.db).await.unwrap();
        let e = set_topic_level(&w.db, &w.other, t.id, "following")
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{e:?}");
        assert!(topic_level(&w.db, &w.other, t.id).await.is_err());
        assert_eq!(follows(&w).await, before);
    }

    #[tokio::test]
    async fn watchers_of_a_category_hear_of_every_new_topic_there() {
        let w = World::new().await;
        let questions = category::Entity::find()
            .filter(category::Column::Slug.eq("questions"))
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        set_category_watch(&w.db, &w.staff, questions.id, true)
            .await
            .unwrap();
        set_category_watch(&w.db, &w.staff, questions.id, true)
            .await
            .unwrap();
        assert!(watches(&w.db, &w.staff, questions.id).await.unwrap());
        forum::start_topic(&w.db, &w.customer, "questions", "Billing", "Invoice?", None)
            .await
            .unwrap();
        forum::start_topic(
            &w.db,
            &w.customer,
            "ideas",
            "Elsewhere",
            "Not watched",
            None,
        )
        .await
        .unwrap();
        notify::fan_out_due(&w.db, 10).await.unwrap();
        let told = unread(&w, &w.staff).await;
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!(told[0].kind, notify::NEW_TOPIC);

        set_category_watch(&w.db, &w.staff, questions.id, false)
            .await
            .unwrap();
        assert!(!watches(&w.db, &w.staff, questions.id).await.unwrap());

        // An archived category takes no new topics to watch for; no category, nothing to watch.
        let mut row: category::ActiveModel = questions.clone().into();
        row.archived = Set(true);
        row.update(&w.db).await.unwrap();
        assert_eq!(
            set_category_watch(&w.db, &w.other, questions.id, true).await,
            Err(AppError::invalid("watch", CATEGORY_NOT_WATCHABLE))
        );
        set_category_watch(&w.db, &w.other, questions.id, false)
            .await
            .unwrap();
        assert!(matches!(
            set_category_watch(&w.db, &w.other, 9999, true).await,
            Err(AppError::NotFound(_))
        ));
        assert_eq!(
            category_watch::Entity::find().count(&w.db).await.unwrap(),
            0
        );
    }
}
