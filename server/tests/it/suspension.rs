//! A suspension is a suspension: a suspended member cannot log in, and a session of theirs that
//! is still open (one that raced the suspension, or any other way) can read but not write, in
//! any role. The table below covers every server function the router serves (the list
//! `backyard server-functions` prints): a new one that is in neither the table of writes nor
//! the list of reads fails `every_server_function_is_in_the_table`.

use std::collections::BTreeMap;

use crate::common::*;
use app::{
    components::time::exact_utc,
    model::Role,
    server::entity::{post, topic, user},
};
use axum::{Router, http::StatusCode};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, Statement,
};

const REASON: &str = "Repeated insults";

/// Server functions that only read: a suspended member may still use them (pages stay
/// readable). Each is posted anyway, and must write nothing.
const READS: &[&str] = &[
    "/api/account_email",
    "/api/confirmation",
    "/api/accountability",
    "/api/admin_categories",
    "/api/admin_user",
    "/api/admin_users",
    "/api/article_editor",
    "/api/article_page",
    "/api/blog_index",
    "/api/categories",
    "/api/category_page",
    "/api/composer_start",
    "/api/confirm_link_valid",
    "/api/dashboard",
    "/api/editable_post",
    "/api/flag_target",
    "/api/get_signup_mode",
    "/api/home",
    "/api/home_intro",
    "/api/mail_outbox",
    "/api/mail_settings",
    "/api/me",
    "/api/member_draft",
    "/api/moderation_log",
    "/api/moderation_settings",
    "/api/notifications",
    "/api/postable_categories",
    "/api/preview",
    "/api/profile",
    "/api/quote",
    "/api/reset_link_valid",
    "/api/review_queue",
    "/api/roadmap",
    "/api/search",
    "/api/site",
    "/api/similar_topics",
    "/api/site_settings",
    "/api/staff_ideas",
    "/api/staff_metrics",
    "/api/staff_queue",
    "/api/topic_page",
    "/api/unsubscribe_view",
    "/api/user_profile",
];

/// Ending a session, and starting one (which refuses a suspended account itself, see
/// `logging_in_is_refused_with_the_reason_and_the_end_date`), are what a suspended session may
/// still do.
const SESSION: &[&str] = &["/api/log_in", "/api/log_out"];

/// Every table's rows, as text: equal before and after means nothing was written. Sessions are
/// left out (reading a page may refresh a session's "last seen"); log-in failures too (the
/// log-in test counts them itself); and what a member has read (reading a topic marks it read,
/// for the home page's markers: a suspended member still reads).
async fn dump(db: &DatabaseConnection) -> BTreeMap<String, Vec<String>> {
    table_rows(
        db,
        &[
            "sessions",
            "login_failures",
            "seaql_migrations",
            "topic_reads",
        ],
        &[],
    )
    .await
}

async fn failures(db: &DatabaseConnection) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT COUNT(*) FROM login_failures",
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get_by_index(0)
    .unwrap()
}

/// One signed-in member of a role, suspended after signing in.
struct Member {
    role: Role,
    username: &'static str,
    password: &'static str,
    cookie: String,
    /// A post of theirs, to edit.
    own_post: i64,
    until: DateTime<Utc>,
}

struct Site {
    db: DatabaseConnection,
    app: Router,
    members: Vec<Member>,
    /// A customer nobody suspended: the target of actions on members.
    target: i64,
    /// A suspended customer, for "lift the suspension".
    suspended_target: i64,
    /// A topic with an official answer, and a post of the target's in it.
    topic: topic::Model,
    target_post: i64,
    review_item: i64,
    watched_word: i64,
    category: i64,
}

async fn user_named(db: &DatabaseConnection, name: &str) -> user::Model {
    user::Entity::find()
        .filter(user::Column::Username.eq(name))
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

async fn set_role(db: &DatabaseConnection, name: &str, role: Role) -> user::Model {
    let mut row: user::ActiveModel = user_named(db, name).await.into();
    row.role = Set(role.as_str().into());
    row.trust_level = Set(1);
    row.update(db).await.unwrap()
}

/// Suspends a member in the database only: `moderation::suspend` would also end their sessions,
/// and these tests are about a session that is still open.
async fn suspend_keeping_sessions(
    db: &DatabaseConnection,
    id: i64,
    until: DateTime<Utc>,
) -> DateTime<Utc> {
    let mut row: user::ActiveModel = user::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .into();
    row.suspended_until = Set(Some(until));
    row.suspension_reason = Set(Some(REASON.into()));
    row.update(db).await.unwrap().suspended_until.unwrap()
}

async fn site() -> Site {
    use app::server::{forum, moderation, staff};
    let (db, app) = demo_site().await;
    sign_up(
        &app,
        "morgan",
        "morgan@example.com",
        "a long enough password",
    )
    .await;
    sign_up(&app, "tess", "tess@example.com", "a long enough password").await;
    sign_up(&app, "sue", "sue@example.com", "a long enough password").await;
    let morgan = set_role(&db, "morgan", Role::Moderator).await;
    let tess = set_role(&db, "tess", Role::Customer).await;
    let sue = user_named(&db, "sue").await;
    let sam = user_named(&db, "sam").await;
    let admin = user_named(&db, "admin").await;
    let casey = user_named(&db, "casey").await;
    let topic = topic::Entity::find()
        .filter(topic::Column::Slug.eq("how-do-i-change-the-e-mail-on-my-account"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let morgan_post = forum::reply(&db, &morgan, topic.id, "Moderator here.", None)
        .await
        .unwrap();
    let target_post = forum::reply(&db, &tess, topic.id, "Same question here.", None)
        .await
        .unwrap();
    let reply = post::Entity::find()
        .filter(post::Column::TopicId.eq(topic.id))
        .filter(post::Column::AuthorId.eq(sam.id))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    staff::mark_answer(&db, &sam, topic.id, reply.id)
        .await
        .unwrap();
    // Everyone has something unread, so "mark all read" would change something.
    for id in [casey.id, sam.id, morgan.id, admin.id] {
        app::server::notify::notify(&db, id, "role", "Hello.", "")
            .await
            .unwrap();
    }
    moderation::flag_post(&db, &casey, target_post.id, "spam", "")
        .await
        .unwrap();
    let review_item = app::server::entity::review_item::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .id;
    moderation::add_watched_word(&db, &admin, "casino", "block")
        .await
        .unwrap();
    let watched_word = app::server::entity::watched_word::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .id;
    moderation::suspend(&db, &admin, sue.id, Some(7), "Spam")
        .await
        .unwrap();
    let own_post = |id: i64| {
        let db = db.clone();
        async move {
            post::Entity::find()
                .filter(post::Column::AuthorId.eq(id))
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .id
        }
    };
    let mut members = Vec::new();
    for (role, who, username, password, days) in [
        (Role::Customer, &casey, "casey", "demo-customer-pass", 3),
        (Role::Staff, &sam, "sam", "demo-staff-pass", 7),
        (
            Role::Moderator,
            &morgan,
            "morgan",
            "a long enough password",
            30,
        ),
        // An admin suspended by another admin, for good.
        (Role::Admin, &admin, "admin", "demo-admin-pass", 365 * 100),
    ] {
        let cookie = session_of(&app, username, password).await;
        let until = suspend_keeping_sessions(&db, who.id, Utc::now() + Duration::days(days)).await;
        members.push(Member {
            role,
            username,
            password,
            cookie,
            own_post: if role == Role::Moderator {
                morgan_post.id
            } else {
                own_post(who.id).await
            },
            until,
        });
    }
    let category = app::server::entity::category::Entity::find()
        .filter(app::server::entity::category::Column::Slug.eq("questions"))
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .id;
    Site {
        db,
        app,
        members,
        target: tess.id,
        suspended_target: sue.id,
        topic,
        target_post: target_post.id,
        review_item,
        watched_word,
        category,
    }
}

const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// The fields of each server function that writes, as a member of `m`'s role allowed to do it
/// would send them. None: the path is not a known write (the table test then fails).
fn write_fields(path: &str, s: &Site, m: &Member) -> Option<Vec<(&'static str, String)>> {
    let topic = s.topic.id.to_string();
    let target = s.target.to_string();
    let f = |pairs: &[(&'static str, &str)]| {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (*k, v.to_string()))
                .collect::<Vec<_>>(),
        )
    };
    match path {
        // Forum and blog
        "/api/reply" => f(&[
            ("topic_id", &topic),
            ("body", "Still here."),
            ("form_token", TOKEN),
        ]),
        "/api/start_topic" => f(&[
            ("category", "questions"),
            ("title", "A new question"),
            ("body", "What now?"),
            ("form_token", TOKEN),
        ]),
        "/api/set_topic_level" => f(&[("topic_id", &topic), ("level", "muted")]),
        "/api/vote" => f(&[("topic_id", &topic), ("vote", "up")]),
        "/api/merge_idea" => f(&[("topic_id", &topic), ("original", "1"), ("note", "")]),
        "/api/watch_category" => f(&[("category_id", &s.category.to_string()), ("watch", "true")]),
        "/api/edit_post" => f(&[
            ("post_id", &m.own_post.to_string()),
            ("body", "Rewritten while suspended."),
        ]),
        "/api/save_article" => f(&[
            ("article_id", "0"),
            ("title", "Suspended news"),
            ("slug", ""),
            ("summary", "Short."),
            ("body", "Long."),
            ("cover_image_url", ""),
            ("tags", ""),
            ("comments_open", "on"),
            ("publish", "now"),
            ("publish_at", ""),
            ("form_token", TOKEN),
        ]),
        // Accounts
        "/api/change_password" => f(&[
            ("current_password", m.password),
            ("new_password", "a different long password"),
        ]),
        "/api/sign_up" => f(&[
            ("username", "second_account"),
            ("email", "second@example.com"),
            ("password", "a long enough password"),
            ("form_token", TOKEN),
        ]),
        "/api/request_reset" => f(&[("login", m.username)]),
        "/api/save_mail_settings" => f(&[
            ("modes[answers]", "never"),
            ("modes[replies]", "never"),
            ("modes[new_topics]", "never"),
            ("modes[mentions]", "never"),
            ("time_zone", "Europe/Paris"),
        ]),
        "/api/change_email" => f(&[("email", "elsewhere@example.com")]),
        "/api/resend_confirmation" => f(&[]),
        "/api/remove_avatar" => f(&[]),
        "/api/confirm_email" => f(&[("token", TOKEN)]),
        "/api/reset_password" => f(&[("token", TOKEN), ("new_password", "a new long password")]),
        // Moderation
        "/api/flag_post" => f(&[
            ("post_id", &s.target_post.to_string()),
            ("reason", "spam"),
            ("note", ""),
        ]),
        "/api/moderate_post" => f(&[
            ("post_id", &s.target_post.to_string()),
            ("action", "hide"),
            ("reason", "Off topic"),
        ]),
        "/api/moderate_bulk" => f(&[
            ("action", "hide"),
            ("reason", "Off topic"),
            ("items[]", &s.review_item.to_string()),
        ]),
        "/api/moderate_topic" => f(&[("topic_id", &topic), ("action", "lock"), ("reason", "")]),
        "/api/move_topic" => f(&[
            ("topic_id", &topic),
            ("category", "product-feedback"),
            ("reason", ""),
        ]),
        "/api/suspend_member" => f(&[("user_id", &target), ("days", "7"), ("reason", "Rude")]),
        "/api/unsuspend_member" => f(&[("user_id", &s.suspended_target.to_string())]),
        "/api/remove_spammer" => f(&[("user_id", &target), ("reason", "")]),
        "/api/mark_notifications_read" => f(&[]),
        "/api/save_moderation_settings" => f(&[
            ("flag_threshold", "5"),
            ("new_member_hold", "0"),
            ("posts_per_10_min", "20"),
            ("topics_per_hour", "9"),
            ("flags_per_hour", "9"),
            ("log_public", "on"),
        ]),
        "/api/add_watched_word" => f(&[("word", "lottery"), ("action", "block")]),
        "/api/remove_watched_word" => f(&[("id", &s.watched_word.to_string())]),
        "/api/accept_vote_burst" => f(&[("item_id", &s.review_item.to_string())]),
        "/api/reject_vote_burst" => f(&[("item_id", &s.review_item.to_string())]),
        // Staff
        "/api/set_topic_status" => f(&[
            ("topic_id", &topic),
            ("status", "planned"),
            ("note", "Soon."),
        ]),
        "/api/mark_answer" => f(&[
            ("topic_id", &topic),
            ("post_id", &s.target_post.to_string()),
        ]),
        "/api/unmark_answer" => f(&[("topic_id", &topic)]),
        "/api/no_reply_needed" => f(&[("topic_id", &topic), ("reason", "Answered")]),
        "/api/confirm_resolution" => f(&[("topic_id", &topic), ("solved", "yes")]),
        "/api/set_response_target" => f(&[("category", "questions"), ("hours", "2")]),
        "/api/set_accountability" => f(&[("public", "on")]),
        // Admin
        "/api/save_category" => f(&[
            ("category_id", "0"),
            ("name", "Ideas"),
            ("slug", "ideas"),
            ("description", "Yours."),
            ("colour", "#3b6ea5"),
            ("target_hours", "24"),
        ]),
        "/api/move_category" => f(&[
            ("category_id", &s.category.to_string()),
            ("direction", "up"),
        ]),
        "/api/archive_category" => f(&[
            ("category_id", &s.category.to_string()),
            ("archived", "yes"),
        ]),
        "/api/set_role" => f(&[("user_id", &target), ("role", "staff"), ("title", "Helper")]),
        "/api/log_out_everywhere" => f(&[("user_id", &target)]),
        "/api/delete_account" => f(&[("user_id", &target), ("posts", "keep")]),
        "/api/save_site_settings" => f(&[
            ("site_name", "Taken over"),
            ("tagline", "x"),
            ("welcome_message", "x"),
            ("signup_mode", "open"),
        ]),
        "/api/save_upload_settings" => f(&[
            ("upload_max_file_mb", "1000"),
            ("upload_daily_mb", "0"),
            ("upload_file_types", "pdf txt log zip"),
            ("upload_image_max_px", "2000"),
            ("upload_animated_gifs", "keep"),
            ("upload_new_members", "allow"),
            ("external_images", "link"),
        ]),
        "/api/save_home_intro" => f(&[("home_intro", "Taken over")]),
        "/api/save_brand_settings" => f(&[
            ("accent_colour", "#ff0000"),
            ("logo_light", "https://evil.example/logo.png"),
            ("logo_dark", ""),
            ("favicon", ""),
        ]),
        "/api/save_profile" => f(&[
            ("display_name", "Totally Legit Support"),
            ("bio", "Send me your password"),
        ]),
        "/api/mark_all_read" => f(&[]),
        "/api/decide_signup" => f(&[("user_id", &target), ("decision", "reject")]),
        "/api/retry_mail" => f(&[("id", "1")]),
        "/api/save_member_draft" => f(&[("key", "topic"), ("body", "Kept for later")]),
        "/api/discard_member_draft" => f(&[("key", "topic")]),
        _ => None,
    }
}

/// Plausible fields for the reads: they must write nothing whatever they are given.
fn read_fields(s: &Site, m: &Member) -> Vec<(&'static str, String)> {
    vec![
        ("id", s.topic.id.to_string()),
        ("topic_id", s.topic.id.to_string()),
        ("post_id", m.own_post.to_string()),
        ("user_id", s.target.to_string()),
        ("page", "1".into()),
        ("slug", "questions".into()),
        ("username", "tess".into()),
        ("body", "Hello".into()),
        ("q", "t".into()),
        ("request[q]", "hello".into()),
        ("request[page]", "1".into()),
        ("request[staff]", "false".into()),
        ("title", "Hello there".into()),
        ("public", "true".into()),
        ("token", TOKEN.into()),
        ("kind[Reply]", s.topic.id.to_string()),
        ("key", "topic".into()),
    ]
}

fn refusal(m: &Member) -> String {
    if m.until - Utc::now() > Duration::days(365 * 50) {
        format!(
            "Your account is suspended: you can read, but not post or change anything. Reason: {REASON}"
        )
    } else {
        format!(
            "Your account is suspended until {}: you can read, but not post or change anything. Reason: {REASON}",
            exact_utc(m.until)
        )
    }
}

#[tokio::test]
async fn every_server_function_is_in_the_table() {
    let s = site().await;
    let m = &s.members[0];
    let missing: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p)
        .filter(|p| !READS.contains(p) && !SESSION.contains(p) && write_fields(p, &s, m).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "server functions in neither the writes nor the reads of this table: {missing:?}"
    );
}

#[tokio::test]
async fn every_write_of_every_role_is_refused_while_suspended() {
    let s = site().await;
    let before = dump(&s.db).await;
    let mut checked = 0;
    for m in &s.members {
        let expected = refusal(m);
        for (path, _) in leptos::server_fn::axum::server_fn_paths() {
            let Some(fields) = write_fields(path, &s, m) else {
                continue;
            };
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let who = format!("a suspended {}", m.role.label().to_lowercase());
            let res = post_fetch(&s.app, path, &fields, Some(&m.cookie)).await;
            assert_eq!(
                res.status,
                StatusCode::FORBIDDEN,
                "{path} as {who}: {}",
                res.body
            );
            assert!(
                res.body.contains(&expected),
                "{path} as {who}: {}\nexpected: {expected}",
                res.body
            );
            // And the same post from a browser without JavaScript.
            post_form(&s.app, path, &fields, Some(&m.cookie), "/").await;
            assert_eq!(dump(&s.db).await, before, "{path} as {who} wrote something");
            checked += 1;
        }
        // Still signed in, and the pages still read.
        assert_eq!(
            signed_in_as(&s.app, &m.cookie).await.as_deref(),
            Some(m.username)
        );
        let topic = format!("/t/{}/{}", s.topic.id, s.topic.slug);
        assert_eq!(
            get(&s.app, &topic, Some(&m.cookie)).await.status,
            StatusCode::OK
        );
    }
    assert!(checked >= 4 * 30, "{checked} writes checked");
    assert_eq!(dump(&s.db).await, before);
}

#[tokio::test]
async fn reads_stay_open_to_a_suspended_member_and_write_nothing() {
    let s = site().await;
    let before = dump(&s.db).await;
    for m in &s.members {
        for path in READS {
            let fields = read_fields(&s, m);
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let res = post_fetch(&s.app, path, &fields, Some(&m.cookie)).await;
            assert!(
                !res.body.contains("Your account is suspended"),
                "{path} as {}: {}",
                m.username,
                res.body
            );
            assert_eq!(dump(&s.db).await, before, "{path} as {} wrote", m.username);
        }
    }
}

#[tokio::test]
async fn a_suspended_member_can_log_out() {
    let s = site().await;
    for m in &s.members {
        let res = post_form(&s.app, "/api/log_out", &[], Some(&m.cookie), "/").await;
        assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
        assert_eq!(signed_in_as(&s.app, &m.cookie).await, None);
    }
}

#[tokio::test]
async fn logging_in_is_refused_with_the_reason_and_the_end_date() {
    let s = site().await;
    for m in &s.members {
        let expected = if m.until - Utc::now() > Duration::days(365 * 50) {
            format!("Your account is suspended, so you can't log in. Reason: {REASON}")
        } else {
            format!(
                "Your account is suspended until {}, so you can't log in. Reason: {REASON}",
                exact_utc(m.until)
            )
        };
        let before = dump(&s.db).await;
        let failed_before = failures(&s.db).await;
        let res = post_fetch(
            &s.app,
            "/api/log_in",
            &[("login", m.username), ("password", m.password)],
            None,
        )
        .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
        assert!(res.body.contains(&expected), "{}\n{expected}", res.body);
        // Without JavaScript: the log-in form again, with the message, and no session.
        let res = log_in(&s.app, m.username, m.password, None).await;
        let back = res.location.clone().unwrap_or_default();
        assert!(back.contains("/login?"), "{back}");
        let page = follow(&s.app, &res, res.session_cookie().as_deref()).await;
        assert!(
            page.body.contains(&expected.replace('\'', "&#x27;")) || page.body.contains(&expected),
            "{}",
            page.body
        );
        if let Some(cookie) = res.session_cookie() {
            assert_eq!(signed_in_as(&s.app, &cookie).await, None);
        }
        // Nothing written but what any failed log-in records.
        assert_eq!(dump(&s.db).await, before, "{}", m.username);
        assert_eq!(failures(&s.db).await, failed_before + 2, "{}", m.username);
        // A wrong password says nothing about the suspension.
        let res = post_fetch(
            &s.app,
            "/api/log_in",
            &[("login", m.username), ("password", "not the password")],
            None,
        )
        .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        assert!(!res.body.contains("suspended"), "{}", res.body);
    }
}

#[tokio::test]
async fn an_ended_suspension_lets_the_member_back_in() {
    let s = site().await;
    let m = &s.members[0];
    let casey = user_named(&s.db, "casey").await;
    suspend_keeping_sessions(&s.db, casey.id, Utc::now() - Duration::minutes(1)).await;
    let res = log_in(&s.app, m.username, m.password, None).await;
    assert_eq!(res.location.as_deref(), Some("/"));
    let res = post_fetch(
        &s.app,
        "/api/edit_post",
        &[
            ("post_id", &m.own_post.to_string()),
            ("body", "Back again."),
        ],
        Some(&m.cookie),
    )
    .await;
    assert!(
        res.status.is_success() || res.status.is_redirection(),
        "{}",
        res.body
    );
}
