//! Moderation through the real router: who may do what (every moderation route and server
//! function refuses customers, staff without the moderator role, and visitors), bad input that
//! writes nothing, and the flag → hide → edit → approve round trip without JavaScript.

use crate::common::*;
use app::{
    api::SIGNED_OUT,
    model::Role,
    server::{
        auth::PROTECTED_MEMBER,
        entity::{flag, moderation_log, notification, post, review_item, topic, user},
        moderation::{FLAG_TWICE, NOTHING_SELECTED},
    },
};
use axum::{Router, http::StatusCode};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};

struct Demo {
    db: DatabaseConnection,
    app: Router,
    casey: String,
    sam: String,
    moderator: String,
    post: post::Model,
    path: String,
}

async fn demo() -> Demo {
    let (db, app) = demo_site().await;
    // Sam is staff; make a moderator out of a new account.
    let mod_cookie = sign_up(
        &app,
        "morgan",
        "morgan@example.com",
        "a long enough password",
    )
    .await;
    let mut morgan: user::ActiveModel = user::Entity::find()
        .filter(user::Column::Username.eq("morgan"))
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .into();
    morgan.role = Set(Role::Moderator.as_str().into());
    morgan.update(&db).await.unwrap();
    let login = |u: &'static str, p: &'static str| {
        let app = app.clone();
        async move { session_of(&app, u, p).await }
    };
    // The demo's Safari bug report by casey.
    let t = topic::Entity::find()
        .filter(topic::Column::Slug.eq("dashboard-chart-is-blank-on-safari"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let post = post::Entity::find()
        .filter(post::Column::TopicId.eq(t.id))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    Demo {
        casey: login("casey", "demo-customer-pass").await,
        sam: login("sam", "demo-staff-pass").await,
        moderator: mod_cookie,
        path: format!("/t/{}/{}", t.id, t.slug),
        post,
        db,
        app,
    }
}

async fn writes(db: &DatabaseConnection) -> (u64, u64, u64, u64, Vec<post::Model>) {
    (
        flag::Entity::find().count(db).await.unwrap(),
        review_item::Entity::find().count(db).await.unwrap(),
        moderation_log::Entity::find().count(db).await.unwrap(),
        notification::Entity::find().count(db).await.unwrap(),
        post::Entity::find().all(db).await.unwrap(),
    )
}

/// A server function's path, its form fields.
type Action<'a> = (&'a str, Vec<(&'a str, &'a str)>);

#[tokio::test]
async fn every_moderation_route_refuses_customers_staff_and_visitors() {
    let d = demo().await;
    let (p, t, u) = (
        d.post.id.to_string(),
        d.post.topic_id.to_string(),
        d.post.author_id.to_string(),
    );
    let actions: Vec<Action> = vec![
        (
            "/api/moderate_post",
            vec![("post_id", &p), ("action", "hide"), ("reason", "x")],
        ),
        (
            "/api/moderate_bulk",
            vec![("action", "hide"), ("reason", "x"), ("items[]", "1")],
        ),
        (
            "/api/moderate_topic",
            vec![("topic_id", &t), ("action", "lock"), ("reason", "x")],
        ),
        (
            "/api/move_topic",
            vec![("topic_id", &t), ("category", "praise"), ("reason", "x")],
        ),
        (
            "/api/suspend_member",
            vec![("user_id", &u), ("days", "7"), ("reason", "x")],
        ),
        ("/api/unsuspend_member", vec![("user_id", &u)]),
        (
            "/api/remove_spammer",
            vec![("user_id", &u), ("reason", "x"), ("confirmed", "yes")],
        ),
    ];
    let before = writes(&d.db).await;
    for (path, fields) in &actions {
        for (who, cookie, expected) in [
            (
                "customer",
                Some(d.casey.as_str()),
                "Only moderator and above can do that.",
            ),
            (
                "staff",
                Some(d.sam.as_str()),
                "Only moderator and above can do that.",
            ),
            ("visitor", None, SIGNED_OUT),
        ] {
            assert_refused(&d.app, path, fields, who, cookie, expected).await;
        }
    }
    for page in ["/admin/review", "/admin/log"] {
        for cookie in [Some(d.casey.as_str()), Some(d.sam.as_str()), None] {
            assert_eq!(
                get(&d.app, page, cookie).await.status,
                StatusCode::FORBIDDEN,
                "{page}"
            );
        }
        assert_eq!(
            get(&d.app, page, Some(&d.moderator)).await.status,
            StatusCode::OK,
            "{page}"
        );
    }
    // Flagging needs an account.
    let res = post_fetch(
        &d.app,
        "/api/flag_post",
        &[("post_id", &p), ("reason", "spam"), ("note", "")],
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(writes(&d.db).await, before, "nothing was written");
    // Moderators cannot suspend admins.
    let admin = user::Entity::find()
        .filter(user::Column::Username.eq("admin"))
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    let res = post_fetch(
        &d.app,
        "/api/suspend_member",
        &[
            ("user_id", &admin.id.to_string()),
            ("days", "7"),
            ("reason", "x"),
        ],
        Some(&d.moderator),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.body.contains(PROTECTED_MEMBER));
    assert_eq!(writes(&d.db).await, before);
}

#[tokio::test]
async fn bad_moderation_input_gets_its_message_and_writes_nothing() {
    let d = demo().await;
    let p = d.post.id.to_string();
    let long = "x".repeat(1001);
    // Past what the page's address may carry: the error is said all the same.
    let longer = "é".repeat(6000);
    let quotes = "\"".repeat(3900);
    // A second open flag, an over-long reason, an empty bulk selection, a deleted post's flag.
    let sam_flag = [
        ("post_id", p.as_str()),
        ("reason", "off_topic"),
        ("note", ""),
    ];
    assert_eq!(
        post_fetch(&d.app, "/api/flag_post", &sam_flag, Some(&d.sam))
            .await
            .status,
        StatusCode::OK
    );
    let before = writes(&d.db).await;
    for (path, fields, cookie, message) in [
        (
            "/api/flag_post",
            sam_flag.to_vec(),
            &d.sam,
            FLAG_TWICE.to_string(),
        ),
        (
            "/api/flag_post",
            vec![
                ("post_id", p.as_str()),
                ("reason", "other"),
                ("note", long.as_str()),
            ],
            &d.moderator,
            "Reasons can be at most 1,000 characters; this one has 1001.".to_string(),
        ),
        (
            "/api/moderate_bulk",
            vec![("action", "hide"), ("reason", "x")],
            &d.moderator,
            NOTHING_SELECTED.to_string(),
        ),
        (
            "/api/moderate_post",
            vec![
                ("post_id", p.as_str()),
                ("action", "hide"),
                ("reason", long.as_str()),
            ],
            &d.moderator,
            "Reasons can be at most 1,000 characters; this one has 1001.".to_string(),
        ),
        (
            "/api/moderate_post",
            vec![
                ("post_id", p.as_str()),
                ("action", "hide"),
                ("reason", longer.as_str()),
            ],
            &d.moderator,
            "Reasons can be at most 1,000 characters; this one has 6000.".to_string(),
        ),
        (
            "/api/moderate_post",
            vec![
                ("post_id", p.as_str()),
                ("action", "hide"),
                ("reason", quotes.as_str()),
            ],
            &d.moderator,
            "Reasons can be at most 1,000 characters; this one has 3900.".to_string(),
        ),
    ] {
        let res = post_form(&d.app, path, &fields, Some(cookie), &d.path).await;
        assert!(
            res.location
                .as_deref()
                .unwrap_or_default()
                .contains("__err="),
            "{path}: {message}"
        );
        let page = follow(&d.app, &res, Some(cookie)).await;
        assert!(
            page.body.contains(&message),
            "{message} not shown on the page"
        );
    }
    assert_eq!(writes(&d.db).await, before);
    post_fetch(
        &d.app,
        "/api/moderate_post",
        &[
            ("post_id", &p),
            ("action", "delete"),
            ("reason", "Gone"),
            ("confirmed", "yes"),
        ],
        Some(&d.moderator),
    )
    .await;
    let after_delete = writes(&d.db).await;
    let res = post_fetch(
        &d.app,
        "/api/flag_post",
        &[("post_id", &p), ("reason", "spam"), ("note", "")],
        Some(&d.casey),
    )
    .await;
    // A deleted post is not there for a member: the answer is the one for no post.
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(
        res.body.contains(app::server::forum::POST_MISSING),
        "{}",
        res.body
    );
    assert_eq!(writes(&d.db).await, after_delete);
}

#[tokio::test]
async fn flag_hide_edit_approve_round_trip_without_javascript() {
    let d = demo().await;
    let p = d.post.id.to_string();
    // Sam flags casey's post; it shows "You flagged this" to sam, and the queue has it.
    let res = post_form(
        &d.app,
        "/api/flag_post",
        &[("post_id", &p), ("reason", "rude"), ("note", "")],
        Some(&d.sam),
        &format!("/p/{p}/flag"),
    )
    .await;
    // From its flag page back at the post, saying the flag was sent.
    assert_eq!(
        res.location.as_deref(),
        Some(format!("{}?done=flagged&post={p}#status-post-{p}", d.path).as_str())
    );
    assert!(
        get(&d.app, &d.path, Some(&d.sam))
            .await
            .body
            .contains("You flagged this")
    );
    let queue = get(&d.app, "/admin/review", Some(&d.moderator)).await;
    assert!(queue.body.contains("Rude or abusive"));
    assert!(queue.body.contains("Review (1)"), "the count in the header");

    // The demo's answers already told casey of some things: the hiding adds one.
    let unread = |body: &str| {
        body.split("Notifications (")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let unread_before = unread(&get(&d.app, &d.path, Some(&d.casey)).await.body);
    // The moderator hides it with a reason.
    post_form(
        &d.app,
        "/api/moderate_post",
        &[
            ("post_id", &p),
            ("action", "hide"),
            ("reason", "Please describe the bug, not the team."),
        ],
        Some(&d.moderator),
        "/admin/review",
    )
    .await;
    // It is the topic's opening post: the topic leaves visitors' sight and the lists with it.
    let visitor_view = get(&d.app, &d.path, None).await;
    assert_eq!(visitor_view.status, StatusCode::NOT_FOUND);
    assert!(
        visitor_view
            .body
            .contains(app::server::visibility::TOPIC_MISSING)
    );
    assert!(!visitor_view.body.contains("Chrome works fine"));
    assert!(
        !get(&d.app, "/", None)
            .await
            .body
            .contains("dashboard-chart-is-blank-on-safari")
    );
    let author_view = get(&d.app, &d.path, Some(&d.casey)).await;
    assert!(
        author_view
            .body
            .contains("Please describe the bug, not the team.")
    );
    assert!(
        author_view.body.contains("Chrome works fine"),
        "the author still sees the text"
    );
    assert!(
        author_view
            .body
            .contains("Others cannot see this topic while it is hidden"),
        "the author is told what hiding an opening post does"
    );
    assert_eq!(unread(&author_view.body), unread_before + 1);
    let notes = get(&d.app, "/notifications", Some(&d.casey)).await;
    assert!(notes.body.contains(
        "Your post was hidden by a moderator. Reason: Please describe the bug, not the team."
    ));

    // The author edits: back to the queue; the moderator approves; it is public again.
    let res = post_form(
        &d.app,
        "/api/edit_post",
        &[
            ("post_id", &p),
            ("body", "Since yesterday the chart is blank in Safari 18."),
        ],
        Some(&d.casey),
        &format!("/p/{p}/edit"),
    )
    .await;
    assert!(!res.location.unwrap().contains("__err"));
    let queue = get(&d.app, "/admin/review", Some(&d.moderator)).await;
    assert!(queue.body.contains("Edited after hiding"));
    post_form(
        &d.app,
        "/api/moderate_post",
        &[("post_id", &p), ("action", "approve"), ("reason", "")],
        Some(&d.moderator),
        "/admin/review",
    )
    .await;
    let public = get(&d.app, &d.path, None).await;
    assert!(
        public
            .body
            .contains("Since yesterday the chart is blank in Safari 18.")
    );
    assert!(
        get(&d.app, "/", None)
            .await
            .body
            .contains("dashboard-chart-is-blank-on-safari")
    );
    // Logged for moderators with names; in public without.
    let log = get(&d.app, "/admin/log", Some(&d.moderator)).await;
    assert!(log.body.contains("morgan") && log.body.contains("hid a post"));
    let public_log = get(&d.app, "/moderation", None).await;
    assert!(public_log.body.contains("hid a post") && !public_log.body.contains("morgan"));
}

/// A post the members' flags hid is offered "Keep hidden" in the review queue (a plain form);
/// kept hidden, its flags are upheld, its author told the reason, the queue empties and the
/// topic stays out of sight. Sent again, it is refused with its message and writes nothing.
#[tokio::test]
async fn a_post_hidden_by_flags_is_kept_hidden_from_the_queue_without_javascript() {
    let d = demo().await;
    let p = d.post.id.to_string();
    // Two new accounts' flags (half weight each) reach a threshold of 1.
    app::server::settings::put(&d.db, app::server::settings::FLAG_THRESHOLD.0, "1")
        .await
        .unwrap();
    for who in [&d.sam, &d.moderator] {
        post_fetch(
            &d.app,
            "/api/flag_post",
            &[("post_id", &p), ("reason", "rude"), ("note", "")],
            Some(who),
        )
        .await;
    }
    assert_eq!(
        get(&d.app, &d.path, None).await.status,
        StatusCode::NOT_FOUND
    );
    let queue = get(&d.app, "/admin/review", Some(&d.moderator)).await;
    let doc = scraper::Html::parse_document(&queue.body);
    let options = scraper::Selector::parse(".review-item select[name=action] option").unwrap();
    let offered: Vec<(String, String)> = doc
        .select(&options)
        .map(|o| {
            (
                o.value().attr("value").unwrap_or_default().to_string(),
                o.text().collect::<String>(),
            )
        })
        .collect();
    assert!(
        offered.contains(&("keep_hidden".to_string(), "Keep hidden".to_string())),
        "{offered:?}"
    );

    // Without a reason: refused, said in the item's own form, with the action kept.
    let before = writes(&d.db).await;
    let res = post_form(
        &d.app,
        "/api/moderate_post",
        &[("post_id", &p), ("action", "keep_hidden"), ("reason", " ")],
        Some(&d.moderator),
        "/admin/review",
    )
    .await;
    let page = follow(&d.app, &res, Some(&d.moderator)).await;
    let doc = scraper::Html::parse_document(&page.body);
    let within = |css: &str| {
        let selector = scraper::Selector::parse(&format!("#moderate-{p} {css}")).unwrap();
        doc.select(&selector)
            .map(|e| e.text().collect::<String>())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        within("[role=alert]"),
        vec![app::server::moderation::REASON_NEEDED.to_string()]
    );
    assert_eq!(within("option[selected]"), vec!["Keep hidden".to_string()]);
    assert_eq!(writes(&d.db).await, before);

    let res = post_form(
        &d.app,
        "/api/moderate_post",
        &[
            ("post_id", &p),
            ("action", "keep_hidden"),
            ("reason", "Name-calling."),
        ],
        Some(&d.moderator),
        "/admin/review",
    )
    .await;
    assert!(!res.location.unwrap_or_default().contains("__err="));
    let kept = post::Entity::find_by_id(d.post.id)
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (kept.state.as_str(), kept.moderation_reason.as_deref()),
        ("hidden", Some("Name-calling."))
    );
    let flags = flag::Entity::find().all(&d.db).await.unwrap();
    assert!(flags.iter().all(|f| f.state == "upheld"), "{flags:?}");
    assert!(
        get(&d.app, "/admin/review", Some(&d.moderator))
            .await
            .body
            .contains("No items here")
    );
    assert_eq!(
        get(&d.app, &d.path, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        get(&d.app, "/notifications", Some(&d.casey))
            .await
            .body
            .contains(
                "A moderator reviewed your post and is keeping it hidden. Reason: Name-calling."
            )
    );

    let before = writes(&d.db).await;
    let res = post_form(
        &d.app,
        "/api/moderate_post",
        &[
            ("post_id", &p),
            ("action", "keep_hidden"),
            ("reason", "Again."),
        ],
        Some(&d.moderator),
        "/admin/review",
    )
    .await;
    assert!(
        res.location
            .as_deref()
            .unwrap_or_default()
            .contains("__err=")
    );
    let page = follow(&d.app, &res, Some(&d.moderator)).await;
    let shown: String = scraper::Html::parse_document(&page.body)
        .root_element()
        .text()
        .collect();
    // Its item is gone from the queue: said at the page's top.
    assert!(shown.contains(app::server::moderation::NOTHING_TO_DECIDE));
    assert_eq!(writes(&d.db).await, before);
}

/// The flag that hides a topic's opening post takes the topic out of the flagger's sight too:
/// they land on its category, told the flag was sent, not on "doesn't exist".
#[tokio::test]
async fn the_flag_that_hides_an_opening_post_lands_on_its_category() {
    let d = demo().await;
    app::server::settings::put(&d.db, "flag_threshold", "1")
        .await
        .unwrap();
    // Sam's flag counts fully: the demo's accounts are new, and a new account's counts half.
    let mut sam: user::ActiveModel = user::Entity::find()
        .filter(user::Column::Username.eq("sam"))
        .one(&d.db)
        .await
        .unwrap()
        .unwrap()
        .into();
    sam.created_at = Set(chrono::Utc::now() - chrono::Duration::days(2));
    sam.update(&d.db).await.unwrap();
    assert_eq!(d.post.post_number, 1, "the opening post");
    let p = d.post.id.to_string();
    let res = post_form(
        &d.app,
        "/api/flag_post",
        &[("post_id", &p), ("reason", "spam"), ("note", "")],
        Some(&d.sam),
        &format!("/p/{p}/flag"),
    )
    .await;
    let category = app::server::entity::category::Entity::find_by_id(
        topic::Entity::find_by_id(d.post.topic_id)
            .one(&d.db)
            .await
            .unwrap()
            .unwrap()
            .category_id,
    )
    .one(&d.db)
    .await
    .unwrap()
    .unwrap();
    let landing = format!("/c/{}?done=flagged", category.slug);
    assert_eq!(
        res.location.as_deref(),
        Some(format!("{landing}#status").as_str())
    );
    let page = get(&d.app, &landing, Some(&d.sam)).await;
    assert!(
        page.body
            .contains("Flag sent to moderators. Thank you: they will look at it."),
        "{}",
        page.body
    );
    assert!(!page.body.contains("dashboard-chart-is-blank-on-safari"));
    assert_eq!(
        get(&d.app, &d.path, Some(&d.sam)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_spammer_is_removed_in_one_step() {
    let d = demo().await;
    // Holding new members' first posts is off by default; this spammer meets it turned on.
    app::server::settings::put(&d.db, "new_member_hold_posts", "1")
        .await
        .unwrap();
    let spammer_cookie = sign_up(
        &d.app,
        "spamalot",
        "spam@example.com",
        "a long enough password",
    )
    .await;
    let spammer = user::Entity::find()
        .filter(user::Column::Username.eq("spamalot"))
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    let token = form_token_on(&d.app, &d.path, Some(&spammer_cookie)).await;
    let t = d.post.topic_id.to_string();
    post_form(
        &d.app,
        "/api/reply",
        &[
            ("topic_id", &t),
            ("body", "Cheap watches at example.com"),
            ("form_token", &token),
        ],
        Some(&spammer_cookie),
        &d.path,
    )
    .await;
    // A new member's first post waits for approval: the author is told, others don't see it.
    assert!(
        get(&d.app, &d.path, Some(&spammer_cookie))
            .await
            .body
            .contains("first posts wait for a moderator")
    );
    assert!(
        !get(&d.app, &d.path, None)
            .await
            .body
            .contains("Cheap watches")
    );
    let res = post_form(
        &d.app,
        "/api/remove_spammer",
        &[
            ("user_id", &spammer.id.to_string()),
            ("reason", "Spam"),
            ("confirmed", "yes"),
        ],
        Some(&d.moderator),
        "/admin/review",
    )
    .await;
    assert!(!res.location.unwrap().contains("__err"));
    let left = post::Entity::find()
        .filter(post::Column::AuthorId.eq(spammer.id))
        .filter(post::Column::State.ne("deleted"))
        .count(&d.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert_eq!(
        signed_in_as(&d.app, &spammer_cookie).await,
        None,
        "logged out everywhere"
    );
    // Logging back in is refused, with the reason (nothing to post with).
    let res = post_fetch(
        &d.app,
        "/api/log_in",
        &[
            ("login", "spamalot"),
            ("password", "a long enough password"),
        ],
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(
        res.body
            .contains("Your account is suspended, so you can't log in. Reason: Spam"),
        "{}",
        res.body
    );
}

#[tokio::test]
async fn admins_set_thresholds_limits_and_watched_words() {
    let d = demo().await;
    let admin = log_in(&d.app, "admin", "demo-admin-pass", None)
        .await
        .session_cookie()
        .unwrap();
    let settings = [
        ("flag_threshold", "2"),
        ("new_member_hold", "0"),
        ("posts_per_10_min", "20"),
        ("topics_per_hour", "5"),
        ("flags_per_hour", "20"),
    ];
    // Only admins: moderators, staff, customers and visitors are refused, and nothing changes.
    let stored = || async {
        (
            app::server::entity::setting::Entity::find()
                .all(&d.db)
                .await
                .unwrap(),
            app::server::entity::watched_word::Entity::find()
                .count(&d.db)
                .await
                .unwrap(),
        )
    };
    let before = stored().await;
    for cookie in [
        Some(d.moderator.as_str()),
        Some(d.sam.as_str()),
        Some(d.casey.as_str()),
        None,
    ] {
        for (path, fields) in [
            ("/api/save_moderation_settings", settings.to_vec()),
            (
                "/api/add_watched_word",
                vec![("word", "casino"), ("action", "block")],
            ),
            ("/api/remove_watched_word", vec![("id", "1")]),
        ] {
            assert_eq!(
                post_fetch(&d.app, path, &fields, cookie).await.status,
                StatusCode::FORBIDDEN,
                "{path}"
            );
        }
        assert_eq!(
            get(&d.app, "/admin/moderation", cookie).await.status,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(stored().await, before);

    // Bad numbers: a clear message, nothing saved.
    for (field, value, message) in [
        (
            "flag_threshold",
            "0",
            "Give a whole number from 1 to 10,000.",
        ),
        (
            "posts_per_10_min",
            "lots",
            "Give a whole number, 0 to turn it off.",
        ),
    ] {
        let mut fields = settings.to_vec();
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let res = post_fetch(
            &d.app,
            "/api/save_moderation_settings",
            &fields,
            Some(&admin),
        )
        .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        assert!(res.body.contains(message), "{}", res.body);
    }
    assert_eq!(stored().await, before);

    let mut saved = settings.to_vec();
    saved.push(("log_public", "on"));
    assert_eq!(
        post_fetch(
            &d.app,
            "/api/save_moderation_settings",
            &saved,
            Some(&admin)
        )
        .await
        .status,
        StatusCode::OK
    );
    assert!(
        get(&d.app, "/admin/moderation", Some(&admin))
            .await
            .body
            .contains(
                r#"name="flag_threshold" type="number" min="0" max="10000" step="1" value="2""#
            )
    );

    // A watched word blocks a post, with the word named.
    let res = post_fetch(
        &d.app,
        "/api/add_watched_word",
        &[("word", "Casino"), ("action", "block")],
        Some(&admin),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    let res = post_fetch(
        &d.app,
        "/api/add_watched_word",
        &[("word", "casino"), ("action", "hold")],
        Some(&admin),
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "already watched");
    let token = form_token_on(&d.app, &d.path, Some(&d.casey)).await;
    let t = d.post.topic_id.to_string();
    let before = post::Entity::find().count(&d.db).await.unwrap();
    let res = post_fetch(
        &d.app,
        "/api/reply",
        &[
            ("topic_id", &t),
            ("body", "Visit my c\u{200B}asino"),
            ("form_token", &token),
        ],
        Some(&d.casey),
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(
        res.body.contains("Your post contains “casino”"),
        "{}",
        res.body
    );
    assert_eq!(post::Entity::find().count(&d.db).await.unwrap(), before);
}

#[tokio::test]
async fn a_moderator_edits_a_post_with_a_reason_the_author_sees() {
    let d = demo().await;
    let p = d.post.id.to_string();
    let form = get(&d.app, &format!("/p/{p}/edit"), Some(&d.moderator)).await;
    assert!(form.body.contains("Reason (the author sees it)"));
    assert!(
        !get(&d.app, &format!("/p/{p}/edit"), Some(&d.casey))
            .await
            .body
            .contains("Reason (the author sees it)")
    );
    let res = post_form(
        &d.app,
        "/api/edit_post",
        &[
            ("post_id", &p),
            ("body", "Chart blank in Safari 18 (details removed)."),
            ("reason", "Removed a customer's phone number"),
        ],
        Some(&d.moderator),
        &format!("/p/{p}/edit"),
    )
    .await;
    assert!(!res.location.unwrap().contains("__err"));
    let told = notification::Entity::find()
        .filter(notification::Column::Kind.eq("edited"))
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        told.message,
        "A moderator edited your post. Reason: Removed a customer's phone number"
    );
    let revisions = app::server::entity::post_revision::Entity::find()
        .count(&d.db)
        .await
        .unwrap();
    assert_eq!(revisions, 1, "the old text is kept");
    let entry = moderation_log::Entity::find()
        .one(&d.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.action, "edit");
}

/// The review queue's bulk bar without JavaScript: a refused action comes back with its error
/// in the bar and the action, reason and selection as they were sent, having written nothing;
/// an action that applies to some of the selected items is taken on those and says how many
/// were left. A moderator's queue offers no action on an admin's post, and says why.
#[tokio::test]
async fn the_bulk_bar_says_what_it_did_and_keeps_a_refused_form_without_javascript() {
    let d = demo().await;
    let admin = session_of(&d.app, "admin", "demo-admin-pass").await;
    let token = form_token_on(&d.app, &d.path, Some(&admin)).await;
    let res = post_reply(
        &d.app,
        &d.path,
        d.post.topic_id,
        "An admin's word on this.",
        &token,
        &admin,
    )
    .await;
    assert!(res.status.is_redirection(), "{}", res.body);
    assert!(
        !res.location
            .as_deref()
            .unwrap_or_default()
            .contains("__err="),
        "{:?}",
        res.location
    );
    let posts = post::Entity::find()
        .filter(post::Column::TopicId.eq(d.post.topic_id))
        .all(&d.db)
        .await
        .unwrap();
    let admins_post = posts.iter().max_by_key(|p| p.id).unwrap().id;
    let sams = post::Entity::find()
        .filter(post::Column::AuthorId.eq(member(&d.db, "sam").await.id))
        .filter(post::Column::State.eq("visible"))
        .one(&d.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let flagged = [d.post.id, sams, admins_post];
    // Casey's own post is flagged by sam, the others by casey.
    for (id, flagger) in flagged.into_iter().zip([&d.sam, &d.casey, &d.casey]) {
        let res = post_fetch(
            &d.app,
            "/api/flag_post",
            &[
                ("post_id", &id.to_string()),
                ("reason", "rude"),
                ("note", ""),
            ],
            Some(flagger),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    }
    let mut items = Vec::new();
    for id in flagged {
        items.push(
            review_item::Entity::find()
                .filter(review_item::Column::PostId.eq(id))
                .one(&d.db)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("post {id} is not in the queue"))
                .id
                .to_string(),
        );
    }

    // The admin's item: no form and no box to select it, and the reason.
    let queue = get(&d.app, "/admin/review", Some(&d.moderator)).await;
    let doc = scraper::Html::parse_document(&queue.body);
    let rows = scraper::Selector::parse(".review-item").unwrap();
    let admins_row = doc
        .select(&rows)
        .find(|r| r.text().collect::<String>().contains("An admin's word"))
        .unwrap();
    let text: String = admins_row.text().collect();
    assert!(text.contains(PROTECTED_MEMBER), "{text}");
    for css in ["select", "input[type=checkbox]", "form"] {
        let s = scraper::Selector::parse(css).unwrap();
        assert_eq!(admins_row.select(&s).count(), 0, "{css}");
    }

    // Without a reason: refused in the bar, everything kept, nothing written.
    let before = writes(&d.db).await;
    let res = post_bulk(&d.app, &d.moderator, "hide", " ", &items[..2]).await;
    assert!(
        res.location
            .as_deref()
            .unwrap_or_default()
            .ends_with("#bulk")
    );
    let page = follow(&d.app, &res, Some(&d.moderator)).await;
    let doc = scraper::Html::parse_document(&page.body);
    let texts = |css: &str| {
        let s = scraper::Selector::parse(css).unwrap();
        doc.select(&s)
            .map(|e| e.text().collect::<String>())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        texts("#bulk [role=alert]"),
        vec![app::server::moderation::REASON_NEEDED.to_string()]
    );
    assert_eq!(texts("[role=alert]").len(), 1, "said once");
    assert_eq!(texts("#bulk option[selected]"), vec!["Hide".to_string()]);
    // The field it is about is marked, for the focus to go there.
    assert_eq!(
        texts("#bulk input[name=reason][aria-invalid=true]").len(),
        1
    );
    assert_eq!(texts("#bulk select[aria-invalid]").len(), 0);
    let checked = scraper::Selector::parse("input[name=\"items[]\"][checked]").unwrap();
    let checked: Vec<&str> = doc
        .select(&checked)
        .filter_map(|e| e.value().attr("value"))
        .collect();
    assert_eq!(checked, vec![items[0].as_str(), items[1].as_str()]);
    assert_eq!(writes(&d.db).await, before);

    // With one: taken on the two it applies to, the admin's left and counted.
    let res = post_bulk(&d.app, &d.moderator, "hide", "Name-calling.", &items).await;
    assert_eq!(
        res.location.as_deref(),
        Some("/admin/review?done=bulk.hide.2.1#status")
    );
    let page = follow(&d.app, &res, Some(&d.moderator)).await;
    let doc = scraper::Html::parse_document(&page.body);
    let status = scraper::Selector::parse("#status").unwrap();
    assert_eq!(
        doc.select(&status)
            .map(|e| e.text().collect::<String>())
            .collect::<Vec<_>>(),
        vec![
            "2 posts hidden. Their authors see the reason. 1 selected item was left as it was: \
             another moderator decided it first, or the action does not apply to it."
                .to_string()
        ]
    );
    let states: Vec<String> = {
        let mut states = Vec::new();
        for id in flagged {
            states.push(
                post::Entity::find_by_id(id)
                    .one(&d.db)
                    .await
                    .unwrap()
                    .unwrap()
                    .state,
            );
        }
        states
    };
    assert_eq!(states, ["hidden", "hidden", "visible"]);
}
