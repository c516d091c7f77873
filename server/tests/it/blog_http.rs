//! The blog through the real router: pages and their privacy, the editor's permissions and bad
//! input, comments (which are forum posts), and the Atom feed read by a real XML parser.

use crate::common::*;
use app::server::posting::{COMMENTS_CLOSED, NOT_PUBLISHED};
use app::server::{
    blog::{self, ARTICLE_MISSING, BODY_EMPTY, SCHEDULE_INVALID, TITLE_EMPTY},
    entity::{article, post},
    records::articles::STAFF_ONLY,
};
use axum::http::StatusCode;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

const DEMO_ARTICLE: &str = "/blog/what-we-shipped-in-november";

async fn article_count(db: &DatabaseConnection) -> u64 {
    article::Entity::find().count(db).await.unwrap()
}

async fn post_count(db: &DatabaseConnection) -> u64 {
    post::Entity::find().count(db).await.unwrap()
}

/// The editor's fields with sensible defaults, `changes` applied on top.
fn article_fields<'a>(token: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("article_id", "0"),
        ("title", "Our plans for next year"),
        ("slug", ""),
        ("summary", "Where we are going."),
        ("body", "We will **listen** more."),
        ("cover_image_url", ""),
        ("tags", "roadmap"),
        ("comments_open", "on"),
        ("publish", "draft"),
        ("publish_at", ""),
        ("form_token", token),
    ];
    for (name, value) in changes {
        match fields.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value,
            None => fields.push((name, value)),
        }
    }
    fields.retain(|(_, v)| *v != "<absent>");
    fields
}

/// Posts the editor as a browser without JavaScript does.
async fn save(d: &DemoMembers, cookie: &str, from: &str, changes: &[(&str, &str)]) -> Reply {
    let token = form_token_on(&d.app, "/blog/new", Some(&d.sam)).await;
    let fields = article_fields(&token, changes);
    post_form(&d.app, "/api/save_article", &fields, Some(cookie), from).await
}

fn escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[tokio::test]
async fn the_blog_and_an_article_render_with_feed_link_byline_and_comments() {
    let d = demo_members().await;
    let index = get(&d.app, "/blog", None).await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(index.body.contains("What we shipped in November"));
    assert!(index.body.contains(r#"href="/blog/tag/release-notes""#));
    assert!(index.body.contains("2 comments"));
    for page in [&index.body, &get(&d.app, "/", None).await.body] {
        assert!(
            page.contains(r#"href="/blog/feed.xml""#) && page.contains("application/atom+xml"),
            "every page links the feed in its head"
        );
    }

    let a = get(&d.app, DEMO_ARTICLE, None).await;
    assert_eq!(a.status, StatusCode::OK);
    for expected in [
        "<title>What we shipped in November · Backyard</title>",
        r#"<meta property="og:type" content="article">"#,
        "<strong>Reports load in under a second</strong>",
        // The author's name and staff title, and a date.
        r#"<a href="/u/sam" class="post-author">sam</a>"#,
        "Support Lead",
        "<time datetime=",
        // Comments are posts: a customer's, then a staff reply with its badge.
        "Could the dashboard remember my date range?",
        r#"<span class="visually-hidden">Reply from </span>Staff"#,
        "Community Manager</span>",
        "Leave a comment",
    ] {
        assert!(a.body.contains(expected), "article page lacks {expected}");
    }
    // Tag pages list the tag's articles; an unknown tag is an empty list, not an error.
    let tagged = get(&d.app, "/blog/tag/product", None).await;
    assert!(tagged.body.contains("What we shipped in November"));
    let none = get(&d.app, "/blog/tag/nothing-here", None).await;
    assert_eq!(none.status, StatusCode::OK);
    assert!(none.body.contains("No published articles have this tag."));

    assert_eq!(
        get(&d.app, "/blog/no-such-article", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&d.app, "/blog?page=9", None).await.status,
        StatusCode::NOT_FOUND
    );

    // The comment topic's forum address leads to the article; the forum does not list it.
    let t = article::Entity::find().one(&d.db).await.unwrap().unwrap();
    let via_forum = get(&d.app, &format!("/t/{}/x", t.topic_id), None).await;
    assert_eq!(via_forum.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(via_forum.location.as_deref(), Some(DEMO_ARTICLE));
    assert!(!get(&d.app, "/", None).await.body.contains("Blog comments"));
    assert_eq!(
        get(&d.app, "/c/blog-comments", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn staff_write_a_draft_preview_it_privately_then_publish() {
    let d = demo_members().await;
    let res = save(&d, &d.sam, "/blog/new", &[]).await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert_eq!(
        res.location.as_deref(),
        Some("/blog/our-plans-for-next-year?saved=draft")
    );
    let path = "/blog/our-plans-for-next-year";
    let preview = get(&d.app, &format!("{path}?saved=draft"), Some(&d.sam)).await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(
        preview
            .body
            .contains("Draft saved. This is its real address")
    );
    assert!(
        preview
            .body
            .contains("We will <strong>listen</strong> more.")
    );
    assert!(
        preview
            .body
            .contains("Comments open when the article is published.")
    );
    assert!(get(&d.app, path, Some(&d.admin)).await.status == StatusCode::OK);

    // Nobody else can see it, or learn from any list that it exists.
    let a = article::Entity::find()
        .filter(article::Column::Slug.eq("our-plans-for-next-year"))
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    for cookie in [None, Some(d.casey.as_str())] {
        let page = get(&d.app, path, cookie).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert!(page.body.contains(ARTICLE_MISSING));
        assert!(!page.body.contains("listen"));
        let topic = get(&d.app, &format!("/t/{}/x", a.topic_id), cookie).await;
        assert_eq!(topic.status, StatusCode::NOT_FOUND);
        assert!(
            !get(&d.app, "/blog", cookie)
                .await
                .body
                .contains("Our plans")
        );
    }
    assert!(
        !get(&d.app, "/blog/feed.xml", None)
            .await
            .body
            .contains("Our plans")
    );
    assert!(
        !get(&d.app, "/sitemap/site.xml", None)
            .await
            .body
            .contains("our-plans")
    );
    // The author sees it apart from the public list.
    let own = get(&d.app, "/blog", Some(&d.sam)).await;
    assert!(own.body.contains("Drafts and scheduled") && own.body.contains("Our plans"));

    // Edit it: the editor holds the stored fields; publishing puts it everywhere.
    let editor = get(&d.app, &format!("{path}/edit"), Some(&d.sam)).await;
    assert!(editor.body.contains(r#"value="Our plans for next year""#));
    assert!(editor.body.contains("We will **listen** more.</textarea>"));
    let id = a.id.to_string();
    let res = save(
        &d,
        &d.sam,
        &format!("{path}/edit"),
        &[("article_id", &id), ("publish", "now")],
    )
    .await;
    assert_eq!(
        res.location.as_deref(),
        Some(format!("{path}?saved=published").as_str())
    );
    assert_eq!(get(&d.app, path, None).await.status, StatusCode::OK);
    assert!(
        get(&d.app, "/blog", None)
            .await
            .body
            .contains("Our plans for next year")
    );
    assert!(
        get(&d.app, "/blog/feed.xml", None)
            .await
            .body
            .contains("Our plans for next year")
    );
    assert!(
        get(&d.app, "/sitemap/site.xml", None)
            .await
            .body
            .contains("/blog/our-plans-for-next-year")
    );
    assert_eq!(article_count(&d.db).await, 2);
}

#[tokio::test]
async fn customers_and_visitors_cannot_write_or_edit_articles() {
    let d = demo_members().await;
    let before = (article_count(&d.db).await, post_count(&d.db).await);
    // The form is not shown to a customer: a 403 page instead.
    let page = get(&d.app, "/blog/new", Some(&d.casey)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains(STAFF_ONLY));
    assert!(!page.body.contains(r#"name="title""#));
    let page = get(&d.app, &format!("{DEMO_ARTICLE}/edit"), Some(&d.casey)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(!page.body.contains(r#"name="body""#));
    // No blog "Write" button for them either.
    assert!(
        !get(&d.app, "/blog", Some(&d.casey))
            .await
            .body
            .contains("Write an article")
    );
    assert!(
        get(&d.app, "/blog", Some(&d.sam))
            .await
            .body
            .contains("Write an article")
    );

    // Posting anyway: refused with 403 and the reason, for a new article and for an edit.
    let token = form_token_on(&d.app, "/blog/new", Some(&d.sam)).await;
    let demo_id = article::Entity::find()
        .one(&d.db)
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    for id in ["0", demo_id.as_str()] {
        let fields = article_fields(&token, &[("article_id", id), ("publish", "now")]);
        let res = post_fetch(&d.app, "/api/save_article", &fields, Some(&d.casey)).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
        assert!(res.body.contains(STAFF_ONLY));
    }
    // Signed out: the editor asks to log in, and a post is sent there.
    let page = get(&d.app, "/blog/new", None).await;
    assert!(page.body.contains("Log in to write articles."));
    let fields = article_fields(&token, &[]);
    let res = post_form(&d.app, "/api/save_article", &fields, None, "/blog/new").await;
    assert_eq!(res.location.as_deref(), Some("/login?next=/blog/new"));
    assert_eq!(
        (article_count(&d.db).await, post_count(&d.db).await),
        before
    );
    let unchanged = get(&d.app, DEMO_ARTICLE, None).await;
    assert!(unchanged.body.contains("What we shipped in November"));
}

#[tokio::test]
async fn each_bad_article_gets_its_message_keeps_the_text_and_writes_nothing() {
    let d = demo_members().await;
    let before = article_count(&d.db).await;
    for (changes, message) in [
        (vec![("title", "  ")], TITLE_EMPTY.to_string()),
        (vec![("body", " \n ")], BODY_EMPTY.to_string()),
        (
            vec![("slug", "what-we-shipped-in-november")],
            "/blog/what-we-shipped-in-november is taken by another article. Try what-we-shipped-in-november-2."
                .to_string(),
        ),
        (vec![("slug", "../../etc/passwd")], blog::SLUG_FORMAT.to_string()),
        (vec![("publish", "schedule"), ("publish_at", "next tuesday")], SCHEDULE_INVALID.to_string()),
        (vec![("cover_image_url", "javascript:alert(1)")], blog::COVER_INVALID.to_string()),
    ] {
        let res = save(&d, &d.sam, "/blog/new", &changes).await;
        assert!(
            res.location.as_deref().unwrap_or_default().contains("__err="),
            "{message}: {:?}",
            res.location
        );
        let page = follow(&d.app, &res, Some(&d.sam)).await;
        assert!(page.body.contains(&escaped(&message)), "{message} not shown");
        assert!(
            page.body.contains("Where we are going."),
            "the other fields are kept ({message})"
        );
    }
    assert_eq!(article_count(&d.db).await, before);

    // Scheduling in the past publishes now, and says so.
    let res = save(
        &d,
        &d.sam,
        "/blog/new",
        &[("publish", "schedule"), ("publish_at", "2020-01-01T09:00")],
    )
    .await;
    let location = res.location.unwrap();
    assert!(location.ends_with("?saved=published-now"), "{location}");
    let page = get(&d.app, &location, Some(&d.sam)).await;
    assert!(
        page.body
            .contains("The time you chose has passed, so the article was published now.")
    );
    assert_eq!(
        get(&d.app, "/blog/our-plans-for-next-year", None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn comments_are_posts_with_their_own_rules() {
    let d = demo_members().await;
    let a = article::Entity::find().one(&d.db).await.unwrap().unwrap();
    let topic_id = a.topic_id.to_string();
    let comment = |cookie: Option<String>, body: &'static str| {
        let d = &d;
        let topic_id = topic_id.clone();
        async move {
            // Any fresh token will do (the article's own box is gone once comments are off);
            // a visitor's form has none.
            let token = match cookie.as_deref() {
                Some(c) => form_token_on(&d.app, "/new-topic", Some(c)).await,
                None => String::new(),
            };
            post_form(
                &d.app,
                "/api/reply",
                &[
                    ("topic_id", &topic_id),
                    ("body", body),
                    ("form_token", &token),
                ],
                cookie.as_deref(),
                DEMO_ARTICLE,
            )
            .await
        }
    };
    // A customer comments and lands on their comment; staff answer with the badge.
    let res = comment(Some(d.casey.clone()), "Will the export support Excel?").await;
    assert!(
        res.location
            .as_deref()
            .unwrap()
            .contains("?done=posted&post=")
    );
    assert_eq!(
        landed_on(res.location.as_deref()).as_deref(),
        Some(format!("{DEMO_ARTICLE}#post-3").as_str())
    );
    let res = comment(Some(d.sam.clone()), "Yes, CSV opens in Excel.").await;
    assert_eq!(
        landed_on(res.location.as_deref()).as_deref(),
        Some(format!("{DEMO_ARTICLE}#post-4").as_str())
    );
    let page = get(&d.app, DEMO_ARTICLE, None).await;
    assert!(page.body.contains("Will the export support Excel?"));
    let staff_post = &page.body[page.body.find(r#"id="post-4""#).unwrap()..];
    assert!(
        staff_post[..600].contains(r#"<span class="visually-hidden">Reply from </span>Staff"#)
            && staff_post[..900].contains("Support Lead</span>")
    );

    // Signed out: sent to log in and back, with the text kept.
    let before = post_count(&d.db).await;
    let res = comment(None, "Signed-out thoughts").await;
    assert_eq!(
        res.location.as_deref(),
        Some("/login?next=/blog/what-we-shipped-in-november%23composer")
    );
    let visitor = res.session_cookie().unwrap();
    let back = post_form(
        &d.app,
        "/api/log_in",
        &[
            ("login", "casey"),
            ("password", "demo-customer-pass"),
            ("next", &format!("{DEMO_ARTICLE}#composer")),
        ],
        Some(&visitor),
        "/login",
    )
    .await;
    let cookie = back.session_cookie().unwrap();
    assert!(
        get(&d.app, DEMO_ARTICLE, Some(&cookie))
            .await
            .body
            .contains("Signed-out thoughts</textarea>")
    );
    assert_eq!(post_count(&d.db).await, before);

    // Comments off: refused with the reason; the existing ones stay readable.
    let id = a.id.to_string();
    let res = save(
        &d,
        &d.sam,
        &format!("{DEMO_ARTICLE}/edit"),
        &[
            ("article_id", &id),
            ("title", "What we shipped in November"),
            ("body", &a.source),
            ("publish", "now"),
            ("comments_open", "<absent>"),
        ],
    )
    .await;
    assert!(res.location.unwrap().ends_with("?saved=updated"));
    let res = comment(Some(d.casey.clone()), "Late to the party").await;
    let page = follow(&d.app, &res, Some(&d.casey)).await;
    assert!(page.body.contains(COMMENTS_CLOSED));
    assert!(page.body.contains("Will the export support Excel?"));
    assert_eq!(post_count(&d.db).await, before);

    // A draft takes no comments, even from a client that knows its topic.
    let res = save(&d, &d.sam, "/blog/new", &[]).await;
    assert!(res.location.unwrap().ends_with("saved=draft"));
    let draft = article::Entity::find()
        .filter(article::Column::Slug.eq("our-plans-for-next-year"))
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    let token = form_token_on(&d.app, "/blog/new", Some(&d.sam)).await;
    let res = post_fetch(
        &d.app,
        "/api/reply",
        &[
            ("topic_id", &draft.topic_id.to_string()),
            ("body", "first!"),
            ("form_token", &token),
        ],
        Some(&d.sam),
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains(NOT_PUBLISHED));
    assert_eq!(post_count(&d.db).await, before);
}

const ATOM: &str = "http://www.w3.org/2005/Atom";

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|c| c.tag_name().name() == name && c.tag_name().namespace() == Some(ATOM))
}

fn text(node: roxmltree::Node<'_, '_>, name: &str) -> String {
    child(node, name)
        .and_then(|c| c.text())
        .unwrap_or_else(|| panic!("no <{name}>"))
        .to_string()
}

#[tokio::test]
async fn the_feed_is_atom_with_full_clean_content() {
    let d = demo_members().await;
    // A title that needs escaping, and a body whose HTML must survive as text.
    let res = save(
        &d,
        &d.sam,
        "/blog/new",
        &[
            ("title", r#"Tom & "Jerry" <3 feeds"#),
            (
                "body",
                "Line with <script>alert(1)</script> and **bold** & more",
            ),
            ("publish", "now"),
        ],
    )
    .await;
    assert!(res.location.unwrap().contains("saved=published"));

    let feed = get(&d.app, "/blog/feed.xml", None).await;
    assert_eq!(feed.status, StatusCode::OK);
    let doc = roxmltree::Document::parse(&feed.body).expect("the feed is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().namespace(), Some(ATOM));
    assert_eq!(root.tag_name().name(), "feed");
    // Atom 1.0's required feed elements, and a self link.
    assert!(!text(root, "id").is_empty());
    assert_eq!(text(root, "title"), "Backyard blog");
    chrono::DateTime::parse_from_rfc3339(&text(root, "updated")).expect("RFC 3339 updated");
    assert!(root.children().any(|c| c.tag_name().name() == "link"
        && c.attribute("rel") == Some("self")
        && c.attribute("href") == Some("http://127.0.0.1:3000/blog/feed.xml")));

    let entries: Vec<_> = root
        .children()
        .filter(|c| c.tag_name().name() == "entry")
        .collect();
    assert_eq!(entries.len(), 2, "the two published articles, newest first");
    let ids: std::collections::HashSet<_> = entries.iter().map(|e| text(*e, "id")).collect();
    assert_eq!(ids.len(), 2, "entry ids are unique");
    for e in &entries {
        chrono::DateTime::parse_from_rfc3339(&text(*e, "updated")).expect("entry updated");
        chrono::DateTime::parse_from_rfc3339(&text(*e, "published")).expect("entry published");
        assert!(!text(child(*e, "author").unwrap(), "name").is_empty());
        let link = e
            .children()
            .find(|c| c.tag_name().name() == "link")
            .unwrap();
        assert!(
            link.attribute("href")
                .unwrap()
                .starts_with("http://127.0.0.1:3000/blog/")
        );
        assert_eq!(
            child(*e, "content").unwrap().attribute("type"),
            Some("html")
        );
    }
    let newest = entries[0];
    assert_eq!(text(newest, "title"), r#"Tom & "Jerry" <3 feeds"#);
    let content = text(newest, "content");
    // The clean HTML, exactly as the page shows it: no script survived the pipeline.
    assert!(
        content.contains("<strong>bold</strong> &amp; more"),
        "{content}"
    );
    assert!(!content.contains("<script"), "{content}");
    let stored = article::Entity::find()
        .filter(article::Column::Slug.eq("tom-jerry-3-feeds"))
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(content, stored.html);
    assert_eq!(text(child(entries[1], "author").unwrap(), "name"), "sam");
}
