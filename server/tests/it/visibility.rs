//! What a reader may not see never leaks: for every hidden thing (a held topic, a removed
//! topic, a hidden, deleted or held post, a draft article and its comments) and every path that
//! takes its id, the answer to someone who may not see it is the answer for an id that does not
//! exist, and nothing is written. Member pages, the public log, the feed and the sitemap show
//! only what a visitor may see.
use app::model::Role;
use app::server::{
    accounts::{NewAccount, create_account},
    blog::{self, ArticleInput, Publish},
    entity::{
        article, category, flag, form_submission, moderation_log, notification, post,
        post_revision, review_item, topic, topic_event, user,
    },
    forum,
    moderation::{self, PostAction},
};
use axum::{Router, http::StatusCode};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use crate::common::*;

const MISSING: i64 = 987_654;
const PASSWORD: &str = "Qx7#vLp2-kW9rT4z";

/// Every row a path could write, as text: equal before and after means nothing was written.
async fn everything(db: &DatabaseConnection) -> String {
    format!(
        "{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}",
        post::Entity::find().all(db).await.unwrap(),
        topic::Entity::find().all(db).await.unwrap(),
        flag::Entity::find().all(db).await.unwrap(),
        moderation_log::Entity::find().all(db).await.unwrap(),
        topic_event::Entity::find().all(db).await.unwrap(),
        notification::Entity::find().all(db).await.unwrap(),
        article::Entity::find().all(db).await.unwrap(),
        review_item::Entity::find().all(db).await.unwrap(),
        category::Entity::find().all(db).await.unwrap(),
        form_submission::Entity::find().all(db).await.unwrap(),
        post_revision::Entity::find().all(db).await.unwrap(),
        user::Entity::find().all(db).await.unwrap(),
    )
}

/// The hidden things, and who is asking.
struct World {
    db: DatabaseConnection,
    app: Router,
    casey: String,
    sam: String,
    /// Staff, not the draft's author.
    pat: String,
    moderator: String,
    /// A new member whose posts wait for approval.
    newbie: String,
    dana: String,
    public_topic: i64,
    held_topic: i64,
    removed_topic: i64,
    /// A visible reply in the removed topic.
    post_in_removed_topic: i64,
    /// The opening post of the held topic.
    held_first_post: i64,
    hidden_post: i64,
    deleted_post: i64,
    pending_post: i64,
    draft_slug: String,
    draft_id: i64,
    draft_topic: i64,
    /// Casey's comment on the article, before it went back to draft.
    draft_comment: i64,
    published_slug: String,
    published_topic: i64,
}

/// Every secret string in the world: none may reach a visitor.
const SECRETS: [&str; 9] = [
    "HELD-TOPIC-TITLE",
    "HELD-TOPIC-BODY",
    "REMOVED-TOPIC-TITLE",
    "REPLY-IN-REMOVED",
    "HIDDEN-POST-TEXT",
    "DELETED-POST-TEXT",
    "PENDING-POST-TEXT",
    "DRAFT-ARTICLE-TITLE",
    "DRAFT-COMMENT-TEXT",
];

async fn member(db: &DatabaseConnection, name: &str, role: Role, trusted: bool) -> user::Model {
    let u = create_account(
        db,
        NewAccount {
            username: name.into(),
            email: format!("{name}@example.com"),
            password: PASSWORD.into(),
            form_token: None,
        },
        role,
        role.is_staff().then(|| "Team".to_string()),
    )
    .await
    .unwrap();
    let mut row: user::ActiveModel = u.into();
    row.trust_level = Set(if trusted { 1 } else { 0 });
    row.update(db).await.unwrap()
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

async fn world() -> World {
    let DemoMembers {
        db,
        app,
        casey,
        sam,
        admin: _,
    } = demo_members().await;
    let find = |name: &'static str| {
        let db = db.clone();
        async move {
            user::Entity::find()
                .filter(user::Column::UsernameKey.eq(name))
                .one(&db)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let casey_m = find("casey").await;
    let sam_m = find("sam").await;
    let mo = member(&db, "mo", Role::Moderator, true).await;
    let _pat = member(&db, "pat", Role::Staff, true).await;
    let newbie = member(&db, "newbie", Role::Customer, false).await;
    let dana = member(&db, "dana", Role::Customer, true).await;
    // Holding new members' first posts is off by default; the held topic needs it on.
    app::server::settings::put(&db, "new_member_hold_posts", "1")
        .await
        .unwrap();

    let (public, _) = forum::start_topic(
        &db,
        &casey_m,
        "questions",
        "A public question",
        "Public text.",
        None,
    )
    .await
    .unwrap();
    let (held, held_first) = forum::start_topic(
        &db,
        &newbie,
        "questions",
        "HELD-TOPIC-TITLE",
        "HELD-TOPIC-BODY",
        None,
    )
    .await
    .unwrap();
    assert_eq!(held_first.state, "pending");
    let (removed, removed_first) = forum::start_topic(
        &db,
        &dana,
        "questions",
        "REMOVED-TOPIC-TITLE",
        "Soon gone.",
        None,
    )
    .await
    .unwrap();
    let in_removed = forum::reply(&db, &sam_m, removed.id, "REPLY-IN-REMOVED", None)
        .await
        .unwrap();
    moderation::act_on_post(&db, &mo, removed_first.id, PostAction::Delete, "spam")
        .await
        .unwrap();
    let hidden = forum::reply(&db, &dana, public.id, "HIDDEN-POST-TEXT", None)
        .await
        .unwrap();
    moderation::act_on_post(&db, &mo, hidden.id, PostAction::Hide, "rude")
        .await
        .unwrap();
    let deleted = forum::reply(&db, &dana, public.id, "DELETED-POST-TEXT", None)
        .await
        .unwrap();
    moderation::act_on_post(&db, &mo, deleted.id, PostAction::Delete, "spam")
        .await
        .unwrap();
    let pending = forum::reply(&db, &newbie, public.id, "PENDING-POST-TEXT", None)
        .await
        .unwrap();
    assert_eq!(pending.state, "pending");

    let (draft, _) = blog::create_article(
        &db,
        &sam_m,
        &article_input("DRAFT-ARTICLE-TITLE", Publish::Now),
        None,
    )
    .await
    .unwrap();
    let comment = forum::reply(&db, &casey_m, draft.topic_id, "DRAFT-COMMENT-TEXT", None)
        .await
        .unwrap();
    // Moderators act on the comment while the article is public: the public log has lines
    // about its topic.
    moderation::act_on_topic(
        &db,
        &mo,
        draft.topic_id,
        moderation::TopicAction::Pin,
        "pinned",
    )
    .await
    .unwrap();
    let (draft, _) = blog::update_article(
        &db,
        &sam_m,
        draft.id,
        &article_input("DRAFT-ARTICLE-TITLE", Publish::Draft),
    )
    .await
    .unwrap();
    let published = app::server::views::blog::latest_public(&db, 1)
        .await
        .unwrap()
        .remove(0);

    let session = |name: &'static str, password: &'static str| session_of(&app, name, password);
    World {
        pat: session("pat", PASSWORD).await,
        moderator: session("mo", PASSWORD).await,
        newbie: session("newbie", PASSWORD).await,
        dana: session("dana", PASSWORD).await,
        db,
        app,
        casey,
        sam,
        public_topic: public.id,
        held_topic: held.id,
        removed_topic: removed.id,
        post_in_removed_topic: in_removed.id,
        held_first_post: held_first.id,
        hidden_post: hidden.id,
        deleted_post: deleted.id,
        pending_post: pending.id,
        draft_slug: draft.slug,
        draft_id: draft.id,
        draft_topic: draft.topic_id,
        draft_comment: comment.id,
        published_slug: published.slug,
        published_topic: published.topic_id,
    }
}

/// Posts `fields` (with `{id}` standing for the id) to `path` as `who`, once with `hidden` and
/// once with an id that does not exist: the answers must be the same, the one for the missing
/// id must be `expected`, and neither may write anything.
async fn same_as_missing(
    w: &World,
    who: (&str, Option<&str>),
    path: &str,
    fields: &[(&str, &str)],
    hidden: &str,
    missing: &str,
    expected: StatusCode,
) {
    let with = |id: &str| -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.replace("{id}", id)))
            .collect()
    };
    let ask = |id: &str| {
        let fields = with(id);
        async move {
            let borrowed: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            post_fetch(&w.app, path, &borrowed, who.1).await
        }
    };
    let before = everything(&w.db).await;
    let absent = ask(missing).await;
    let concealed = ask(hidden).await;
    let label = format!("{path} {fields:?} with {hidden} as {}", who.0);
    assert_eq!(
        everything(&w.db).await,
        before,
        "{label}: wrote something ({} {})",
        concealed.status,
        concealed.body
    );
    assert_eq!(
        absent.status, expected,
        "{label}: missing id: {}",
        absent.body
    );
    assert_eq!(
        (
            concealed.status,
            concealed.location.clone(),
            concealed.body.clone()
        ),
        (absent.status, absent.location.clone(), absent.body.clone()),
        "{label}"
    );
}

fn token() -> String {
    app::server::auth::random_token()
}

#[tokio::test]
async fn every_path_answers_not_found_for_what_the_asker_may_not_see() {
    let w = world().await;
    let m = MISSING.to_string();
    let visitor = ("visitor", None);
    let casey = ("casey", Some(w.casey.as_str()));
    let dana = ("dana, the author", Some(w.dana.as_str()));
    let sam = ("sam, staff", Some(w.sam.as_str()));
    let pat = ("pat, other staff", Some(w.pat.as_str()));
    let moderator = ("a moderator", Some(w.moderator.as_str()));
    let newbie = ("newbie", Some(w.newbie.as_str()));
    let s = |id: i64| id.to_string();

    // Topics nobody but their author and moderators may see, and an unpublished article's. A
    // held topic is for staff too: it waits in their queue, marked.
    let topics = [
        (s(w.held_topic), vec![visitor, casey, dana]),
        (s(w.removed_topic), vec![visitor, casey, sam, newbie]),
        (s(w.draft_topic), vec![visitor, casey, pat, moderator]),
    ];
    let t = token();
    for (id, askers) in &topics {
        for who in askers.iter().copied() {
            let nf = StatusCode::NOT_FOUND;
            same_as_missing(
                &w,
                who,
                "/api/topic_page",
                &[("id", "{id}"), ("page", "1")],
                id,
                &m,
                nf,
            )
            .await;
            let reply_fields = [
                ("topic_id", "{id}"),
                ("body", "Let me in"),
                ("form_token", t.as_str()),
            ];
            let expected = if who.1.is_some() { nf } else { StatusCode::OK };
            same_as_missing(&w, who, "/api/reply", &reply_fields, id, &m, expected).await;
            let expected = if who.1.is_some() {
                nf
            } else {
                StatusCode::FORBIDDEN
            };
            same_as_missing(
                &w,
                who,
                "/api/confirm_resolution",
                &[("topic_id", "{id}"), ("solved", "no")],
                id,
                &m,
                expected,
            )
            .await;
        }
    }
    // Staff tools on topics staff may not see (Sam wrote the draft, so sees its comments).
    for (id, askers) in [
        (s(w.removed_topic), vec![sam, pat]),
        (s(w.draft_topic), vec![pat]),
    ] {
        for who in askers {
            let nf = StatusCode::NOT_FOUND;
            same_as_missing(
                &w,
                who,
                "/api/set_topic_status",
                &[
                    ("topic_id", "{id}"),
                    ("status", "planned"),
                    ("note", "Soon."),
                ],
                &id,
                &m,
                nf,
            )
            .await;
            same_as_missing(
                &w,
                who,
                "/api/no_reply_needed",
                &[("topic_id", "{id}"), ("reason", "Nothing to say")],
                &id,
                &m,
                nf,
            )
            .await;
            same_as_missing(
                &w,
                who,
                "/api/unmark_answer",
                &[("topic_id", "{id}")],
                &id,
                &m,
                nf,
            )
            .await;
            let post = s(w.post_in_removed_topic);
            same_as_missing(
                &w,
                who,
                "/api/mark_answer",
                &[("topic_id", "{id}"), ("post_id", &post)],
                &id,
                &m,
                nf,
            )
            .await;
        }
    }
    // Moderators see held and removed topics, but not an unpublished article's comments.
    let id = s(w.draft_topic);
    for (path, extra) in [
        ("/api/moderate_topic", ("action", "lock")),
        ("/api/move_topic", ("category", "questions")),
    ] {
        let fields = [("topic_id", "{id}"), extra, ("reason", "")];
        same_as_missing(&w, moderator, path, &fields, &id, &m, StatusCode::NOT_FOUND).await;
    }

    // Posts whose text the asker may not read.
    let posts = [
        (s(w.hidden_post), vec![visitor, casey, sam]),
        (s(w.deleted_post), vec![visitor, casey, sam, dana]),
        (s(w.pending_post), vec![visitor, casey]),
        (s(w.held_first_post), vec![visitor, casey]),
        (s(w.post_in_removed_topic), vec![visitor, casey]),
        (s(w.draft_comment), vec![visitor, casey, pat, moderator]),
    ];
    for (id, askers) in &posts {
        for who in askers.iter().copied() {
            let signed_in = who.1.is_some();
            let nf = StatusCode::NOT_FOUND;
            same_as_missing(&w, who, "/api/quote", &[("post_id", "{id}")], id, &m, nf).await;
            let expected = if signed_in {
                nf
            } else {
                StatusCode::UNAUTHORIZED
            };
            same_as_missing(
                &w,
                who,
                "/api/editable_post",
                &[("post_id", "{id}")],
                id,
                &m,
                expected,
            )
            .await;
            let expected = if signed_in { nf } else { StatusCode::OK };
            same_as_missing(
                &w,
                who,
                "/api/edit_post",
                &[("post_id", "{id}"), ("body", "Changed."), ("reason", "")],
                id,
                &m,
                expected,
            )
            .await;
            let expected = if signed_in { nf } else { StatusCode::FORBIDDEN };
            same_as_missing(
                &w,
                who,
                "/api/flag_post",
                &[("post_id", "{id}"), ("reason", "spam"), ("note", "")],
                id,
                &m,
                expected,
            )
            .await;
        }
    }
    // Marking an answer the staff member may not see, in a topic they may see.
    let public = s(w.public_topic);
    for id in [
        s(w.pending_post),
        s(w.deleted_post),
        s(w.post_in_removed_topic),
    ] {
        let fields = [("topic_id", public.as_str()), ("post_id", "{id}")];
        same_as_missing(
            &w,
            sam,
            "/api/mark_answer",
            &fields,
            &id,
            &m,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }

    // An unpublished article, by its address and by its number.
    for who in [visitor, casey, pat, moderator] {
        let fields = [("slug", "{id}"), ("page", "1")];
        same_as_missing(
            &w,
            who,
            "/api/article_page",
            &fields,
            &w.draft_slug,
            "no-such-article",
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    let expected = StatusCode::NOT_FOUND;
    same_as_missing(
        &w,
        pat,
        "/api/article_editor",
        &[("slug", "{id}")],
        &w.draft_slug,
        "no-such-article",
        expected,
    )
    .await;
    let fields = [
        ("article_id", "{id}"),
        ("title", "Taken over"),
        ("slug", ""),
        ("summary", ""),
        ("body", "Mine now."),
        ("cover_image_url", ""),
        ("tags", ""),
        ("publish", "now"),
        ("publish_at", ""),
        ("form_token", t.as_str()),
    ];
    same_as_missing(
        &w,
        pat,
        "/api/save_article",
        &fields,
        &s(w.draft_id),
        &m,
        expected,
    )
    .await;
}

/// The pages a browser gets, with the hidden thing's id and with a missing one, are the same
/// page (but for the id in its address).
#[tokio::test]
async fn pages_for_hidden_things_are_the_missing_page() {
    let w = world().await;
    let page = |path: String, cookie: Option<String>| {
        let app = w.app.clone();
        async move { get(&app, &path, cookie.as_deref()).await }
    };
    // The page as it would be for any id: the asked address and the one-shot form token out.
    let normal = |r: &Reply, path: &str| {
        let mut body = r
            .stable_body()
            .replace(&app::paths::encode_query_value(path), "PATH")
            .replace(path, "PATH");
        // One-shot tokens (64 hex digits) differ on every page.
        let chars: Vec<char> = body.chars().collect();
        let mut out = String::with_capacity(body.len());
        let mut i = 0;
        while i < chars.len() {
            let run = chars[i..]
                .iter()
                .take_while(|c| c.is_ascii_hexdigit())
                .count();
            if run == 64 {
                out.push_str("TOKEN");
                i += run;
            } else {
                out.extend(&chars[i..i + run.max(1)]);
                i += run.max(1);
            }
        }
        body = out;
        body
    };
    let same = |a: Reply, b: Reply, label: String, missing_path: String| {
        assert_eq!(a.status, b.status, "{label}");
        assert_eq!(normal(&a, &label), normal(&b, &missing_path), "{label}");
        for secret in SECRETS {
            assert!(!a.body.contains(secret), "{label} shows {secret}");
        }
    };
    // A post everyone may read is quoted into the reply box: the pages below do quote.
    let public_first = app::server::testing::post_at(&w.db, w.public_topic, 1).await;
    let quoting = format!(
        "/t/{}/a-public-question?quote={}",
        w.public_topic, public_first.id
    );
    let res = page(quoting, Some(w.casey.clone())).await;
    assert!(res.body.contains("&gt; Public text."), "{}", res.body);
    for cookie in [None, Some(w.casey.clone())] {
        for id in [w.held_topic, w.removed_topic, w.draft_topic] {
            let a = page(format!("/t/{id}"), cookie.clone()).await;
            let b = page(format!("/t/{MISSING}"), cookie.clone()).await;
            same(a, b, format!("/t/{id}"), format!("/t/{MISSING}"));
        }
        for id in [
            w.hidden_post,
            w.deleted_post,
            w.pending_post,
            w.held_first_post,
            w.post_in_removed_topic,
            w.draft_comment,
        ] {
            for base in [
                format!("/t/{}/a-public-question", w.public_topic),
                format!("/blog/{}", w.published_slug),
            ] {
                let a = page(format!("{base}?quote={id}"), cookie.clone()).await;
                let b = page(format!("{base}?quote={MISSING}"), cookie.clone()).await;
                same(
                    a,
                    b,
                    format!("{base}?quote={id}"),
                    format!("{base}?quote={MISSING}"),
                );
            }
            // The flag page, for a visitor too (who is asked to log in only where there is a
            // post to flag).
            let a = page(format!("/p/{id}/flag"), cookie.clone()).await;
            let b = page(format!("/p/{MISSING}/flag"), cookie.clone()).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "/p/{id}/flag");
            same(a, b, format!("/p/{id}/flag"), format!("/p/{MISSING}/flag"));
            if cookie.is_some() {
                let a = page(format!("/p/{id}/edit"), cookie.clone()).await;
                let b = page(format!("/p/{MISSING}/edit"), cookie.clone()).await;
                same(a, b, format!("/p/{id}/edit"), format!("/p/{MISSING}/edit"));
            }
        }
    }
}

/// Member pages, the public moderation log, the feed and the sitemap show what a visitor may
/// see and nothing else, whoever asks.
#[tokio::test]
async fn member_pages_and_public_lists_show_only_what_a_visitor_may_see() {
    let w = world().await;
    // Each of them wrote something hidden, or in a hidden place.
    let mut paths: Vec<String> = ["newbie", "dana", "casey", "sam", "mo"]
        .iter()
        .map(|u| format!("/u/{u}"))
        .collect();
    paths.extend(
        [
            "/moderation",
            "/sitemap.xml",
            "/sitemap/site.xml",
            "/sitemap/topics-1.xml",
            "/blog/feed.xml",
            "/feed.xml",
            "/c/questions/feed.xml",
            "/blog",
            "/",
        ]
        .map(String::from),
    );
    paths.push(format!("/t/{}/a-public-question", w.public_topic));
    paths.push(format!("/blog/{}", w.published_slug));
    paths.push("/c/questions".into());
    for cookie in [None, Some(w.casey.as_str()), Some(w.moderator.as_str())] {
        for path in &paths {
            let res = get(&w.app, path, cookie).await;
            assert_eq!(res.status, StatusCode::OK, "{path}");
            for secret in SECRETS {
                // Moderators read held and hidden posts in their topic; the rest is for no one.
                let on_topic_page = path.starts_with("/t/") && cookie == Some(w.moderator.as_str());
                if on_topic_page && secret.ends_with("POST-TEXT") {
                    continue;
                }
                assert!(
                    !res.body.contains(secret),
                    "{path} as {cookie:?} shows {secret}"
                );
            }
        }
        for name in ["newbie", "dana", "casey", "sam"] {
            let res = post_fetch(&w.app, "/api/user_profile", &[("username", name)], cookie).await;
            assert_eq!(res.status, StatusCode::OK, "{name}");
            for secret in SECRETS {
                assert!(
                    !res.body.contains(secret),
                    "{name}'s profile shows {secret}"
                );
            }
        }
    }
    // The public log still lists what happened in public topics.
    let log = get(&w.app, "/moderation", None).await;
    assert!(log.body.contains("A public question"), "{}", log.body);
}

/// An article's comment topic belongs to its article: it can't be moved into the forum, where
/// its title would show whatever the article's state.
#[tokio::test]
async fn comment_topics_of_articles_cannot_be_moved() {
    let w = world().await;
    let before = everything(&w.db).await;
    let id = w.published_topic.to_string();
    let res = post_fetch(
        &w.app,
        "/api/move_topic",
        &[("topic_id", &id), ("category", "questions"), ("reason", "")],
        Some(&w.moderator),
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    assert!(
        res.body
            .contains(app::server::moderation::ARTICLE_COMMENTS_STAY),
        "{}",
        res.body
    );
    assert_eq!(everything(&w.db).await, before);
}

/// A customer's no-JavaScript reply into a held topic comes back as "not found", with no
/// address of the topic in the redirect.
#[tokio::test]
async fn a_form_reply_into_a_held_topic_is_not_found() {
    let w = world().await;
    let before = everything(&w.db).await;
    let ask = |id: i64| {
        let id = id.to_string();
        let t = token();
        let w = &w;
        async move {
            post_form(
                &w.app,
                "/api/reply",
                &[("topic_id", &id), ("body", "Hello?"), ("form_token", &t)],
                Some(&w.casey),
                "/",
            )
            .await
        }
    };
    let held = ask(w.held_topic).await;
    let missing = ask(MISSING).await;
    assert_eq!(everything(&w.db).await, before);
    assert_eq!(held.status, missing.status);
    assert_eq!(held.location, missing.location);
    assert!(
        !held
            .location
            .as_deref()
            .unwrap_or("")
            .contains("held-topic"),
        "{:?}",
        held.location
    );
}
