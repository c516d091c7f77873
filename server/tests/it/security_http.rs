//! The hardening defences through the real router: cross-site writes, headers, sign-in abuse,
//! sessions, request limits and malformed input. Each test fails if its defence is removed.

use std::net::SocketAddr;

use crate::common::*;
use app::server::entity::user;
use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode, header},
};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Statement};
use server::security;

/// Every table's row count: equal before and after means nothing was written.
async fn fingerprint(db: &DatabaseConnection) -> Vec<(String, i64)> {
    let backend = db.get_database_backend();
    let tables = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT LIKE 'search_index_%' \
             AND name NOT IN ('sessions', 'login_failures') ORDER BY name",
        ))
        .await
        .unwrap();
    let mut counts = Vec::new();
    for row in tables {
        let name: String = row.try_get_by_index(0).unwrap();
        let n = db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) FROM \"{name}\""),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap();
        counts.push((name, n));
    }
    counts
}

async fn demo() -> (DatabaseConnection, Router, String) {
    let (db, app) = demo_site().await;
    let casey = session_of(&app, "casey", "demo-customer-pass").await;
    (db, app, casey)
}

fn from_ip(mut req: Request<Body>, ip: &str) -> Request<Body> {
    let addr: SocketAddr = format!("{ip}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    req
}

/// Server functions that only read and are asked for with GET (a GET is never checked for its
/// origin, so nothing that writes may be one). The suspension tests check they write nothing.
const READS_BY_GET: &[&str] = &["/api/similar_topics"];

#[test]
fn no_server_function_that_writes_accepts_get() {
    let paths: Vec<_> = leptos::server_fn::axum::server_fn_paths().collect();
    assert!(
        paths.len() > 40,
        "the registry is populated: {}",
        paths.len()
    );
    for (path, method) in paths {
        let expected = if READS_BY_GET.contains(&path) {
            axum::http::Method::GET
        } else {
            axum::http::Method::POST
        };
        assert_eq!(method, expected, "{path}");
    }
}

#[tokio::test]
async fn every_write_from_another_site_is_refused_and_writes_nothing() {
    let (db, app, casey) = demo().await;
    let before = fingerprint(&db).await;
    let paths: Vec<_> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p)
        .collect();
    for path in &paths {
        for (name, value) in [
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-site", "same-site"),
            ("origin", "http://evil.example"),
            ("origin", "null"),
        ] {
            let req = Request::post(*path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, &casey)
                .header(name, value)
                .body(Body::from("title=x&body=y&post_id=1&topic_id=1"))
                .unwrap();
            let res = send(&app, req).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{path} {name}: {value}");
            assert_eq!(res.body, security::CROSS_SITE);
        }
        // And with neither header and no token (a client that says nothing about itself).
        let bare = Request::post(*path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &casey)
            .body(Body::from("title=x"))
            .unwrap();
        let res = send(&app, bare).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path} without headers");
        assert_eq!(res.body, security::NO_TOKEN);
    }
    assert_eq!(fingerprint(&db).await, before);
    assert_eq!(signed_in_as(&app, &casey).await.as_deref(), Some("casey"));
}

#[tokio::test]
async fn a_client_without_browser_headers_writes_with_the_token_it_was_given() {
    let (_, app) = demo_site().await;
    let page = get(&app, "/login", None).await;
    let cookie = page
        .set_cookie
        .iter()
        .find(|c| c.starts_with("backyard_csrf="))
        .expect("a token cookie")
        .clone();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let nonce = cookie["backyard_csrf=".len().."backyard_csrf=".len() + 64].to_string();
    let marker = r#"<input type="hidden" name="_csrf" value=""#;
    let at = page.body.find(marker).expect("the form carries the token") + marker.len();
    let token = page.body[at..at + 64].to_string();
    assert_ne!(token, nonce, "the token is signed, not the cookie's value");
    let jar = format!("backyard_csrf={nonce}");
    let login = |fields: String, extra: Option<(&'static str, String)>| {
        let mut req = Request::post("/api/log_in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, &jar);
        if let Some((k, v)) = extra {
            req = req.header(k, v);
        }
        req.body(Body::from(fields)).unwrap()
    };
    let creds = "login=casey&password=demo-customer-pass&next=%2F";
    let wrong = send(
        &app,
        login(format!("{creds}&_csrf={}", "0".repeat(64)), None),
    )
    .await;
    assert_eq!(
        (wrong.status, wrong.body.as_str()),
        (StatusCode::FORBIDDEN, security::NO_TOKEN)
    );
    assert!(wrong.session_cookie().is_none());
    let ok = send(&app, login(format!("{creds}&_csrf={token}"), None)).await;
    assert_eq!(ok.status, StatusCode::FOUND, "{}", ok.body);
    assert!(ok.session_cookie().is_some());
    let by_header = send(
        &app,
        login(creds.into(), Some(("x-csrf-token", token.clone()))),
    )
    .await;
    assert_eq!(by_header.status, StatusCode::FOUND, "{}", by_header.body);
    // A browser that says where its requests come from needs no token, and gets none.
    let req = Request::get("/login")
        .header("sec-fetch-site", "none")
        .body(Body::empty())
        .unwrap();
    let browser = send(&app, req).await;
    assert!(
        !browser.body.contains("_csrf") && !browser.set_cookie.iter().any(|c| c.contains("csrf"))
    );
    // A cached page shared by visitors holds no one's token: each gets their own.
    let topic = get(&app, "/", None).await;
    let other = get(&app, "/", Some(&jar)).await;
    assert!(!topic.body.contains(&token) && !other.set_cookie.iter().any(|c| c.contains("csrf")));
}

#[tokio::test]
async fn pages_and_other_answers_carry_the_security_headers() {
    let (db, app) = demo_site().await;
    for path in [
        "/",
        "/login",
        "/t/1/export-to-csv-would-save-me-an-hour-a-week",
        "/no-such-page",
    ] {
        let page = get(&app, path, None).await;
        let csp = page
            .header("content-security-policy")
            .expect(path)
            .to_string();
        if matches!(
            path,
            "/" | "/t/1/export-to-csv-would-save-me-an-hour-a-week"
        ) {
            // Shared by the page cache: scripts allowed by hash, the same bytes for everyone.
            assert!(
                page.nonce().is_none() && !page.body.contains("nonce="),
                "{path}: {csp}"
            );
            assert_eq!(
                csp.matches("'sha256-").count(),
                3,
                "{path}: the loader and Leptos' two resource scripts: {csp}"
            );
            let again = get(&app, path, None).await;
            assert_eq!(
                (again.stable_body(), again.header("content-security-policy")),
                (page.stable_body(), Some(csp.as_str())),
                "{path}: served again from the cache, with the same policy"
            );
        } else {
            let nonce = page.nonce().expect("a nonce");
            assert!(nonce.len() >= 22, "{nonce}");
            assert!(
                page.body
                    .contains(&format!(r#"<script type="module" nonce="{nonce}">"#)),
                "{path}: the hydration script carries the nonce"
            );
            assert_eq!(
                page.body.matches("<script").count(),
                page.body.matches(&format!(r#"nonce="{nonce}""#)).count(),
                "{path}: every inline script has the nonce"
            );
        }
        for part in [
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(
            page.header("referrer-policy"),
            Some("strict-origin-when-cross-origin")
        );
        assert_eq!(
            page.header("strict-transport-security"),
            None,
            "not over http"
        );
    }
    let feed = get(&app, "/blog/feed.xml", None).await;
    assert!(
        feed.header("content-security-policy")
            .unwrap()
            .starts_with("default-src 'none'")
    );
    let https = router_with(db, "https://feedback.example.com");
    let page = get(&https, "/", None).await;
    assert_eq!(
        page.header("strict-transport-security"),
        Some("max-age=31536000")
    );
    assert!(
        page.set_cookie
            .iter()
            .all(|c| !c.contains("csrf") || c.starts_with("__Host-"))
    );
}

async fn fetch_login(app: &Router, login: &str, password: &str, ip: &str) -> Reply {
    let req = Request::post("/api/log_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(encode(&[
            ("login", login),
            ("password", password),
        ])))
        .unwrap();
    send(app, from_ip(req, ip)).await
}

#[tokio::test]
async fn failed_logins_are_throttled_per_name_and_per_address_alike_for_real_and_unknown_names() {
    let (db, app, _) = demo().await;
    for name in ["casey", "ghost"] {
        for _ in 0..app::server::accounts::sign_in::FAILURES_PER_ACCOUNT {
            let res = fetch_login(&app, name, "wrong password!", "10.0.0.1").await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
        }
        // Now even the right password waits, with no session and no password work.
        let res = fetch_login(&app, name, "demo-customer-pass", "10.0.0.2").await;
        assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{name}");
        assert!(
            res.body
                .contains("Too many failed log-ins for this account. Try again in 15 minutes."),
            "{}",
            res.body
        );
        assert!(res.session_cookie().is_none());
    }
    // From one address, across many names.
    let app = router_for(db.clone());
    let per_ip = app::server::accounts::sign_in::FAILURES_PER_IP;
    for i in 0..per_ip - 2 * app::server::accounts::sign_in::FAILURES_PER_ACCOUNT {
        fetch_login(&app, &format!("name{i}"), "wrong password!", "10.0.0.1").await;
    }
    let res = fetch_login(&app, "sam", "demo-staff-pass", "10.0.0.1").await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        res.body
            .contains("Too many failed log-ins from your network. Try again in"),
        "{}",
        res.body
    );
    let elsewhere = fetch_login(&app, "sam", "demo-staff-pass", "10.0.0.9").await;
    assert_eq!(
        elsewhere.status,
        StatusCode::OK,
        "another address is not held up"
    );
}

#[tokio::test]
async fn sign_up_refuses_the_most_common_passwords_and_writes_nothing() {
    let db = sqlite_memory().await;
    let app = router_for(db.clone());
    for password in [
        "password1234",
        "1234567890",
        "qwertyuiop",
        "Baseball2024!",
        "aaaaaaaaaaaa",
    ] {
        let token = signup_token(&app).await;
        let req = Request::post("/api/sign_up")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(encode(&[
                ("username", "ada"),
                ("email", "ada@example.com"),
                ("password", password),
                ("form_token", &token),
            ])))
            .unwrap();
        let res = send(&app, req).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{password}");
        assert!(
            res.body.contains("one of the most common ones"),
            "{password}: {}",
            res.body
        );
    }
    assert!(user::Entity::find().all(&db).await.unwrap().is_empty());
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions() {
    let (db, app, casey) = demo().await;
    let other = session_of(&app, "casey", "demo-customer-pass").await;
    let before = fingerprint(&db).await;
    let wrong = post_fetch(
        &app,
        "/api/change_password",
        &[
            ("current_password", "not it at all"),
            ("new_password", "a brand new passphrase"),
        ],
        Some(&casey),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(
        wrong
            .body
            .contains(app::server::accounts::sign_in::WRONG_CURRENT_PASSWORD)
    );
    let common = post_fetch(
        &app,
        "/api/change_password",
        &[
            ("current_password", "demo-customer-pass"),
            ("new_password", "password123"),
        ],
        Some(&casey),
    )
    .await;
    assert!(
        common.body.contains("one of the most common ones"),
        "{}",
        common.body
    );
    assert_eq!(fingerprint(&db).await, before, "refusals write nothing");
    assert_eq!(signed_in_as(&app, &other).await.as_deref(), Some("casey"));

    let res = post_form(
        &app,
        "/api/change_password",
        &[
            ("current_password", "demo-customer-pass"),
            ("new_password", "a brand new passphrase"),
        ],
        Some(&casey),
        "/account",
    )
    .await;
    assert_eq!(res.location.as_deref(), Some("/account?changed=1"));
    let fresh = res
        .session_cookie()
        .expect("this browser gets a new session");
    assert_eq!(signed_in_as(&app, &fresh).await.as_deref(), Some("casey"));
    assert_eq!(
        signed_in_as(&app, &other).await,
        None,
        "the other browser is logged out"
    );
    assert_eq!(
        signed_in_as(&app, &casey).await,
        None,
        "the old session id is gone"
    );
    let again = log_in(&app, "casey", "a brand new passphrase", None).await;
    assert!(again.session_cookie().is_some());
}

async fn wait_for_mail(db: &DatabaseConnection, to: &str) -> Option<String> {
    use sea_orm::{ColumnTrait, QueryFilter};
    for _ in 0..100 {
        let found = app::server::entity::email::Entity::find()
            .filter(app::server::entity::email::Column::ToAddress.eq(to))
            // Demo members' addresses are confirmed, so the demo's notifications went there too.
            .filter(app::server::entity::email::Column::Subject.eq("Reset your password"))
            .one(db)
            .await
            .unwrap();
        if let Some(mail) = found {
            return Some(mail.body);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    None
}

#[tokio::test]
async fn password_reset_links_are_hashed_single_use_and_expire() {
    use app::server::entity::password_reset;
    let (db, app, casey) = demo().await;
    let email = user::Entity::find_by_id(3).one(&db).await.unwrap().unwrap();
    assert_eq!(email.username, "casey");

    // Known and unknown names get the same answer.
    let known = post_form(
        &app,
        "/api/request_reset",
        &[("login", "casey")],
        None,
        "/reset",
    )
    .await;
    let unknown = post_form(
        &app,
        "/api/request_reset",
        &[("login", "nobody@example.com")],
        None,
        "/reset",
    )
    .await;
    assert_eq!(
        (known.status, known.location.clone()),
        (unknown.status, unknown.location.clone())
    );
    assert_eq!(known.location.as_deref(), Some("/reset?sent=1"));
    let sent = get(&app, "/reset?sent=1", None).await;
    assert!(
        sent.body
            .contains("If an account uses that name or address")
    );

    let mail = wait_for_mail(&db, &email.email)
        .await
        .expect("a reset e-mail");
    let start = mail.find("/reset/").unwrap() + "/reset/".len();
    let token = &mail[start..start + 64];
    let stored = password_reset::Entity::find().all(&db).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].token_hash, token, "only a hash is stored");
    assert!(!mail.contains(&stored[0].token_hash));
    let minutes = (stored[0].expires_at - stored[0].created_at).num_minutes();
    assert_eq!(minutes, 60);

    let page = get(&app, &format!("/reset/{token}"), None).await;
    assert!(page.body.contains("Set new password"));
    let weak = post_fetch(
        &app,
        "/api/reset_password",
        &[("token", token), ("new_password", "short")],
        None,
    )
    .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    let done = post_form(
        &app,
        "/api/reset_password",
        &[
            ("token", token),
            ("new_password", "a reset passphrase here"),
        ],
        None,
        &format!("/reset/{token}"),
    )
    .await;
    assert_eq!(done.location.as_deref(), Some("/login?reset=1"));
    assert_eq!(
        signed_in_as(&app, &casey).await,
        None,
        "sessions end on reset"
    );
    assert!(
        log_in(&app, "casey", "a reset passphrase here", None)
            .await
            .session_cookie()
            .is_some()
    );

    // Used once: the link is dead, and says so.
    let again = post_fetch(
        &app,
        "/api/reset_password",
        &[("token", token), ("new_password", "another passphrase 2")],
        None,
    )
    .await;
    assert!(
        again.body.contains("expired or was already used"),
        "{}",
        again.body
    );
    let page = get(&app, &format!("/reset/{token}"), None).await;
    assert!(page.body.contains("expired or was already used"));

    // An hour later a fresh link is dead too.
    post_form(
        &app,
        "/api/request_reset",
        &[("login", "sam")],
        None,
        "/reset",
    )
    .await;
    let sam = user::Entity::find_by_id(2).one(&db).await.unwrap().unwrap();
    let mail = wait_for_mail(&db, &sam.email).await.unwrap();
    let start = mail.find("/reset/").unwrap() + "/reset/".len();
    let token = mail[start..start + 64].to_string();
    db.execute_unprepared("UPDATE password_resets SET expires_at = '2020-01-01 00:00:00+00:00'")
        .await
        .unwrap();
    let late = post_fetch(
        &app,
        "/api/reset_password",
        &[("token", &token), ("new_password", "another passphrase 3")],
        None,
    )
    .await;
    assert!(late.body.contains("expired or was already used"));
    assert!(
        log_in(&app, "sam", "demo-staff-pass", None)
            .await
            .session_cookie()
            .is_some()
    );
}

#[tokio::test]
async fn an_old_hash_is_replaced_at_login() {
    let (db, app, _) = demo().await;
    // A hash of the demo password with cheap parameters, as an older release would have made.
    let cheap = app::server::auth::hash_with_params("demo-customer-pass", 4096, 1);
    db.execute_unprepared(&format!(
        "UPDATE users SET password_hash = '{cheap}' WHERE username = 'casey'"
    ))
    .await
    .unwrap();
    assert!(
        log_in(&app, "casey", "demo-customer-pass", None)
            .await
            .session_cookie()
            .is_some()
    );
    let casey = user::Entity::find_by_id(3).one(&db).await.unwrap().unwrap();
    assert!(
        casey
            .password_hash
            .starts_with("$argon2id$v=19$m=7168,t=5,p=1$"),
        "{}",
        casey.password_hash
    );
}

#[tokio::test]
async fn oversized_and_malformed_requests_get_a_clear_4xx_and_the_server_keeps_serving() {
    let (db, app, casey) = demo().await;
    let before = fingerprint(&db).await;
    let topic_fields = |title: &str, body: &str| {
        format!(
            "category=questions&form_token={}&title={}&body={}",
            "a".repeat(64),
            app::paths::encode_query_value(title),
            app::paths::encode_query_value(body)
        )
    };
    let post = |body: Body, length: Option<usize>| {
        let mut req = Request::post("/api/start_topic")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header("sec-fetch-site", "same-origin")
            .header(header::COOKIE, &casey);
        if let Some(n) = length {
            req = req.header(header::CONTENT_LENGTH, n);
        }
        req.body(body).unwrap()
    };
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        // 10 MB, declared.
        (
            post(
                Body::from(vec![b'a'; 10 * 1024 * 1024]),
                Some(10 * 1024 * 1024),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            security::TOO_LARGE,
        ),
        // 3 MB, streamed without a length.
        (
            post(
                Body::from_stream(futures_util::stream::iter(
                    (0..48).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 64 * 1024])),
                )),
                None,
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            security::TOO_LARGE,
        ),
        (
            post(
                Body::from(format!("{}&x=%FF%FE", topic_fields("Bad bytes", "x"))),
                None,
            ),
            StatusCode::BAD_REQUEST,
            security::NOT_UTF8,
        ),
        (
            post(
                Body::from(topic_fields("Nul\0title here", "body text")),
                None,
            ),
            StatusCode::BAD_REQUEST,
            security::NUL_IN_TEXT,
        ),
        (
            post(
                Body::from(format!("{}%00", topic_fields("Nul in body", "body"))),
                None,
            ),
            StatusCode::BAD_REQUEST,
            security::NUL_IN_TEXT,
        ),
        (
            Request::get("/")
                .header("x-padding", "p".repeat(64 * 1024))
                .body(Body::empty())
                .unwrap(),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            security::HEADERS_TOO_LARGE,
        ),
        (
            Request::get(format!("/c/questions?q={}", "x".repeat(10_000)))
                .body(Body::empty())
                .unwrap(),
            StatusCode::URI_TOO_LONG,
            security::URL_TOO_LONG,
        ),
    ];
    for (req, status, message) in cases {
        let label = format!(
            "{} {}",
            req.method(),
            &req.uri().to_string()[..20.min(req.uri().to_string().len())]
        );
        let res = send(&app, req).await;
        assert_eq!(res.status, status, "{label}: {}", res.body);
        assert_eq!(res.body, message, "{label}");
    }
    for page in [
        "-1",
        "0",
        "99999999999999999999",
        "1'--",
        "2%20OR%201=1",
        "",
    ] {
        for path in ["/", "/c/questions", "/t/1/x", "/blog", "/staff/queue"] {
            // Alone, and after a good one (a page reads the last `page`).
            for query in [format!("page={page}"), format!("page=1&page={page}")] {
                let res = get(&app, &format!("{path}?{query}"), Some(&casey)).await;
                assert_eq!(res.status, StatusCode::BAD_REQUEST, "{path}?{query}");
                assert_eq!(res.body, security::BAD_PAGE);
            }
        }
    }
    // Path traversal: no file outside the site root, no page for a slug made of dots.
    for path in [
        "/pkg/..%2F..%2FCargo.toml",
        "/pkg/../../Cargo.toml",
        "/..%2f..%2fetc%2fpasswd",
        "/c/..%2F..%2Fetc%2Fpasswd",
        "/blog/..%2F..%2Fetc%2Fpasswd",
        "/u/..%2Fadmin",
    ] {
        let res = get(&app, path, None).await;
        assert!(res.status.is_client_error(), "{path}: {}", res.status);
        assert!(
            !res.body.contains("[workspace]") && !res.body.contains("root:x:0"),
            "{path}"
        );
    }
    // A topic's words after its number are only decoration: they redirect to the real title.
    let res = get(&app, "/t/1/..%2F..%2Fetc", None).await;
    assert_eq!(res.status, StatusCode::MOVED_PERMANENTLY);
    assert!(
        res.location
            .as_deref()
            .is_some_and(|l| l.starts_with("/t/1/") && !l.contains(".."))
    );
    assert_eq!(fingerprint(&db).await, before, "nothing was written");
    assert_eq!(
        get(&app, "/", None).await.status,
        StatusCode::OK,
        "still serving"
    );
}

#[tokio::test]
async fn sql_metacharacters_are_only_text_in_every_field_and_query() {
    let (db, app) = demo_site().await;
    let admin = session_of(&app, "admin", "demo-admin-pass").await;
    let evil = "Robert'); DROP TABLE users;-- \" OR 1=1; /* %_\\";
    let token = form_token_on(&app, "/new-topic?category=questions", Some(&admin)).await;
    let res = post_form(
        &app,
        "/api/start_topic",
        &[
            ("category", "questions"),
            ("title", evil),
            ("body", evil),
            ("form_token", &token),
        ],
        Some(&admin),
        "/new-topic",
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    let page = follow(&app, &res, Some(&admin)).await;
    assert!(
        page.body.contains("Robert&#x27;); DROP TABLE users;--")
            || page.body.contains("Robert'); DROP TABLE users;--")
    );
    for query in [
        "/c/questions?status=%27%20OR%201%3D1--",
        "/admin/users?q=%27%20OR%20%271%27%3D%271",
        "/admin/users?q=%25",
        "/staff/queue?category=%27%3B%20DROP%20TABLE%20topics--",
        "/blog/tag/%27%20OR%201%3D1--",
        "/u/%27%20OR%201%3D1--",
        "/admin/log?action=%27--",
    ] {
        let res = get(&app, query, Some(&admin)).await;
        assert!(
            res.status == StatusCode::OK || res.status.is_client_error(),
            "{query}: {}",
            res.status
        );
        if res.status.is_client_error() {
            assert!(
                res.body.len() > 20,
                "{query}: a page that says what was wrong"
            );
        }
    }
    // Every account is still there and the search found no one by injection.
    assert_eq!(user::Entity::find().all(&db).await.unwrap().len(), 3);
    let plain = get(&app, "/admin/users?q=case", Some(&admin)).await;
    assert!(plain.body.contains(">casey<"), "a real search finds her");
    let search = get(
        &app,
        "/admin/users?q=%27%20OR%20%271%27%3D%271",
        Some(&admin),
    )
    .await;
    assert!(
        !search.body.contains(">casey<"),
        "an injected condition matches nobody"
    );
}

/// Sign-up, log-in and reset answer alike whether or not an address has an account.
#[tokio::test]
async fn no_answer_tells_whether_an_address_is_registered() {
    let (db, app) = demo_site().await;
    let casey_email = give_real_address(&db, "casey").await;
    let mut answers = Vec::new();
    for (name, email) in [
        ("newcomer1", "fresh@example.com"),
        ("newcomer2", casey_email.as_str()),
    ] {
        let token = signup_token(&app).await;
        let res = post_form(
            &app,
            "/api/sign_up",
            &[
                ("username", name),
                ("email", email),
                ("password", "a long enough password"),
                ("form_token", &token),
                ("next", "/"),
            ],
            None,
            "/signup",
        )
        .await;
        let cookie = res.session_cookie();
        answers.push((res.status, res.location.clone(), cookie.is_some()));
        let page = get(&app, "/", cookie.as_deref()).await;
        assert!(
            page.body
                .contains(&format!("Signed in as <strong>{name}</strong>")),
            "{name}"
        );
    }
    assert_eq!(
        answers[0], answers[1],
        "a registered address signs up like a new one"
    );
    // Log-in by address with a wrong password: one message for all.
    let wrong = |login: &'static str| log_in(&app, login, "not the password!", None);
    let (a, b) = (
        wrong("fresh@example.com").await,
        wrong("nobody@example.com").await,
    );
    assert_eq!(
        (a.status, a.location.is_some()),
        (b.status, b.location.is_some())
    );
    let page_a = get(&app, &a.location.unwrap()[ORIGIN.len()..], None).await;
    let page_b = get(&app, &b.location.unwrap()[ORIGIN.len()..], None).await;
    assert_eq!(page_a.stable_body(), page_b.stable_body());
}

/// The reset link in `mail` (a reset e-mail's body).
fn reset_link_in(mail: &str) -> String {
    let start = mail.find("/reset/").unwrap() + "/reset/".len();
    mail[start..start + 64].to_string()
}

/// A reset link mailed before the account was deleted, or before its address changed, no longer
/// sets a password (an outside tester logged in as "deleted-N" through one, and took an account
/// back through the old address's link after the member moved away from it).
#[tokio::test]
async fn reset_links_die_with_the_account_and_with_the_address_they_went_to() {
    use app::server::entity::password_reset;
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
    let (db, app, casey) = demo().await;
    let admin = session_of(&app, "admin", "demo-admin-pass").await;
    let dead = |body: &str| body.contains("expired or was already used");

    // Deleted: the link dies with the account.
    post_form(
        &app,
        "/api/request_reset",
        &[("login", "casey")],
        None,
        "/reset",
    )
    .await;
    let email = user::Entity::find_by_id(3)
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .email;
    let token = reset_link_in(&wait_for_mail(&db, &email).await.expect("a reset e-mail"));
    let res = post_fetch(
        &app,
        "/api/delete_account",
        &[("user_id", "3"), ("posts", "keep"), ("confirmed", "yes")],
        Some(&admin),
    )
    .await;
    assert!(res.status.is_success(), "{} {}", res.status, res.body);
    let resets = |id: i64| {
        password_reset::Entity::find()
            .filter(password_reset::Column::UserId.eq(id))
            .count(&db)
    };
    assert_eq!(resets(3).await.unwrap(), 0);
    // Nor does mail still queued for the account go out to the address it had.
    let queued = app::server::entity::email::Entity::find()
        .filter(app::server::entity::email::Column::UserId.eq(3))
        .filter(app::server::entity::email::Column::Status.eq("queued"))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(queued, 0);
    let res = post_fetch(
        &app,
        "/api/reset_password",
        &[
            ("token", &token),
            ("new_password", "a reset passphrase here"),
        ],
        None,
    )
    .await;
    assert!(dead(&res.body), "{}", res.body);
    let gone = user::Entity::find_by_id(3).one(&db).await.unwrap().unwrap();
    assert_eq!(gone.password_hash, "!");
    assert_eq!(signed_in_as(&app, &casey).await, None);

    // Moved to a new address: the links mailed to the old one die when the new one is confirmed.
    let sam = session_of(&app, "sam", "demo-staff-pass").await;
    post_form(
        &app,
        "/api/request_reset",
        &[("login", "sam")],
        None,
        "/reset",
    )
    .await;
    let old = user::Entity::find_by_id(2)
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .email;
    let token = reset_link_in(&wait_for_mail(&db, &old).await.expect("a reset e-mail"));
    let res = post_fetch(
        &app,
        "/api/change_email",
        &[("email", "sam.new@example.com")],
        Some(&sam),
    )
    .await;
    assert!(res.status.is_success(), "{} {}", res.status, res.body);
    assert_eq!(
        resets(2).await.unwrap(),
        1,
        "asking to change is not changing"
    );
    let confirm = app::server::entity::email::Entity::find()
        .filter(app::server::entity::email::Column::ToAddress.eq("sam.new@example.com"))
        .one(&db)
        .await
        .unwrap()
        .expect("a confirmation e-mail")
        .body;
    let start = confirm.find("/confirm-email/").unwrap() + "/confirm-email/".len();
    let confirm_token: String = confirm[start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let res = post_fetch(
        &app,
        "/api/confirm_email",
        &[("token", &confirm_token)],
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(resets(2).await.unwrap(), 0);
    let res = post_fetch(
        &app,
        "/api/reset_password",
        &[
            ("token", &token),
            ("new_password", "a reset passphrase here"),
        ],
        None,
    )
    .await;
    assert!(dead(&res.body), "{}", res.body);
    assert!(
        log_in(&app, "sam", "demo-staff-pass", None)
            .await
            .session_cookie()
            .is_some()
    );
}

/// Guessing the current password on the change-password form counts against the account as
/// failed log-ins do: a session left open is no way round the log-in limit.
#[tokio::test]
async fn guessing_the_current_password_is_limited_as_log_ins_are() {
    let (db, app, casey) = demo().await;
    let change = |current: String| {
        let (app, casey) = (app.clone(), casey.clone());
        async move {
            post_fetch(
                &app,
                "/api/change_password",
                &[
                    ("current_password", current.as_str()),
                    ("new_password", "a brand new passphrase"),
                ],
                Some(&casey),
            )
            .await
        }
    };
    let before = user::Entity::find_by_id(3).one(&db).await.unwrap().unwrap();
    for n in 0..10 {
        let res = change(format!("wrong guess {n}")).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
        assert!(res.body.contains("current password isn"), "{}", res.body);
    }
    // The limit is reached: even the right password waits, and nothing changes.
    let res = change("demo-customer-pass".into()).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.body);
    assert!(res.body.contains("Too many failed log-ins"), "{}", res.body);
    assert!(
        log_in(&app, "casey", "demo-customer-pass", None)
            .await
            .session_cookie()
            .is_none()
    );
    assert_eq!(
        user::Entity::find_by_id(3).one(&db).await.unwrap().unwrap(),
        before
    );
}
