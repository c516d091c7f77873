//! Confirmed addresses, e-mail preferences and one-click unsubscribe through the real router.
use crate::common::*;
use app::server::{
    entity::user,
    notify::preferences::{self, MailKind, Mode},
    signing,
};
use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

async fn member(db: &DatabaseConnection, username: &str) -> user::Model {
    user::Entity::find()
        .filter(user::Column::UsernameKey.eq(username))
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

/// A mail client's one-click unsubscribe (RFC 8058): from its own server, no cookie, no Origin,
/// no Sec-Fetch-Site, no token of this site.
async fn one_click(app: &axum::Router, path: &str) -> Reply {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("List-Unsubscribe=One-Click"))
        .unwrap();
    send(app, req).await
}

#[tokio::test]
async fn one_click_unsubscribe_stops_that_kind_without_cookies_and_a_get_changes_nothing() {
    let (db, app) = demo_site().await;
    let casey = member(&db, "casey").await;
    let token = signing::unsubscribe_token(&db, casey.id, "replies")
        .await
        .unwrap();
    let path = format!("/unsubscribe/{token}");
    let before = table_rows(&db, &["sessions"], &[]).await;

    // Opening the link (as a link scanner does) only asks.
    let page = get(&app, &path, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Stop e-mails about replies in topics I follow for"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!(r#"action="/unsubscribe/{token}""#)));
    assert_eq!(table_rows(&db, &["sessions"], &[]).await, before);

    let done = one_click(&app, &path).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("no longer gets e-mails about replies in topics I follow"));
    assert!(done.body.contains("/account#notifications"));
    assert_eq!(
        preferences::mode(&db, casey.id, MailKind::Replies)
            .await
            .unwrap(),
        Mode::Never
    );
    // The other kinds stay.
    assert_eq!(
        preferences::mode(&db, casey.id, MailKind::Answers)
            .await
            .unwrap(),
        Mode::Immediately
    );
}

#[tokio::test]
async fn a_bad_unsubscribe_token_is_refused_and_changes_nothing() {
    let (db, app) = demo_site().await;
    let casey = member(&db, "casey").await;
    let sam = member(&db, "sam").await;
    let token = signing::unsubscribe_token(&db, casey.id, "replies")
        .await
        .unwrap();
    let signature = token.rsplit_once('-').unwrap().1;
    let before = table_rows(&db, &["sessions"], &[]).await;
    for bad in [
        format!("{}.replies-{signature}", sam.id),
        format!("{}.mentions-{signature}", casey.id),
        format!("{token}0"),
        "nonsense".to_string(),
    ] {
        let path = format!("/unsubscribe/{bad}");
        let res = one_click(&app, &path).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{bad}: {}", res.body);
        assert!(
            res.body.contains("This unsubscribe link doesn't work"),
            "{}",
            res.body
        );
        let page = get(&app, &path, None).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{bad}");
        assert!(page.body.contains("This unsubscribe link doesn&#x27;t work") || page.body.contains("This unsubscribe link doesn't work"));
    }
    assert_eq!(table_rows(&db, &["sessions"], &[]).await, before);
}

#[tokio::test]
async fn only_the_unsubscribe_path_takes_writes_without_origin_or_token() {
    let (_db, app) = demo_site().await;
    for path in [
        "/unsubscribe/x/y",
        "/unsubscribe/",
        "/unsubscribex/abc",
        "/api/log_out",
        "/api/save_mail_settings",
    ] {
        let res = one_click(&app, path).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}: {}", res.body);
    }
}
