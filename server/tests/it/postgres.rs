//! The account flow on a real PostgreSQL: same migrations, same code, same router.
//! Uses DATABASE_URL when it is a postgres:// URL, else the local server at 127.0.0.1:5432.
//! Skipped (with a note) when no server answers, except under CI=true, where it must run.

use crate::common::*;
use axum::http::StatusCode;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

const PASSWORD: &str = "a long enough password";

/// A fresh, uniquely named database on the server; dropped again by `drop_database`.
pub async fn fresh_database() -> Option<(DatabaseConnection, String, String)> {
    let (admin_url, name, url) = empty_database("backyard_test").await?;
    let db = app::server::db::connect(&url).await.unwrap();
    app::server::db::migrate(&db).await.unwrap();
    Some((db, admin_url, name))
}

/// A new database named `prefix` and a unique tail, with nothing in it (not even the
/// migrations): its server's address, its name and its own address. None when no server is
/// reachable outside CI (CI=true must have one: then it panics).
pub async fn empty_database(prefix: &str) -> Option<(String, String, String)> {
    let admin_url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let admin = match Database::connect(&admin_url).await {
        Ok(c) => c,
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but PostgreSQL at {admin_url} is unreachable: {e}")
        }
        Err(e) => {
            eprintln!("skipping: PostgreSQL at {admin_url} is unreachable ({e})");
            return None;
        }
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!("{prefix}_{}_{}", std::process::id(), nanos);
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let _ = admin.close().await;
    let base = &admin_url[..admin_url.rfind('/').unwrap()];
    let url = format!("{base}/{name}");
    Some((admin_url, name, url))
}

pub async fn drop_database(db: DatabaseConnection, admin_url: &str, name: &str) {
    db.close().await.unwrap();
    let admin = Database::connect(admin_url).await.unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
}

#[tokio::test]
async fn account_flow_on_postgres() {
    let Some((db, admin_url, name)) = fresh_database().await else {
        return;
    };
    let app = router_for(db.clone());

    let cookie = sign_up(&app, "ada", "ada@example.com", PASSWORD).await;
    assert_eq!(signed_in_as(&app, &cookie).await.as_deref(), Some("ada"));

    // Case-insensitive uniqueness holds on PostgreSQL too, and a refusal writes nothing.
    let token = signup_token(&app).await;
    let res = post_fetch(
        &app,
        "/api/sign_up",
        &[
            ("username", "ADA"),
            ("email", "other@example.com"),
            ("password", PASSWORD),
            ("form_token", &token),
        ],
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("That username is taken"), "{}", res.body);
    assert_eq!(user_count(&db).await, 1);

    let out = post_form(&app, "/api/log_out", &[], Some(&cookie), "/").await;
    assert_eq!(out.status, StatusCode::FOUND);
    assert_eq!(signed_in_as(&app, &cookie).await, None);

    let res = log_in(&app, "ada@EXAMPLE.com", PASSWORD, None).await;
    let cookie = res.session_cookie().expect("logged in");
    assert_eq!(signed_in_as(&app, &cookie).await.as_deref(), Some("ada"));

    let wrong = log_in(&app, "ada", "not the password", None).await;
    assert!(wrong.session_cookie().is_none());
    assert!(wrong.location.unwrap().contains("__err="));

    // A second account with the same address (sign-up never says an address is taken), and a
    // look-alike address: the address logs in to each of its own accounts, and only those.
    sign_up(&app, "ada2", "Ada@example.com", "a second long password").await;
    sign_up(
        &app,
        "ada3",
        "ada@example.com.evil",
        "a third long password",
    )
    .await;
    let second = log_in(&app, "ada@example.com", "a second long password", None).await;
    let cookie = second.session_cookie().expect("the second account");
    assert_eq!(signed_in_as(&app, &cookie).await.as_deref(), Some("ada2"));
    let evil = log_in(&app, "ada@example.com", "a third long password", None).await;
    assert!(evil.session_cookie().is_none());
    let candidates = app::server::accounts::login_candidates(&db, "ada@example.com")
        .await
        .unwrap();
    assert_eq!(candidates.len(), 2);

    assert_eq!(get(&app, "/healthz", None).await.status, StatusCode::OK);
    drop_database(db, &admin_url, &name).await;
}

#[tokio::test]
async fn demo_content_seeds_on_postgres() {
    let Some((db, admin_url, name)) = fresh_database().await else {
        return;
    };
    assert!(app::server::demo::seed_if_empty(&db).await.unwrap());
    assert!(
        !app::server::demo::seed_if_empty(&db).await.unwrap(),
        "seeds only a new database"
    );
    let app = router_for(db.clone());
    let home = get(&app, "/", None).await;
    assert!(home.body.contains("Product feedback"));
    // The blog on PostgreSQL: the demo article, its comments, the feed and the sitemap.
    let blog = get(&app, "/blog", None).await;
    assert!(blog.body.contains("What we shipped in November"));
    assert!(blog.body.contains("2 comments"));
    let article = get(&app, "/blog/what-we-shipped-in-november", None).await;
    assert_eq!(article.status, StatusCode::OK);
    assert!(
        article
            .body
            .contains("Could the dashboard remember my date range?")
    );
    assert!(
        get(&app, "/blog/tag/product", None)
            .await
            .body
            .contains("What we shipped")
    );
    let feed = get(&app, "/blog/feed.xml", None).await;
    assert!(
        feed.body
            .contains("<title>What we shipped in November</title>")
    );
    let sitemap = get(&app, "/sitemap/site.xml", None).await;
    assert!(
        sitemap
            .body
            .contains("/blog/what-we-shipped-in-november</loc>")
    );
    // The sitemap index groups the topics by id range in SQL; the feeds read the newest topics.
    for path in [
        "/sitemap.xml",
        "/sitemap/topics-1.xml",
        "/feed.xml",
        "/c/questions/feed.xml",
    ] {
        let res = get(&app, path, None).await;
        assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.body);
        roxmltree::Document::parse(&res.body).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    assert!(
        get(&app, "/sitemap.xml", None)
            .await
            .body
            .contains("/sitemap/topics-1.xml</loc><lastmod>")
    );

    // Staff response on PostgreSQL: the queue, a status with a note, the figures.
    let sam = session_of(&app, "sam", "demo-staff-pass").await;
    let queue = get(&app, "/staff/queue", Some(&sam)).await;
    assert!(queue.body.contains("Dashboard chart is blank on Safari"));
    let link = &queue.body[queue.body.find("href=\"/t/").unwrap() + 6..];
    let id = link.split('/').nth(2).unwrap();
    // A member's topic page on PostgreSQL: the reader's own rows (follow level, flags, read
    // marker) come in one query, and the page's shared part is kept between views.
    let path = link.split('"').next().unwrap();
    let muted = post_fetch(
        &app,
        "/api/set_topic_level",
        &[("topic_id", id), ("level", "muted")],
        Some(&sam),
    )
    .await;
    assert_eq!(muted.status, StatusCode::OK, "{}", muted.body);
    for _ in 0..2 {
        let page = get(&app, path, Some(&sam)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert!(page.body.contains("Dashboard chart is blank on Safari"));
        assert!(
            page.body.contains("<strong>Muted</strong>"),
            "{}",
            page.body
        );
    }
    let res = post_fetch(
        &app,
        "/api/set_topic_status",
        &[("topic_id", id), ("status", "resolved"), ("note", "Fixed.")],
        Some(&sam),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(
        !get(&app, "/staff/queue", Some(&sam))
            .await
            .body
            .contains("Dashboard chart")
    );
    let metrics = get(&app, "/staff/metrics", Some(&sam)).await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(metrics.body.contains("Bug reports"));
    assert_eq!(
        get(&app, "/accountability", None).await.status,
        StatusCode::OK
    );
    drop_database(db, &admin_url, &name).await;
}
