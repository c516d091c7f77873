//! What crawlers and feed readers get (issue 16, point 4): robots.txt, the sitemap index and
//! its pages, the Atom feeds, JSON-LD, canonical links and `noindex`. Every document is read
//! with a real parser (XML with roxmltree, pages with html5ever, JSON-LD with serde_json),
//! never searched as text.
use app::model::Role;
use app::server::{
    accounts::{NewAccount, create_account},
    blog::{self, ArticleInput, Publish},
    entity::{article, moderation_log, topic, user},
    forum,
    moderation::{self, PostAction},
    settings,
};
use axum::{Router, http::StatusCode};
use chrono::{DateTime, Utc};
use scraper::{Html, Selector};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::common::*;

const SITEMAP_NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";
const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
const PASSWORD: &str = "Qx7#vLp2-kW9rT4z";

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn member(db: &DatabaseConnection, name: &str, trusted: bool) -> user::Model {
    let u = create_account(
        db,
        NewAccount {
            username: name.into(),
            email: format!("{name}@example.com"),
            password: PASSWORD.into(),
            form_token: None,
        },
        Role::Customer,
        None,
    )
    .await
    .unwrap();
    let mut row: user::ActiveModel = u.into();
    row.trust_level = Set(if trusted { 1 } else { 0 });
    row.update(db).await.unwrap()
}

async fn named(db: &DatabaseConnection, username: &str) -> user::Model {
    user::Entity::find()
        .filter(user::Column::UsernameKey.eq(username))
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

fn article_input(title: &str, publish: Publish) -> ArticleInput {
    ArticleInput {
        title: title.into(),
        slug: String::new(),
        summary: String::new(),
        body: "Article text.".into(),
        cover_image_url: String::new(),
        tags: String::new(),
        comments_open: true,
        publish,
    }
}

/// The demo site with one topic of each kind a crawler must or must not see.
struct World {
    db: DatabaseConnection,
    app: Router,
    admin: String,
    /// Public, with a staff reply.
    public: topic::Model,
    held: topic::Model,
    removed: topic::Model,
    /// Public, but its opening post is hidden.
    hidden_opening: topic::Model,
    draft: article::Model,
    scheduled: article::Model,
}

async fn world() -> World {
    let DemoMembers { db, app, admin, .. } = demo_members().await;
    let casey = named(&db, "casey").await;
    let sam = named(&db, "sam").await;
    let mo = {
        let mut row: user::ActiveModel = member(&db, "mo", true).await.into();
        row.role = Set(Role::Moderator.as_str().into());
        row.update(&db).await.unwrap()
    };
    let newbie = member(&db, "newbie", false).await;
    settings::put(&db, settings::NEW_MEMBER_HOLD.0, "1")
        .await
        .unwrap();
    // The demo's own topics count against Casey's hourly limit.
    settings::put(&db, settings::TOPICS_PER_HOUR.0, "0")
        .await
        .unwrap();
    let start = |who: user::Model, title: &'static str, body: &'static str| {
        let db = db.clone();
        async move {
            forum::start_topic(&db, &who, "questions", title, body, None)
                .await
                .unwrap()
        }
    };
    let (public, _) = start(casey.clone(), "How do exports work", "PUBLIC-OPENING-TEXT").await;
    forum::reply(&db, &sam, public.id, "STAFF-REPLY-TEXT", None)
        .await
        .unwrap();
    let (held, _) = start(newbie, "HELD-TOPIC-TITLE", "HELD-TOPIC-BODY").await;
    let (removed, first) = start(casey.clone(), "REMOVED-TOPIC-TITLE", "Soon gone.").await;
    moderation::act_on_post(&db, &mo, first.id, PostAction::Delete, "spam")
        .await
        .unwrap();
    let (hidden_opening, first) = start(casey, "Hidden opening topic", "HIDDEN-OPENING-TEXT").await;
    moderation::act_on_post(&db, &mo, first.id, PostAction::Hide, "rude")
        .await
        .unwrap();
    let (draft, _) = blog::create_article(
        &db,
        &sam,
        &article_input("DRAFT-ARTICLE-TITLE", Publish::Draft),
        None,
    )
    .await
    .unwrap();
    let (scheduled, _) = blog::create_article(
        &db,
        &sam,
        &article_input(
            "SCHEDULED-ARTICLE-TITLE",
            Publish::At(Utc::now() + chrono::Duration::days(2)),
        ),
        None,
    )
    .await
    .unwrap();
    let fresh = |t: topic::Model| {
        let db = db.clone();
        async move {
            topic::Entity::find_by_id(t.id)
                .one(&db)
                .await
                .unwrap()
                .unwrap()
        }
    };
    World {
        public: fresh(public).await,
        held: fresh(held).await,
        removed: fresh(removed).await,
        hidden_opening: fresh(hidden_opening).await,
        db,
        app,
        admin,
        draft,
        scheduled,
    }
}

fn local(url: &str) -> &str {
    url.strip_prefix(ORIGIN)
        .unwrap_or_else(|| panic!("{url} is not on this site"))
}

fn child_text<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> Option<&'a str> {
    node.children()
        .find(|c| c.tag_name().name() == name)
        .and_then(|c| c.text())
}

/// Fetches an XML document and checks its type and root element.
async fn xml_at(app: &Router, path: &str, root: &str, ns: &str) -> String {
    let res = get(app, path, None).await;
    assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.body);
    assert!(
        res.header("content-type")
            .is_some_and(|t| t.contains("xml")),
        "{path}: {:?}",
        res.header("content-type")
    );
    let doc = roxmltree::Document::parse(&res.body).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(doc.root_element().tag_name().name(), root, "{path}");
    assert_eq!(
        doc.root_element().tag_name().namespace(),
        Some(ns),
        "{path}"
    );
    res.body
}

/// The index's entries (page address, lastmod) and every address of every page it names.
async fn sitemap(app: &Router) -> (Vec<(String, Option<String>)>, Vec<(String, Option<String>)>) {
    let index = xml_at(app, "/sitemap.xml", "sitemapindex", SITEMAP_NS).await;
    let doc = roxmltree::Document::parse(&index).unwrap();
    let pages: Vec<(String, Option<String>)> = doc
        .root_element()
        .children()
        .filter(|n| n.tag_name().name() == "sitemap")
        .map(|n| {
            (
                child_text(n, "loc").unwrap().to_string(),
                child_text(n, "lastmod").map(str::to_string),
            )
        })
        .collect();
    let mut urls = Vec::new();
    for (loc, _) in &pages {
        let body = xml_at(app, local(loc), "urlset", SITEMAP_NS).await;
        let doc = roxmltree::Document::parse(&body).unwrap();
        let here: Vec<_> = doc
            .root_element()
            .children()
            .filter(|n| n.tag_name().name() == "url")
            .map(|n| {
                (
                    child_text(n, "loc").unwrap().to_string(),
                    child_text(n, "lastmod").map(str::to_string),
                )
            })
            .collect();
        assert!(
            !here.is_empty() && here.len() <= 50_000,
            "{loc}: {} addresses",
            here.len()
        );
        urls.extend(here);
    }
    (pages, urls)
}

#[tokio::test]
async fn the_sitemap_index_names_pages_of_public_addresses_with_their_latest_activity() {
    let w = world().await;
    let (pages, urls) = sitemap(&w.app).await;
    assert_eq!(pages[0].0, format!("{ORIGIN}/sitemap/site.xml"));
    assert!(pages.iter().all(|p| p.1.is_some()), "{pages:?}");
    let lastmod = |path: &str| {
        urls.iter()
            .find(|u| u.0 == format!("{ORIGIN}{path}"))
            .unwrap_or_else(|| panic!("{path} is not in the sitemap: {urls:?}"))
            .1
            .clone()
    };
    // Public addresses, each with its latest activity.
    let public = format!("/t/{}/{}", w.public.id, w.public.slug);
    assert_eq!(lastmod(&public), Some(rfc3339(w.public.last_posted_at)));
    lastmod("/");
    lastmod("/blog");
    lastmod("/c/questions");
    lastmod("/blog/what-we-shipped-in-november");
    // The topic page's lastmod is the newest activity of the topics on it.
    let newest = topic::Entity::find()
        .filter(app::server::visibility::public_forum_topics())
        .order_by_desc(topic::Column::LastPostedAt)
        .one(&w.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        pages[1],
        (
            format!("{ORIGIN}/sitemap/topics-1.xml"),
            Some(rfc3339(newest.last_posted_at))
        )
    );
    // Never: held, hidden or removed topics, drafts, scheduled articles, articles' comment
    // topics.
    let article_topics: Vec<i64> = article::Entity::find()
        .all(&w.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.topic_id)
        .collect();
    for (url, _) in &urls {
        let path = local(url);
        let out_of_sight = [w.held.id, w.hidden_opening.id, w.removed.id];
        for t in out_of_sight.iter().chain(&article_topics) {
            assert!(!path.starts_with(&format!("/t/{t}/")), "{path}");
        }
        for slug in [&w.draft.slug, &w.scheduled.slug] {
            assert_ne!(path, format!("/blog/{slug}"));
        }
    }
    // Pages past the end, or not pages at all.
    for path in [
        "/sitemap/topics-2.xml",
        "/sitemap/topics-0.xml",
        "/sitemap/topics-01.xml",
        "/sitemap/topics-x.xml",
        "/sitemap/other.xml",
    ] {
        assert_eq!(
            get(&w.app, path, None).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test]
async fn robots_txt_names_the_sitemap_and_keeps_crawlers_out_of_private_pages() {
    let (_, app) = demo_site().await;
    let res = get(&app, "/robots.txt", None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let lines: Vec<&str> = res.body.lines().map(str::trim).collect();
    assert!(lines.contains(&"User-agent: *"));
    assert!(lines.contains(&format!("Sitemap: {ORIGIN}/sitemap.xml").as_str()));
    for private in ["/search", "/admin", "/staff", "/account", "/api/"] {
        assert!(
            lines.contains(&format!("Disallow: {private}").as_str()),
            "{private}: {}",
            res.body
        );
    }
    assert!(!lines.contains(&"Disallow: /"));
}

/// The feed's id, self link and entries (id, title, alternate link), checked for Atom's shape.
fn atom(body: &str) -> (String, String, Vec<(String, String, String)>) {
    let doc = roxmltree::Document::parse(body).unwrap();
    let feed = doc.root_element();
    assert_eq!(
        (feed.tag_name().name(), feed.tag_name().namespace()),
        ("feed", Some(ATOM_NS))
    );
    for required in ["id", "title", "updated"] {
        assert!(child_text(feed, required).is_some(), "feed {required}");
    }
    let link = |n: roxmltree::Node, rel: &str| {
        n.children()
            .find(|c| c.tag_name().name() == "link" && c.attribute("rel") == Some(rel))
            .and_then(|c| c.attribute("href"))
            .map(str::to_string)
    };
    let entries = feed
        .children()
        .filter(|n| n.tag_name().name() == "entry")
        .map(|e| {
            for required in ["id", "title", "updated", "content"] {
                assert!(
                    e.children().any(|c| c.tag_name().name() == required),
                    "entry {required}"
                );
            }
            let content = e
                .children()
                .find(|c| c.tag_name().name() == "content")
                .unwrap();
            assert_eq!(content.attribute("type"), Some("html"));
            (
                child_text(e, "id").unwrap().to_string(),
                child_text(e, "title").unwrap().to_string(),
                link(e, "alternate").expect("entry link"),
            )
        })
        .collect();
    (
        child_text(feed, "id").unwrap().to_string(),
        link(feed, "self").expect("self link"),
        entries,
    )
}

#[tokio::test]
async fn forum_and_category_feeds_are_atom_with_public_topics_and_linked_from_their_pages() {
    let w = world().await;
    let forum = xml_at(&w.app, "/feed.xml", "feed", ATOM_NS).await;
    assert!(
        get(&w.app, "/feed.xml", None)
            .await
            .header("content-type")
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let (id, self_link, entries) = atom(&forum);
    assert_eq!(self_link, format!("{ORIGIN}/feed.xml"));
    assert_eq!(id, format!("{ORIGIN}/"));
    // Newest first, by the topic's number (not its address): the public topic is there.
    let public = entries
        .iter()
        .find(|e| e.0 == format!("{ORIGIN}/t/{}", w.public.id))
        .expect("the public topic");
    assert_eq!(public.1, w.public.title);
    assert_eq!(
        public.2,
        format!("{ORIGIN}/t/{}/{}", w.public.id, w.public.slug)
    );
    assert!(forum.contains("PUBLIC-OPENING-TEXT"));
    // Nothing a visitor may not read; the topic with a hidden opening post has nothing to show.
    for secret in [
        "HELD-TOPIC-TITLE",
        "HELD-TOPIC-BODY",
        "REMOVED-TOPIC-TITLE",
        "HIDDEN-OPENING-TEXT",
        "DRAFT-ARTICLE-TITLE",
    ] {
        assert!(entries.iter().all(|e| !e.1.contains(secret)), "{secret}");
        assert!(!forum.contains(secret), "{secret}");
    }
    let article_topics: Vec<String> = article::Entity::find()
        .all(&w.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| format!("{ORIGIN}/t/{}", a.topic_id))
        .collect();
    assert!(entries.iter().all(|e| !article_topics.contains(&e.0)));
    // Ids are stable: the same on the next read.
    let again = atom(&get(&w.app, "/feed.xml", None).await.body).2;
    assert_eq!(
        again.iter().map(|e| &e.0).collect::<Vec<_>>(),
        entries.iter().map(|e| &e.0).collect::<Vec<_>>()
    );

    let category = xml_at(&w.app, "/c/questions/feed.xml", "feed", ATOM_NS).await;
    let (_, self_link, entries) = atom(&category);
    assert_eq!(self_link, format!("{ORIGIN}/c/questions/feed.xml"));
    assert!(entries.iter().any(|e| e.0 == public.0));
    assert_eq!(
        get(&w.app, "/c/no-such-category/feed.xml", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Each page links its own feed.
    let feed_links = |body: &str| -> Vec<String> {
        Html::parse_document(body)
            .select(
                &Selector::parse(r#"head link[rel="alternate"][type="application/atom+xml"]"#)
                    .unwrap(),
            )
            .filter_map(|l| l.value().attr("href").map(str::to_string))
            .collect()
    };
    assert!(feed_links(&get(&w.app, "/", None).await.body).contains(&"/feed.xml".to_string()));
    assert!(
        feed_links(&get(&w.app, "/c/questions", None).await.body)
            .contains(&"/c/questions/feed.xml".to_string())
    );
    // The blog feed goes through the same writer.
    let (_, self_link, entries) = atom(&xml_at(&w.app, "/blog/feed.xml", "feed", ATOM_NS).await);
    assert_eq!(self_link, format!("{ORIGIN}/blog/feed.xml"));
    assert!(!entries.is_empty());
}

/// The page's JSON-LD documents, parsed.
fn json_ld(body: &str) -> Vec<serde_json::Value> {
    Html::parse_document(body)
        .select(&Selector::parse(r#"script[type="application/ld+json"]"#).unwrap())
        .map(|s| {
            let text: String = s.text().collect();
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
        })
        .collect()
}

#[tokio::test]
async fn topics_and_articles_carry_json_ld_for_what_they_are() {
    let w = world().await;
    let path = format!("/t/{}/{}", w.public.id, w.public.slug);
    let ld = json_ld(&get(&w.app, &path, None).await.body);
    assert_eq!(ld.len(), 1, "{ld:?}");
    let posting = &ld[0];
    assert_eq!(posting["@context"], "https://schema.org");
    assert_eq!(posting["@type"], "DiscussionForumPosting");
    assert_eq!(posting["headline"], w.public.title.as_str());
    assert_eq!(posting["url"], format!("{ORIGIN}{path}"));
    assert_eq!(posting["author"]["@type"], "Person");
    assert_eq!(posting["author"]["url"], format!("{ORIGIN}/u/casey"));
    assert_eq!(posting["datePublished"], rfc3339(w.public.created_at));
    assert!(posting["dateModified"].is_string());
    assert!(
        posting["text"]
            .as_str()
            .unwrap()
            .contains("PUBLIC-OPENING-TEXT")
    );
    assert_eq!(posting["interactionStatistic"]["userInteractionCount"], 1);
    let comments = posting["comment"].as_array().unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0]["@type"], "Comment");
    assert!(
        comments[0]["text"]
            .as_str()
            .unwrap()
            .contains("STAFF-REPLY-TEXT")
    );

    // Staff mark the reply as the official answer (through the form, which also empties the
    // page cache): a question with its accepted answer.
    let sam = session_of(&w.app, "sam", "demo-staff-pass").await;
    let reply = app::server::entity::post::Entity::find()
        .filter(app::server::entity::post::Column::TopicId.eq(w.public.id))
        .filter(app::server::entity::post::Column::PostNumber.eq(2))
        .one(&w.db)
        .await
        .unwrap()
        .unwrap();
    let res = post_fetch(
        &w.app,
        "/api/mark_answer",
        &[
            ("topic_id", &w.public.id.to_string()),
            ("post_id", &reply.id.to_string()),
        ],
        Some(&sam),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let ld = json_ld(&get(&w.app, &path, None).await.body);
    assert_eq!(ld.len(), 1, "{ld:?}");
    assert_eq!(ld[0]["@type"], "QAPage");
    let question = &ld[0]["mainEntity"];
    assert_eq!(question["@type"], "Question");
    assert_eq!(question["name"], w.public.title.as_str());
    let answer = &question["acceptedAnswer"];
    assert_eq!(answer["@type"], "Answer");
    assert!(
        answer["text"]
            .as_str()
            .unwrap()
            .contains("STAFF-REPLY-TEXT")
    );
    assert_eq!(answer["url"], format!("{ORIGIN}{path}#post-2"));

    // A topic whose opening post is hidden is out of a crawler's sight, its text with it.
    let hidden = format!("/t/{}/{}", w.hidden_opening.id, w.hidden_opening.slug);
    let page = get(&w.app, &hidden, None).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(json_ld(&page.body).is_empty());
    assert!(!page.body.contains("HIDDEN-OPENING-TEXT"));

    let ld = json_ld(
        &get(&w.app, "/blog/what-we-shipped-in-november", None)
            .await
            .body,
    );
    assert_eq!(ld.len(), 1, "{ld:?}");
    assert_eq!(ld[0]["@type"], "BlogPosting");
    assert_eq!(ld[0]["headline"], "What we shipped in November");
    assert_eq!(
        ld[0]["url"],
        format!("{ORIGIN}/blog/what-we-shipped-in-november")
    );
    assert!(ld[0]["datePublished"].is_string() && ld[0]["articleBody"].is_string());
    // Pages that are not one thing carry none.
    assert!(json_ld(&get(&w.app, "/", None).await.body).is_empty());
}

/// Whether the page asks not to be indexed, in its head and its headers (both or neither).
fn noindex(res: &Reply) -> bool {
    noindex_at(res, "")
}

fn noindex_at(res: &Reply, path: &str) -> bool {
    let doc = Html::parse_document(&res.body);
    let metas: Vec<String> = doc
        .select(&Selector::parse(r#"head meta[name="robots"]"#).unwrap())
        .filter_map(|m| m.value().attr("content").map(str::to_string))
        .collect();
    let header = res.header("x-robots-tag");
    assert!(metas.len() <= 1, "{path}: said {} times", metas.len());
    assert_eq!(
        metas.first().map(String::as_str),
        header,
        "{path}: the meta tag and the header agree"
    );
    header == Some("noindex")
}

fn canonical(res: &Reply) -> Option<String> {
    Html::parse_document(&res.body)
        .select(&Selector::parse(r#"head link[rel="canonical"]"#).unwrap())
        .next()
        .and_then(|l| l.value().attr("href").map(str::to_string))
}

#[tokio::test]
async fn switching_indexing_off_shuts_crawlers_out_at_once_and_is_logged() {
    let w = world().await;
    let topic = format!("/t/{}/{}", w.public.id, w.public.slug);
    // Read once, so the page cache holds the indexable pages.
    for path in ["/", topic.as_str()] {
        assert!(!noindex(&get(&w.app, path, None).await), "{path}");
    }
    let save = |on: bool| {
        let mut fields = vec![
            ("site_name", "Backyard"),
            ("tagline", "Talk to the team."),
            ("welcome_message", "Welcome!"),
            ("signup_mode", "open"),
            ("accountability_public", "on"),
            ("moderation_log_public", "on"),
        ];
        if on {
            fields.push(("search_engines_index", "on"));
        }
        let (app, admin) = (w.app.clone(), w.admin.clone());
        async move {
            let res = post_fetch(&app, "/api/save_site_settings", &fields, Some(&admin)).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        }
    };
    save(false).await;
    let robots = get(&w.app, "/robots.txt", None).await.body;
    let lines: Vec<&str> = robots.lines().collect();
    assert!(
        lines.contains(&"User-agent: *") && lines.contains(&"Disallow: /"),
        "{robots}"
    );
    assert!(!robots.contains("Sitemap:"));
    for path in ["/", topic.as_str(), "/c/questions", "/blog", "/login"] {
        // Twice: the render, then the cached copy.
        for _ in 0..2 {
            assert!(noindex(&get(&w.app, path, None).await), "{path}");
        }
    }
    assert!(
        noindex(&get(&w.app, "/", Some(&w.admin)).await),
        "for members too"
    );
    let logged = moderation_log::Entity::find()
        .filter(moderation_log::Column::Action.eq("settings"))
        .all(&w.db)
        .await
        .unwrap();
    assert!(
        logged
            .iter()
            .any(|e| e.reason.contains("search engine indexing"))
    );
    let form = get(&w.app, "/admin/settings", Some(&w.admin)).await;
    let doc = Html::parse_document(&form.body);
    let checkbox = doc
        .select(&Selector::parse(r#"input[name="search_engines_index"]"#).unwrap())
        .next()
        .expect("the switch on /admin/settings");
    assert!(checkbox.value().attr("checked").is_none());

    save(true).await;
    for path in ["/", topic.as_str()] {
        assert!(!noindex(&get(&w.app, path, None).await), "{path}");
    }
    assert!(
        get(&w.app, "/robots.txt", None)
            .await
            .body
            .contains("Sitemap:")
    );
}

#[tokio::test]
async fn empty_and_out_of_range_pages_say_noindex_and_every_content_page_has_a_canonical() {
    let w = world().await;
    forum::create_category(
        &w.db,
        forum::NewCategory {
            slug: "empty",
            name: "Empty",
            description: "",
            colour: "#2f855a",
        },
    )
    .await
    .unwrap();
    member(&w.db, "quiet", true).await;
    for path in ["/c/empty", "/u/quiet"] {
        let res = get(&w.app, path, None).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
        assert!(noindex_at(&res, path), "{path}");
    }
    for path in [
        "/c/questions?page=99",
        &format!("/t/{}/{}?page=99", w.public.id, w.public.slug),
        "/blog?page=99",
        "/no/such/page",
        &format!("/t/{}/{}", w.held.id, w.held.slug),
    ] {
        let res = get(&w.app, path, None).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert!(noindex_at(&res, path), "{path}");
    }
    for (path, url) in [
        ("/", format!("{ORIGIN}/")),
        ("/c/questions", format!("{ORIGIN}/c/questions")),
        ("/u/casey", format!("{ORIGIN}/u/casey")),
        ("/blog", format!("{ORIGIN}/blog")),
        ("/accountability", format!("{ORIGIN}/accountability")),
        ("/moderation", format!("{ORIGIN}/moderation")),
    ] {
        let res = get(&w.app, path, None).await;
        assert_eq!(canonical(&res).as_deref(), Some(url.as_str()), "{path}");
        let og: Vec<String> = Html::parse_document(&res.body)
            .select(&Selector::parse(r#"head meta[property="og:url"]"#).unwrap())
            .filter_map(|m| m.value().attr("content").map(str::to_string))
            .collect();
        assert_eq!(og, vec![url], "{path}");
        if path != "/moderation" {
            assert!(!noindex_at(&res, path), "{path}");
        }
    }
}

/// A title, a post and a display name that try to leave the JSON-LD script: they stay strings
/// in it, and the page has exactly the scripts a plain topic page has.
#[tokio::test]
async fn hostile_text_in_json_ld_stays_data() {
    let w = world().await;
    const HOSTILE: &str = "</script><script>alert(1)</script><!--\u{2028}\u{2029}&amp;'\"";
    let mut casey: user::ActiveModel = named(&w.db, "casey").await.into();
    casey.display_name = Set(format!("Casey{HOSTILE}"));
    let casey = casey.update(&w.db).await.unwrap();
    let (t, _) = forum::start_topic(
        &w.db,
        &casey,
        "questions",
        &format!("Title{HOSTILE}"),
        &format!("Body `{HOSTILE}`"),
        None,
    )
    .await
    .unwrap();
    let page = get(&w.app, &format!("/t/{}/{}", t.id, t.slug), None).await;
    let plain = get(
        &w.app,
        &format!("/t/{}/{}", w.public.id, w.public.slug),
        None,
    )
    .await;
    let scripts = |body: &str| {
        Html::parse_document(body)
            .select(&Selector::parse("script").unwrap())
            .count()
    };
    assert_eq!(scripts(&page.body), scripts(&plain.body));
    let ld = json_ld(&page.body);
    assert_eq!(ld.len(), 1);
    // A title is one line: its line separators are spaces. (The name was written straight
    // into the row, so it keeps them, and they stay data in the script.)
    let one_line = HOSTILE.replace(['\u{2028}', '\u{2029}'], " ");
    assert_eq!(ld[0]["headline"], format!("Title{one_line}"));
    assert_eq!(ld[0]["author"]["name"], format!("Casey{HOSTILE}"));
    // The text is the post's plain text, its whitespace (the line separators) folded.
    let text = ld[0]["text"].as_str().unwrap();
    assert!(
        text.contains("</script><script>alert(1)</script><!--"),
        "{text}"
    );
}
