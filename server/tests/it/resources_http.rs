//! Bounded work per request: password hashing refuses what it cannot queue (503 with
//! Retry-After), and the Markdown preview is for signed-in members.
use app::server::auth::{HASHING_BUSY, hashing_queue};
use axum::http::StatusCode;

use crate::common::*;

/// With every hashing slot and queue place taken, a log-in is answered 503 at once with
/// Retry-After and the message, and nothing is written: no session, no failed attempt counted
/// (the password was never checked). The queue is the process's own, so this test holds it only
/// until its one request is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_in_beyond_the_hashing_queue_is_answered_503_with_retry_after() {
    let (db, app) = demo_site().await;
    let failures_before = failed_log_ins(&db).await;
    let queue = hashing_queue();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let released = std::sync::Arc::new(std::sync::Mutex::new(released));
    let blockers: Vec<_> = (0..queue.capacity())
        .map(|_| {
            let released = released.clone();
            tokio::spawn(queue.run(move || {
                let _ = released.lock().unwrap().recv();
            }))
        })
        .collect();
    while queue.admitted() < queue.capacity() {
        tokio::task::yield_now().await;
    }
    let res = post_fetch(
        &app,
        "/api/log_in",
        &[("login", "casey"), ("password", "demo-customer-pass")],
        None,
    )
    .await;
    for _ in &blockers {
        release.send(()).unwrap();
    }
    for blocker in blockers {
        blocker.await.unwrap().unwrap();
    }
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{}", res.body);
    assert_eq!(res.header("retry-after"), Some("2"));
    assert!(res.body.contains(HASHING_BUSY), "{}", res.body);
    assert_eq!(res.session_cookie(), None, "not signed in");
    assert_eq!(failed_log_ins(&db).await, failures_before);
    // Once the queue has room, the same log-in works.
    assert!(
        log_in(&app, "casey", "demo-customer-pass", None)
            .await
            .session_cookie()
            .is_some()
    );
}

async fn failed_log_ins(db: &sea_orm::DatabaseConnection) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    app::server::entity::login_failure::Entity::find()
        .count(db)
        .await
        .unwrap()
}

/// The live preview (the composer's fetch) renders only for signed-in members: a visitor is
/// answered 401 with the message, before anything is rendered.
#[tokio::test]
async fn the_preview_is_for_signed_in_members() {
    use app::api::forum::PREVIEW_SIGNED_OUT;
    let d = demo_members().await;
    let body = [("body", "Is **this** right?")];
    let visitor = post_fetch(&d.app, "/api/preview", &body, None).await;
    assert_eq!(visitor.status, StatusCode::UNAUTHORIZED, "{}", visitor.body);
    assert!(
        visitor.body.contains(PREVIEW_SIGNED_OUT),
        "{}",
        visitor.body
    );
    assert!(!visitor.body.contains("<strong>"), "nothing rendered");
    let member = post_fetch(&d.app, "/api/preview", &body, Some(&d.casey)).await;
    assert_eq!(member.status, StatusCode::OK, "{}", member.body);
    assert!(
        member.body.contains("<strong>this</strong>"),
        "{}",
        member.body
    );
}

/// Without JavaScript, "Preview" from a visitor goes to log in (keeping the text, as posting
/// does) instead of rendering; nothing is written.
#[tokio::test]
async fn a_visitor_previewing_without_javascript_is_sent_to_log_in() {
    let d = demo_members().await;
    let posts_before = post_count(&d.db).await;
    let res = post_form(
        &d.app,
        "/api/reply",
        &[
            ("topic_id", "1"),
            ("body", "Is **this** right?"),
            ("form_token", ""),
            ("preview", "1"),
        ],
        None,
        "/t/1",
    )
    .await;
    let location = res.location.clone().unwrap_or_default();
    assert!(location.starts_with("/login?next="), "{location}");
    let cookie = res.session_cookie().expect("the text is kept in a session");
    let page = get(&d.app, "/t/1", Some(&cookie)).await;
    assert!(
        !page.body.contains("<strong>this</strong>"),
        "no rendered preview for a visitor"
    );
    assert_eq!(post_count(&d.db).await, posts_before);
}

async fn post_count(db: &sea_orm::DatabaseConnection) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    app::server::entity::post::Entity::find()
        .count(db)
        .await
        .unwrap()
}
