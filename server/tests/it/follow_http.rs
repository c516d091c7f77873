//! Notifications, following and watching through the real router: opening a notification or
//! its topic reads it and the header says so on that very page; the follow and watch controls
//! with and without JavaScript, and what they refuse.

use crate::common::*;
use app::server::{
    entity::{category, notification, topic_follow, user},
    forum,
    notify::{self, following::LEVEL_UNKNOWN},
};
use axum::http::StatusCode;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};

async fn member(db: &DatabaseConnection, username: &str) -> user::Model {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

fn header_count(page: &Reply) -> Option<String> {
    let marker = "Notifications (";
    page.body.find(marker).map(|i| {
        let rest = &page.body[i + marker.len()..];
        rest[..rest.find(')').unwrap()].to_string()
    })
}

#[tokio::test]
async fn a_staff_answer_is_one_unread_notification_that_opens_the_answer_and_reads_it() {
    let d = demo_members().await;
    let casey = member(&d.db, "casey").await;
    let sam = member(&d.db, "sam").await;
    notify::mark_all_read(&d.db, casey.id).await.unwrap();
    let (t, _) = forum::start_topic(
        &d.db,
        &casey,
        "questions",
        "Where is my invoice?",
        "Since May.",
        None,
    )
    .await
    .unwrap();
    let answer = forum::reply(&d.db, &sam, t.id, "Under Billing, top right.", None)
        .await
        .unwrap();
    forum::reply(&d.db, &sam, t.id, "And the PDF is there too.", None)
        .await
        .unwrap();

    let home = get(&d.app, "/", Some(&d.casey)).await;
    assert_eq!(
        header_count(&home).as_deref(),
        Some("1 unread"),
        "collapsed into one"
    );
    let list = get(&d.app, "/notifications", Some(&d.casey)).await;
    let n = notification::Entity::find()
        .filter(notification::Column::UserId.eq(casey.id))
        .filter(notification::Column::ReadAt.is_null())
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n.count, 2);
    assert!(
        list.body
            .contains("2 staff answers in “Where is my invoice?”"),
        "{}",
        list.body
    );
    let href = format!("href=\"/notifications/{}\"", n.id);
    assert!(list.body.contains(&href), "{}", list.body);
    assert!(
        list.body.contains("class=\"staff-badge\""),
        "marked as staff"
    );

    // Someone else's notification, or none: not found, nothing read.
    let path = format!("/notifications/{}", n.id);
    for (who, cookie) in [
        ("sam", Some(d.sam.as_str())),
        ("admin", Some(d.admin.as_str())),
    ] {
        let res = get(&d.app, &path, cookie).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "as {who}");
    }
    for bad in ["/notifications/999999", "/notifications/x"] {
        assert_eq!(
            get(&d.app, bad, Some(&d.casey)).await.status,
            StatusCode::NOT_FOUND
        );
    }
    let visitor = get(&d.app, &path, None).await;
    assert_eq!(visitor.status, StatusCode::SEE_OTHER);
    assert_eq!(
        visitor.location.as_deref(),
        Some(format!("/login?next={path}").as_str())
    );
    assert_eq!(notify::unread_count(&d.db, casey.id).await.unwrap(), 1);

    let opened = get(&d.app, &path, Some(&d.casey)).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER);
    let to = opened.location.clone().unwrap();
    assert!(to.starts_with(&format!("/t/{}/", t.id)), "{to}");
    assert!(
        to.ends_with(&format!("#post-{}", answer.post_number)),
        "lands on the answer: {to}"
    );
    assert_eq!(notify::unread_count(&d.db, casey.id).await.unwrap(), 0);
    assert_eq!(header_count(&get(&d.app, "/", Some(&d.casey)).await), None);
}

#[tokio::test]
async fn opening_the_topic_reads_its_notifications_and_its_header_already_says_so() {
    let d = demo_members().await;
    let casey = member(&d.db, "casey").await;
    let sam = member(&d.db, "sam").await;
    notify::mark_all_read(&d.db, casey.id).await.unwrap();
    let (t, _) = forum::start_topic(
        &d.db,
        &casey,
        "questions",
        "Slow search",
        "It takes ages.",
        None,
    )
    .await
    .unwrap();
    let (other, _) =
        forum::start_topic(&d.db, &casey, "questions", "Other one", "Unrelated.", None)
            .await
            .unwrap();
    forum::reply(&d.db, &sam, t.id, "Looking into it.", None)
        .await
        .unwrap();
    forum::reply(&d.db, &sam, other.id, "Noted.", None)
        .await
        .unwrap();
    assert_eq!(notify::unread_count(&d.db, casey.id).await.unwrap(), 2);

    // Several times, as the header and the page load at the same moment.
    for round in 0..5 {
        let page = get(&d.app, &format!("/t/{}/{}", t.id, t.slug), Some(&d.casey)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            header_count(&page).as_deref(),
            Some("1 unread"),
            "round {round}"
        );
    }
    assert_eq!(
        notify::unread_count(&d.db, casey.id).await.unwrap(),
        1,
        "the other topic's stays"
    );
    // A visitor's view of the topic reads nothing of anyone's.
    get(&d.app, &format!("/t/{}/{}", other.id, other.slug), None).await;
    assert_eq!(notify::unread_count(&d.db, casey.id).await.unwrap(), 1);
}

async fn level_rows(db: &DatabaseConnection) -> Vec<(i64, i64, String)> {
    topic_follow::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.user_id, f.topic_id, f.level))
        .collect()
}

#[tokio::test]
async fn follow_mute_and_watch_with_one_click_with_and_without_javascript() {
    let d = demo_members().await;
    let sam = member(&d.db, "sam").await;
    let (t, _) = forum::start_topic(&d.db, &sam, "questions", "Release plan", "Soon.", None)
        .await
        .unwrap();
    let here = format!("/t/{}/{}", t.id, t.slug);
    let id = t.id.to_string();

    let page = get(&d.app, &here, Some(&d.casey)).await;
    assert!(
        page.body
            .contains("You are <strong>Normal</strong> on this topic."),
        "{}",
        page.body
    );
    assert!(
        !get(&d.app, &here, None)
            .await
            .body
            .contains("id=\"follow\"")
    );
    assert!(
        get(&d.app, &here, None)
            .await
            .body
            .contains("to follow this topic.")
    );

    // Without JavaScript: back to the control, which shows the new level.
    let res = post_form(
        &d.app,
        "/api/set_topic_level",
        &[("topic_id", &id), ("level", "following")],
        Some(&d.casey),
        &here,
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert_eq!(
        res.location.as_deref(),
        Some(format!("{here}#follow").as_str())
    );
    let page = follow(&d.app, &res, Some(&d.casey)).await;
    assert!(
        page.body
            .contains("You are <strong>Following</strong> on this topic.")
    );

    // With JavaScript: the answer is the new level.
    let res = post_fetch(
        &d.app,
        "/api/set_topic_level",
        &[("topic_id", &id), ("level", "muted")],
        Some(&d.casey),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body, "\"muted\"");
    let rows = level_rows(&d.db).await;

    // Refused, nothing written: an unknown level, a topic out of sight, a visitor.
    let res = post_form(
        &d.app,
        "/api/set_topic_level",
        &[("topic_id", &id), ("level", "loud")],
        Some(&d.casey),
        &here,
    )
    .await;
    let page = follow(&d.app, &res, Some(&d.casey)).await;
    assert!(page.body.contains(LEVEL_UNKNOWN), "{}", page.body);
    let mut hidden: app::server::entity::topic::ActiveModel = t.clone().into();
    hidden.visible = Set(false);
    hidden.update(&d.db).await.unwrap();
    let res = post_fetch(
        &d.app,
        "/api/set_topic_level",
        &[("topic_id", &id), ("level", "following")],
        Some(&d.casey),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.body);
    assert_refused(
        &d.app,
        "/api/set_topic_level",
        &[("topic_id", &id), ("level", "following")],
        "a visitor",
        None,
        app::api::SIGNED_OUT,
    )
    .await;
    assert_eq!(level_rows(&d.db).await, rows);

    // Watching a category, both ways.
    let questions = category::Entity::find()
        .filter(category::Column::Slug.eq("questions"))
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    let cid = questions.id.to_string();
    let page = get(&d.app, "/c/questions", Some(&d.sam)).await;
    assert!(page.body.contains(">Watch</button>"), "{}", page.body);
    assert!(
        get(&d.app, "/c/questions", None)
            .await
            .body
            .contains("to watch this category")
    );
    let res = post_form(
        &d.app,
        "/api/watch_category",
        &[("category_id", &cid), ("watch", "true")],
        Some(&d.sam),
        "/c/questions",
    )
    .await;
    let page = follow(&d.app, &res, Some(&d.sam)).await;
    assert!(
        page.body.contains(">Stop watching</button>"),
        "{}",
        page.body
    );
    let res = post_fetch(
        &d.app,
        "/api/watch_category",
        &[("category_id", &cid), ("watch", "false")],
        Some(&d.sam),
    )
    .await;
    assert_eq!(res.body, "false");
    let watches = app::server::entity::category_watch::Entity::find()
        .count(&d.db)
        .await
        .unwrap();
    assert_eq!(watches, 0);
}
