//! Every string a visitor, member, staff member or admin can type is inert on every page
//! (issue 13, point 1).
//!
//! One fixture writes a hostile string into every user-controlled field at once, through the
//! same forms a browser posts (so validation applies as for a real user); a twin site gets a
//! harmless marker in the same fields. Every page is then fetched as every role from both sites
//! and parsed as a browser parses it (html5ever; XML with roxmltree). The two parses must have
//! the same elements with the same attribute names in the same order: whatever the hostile
//! string holds, it stayed text or a quoted attribute value. Where the twin shows a marker, the
//! hostile page must show the hostile string whole, so nothing was silently cut or mangled.
//!
//! A new page is one line in `PAGES`; a new field is one line in `FIELDS` and one write in
//! `site()`.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::*;
use app::server::entity::{post, topic, user};
use axum::{Router, http::StatusCode};
use scraper::{CaseSensitivity, Html, Node};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};

/// Leaves every context a string can land in (the head's `<title>`, a `<textarea>`, a
/// `<style>` or `<script>` block, a quoted attribute of either kind), then tries what an attacker
/// would put after it: a meta refresh to another site, an event handler, a `javascript:` link, a
/// template, and a form that posts to set_role behind a button. Fits a 200-character title with
/// a field id in front; lower case, as tags and watched words are stored.
const PAYLOAD: &str = r#"</title></textarea></style></script><meta http-equiv=refresh content=0;url=//evil.example><img src=x onerror=alert(1)>'"<a href=javascript:alert(2)><template><form action=/api/set_role><button>go"#;

/// The same for fields of at most 64 characters: out of `<title>`, a meta refresh, both quotes.
const SHORT: &str = r#"</title><meta http-equiv=refresh content=0;url=//e.ex>'""#;

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// The whole payload.
    Full,
    /// The short payload.
    Short,
    /// Markdown: the payload in a code block, where it must come out as text, then as raw HTML
    /// (what the sanitiser keeps of it is the sanitiser's business; an unclosed `<template>`
    /// swallows whatever follows it, hence this order).
    Markdown,
    /// A web address: no `<`, `>`, `"` or spaces are accepted, so quotes, a `javascript:` and
    /// an encoded `</title>` ride in the query.
    Url,
    /// An e-mail address: no spaces, so the tags are written without them.
    Email,
    /// Not stored: typed into a page's address (`{hxNN}` in `PAGES`).
    Address,
    /// A file's name as a browser sends it: no `/` or `\` (refused), so no closing tags.
    FileName,
}

struct Field {
    id: &'static str,
    what: &'static str,
    shape: Shape,
}

use Shape::*;

/// Every user-controlled field. Ids are distinct, and none is a prefix of another.
const FIELDS: &[Field] = &[
    field("hx01", "topic title", Full),
    field("hx02", "topic's first post", Markdown),
    field("hx03", "reply", Markdown),
    field("hx04", "article title", Full),
    field("hx05", "article summary", Full),
    field("hx06", "article body", Markdown),
    field("hx07", "article cover URL", Url),
    field("hx08", "article comment", Markdown),
    field("hx09", "category name", Short),
    field("hx10", "category description", Full),
    field("hx11", "staff title (staff)", Short),
    field("hx12", "staff title (moderator)", Short),
    field("hx13", "site name", Short),
    field("hx14", "site tagline", Full),
    field("hx15", "welcome message", Full),
    field("hx16", "flag note", Full),
    field("hx17", "moderation reason (hide)", Full),
    field("hx18", "moderator's edit reason", Full),
    field("hx19", "moderated post's new text", Markdown),
    field("hx20", "suspension reason", Full),
    field("hx21", "no-reply-needed reason", Full),
    field("hx22", "watched word", Short),
    field("hx23", "status note", Markdown),
    field("hx24", "lock reason", Full),
    field("hx25", "move reason", Full),
    field("hx26", "e-mail address", Email),
    field("hx27", "held topic title (new member)", Full),
    field("hx28", "held topic body (new member)", Markdown),
    field("hx29", "kept draft title (composer preview)", Full),
    field("hx30", "kept draft body (composer preview)", Markdown),
    field("hx31", "admin member search (?q=)", Address),
    field("hx32", "blog tag in the address", Address),
    field("hx33", "log-in next (?next=)", Address),
    field("hx34", "staff queue category (?category=)", Address),
    field("hx35", "review queue filters", Address),
    field("hx36", "unknown slug or token in a path", Address),
    field("hx37", "new topic category (?category=)", Address),
    field(
        "hx38",
        "search words and filters (?q=, ?author=, ?from=)",
        Address,
    ),
    field("hx39", "display name (and its avatar's initials)", Full),
    field("hx40", "uploaded file's name", FileName),
    field("hx41", "home page introduction", Markdown),
];

const fn field(id: &'static str, what: &'static str, shape: Shape) -> Field {
    Field { id, what, shape }
}

fn field_of(id: &str) -> &'static Field {
    FIELDS
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no field {id}"))
}

/// What the fixture writes into field `id`.
fn value(id: &str, hostile: bool) -> String {
    let shape = field_of(id).shape;
    if !hostile {
        return match shape {
            Markdown => format!("```\n{id}benign\n```\n\n{id}benign\n"),
            Url => format!("https://img.example/{id}benign.png"),
            Email => format!("{id}benign@mail.example"),
            FileName => format!("{id}benign.png"),
            _ => format!("{id}benign"),
        };
    }
    match shape {
        Full | Address => format!("{id}{PAYLOAD}"),
        Short => format!("{id}{SHORT}"),
        Markdown => format!("```\n{id}{PAYLOAD}\n```\n\n{id}{PAYLOAD}\n"),
        Url => format!(
            "https://img.example/{id}.png?a='-alert(1)-'&b=javascript:alert(2)&c=%3C/title%3E"
        ),
        Email => format!("{id}'\"</title><img/src=x/onerror=alert(1)>@evil.example"),
        FileName => format!(
            "{id}<img src=x onerror=alert(1)>'\"<a href=javascript:alert(2)><template><b>.png"
        ),
    }
}

/// What a page shows of the field where it shows it whole: Markdown's code block holds the
/// payload as text.
fn shown(id: &str, hostile: bool) -> String {
    match field_of(id).shape {
        Markdown if hostile => format!("{id}{PAYLOAD}"),
        Markdown => format!("{id}benign"),
        _ => value(id, hostile),
    }
}

#[derive(Clone, Copy, Debug)]
enum Who {
    Visitor,
    Customer,
    Staff,
    Moderator,
    Admin,
}

use Who::*;

const EVERYONE: &[Who] = &[Visitor, Customer, Staff, Moderator, Admin];

/// Every page type (app/src/app.rs's route table, the fallback, the feed and the sitemap), as
/// whom. `{name}` is a path from the fixture; `{hxNN}` is field hxNN's value, percent-encoded.
const PAGES: &[(&str, &[Who])] = &[
    ("/", EVERYONE),
    ("/signup", EVERYONE),
    ("/login", EVERYONE),
    ("/login?next={hx33}", EVERYONE),
    ("/signup?next={hx33}", EVERYONE),
    ("/reset", EVERYONE),
    ("/reset/{hx36}", EVERYONE),
    ("/account", EVERYONE),
    ("/unsubscribe/{unsubscribe_mallory}", EVERYONE),
    ("/unsubscribe/{hx36}", EVERYONE),
    ("/confirm-email/{hx36}", EVERYONE),
    ("/c/{category}", EVERYONE),
    ("/c/questions", EVERYONE),
    ("/c/{hx36}", EVERYONE),
    ("{topic_answered}", EVERYONE),
    ("{topic_declined}", EVERYONE),
    ("{topic_moved}", EVERYONE),
    ("{topic_held}", EVERYONE),
    ("{topic_answered_slugless}/{hx36}", EVERYONE),
    ("/new-topic", EVERYONE),
    ("/new-topic?category={hx37}", EVERYONE),
    ("/p/{first_post}/edit", EVERYONE),
    ("/p/{reply}/edit", EVERYONE),
    ("/p/{first_post}/flag", EVERYONE),
    ("/p/{reply}/flag", EVERYONE),
    ("/u/casey", EVERYONE),
    ("/u/sam", EVERYONE),
    ("/u/morgan", EVERYONE),
    ("/u/mallory", EVERYONE),
    ("/u/{hx36}", EVERYONE),
    ("/staff/queue", EVERYONE),
    ("/staff/queue?category={hx34}", EVERYONE),
    ("/staff/metrics", EVERYONE),
    ("/accountability", EVERYONE),
    ("/admin", EVERYONE),
    ("/admin/review", EVERYONE),
    ("/admin/review?state=resolved", EVERYONE),
    (
        "/admin/review?kind={hx35}&reason={hx35}&category={hx35}&state={hx35}",
        EVERYONE,
    ),
    ("/admin/moderation", EVERYONE),
    ("/admin/categories", EVERYONE),
    ("/admin/settings", EVERYONE),
    ("/admin/mail", EVERYONE),
    ("/admin/mail?status=failed", EVERYONE),
    ("/admin/users", EVERYONE),
    ("/admin/users?q={hx31}", EVERYONE),
    ("/admin/users?q=mallory", EVERYONE),
    ("/admin/users/{mallory}", EVERYONE),
    ("/admin/users/{sam}", EVERYONE),
    ("/admin/log", EVERYONE),
    ("/moderation", EVERYONE),
    ("/notifications", EVERYONE),
    ("/blog", EVERYONE),
    ("/blog/new", EVERYONE),
    ("/blog/tag/release-notes", EVERYONE),
    ("/blog/tag/{hx32}", EVERYONE),
    ("/blog/{article}", EVERYONE),
    ("/blog/{article}/edit", EVERYONE),
    ("/blog/{hx36}", EVERYONE),
    ("/no/such/page/{hx36}", EVERYONE),
    ("/search", EVERYONE),
    // A filter that cannot be read stops the search on both twins, so the pages pair up; the
    // results of stored hostile text are checked in search_http.rs.
    ("/search?q={hx38}&category={hx38}", EVERYONE),
    (
        "/search?q=x&author={hx38}&from={hx38}&to={hx38}&status={hx38}",
        EVERYONE,
    ),
    ("/blog/feed.xml", EVERYONE),
    ("/feed.xml", EVERYONE),
    ("/c/{category}/feed.xml", EVERYONE),
    ("/sitemap.xml", EVERYONE),
    ("/sitemap/site.xml", EVERYONE),
    ("/sitemap/topics-1.xml", EVERYONE),
];

/// Pages that describe one thing to search engines, with how many JSON-LD documents each has
/// (for a visitor, who is whom crawlers are). Every other page has none.
const JSON_LD_PAGES: &[(&str, usize)] = &[
    ("{topic_answered}", 1),
    ("{topic_declined}", 1),
    ("{topic_moved}", 1),
    ("/blog/{article}", 1),
];

/// The fixture: the demo site, two more members, and every field above written as `hostile`
/// says.
struct Site {
    app: Router,
    cookies: BTreeMap<&'static str, String>,
    paths: BTreeMap<&'static str, String>,
    hostile: bool,
}

impl Site {
    fn cookie(&self, who: Who) -> Option<&str> {
        let name = match who {
            Visitor => return None,
            Customer => "casey",
            Staff => "sam",
            Moderator => "morgan",
            Admin => "admin",
        };
        Some(self.cookies[name].as_str())
    }

    /// A `PAGES` path with its placeholders filled in.
    fn expand(&self, template: &str) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = open + rest[open..].find('}').unwrap();
            let name = &rest[open + 1..close];
            if name.starts_with("hx") {
                out.push_str(&percent_encode(&value(name, self.hostile)));
            } else {
                out.push_str(
                    self.paths
                        .get(name)
                        .unwrap_or_else(|| panic!("no path {name}")),
                );
            }
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// Every byte but the unreserved ones percent-encoded: safe in a path segment or a query value.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Posts a form as a browser without JavaScript does, and checks it was accepted.
async fn submit(app: &Router, cookie: &str, from: &str, action: &str, fields: &[(&str, &str)]) {
    let res = post_form(app, action, fields, Some(cookie), from).await;
    let location = res.location.clone().unwrap_or_default();
    assert!(
        res.status == StatusCode::FOUND && !location.contains("__err="),
        "{action} was refused ({}, {location}): {}",
        res.status,
        res.body
    );
}

async fn member(db: &DatabaseConnection, username: &str) -> user::Model {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

async fn nth_newest_topic(db: &DatabaseConnection, n: usize) -> topic::Model {
    let mut topics = topic::Entity::find()
        .order_by_desc(topic::Column::Id)
        .all(db)
        .await
        .unwrap();
    topics.remove(n)
}

async fn first_posts(db: &DatabaseConnection, t: &topic::Model) -> Vec<post::Model> {
    post::Entity::find()
        .filter(post::Column::TopicId.eq(t.id))
        .order_by_asc(post::Column::PostNumber)
        .all(db)
        .await
        .unwrap()
}

async fn site(hostile: bool) -> Site {
    let v = |id: &str| value(id, hostile);
    let (db, app) = demo_site().await;
    let admin = session_of(&app, "admin", "demo-admin-pass").await;
    // The site's texts first: the welcome message is a new member's first notification.
    submit(
        &app,
        &admin,
        "/admin/settings",
        "/api/save_site_settings",
        &[
            ("site_name", &v("hx13")),
            ("tagline", &v("hx14")),
            ("welcome_message", &v("hx15")),
            ("signup_mode", "open"),
            ("accountability_public", "on"),
            ("moderation_log_public", "on"),
            ("search_engines_index", "on"),
            ("roadmap_public", "on"),
        ],
    )
    .await;
    submit(
        &app,
        &admin,
        "/admin/settings",
        "/api/save_home_intro",
        &[("home_intro", &v("hx41"))],
    )
    .await;
    sign_up(
        &app,
        "morgan",
        "morgan@mail.example",
        "plum orchard ladder 4417",
    )
    .await;
    sign_up(
        &app,
        "mallory",
        "mallory@mail.example",
        "velvet comet harbour 9182",
    )
    .await;
    let (sam_id, morgan_id, mallory_id) = (
        member(&db, "sam").await.id.to_string(),
        member(&db, "morgan").await.id.to_string(),
        member(&db, "mallory").await.id.to_string(),
    );

    // Admin: roles and staff titles, looser rate limits (the demo's own topics count), a
    // category, a watched word.
    submit(
        &app,
        &admin,
        &format!("/admin/users/{sam_id}"),
        "/api/set_role",
        &[
            ("user_id", &sam_id),
            ("role", "staff"),
            ("title", &v("hx11")),
        ],
    )
    .await;
    submit(
        &app,
        &admin,
        &format!("/admin/users/{morgan_id}"),
        "/api/set_role",
        &[
            ("user_id", &morgan_id),
            ("role", "moderator"),
            ("title", &v("hx12")),
        ],
    )
    .await;
    submit(
        &app,
        &admin,
        "/admin/moderation",
        "/api/save_moderation_settings",
        &[
            ("flag_threshold", "3"),
            ("new_member_hold", "1"),
            ("posts_per_10_min", "100"),
            ("topics_per_hour", "100"),
            ("flags_per_hour", "100"),
            ("log_public", "on"),
        ],
    )
    .await;
    submit(
        &app,
        &admin,
        "/admin/categories",
        "/api/save_category",
        &[
            ("category_id", "0"),
            ("name", &v("hx09")),
            ("slug", "hostile"),
            ("description", &v("hx10")),
            ("colour", "#884422"),
            ("target_hours", "24"),
            ("customers_may_start", "on"),
        ],
    )
    .await;
    submit(
        &app,
        &admin,
        "/admin/moderation",
        "/api/add_watched_word",
        &[("word", &v("hx22")), ("action", "flag")],
    )
    .await;
    // Addresses already stored may predate today's check, so this one is written directly; no
    // form changes a display name yet, so it is written directly too (pages show it, and the
    // initials of her avatar are drawn from it).
    let mut mallory: user::ActiveModel = member(&db, "mallory").await.into();
    mallory.email = Set(v("hx26"));
    mallory.display_name = Set(v("hx39"));
    mallory.update(&db).await.unwrap();

    let casey = session_of(&app, "casey", "demo-customer-pass").await;
    let sam = session_of(&app, "sam", "demo-staff-pass").await;
    let morgan = session_of(&app, "morgan", "plum orchard ladder 4417").await;
    let mallory = session_of(&app, "mallory", "velvet comet harbour 9182").await;

    // Casey starts three topics: one staff answer with a status note, one staff close without
    // a reply, one a moderator moves. Mallory is new: her first topic waits for approval.
    for _ in 0..3 {
        submit(
            &app,
            &casey,
            "/new-topic",
            "/api/start_topic",
            &[
                ("category", "hostile"),
                ("title", &v("hx01")),
                ("body", &v("hx02")),
                (
                    "form_token",
                    &form_token_on(&app, "/new-topic", Some(&casey)).await,
                ),
            ],
        )
        .await;
    }
    // Her held topic shows a screenshot she uploaded: its name is in the review queue.
    let upload = app::server::uploads::accept(
        &db,
        &app::server::uploads::store::DbStore::new(db.clone()),
        &member(&db, "mallory").await,
        app::server::uploads::Incoming {
            name: v("hx40"),
            bytes: {
                let img =
                    image::RgbImage::from_fn(32, 24, |x, y| image::Rgb([x as u8, y as u8, 9]));
                let mut out = std::io::Cursor::new(Vec::new());
                img.write_to(&mut out, image::ImageFormat::Png).unwrap();
                out.into_inner().into()
            },
        },
        app::server::uploads::Purpose::Post,
    )
    .await
    .expect("a file name without separators is taken");
    let held_body = format!("{}\n\n{}", v("hx28"), upload.markdown);
    submit(
        &app,
        &mallory,
        "/new-topic",
        "/api/start_topic",
        &[
            ("category", "hostile"),
            ("title", &v("hx27")),
            ("body", &held_body),
            (
                "form_token",
                &form_token_on(&app, "/new-topic", Some(&mallory)).await,
            ),
        ],
    )
    .await;
    let held = nth_newest_topic(&db, 0).await;
    let moved = nth_newest_topic(&db, 1).await;
    let declined = nth_newest_topic(&db, 2).await;
    let answered = nth_newest_topic(&db, 3).await;
    let path = |t: &topic::Model| format!("/t/{}/{}", t.id, t.slug);
    let answered_id = answered.id.to_string();
    submit(
        &app,
        &casey,
        &path(&answered),
        "/api/reply",
        &[
            ("topic_id", &answered_id),
            ("body", &v("hx03")),
            (
                "form_token",
                &form_token_on(&app, &path(&answered), Some(&casey)).await,
            ),
        ],
    )
    .await;
    let posts = first_posts(&db, &answered).await;
    let (first_post, reply) = (posts[0].id.to_string(), posts[1].id.to_string());

    // Staff and moderators act on them, each with their reason.
    submit(
        &app,
        &sam,
        &path(&answered),
        "/api/flag_post",
        &[
            ("post_id", &reply),
            ("reason", "other"),
            ("note", &v("hx16")),
        ],
    )
    .await;
    submit(
        &app,
        &morgan,
        &path(&answered),
        "/api/moderate_post",
        &[
            ("post_id", &reply),
            ("action", "hide"),
            ("reason", &v("hx17")),
        ],
    )
    .await;
    submit(
        &app,
        &morgan,
        &format!("/p/{first_post}/edit"),
        "/api/edit_post",
        &[
            ("post_id", &first_post),
            ("body", &v("hx19")),
            ("reason", &v("hx18")),
        ],
    )
    .await;
    submit(
        &app,
        &sam,
        &path(&answered),
        "/api/set_topic_status",
        &[
            ("topic_id", &answered_id),
            ("status", "planned"),
            ("note", &v("hx23")),
        ],
    )
    .await;
    let declined_id = declined.id.to_string();
    submit(
        &app,
        &sam,
        &path(&declined),
        "/api/no_reply_needed",
        &[("topic_id", &declined_id), ("reason", &v("hx21"))],
    )
    .await;
    submit(
        &app,
        &morgan,
        &path(&declined),
        "/api/moderate_topic",
        &[
            ("topic_id", &declined_id),
            ("action", "lock"),
            ("reason", &v("hx24")),
        ],
    )
    .await;
    let moved_id = moved.id.to_string();
    submit(
        &app,
        &morgan,
        &path(&moved),
        "/api/move_topic",
        &[
            ("topic_id", &moved_id),
            ("category", "questions"),
            ("reason", &v("hx25")),
        ],
    )
    .await;
    submit(
        &app,
        &morgan,
        &format!("/admin/users/{mallory_id}"),
        "/api/suspend_member",
        &[
            ("user_id", &mallory_id),
            ("days", "7"),
            ("reason", &v("hx20")),
        ],
    )
    .await;

    // Sam publishes an article; Casey comments on it.
    submit(
        &app,
        &sam,
        "/blog/new",
        "/api/save_article",
        &[
            ("article_id", "0"),
            ("title", &v("hx04")),
            ("slug", "hostile-article"),
            ("summary", &v("hx05")),
            ("body", &v("hx06")),
            ("cover_image_url", &v("hx07")),
            ("tags", "release notes"),
            ("comments_open", "on"),
            ("publish", "now"),
            ("publish_at", ""),
            (
                "form_token",
                &form_token_on(&app, "/blog/new", Some(&sam)).await,
            ),
        ],
    )
    .await;
    let article_topic = nth_newest_topic(&db, 0).await.id.to_string();
    submit(
        &app,
        &casey,
        "/blog/hostile-article",
        "/api/reply",
        &[
            ("topic_id", &article_topic),
            ("body", &v("hx08")),
            (
                "form_token",
                &form_token_on(&app, "/blog/hostile-article", Some(&casey)).await,
            ),
        ],
    )
    .await;

    // Casey previews a new topic without JavaScript: the draft is kept for /new-topic.
    submit(
        &app,
        &casey,
        "/new-topic",
        "/api/start_topic",
        &[
            ("category", "hostile"),
            ("title", &v("hx29")),
            ("body", &v("hx30")),
            (
                "form_token",
                &form_token_on(&app, "/new-topic", Some(&casey)).await,
            ),
            ("preview", "1"),
        ],
    )
    .await;

    let moved = topic::Entity::find_by_id(moved.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let paths = BTreeMap::from([
        ("category", "hostile".to_string()),
        ("topic_answered", path(&answered)),
        ("topic_answered_slugless", format!("/t/{}", answered.id)),
        ("topic_declined", path(&declined)),
        ("topic_moved", path(&moved)),
        ("topic_held", path(&held)),
        ("first_post", first_post),
        ("reply", reply),
        ("mallory", mallory_id.clone()),
        ("sam", sam_id),
        ("article", "hostile-article".to_string()),
        (
            "unsubscribe_mallory",
            app::server::signing::unsubscribe_token(&db, mallory_id.parse().unwrap(), "replies")
                .await
                .unwrap(),
        ),
    ]);
    let cookies = BTreeMap::from([
        ("casey", casey),
        ("sam", sam),
        ("morgan", morgan),
        ("admin", admin),
    ]);
    Site {
        app,
        cookies,
        paths,
        hostile,
    }
}

/// One element's name and its attributes' names, or a text node's place.
type Skeleton = Vec<String>;

/// A parsed answer: its skeleton, and the text and attribute values in the same order, each
/// with the skeleton index it belongs to (so the two sites' values pair up).
struct Parsed {
    skeleton: Skeleton,
    /// (owner, attribute name or "#text", value); owner indexes `skeleton`.
    values: Vec<(usize, String, String)>,
    /// Text in stored, sanitised HTML (post bodies), whose shape is not compared.
    post_body_text: Vec<String>,
    /// Markup in stored, sanitised HTML (post bodies) that the allow-list must have removed.
    problems: Vec<String>,
}

/// Elements nothing a user writes may produce, in any page or feed.
const NEVER_FROM_USERS: &[&str] = &[
    "script", "style", "meta", "title", "base", "link", "form", "button", "input", "textarea",
    "select", "template", "iframe", "frame", "frameset", "object", "embed", "svg", "math",
    "noscript",
];

fn dangerous_attribute(name: &str, value: &str) -> Option<String> {
    let v: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    if name.starts_with("on") {
        Some(format!("event handler {name}={value:?}"))
    } else if matches!(
        name,
        "href" | "src" | "action" | "formaction" | "xlink:href"
    ) && (v.starts_with("javascript:")
        || v.starts_with("data:")
        || v.starts_with("vbscript:"))
    {
        Some(format!("script URL {name}={value:?}"))
    } else if name == "http-equiv" {
        Some(format!("http-equiv={value:?}"))
    } else {
        None
    }
}

fn parse_html(body: &str) -> Parsed {
    let doc = Html::parse_document(body);
    // Posts and the home page's introduction: both the content pipeline's stored output.
    let is_post_body = |n: &scraper::node::Element| {
        n.has_class("post-body", CaseSensitivity::CaseSensitive)
            || n.has_class("home-intro-text", CaseSensitivity::CaseSensitive)
    };
    let mut parsed = Parsed {
        skeleton: Vec::new(),
        values: Vec::new(),
        post_body_text: Vec::new(),
        problems: Vec::new(),
    };
    for node in doc.tree.root().descendants() {
        // Inside a post body is stored HTML that passed the sanitiser: its shape is the
        // sanitiser's business, so it is checked against the allow-list, not the twin.
        let in_post_body = node
            .ancestors()
            .any(|a| a.value().as_element().is_some_and(is_post_body));
        if in_post_body {
            if let Some(e) = node.value().as_element() {
                if NEVER_FROM_USERS.contains(&e.name()) {
                    parsed
                        .problems
                        .push(format!("<{}> in a post body", e.name()));
                }
                for (name, value) in e.attrs() {
                    if let Some(p) = dangerous_attribute(name, value) {
                        parsed.problems.push(format!("{p} in a post body"));
                    }
                }
            } else if let Node::Text(t) = node.value() {
                parsed.post_body_text.push(t.to_string());
            }
            continue;
        }
        match node.value() {
            Node::Element(e) => {
                let names: Vec<&str> = e.attrs().map(|(n, _)| n).collect();
                parsed
                    .skeleton
                    .push(format!("<{} {}>", e.name(), names.join(" ")));
                let owner = parsed.skeleton.len() - 1;
                for (name, value) in e.attrs() {
                    parsed
                        .values
                        .push((owner, name.to_string(), value.to_string()));
                }
            }
            Node::Text(t) => {
                let parent = node
                    .parent()
                    .and_then(|p| p.value().as_element().map(|e| e.name().to_string()))
                    .unwrap_or_default();
                parsed.skeleton.push("#text".into());
                let owner = parsed.skeleton.len() - 1;
                parsed
                    .values
                    .push((owner, format!("#text in <{parent}>"), t.to_string()));
            }
            _ => {}
        }
    }
    parsed
}

fn parse_xml(body: &str) -> Result<Parsed, String> {
    let doc = roxmltree::Document::parse(body).map_err(|e| format!("not XML: {e}"))?;
    let mut parsed = Parsed {
        skeleton: Vec::new(),
        values: Vec::new(),
        post_body_text: Vec::new(),
        problems: Vec::new(),
    };
    for node in doc.root().descendants() {
        if node.is_element() {
            let names: Vec<&str> = node.attributes().map(|a| a.name()).collect();
            parsed
                .skeleton
                .push(format!("<{} {}>", node.tag_name().name(), names.join(" ")));
            let owner = parsed.skeleton.len() - 1;
            for a in node.attributes() {
                parsed
                    .values
                    .push((owner, a.name().to_string(), a.value().to_string()));
            }
            // An Atom entry's HTML is parsed again by the feed reader.
            if node.tag_name().name() == "content" {
                let html = node.text().unwrap_or_default();
                let inner = parse_html(&format!("<div class=\"post-body\">{html}</div>"));
                parsed.problems.extend(inner.problems);
            }
        } else if let Some(text) = node.text().filter(|_| node.is_text()) {
            let parent = node
                .parent()
                .map(|p| p.tag_name().name())
                .unwrap_or_default();
            parsed.skeleton.push("#text".into());
            let owner = parsed.skeleton.len() - 1;
            parsed
                .values
                .push((owner, format!("#text in <{parent}>"), text.to_string()));
        }
    }
    Ok(parsed)
}

/// Values not expected to hold a field whole even when the twin's marker is there: addresses
/// (a slug or a percent-encoded query made from the text), JSON for islands, and scripts.
fn may_be_transformed(name: &str, benign: &str) -> bool {
    matches!(name, "href" | "src" | "action" | "data-props")
        || name.starts_with("#text in <script")
        || benign.starts_with('/')
        || benign.starts_with("http")
}

/// Checks one page as one role; returns what is wrong, and notes the fields shown whole.
fn compare(
    label: &str,
    benign: &Reply,
    hostile: &Reply,
    shown_whole: &mut BTreeSet<&'static str>,
) -> Vec<String> {
    let mut wrong = Vec::new();
    if benign.status != hostile.status {
        wrong.push(format!(
            "{label}: status {} with the marker, {} with the hostile text",
            benign.status, hostile.status
        ));
        return wrong;
    }
    if benign.status.is_redirection() {
        return wrong;
    }
    let xml = hostile
        .header("content-type")
        .is_some_and(|t| t.contains("xml"));
    let (b, h) = if xml {
        match (parse_xml(&benign.body), parse_xml(&hostile.body)) {
            (Ok(b), Ok(h)) => (b, h),
            (_, Err(e)) | (Err(e), _) => {
                wrong.push(format!("{label}: {e}"));
                return wrong;
            }
        }
    } else {
        (parse_html(&benign.body), parse_html(&hostile.body))
    };
    for p in &h.problems {
        wrong.push(format!("{label}: {p}"));
    }
    if !xml {
        let doc = Html::parse_document(&hostile.body);
        let titles = doc
            .select(&scraper::Selector::parse("head title").unwrap())
            .count();
        if titles != 1 {
            wrong.push(format!("{label}: {titles} <title> elements in the head"));
        }
        for e in doc.select(&scraper::Selector::parse("*").unwrap()) {
            for (name, value) in e.value().attrs() {
                if let Some(p) = dangerous_attribute(name, value) {
                    wrong.push(format!("{label}: {p} on <{}>", e.value().name()));
                }
            }
        }
    }
    if b.skeleton != h.skeleton {
        let at = b
            .skeleton
            .iter()
            .zip(&h.skeleton)
            .position(|(x, y)| x != y)
            .unwrap_or(b.skeleton.len().min(h.skeleton.len()));
        let around = |s: &Skeleton| s[at.saturating_sub(3)..(at + 4).min(s.len())].join(" ");
        wrong.push(format!(
            "{label}: the page's structure differs at node {at}:\n    marker:  {}\n    hostile: {}",
            around(&b.skeleton),
            around(&h.skeleton)
        ));
        return wrong;
    }
    for text in &h.post_body_text {
        for f in FIELDS.iter().filter(|f| text.contains(&shown(f.id, true))) {
            shown_whole.insert(f.id);
        }
    }
    // The same structure: the values pair up. Wherever the twin shows a field's marker, the
    // hostile page must show the field whole.
    for ((owner, name, bv), (_, _, hv)) in b.values.iter().zip(&h.values) {
        for f in FIELDS {
            let marker = format!("{}benign", f.id);
            if !bv.contains(&marker) {
                continue;
            }
            let whole = shown(f.id, true);
            if hv.contains(&whole) {
                shown_whole.insert(f.id);
            } else if f.shape != Markdown && !may_be_transformed(name, bv) && !hv.contains(f.id) {
                wrong.push(format!(
                    "{label}: the {} ({}) is missing from {name} of {}: {hv:?}",
                    f.what, f.id, b.skeleton[*owner]
                ));
            } else if f.shape != Markdown && !may_be_transformed(name, bv) {
                wrong.push(format!(
                    "{label}: the {} ({}) is not shown whole in {name} of {}: {hv:?}",
                    f.what, f.id, b.skeleton[*owner]
                ));
            }
        }
    }
    wrong
}

/// The `application/ld+json` scripts of a page, each parsed as JSON (or why it is not JSON).
fn json_ld(body: &str) -> Vec<Result<serde_json::Value, String>> {
    Html::parse_document(body)
        .select(&scraper::Selector::parse(r#"script[type="application/ld+json"]"#).unwrap())
        .map(|s| {
            let text: String = s.text().collect();
            serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
        })
        .collect()
}

/// Every string in a JSON document with its path, in order.
fn json_strings(value: &serde_json::Value, path: String, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::String(s) => out.push((path, s.clone())),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                json_strings(item, format!("{path}[{i}]"), out);
            }
        }
        serde_json::Value::Object(fields) => {
            for (k, v) in fields {
                json_strings(v, format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// JSON-LD stays data: each script parses as JSON, the hostile page has as many as the twin
/// (and as `JSON_LD_PAGES` says), and wherever the twin's JSON holds a field's marker, the
/// hostile JSON holds the hostile text whole, as a string.
fn compare_json_ld(
    label: &str,
    template: &str,
    who: Who,
    benign: &Reply,
    hostile: &Reply,
    shown_whole: &mut BTreeSet<&'static str>,
) -> Vec<String> {
    let mut wrong = Vec::new();
    if hostile
        .header("content-type")
        .is_some_and(|t| t.contains("xml"))
    {
        return wrong;
    }
    let (b, h) = (json_ld(&benign.body), json_ld(&hostile.body));
    if let Who::Visitor = who {
        let expected = JSON_LD_PAGES
            .iter()
            .find(|(t, _)| *t == template)
            .map_or(0, |(_, n)| *n);
        if h.len() != expected {
            wrong.push(format!(
                "{label}: {} JSON-LD scripts, not {expected}",
                h.len()
            ));
        }
    }
    if b.len() != h.len() {
        wrong.push(format!(
            "{label}: {} JSON-LD scripts with the marker, {} with the hostile text",
            b.len(),
            h.len()
        ));
        return wrong;
    }
    for (b, h) in b.iter().zip(&h) {
        let (b, h) = match (b, h) {
            (Ok(b), Ok(h)) => (b, h),
            (_, Err(e)) | (Err(e), _) => {
                wrong.push(format!("{label}: JSON-LD is not JSON: {e}"));
                continue;
            }
        };
        let (mut bs, mut hs) = (Vec::new(), Vec::new());
        json_strings(b, String::new(), &mut bs);
        json_strings(h, String::new(), &mut hs);
        let hostile_at: BTreeMap<&str, &str> =
            hs.iter().map(|(p, v)| (p.as_str(), v.as_str())).collect();
        for (path, bv) in &bs {
            for f in FIELDS
                .iter()
                .filter(|f| bv.contains(&format!("{}benign", f.id)))
            {
                let whole = shown(f.id, true);
                match hostile_at.get(path.as_str()) {
                    Some(hv) if hv.contains(&whole) => {
                        shown_whole.insert(f.id);
                    }
                    // Post bodies are excerpts of their text; URLs are made from it.
                    _ if f.shape == Markdown || may_be_transformed("", bv) => {}
                    other => wrong.push(format!(
                        "{label}: the {} ({}) is not whole in the JSON-LD at {path}: {other:?}",
                        f.what, f.id
                    )),
                }
            }
        }
    }
    wrong
}

#[tokio::test]
async fn user_text_is_inert_on_every_page_for_every_role() {
    for f in FIELDS {
        let limit = match f.shape {
            Short => 64,
            Full | Markdown | Address => 200,
            Url | Email | FileName => 254,
        };
        assert!(
            value(f.id, true)
                .lines()
                .all(|l| l.chars().count() <= limit),
            "{} does not fit its field",
            f.id
        );
    }
    let benign = site(false).await;
    let hostile = site(true).await;
    let mut wrong = Vec::new();
    let mut shown_whole = BTreeSet::new();
    for (template, roles) in PAGES {
        for who in *roles {
            let b = get(&benign.app, &benign.expand(template), benign.cookie(*who)).await;
            let h = get(
                &hostile.app,
                &hostile.expand(template),
                hostile.cookie(*who),
            )
            .await;
            let label = format!("{template} as {who:?}");
            wrong.extend(compare(&label, &b, &h, &mut shown_whole));
            wrong.extend(compare_json_ld(
                &label,
                template,
                *who,
                &b,
                &h,
                &mut shown_whole,
            ));
        }
    }
    // A stored field must reach some page whole; one typed into an address need only be inert
    // (most pages ignore a value they do not know).
    for f in FIELDS.iter().filter(|f| f.shape != Address) {
        if !shown_whole.contains(f.id) {
            wrong.push(format!(
                "the {} ({}) is never shown whole on any page: is the fixture still writing it?",
                f.what, f.id
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} problems:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
