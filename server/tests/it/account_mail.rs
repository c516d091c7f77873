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
        page.body.contains("about replies in topics I follow?"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!(r#"action="/unsubscribe/{token}""#))
    );
    assert_eq!(table_rows(&db, &["sessions"], &[]).await, before);

    let done = one_click(&app, &path).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.body
            .contains("no longer gets e-mails about replies in topics I follow")
    );
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
        assert!(
            page.body
                .contains("This unsubscribe link doesn&#x27;t work")
                || page.body.contains("This unsubscribe link doesn't work")
        );
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

/// The token of the newest confirmation link e-mailed to `to`.
async fn link_token(db: &DatabaseConnection, to: &str) -> String {
    use app::server::entity::email;
    let mails = email::Entity::find()
        .filter(email::Column::ToAddress.eq(to))
        .all(db)
        .await
        .unwrap();
    let body = &mails
        .iter()
        .rev()
        .find(|m| m.body.contains("/confirm-email/"))
        .expect("a confirmation link")
        .body;
    let start = body.find("/confirm-email/").unwrap() + "/confirm-email/".len();
    body[start..start + 64].to_string()
}

async fn mails_to(db: &DatabaseConnection, to: &str) -> Vec<app::server::entity::email::Model> {
    use app::server::entity::email;
    email::Entity::find()
        .filter(email::Column::ToAddress.eq(to))
        .all(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn sign_up_queues_one_confirmation_whose_link_confirms() {
    let (db, app) = demo_site().await;
    let cookie = sign_up(
        &app,
        "newbie",
        "newbie@example.com",
        "fresh violet teapot lantern",
    )
    .await;
    let mails = mails_to(&db, "newbie@example.com").await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].kind, "confirm");
    assert!(member(&db, "newbie").await.email_confirmed_at.is_none());
    let account = get(&app, "/account", Some(&cookie)).await;
    assert!(account.body.contains("not confirmed"), "{}", account.body);
    assert!(account.body.contains("/api/resend_confirmation"));

    let token = link_token(&db, "newbie@example.com").await;
    // Opening the link only asks.
    let page = get(&app, &format!("/confirm-email/{token}"), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Confirm my address"), "{}", page.body);
    assert!(member(&db, "newbie").await.email_confirmed_at.is_none());
    // The button confirms, signed in or not.
    let res = post_form(
        &app,
        "/api/confirm_email",
        &[("token", &token)],
        None,
        &format!("/confirm-email/{token}"),
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert!(member(&db, "newbie").await.email_confirmed_at.is_some());
    // A second use is refused with its message.
    let again = post_fetch(&app, "/api/confirm_email", &[("token", &token)], None).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(
        again.body.contains("This confirmation link doesn"),
        "{}",
        again.body
    );
}

#[tokio::test]
async fn a_change_of_address_mails_both_and_takes_effect_on_confirmation() {
    let (db, app) = demo_site().await;
    let casey = session_of(&app, "casey", "demo-customer-pass").await;
    let old = give_real_address(&db, "casey").await;
    let res = post_form(
        &app,
        "/api/change_email",
        &[("email", "casey.new@example.com")],
        Some(&casey),
        "/account",
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert_eq!(mails_to(&db, "casey.new@example.com").await.len(), 1);
    // The notice is the one about the change.
    let notices: Vec<_> = mails_to(&db, &old)
        .await
        .into_iter()
        .filter(|m| m.subject == "Your e-mail address is being changed")
        .collect();
    assert_eq!(notices.len(), 1);
    assert!(notices[0].body.contains("casey.new@example.com"));
    assert_eq!(member(&db, "casey").await.email, old);
    let account = get(&app, "/account", Some(&casey)).await;
    assert!(
        account
            .body
            .contains("Waiting for casey.new@example.com to confirm")
    );

    // The same address again, or another member's, is refused and writes nothing.
    let sam = give_real_address(&db, "sam").await;
    let before = table_rows(&db, &["sessions"], &[]).await;
    for (address, message) in [
        (old.as_str(), "That is already your address."),
        (
            sam.as_str(),
            "Another account already uses that e-mail address.",
        ),
    ] {
        let res = post_fetch(
            &app,
            "/api/change_email",
            &[("email", address)],
            Some(&casey),
        )
        .await;
        assert_eq!(
            res.status,
            StatusCode::BAD_REQUEST,
            "{address}: {}",
            res.body
        );
        assert!(res.body.contains(message), "{address}: {}", res.body);
    }
    assert_eq!(table_rows(&db, &["sessions"], &[]).await, before);

    let token = link_token(&db, "casey.new@example.com").await;
    let res = post_fetch(&app, "/api/confirm_email", &[("token", &token)], None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let changed = member(&db, "casey").await;
    assert_eq!(changed.email, "casey.new@example.com");
    assert!(changed.email_confirmed_at.is_some());
}

#[tokio::test]
async fn the_notifications_form_saves_and_refuses_bad_values_without_writing() {
    let (db, app) = demo_site().await;
    let casey_cookie = session_of(&app, "casey", "demo-customer-pass").await;
    let casey = member(&db, "casey").await;
    let page = get(&app, "/account", Some(&casey_cookie)).await;
    assert!(
        page.body.contains(r#"name="modes[replies]""#),
        "{}",
        page.body
    );
    assert!(page.body.contains("Europe/Paris"));
    let good = [
        ("modes[answers]", "immediately"),
        ("modes[replies]", "never"),
        ("modes[new_topics]", "digest"),
        ("modes[mentions]", "never"),
        ("follow_on_reply", "on"),
        ("time_zone", "Europe/Paris"),
    ];
    let before = table_rows(&db, &["sessions"], &[]).await;
    let mut unknown_kind = good.to_vec();
    unknown_kind[1] = ("modes[newsletters]", "never");
    let mut unknown_mode = good.to_vec();
    unknown_mode[1] = ("modes[replies]", "hourly");
    let mut bad_zone = good.to_vec();
    bad_zone[5] = ("time_zone", "Mars/Olympus");
    for (fields, message) in [
        (unknown_kind, "That is not a kind of e-mail Backyard sends."),
        (unknown_mode, "Choose immediately, daily digest or never."),
        (bad_zone, "Give a time zone by its name"),
    ] {
        let res = post_fetch(
            &app,
            "/api/save_mail_settings",
            &fields,
            Some(&casey_cookie),
        )
        .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
        assert!(res.body.contains(message), "{}", res.body);
    }
    assert_eq!(table_rows(&db, &["sessions"], &[]).await, before);

    let res = post_form(
        &app,
        "/api/save_mail_settings",
        &good,
        Some(&casey_cookie),
        "/account",
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    let saved = member(&db, "casey").await;
    assert_eq!(saved.time_zone.as_deref(), Some("Europe/Paris"));
    assert!(!saved.follow_on_start && saved.follow_on_reply);
    assert_eq!(
        preferences::mode(&db, casey.id, MailKind::Replies)
            .await
            .unwrap(),
        Mode::Never
    );
    // Signed out, nothing is saved.
    let res = post_fetch(&app, "/api/save_mail_settings", &good, None).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}
