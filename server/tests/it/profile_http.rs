//! Members' profiles: the display name and bio from /account, shown on the member's page (with
//! staff members' answers), refused as a whole with every problem beside its field.
use crate::common::*;
use axum::http::StatusCode;
use scraper::{Html, Selector};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

fn texts(doc: &Html, css: &str) -> Vec<String> {
    doc.select(&Selector::parse(css).unwrap())
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

async fn save(app: &axum::Router, cookie: &str, name: &str, bio: &str) -> Reply {
    post_form(
        app,
        "/api/save_profile",
        &[("display_name", name), ("bio", bio)],
        Some(cookie),
        "/account",
    )
    .await
}

#[tokio::test]
async fn a_member_edits_their_profile_and_their_page_shows_it_as_text() {
    let m = demo_members().await;
    let res = save(
        &m.app,
        &m.casey,
        "Casey <img src=x onerror=alert(1)>",
        "I run **ops** at Acme.\n\n<script>alert(1)</script><a href=\"javascript:alert(1)\">x</a>",
    )
    .await;
    assert_eq!(
        res.location.as_deref(),
        Some("/account?profile=saved#profile")
    );
    let account = follow(&m.app, &res, Some(&m.casey)).await;
    assert!(account.body.contains("Your profile was saved."));

    let page = get(&m.app, "/u/casey", None).await;
    let doc = Html::parse_document(&page.body);
    assert_eq!(texts(&doc, "h1"), ["Casey <img src=x onerror=alert(1)>"]);
    assert_eq!(
        doc.select(&Selector::parse("main img:not(.avatar)").unwrap())
            .count(),
        0
    );
    let bio = &texts(&doc, ".profile-bio")[0];
    assert!(bio.contains("I run ops at Acme."), "{bio}");
    assert_eq!(
        doc.select(&Selector::parse(".profile-bio strong").unwrap())
            .count(),
        1
    );
    assert_eq!(
        doc.select(&Selector::parse("script:not([type])").unwrap())
            .filter(|s| s.text().any(|t| t.contains("alert")))
            .count(),
        0
    );
    assert!(!page.body.contains("javascript:alert"));
}

#[tokio::test]
async fn every_problem_shows_beside_its_field_with_the_text_kept_and_nothing_saved() {
    let m = demo_members().await;
    let before = table_rows(&m.db, &[], &["sessions"]).await;
    let bio = format!("Long {}", "x".repeat(2000));
    let res = save(&m.app, &m.casey, "Admin", &bio).await;
    assert!(res.status.is_redirection(), "{}", res.status);
    let page = follow(&m.app, &res, Some(&m.casey)).await;
    let doc = Html::parse_document(&page.body);
    assert_eq!(
        texts(&doc, "#field-display_name-error"),
        ["That name is kept for the site and its team. Choose another, or use your username."]
    );
    assert_eq!(
        texts(&doc, "#field-bio-error"),
        ["A bio can be at most 2,000 characters."]
    );
    let name_input = doc
        .select(&Selector::parse("#field-display_name").unwrap())
        .next()
        .unwrap();
    assert_eq!(name_input.attr("value"), Some("Admin"));
    assert_eq!(name_input.attr("aria-invalid"), Some("true"));
    assert!(texts(&doc, "#field-bio")[0].starts_with("Long xxx"));
    assert_eq!(before, table_rows(&m.db, &[], &["sessions"]).await);

    // Another member's username, even in look-alike letters, is refused too.
    for name in ["SAM", "s\u{0430}m", "5am"] {
        let res = save(&m.app, &m.casey, name, "").await;
        let page = follow(&m.app, &res, Some(&m.casey)).await;
        let doc = Html::parse_document(&page.body);
        assert_eq!(
            texts(&doc, "#field-display_name-error"),
            [
                "That name reads like another member's name or a staff title. Choose another name, or use your own username."
            ],
            "{name}"
        );
    }
    // Visitors are refused.
    let res = post_fetch(
        &m.app,
        "/api/save_profile",
        &[("display_name", "x"), ("bio", "")],
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(before, table_rows(&m.db, &[], &["sessions"]).await);
}

/// A suspended member cannot change what everyone reads about them.
#[tokio::test]
async fn a_suspended_member_cannot_change_their_profile() {
    let m = demo_members().await;
    let casey = app::server::entity::user::Entity::find()
        .all(&m.db)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == "casey")
        .unwrap();
    let mut row: app::server::entity::user::ActiveModel = casey.into();
    row.suspended_until = Set(Some(chrono::Utc::now() + chrono::Duration::days(3)));
    row.update(&m.db).await.unwrap();
    let before = table_rows(&m.db, &[], &["sessions"]).await;
    let res = post_fetch(
        &m.app,
        "/api/save_profile",
        &[
            ("display_name", "Totally Legit Support"),
            ("bio", "DM me your password"),
        ],
        Some(&m.casey),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    assert!(res.body.contains("suspended"), "{}", res.body);
    assert_eq!(before, table_rows(&m.db, &[], &["sessions"]).await);
}

/// A staff member's page counts their answers; a customer's has no such line.
#[tokio::test]
async fn a_staff_members_page_counts_their_answers() {
    let m = demo_members().await;
    let doc = Html::parse_document(&get(&m.app, "/u/sam", None).await.body);
    let line = &texts(&doc, ".staff-answers")[0];
    assert!(
        line.contains("staff repl") && line.contains("official answer"),
        "{line}"
    );
    let doc = Html::parse_document(&get(&m.app, "/u/casey", None).await.body);
    assert!(texts(&doc, ".staff-answers").is_empty());
}
