//! Staff response through the real router: the permission matrix of every staff action and
//! page, bad input that must change nothing, and the whole flow as a browser without
//! JavaScript sends it.

use crate::common::*;
use app::{
    api::staff::SIGNED_OUT,
    server::{
        entity::{category, topic, topic_event},
        records::topics::STATUS_UNKNOWN,
        staff::ANSWER_ELSEWHERE,
    },
};
use axum::http::StatusCode;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

/// The demo's unanswered bug report, and a staff reply in the CSV-export topic.
async fn fixtures(db: &DatabaseConnection) -> (topic::Model, i64) {
    let bug = topic::Entity::find()
        .filter(topic::Column::Slug.eq("dashboard-chart-is-blank-on-safari"))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let staff_reply = app::server::entity::post::Entity::find()
        .filter(app::server::entity::post::Column::IsStaffReply.eq(true))
        .filter(app::server::entity::post::Column::PostNumber.gt(1))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    (bug, staff_reply.id)
}

async fn snapshot(db: &DatabaseConnection) -> (Vec<topic::Model>, u64, Vec<category::Model>) {
    (
        topic::Entity::find().all(db).await.unwrap(),
        topic_event::Entity::find().count(db).await.unwrap(),
        category::Entity::find().all(db).await.unwrap(),
    )
}

/// A server function's path, its form fields, and the refusal a customer gets.
type Action<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

#[tokio::test]
async fn every_staff_action_and_page_is_refused_to_customers_and_visitors() {
    let d = demo_members().await;
    let (bug, reply_id) = fixtures(&d.db).await;
    let (t, p) = (bug.id.to_string(), reply_id.to_string());
    let before = snapshot(&d.db).await;
    let actions: [Action; 6] = [
        (
            "/api/set_topic_status",
            vec![("topic_id", &t), ("status", "planned"), ("note", "")],
            "Only staff and above can do that.",
        ),
        (
            "/api/mark_answer",
            vec![("topic_id", &t), ("post_id", &p)],
            "Only staff and above can do that.",
        ),
        (
            "/api/unmark_answer",
            vec![("topic_id", &t)],
            "Only staff and above can do that.",
        ),
        (
            "/api/no_reply_needed",
            vec![("topic_id", &t), ("reason", "spam")],
            "Only staff and above can do that.",
        ),
        (
            "/api/set_response_target",
            vec![("category", "questions"), ("hours", "4")],
            "Only admin and above can do that.",
        ),
        (
            "/api/set_accountability",
            vec![("public", "off")],
            "Only admin and above can do that.",
        ),
    ];
    for (path, fields, message) in &actions {
        for (who, cookie, expected) in [
            ("customer", Some(d.casey.as_str()), *message),
            ("visitor", None, SIGNED_OUT),
        ] {
            assert_refused(&d.app, path, fields, who, cookie, expected).await;
        }
    }
    // Staff without the admin role: refused the admin's two.
    for (path, fields, _) in &actions[4..] {
        let res = post_fetch(&d.app, path, fields, Some(&d.sam)).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path} as staff");
    }
    assert_eq!(snapshot(&d.db).await, before, "nothing was written");

    for page in ["/staff/queue", "/staff/metrics"] {
        for cookie in [Some(d.casey.as_str()), None] {
            let res = get(&d.app, page, cookie).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{page}");
            assert!(!res.body.contains("Dashboard chart is blank"));
        }
        assert_eq!(get(&d.app, page, Some(&d.sam)).await.status, StatusCode::OK);
    }
    // The topic page offers staff tools to staff only.
    let path = format!("/t/{}/{}", bug.id, bug.slug);
    assert!(
        !get(&d.app, &path, Some(&d.casey))
            .await
            .body
            .contains("Staff tools")
    );
    assert!(!get(&d.app, &path, None).await.body.contains("Staff tools"));
    assert!(
        get(&d.app, &path, Some(&d.sam))
            .await
            .body
            .contains("Staff tools")
    );
    // Only the topic's author answers "did this solve it?".
    let res = post_fetch(
        &d.app,
        "/api/confirm_resolution",
        &[("topic_id", &t), ("solved", "yes")],
        Some(&d.sam),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_foreign_answer_or_an_unknown_status_changes_nothing() {
    let d = demo_members().await;
    let (bug, other_topics_reply) = fixtures(&d.db).await;
    let path = format!("/t/{}/{}", bug.id, bug.slug);
    let before = snapshot(&d.db).await;
    let t = bug.id.to_string();
    let p = other_topics_reply.to_string();
    for (action, fields, message) in [
        (
            "/api/mark_answer",
            vec![("topic_id", t.as_str()), ("post_id", p.as_str())],
            ANSWER_ELSEWHERE,
        ),
        (
            "/api/set_topic_status",
            vec![
                ("topic_id", t.as_str()),
                ("status", "someday"),
                ("note", ""),
            ],
            STATUS_UNKNOWN,
        ),
    ] {
        let res = post_form(&d.app, action, &fields, Some(&d.sam), &path).await;
        assert!(
            res.location.as_deref().unwrap().contains("__err="),
            "{action}"
        );
        let page = follow(&d.app, &res, Some(&d.sam)).await;
        assert!(page.body.contains(message), "{message} not shown");
        let res = post_fetch(&d.app, action, &fields, Some(&d.sam)).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
    }
    assert_eq!(snapshot(&d.db).await, before);
}

#[tokio::test]
async fn queue_answer_resolve_confirm_and_figures_without_javascript() {
    let d = demo_members().await;
    let (bug, _) = fixtures(&d.db).await;
    let path = format!("/t/{}/{}", bug.id, bug.slug);
    let id = bug.id.to_string();

    // Unanswered: in the queue, and marked so in its category.
    let queue = get(&d.app, "/staff/queue", Some(&d.sam)).await;
    assert!(queue.body.contains("Dashboard chart is blank on Safari"));
    assert!(
        get(&d.app, "/c/bug-reports", None)
            .await
            .body
            .contains("Awaiting staff")
    );

    // Staff answer: out of the queue, "Staff replied in" on the list.
    let token = form_token_on(&d.app, &path, Some(&d.sam)).await;
    let res = post_form(
        &d.app,
        "/api/reply",
        &[
            ("topic_id", &id),
            ("body", "A fix ships tomorrow."),
            ("form_token", &token),
        ],
        Some(&d.sam),
        &path,
    )
    .await;
    assert_eq!(
        landed_on(res.location.as_deref()).as_deref(),
        Some(format!("{path}#post-2").as_str())
    );
    assert!(
        !get(&d.app, "/staff/queue", Some(&d.sam))
            .await
            .body
            .contains("Dashboard chart")
    );
    let list = get(&d.app, "/c/bug-reports", None).await;
    assert!(
        list.body.contains("Staff replied in"),
        "the list shows the response time"
    );

    // Mark the reply as the official answer, then resolve with a note.
    let reply = app::server::entity::post::Entity::find()
        .filter(app::server::entity::post::Column::TopicId.eq(bug.id))
        .filter(app::server::entity::post::Column::PostNumber.eq(2))
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    let res = post_form(
        &d.app,
        "/api/mark_answer",
        &[("topic_id", &id), ("post_id", &reply.id.to_string())],
        Some(&d.sam),
        &path,
    )
    .await;
    // Back at the reply, which says it is now the official answer.
    assert_eq!(
        res.location.as_deref(),
        Some(format!("{path}?done=answer&post={0}#status-post-{0}", reply.id).as_str())
    );
    let res = post_form(
        &d.app,
        "/api/set_topic_status",
        &[
            ("topic_id", &id),
            ("status", "resolved"),
            ("note", "Fixed in today's release."),
        ],
        Some(&d.sam),
        &path,
    )
    .await;
    assert!(!res.location.unwrap().contains("__err"));
    let page = get(&d.app, &path, Some(&d.casey)).await;
    for expected in [
        "Official answer",
        "A fix ships tomorrow.",
        "Fixed in today",
        "Did this solve it?",
        "sam set the status to Resolved",
    ] {
        assert!(page.body.contains(expected), "topic page lacks {expected}");
    }
    assert!(
        get(&d.app, "/c/bug-reports?status=resolved", None)
            .await
            .body
            .contains("Answered")
    );

    // The customer confirms.
    let res = post_form(
        &d.app,
        "/api/confirm_resolution",
        &[("topic_id", &id), ("solved", "yes")],
        Some(&d.casey),
        &path,
    )
    .await;
    assert_eq!(res.location.as_deref(), Some(path.as_str()));
    let page = get(&d.app, &path, Some(&d.casey)).await;
    assert!(page.body.contains("Resolved, confirmed by the customer"));
    assert!(!page.body.contains("Did this solve it?"));
    // The same form sent again (a second tab) is refused, and the page says why although it
    // asks no more.
    let again = post_form(
        &d.app,
        "/api/confirm_resolution",
        &[("topic_id", &id), ("solved", "no")],
        Some(&d.casey),
        &path,
    )
    .await;
    let back = follow(&d.app, &again, Some(&d.casey)).await;
    assert!(
        back.body
            .contains("This topic is not waiting for your confirmation."),
        "{:?}",
        again.location
    );
    assert!(!back.body.contains("Did this solve it?"));

    // The figures count it: one resolution, confirmed.
    let metrics = get(&d.app, "/staff/metrics", Some(&d.sam)).await;
    assert!(metrics.body.contains("Last 7 days") && metrics.body.contains("Last 30 days"));
    assert!(metrics.body.contains("100%"), "confirmed share");
    let public = get(&d.app, "/accountability", None).await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(public.body.contains("How fast we answer"));

    // Admins set targets and can switch the public page off.
    let res = post_form(
        &d.app,
        "/api/set_response_target",
        &[("category", "bug-reports"), ("hours", "4")],
        Some(&d.admin),
        "/staff/metrics",
    )
    .await;
    assert_eq!(res.location.as_deref(), Some("/staff/metrics#targets"));
    let bugs = category::Entity::find()
        .filter(category::Column::Slug.eq("bug-reports"))
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bugs.response_target_minutes, 240);
    for bad in ["0", "721", "soon"] {
        let res = post_fetch(
            &d.app,
            "/api/set_response_target",
            &[("category", "bug-reports"), ("hours", bad)],
            Some(&d.admin),
        )
        .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    post_form(
        &d.app,
        "/api/set_accountability",
        &[("public", "off")],
        Some(&d.admin),
        "/staff/metrics",
    )
    .await;
    assert_eq!(
        get(&d.app, "/accountability", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn no_is_a_reopen_into_the_queue() {
    let d = demo_members().await;
    let (bug, _) = fixtures(&d.db).await;
    let path = format!("/t/{}/{}", bug.id, bug.slug);
    let id = bug.id.to_string();
    post_form(
        &d.app,
        "/api/set_topic_status",
        &[
            ("topic_id", &id),
            ("status", "resolved"),
            ("note", "Should be fixed now."),
        ],
        Some(&d.sam),
        &path,
    )
    .await;
    assert!(
        !get(&d.app, "/staff/queue", Some(&d.sam))
            .await
            .body
            .contains("Dashboard chart")
    );
    post_form(
        &d.app,
        "/api/confirm_resolution",
        &[("topic_id", &id), ("solved", "no")],
        Some(&d.casey),
        &path,
    )
    .await;
    let queue = get(&d.app, "/staff/queue", Some(&d.sam)).await;
    assert!(queue.body.contains("Dashboard chart is blank on Safari"));
    assert!(queue.body.contains("Reopened"));
    let page = get(&d.app, &path, None).await;
    assert!(page.body.contains("casey reopened this for staff"));
    assert!(
        page.body
            .contains("The customer said this did not solve it.")
    );
}

#[tokio::test]
async fn a_customer_cannot_make_a_staff_badge_appear() {
    let d = demo_members().await;
    let (bug, _) = fixtures(&d.db).await;
    let path = format!("/t/{}/{}", bug.id, bug.slug);
    let token = form_token_on(&d.app, &path, Some(&d.casey)).await;
    let forged = r#"<span class="staff-badge"><span class="visually-hidden">Staff reply: </span>Support Lead</span> <article class="post staff-post">**Staff**</article> [Staff reply](#)"#;
    post_form(
        &d.app,
        "/api/reply",
        &[
            ("topic_id", &bug.id.to_string()),
            ("body", forged),
            ("form_token", &token),
        ],
        Some(&d.casey),
        &path,
    )
    .await;
    let page = get(&d.app, &path, None).await;
    let post = &page.body[page
        .body
        .find(r#"id="post-2""#)
        .expect("the reply is shown")..];
    let post = &post[..post.find("</article>").unwrap()];
    assert!(post.contains("Support Lead"), "the text stays, as text");
    assert!(
        !post.contains("staff-badge") && !post.contains("staff-post"),
        "{post}"
    );
    assert!(!page.body.contains(r#"class="post staff-post" id="post-2""#));
}
