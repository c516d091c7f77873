//! HTTP-level tests through the real router: pages, health, and the account flow in both of its
//! forms (a plain form post without JavaScript, and the hydrated form's fetch).

use crate::common::*;
use app::server::accounts::{SIGNUP_SENT_TWICE, USERNAME_TAKEN, WRONG_LOGIN};
use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};

const PASSWORD: &str = "a long enough password";

#[tokio::test]
async fn pages_health_and_404() {
    let app = router_for(sqlite_memory().await);
    let home = get(&app, "/", None).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("<h1>Community</h1>"));
    assert!(home.body.contains("<title>Community · Backyard</title>"));

    let health = get(&app, "/healthz", None).await;
    assert_eq!(
        (health.status, health.body.as_str()),
        (StatusCode::OK, "ok")
    );

    let missing = get(&app, "/no/such/page", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("Page not found"));
}

#[tokio::test]
async fn health_fails_when_the_database_is_gone() {
    let db = sqlite_memory().await;
    let app = router_for(db.clone());
    db.close().await.unwrap();
    assert_eq!(
        get(&app, "/healthz", None).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn sign_up_log_out_log_in_without_javascript() {
    let db = sqlite_memory().await;
    let app = router_for(db.clone());
    let cookie = sign_up(&app, "ada", "ada@example.com", PASSWORD).await;
    assert_eq!(signed_in_as(&app, &cookie).await.as_deref(), Some("ada"));

    let out = post_form(&app, "/api/log_out", &[], Some(&cookie), "/").await;
    assert_eq!(
        (out.status, out.location.as_deref()),
        (StatusCode::FOUND, Some("/"))
    );
    assert_eq!(
        signed_in_as(&app, &cookie).await,
        None,
        "the old session no longer works"
    );

    let res = log_in(&app, "ADA", PASSWORD, None).await;
    assert_eq!(
        (res.status, res.location.as_deref()),
        (StatusCode::FOUND, Some("/"))
    );
    let cookie = res.session_cookie().unwrap();
    assert_eq!(signed_in_as(&app, &cookie).await.as_deref(), Some("ada"));
    assert_eq!(user_count(&db).await, 1);
}

#[tokio::test]
async fn the_session_cookie_is_httponly_lax_and_secure_only_over_https() {
    let db = sqlite_memory().await;
    let app = router_for(db.clone());
    sign_up(&app, "ada", "ada@example.com", PASSWORD).await;
    let res = log_in(&app, "ada", PASSWORD, None).await;
    let cookie = res
        .set_cookie
        .iter()
        .find(|c| c.starts_with("backyard_session="))
        .unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");

    // Over https the name carries the __Host- prefix: Secure, Path=/, no Domain.
    let https = router_with(db, "https://feedback.example.com");
    // Posted from that site: a write is accepted only from the configured public origin.
    let req = axum::http::Request::post("/api/log_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .header(header::ORIGIN, "https://feedback.example.com")
        .header("sec-fetch-site", "same-origin")
        .body(axum::body::Body::from(encode(&[
            ("login", "ada"),
            ("password", PASSWORD),
            ("next", "/"),
        ])))
        .unwrap();
    let res = send(&https, req).await;
    let cookie = res
        .set_cookie
        .iter()
        .find(|c| c.starts_with("__Host-backyard_session="))
        .unwrap_or_else(|| panic!("{:?}", res.set_cookie));
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Domain"), "{cookie}");

    // Only by that name as written: the session layer decodes names, and a browser lets anyone
    // on a sibling subdomain, or any plain-http answer, set `%5F%5FHost-backyard_session`. An
    // outside test signed a browser into the planter's account this way.
    let session = cookie.split(';').next().unwrap();
    assert_eq!(signed_in_as(&https, session).await.as_deref(), Some("ada"));
    for planted in [
        session.replace("__Host-", "%5F%5FHost-"),
        session.replace("__Host-backyard_session", "__Host-backyard%5Fsession"),
    ] {
        assert_eq!(signed_in_as(&https, &planted).await, None, "{planted}");
    }
}

#[tokio::test]
async fn logging_in_cycles_the_session_id() {
    let app = router_for(sqlite_memory().await);
    let first = sign_up(&app, "ada", "ada@example.com", PASSWORD).await;
    let res = log_in(&app, "ada", PASSWORD, Some(&first)).await;
    let second = res.session_cookie().expect("a new id is issued");
    assert_ne!(first, second);
    assert_eq!(
        signed_in_as(&app, &first).await,
        None,
        "the pre-login id is dead"
    );
    assert_eq!(signed_in_as(&app, &second).await.as_deref(), Some("ada"));
}

#[tokio::test]
async fn a_restart_logs_nobody_out() {
    let dir = std::env::temp_dir().join(format!("backyard-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("restart.db");
    let _ = std::fs::remove_file(&path);
    let cookie = {
        let db = file_db(&path).await;
        let app = router_for(db.clone());
        let cookie = sign_up(&app, "ada", "ada@example.com", PASSWORD).await;
        db.close().await.unwrap();
        cookie
    };
    let app = router_for(file_db(&path).await);
    assert_eq!(signed_in_as(&app, &cookie).await.as_deref(), Some("ada"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every bad sign-up: without JavaScript the browser is sent back to the form with the error in
/// the URL, and the form shows the message next to its field; with the hydrated form the error
/// comes back as JSON with a 400. Either way no row is written.
#[tokio::test]
async fn each_bad_sign_up_gets_its_message_and_writes_nothing() {
    let db = sqlite_memory().await;
    let app = router_for(db.clone());
    sign_up(&app, "taken", "taken@example.com", PASSWORD).await;
    let long = "x".repeat(33);
    let huge_password = "p".repeat(1001);
    let cases: Vec<(&str, &str, &str, &str, &str)> = vec![
        (
            "TaKeN",
            "new@example.com",
            PASSWORD,
            "username",
            USERNAME_TAKEN,
        ),
        (
            "has space",
            "a@example.com",
            PASSWORD,
            "username",
            "Usernames can't contain spaces.",
        ),
        (
            "tab\tname",
            "a@example.com",
            PASSWORD,
            "username",
            "Usernames can't contain control characters.",
        ),
        (
            &long,
            "a@example.com",
            PASSWORD,
            "username",
            "Usernames can be at most 32 characters.",
        ),
        (
            "fine",
            "nope",
            PASSWORD,
            "email",
            "That doesn't look like an e-mail address (like name@example.com).",
        ),
        (
            "fine",
            "f@example.com",
            "short",
            "password",
            "Use at least 10 characters for your password.",
        ),
        (
            "fine",
            "f@example.com",
            &huge_password,
            "password",
            "Passwords can be at most 1,000 bytes long.",
        ),
    ];
    for (username, email, password, field, message) in cases {
        let token = signup_token(&app).await;
        let fields = [
            ("username", username),
            ("email", email),
            ("password", password),
            ("form_token", &token),
        ];

        let res = post_form(&app, "/api/sign_up", &fields, None, "/signup").await;
        assert_eq!(res.status, StatusCode::FOUND, "{username}");
        let back = res.location.clone().expect("sent back to the form");
        assert!(
            back.starts_with(&format!("{ORIGIN}/signup?")) && back.contains("__err="),
            "{back}"
        );
        assert!(res.session_cookie().is_none());
        let page = follow(&app, &res, None).await;
        let shown = format!(
            r#"<p id="field-{field}-error" aria-live="polite" class="field-error">{}</p>"#,
            html_escape(message)
        );
        assert!(
            page.body.contains(&shown),
            "{field}: {message} not shown next to the field"
        );

        let res = post_fetch(&app, "/api/sign_up", &fields, None).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{username}");
        let err: serde_json::Value = serde_json::from_str(&res.body).unwrap();
        assert_eq!(err["Invalid"]["field"], field);
        assert_eq!(err["Invalid"]["message"], message);
    }
    assert_eq!(user_count(&db).await, 1, "no refused sign-up wrote a row");
}

#[tokio::test]
async fn a_sign_up_form_sent_twice_creates_one_account() {
    let db = sqlite_memory().await;
    let app = router_for(db.clone());
    let token = signup_token(&app).await;
    let fields = [
        ("username", "ada"),
        ("email", "ada@example.com"),
        ("password", PASSWORD),
        ("form_token", token.as_str()),
    ];
    let first = post_fetch(&app, "/api/sign_up", &fields, None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let again = post_fetch(&app, "/api/sign_up", &fields, None).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains(SIGNUP_SENT_TWICE), "{}", again.body);
    assert_eq!(user_count(&db).await, 1);
}

#[tokio::test]
async fn wrong_logins_look_the_same_whether_or_not_the_account_exists() {
    let app = router_for(sqlite_memory().await);
    sign_up(&app, "ada", "ada@example.com", PASSWORD).await;
    let wrong_password = log_in(&app, "ada", "not the password", None).await;
    let unknown_user = log_in(&app, "nobody", "not the password", None).await;
    for res in [&wrong_password, &unknown_user] {
        assert_eq!(res.status, StatusCode::FOUND);
        assert!(res.session_cookie().is_none());
        let page = follow(&app, res, None).await;
        assert!(page.body.contains(&html_escape(WRONG_LOGIN)));
    }
    // Same redirect, byte for byte but for the signature, which is for each browser (each was
    // given its own token cookie), and the name typed, which the form shows again: nothing in
    // the response tells the two apart.
    let unsigned = |res: &Reply, typed: &str| {
        let location = res.location.as_deref().unwrap();
        let (before, err) = location.split_once("&__err=").unwrap();
        let err = err.split("&__sig=").next().unwrap().replace("%3D", "=");
        let error =
            leptos::server_fn::error::ServerFnUrlError::<app::error::AppError>::decode_err(&err);
        assert_eq!(error.kept("login").as_deref(), Some(typed));
        (before.to_string(), error.in_form("", Vec::new()))
    };
    assert_eq!(
        unsigned(&wrong_password, "ada"),
        unsigned(&unknown_user, "nobody")
    );
}

#[tokio::test]
async fn logging_in_returns_to_a_local_page_only() {
    let app = router_for(sqlite_memory().await);
    sign_up(&app, "ada", "ada@example.com", PASSWORD).await;
    for (next, expected) in [
        ("/t/1/x?page=2", "/t/1/x?page=2"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
    ] {
        let res = post_form(
            &app,
            "/api/log_in",
            &[("login", "ada"), ("password", PASSWORD), ("next", next)],
            None,
            "/login",
        )
        .await;
        assert_eq!(res.location.as_deref(), Some(expected), "{next}");
    }
}

#[tokio::test]
async fn cross_site_writes_are_refused() {
    let db = sqlite_memory().await;
    let app = router_for(db.clone());
    let token = signup_token(&app).await;
    let body = encode(&[
        ("username", "mallory"),
        ("email", "m@example.com"),
        ("password", PASSWORD),
        ("form_token", &token),
    ]);
    let from_site = |site: &str| {
        Request::post("/api/sign_up")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", site)
            .body(Body::from(body.clone()))
            .unwrap()
    };
    assert_eq!(
        send(&app, from_site("cross-site")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&app, from_site("same-site")).await.status,
        StatusCode::FORBIDDEN
    );
    let with_origin = Request::post("/api/sign_up")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "http://evil.example")
        .body(Body::from(body.clone()))
        .unwrap();
    assert_eq!(send(&app, with_origin).await.status, StatusCode::FORBIDDEN);
    assert_eq!(user_count(&db).await, 0);
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Moves a session's clocks back by `hours` (as if signed in and last seen that long ago).
async fn age_session(db: &sea_orm::DatabaseConnection, hours: i64) {
    use app::server::entity::session;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let row = session::Entity::find().one(db).await.unwrap().unwrap();
    let mut data: serde_json::Value = serde_json::from_str(&row.data).unwrap();
    let then = chrono::Utc::now().timestamp() - hours * 3600;
    data["signed_in_at"] = then.into();
    data["seen_at"] = then.into();
    let mut active: session::ActiveModel = row.into();
    active.data = Set(data.to_string());
    active.update(db).await.unwrap();
}

#[tokio::test]
async fn sessions_end_after_the_idle_and_absolute_timeouts() {
    use sea_orm::EntityTrait;
    let db = sqlite_memory().await;
    let app = router_for(db.clone());
    let cookie = sign_up(&app, "ada", "ada@example.com", PASSWORD).await;
    // Page views write nothing while "last seen" is under an hour old.
    let again = get(&app, "/", Some(&cookie)).await;
    assert!(again.session_cookie().is_none(), "no write per request");
    let rows = app::server::entity::session::Entity::find()
        .all(&db)
        .await
        .unwrap();
    let days_left = (rows[0].expires_at - chrono::Utc::now().timestamp()) / 86_400;
    assert!(
        (29..=30).contains(&days_left),
        "idle default 30 days: {days_left}"
    );

    // Seen two hours ago, within both limits: still signed in, and the idle clock moves on.
    age_session(&db, 2).await;
    let page = get(&app, "/", Some(&cookie)).await;
    assert!(
        page.session_cookie().is_some(),
        "seen again: expiry pushed back"
    );
    assert_eq!(signed_in_as(&app, &cookie).await.as_deref(), Some("ada"));

    // Idle for two hours with a one-hour idle limit: signed out, session gone.
    app::server::settings::put(&db, "session_idle_hours", "1")
        .await
        .unwrap();
    age_session(&db, 2).await;
    assert_eq!(signed_in_as(&app, &cookie).await, None);
    assert!(
        app::server::entity::session::Entity::find()
            .all(&db)
            .await
            .unwrap()
            .is_empty()
    );

    // Active, but signed in longer ago than the absolute limit: signed out too.
    app::server::settings::put(&db, "session_idle_hours", "720")
        .await
        .unwrap();
    app::server::settings::put(&db, "session_max_hours", "24")
        .await
        .unwrap();
    let res = log_in(&app, "ada", PASSWORD, None).await;
    let cookie = res.session_cookie().unwrap();
    let rows = app::server::entity::session::Entity::find()
        .all(&db)
        .await
        .unwrap();
    let hours_left = (rows[0].expires_at - chrono::Utc::now().timestamp()) / 3600;
    assert!(
        (23..=24).contains(&hours_left),
        "capped by the absolute limit: {hours_left}"
    );
    age_session(&db, 25).await;
    assert_eq!(signed_in_as(&app, &cookie).await, None);
}

/// The bundle under /pkg: pages name the build's content-hashed files, which are compressed
/// when the browser takes them and kept for a year (`immutable`); a browser that asks again
/// anyway gets a 304 with no body, and a missing file is not kept.
#[tokio::test]
async fn bundle_files_are_named_by_content_and_kept_a_year() {
    let root = std::env::temp_dir().join(format!("backyard-site-{}", std::process::id()));
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    let css = "body { color: black; }\n".repeat(50);
    let name = "backyard.0123456789abcdef";
    std::fs::write(root.join("bundle-name"), format!("{name}\n")).unwrap();
    std::fs::write(root.join(format!("pkg/{name}.css")), &css).unwrap();
    // The build's gzip copy; its text differs so the test can tell which copy was sent.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, b"/* the gzip copy */").unwrap();
    std::fs::write(
        root.join(format!("pkg/{name}.css.gz")),
        gz.finish().unwrap(),
    )
    .unwrap();
    let cfg = config_with(&[
        ("BACKYARD_PUBLIC_URL", ORIGIN),
        ("DATABASE_URL", "sqlite::memory:"),
        ("BACKYARD_SITE_ROOT", root.to_str().unwrap()),
    ]);
    let app = server::router(server::app_state(cfg, sqlite_memory().await));
    let ask = |headers: &[(header::HeaderName, String)]| {
        let mut req = Request::get(format!("/pkg/{name}.css"));
        for (name, value) in headers {
            req = req.header(name, value);
        }
        send(&app, req.body(Body::empty()).unwrap())
    };

    let page = get(&app, "/", None).await;
    for file in [
        format!("/pkg/{name}.css"),
        format!("/pkg/{name}.js"),
        format!("/pkg/{name}_bg.wasm"),
    ] {
        assert!(page.body.contains(&file), "the page names {file}");
    }

    let plain = ask(&[]).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(plain.body, css);
    let a_year = Some("public, max-age=31536000, immutable");
    assert_eq!(plain.header("cache-control"), a_year);
    assert_eq!(plain.header("vary"), Some("accept-encoding"));
    assert_eq!(plain.header("x-content-type-options"), Some("nosniff"));
    let gzip = ask(&[(header::ACCEPT_ENCODING, "gzip, br".into())]).await;
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    assert_eq!(gzip.body, "/* the gzip copy */");

    let modified = plain
        .header("last-modified")
        .expect("a Last-Modified")
        .to_string();
    let again = ask(&[(header::IF_MODIFIED_SINCE, modified)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(again.header("cache-control"), a_year);
    let missing = get(&app, "/pkg/backyard.js", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.header("cache-control"), Some("no-store"));
    std::fs::remove_dir_all(&root).unwrap();
}

/// cargo-leptos lays out the bundle under one name for every build (pkg/backyard.css, no
/// bundle-name file): a browser must ask again each time, or after `cargo leptos watch`
/// rebuilds and reloads the page it would keep running the old bundle (and old style).
#[tokio::test]
async fn bundle_files_under_a_fixed_name_are_asked_for_each_time() {
    let root = std::env::temp_dir().join(format!("backyard-leptos-site-{}", std::process::id()));
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(root.join("pkg/backyard.css"), "body { color: black; }\n").unwrap();
    let cfg = config_with(&[
        ("BACKYARD_PUBLIC_URL", ORIGIN),
        ("DATABASE_URL", "sqlite::memory:"),
        ("BACKYARD_SITE_ROOT", root.to_str().unwrap()),
    ]);
    let app = server::router(server::app_state(cfg, sqlite_memory().await));
    let page = get(&app, "/", None).await;
    assert!(page.body.contains("/pkg/backyard.css"), "the page names it");
    let css = get(&app, "/pkg/backyard.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header("cache-control"), Some("no-cache"));
    let missing = get(&app, "/pkg/backyard.js", None).await;
    assert_eq!(missing.header("cache-control"), Some("no-store"));
    std::fs::remove_dir_all(&root).unwrap();
}
