//! What the topic page and the staff queue show as posts come, go and come back: no tools on a
//! post that is not public, no response clock on a topic staff started, and a held topic that
//! waits, marked, where staff look, for a moderator to approve and answer in one step.

use crate::common::*;
use app::server::{
    entity::{notification, post, topic, user},
    forum,
    moderation::{self, PostAction},
    posting, settings,
};
use axum::http::StatusCode;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

async fn member(db: &DatabaseConnection, name: &str) -> user::Model {
    user::Entity::find()
        .filter(user::Column::Username.eq(name))
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

/// The markup of post number `number` on a page: its `<article>`.
fn post_markup(body: &str, number: i32) -> &str {
    let start = body
        .find(&format!(r#"id="post-{number}""#))
        .unwrap_or_else(|| panic!("post {number} is not on the page"));
    let end = body[start..].find("</article>").unwrap() + start;
    &body[start..end]
}

const ANSWER_FORM: &str = r#"action="/api/mark_answer""#;
const FLAG_FORM: &str = r#"action="/api/flag_post""#;
/// The "Flag" link to a post's flag page (/p/{id}/flag), where the form is.
const FLAG_LINK: &str = r#"/flag""#;

#[tokio::test]
async fn posts_that_are_not_public_offer_no_official_answer_and_no_flag() {
    let d = demo_members().await;
    let (casey, sam, admin) = (
        member(&d.db, "casey").await,
        member(&d.db, "sam").await,
        member(&d.db, "admin").await,
    );
    let (t, _) = forum::start_topic(&d.db, &casey, "questions", "Export fails", "Help.", None)
        .await
        .unwrap();
    let kept = forum::reply(&d.db, &sam, t.id, "Try again now.", None)
        .await
        .unwrap();
    let hidden = forum::reply(&d.db, &sam, t.id, "Wrong answer.", None)
        .await
        .unwrap();
    let deleted = forum::reply(&d.db, &sam, t.id, "Another wrong one.", None)
        .await
        .unwrap();
    for (p, action) in [(&hidden, PostAction::Hide), (&deleted, PostAction::Delete)] {
        moderation::act_on_post(&d.db, &admin, p.id, action, "Not right")
            .await
            .unwrap();
    }
    let path = format!("/t/{}/{}", t.id, t.slug);
    // Staff see the answer tool on the public reply only; admins (moderators) see the rest.
    let as_admin = get(&d.app, &path, Some(&d.admin)).await;
    assert_eq!(as_admin.status, StatusCode::OK);
    assert!(post_markup(&as_admin.body, kept.post_number).contains(ANSWER_FORM));
    for p in [&hidden, &deleted] {
        let markup = post_markup(&as_admin.body, p.post_number);
        assert!(!markup.contains(ANSWER_FORM), "{markup}");
        assert!(!markup.contains(FLAG_LINK), "{markup}");
    }
    // A member may flag the public reply (a link to its flag page: no form on the topic page),
    // and not the hidden one (shown as a placeholder).
    let as_casey = get(&d.app, &path, Some(&d.casey)).await;
    assert!(!as_casey.body.contains(FLAG_FORM));
    assert!(
        post_markup(&as_casey.body, kept.post_number)
            .contains(&format!(r#"href="/p/{}/flag""#, kept.id))
    );
    let placeholder = post_markup(&as_casey.body, hidden.post_number);
    assert!(
        placeholder.contains("hidden by a moderator"),
        "{placeholder}"
    );
    assert!(!placeholder.contains(FLAG_LINK), "{placeholder}");
    // And the rule refuses it too, whatever a crafted form says.
    let res = post_form(
        &d.app,
        "/api/flag_post",
        &[("post_id", &hidden.id.to_string()), ("reason", "spam")],
        Some(&d.casey),
        &path,
    )
    .await;
    assert!(res.location.unwrap_or_default().contains("__err"));
}

#[tokio::test]
async fn a_topic_staff_started_shows_no_response_clock() {
    let d = demo_members().await;
    let (casey, sam) = (member(&d.db, "casey").await, member(&d.db, "sam").await);
    let (news, _) = forum::start_topic(&d.db, &sam, "questions", "Maintenance", "Sunday.", None)
        .await
        .unwrap();
    forum::reply(&d.db, &sam, news.id, "Done.", None)
        .await
        .unwrap();
    let (asked, _) = forum::start_topic(&d.db, &casey, "questions", "Why down?", "Hm.", None)
        .await
        .unwrap();
    forum::reply(&d.db, &sam, asked.id, "Maintenance.", None)
        .await
        .unwrap();
    let page = |t: &topic::Model| format!("/t/{}/{}", t.id, t.slug);
    let staff_started = get(&d.app, &page(&news), None).await.body;
    assert!(!staff_started.contains("Staff replied in"));
    assert!(!staff_started.contains("Awaiting staff"));
    let customers = get(&d.app, &page(&asked), None).await.body;
    assert!(customers.contains("Staff replied in"));
}

#[tokio::test]
async fn a_held_topic_waits_marked_and_a_moderators_reply_approves_it() {
    let d = demo_members().await;
    settings::put(&d.db, settings::NEW_MEMBER_HOLD.0, "1")
        .await
        .unwrap();
    let newcomer_cookie = sign_up(
        &d.app,
        "newcomer",
        "new@example.com",
        "quiet harbour lantern 7741",
    )
    .await;
    let newcomer = member(&d.db, "newcomer").await;
    let (t, first) = forum::start_topic(
        &d.db,
        &newcomer,
        "questions",
        "My invoice is wrong",
        "Help!",
        None,
    )
    .await
    .unwrap();
    assert_eq!(first.state, "pending");
    let path = format!("/t/{}/{}", t.id, t.slug);

    // The customer is told it waits for approval, not for staff.
    let own = get(&d.app, &path, Some(&newcomer_cookie)).await.body;
    assert!(own.contains("Waiting for approval"), "{own}");
    assert!(!own.contains("Awaiting staff"));
    // Visitors do not see it; staff find it in their queue, marked.
    assert_eq!(get(&d.app, &path, None).await.status, StatusCode::NOT_FOUND);
    let queue = get(&d.app, "/staff/queue", Some(&d.sam)).await.body;
    let at = queue
        .find("My invoice is wrong")
        .expect("the held topic is in the queue");
    let row_end = queue[at..].find("</li>").unwrap() + at;
    assert!(queue[at..row_end].contains("Waiting for approval"));
    // Staff may read it; the moderator's page says a reply approves it.
    assert_eq!(
        get(&d.app, &path, Some(&d.sam)).await.status,
        StatusCode::OK
    );
    let as_admin = get(&d.app, &path, Some(&d.admin)).await.body;
    assert!(as_admin.contains("your reply approves it"));

    let token = form_token_on(&d.app, &path, Some(&d.admin)).await;
    let res = post_form(
        &d.app,
        "/api/reply",
        &[
            ("topic_id", &t.id.to_string()),
            ("body", "Sorry about that: fixed, and refunded."),
            ("form_token", &token),
        ],
        Some(&d.admin),
        &path,
    )
    .await;
    assert!(!res.location.unwrap_or_default().contains("__err"));
    let opening = post::Entity::find_by_id(first.id)
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(opening.state, "visible");
    let public = get(&d.app, &path, None).await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(public.body.contains("fixed, and refunded"));
    assert!(public.body.contains("Staff replied in"));
    let told: Vec<String> = notification::Entity::find()
        .filter(notification::Column::UserId.eq(newcomer.id))
        .all(&d.db)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.kind)
        .collect();
    assert!(told.contains(&"approve".to_string()), "{told:?}");
    let queue = get(&d.app, "/staff/queue", Some(&d.sam)).await.body;
    assert!(
        !queue.contains("My invoice is wrong"),
        "answered: out of the queue"
    );
}

/// Posts sit on pages by their number: removing one never strands the last page.
#[tokio::test]
async fn every_page_of_a_long_topic_stays_reachable_when_posts_are_removed() {
    let d = demo_members().await;
    settings::put(&d.db, settings::POSTS_PER_10_MIN.0, "0")
        .await
        .unwrap();
    let (casey, admin) = (member(&d.db, "casey").await, member(&d.db, "admin").await);
    let (t, _) = forum::start_topic(&d.db, &casey, "questions", "Long one", "Start.", None)
        .await
        .unwrap();
    let mut replies = Vec::new();
    for n in 2..=31 {
        replies.push(
            forum::reply(&d.db, &casey, t.id, &format!("Reply number {n}."), None)
                .await
                .unwrap(),
        );
    }
    for p in &replies[..3] {
        moderation::act_on_post(&d.db, &admin, p.id, PostAction::Delete, "Noise")
            .await
            .unwrap();
    }
    let last = get(&d.app, &format!("/t/{}/{}?page=2", t.id, t.slug), None).await;
    assert_eq!(last.status, StatusCode::OK);
    assert!(last.body.contains("Reply number 31."));
    // A new reply lands where its address says.
    let token = form_token_on(&d.app, &format!("/t/{}/{}", t.id, t.slug), Some(&d.casey)).await;
    let res = post_form(
        &d.app,
        "/api/reply",
        &[
            ("topic_id", &t.id.to_string()),
            ("body", "One more."),
            ("form_token", &token),
        ],
        Some(&d.casey),
        &format!("/t/{}/{}", t.id, t.slug),
    )
    .await;
    let landed = follow(&d.app, &res, Some(&d.casey)).await;
    assert_eq!(landed.status, StatusCode::OK);
    assert!(landed.body.contains("One more."));
}

/// The demo site with the new-member hold on and a member who just signed up, `newcomer`,
/// whose first post waits for approval.
async fn demo_with_a_held_newcomer() -> DemoMembers {
    let d = demo_members().await;
    settings::put(&d.db, settings::NEW_MEMBER_HOLD.0, "1")
        .await
        .unwrap();
    sign_up(
        &d.app,
        "newcomer",
        "new@example.com",
        "quiet harbour lantern 7741",
    )
    .await;
    d
}

/// A moderator's reply to a held topic sent twice at once (two tabs, or a second moderator):
/// the opening post is approved once and both replies are posted; the second is not refused as
/// an approval of a public post.
#[tokio::test]
async fn a_moderators_reply_to_a_held_topic_sent_twice_at_once_approves_it_once() {
    let d = demo_with_a_held_newcomer().await;
    let (newcomer, admin) = (
        member(&d.db, "newcomer").await,
        member(&d.db, "admin").await,
    );
    let (t, first) = forum::start_topic(&d.db, &newcomer, "questions", "Held", "Hi.", None)
        .await
        .unwrap();
    assert_eq!(first.state, "pending");
    let (a, b) = tokio::join!(
        moderation::approve_and_reply(&d.db, &admin, t.id, "First answer.", None),
        moderation::approve_and_reply(&d.db, &admin, t.id, "Second answer.", None),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.state.as_str(), b.state.as_str()), ("visible", "visible"));
    let posts = post::Entity::find()
        .filter(post::Column::TopicId.eq(t.id))
        .all(&d.db)
        .await
        .unwrap();
    assert_eq!(posts.len(), 3);
    assert!(posts.iter().all(|p| p.state == "visible"), "{posts:?}");
    let approvals = app::server::entity::moderation_log::Entity::find()
        .filter(app::server::entity::moderation_log::Column::PostId.eq(first.id))
        .all(&d.db)
        .await
        .unwrap();
    assert_eq!(approvals.len(), 1, "{approvals:?}");
}

/// While a topic waits for approval only its author adds to it; a moderator's reply approves
/// it, but not past a lock.
#[tokio::test]
async fn a_held_topic_takes_no_replies_from_others_and_a_lock_holds_for_moderators() {
    let d = demo_with_a_held_newcomer().await;
    let (newcomer, sam, admin) = (
        member(&d.db, "newcomer").await,
        member(&d.db, "sam").await,
        member(&d.db, "admin").await,
    );
    let (t, first) = forum::start_topic(&d.db, &newcomer, "questions", "Held", "Hi.", None)
        .await
        .unwrap();
    assert_eq!(
        forum::reply(&d.db, &sam, t.id, "Staff here.", None)
            .await
            .unwrap_err(),
        app::error::AppError::invalid("form", posting::HELD_TOPIC)
    );
    moderation::act_on_topic(&d.db, &admin, t.id, moderation::TopicAction::Lock, "")
        .await
        .unwrap();
    assert!(
        moderation::approve_and_reply(&d.db, &admin, t.id, "Answer.", None)
            .await
            .is_err()
    );
    let opening = post::Entity::find_by_id(first.id)
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(opening.state, "pending", "a refused reply approved nothing");
}
