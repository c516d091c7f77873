//! Writes come only from the configured public origin, and the synchronizer token (for clients
//! that send no Sec-Fetch-Site or Origin) is one this server made for this browser's session.
use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use server::security;

use crate::common::*;

/// The shape of a DNS-rebinding attack: the attacker's name now resolves to this server, so
/// the browser calls the request same-origin and sends the attacker's name as Host and Origin.
#[tokio::test]
async fn a_write_whose_origin_matches_a_forged_host_is_refused() {
    let (db, app) = demo_site().await;
    let before = user_count(&db).await;
    for sec_fetch_site in [Some("same-origin"), None] {
        let mut req = Request::post("/api/log_in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html")
            .header(header::HOST, "rebind.evil.example:3000")
            .header(header::ORIGIN, "http://rebind.evil.example:3000");
        if let Some(site) = sec_fetch_site {
            req = req.header("sec-fetch-site", site);
        }
        let res = send(
            &app,
            req.body(Body::from(
                "login=casey&password=demo-customer-pass&next=%2F",
            ))
            .unwrap(),
        )
        .await;
        assert_eq!(
            (res.status, res.body.as_str()),
            (StatusCode::FORBIDDEN, security::CROSS_SITE),
            "sec-fetch-site {sec_fetch_site:?}"
        );
        assert!(res.session_cookie().is_none());
    }
    assert_eq!(user_count(&db).await, before);
    // The configured origin itself is accepted, whatever Host says.
    let res = post_form(
        &app,
        "/api/log_in",
        &[
            ("login", "casey"),
            ("password", "demo-customer-pass"),
            ("next", "/"),
        ],
        None,
        "/login",
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
}

fn token_post(jar: &str, body: String) -> Request<Body> {
    Request::post("/api/log_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, jar)
        .body(Body::from(body))
        .unwrap()
}

const CREDS: &str = "login=casey&password=demo-customer-pass&next=%2F";

/// A token cookie and a matching field that the client made up are refused: the token must be
/// one the server made, and for this browser's session.
#[tokio::test]
async fn a_token_cookie_and_field_of_the_clients_choosing_are_refused() {
    let (_, app) = demo_site().await;
    let chosen = "c".repeat(64);
    for jar in [
        format!("backyard_csrf={chosen}"),
        format!("backyard_csrf={chosen}; backyard_session=AAAAAAAAAAAAAAAAAAAAAA"),
    ] {
        let res = send(&app, token_post(&jar, format!("{CREDS}&_csrf={chosen}"))).await;
        assert_eq!(
            (res.status, res.body.as_str()),
            (StatusCode::FORBIDDEN, security::NO_TOKEN),
            "{jar}"
        );
        assert!(res.session_cookie().is_none());
    }
}

/// The token on a page is good for the session that page was rendered for: it does not work
/// with another session's cookie.
#[tokio::test]
async fn a_token_works_only_with_the_session_it_was_given_to() {
    let (_, app) = demo_site().await;
    let sam = session_of(&app, "sam", "demo-staff-pass").await;
    let page = get(&app, "/account", Some(&sam)).await;
    let cookie = page
        .set_cookie
        .iter()
        .find(|c| c.starts_with("backyard_csrf="))
        .expect("a token cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let marker = r#"name="_csrf" value=""#;
    let at = page.body.find(marker).expect("the form carries a token") + marker.len();
    let token = page.body[at..at + 64].to_string();
    // With the session it was made for, it is accepted (the log-in then proceeds).
    let ok = send(
        &app,
        token_post(
            &format!("{cookie}; {sam}"),
            format!("{CREDS}&_csrf={token}"),
        ),
    )
    .await;
    assert_eq!(ok.status, StatusCode::FOUND, "{}", ok.body);
    // With another session (or none), it is not; nor beside another session, which the
    // session layer reads (the last of a name: an outside test had the token checked against
    // the first while the request was served as the second).
    let casey = session_of(&app, "casey", "demo-customer-pass").await;
    for jar in [
        format!("{cookie}; {casey}"),
        cookie.clone(),
        format!("{cookie}; {sam}; {casey}"),
    ] {
        let res = send(&app, token_post(&jar, format!("{CREDS}&_csrf={token}"))).await;
        assert_eq!(
            (res.status, res.body.as_str()),
            (StatusCode::FORBIDDEN, security::NO_TOKEN),
            "{jar}"
        );
    }
}
