//! Exact times in the reader's zone (issue 19, times): a member's "Your time zone" on every
//! RelativeTime, visitors' shared (cached) pages in the site's zone and marked for the browser
//! to rewrite, and the setting saved only when it names a real zone.
use crate::common::*;
use app::{
    format::exact_in,
    server::{entity::user, settings},
};
use axum::http::StatusCode;
use chrono::DateTime;
use scraper::{Html, Selector};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

async fn zone_of(db: &DatabaseConnection, username: &str) -> Option<String> {
    user::Entity::find()
        .filter(user::Column::UsernameKey.eq(username))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .time_zone
}

/// Every RelativeTime on the page: the exact time it says (title and the hidden text a screen
/// reader reads must agree), whether it asks the browser to rewrite it, and the instant.
fn times(body: &str) -> Vec<(String, bool, String)> {
    let page = Html::parse_document(body);
    let time = Selector::parse("time[datetime]").unwrap();
    let hidden = Selector::parse(".visually-hidden").unwrap();
    page.select(&time)
        .filter_map(|t| {
            let spoken: String = t.select(&hidden).next()?.text().collect();
            let title = t.value().attr("title").unwrap().to_string();
            assert_eq!(spoken, format!(" ({title})"), "{body}");
            let at = t.value().attr("datetime").unwrap().to_string();
            Some((title, t.value().attr("data-exact").is_some(), at))
        })
        .collect()
}

/// Asserts every time on the page is written in `zone` and is (or is not) left to the browser.
fn all_in(body: &str, zone: &str, automatic: bool) {
    let found = times(body);
    assert!(found.len() >= 3, "{body}");
    for (title, marked, at) in found {
        let at = DateTime::parse_from_rfc3339(&at).unwrap().to_utc();
        assert_eq!(title, exact_in(at, Some(zone)), "{at}");
        assert_eq!(marked, automatic, "{title}");
    }
}

async fn save_zone(app: &axum::Router, cookie: &str, zone: &str) -> Reply {
    let fields = [
        ("modes[answers]", "immediately"),
        ("modes[replies]", "immediately"),
        ("modes[new_topics]", "never"),
        ("modes[mentions]", "immediately"),
        ("follow_on_reply", "on"),
        ("time_zone", zone),
    ];
    post_form(
        app,
        "/api/save_mail_settings",
        &fields,
        Some(cookie),
        "/account",
    )
    .await
}

#[tokio::test]
async fn exact_times_are_in_the_readers_zone_and_visitors_pages_in_the_sites() {
    let m = demo_members().await;
    settings::put(&m.db, settings::SITE_TIME_ZONE.0, "Europe/Paris")
        .await
        .unwrap();

    // The setting, under its one name, with automatic first.
    let account = get(&m.app, "/account", Some(&m.casey)).await;
    assert!(
        account.body.contains(">Your time zone</label>"),
        "{}",
        account.body
    );
    assert!(
        account
            .body
            .contains(r#"<option value="" selected>Automatic (from your browser)</option>"#)
    );

    let res = save_zone(&m.app, &m.casey, "America/New_York").await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert_eq!(
        zone_of(&m.db, "casey").await.as_deref(),
        Some("America/New_York")
    );

    // A visitor first (the page is cached), then the member, then a visitor again.
    let visitor = get(&m.app, "/", None).await;
    all_in(&visitor.body, "Europe/Paris", true);
    let casey = get(&m.app, "/", Some(&m.casey)).await;
    all_in(&casey.body, "America/New_York", false);
    assert!(!casey.body.contains("data-exact"));
    let again = get(&m.app, "/", None).await;
    all_in(&again.body, "Europe/Paris", true);
    // Members on automatic: the site's zone, left to their browser too.
    let sam = get(&m.app, "/", Some(&m.sam)).await;
    all_in(&sam.body, "Europe/Paris", true);
    // A topic page too (posts' times).
    let topic = Html::parse_document(&casey.body)
        .select(&Selector::parse(r#"a[href^="/t/"]"#).unwrap())
        .next()
        .unwrap()
        .value()
        .attr("href")
        .unwrap()
        .to_string();
    let page = get(&m.app, &topic, Some(&m.casey)).await;
    all_in(&page.body, "America/New_York", false);

    // An unknown zone, sent by a form without JavaScript: back to the form with the reason,
    // nothing saved.
    let res = save_zone(&m.app, &m.casey, "Mars/Olympus").await;
    let back = follow(&m.app, &res, Some(&m.casey)).await;
    assert!(
        back.body.contains("Give a time zone by its name"),
        "{}",
        back.body
    );
    assert_eq!(
        zone_of(&m.db, "casey").await.as_deref(),
        Some("America/New_York")
    );

    // Back to automatic.
    let res = save_zone(&m.app, &m.casey, "").await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert_eq!(zone_of(&m.db, "casey").await, None);
    let casey = get(&m.app, "/", Some(&m.casey)).await;
    all_in(&casey.body, "Europe/Paris", true);
}
