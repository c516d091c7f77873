//! The forum through the real router: pages, slugs and statuses, head tags, and every bad input
//! of the composer, as a browser without JavaScript sends it.

use crate::common::*;
use app::server::{
    entity::{post, topic},
    forum::{self, TITLE_EMPTY},
    posting::BODY_EMPTY,
    posting::REPLY_SENT_TWICE,
    posting::TOPIC_LOCKED,
    records::categories::CATEGORY_MISSING,
};
use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, PaginatorTrait, Set};

struct Demo {
    db: DatabaseConnection,
    app: Router,
    casey: String,
    sam: String,
    topic_path: String,
    topic_id: i64,
}

/// Changes the demo topic in the database, not through the site (so no cache is emptied).
async fn change_topic_directly(d: &Demo, change: impl FnOnce(&mut topic::ActiveModel)) {
    let mut t: topic::ActiveModel = topic::Entity::find_by_id(d.topic_id)
        .one(&d.db)
        .await
        .unwrap()
        .unwrap()
        .into();
    change(&mut t);
    t.update(&d.db).await.unwrap();
}

const TOPIC_SLUG: &str = "export-to-csv-would-save-me-an-hour-a-week";

async fn demo() -> Demo {
    let (db, app) = demo_site().await;
    let casey = session_of(&app, "casey", "demo-customer-pass").await;
    let sam = session_of(&app, "sam", "demo-staff-pass").await;
    let t = topic::Entity::find().one(&db).await.unwrap().unwrap();
    assert_eq!(t.slug, TOPIC_SLUG);
    Demo {
        topic_path: format!("/t/{}/{}", t.id, t.slug),
        topic_id: t.id,
        db,
        app,
        casey,
        sam,
    }
}

async fn post_count(db: &DatabaseConnection) -> u64 {
    post::Entity::find().count(db).await.unwrap()
}

async fn topic_count(db: &DatabaseConnection) -> u64 {
    topic::Entity::find().count(db).await.unwrap()
}

fn escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

async fn reply_form(d: &Demo, cookie: Option<&str>, body: &str, extra: &[(&str, &str)]) -> Reply {
    let token = form_token_on(&d.app, &d.topic_path, cookie).await;
    let id = d.topic_id.to_string();
    let mut fields = vec![
        ("topic_id", id.as_str()),
        ("body", body),
        ("form_token", token.as_str()),
    ];
    fields.extend_from_slice(extra);
    post_form(&d.app, "/api/reply", &fields, cookie, &d.topic_path).await
}

#[tokio::test]
async fn pages_render_with_head_tags_and_right_statuses() {
    let d = demo().await;
    let home = get(&d.app, "/", None).await;
    assert!(home.body.contains(r#"href="/c/product-feedback""#));

    let category = get(&d.app, "/c/product-feedback", None).await;
    assert_eq!(category.status, StatusCode::OK);
    assert!(
        category
            .body
            .contains("Export to CSV would save me an hour a week")
    );
    assert!(category.body.contains("2 replies"));
    assert!(
        category
            .body
            .contains(r#"<link href="http://127.0.0.1:3000/c/product-feedback" rel="canonical">"#)
    );

    let topic = get(&d.app, &d.topic_path, None).await;
    assert_eq!(topic.status, StatusCode::OK);
    for expected in [
        "<title>Export to CSV would save me an hour a week · Backyard</title>",
        r#"<meta property="og:title" content="Export to CSV would save me an hour a week">"#,
        r#"<meta property="og:type" content="article">"#,
        r#"<meta name="description" content="Every Friday I copy the weekly report into a spreadsheet by hand. A CSV export button"#,
        &format!(
            r#"<link href="http://127.0.0.1:3000{}" rel="canonical">"#,
            d.topic_path
        ),
        // The posts are in the HTML itself: readable without JavaScript, by people and crawlers.
        "<strong>CSV export</strong>",
        r#"<a class="mention" href="/u/casey" rel="nofollow ugc noopener">@casey</a>"#,
        r#"id="post-3""#,
    ] {
        assert!(topic.body.contains(expected), "topic page lacks {expected}");
    }

    let user = get(&d.app, "/u/sam", None).await;
    assert_eq!(user.status, StatusCode::OK);
    assert!(user.body.contains("Staff · Support Lead"));
    assert!(
        user.body
            .contains(r#"<meta property="og:type" content="profile">"#)
    );

    for missing in [
        "/c/no-such-category",
        "/t/9999/nothing",
        "/t/abc/x",
        "/u/nobody-here",
        "/p/9999/edit",
    ] {
        assert_eq!(
            get(&d.app, missing, Some(&d.casey)).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
    assert_eq!(
        get(&d.app, &format!("{}?page=2", d.topic_path), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn wrong_or_missing_slugs_redirect_permanently() {
    let d = demo().await;
    for wrong in [
        format!("/t/{}/old-title", d.topic_id),
        format!("/t/{}", d.topic_id),
    ] {
        let res = get(&d.app, &wrong, None).await;
        assert_eq!(res.status, StatusCode::MOVED_PERMANENTLY, "{wrong}");
        assert_eq!(res.location.as_deref(), Some(d.topic_path.as_str()));
    }
}

#[tokio::test]
async fn pages_of_thirty_with_real_links() {
    let d = demo().await;
    let sam = app::server::accounts::log_in(&d.db, "sam", "demo-staff-pass", None)
        .await
        .unwrap();
    for i in 4..=65 {
        forum::reply(&d.db, &sam, d.topic_id, &format!("reply number {i}"), None)
            .await
            .unwrap();
    }
    let first = get(&d.app, &d.topic_path, None).await;
    assert!(
        first
            .body
            .contains(&format!(r#"href="{}?page=2""#, d.topic_path))
    );
    assert!(first.body.contains(r#"id="post-30""#) && !first.body.contains(r#"id="post-31""#));
    let second = get(&d.app, &format!("{}?page=2", d.topic_path), None).await;
    assert!(second.body.contains(r#"id="post-31""#) && second.body.contains(r#"id="post-60""#));
    assert!(
        second
            .body
            .contains(r#"<span aria-current="page">2</span>"#)
    );
    assert!(second.body.contains(&format!(
        r#"<link href="http://127.0.0.1:3000{}?page=2" rel="canonical">"#,
        d.topic_path
    )));
    let third = get(&d.app, &format!("{}?page=3", d.topic_path), None).await;
    assert!(third.body.contains(r#"id="post-65""#));
}

#[tokio::test]
async fn replying_without_javascript_lands_on_the_new_post() {
    let d = demo().await;
    let before = post_count(&d.db).await;
    let res = reply_form(&d, Some(&d.casey), "Any news on this?", &[]).await;
    assert_eq!(res.status, StatusCode::FOUND);
    assert!(
        res.location
            .as_deref()
            .unwrap()
            .contains("?done=posted&post=")
    );
    assert_eq!(
        landed_on(res.location.as_deref()).as_deref(),
        Some(format!("{}#post-4", d.topic_path).as_str())
    );
    assert_eq!(post_count(&d.db).await, before + 1);
    assert!(
        get(&d.app, &d.topic_path, None)
            .await
            .body
            .contains("Any news on this?")
    );
}

#[tokio::test]
async fn each_bad_reply_gets_its_message_and_writes_nothing() {
    let d = demo().await;
    let before = post_count(&d.db).await;
    let long = "x".repeat(50_001);
    for (body, message) in [
        ("", BODY_EMPTY.to_string()),
        ("   \n\t", BODY_EMPTY.to_string()),
        (
            long.as_str(),
            "Posts can be at most 50,000 characters; this one has 50,001.".to_string(),
        ),
    ] {
        let res = reply_form(&d, Some(&d.casey), body, &[]).await;
        assert!(
            res.location.as_deref().unwrap().contains("__err="),
            "{message}"
        );
        let page = follow(&d.app, &res, Some(&d.casey)).await;
        assert!(
            page.body.contains(&escaped(&message)),
            "{message} not shown"
        );
        if !body.trim().is_empty() {
            assert!(page.body.contains(&body[..100]), "the text is kept");
        }
    }
    assert_eq!(post_count(&d.db).await, before);

    // A missing topic: the JSON client gets a 404 with the message.
    let token = form_token_on(&d.app, &d.topic_path, Some(&d.casey)).await;
    let res = post_fetch(
        &d.app,
        "/api/reply",
        &[
            ("topic_id", "9999"),
            ("body", "hello"),
            ("form_token", &token),
        ],
        Some(&d.casey),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(res.body.contains(forum::TOPIC_MISSING));

    // A locked topic.
    change_topic_directly(&d, |t| t.locked = Set(true)).await;
    // Said, as every write through the site says it: a member's page keeps the topic's row
    // (AppState::topic_pages) while the page version stands.
    app::server::page_version::changed(&d.db).await;
    let page = get(&d.app, &d.topic_path, Some(&d.casey)).await;
    assert!(
        page.body.contains("This topic is locked"),
        "no reply box on a locked topic"
    );
    let res = post_fetch(
        &d.app,
        "/api/reply",
        &[
            ("topic_id", &d.topic_id.to_string()),
            ("body", "let me in"),
            ("form_token", &token),
        ],
        Some(&d.casey),
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains(TOPIC_LOCKED));
    assert_eq!(post_count(&d.db).await, before);
}

#[tokio::test]
async fn the_same_reply_sent_twice_is_stored_once() {
    let d = demo().await;
    let before = post_count(&d.db).await;
    let token = form_token_on(&d.app, &d.topic_path, Some(&d.casey)).await;
    let id = d.topic_id.to_string();
    let fields = [
        ("topic_id", id.as_str()),
        ("body", "double click"),
        ("form_token", token.as_str()),
    ];
    let first = post_form(&d.app, "/api/reply", &fields, Some(&d.casey), &d.topic_path).await;
    let second = post_form(&d.app, "/api/reply", &fields, Some(&d.casey), &d.topic_path).await;
    assert!(!first.location.unwrap().contains("__err"));
    let page = follow(&d.app, &second, Some(&d.casey)).await;
    assert!(page.body.contains(REPLY_SENT_TWICE));
    assert_eq!(post_count(&d.db).await, before + 1);
}

#[tokio::test]
async fn posting_signed_out_goes_to_log_in_and_back_with_the_text_kept() {
    let d = demo().await;
    let before = post_count(&d.db).await;
    let res = reply_form(&d, None, "Written before logging in", &[]).await;
    let next = format!("{}#composer", d.topic_path);
    assert_eq!(
        res.location.as_deref(),
        Some(format!("/login?next={}", next.replace('#', "%23")).as_str())
    );
    let visitor = res
        .session_cookie()
        .expect("the draft lives in a visitor session");
    assert_eq!(post_count(&d.db).await, before);
    let login_page = get(&d.app, res.location.as_deref().unwrap(), Some(&visitor)).await;
    assert!(
        login_page
            .body
            .contains("Log in to post. What you wrote is kept")
    );

    // Logging in keeps the session's data (only its id changes) and returns to the topic.
    let res = post_form(
        &d.app,
        "/api/log_in",
        &[
            ("login", "casey"),
            ("password", "demo-customer-pass"),
            ("next", &next),
        ],
        Some(&visitor),
        "/login",
    )
    .await;
    assert_eq!(res.location.as_deref(), Some(next.as_str()));
    let cookie = res.session_cookie().unwrap();
    let page = get(&d.app, &d.topic_path, Some(&cookie)).await;
    assert!(
        page.body.contains("Written before logging in</textarea>"),
        "the text is back in the reply box"
    );
}

#[tokio::test]
async fn preview_without_javascript_shows_the_rendered_text_and_writes_nothing() {
    let d = demo().await;
    let before = post_count(&d.db).await;
    let res = reply_form(
        &d,
        Some(&d.casey),
        "Is **this** right?",
        &[("preview", "1")],
    )
    .await;
    assert_eq!(
        res.location.as_deref(),
        Some(format!("{}#composer", d.topic_path).as_str())
    );
    let page = follow(&d.app, &res, Some(&d.casey)).await;
    assert!(
        page.body.contains("<p>Is <strong>this</strong> right?</p>"),
        "rendered preview"
    );
    assert!(
        page.body.contains("Is **this** right?</textarea>"),
        "source kept"
    );
    assert_eq!(post_count(&d.db).await, before);
}

#[tokio::test]
async fn starting_topics_and_their_bad_input() {
    let d = demo().await;
    let topics = topic_count(&d.db).await;
    let long_title = "t".repeat(201);
    for (category, title, body, message) in [
        ("questions", "   ", "body", TITLE_EMPTY.to_string()),
        (
            "questions",
            long_title.as_str(),
            "body",
            "Titles can be at most 200 characters; this one has 201.".to_string(),
        ),
        ("questions", "A title", "", BODY_EMPTY.to_string()),
        (
            "no-such-category",
            "A title",
            "body",
            CATEGORY_MISSING.to_string(),
        ),
    ] {
        let token = form_token_on(&d.app, "/new-topic", Some(&d.casey)).await;
        let fields = [
            ("category", category),
            ("title", title),
            ("body", body),
            ("form_token", token.as_str()),
        ];
        let res = post_form(
            &d.app,
            "/api/start_topic",
            &fields,
            Some(&d.casey),
            "/new-topic",
        )
        .await;
        let page = follow(&d.app, &res, Some(&d.casey)).await;
        assert!(
            page.body.contains(&escaped(&message)),
            "{message} not shown"
        );
    }
    assert_eq!(topic_count(&d.db).await, topics);

    let token = form_token_on(&d.app, "/new-topic?category=questions", Some(&d.casey)).await;
    let fields = [
        ("category", "questions"),
        ("title", "Dark mode?"),
        ("body", "Please add one."),
        ("form_token", token.as_str()),
    ];
    let res = post_form(
        &d.app,
        "/api/start_topic",
        &fields,
        Some(&d.casey),
        "/new-topic",
    )
    .await;
    let location = res.location.unwrap();
    assert!(location.ends_with("/dark-mode#post-1"), "{location}");
    assert_eq!(topic_count(&d.db).await, topics + 1);
}

#[tokio::test]
async fn quoting_fills_the_reply_box() {
    let d = demo().await;
    let first = post::Entity::find().one(&d.db).await.unwrap().unwrap();
    let page = get(
        &d.app,
        &format!("{}?quote={}", d.topic_path, first.id),
        Some(&d.sam),
    )
    .await;
    assert!(
        page.body
            // The textarea's text is escaped like any other (a browser shows `>`).
            .contains(">@casey wrote:\n&gt; Every Friday I copy the weekly report"),
        "quote in the textarea"
    );
}

#[tokio::test]
async fn authors_edit_their_posts_and_nobody_else_can() {
    let d = demo().await;
    let first = post::Entity::find().one(&d.db).await.unwrap().unwrap();
    let edit_path = format!("/p/{}/edit", first.id);

    let forbidden = get(&d.app, &edit_path, Some(&d.sam)).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let res = post_fetch(
        &d.app,
        "/api/edit_post",
        &[("post_id", &first.id.to_string()), ("body", "hijacked")],
        Some(&d.sam),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.body.contains(app::server::visibility::NOT_YOUR_POST));
    assert_eq!(
        post::Entity::find_by_id(first.id)
            .one(&d.db)
            .await
            .unwrap()
            .unwrap()
            .source,
        first.source
    );

    let form = get(&d.app, &edit_path, Some(&d.casey)).await;
    assert!(form.body.contains("Every Friday I copy the weekly report"));
    let res = post_form(
        &d.app,
        "/api/edit_post",
        &[
            ("post_id", &first.id.to_string()),
            ("body", "Every Friday, **by hand**."),
        ],
        Some(&d.casey),
        &edit_path,
    )
    .await;
    assert_eq!(
        res.location.as_deref(),
        Some(format!("{}#post-1", d.topic_path).as_str())
    );
    let page = get(&d.app, &d.topic_path, None).await;
    assert!(page.body.contains("<strong>by hand</strong>") && page.body.contains(">edited</span>"));
}

/// Browsers get a shared page gzipped (made once, when it was stored); clients that do not
/// ask for gzip, or send no Sec-Fetch-Site (their forms get a token written in), get it plain.
#[tokio::test]
async fn browsers_get_shared_pages_gzipped() {
    let d = demo().await;
    let ask = |encoding: &'static str, browser: bool| {
        let mut req = Request::get(d.topic_path.as_str()).header(header::ACCEPT_ENCODING, encoding);
        if browser {
            req = req.header("sec-fetch-site", "none");
        }
        send(&d.app, req.body(Body::empty()).unwrap())
    };
    let plain = ask("identity", true).await;
    for (encoding, browser, gzipped) in [
        ("gzip, deflate, br, zstd", true, true),
        ("br;q=1.0, GZIP;q=0.5", true, true),
        ("identity", true, false),
        ("gzip;q=0", true, false),
        ("gzip", false, false),
    ] {
        let page = ask(encoding, browser).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.header("vary"), Some("accept-encoding"));
        assert_eq!(
            page.header("content-encoding"),
            gzipped.then_some("gzip"),
            "{encoding}, browser: {browser}"
        );
        if browser {
            assert_eq!(page.body, plain.body, "{encoding}");
        } else {
            assert!(
                page.body.contains(r#"name="_csrf""#),
                "its forms got a token"
            );
        }
        if gzipped {
            assert!(
                page.wire_bytes * 2 < plain.wire_bytes,
                "{} of {}",
                page.wire_bytes,
                plain.wire_bytes
            );
        }
    }
}

/// A member's pages (rendered for them, or kept for members who get the same page: never in
/// the visitors' shared copies) leave gzipped when the browser asked from this site; a request another site caused gets them plain (nothing on them can be guessed from
/// a compressed length), and so do clients without Sec-Fetch-Site (their forms get a token).
#[tokio::test]
async fn members_pages_are_gzipped_only_for_requests_from_this_site() {
    let d = demo().await;
    let ask = |encoding: &'static str, site: Option<&'static str>| {
        let mut req = Request::get(d.topic_path.as_str())
            .header(header::ACCEPT_ENCODING, encoding)
            .header(header::COOKIE, d.casey.as_str());
        if let Some(site) = site {
            req = req.header("sec-fetch-site", site);
        }
        send(&d.app, req.body(Body::empty()).unwrap())
    };
    // The first is rendered, the rest come from the kept page (its scripts allowed by hash,
    // not by a nonce in their tags, so a few bytes shorter).
    ask("identity", Some("same-origin")).await;
    let plain = ask("identity", Some("same-origin")).await;
    assert!(plain.body.contains("Signed in as"), "a member's page");
    for (encoding, site, gzipped) in [
        ("gzip, deflate, br, zstd", Some("same-origin"), true),
        ("gzip", Some("none"), true),
        ("gzip", Some("cross-site"), false),
        ("gzip", Some("same-site"), false),
        ("gzip;q=0", Some("same-origin"), false),
        ("gzip", None, false),
    ] {
        let page = ask(encoding, site).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            page.header("content-encoding"),
            gzipped.then_some("gzip"),
            "{encoding}, {site:?}"
        );
        assert!(page.body.contains("Signed in as"), "{encoding}, {site:?}");
        if gzipped {
            assert_eq!(page.header("vary"), Some("accept-encoding"));
            // Only the form's one-shot token differs between two answers.
            assert_eq!(page.body.len(), plain.body.len());
            assert!(
                page.wire_bytes * 2 < plain.wire_bytes,
                "{} of {}",
                page.wire_bytes,
                plain.wire_bytes
            );
        }
        if site.is_none() {
            assert!(
                page.body.contains(r#"name="_csrf""#),
                "its forms got a token"
            );
        }
    }
}

#[tokio::test]
async fn visitors_share_cached_pages_and_a_write_refreshes_them() {
    let d = demo().await;
    let first = get(&d.app, &d.topic_path, None).await;
    // Changed behind the site's back (so the cache is not emptied): a cached page still shows
    // the old title, which proves the second answer came from the cache.
    change_topic_directly(&d, |t| {
        t.title = Set("Renamed behind the cache's back".into())
    })
    .await;
    let second = get(&d.app, &d.topic_path, None).await;
    assert_eq!(
        (first.stable_body(), first.header("content-security-policy")),
        (
            second.stable_body(),
            second.header("content-security-policy")
        ),
        "a visitor's page is served from the cache (only the cross-site token is their own)"
    );
    assert!(
        first.nonce().is_none()
            && first
                .header("content-security-policy")
                .unwrap()
                .contains("'sha256-"),
        "a shared page allows its scripts by hash, not by a nonce everyone would know"
    );
    assert!(
        !first.body.contains(r#"name="form_token" value="0"#)
            && first.body.contains(r#"name="form_token" value="""#),
        "no token in a shared page"
    );

    // A member's page is never cached (it says who they are, and carries their own token).
    let mine = get(&d.app, &d.topic_path, Some(&d.casey)).await;
    assert!(mine.body.contains("Signed in as <strong>casey</strong>"));
    assert_ne!(
        form_token_on(&d.app, "/signup", None).await,
        form_token_on(&d.app, "/signup", None).await,
        "forms with tokens are not cached"
    );

    // A new reply shows to visitors at once.
    reply_form(&d, Some(&d.casey), "Fresh reply after caching", &[]).await;
    let fresh = get(&d.app, &d.topic_path, None).await.body;
    assert!(fresh.contains("Fresh reply after caching") && fresh.contains("Renamed behind"));
}

/// Statements of a reply posted through the router as a browser without JavaScript posts it,
/// from reading the session to the redirect (see `app::server::forum`'s statement budget for
/// the reply itself).
const REPLY_REQUEST_STATEMENTS: usize = 24;

#[tokio::test]
async fn a_reply_request_runs_within_its_statement_budget() {
    use std::sync::{Arc, Mutex};
    let mut db = sqlite_memory().await;
    app::server::demo::seed_if_empty(&db).await.unwrap();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    db.set_metric_callback(move |i| log.lock().unwrap().push(i.statement.sql.clone()));
    let app = router_for(db.clone());
    let casey = session_of(&app, "casey", "demo-customer-pass").await;
    let t = topic::Entity::find().one(&db).await.unwrap().unwrap();
    let path = format!("/t/{}/{}", t.id, t.slug);
    // A first reply: the follow row and the topic author's notification exist after it.
    for body in ["First answer.", "Any news on this?"] {
        let token = form_token_on(&app, &path, Some(&casey)).await;
        seen.lock().unwrap().clear();
        let res = post_reply(&app, &path, t.id, body, &token, &casey).await;
        assert_eq!(res.status, StatusCode::FOUND);
    }
    let seen = seen.lock().unwrap().clone();
    for (n, sql) in seen.iter().enumerate() {
        println!("{n:3} {}", sql.chars().take(200).collect::<String>());
    }
    assert!(
        seen.len() <= REPLY_REQUEST_STATEMENTS,
        "{} statements",
        seen.len()
    );
}
