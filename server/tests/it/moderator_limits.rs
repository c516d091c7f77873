//! Moderators cannot act against admins (or other moderators): no ending their sessions,
//! suspending, removing, deleting, editing, hiding or deleting their posts. Admins may act on
//! anyone. And any edit of someone else's post by a moderator says so on the post.

use crate::common::*;
use app::{
    model::Role,
    server::{
        auth::PROTECTED_MEMBER,
        entity::{post, topic, user},
    },
};
use axum::{Router, http::StatusCode};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

/// Every table's rows (sessions by id: ending an admin's sessions is one of the refused
/// actions); equal before and after means nothing was written.
async fn dump(db: &DatabaseConnection) -> std::collections::BTreeMap<String, Vec<String>> {
    table_rows(db, &[], &["sessions"]).await
}

struct Site {
    db: DatabaseConnection,
    app: Router,
    admin: user::Model,
    admin_cookie: String,
    moderator: String,
    other_moderator: user::Model,
    casey: String,
    sam: user::Model,
    /// The admin's welcome topic and its opening post.
    admin_topic: topic::Model,
    admin_post: post::Model,
    other_moderator_post: post::Model,
    /// A review item about the admin's post (a customer flagged it).
    admin_review_item: i64,
}

async fn promote(db: &DatabaseConnection, name: &str, role: Role) -> user::Model {
    let mut row: user::ActiveModel = user::Entity::find()
        .filter(user::Column::Username.eq(name))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .into();
    row.role = Set(role.as_str().into());
    row.trust_level = Set(1);
    row.update(db).await.unwrap()
}

async fn site() -> Site {
    use app::server::{forum, moderation};
    let DemoMembers {
        db,
        app,
        casey,
        admin: admin_cookie,
        ..
    } = demo_members().await;
    let moderator = sign_up(
        &app,
        "morgan",
        "morgan@example.com",
        "a long enough password",
    )
    .await;
    sign_up(&app, "mona", "mona@example.com", "a long enough password").await;
    promote(&db, "morgan", Role::Moderator).await;
    let other_moderator = promote(&db, "mona", Role::Moderator).await;
    let find = |name: &'static str| {
        let db = db.clone();
        async move {
            user::Entity::find()
                .filter(user::Column::Username.eq(name))
                .one(&db)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let admin = find("admin").await;
    let sam = find("sam").await;
    let casey_row = find("casey").await;
    let admin_topic = topic::Entity::find()
        .filter(topic::Column::Slug.eq("welcome-to-our-community"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let admin_post = post::Entity::find()
        .filter(post::Column::TopicId.eq(admin_topic.id))
        .filter(post::Column::AuthorId.eq(admin.id))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let other_moderator_post = forum::reply(
        &db,
        &other_moderator,
        admin_topic.id,
        "Moderating here.",
        None,
    )
    .await
    .unwrap();
    moderation::flag_post(&db, &casey_row, admin_post.id, "spam", "")
        .await
        .unwrap();
    let admin_review_item = app::server::entity::review_item::Entity::find()
        .filter(app::server::entity::review_item::Column::PostId.eq(admin_post.id))
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .id;
    Site {
        db,
        app,
        admin,
        admin_cookie,
        moderator,
        other_moderator,
        casey,
        sam,
        admin_topic,
        admin_post,
        other_moderator_post,
        admin_review_item,
    }
}

#[tokio::test]
async fn a_moderator_cannot_act_against_an_admin_or_another_moderator() {
    let s = site().await;
    let admin = s.admin.id.to_string();
    let other = s.other_moderator.id.to_string();
    let admin_post = s.admin_post.id.to_string();
    let other_post = s.other_moderator_post.id.to_string();
    let item = s.admin_review_item.to_string();
    let only_admins = "Only admin and above can do that.";
    // (server function, its form fields, the refusal expected)
    type Action<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let mut actions: Vec<Action> = Vec::new();
    for (user_id, post_id) in [(&admin, &admin_post), (&other, &other_post)] {
        actions.extend([
            (
                "/api/log_out_everywhere",
                vec![("user_id", user_id.as_str())],
                PROTECTED_MEMBER,
            ),
            (
                "/api/suspend_member",
                vec![("user_id", user_id), ("days", "7"), ("reason", "Rude")],
                PROTECTED_MEMBER,
            ),
            (
                "/api/remove_spammer",
                vec![("user_id", user_id), ("reason", "Spam")],
                PROTECTED_MEMBER,
            ),
            (
                "/api/unsuspend_member",
                vec![("user_id", user_id)],
                PROTECTED_MEMBER,
            ),
            (
                "/api/delete_account",
                vec![("user_id", user_id), ("posts", "remove")],
                only_admins,
            ),
            (
                "/api/set_role",
                vec![("user_id", user_id), ("role", "customer"), ("title", "")],
                only_admins,
            ),
            (
                "/api/edit_post",
                vec![
                    ("post_id", post_id),
                    ("body", "Words the admin never wrote."),
                    ("reason", "Because"),
                ],
                PROTECTED_MEMBER,
            ),
        ]);
        for action in ["hide", "delete", "restore", "approve", "dismiss"] {
            actions.push((
                "/api/moderate_post",
                vec![
                    ("post_id", post_id),
                    ("action", action),
                    ("reason", "Because"),
                ],
                PROTECTED_MEMBER,
            ));
        }
    }
    actions.push((
        "/api/moderate_bulk",
        vec![
            ("action", "delete"),
            ("reason", "Because"),
            ("items[]", &item),
        ],
        PROTECTED_MEMBER,
    ));
    let before = dump(&s.db).await;
    for (path, fields, message) in &actions {
        assert_refused(
            &s.app,
            path,
            fields,
            "a moderator",
            Some(&s.moderator),
            message,
        )
        .await;
        // Without JavaScript too.
        post_form(&s.app, path, fields, Some(&s.moderator), "/").await;
        assert_eq!(
            dump(&s.db).await,
            before,
            "{path} {fields:?} wrote something"
        );
    }
    // The edit page does not open either.
    let page = get(&s.app, &format!("/p/{admin_post}/edit"), Some(&s.moderator)).await;
    assert!(
        !page.body.contains("Words the admin never wrote")
            && !page.body.contains("name=\"reason\""),
        "the edit form is not offered"
    );
    let res = post_fetch(
        &s.app,
        "/api/editable_post",
        &[("post_id", &admin_post)],
        Some(&s.moderator),
    )
    .await;
    // (Read functions answer refusals with 500 today, a separate point of the issue.)
    assert!(!res.status.is_success(), "{}", res.body);
    assert!(res.body.contains(PROTECTED_MEMBER), "{}", res.body);
    // The admin is still signed in and their post says what they wrote.
    assert_eq!(
        signed_in_as(&s.app, &s.admin_cookie).await.as_deref(),
        Some("admin")
    );
    let stored = post::Entity::find_by_id(s.admin_post.id)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, s.admin_post);
}

#[tokio::test]
async fn admins_act_on_anyone_and_moderators_on_customers_and_staff() {
    let s = site().await;
    // A moderator ends a staff member's sessions and edits a customer's post.
    let sam = session_of(&s.app, "sam", "demo-staff-pass").await;
    let res = post_fetch(
        &s.app,
        "/api/log_out_everywhere",
        &[("user_id", &s.sam.id.to_string())],
        Some(&s.moderator),
    )
    .await;
    assert!(res.status.is_success(), "{}", res.body);
    assert_eq!(signed_in_as(&s.app, &sam).await, None);
    // An admin edits another moderator's post and ends their sessions.
    let mona = session_of(&s.app, "mona", "a long enough password").await;
    let res = post_fetch(
        &s.app,
        "/api/edit_post",
        &[
            ("post_id", &s.other_moderator_post.id.to_string()),
            ("body", "Moderating here (link removed)."),
            ("reason", "Link"),
        ],
        Some(&s.admin_cookie),
    )
    .await;
    assert!(res.status.is_success(), "{}", res.body);
    let res = post_fetch(
        &s.app,
        "/api/log_out_everywhere",
        &[("user_id", &s.other_moderator.id.to_string())],
        Some(&s.admin_cookie),
    )
    .await;
    assert!(res.status.is_success(), "{}", res.body);
    assert_eq!(signed_in_as(&s.app, &mona).await, None);
}

/// The post's `<article>` on the page, by its number.
fn post_html(page: &str, number: i32) -> &str {
    let start = page
        .find(&format!("id=\"post-{number}\""))
        .unwrap_or_else(|| panic!("post {number} on the page"));
    let end = page[start..].find("</article>").unwrap() + start;
    &page[start..end]
}

#[tokio::test]
async fn a_moderators_edit_is_marked_on_the_post_with_and_without_javascript() {
    let s = site().await;
    let topic = s.admin_topic.clone();
    let path = format!("/t/{}/{}", topic.id, topic.slug);
    // Casey's reply (post 2) edited by a moderator without JavaScript; the moderator's own
    // post edited by an admin through the script path.
    let casey_reply = app::server::testing::post_at(&s.db, topic.id, 2).await;
    let res = post_form(
        &s.app,
        "/api/edit_post",
        &[
            ("post_id", &casey_reply.id.to_string()),
            ("body", "Glad to have a place for this (edited)."),
            ("reason", "Typo"),
        ],
        Some(&s.moderator),
        &format!("/p/{}/edit", casey_reply.id),
    )
    .await;
    assert!(!res.location.unwrap_or_default().contains("__err"));
    let res = post_fetch(
        &s.app,
        "/api/edit_post",
        &[
            ("post_id", &s.other_moderator_post.id.to_string()),
            ("body", "Moderating here, edited by an admin."),
            ("reason", "Tone"),
        ],
        Some(&s.admin_cookie),
    )
    .await;
    assert!(res.status.is_success(), "{}", res.body);
    // The admin edits their own post: only "edited".
    let res = post_fetch(
        &s.app,
        "/api/edit_post",
        &[
            ("post_id", &s.admin_post.id.to_string()),
            ("body", "Welcome, all."),
        ],
        Some(&s.admin_cookie),
    )
    .await;
    assert!(res.status.is_success(), "{}", res.body);
    for viewer in [None, Some(s.casey.as_str()), Some(s.moderator.as_str())] {
        let page = get(&s.app, &path, viewer).await;
        assert_eq!(page.status, StatusCode::OK);
        let mod_edited = post_html(&page.body, casey_reply.post_number);
        assert!(mod_edited.contains("edited by a moderator"), "{mod_edited}");
        let admin_edited = post_html(&page.body, s.other_moderator_post.post_number);
        assert!(
            admin_edited.contains("edited by a moderator"),
            "{admin_edited}"
        );
        let own = post_html(&page.body, 1);
        assert!(own.contains(">edited<"), "{own}");
        assert!(!own.contains("edited by a moderator"), "{own}");
    }
    // The author editing afterwards does not wash the moderator's words out of the marker.
    let res = post_fetch(
        &s.app,
        "/api/edit_post",
        &[
            ("post_id", &casey_reply.id.to_string()),
            ("body", "Glad to have a place for this (edited twice)."),
        ],
        Some(&s.casey),
    )
    .await;
    assert!(res.status.is_success(), "{}", res.body);
    let page = get(&s.app, &path, None).await;
    assert!(post_html(&page.body, casey_reply.post_number).contains("edited by a moderator"));
    // Who edited is stored.
    let stored = post::Entity::find_by_id(casey_reply.id)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    let morgan = user::Entity::find()
        .filter(user::Column::Username.eq("morgan"))
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.moderator_edit_by, Some(morgan.id));
}
