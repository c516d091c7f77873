//! Sign-up cannot be turned against others: no mail-bombing through someone else's address, one
//! plain address per account, no names that pass for someone else or for the site, no
//! passwords an attacker tries first. Each refusal has its message and writes nothing.
use crate::common::*;
use app::server::{
    accounts,
    accounts::sign_in,
    entity::{email, user},
};
use axum::{Router, http::StatusCode};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

const STRONG: &str = "fresh violet teapot lantern";

async fn try_sign_up(app: &Router, username: &str, email: &str, password: &str) -> Reply {
    let token = signup_token(app).await;
    post_fetch(
        app,
        "/api/sign_up",
        &[
            ("username", username),
            ("email", email),
            ("password", password),
            ("form_token", &token),
        ],
        None,
    )
    .await
}

async fn counts(db: &DatabaseConnection) -> (u64, u64) {
    (
        user::Entity::find().count(db).await.unwrap(),
        email::Entity::find().count(db).await.unwrap(),
    )
}

/// Each case is refused with 400 and `message`, and no account or e-mail is written.
async fn assert_each_refused(
    db: &DatabaseConnection,
    app: &Router,
    cases: &[(&str, &str, &str)],
    message: &str,
) {
    let before = counts(db).await;
    for (username, address, password) in cases {
        let res = try_sign_up(app, username, address, password).await;
        assert_eq!(
            res.status,
            StatusCode::BAD_REQUEST,
            "{username:?}/{address:?}/{password:?}: {}",
            res.body
        );
        assert!(
            res.body.contains(message),
            "{username:?}/{address:?}/{password:?}: expected {message:?}, got {}",
            res.body
        );
    }
    assert_eq!(
        counts(db).await,
        before,
        "a refused sign-up wrote something"
    );
}

#[tokio::test]
async fn sign_ups_giving_someone_elses_address_mail_them_once_a_day() {
    let (db, app) = demo_site().await;
    let victim = give_real_address(&db, "casey").await;
    let victim = victim.as_str();
    for i in 0..30 {
        let name = crate::safe_redirects::DISTINCT_NAMES[i];
        let res = try_sign_up(&app, name, victim, STRONG).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    }
    let told = email::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.to_address.eq_ignore_ascii_case(victim))
        // The demo's own notifications to casey are not from the sign-ups.
        .filter(|m| m.subject == "A new account gave your address")
        .count();
    assert_eq!(told, 1);
}

#[tokio::test]
async fn an_address_is_one_plain_address() {
    let (db, app) = demo_site().await;
    let cases: Vec<(String, &str, &str)> = [
        "attacker@evil.example,root",
        "attacker@evil.example, victim@example.com",
        "attacker@evil.example;root@example.com",
        "Someone <attacker@evil.example>",
        "<attacker@evil.example>",
        "\"quoted\"@evil.example",
        "attacker@evil.example\r\nBcc: root@example.com",
        "attacker@evil.example\u{1}",
        "attacker(comment)@evil.example",
        "a b@evil.example",
        "tab\t@evil.example",
    ]
    .iter()
    .enumerate()
    .map(|(i, a)| {
        (
            crate::safe_redirects::DISTINCT_NAMES[i].to_string(),
            *a,
            STRONG,
        )
    })
    .collect();
    let cases: Vec<(&str, &str, &str)> =
        cases.iter().map(|(u, a, p)| (u.as_str(), *a, *p)).collect();
    assert_each_refused(&db, &app, &cases, accounts::EMAIL_ONE_ADDRESS).await;
}

#[tokio::test]
async fn names_that_pass_for_someone_else_or_the_site_are_refused() {
    let (db, app) = demo_site().await;
    let cases: Vec<(&str, &str, &str)> = [
        "admln",
        "adm1n",
        "ADMIN",
        "admin.",
        "a.d.m.i.n",
        "s4m",
        "5am",
        "ca5ey",
        "c4sey",
        "support",
        "moderator",
        "m0derator",
        "administrator",
        "staff",
        "root",
        "backyard",
        "Back-yard",
        "8ackyard",
    ]
    .iter()
    .map(|u| (*u, "lookalike@example.com", STRONG))
    .collect();
    assert_each_refused(&db, &app, &cases, accounts::USERNAME_LOOKALIKE).await;
    // The site's own name, whatever the admins call it.
    app::server::settings::put(&db, app::server::settings::SITE_NAME.0, "Acme Help")
        .await
        .unwrap();
    assert_each_refused(
        &db,
        &app,
        &[
            ("acme-help", "a@example.com", STRONG),
            ("AcmeHelp", "a@example.com", STRONG),
        ],
        accounts::USERNAME_LOOKALIKE,
    )
    .await;
    // Different enough names are fine.
    let res = try_sign_up(&app, "samantha", "samantha@example.com", STRONG).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

#[tokio::test]
async fn the_shape_of_a_deleted_account_is_reserved_and_deleting_still_works() {
    let d = demo_members().await;
    let before = counts(&d.db).await;
    let next_id = before.0 as i64 + 1;
    for name in [
        format!("deleted-{next_id}"),
        "deleted-14".to_string(),
        "Deleted-1".to_string(),
        "deleted_3".to_string(),
        "de1eted-2".to_string(),
    ] {
        let res = try_sign_up(&d.app, &name, "gone@example.com", STRONG).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{name}: {}", res.body);
        assert!(
            res.body.contains(accounts::USERNAME_LOOKALIKE),
            "{name}: {}",
            res.body
        );
    }
    assert_eq!(counts(&d.db).await, before);

    // An account made next gets id `next_id`; deleting it works and takes the reserved name.
    let cookie = sign_up(&d.app, "leaving", "leaving@example.com", STRONG).await;
    drop(cookie);
    let leaving = user::Entity::find_by_id(next_id)
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(leaving.username, "leaving");
    let res = post_fetch(
        &d.app,
        "/api/delete_account",
        &[
            ("user_id", &next_id.to_string()),
            ("posts", "keep"),
            ("confirmed", "yes"),
        ],
        Some(&d.admin),
    )
    .await;
    assert!(res.status.is_success(), "{}", res.body);
    let gone = user::Entity::find_by_id(next_id)
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone.username, format!("deleted-{next_id}"));
}

#[tokio::test]
async fn passwords_an_attacker_tries_first_are_refused() {
    let (db, app) = demo_site().await;
    assert_each_refused(
        &db,
        &app,
        &[
            ("quentin", "quentin@example.com", "12345678901"),
            ("quentin", "quentin@example.com", "iloveyou2024"),
            ("quentin", "quentin@example.com", "p@ssw0rd1234"),
        ],
        sign_in::COMMON_PASSWORD,
    )
    .await;
    assert_each_refused(
        &db,
        &app,
        &[
            ("quentin", "quentin@example.com", "demo-admin-pass"),
            ("quentin", "quentin@example.com", "demo-staff-pass"),
            ("quentin", "quentin@example.com", "demo-customer-pass"),
            ("quentin", "quentin@example.com", "quentin lights the lamps"),
            (
                "quentin",
                "q.tarantella@example.com",
                "tarantella dances away",
            ),
            ("quentin", "quentin@example.com", "my backyard shed is blue"),
            ("quentin", "quentin@example.com", "backyard123"),
            ("quentin", "quentin@example.com", "Backyard2024!"),
        ],
        sign_in::CONTEXT_PASSWORD,
    )
    .await;
    app::server::settings::put(&db, app::server::settings::SITE_NAME.0, "Acme Help")
        .await
        .unwrap();
    assert_each_refused(
        &db,
        &app,
        &[(
            "quentin",
            "quentin@example.com",
            "acme help forever and ever",
        )],
        sign_in::CONTEXT_PASSWORD,
    )
    .await;
}
