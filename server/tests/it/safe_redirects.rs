//! Redirects after logging in and signing up go only to this site, and no `next` can break the
//! response: whatever it holds, the answer is a redirect to a local path.
use crate::common::*;
use axum::http::StatusCode;

/// Each of these is refused: the browser goes to the home page instead.
const OFF_SITE_OR_BROKEN: &[&str] = &[
    "https://evil.example/",
    "//evil.example",
    "/\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "\t//evil.example",
    " /x",
    "/%09/evil.example",
    "/%2F/evil.example",
    "/%2f/evil.example",
    "/%5Cevil.example",
    "%2F%2Fevil.example",
    "/ok\r\nSet-Cookie: stolen=1",
    "/ok\rx",
    "/ok\nx",
    "/ok\u{7f}",
    "/ok%0D%0ASet-Cookie:%20stolen=1",
    "/ok%7F",
    "/with space",
    "/with%20space",
    "/nbsp\u{a0}",
    "/%E2%80%A8line-separator",
    "/%",
    "/%zz",
    "/%FF",
    "javascript:alert(1)",
    "",
];

/// Usernames no two of which look alike (numbered ones do: `member6` and `member8` read the
/// same once digits fold to the letters they pass for).
pub const DISTINCT_NAMES: &[&str] = &[
    "apple", "brook", "cedar", "delta", "ember", "fjord", "grove", "heath", "ivory", "jade",
    "koala", "lemur", "maple", "north", "ocean", "pearl", "quartz", "raven", "stone", "tulip",
    "umber", "vapor", "willow", "xenon", "yarrow", "zephyr", "acorn", "birch", "coral", "dune",
    "fern", "gale", "hazel", "juniper", "kestrel", "lotus",
];

/// Local paths that are followed as they are.
const LOCAL: &[&str] = &["/t/1/hello?page=2#post-3", "/c/questions", "/"];

async fn logged_in_to(next: &str) -> (StatusCode, Option<String>) {
    let (_, app) = demo_site().await;
    let res = post_form(
        &app,
        "/api/log_in",
        &[
            ("login", "casey"),
            ("password", "demo-customer-pass"),
            ("next", next),
        ],
        None,
        "/login",
    )
    .await;
    (res.status, res.location)
}

#[tokio::test]
async fn log_in_follows_only_local_paths_and_never_breaks() {
    for next in OFF_SITE_OR_BROKEN {
        assert_eq!(
            logged_in_to(next).await,
            (StatusCode::FOUND, Some("/".to_string())),
            "next={next:?}"
        );
    }
    for next in LOCAL {
        assert_eq!(
            logged_in_to(next).await,
            (StatusCode::FOUND, Some(next.to_string())),
            "next={next:?}"
        );
    }
}

#[tokio::test]
async fn sign_up_follows_only_local_paths_and_never_breaks() {
    let (_, app) = demo_site().await;
    for (i, next) in OFF_SITE_OR_BROKEN.iter().chain(LOCAL).enumerate() {
        let token = signup_token(&app).await;
        let name = DISTINCT_NAMES[i];
        let res = post_form(
            &app,
            "/api/sign_up",
            &[
                ("username", name),
                ("email", &format!("{name}@example.com")),
                ("password", "fresh violet teapot lantern"),
                ("form_token", &token),
                ("next", next),
            ],
            None,
            "/signup",
        )
        .await;
        let expected = if LOCAL.contains(next) { next } else { "/" };
        assert_eq!(
            (res.status, res.location.as_deref()),
            (StatusCode::FOUND, Some(expected)),
            "next={next:?}: {}",
            res.body
        );
    }
}

/// A form posted from a page whose Referer path is not a plain local path (a browser sends
/// what the address bar held) comes back to the home page, not elsewhere.
#[tokio::test]
async fn going_back_after_a_form_never_leaves_the_site() {
    use axum::{
        body::Body,
        http::{Request, header},
    };
    let d = demo_members().await;
    for referer in [
        format!("{ORIGIN}//evil.example/x"),
        format!("{ORIGIN}/\\evil.example"),
        format!("{ORIGIN}/%2F/evil.example"),
    ] {
        let req = Request::post("/api/mark_notifications_read")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html")
            .header(header::REFERER, &referer)
            .header(header::ORIGIN, ORIGIN)
            .header("sec-fetch-site", "same-origin")
            .header(header::COOKIE, &d.casey)
            .body(Body::empty())
            .unwrap();
        let res = send(&d.app, req).await;
        let location = res
            .location
            .as_deref()
            .unwrap_or_else(|| panic!("{}", res.body));
        {
            assert!(
                location.starts_with('/')
                    && !location.starts_with("//")
                    && !location.starts_with("/\\")
                    && !location.to_ascii_lowercase().starts_with("/%2f"),
                "Referer {referer} sent the browser to {location}"
            );
        }
    }
}

/// Random bytes as `next`, through the real router: never a failed response, never a Location
/// off the site or one a browser could read as another host.
#[tokio::test]
async fn random_next_values_never_break_the_answer_or_leave_the_site() {
    use proptest::{
        strategy::{Strategy, ValueTree},
        test_runner::TestRunner,
    };
    let (_, app) = demo_site().await;
    let mut runner = TestRunner::deterministic();
    let bytes = proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40);
    for i in 0..64 {
        let raw = bytes.new_tree(&mut runner).unwrap().current();
        // Half start like a path, so they get past the first check.
        let lead = if i % 2 == 0 { "/" } else { "" };
        // NUL is refused before any handler runs (with its own message), so it is left out.
        let next = format!("{lead}{}", String::from_utf8_lossy(&raw)).replace('\0', "");
        let res = post_form(
            &app,
            "/api/log_in",
            &[
                ("login", "casey"),
                ("password", "demo-customer-pass"),
                ("next", &next),
            ],
            None,
            "/login",
        )
        .await;
        assert_eq!(res.status, StatusCode::FOUND, "next={next:?}: {}", res.body);
        let location = res.location.unwrap();
        assert!(
            location.starts_with('/')
                && !location.starts_with("//")
                && !location.starts_with("/\\")
                && location.bytes().all(|b| b.is_ascii_graphic()),
            "next={next:?} went to {location:?}"
        );
        assert_eq!(app::api::safe_next(Some(&location)), location);
    }
}
