//! The roadmap, /staff/ideas with its CSV, and burst reviews through the real router: who may see
//! and do what (the roadmap switched off, staff pages for customers and visitors, accepting or
//! rejecting a burst without the moderator role), the client addresses only on an admin's review
//! page, formula-proof CSV cells, and hostile idea titles that stay text.

use crate::common::*;
use app::{
    api::SIGNED_OUT,
    model::Role,
    server::{
        entity::{category, review_item, topic, user, vote},
        forum, ideas, settings,
        testing::insert_user,
        views::ideas::{ROADMAP_OFF, STATUS_UNKNOWN},
    },
};
use axum::{Router, http::StatusCode};
use chrono::{Duration, Utc};
use scraper::{Html, Selector};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set, sea_query::Expr,
};

/// Closes every context a title can land in, then tries markup an attacker wants to run.
const HOSTILE: &str =
    r#"=cmd|' /C calc'!A0 </title><script>alert(1)</script><img src=x onerror=alert(2)>"'"#;

struct Site {
    db: DatabaseConnection,
    app: Router,
    casey: String,
    sam: String,
    moderator: String,
    admin: String,
    idea: topic::Model,
}

/// The demo with "Product feedback" made an ideas category, a planned idea with a hostile title,
/// and a moderator (morgan).
async fn site() -> Site {
    let (db, app) = demo_site().await;
    category::Entity::update_many()
        .col_expr(category::Column::Kind, Expr::value("ideas"))
        .filter(category::Column::Slug.eq("product-feedback"))
        .exec(&db)
        .await
        .unwrap();
    let moderator = sign_up(
        &app,
        "morgan",
        "morgan@example.com",
        "a long enough password",
    )
    .await;
    let mut morgan: user::ActiveModel = member(&db, "morgan").await.into();
    morgan.role = Set(Role::Moderator.as_str().into());
    morgan.update(&db).await.unwrap();
    let casey = member(&db, "casey").await;
    let (t, _) = forum::start_topic(&db, &casey, "product-feedback", HOSTILE, "Please.", None)
        .await
        .unwrap();
    let mut row: topic::ActiveModel = t.into();
    row.status = Set("planned".into());
    row.status_changed_at = Set(Some(Utc::now()));
    let idea = row.update(&db).await.unwrap();
    Site {
        casey: session_of(&app, "casey", "demo-customer-pass").await,
        sam: session_of(&app, "sam", "demo-staff-pass").await,
        admin: session_of(&app, "admin", "demo-admin-pass").await,
        moderator,
        idea,
        db,
        app,
    }
}

async fn member(db: &DatabaseConnection, name: &str) -> user::Model {
    user::Entity::find()
        .filter(user::Column::Username.eq(name))
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

/// Everything but sessions: equal before and after means a request wrote nothing.
async fn dump(db: &DatabaseConnection) -> std::collections::BTreeMap<String, Vec<String>> {
    table_rows(db, &["sessions", "login_failures", "seaql_migrations"], &[]).await
}

/// The page parsed as a browser parses it: no element the hostile title could have made.
fn assert_inert(body: &str, what: &str) {
    let doc = Html::parse_document(body);
    for (selector, why) in [
        ("img[onerror]", "an event handler"),
        ("body script:not([nonce])", "a script"),
        ("body title", "a title element in the body"),
    ] {
        let count = |s: &str| doc.select(&Selector::parse(s).unwrap()).count();
        // A sparkline's own <title> (its text alternative) is the page's.
        let found = count(selector)
            - if selector == "body title" {
                count("svg title")
            } else {
                0
            };
        assert_eq!(found, 0, "{what}: the hostile title made {why}");
    }
    let text: String = doc.root_element().text().collect();
    assert!(
        text.contains("</title><script>alert(1)</script><img src=x onerror=alert(2)>"),
        "{what}: the title is shown whole, as text"
    );
}

#[tokio::test]
async fn the_roadmap_switched_off_is_not_found_except_to_staff() {
    let s = site().await;
    let on = get(&s.app, "/roadmap", None).await;
    assert_eq!(on.status, StatusCode::OK);
    assert!(on.body.contains("Planned") && on.body.contains("Done"));
    assert_inert(&on.body, "/roadmap");
    assert!(
        get(&s.app, "/", None)
            .await
            .body
            .contains(r#"href="/roadmap""#),
        "linked in the footer"
    );

    settings::put(&s.db, settings::ROADMAP_PUBLIC, "false")
        .await
        .unwrap();
    // A different address than the one above: visitors' pages are cached for a few seconds.
    for (who, cookie) in [("visitor", None), ("customer", Some(s.casey.as_str()))] {
        let res = get(&s.app, "/roadmap?off", cookie).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{who}");
        assert!(res.body.contains(ROADMAP_OFF), "{who}: {}", res.body);
        assert!(!res.body.contains("onerror=alert(2)"), "{who}");
    }
    for cookie in [&s.sam, &s.moderator, &s.admin] {
        let res = get(&s.app, "/roadmap", Some(cookie)).await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(res.body.contains("only staff see this preview"));
        assert_inert(&res.body, "/roadmap preview");
    }
}

#[tokio::test]
async fn staff_ideas_and_its_csv_are_for_staff_only() {
    let s = site().await;
    for (who, cookie) in [("visitor", None), ("customer", Some(s.casey.as_str()))] {
        let page = get(&s.app, "/staff/ideas", cookie).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{who}");
        assert!(!page.body.contains("onerror=alert(2)"), "{who}");
        let csv = get(&s.app, "/staff/ideas.csv", cookie).await;
        assert_eq!(csv.status, StatusCode::FORBIDDEN, "{who}");
        assert!(!csv.body.contains("calc"), "{who}: {}", csv.body);
    }
    let csv = get(&s.app, "/staff/ideas.csv", None).await;
    assert!(csv.body.contains(SIGNED_OUT));
    let csv = get(&s.app, "/staff/ideas.csv", Some(&s.casey)).await;
    assert!(csv.body.contains("Only staff and above can do that."));

    let page = get(&s.app, "/staff/ideas", Some(&s.sam)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"href="/staff/ideas.csv""#));
    assert!(
        page.body
            .contains(r#">12 weeks: 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0</title>"#)
    );
    assert_inert(&page.body, "/staff/ideas");
    // The filters come back in the form and the CSV link.
    let filtered = get(
        &s.app,
        "/staff/ideas?category=product-feedback&status=planned&verified=on&from=2025-01-01",
        Some(&s.sam),
    )
    .await;
    assert_eq!(filtered.status, StatusCode::OK);
    assert!(filtered.body.contains(
        "/staff/ideas.csv?category=product-feedback&amp;status=planned&amp;from=2025-01-01&amp;verified=on"
    ));
    // "verified=0" in a hand-written link means off, not on.
    let off = get(&s.app, "/staff/ideas?verified=0", Some(&s.sam)).await;
    assert!(off.body.contains("Votes (with pending)"), "{}", off.body);
    assert!(!off.body.contains("verified=on"));

    let csv = get(&s.app, "/staff/ideas.csv?status=planned", Some(&s.sam)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        csv.header("content-disposition"),
        Some(r#"attachment; filename="ideas.csv""#)
    );
    let mut lines = csv.body.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("Idea,Link,Category,Status,Votes,")
    );
    // The title starts with "=": a spreadsheet would run it; the apostrophe keeps it text, and
    // its quotes are doubled inside a quoted cell.
    let line = lines.next().unwrap();
    assert!(
        line.starts_with(r#""'=cmd|' /C calc'!A0 </title><script>alert(1)</script><img src=x onerror=alert(2)>""'","#),
        "{line}"
    );
    assert!(line.contains(&format!("/t/{}/", s.idea.id)));
    assert_eq!(lines.next(), None);

    // A bad filter: the message, nothing written.
    let before = dump(&s.db).await;
    let bad = get(&s.app, "/staff/ideas.csv?status=shipped", Some(&s.sam)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains(STATUS_UNKNOWN), "{}", bad.body);
    let bad = get(&s.app, "/staff/ideas?status=shipped", Some(&s.sam)).await;
    assert!(bad.body.contains(STATUS_UNKNOWN));
    assert_eq!(dump(&s.db).await, before);
}

/// A burst: more votes than the threshold on the idea within a minute, from accounts created a
/// minute apart, from one address range. Gives its review item's id.
async fn burst(s: &Site) -> i64 {
    let limit = settings::number(&s.db, settings::VOTE_BURST_VOTES)
        .await
        .unwrap();
    let now = Utc::now();
    for i in 0..=limit {
        let mut row: user::ActiveModel = insert_user(&s.db, 1000 + i).await.into();
        row.created_at = Set(now - Duration::days(30) + Duration::minutes(i));
        let voter = row.update(&s.db).await.unwrap();
        let client = format!("198.51.100.{}", 20 + i).parse().ok();
        ideas::vote_at(&s.db, &voter, s.idea.id, client, now)
            .await
            .unwrap();
    }
    review_item::Entity::find()
        .filter(review_item::Column::Kind.eq("vote_burst"))
        .one(&s.db)
        .await
        .unwrap()
        .expect("the burst is in the review queue")
        .id
}

#[tokio::test]
async fn bursts_are_decided_by_moderators_and_addresses_shown_to_admins_only() {
    let s = site().await;
    let counted = || async {
        vote::Entity::find()
            .filter(vote::Column::State.eq("counted"))
            .count(&s.db)
            .await
            .unwrap()
    };
    // The demo's own votes count; the burst adds none.
    let counted_before = counted().await;
    let item = burst(&s).await;
    assert_eq!(counted().await, counted_before, "the burst's votes wait");

    let item_id = item.to_string();
    let before = dump(&s.db).await;
    for path in ["/api/accept_vote_burst", "/api/reject_vote_burst"] {
        for (who, cookie, expected) in [
            (
                "customer",
                Some(s.casey.as_str()),
                "Only moderator and above can do that.",
            ),
            (
                "staff",
                Some(s.sam.as_str()),
                "Only moderator and above can do that.",
            ),
            ("visitor", None, SIGNED_OUT),
        ] {
            assert_refused(
                &s.app,
                path,
                &[("item_id", &item_id)],
                who,
                cookie,
                expected,
            )
            .await;
        }
    }
    assert_eq!(
        dump(&s.db).await,
        before,
        "a refused decision wrote nothing"
    );

    let queue = "/admin/review?kind=vote_burst";
    let as_moderator = get(&s.app, queue, Some(&s.moderator)).await;
    assert_eq!(as_moderator.status, StatusCode::OK);
    assert!(as_moderator.body.contains("Bursts of votes"));
    assert!(as_moderator.body.contains("user1000"));
    assert!(
        as_moderator.body.contains("Accept votes") && as_moderator.body.contains("Reject votes")
    );
    assert!(
        !as_moderator.body.contains("198.51.100."),
        "no addresses for moderators"
    );
    assert!(
        !as_moderator.body.contains(r#"value="hide""#),
        "no post actions on a burst"
    );
    assert_inert(&as_moderator.body, "/admin/review");
    let as_admin = get(&s.app, queue, Some(&s.admin)).await;
    assert!(as_admin.body.contains("198.51.100.20"));

    // Deciding twice: the second is refused with its message, and changes nothing.
    let res = post_form(
        &s.app,
        "/api/accept_vote_burst",
        &[("item_id", &item_id)],
        Some(&s.moderator),
        queue,
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    let limit = settings::number(&s.db, settings::VOTE_BURST_VOTES)
        .await
        .unwrap();
    assert_eq!(counted().await as i64, counted_before as i64 + limit + 1);
    let after = dump(&s.db).await;
    let again = post_fetch(
        &s.app,
        "/api/reject_vote_burst",
        &[("item_id", &item_id)],
        Some(&s.moderator),
    )
    .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(
        again
            .body
            .contains("That review item is not a burst of votes waiting for a decision.")
    );
    assert_eq!(dump(&s.db).await, after);
}

#[tokio::test]
async fn admins_switch_the_roadmap_and_set_the_vote_thresholds() {
    let s = site().await;
    let page = get(&s.app, "/admin/settings", Some(&s.admin)).await;
    for field in [
        r#"name="roadmap_public""#,
        r#"name="vote_min_account_hours""#,
        r#"name="vote_burst_votes""#,
        r#"name="vote_burst_window_minutes""#,
        r#"name="vote_burst_signup_minutes""#,
    ] {
        assert!(page.body.contains(field), "{field}");
    }
    let form = |burst: &'static str| {
        vec![
            ("site_name", "Backyard"),
            ("tagline", "Talk to the team."),
            ("welcome_message", "Welcome!"),
            ("signup_mode", "open"),
            ("accountability_public", "on"),
            ("moderation_log_public", "on"),
            ("search_engines_index", "on"),
            ("vote_min_account_hours", "48"),
            ("vote_burst_votes", burst),
            ("vote_burst_window_minutes", "30"),
            ("vote_burst_signup_minutes", "15"),
        ]
    };
    // A word for a number: the message, and nothing saved (the roadmap stays on too).
    let before = dump(&s.db).await;
    let res = post_fetch(
        &s.app,
        "/api/save_site_settings",
        &form("lots"),
        Some(&s.admin),
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("Give a whole number"), "{}", res.body);
    assert_eq!(dump(&s.db).await, before);
    // Staff may not save them.
    assert_refused(
        &s.app,
        "/api/save_site_settings",
        &form("5"),
        "staff",
        Some(&s.sam),
        "Only admin and above can do that.",
    )
    .await;
    assert_eq!(dump(&s.db).await, before);

    let res = post_fetch(
        &s.app,
        "/api/save_site_settings",
        &form("5"),
        Some(&s.admin),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    for (key, value) in [
        (settings::VOTE_MIN_ACCOUNT_HOURS, 48),
        (settings::VOTE_BURST_VOTES, 5),
        (settings::VOTE_BURST_WINDOW_MINUTES, 30),
        (settings::VOTE_BURST_SIGNUP_MINUTES, 15),
    ] {
        assert_eq!(
            settings::number(&s.db, key).await.unwrap(),
            value,
            "{}",
            key.0
        );
    }
    // The roadmap's box was left unticked: it is off.
    assert!(
        !settings::flag(&s.db, settings::ROADMAP_PUBLIC)
            .await
            .unwrap()
    );
    assert_eq!(
        get(&s.app, "/roadmap?after-save", None).await.status,
        StatusCode::NOT_FOUND
    );
}
