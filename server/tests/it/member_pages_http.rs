//! Signed-in members' topic pages kept by what their render reads (page_cache::member_layer,
//! issue 20 point 4). A member whose page would be the same as a kept one gets it without a
//! render, with their own name and reply-form token in it; whatever page a member is sent, kept
//! or not, is exactly the page a fresh render would have given them.
use crate::common::*;
use axum::{Router, http::StatusCode};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};

const TOPIC: &str = "/t/1/";

/// The demo's first topic's address (its slug from the visitor's page's redirect).
async fn topic_path(app: &Router) -> String {
    let res = get(app, TOPIC.trim_end_matches('/'), None).await;
    match res.status {
        StatusCode::MOVED_PERMANENTLY => res.location.unwrap(),
        _ => panic!("the topic's short address redirects: {}", res.status),
    }
}

/// Served from a kept page: its scripts are allowed by hash, not by this response's nonce.
fn kept(page: &Reply) -> bool {
    page.header("content-security-policy")
        .is_some_and(|p| !p.contains("'nonce-") && p.contains("'sha256-"))
}

/// The reply form's one-shot token on the page.
fn form_token(page: &Reply) -> String {
    let marker = r#"name="form_token" value=""#;
    let at = page.body.find(marker).expect("the page has a reply form") + marker.len();
    page.body[at..at + 64].to_string()
}

/// The page without what differs on every response for the same reader: the nonce (or the
/// hashes that stand for it), the cross-site token and the reply form's token.
fn same_for_reader(page: &Reply) -> String {
    page.stable_body()
        .replace(&form_token(page), "FORM_TOKEN")
        .replace(r#" nonce="NONCE""#, "")
        .replace(r#"crossorigin="NONCE""#, r#"crossorigin="""#)
}

/// Makes every kept page stale, as any write does.
async fn a_write(db: &DatabaseConnection) {
    app::server::page_version::changed(db).await;
}

async fn set_display_name(db: &DatabaseConnection, name: &str, display_name: &str) {
    use app::server::entity::user;
    let mut m: user::ActiveModel = member(db, name).await.into();
    m.display_name = Set(display_name.into());
    m.update(db).await.unwrap();
}

/// The page `cookie` gets now, and the page a fresh render gives them (after a write that
/// changes nothing they see): the same, apart from the tokens.
async fn assert_own_page(
    app: &Router,
    db: &DatabaseConnection,
    path: &str,
    cookie: &str,
    who: &str,
) -> Reply {
    let served = get(app, path, Some(cookie)).await;
    assert_eq!(served.status, StatusCode::OK, "{who}: {}", served.body);
    a_write(db).await;
    let fresh = get(app, path, Some(cookie)).await;
    assert!(
        !kept(&fresh),
        "{who}: after a write the page is rendered again"
    );
    assert_eq!(
        same_for_reader(&served),
        same_for_reader(&fresh),
        "{who} was sent another reader's page"
    );
    served
}

#[tokio::test]
async fn members_who_would_get_the_same_page_share_one_render_with_their_own_name_and_token() {
    let (db, app) = demo_site().await;
    let path = topic_path(&app).await;
    let first = sign_up(&app, "reader.one", "one@example.com", "a long password 1").await;
    let second = sign_up(&app, "reader-two", "two@example.com", "a long password 2").await;
    // Neither a display name nor an id is on a topic page: members differing in them share it.
    set_display_name(&db, "reader-two", "<script>alert(1)</script> & \"Two\"").await;

    let rendered = get(&app, &path, Some(&first)).await;
    assert!(!kept(&rendered), "the first member's page is rendered");
    let shared = get(&app, &path, Some(&second)).await;
    assert!(kept(&shared), "the second member's page is the kept one");
    assert_eq!(
        signed_in_as(&app, &second).await.as_deref(),
        Some("reader-two")
    );
    assert!(
        shared
            .body
            .contains("Signed in as <strong>reader-two</strong>")
    );
    assert!(
        !shared.body.contains("reader.one"),
        "no trace of the first reader"
    );
    assert_ne!(
        form_token(&shared),
        form_token(&rendered),
        "each gets their own form token"
    );
    let doc = scraper::Html::parse_document(&shared.body);
    let scripts = scraper::Selector::parse("script").unwrap();
    assert!(
        doc.select(&scripts)
            .all(|s| !s.inner_html().contains("alert(1)"))
    );

    // The token in the kept page is the second member's own: their reply goes through.
    let topic_id = path.split('/').nth(2).unwrap();
    let posted = post_form(
        &app,
        "/api/reply",
        &[
            ("topic_id", topic_id),
            ("body", "Replying from a page kept for another member."),
            ("form_token", &form_token(&shared)),
        ],
        Some(&second),
        &path,
    )
    .await;
    assert_eq!(posted.status, StatusCode::FOUND, "{}", posted.body);
    assert!(!posted.location.unwrap_or_default().contains("__err"));
    // The reply is a write: the next page is rendered afresh and shows it.
    let after = get(&app, &path, Some(&first)).await;
    assert!(!kept(&after));
    assert!(
        after
            .body
            .contains("Replying from a page kept for another member.")
    );

    // And the kept page is what a render would have given the second member.
    get(&app, &path, Some(&first)).await;
    assert_own_page(&app, &db, &path, &second, "reader-two").await;
}

/// Readers whose pages differ: staff (their tools), the admin (moderation, the review count),
/// the topic's author, a member following it, one with a kept draft, one with unread
/// notifications, one suspended. Each is sent their own page, never the one kept for the plain
/// member who read just before them.
#[tokio::test]
async fn a_member_whose_page_differs_never_gets_another_ones() {
    let m = demo_members().await;
    let (db, app) = (&m.db, &m.app);
    let path = topic_path(app).await;
    let plain = sign_up(
        app,
        "plain.reader",
        "plain@example.com",
        "a long password 1",
    )
    .await;
    let drafter = sign_up(app, "drafter", "drafter@example.com", "a long password 2").await;
    let suspended = sign_up(
        app,
        "suspended.one",
        "susp@example.com",
        "a long password 3",
    )
    .await;
    let topic_id = path.split('/').nth(2).unwrap().to_string();

    // A kept draft for this topic's reply form: a no-JavaScript preview keeps the text.
    let token = form_token_on(app, &path, Some(&drafter)).await;
    let saved = post_form(
        app,
        "/api/reply",
        &[
            ("topic_id", &topic_id),
            ("body", "My half-written <b>draft</b>"),
            ("form_token", &token),
            ("preview", "1"),
        ],
        Some(&drafter),
        &path,
    )
    .await;
    assert!(saved.status.is_redirection(), "{}", saved.body);
    {
        use app::server::entity::user;
        let mut s: user::ActiveModel = member(db, "suspended.one").await.into();
        s.suspended_until = Set(Some(chrono::Utc::now() + chrono::Duration::days(3)));
        s.update(db).await.unwrap();
    }

    for (who, cookie) in [
        ("sam (staff)", &m.sam),
        ("admin", &m.admin),
        ("casey", &m.casey),
        ("drafter", &drafter),
        ("suspended.one", &suspended),
    ] {
        // The plain member's page is kept first; then this reader asks.
        get(app, &path, Some(&plain)).await;
        assert!(
            kept(&get(app, &path, Some(&plain)).await),
            "the plain page is kept"
        );
        assert_own_page(app, db, &path, cookie, who).await;
    }
    let drafted = get(app, &path, Some(&drafter)).await;
    assert!(
        drafted.body.contains("My half-written"),
        "the draft is in their form"
    );
    assert!(
        !get(app, &path, Some(&plain))
            .await
            .body
            .contains("half-written")
    );
}

/// The name in a page's header, if it is a member's page.
fn signed_in_name(page: &Reply) -> Option<String> {
    let marker = "Signed in as <strong>";
    let at = page.body.find(marker)? + marker.len();
    let rest = &page.body[at..];
    Some(rest[..rest.find('<')?].to_string())
}

/// A render waits on the database, and the thread takes up another request meanwhile: loads of
/// one request's inputs and renders of others' interleave on one thread. Each answer is still
/// its own reader's: each member's page names them, and a made-up session gets a visitor's page.
#[tokio::test]
async fn interleaved_requests_never_get_another_readers_page() {
    let m = demo_members().await;
    let path = topic_path(&m.app).await;
    let readers = [
        ("admin", Some(m.admin.clone())),
        ("sam", Some(m.sam.clone())),
        ("casey", Some(m.casey.clone())),
        ("nobody", Some("backyard_session=made-up".to_string())),
        ("visitor", None),
    ];
    let mut answers = tokio::task::JoinSet::new();
    for round in 0..30 {
        for (who, cookie) in readers.clone() {
            let (app, path) = (m.app.clone(), path.clone());
            answers.spawn(async move { (who, get(&app, &path, cookie.as_deref()).await) });
        }
        // Now and then a write: pages are rendered again while others are served kept.
        if round % 5 == 4 {
            a_write(&m.db).await;
        }
        tokio::task::yield_now().await;
    }
    let mut served = 0;
    while let Some(answer) = answers.join_next().await {
        let (who, page) = answer.unwrap();
        assert_eq!(page.status, StatusCode::OK, "{who}");
        let expected = match who {
            "nobody" | "visitor" => None,
            name => Some(name.to_string()),
        };
        assert_eq!(
            signed_in_name(&page),
            expected,
            "{who} got another reader's page"
        );
        served += 1;
    }
    assert_eq!(served, 150);
}
