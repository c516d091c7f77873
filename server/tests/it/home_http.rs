//! The home page through the real router (issue 19): the latest topics across categories, the
//! "new" markers for a signed-in member and never for a visitor (whose page is shared by the
//! cache), Mark all read without JavaScript, the response headline linking to /accountability,
//! and the admins' introduction through the content pipeline.

use crate::common::*;
use app::server::{entity::user, forum, settings};
use axum::http::StatusCode;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::time::Duration;

async fn member(db: &DatabaseConnection, username: &str) -> user::Model {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

/// The markers on a page, as the HTML has them.
fn badges(body: &str) -> usize {
    body.matches(r#"class="unread-badge""#).count()
}

/// The latest-topics row of the topic titled `title`, as HTML.
fn row_of<'a>(body: &'a str, title: &str) -> &'a str {
    let at = body
        .find(&format!(">{title}</a>"))
        .unwrap_or_else(|| panic!("{title:?} is not listed"));
    let start = body[..at].rfind("<li").unwrap();
    let end = at + body[at..].find("</li>").unwrap();
    &body[start..end]
}

#[tokio::test]
async fn members_see_what_is_new_visitors_never_do_and_mark_all_read_clears_it() {
    let m = demo_members().await;
    let sam = member(&m.db, "sam").await;
    // After every demo account exists, so the topic is new to casey.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (t, _) = forum::start_topic(
        &m.db,
        &sam,
        "questions",
        "Maintenance window on Sunday",
        "We will be down for 10 minutes.",
        None,
    )
    .await
    .unwrap();

    let visitor = get(&m.app, "/", None).await;
    assert_eq!(visitor.status, StatusCode::OK);
    assert!(visitor.body.contains("Latest topics"));
    assert!(visitor.body.contains("Maintenance window on Sunday"));
    assert_eq!(badges(&visitor.body), 0, "a visitor is shown no markers");
    assert!(!visitor.body.contains("Mark all read"));

    let casey = get(&m.app, "/", Some(&m.casey)).await;
    let row = row_of(&casey.body, "Maintenance window on Sunday");
    assert!(row.contains(r#"class="unread-badge">New<"#), "{row}");
    assert!(casey.body.contains("Mark all read"));
    // The category holding it says so too.
    assert!(
        casey.body.contains(r#"class="unread-badge">1 new<"#),
        "the category's marker"
    );
    // Its author has nothing new in it.
    let sam_home = get(&m.app, "/", Some(&m.sam)).await;
    assert!(!row_of(&sam_home.body, "Maintenance window on Sunday").contains("unread-badge"));

    // Reading the topic marks it read...
    let read = get(&m.app, &format!("/t/{}/{}", t.id, t.slug), Some(&m.casey)).await;
    assert_eq!(read.status, StatusCode::OK);
    let casey = get(&m.app, "/", Some(&m.casey)).await;
    assert!(!row_of(&casey.body, "Maintenance window on Sunday").contains("unread-badge"));
    // ...until someone replies.
    forum::reply(&m.db, &sam, t.id, "Moved to 02:00 UTC.", None)
        .await
        .unwrap();
    let casey = get(&m.app, "/", Some(&m.casey)).await;
    let row = row_of(&casey.body, "Maintenance window on Sunday");
    assert!(row.contains(r#"class="unread-badge">1 new<"#), "{row}");
    assert!(row.contains("last by "), "the last poster is named: {row}");

    // Mark all read: a plain form, back to the home page, nothing new left.
    let res = post_form(&m.app, "/api/mark_all_read", &[], Some(&m.casey), "/").await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    let back = follow(&m.app, &res, Some(&m.casey)).await;
    assert_eq!(badges(&back.body), 0, "{}", back.body);
    // A visitor cannot.
    assert_refused(
        &m.app,
        "/api/mark_all_read",
        &[],
        "a visitor",
        None,
        "Log in first",
    )
    .await;
}

#[tokio::test]
async fn the_headline_links_to_accountability_and_goes_with_it() {
    let m = demo_members().await;
    let home = get(&m.app, "/", None).await;
    let at = home
        .body
        .find(r#"class="response-headline""#)
        .expect("the headline");
    let headline = &home.body[at..at + home.body[at..].find("</p>").unwrap()];
    assert!(headline.contains(r#"href="/accountability""#), "{headline}");
    assert!(headline.contains("first staff reply"), "{headline}");
    // The demo's answered topic gives a median: written with its units, never a bare "m".
    assert!(
        headline.contains(" min<") || headline.contains(" h") || headline.contains("day"),
        "{headline}"
    );
    // Switched off with the page it summarises.
    settings::put(&m.db, settings::ACCOUNTABILITY_PUBLIC, "false")
        .await
        .unwrap();
    let home = get(&m.app, "/", Some(&m.casey)).await;
    assert!(!home.body.contains("response-headline"));
}

#[tokio::test]
async fn hostile_titles_on_the_home_page_stay_text() {
    let m = demo_members().await;
    let sam = member(&m.db, "sam").await;
    let title = r#"</title><script>alert(1)</script><img src=x onerror=alert(2)>"#;
    forum::start_topic(&m.db, &sam, "questions", title, "Body.", None)
        .await
        .unwrap();
    for cookie in [None, Some(m.casey.as_str())] {
        let home = get(&m.app, "/", cookie).await;
        assert!(!home.body.contains("<script>alert(1)"), "{cookie:?}");
        assert!(!home.body.contains("<img src=x"), "{cookie:?}");
        assert!(
            home.body
                .contains("&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{cookie:?}"
        );
    }
}

#[tokio::test]
async fn the_introduction_is_an_admins_markdown_made_safe() {
    let m = demo_members().await;
    let home = get(&m.app, "/", None).await;
    assert!(
        home.body.contains(settings::HOME_INTRO.1),
        "the default sentence"
    );

    let intro = "**Welcome** to [our docs](https://docs.example.com).\n\n<script>alert(1)</script>";
    let res = post_form(
        &m.app,
        "/api/save_home_intro",
        &[("home_intro", intro)],
        Some(&m.admin),
        "/admin/settings",
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    let home = get(&m.app, "/", None).await;
    assert!(
        home.body.contains("<strong>Welcome</strong>"),
        "{}",
        home.body
    );
    assert!(home.body.contains(r#"href="https://docs.example.com""#));
    assert!(!home.body.contains("<script>alert(1)"));
    // The admins' form shows the source.
    let form = get(&m.app, "/admin/settings", Some(&m.admin)).await;
    assert!(form.body.contains("**Welcome** to [our docs]"));

    // Too long: refused with the bound, nothing written.
    let before = settings::get(&m.db, settings::HOME_INTRO.0).await.unwrap();
    let res = post_fetch(
        &m.app,
        "/api/save_home_intro",
        &[("home_intro", &"x".repeat(2001))],
        Some(&m.admin),
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    assert!(
        res.body
            .contains("The home page introduction can be at most 2,000 characters."),
        "{}",
        res.body
    );
    assert_eq!(
        settings::get(&m.db, settings::HOME_INTRO.0).await.unwrap(),
        before
    );

    // Only admins: staff and customers are refused, nothing written.
    for (who, cookie) in [("staff", &m.sam), ("a customer", &m.casey)] {
        let res = post_fetch(
            &m.app,
            "/api/save_home_intro",
            &[("home_intro", "Taken over")],
            Some(cookie),
        )
        .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{who}: {}", res.body);
        let res = post_fetch(&m.app, "/api/home_intro", &[], Some(cookie)).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{who} reads the source");
    }
    assert_eq!(
        settings::get(&m.db, settings::HOME_INTRO.0).await.unwrap(),
        before
    );

    // Emptied: no introduction at all.
    let res = post_form(
        &m.app,
        "/api/save_home_intro",
        &[("home_intro", "  ")],
        Some(&m.admin),
        "/admin/settings",
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND);
    let home = get(&m.app, "/", None).await;
    assert!(!home.body.contains("home-intro-text"));
}

#[tokio::test]
async fn the_latest_topics_page_on_and_stop_at_the_last_page() {
    let m = demo_members().await;
    let sam = member(&m.db, "sam").await;
    for n in 0..25 {
        forum::start_topic(
            &m.db,
            &sam,
            "questions",
            &format!("Release note number {n}"),
            "Body.",
            None,
        )
        .await
        .unwrap();
    }
    let first = get(&m.app, "/", None).await;
    assert!(first.body.contains("Release note number 24"));
    assert!(first.body.contains(r#"href="/?page=2""#), "a link to more");
    let second = get(&m.app, "/?page=2", None).await;
    assert_eq!(second.status, StatusCode::OK);
    assert!(second.body.contains("Latest topics, page 2"));
    assert!(!second.body.contains("Release note number 24"));
    let past = get(&m.app, "/?page=99", None).await;
    assert_eq!(past.status, StatusCode::NOT_FOUND);
}
