//! Search through the real router, as a browser without JavaScript uses it: the header's box on
//! every page, /search with its filters and messages, hostile text in results (parsed as HTML:
//! the only markup in a title or snippet is `<mark>`), queries that look like engine syntax, and
//! the similar topics of the new-topic form (the JSON call and the plain form's round trip).
use crate::common::*;
use app::server::{entity::topic, forum};
use axum::http::StatusCode;
use scraper::{Html, Selector};
use sea_orm::{EntityTrait, PaginatorTrait};

fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    doc.select(&Selector::parse(css).unwrap()).collect()
}

/// A GET as the island's fetch sends it: it wants JSON.
async fn get_json(app: &axum::Router, path: &str, cookie: Option<&str>) -> Reply {
    let mut req =
        axum::http::Request::get(path).header(axum::http::header::ACCEPT, "application/json");
    if let Some(c) = cookie {
        req = req.header(axum::http::header::COOKIE, c);
    }
    send(app, req.body(axum::body::Body::empty()).unwrap()).await
}

fn noindex(doc: &Html) -> bool {
    select(doc, r#"meta[name="robots"]"#).iter().any(|m| {
        m.value()
            .attr("content")
            .is_some_and(|c| c.contains("noindex"))
    })
}

#[tokio::test]
async fn every_page_has_a_search_box_that_works_without_javascript() {
    let (_db, app) = demo_site().await;
    for path in ["/", "/blog", "/login", "/c/questions", "/no/such/page"] {
        let page = Html::parse_document(&get(&app, path, None).await.body);
        let forms = select(&page, r#"header form[role="search"]"#);
        assert_eq!(forms.len(), 1, "{path}");
        let form = forms[0].value();
        assert_eq!(form.attr("method"), Some("get"), "{path}");
        assert_eq!(form.attr("action"), Some("/search"), "{path}");
        let input = select(&page, r#"header form[role="search"] input[name="q"]"#);
        let id = input[0].value().attr("id").unwrap();
        // Labelled, for screen readers.
        assert_eq!(
            select(&page, &format!(r#"label[for="{id}"]"#)).len(),
            1,
            "{path}"
        );
    }
}

#[tokio::test]
async fn search_finds_the_demo_answer_and_links_to_the_exact_post() {
    let (db, app) = demo_site().await;
    let res = get(&app, "/search?q=export+csv", None).await;
    assert_eq!(res.status, StatusCode::OK);
    let page = Html::parse_document(&res.body);
    assert!(noindex(&page), "search results are not for crawlers");
    let hits = select(&page, ".search-hit");
    assert!(!hits.is_empty(), "{}", res.body);
    let first_link = select(&page, ".search-hit-title a")[0]
        .value()
        .attr("href")
        .unwrap()
        .to_string();
    assert!(
        first_link.starts_with("/t/") && first_link.contains("#post-"),
        "{first_link}"
    );
    assert!(
        !select(&page, ".search-hit mark").is_empty(),
        "matched words are marked"
    );
    // The title says what was searched; the box keeps it.
    assert!(
        select(&page, "head title")[0]
            .text()
            .collect::<String>()
            .starts_with("Search: export csv")
    );
    assert_eq!(
        select(&page, "#search-q")[0].value().attr("value"),
        Some("export csv")
    );
    // Every topic once.
    let topics = topic::Entity::find().count(&db).await.unwrap();
    assert!(hits.len() as u64 <= topics);
}

#[tokio::test]
async fn an_empty_query_gets_help_and_odd_queries_never_fail() {
    let (_db, app) = demo_site().await;
    let res = get(&app, "/search", None).await;
    assert_eq!(res.status, StatusCode::OK);
    let page = Html::parse_document(&res.body);
    assert!(!select(&page, ".search-tips").is_empty());
    assert!(noindex(&page));
    let long = "a".repeat(1000);
    let longer = "export%20".repeat(150);
    for q in [
        "%22",
        "%22%22%22",
        "*",
        "(",
        ")",
        "NEAR(export%20csv)",
        "export%20OR%20csv",
        "title:export",
        "-export",
        "export*",
        "%5E",
        "%7B%7D",
        "AND",
        "%26%7C!",
        "'%20OR%201=1%20--",
        &long,
        &longer,
        "%E6%9D%B1%E4%BA%AC",
        "caf%C3%A9",
        "%00",
        "%F0%9F%98%80",
    ] {
        let res = get(&app, &format!("/search?q={q}"), None).await;
        assert_eq!(res.status, StatusCode::OK, "{q}");
        assert!(
            !res.body.contains("fts5")
                && !res.body.contains("syntax error")
                && !res.body.contains("tsquery"),
            "{q}: an engine message reached the page"
        );
    }
    // A page past the end: not found, said so, not for crawlers.
    let res = get(&app, "/search?q=export&page=99", None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let page = Html::parse_document(&res.body);
    assert!(noindex(&page));
    assert!(res.body.contains("There is no page 99"), "{}", res.body);
}

#[tokio::test]
async fn bad_filters_are_said_next_to_their_field_and_keep_the_query() {
    let (_db, app) = demo_site().await;
    let res = get(
        &app,
        "/search?q=export&category=nope&author=nobody-here&from=31-12-2026&to=2026-01-01",
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    let page = Html::parse_document(&res.body);
    let error = |id: &str| {
        select(&page, &format!("#{id}"))[0]
            .text()
            .collect::<String>()
    };
    assert_eq!(
        error("search-category-error"),
        app::server::search::NO_SUCH_CATEGORY
    );
    assert_eq!(
        error("field-author-error"),
        app::server::search::NO_SUCH_MEMBER
    );
    assert_eq!(error("field-from-error"), app::server::search::BAD_DATE);
    assert!(select(&page, ".search-hit").is_empty());
    assert_eq!(
        select(&page, "#field-author")[0].value().attr("value"),
        Some("nobody-here")
    );
    assert!(
        select(&page, "details.search-filters")[0]
            .value()
            .attr("open")
            .is_some()
    );
}

/// What a hostile member writes stays text in results: the page has exactly the elements a
/// harmless twin has, the title and snippet read back as the text written, and `<mark>` is the
/// only element inside them.
#[tokio::test]
async fn hostile_text_in_results_is_only_text() {
    const HOSTILE: &str = r#"zebra</title></textarea><script>alert(1)</script><img src=x onerror=alert(2)>'"<mark>x</mark>"#;
    let db = sqlite_memory().await;
    app::server::demo::seed_if_empty(&db).await.unwrap();
    let casey = app::server::entity::user::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == "casey")
        .unwrap();
    let title = format!("Quokka {HOSTILE}");
    forum::start_topic(
        &db,
        &casey,
        "questions",
        &title[..title.len().min(200)],
        &format!("Body with `{HOSTILE}` and quokka {HOSTILE}"),
        None,
    )
    .await
    .unwrap();
    let app = router_for(db.clone());
    for q in ["quokka", "zebra", "alert", "mark"] {
        let res = get(&app, &format!("/search?q={q}"), None).await;
        let page = Html::parse_document(&res.body);
        let hits = select(&page, ".search-hit");
        assert_eq!(hits.len(), 1, "{q}: {}", res.body);
        for part in [".search-hit-title a", ".search-snippet"] {
            for el in select(&page, &format!("{part} *")) {
                assert_eq!(el.value().name(), "mark", "{q}: only marks inside {part}");
            }
        }
        let shown_title: String = select(&page, ".search-hit-title a")[0].text().collect();
        assert_eq!(shown_title, &title[..title.len().min(200)], "{q}");
        let snippet: String = select(&page, ".search-snippet")[0].text().collect();
        assert!(
            snippet.contains("<script>alert(1)</script>"),
            "{q}: {snippet}"
        );
        assert!(select(&page, "img[onerror]").is_empty());
        assert_eq!(
            select(&page, "script").len(),
            select(
                &Html::parse_document(
                    &get(&app, "/search?q=nothing-matches-this", None).await.body
                ),
                "script"
            )
            .len(),
            "{q}: no script element added"
        );
    }
}

#[tokio::test]
async fn similar_topics_come_as_json_and_through_the_plain_form() {
    let d = demo_members().await;
    // With JavaScript: the island's call.
    let res = get_json(&d.app, "/api/similar_topics?title=export%20to%20csv", None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let list: Vec<serde_json::Value> = serde_json::from_str(&res.body).unwrap();
    assert!(!list.is_empty() && list.len() <= 5, "{list:?}");
    assert!(list[0]["url"].as_str().unwrap().starts_with("/t/"));

    // Without: "Check for similar topics" keeps what was typed and comes back with the list.
    let before = app::server::entity::post::Entity::find()
        .count(&d.db)
        .await
        .unwrap();
    let token = form_token_on(&d.app, "/new-topic", Some(&d.casey)).await;
    let res = post_form(
        &d.app,
        "/api/start_topic",
        &[
            ("category", "questions"),
            ("title", "Export to CSV please"),
            ("body", "Typed before checking."),
            ("form_token", &token),
            ("similar", "1"),
        ],
        Some(&d.casey),
        "/new-topic",
    )
    .await;
    assert!(res.status.is_redirection(), "{}", res.status);
    assert!(res.location.as_deref().unwrap().contains("#similar-topics"));
    let page = follow(&d.app, &res, Some(&d.casey)).await;
    let doc = Html::parse_document(&page.body);
    assert_eq!(
        select(&doc, "#field-title")[0].value().attr("value"),
        Some("Export to CSV please")
    );
    assert!(
        select(&doc, "#field-body")[0]
            .text()
            .collect::<String>()
            .contains("Typed before checking.")
    );
    let suggested = select(&doc, "#similar-topics li a");
    assert!(!suggested.is_empty(), "{}", page.body);
    assert_eq!(
        app::server::entity::post::Entity::find()
            .count(&d.db)
            .await
            .unwrap(),
        before,
        "checking posts nothing"
    );
    // A visitor may check too: it is a read.
    let res = post_form(
        &d.app,
        "/api/start_topic",
        &[
            ("category", ""),
            ("title", "csv export"),
            ("body", ""),
            ("form_token", "x"),
            ("similar", "1"),
        ],
        None,
        "/new-topic",
    )
    .await;
    assert!(res.status.is_redirection());
    let page = follow(&d.app, &res, None).await;
    let doc = Html::parse_document(&page.body);
    assert!(!select(&doc, "#similar-topics li").is_empty());
    assert_eq!(
        select(&doc, "#field-title")[0].value().attr("value"),
        Some("csv export")
    );
}

/// A hidden reply and a held topic are found by no one: not the visitor, the customer who wrote
/// them, staff, moderators or admins (search shows what a visitor may read, to everyone).
#[tokio::test]
async fn hidden_and_held_text_is_found_by_no_role() {
    let d = demo_members().await;
    let users = app::server::entity::user::Entity::find()
        .all(&d.db)
        .await
        .unwrap();
    let by = |name: &str| users.iter().find(|u| u.username == name).unwrap().clone();
    let (casey, admin) = (by("casey"), by("admin"));
    let t = topic::Entity::find().one(&d.db).await.unwrap().unwrap();
    let reply = forum::reply(&d.db, &casey, t.id, "Platypus reply to hide.", None)
        .await
        .unwrap();
    app::server::moderation::act_on_post(
        &d.db,
        &admin,
        reply.id,
        app::server::moderation::PostAction::Hide,
        "Off topic",
    )
    .await
    .unwrap();
    app::server::moderation::add_watched_word(&d.db, &admin, "quarantine", "hold")
        .await
        .unwrap();
    forum::start_topic(
        &d.db,
        &casey,
        "questions",
        "Platypus held",
        "quarantine platypus",
        None,
    )
    .await
    .unwrap();
    for cookie in [
        None,
        Some(d.casey.as_str()),
        Some(d.sam.as_str()),
        Some(d.admin.as_str()),
    ] {
        let res = get(&d.app, "/search?q=platypus", cookie).await;
        assert_eq!(res.status, StatusCode::OK);
        let page = Html::parse_document(&res.body);
        assert!(
            select(&page, ".search-hit").is_empty(),
            "{cookie:?}: {}",
            res.body
        );
        let similar = get_json(&d.app, "/api/similar_topics?title=platypus%20held", cookie).await;
        assert_eq!(similar.body, "[]", "{cookie:?}");
    }
}
