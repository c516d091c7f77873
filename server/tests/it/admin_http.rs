//! The admin panel through the real router: categories, for admins only.

use crate::common::*;
use app::{
    api::SIGNED_OUT,
    server::{admin::COLOUR_INVALID, entity::category, posting::CATEGORY_ARCHIVED},
};
use axum::http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// The admin panel's form for a new staff-only category.
const ANNOUNCEMENTS: [(&str, &str); 6] = [
    ("category_id", "0"),
    ("name", "Announcements"),
    ("slug", ""),
    ("description", "News from the team."),
    ("colour", "#805ad5"),
    ("target_hours", "4"),
];

#[tokio::test]
async fn only_admins_manage_categories_and_renamed_ones_redirect() {
    let (db, app) = demo_site().await;
    let (admin, sam, casey) = (
        session_of(&app, "admin", "demo-admin-pass").await,
        session_of(&app, "sam", "demo-staff-pass").await,
        session_of(&app, "casey", "demo-customer-pass").await,
    );
    let fields = ANNOUNCEMENTS;
    let before = category::Entity::find().all(&db).await.unwrap();
    for (cookie, message) in [
        (Some(sam.as_str()), "Only admin and above can do that."),
        (Some(casey.as_str()), "Only admin and above can do that."),
        (None, SIGNED_OUT),
    ] {
        let res = post_fetch(&app, "/api/save_category", &fields, cookie).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert!(res.body.contains(message), "{}", res.body);
        assert_eq!(
            get(&app, "/admin/categories", cookie).await.status,
            StatusCode::FORBIDDEN
        );
    }
    let mut bad = fields.to_vec();
    bad[4] = ("colour", "purple");
    let res = post_form(
        &app,
        "/api/save_category",
        &bad,
        Some(&admin),
        "/admin/categories",
    )
    .await;
    assert!(
        follow(&app, &res, Some(&admin))
            .await
            .body
            .contains(COLOUR_INVALID)
    );
    assert_eq!(
        category::Entity::find().all(&db).await.unwrap(),
        before,
        "nothing written"
    );

    // Staff-only categories: customers may not start topics there (and are not offered it).
    let res = post_form(
        &app,
        "/api/save_category",
        &fields,
        Some(&admin),
        "/admin/categories",
    )
    .await;
    assert!(!res.location.unwrap().contains("__err"));
    let news = category::Entity::find()
        .filter(category::Column::Slug.eq("announcements"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(news.response_target_minutes, 240);
    assert!(!news.customers_may_start, "the checkbox was not sent");
    assert!(
        !get(&app, "/new-topic", Some(&casey))
            .await
            .body
            .contains(r#"value="announcements""#)
    );
    assert!(
        get(&app, "/new-topic", Some(&sam))
            .await
            .body
            .contains(r#"value="announcements""#)
    );

    // Renaming keeps the old address as a permanent redirect.
    let id = news.id.to_string();
    let mut rename = fields.to_vec();
    rename[0] = ("category_id", &id);
    rename[2] = ("slug", "news");
    post_form(
        &app,
        "/api/save_category",
        &rename,
        Some(&admin),
        "/admin/categories",
    )
    .await;
    let old = get(&app, "/c/announcements", None).await;
    assert_eq!(old.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(old.location.as_deref(), Some("/c/news"));
    assert_eq!(get(&app, "/c/news", None).await.status, StatusCode::OK);

    // Archived: read-only, for replies too.
    let questions = category::Entity::find()
        .filter(category::Column::Slug.eq("questions"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    post_form(
        &app,
        "/api/archive_category",
        &[
            ("category_id", &questions.id.to_string()),
            ("archived", "yes"),
        ],
        Some(&admin),
        "/admin/categories",
    )
    .await;
    let topic = app::server::entity::topic::Entity::find()
        .filter(app::server::entity::topic::Column::CategoryId.eq(questions.id))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let path = format!("/t/{}/{}", topic.id, topic.slug);
    let token = form_token_on(&app, "/new-topic", Some(&casey)).await;
    let res = post_fetch(
        &app,
        "/api/reply",
        &[
            ("topic_id", &topic.id.to_string()),
            ("body", "still here?"),
            ("form_token", &token),
        ],
        Some(&casey),
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains(CATEGORY_ARCHIVED));
    assert_eq!(
        get(&app, &path, None).await.status,
        StatusCode::OK,
        "still readable"
    );
}

#[tokio::test]
async fn member_administration_permissions_and_the_last_admin() {
    use app::server::{admin::LAST_ADMIN, entity::user};
    let (db, app) = demo_site().await;
    let (admin, sam, casey) = (
        session_of(&app, "admin", "demo-admin-pass").await,
        session_of(&app, "sam", "demo-staff-pass").await,
        session_of(&app, "casey", "demo-customer-pass").await,
    );
    let find = |name: &'static str| {
        let db = db.clone();
        async move {
            user::Entity::find()
                .filter(user::Column::Username.eq(name))
                .one(&db)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let (casey_row, admin_row) = (find("casey").await, find("admin").await);
    let c = casey_row.id.to_string();
    let before = user::Entity::find().all(&db).await.unwrap();
    for (path, fields) in [
        (
            "/api/set_role",
            vec![("user_id", c.as_str()), ("role", "staff"), ("title", "x")],
        ),
        (
            "/api/delete_account",
            vec![("user_id", c.as_str()), ("posts", "keep")],
        ),
        ("/api/log_out_everywhere", vec![("user_id", c.as_str())]),
    ] {
        for cookie in [Some(sam.as_str()), Some(casey.as_str()), None] {
            assert_eq!(
                post_fetch(&app, path, &fields, cookie).await.status,
                StatusCode::FORBIDDEN,
                "{path}"
            );
        }
    }
    for page in ["/admin/users", &format!("/admin/users/{c}")] {
        for cookie in [Some(sam.as_str()), Some(casey.as_str()), None] {
            assert_eq!(
                get(&app, page, cookie).await.status,
                StatusCode::FORBIDDEN,
                "{page}"
            );
        }
    }
    assert_eq!(
        user::Entity::find().all(&db).await.unwrap(),
        before,
        "nothing written"
    );

    // The only admin can't demote themselves.
    let res = post_fetch(
        &app,
        "/api/set_role",
        &[
            ("user_id", &admin_row.id.to_string()),
            ("role", "moderator"),
            ("title", ""),
        ],
        Some(&admin),
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains(LAST_ADMIN));
    // Promote casey to staff with a title: her next reply carries the badge with it.
    let res = post_form(
        &app,
        "/api/set_role",
        &[
            ("user_id", &c),
            ("role", "staff"),
            ("title", "Community Helper"),
        ],
        Some(&admin),
        &format!("/admin/users/{c}"),
    )
    .await;
    assert!(!res.location.unwrap().contains("__err"));
    let page = get(&app, &format!("/admin/users/{c}"), Some(&admin)).await;
    assert!(
        page.body.contains("casey@demo.backyard.invalid"),
        "admins see the e-mail"
    );
    assert!(page.body.contains("changed a member"));
    let topic = app::server::entity::topic::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let path = format!("/t/{}/{}", topic.id, topic.slug);
    let token = form_token_on(&app, &path, Some(&casey)).await;
    post_form(
        &app,
        "/api/reply",
        &[
            ("topic_id", &topic.id.to_string()),
            ("body", "Happy to help!"),
            ("form_token", &token),
        ],
        Some(&casey),
        &path,
    )
    .await;
    let page = get(&app, &path, None).await;
    let reply = &page.body[page.body.rfind("Happy to help!").unwrap() - 900..];
    assert!(
        reply.contains(r#"<span class="visually-hidden">Reply from </span>Staff"#)
            && reply.contains("Community Helper</span>")
    );
}

#[tokio::test]
async fn the_dashboard_is_for_moderators_and_admins_and_draws_its_chart_on_the_server() {
    let (_, app) = demo_site().await;
    for cookie in [
        Some(session_of(&app, "sam", "demo-staff-pass").await),
        Some(session_of(&app, "casey", "demo-customer-pass").await),
        None,
    ] {
        assert_eq!(
            get(&app, "/admin", cookie.as_deref()).await.status,
            StatusCode::FORBIDDEN
        );
    }
    let page = get(
        &app,
        "/admin",
        Some(&session_of(&app, "admin", "demo-admin-pass").await),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg") && page.body.contains("Posts per day"));
    assert!(
        page.body.contains(r#"id="stat-awaiting">1<"#)
            || page.body.contains(r#"id="stat-awaiting" class="stat">1<"#),
        "the demo's unanswered bug report"
    );
}

#[tokio::test]
async fn site_settings_apply_at_once_and_sign_ups_follow_the_mode() {
    use app::server::accounts::{AWAITING_APPROVAL, SIGNUPS_CLOSED};
    let (db, app) = demo_site().await;
    let admin = session_of(&app, "admin", "demo-admin-pass").await;
    let settings = |mode: &'static str| {
        vec![
            ("site_name", "Acme Community"),
            ("tagline", "Talk to the Acme team."),
            ("welcome_message", "Welcome to Acme!"),
            ("signup_mode", mode),
            ("accountability_public", "on"),
            ("moderation_log_public", "on"),
            ("search_engines_index", "on"),
        ]
    };
    let sam = session_of(&app, "sam", "demo-staff-pass").await;
    assert_eq!(
        post_fetch(
            &app,
            "/api/save_site_settings",
            &settings("open"),
            Some(&sam)
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&app, "/admin/settings", Some(&sam)).await.status,
        StatusCode::FORBIDDEN
    );
    let mut bad = settings("sometimes");
    bad[0] = ("site_name", " ");
    assert_eq!(
        post_fetch(&app, "/api/save_site_settings", &bad, Some(&admin))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert!(
        !get(&app, "/", None).await.body.contains("Acme"),
        "nothing saved"
    );

    // A form opened while sign-ups were open (the page shows none once they are closed).
    let open_form_token = signup_token(&app).await;
    // Applied without a restart.
    assert_eq!(
        post_fetch(
            &app,
            "/api/save_site_settings",
            &settings("closed"),
            Some(&admin)
        )
        .await
        .status,
        StatusCode::OK
    );
    let home = get(&app, "/", Some(&admin)).await;
    assert!(home.body.contains("Acme Community") && home.body.contains("Talk to the Acme team."));

    // Closed: no form, and a form sent anyway is refused, nothing written.
    assert!(
        !get(&app, "/signup", None)
            .await
            .body
            .contains("name=\"form_token\"")
    );
    let users = user_count(&db).await;
    let token = open_form_token;
    let res = post_fetch(
        &app,
        "/api/sign_up",
        &[
            ("username", "newbie"),
            ("email", "n@example.com"),
            ("password", "a long enough password"),
            ("form_token", &token),
        ],
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains(SIGNUPS_CLOSED));
    assert_eq!(user_count(&db).await, users);

    // By approval: the account waits; logging in says so; an admin approves; welcomed.
    post_fetch(
        &app,
        "/api/save_site_settings",
        &settings("approval"),
        Some(&admin),
    )
    .await;
    let token = signup_token(&app).await;
    let res = post_form(
        &app,
        "/api/sign_up",
        &[
            ("username", "newbie"),
            ("email", "n@example.com"),
            ("password", "a long enough password"),
            ("form_token", &token),
            ("next", "/"),
        ],
        None,
        "/signup",
    )
    .await;
    assert_eq!(res.location.as_deref(), Some("/signup?pending=1"));
    assert!(
        get(&app, "/signup?pending=1", None)
            .await
            .body
            .contains("An admin approves new accounts here")
    );
    let res = log_in(&app, "newbie", "a long enough password", None).await;
    assert!(
        follow(&app, &res, None)
            .await
            .body
            .contains(AWAITING_APPROVAL)
    );
    let page = get(&app, "/admin/settings", Some(&admin)).await;
    assert!(page.body.contains("Approve newbie"));
    let id = app::server::entity::user::Entity::find()
        .filter(app::server::entity::user::Column::Username.eq("newbie"))
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .id;
    post_form(
        &app,
        "/api/decide_signup",
        &[("user_id", &id.to_string()), ("decision", "approve")],
        Some(&admin),
        "/admin/settings",
    )
    .await;
    let cookie = session_of(&app, "newbie", "a long enough password").await;
    assert!(
        get(&app, "/notifications", Some(&cookie))
            .await
            .body
            .contains("Welcome to Acme!")
    );
}

/// The category colours' stylesheet is linked by version: browsers may keep that version for a
/// year, and a colour change makes every page (cached ones included) link a new one.
#[tokio::test]
async fn category_colours_are_linked_by_version() {
    let (_db, app) = demo_site().await;
    let admin = session_of(&app, "admin", "demo-admin-pass").await;
    let linked = |body: &str| {
        let start = body
            .find("/theme.css?v=")
            .expect("the page links the colours");
        let end = start + body[start..].find('"').unwrap();
        body[start..end].to_string()
    };
    let first = linked(&get(&app, "/", None).await.body);
    let css = get(&app, &first, None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(
        css.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert!(css.body.contains("--category-colour: #"), "{}", css.body);
    assert_eq!(
        get(&app, "/theme.css", None).await.header("cache-control"),
        Some("no-cache"),
        "asked for without the version: revalidate"
    );

    let res = post_form(
        &app,
        "/api/save_category",
        &ANNOUNCEMENTS,
        Some(&admin),
        "/admin/categories",
    )
    .await;
    assert!(!res.location.unwrap().contains("__err"));
    let second = linked(&get(&app, "/", None).await.body);
    assert_ne!(
        first, second,
        "the home page (cached for visitors) links the new version"
    );
    let css = get(&app, &second, None).await;
    assert!(
        css.body
            .contains(".category-colour-announcements { --category-colour: #805ad5; }")
    );
    assert_eq!(
        get(&app, &first, None).await.header("cache-control"),
        Some("no-cache"),
        "an old version is no longer kept"
    );
}

/// /admin/mail without a mail server: admins only, the text of what would go out (inert), a
/// plain form that sends a failed message again, logged; refused for everyone else.
#[tokio::test]
async fn the_outbox_page_shows_admins_what_would_go_out_and_retries_failed_mail() {
    use app::server::{
        entity::{email, moderation_log},
        mail,
    };
    use sea_orm::{ActiveModelTrait, PaginatorTrait, Set};
    let (db, app) = demo_site().await;
    let (admin, sam) = (
        session_of(&app, "admin", "demo-admin-pass").await,
        session_of(&app, "sam", "demo-staff-pass").await,
    );
    mail::enqueue(
        &db,
        "ada@example.com",
        "<script>alert(1)</script> hello",
        "Your link: <img src=x onerror=alert(2)>",
    )
    .await
    .unwrap();
    mail::enqueue(&db, "bob@example.com", "Refused one", "Body")
        .await
        .unwrap();
    let failed = email::Entity::find()
        .filter(email::Column::Subject.eq("Refused one"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let mut row: email::ActiveModel = failed.clone().into();
    row.status = Set("failed".into());
    row.attempts = Set(1);
    row.last_error = Set(Some("permanent error (550): 5.7.1 <b>no</b>".into()));
    let failed = row.update(&db).await.unwrap();

    let page = get(&app, "/admin/mail", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No mail server is configured"));
    assert!(
        page.body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; hello")
    );
    assert!(
        page.body
            .contains("Your link: &lt;img src=x onerror=alert(2)&gt;")
    );
    assert!(!page.body.contains("<script>alert(1)") && !page.body.contains("<img src=x"));
    assert!(
        page.body.contains("&lt;b&gt;no&lt;/b&gt;"),
        "the last error, inert"
    );
    let only_failed = get(&app, "/admin/mail?status=failed", Some(&admin)).await;
    assert!(only_failed.body.contains("Refused one"));
    assert!(!only_failed.body.contains("alert(1)"));
    assert_eq!(
        get(&app, "/admin/mail?status=lost", Some(&admin))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    let fields = [("id", failed.id.to_string())];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for (cookie, message) in [
        (Some(sam.as_str()), "Only admin and above can do that."),
        (None, SIGNED_OUT),
    ] {
        assert_eq!(
            get(&app, "/admin/mail", cookie).await.status,
            StatusCode::FORBIDDEN
        );
        let res = post_fetch(&app, "/api/retry_mail", &fields, cookie).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert!(res.body.contains(message), "{}", res.body);
    }
    assert_eq!(
        email::Entity::find_by_id(failed.id).one(&db).await.unwrap(),
        Some(failed.clone()),
        "nothing written"
    );
    let res = post_form(
        &app,
        "/api/retry_mail",
        &fields,
        Some(&admin),
        "/admin/mail?status=failed",
    )
    .await;
    assert_eq!(res.status, StatusCode::FOUND);
    assert_eq!(res.location.as_deref(), Some("/admin/mail?status=failed"));
    let retried = email::Entity::find_by_id(failed.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((retried.status.as_str(), retried.attempts), ("queued", 0));
    assert_eq!(
        moderation_log::Entity::find()
            .filter(moderation_log::Column::Action.eq("mail_retry"))
            .count(&db)
            .await
            .unwrap(),
        1
    );
    // Again: it is not failed any more; the message comes back on the page.
    let res = post_form(
        &app,
        "/api/retry_mail",
        &fields,
        Some(&admin),
        "/admin/mail",
    )
    .await;
    assert!(
        follow(&app, &res, Some(&admin))
            .await
            .body
            .contains("Only a failed e-mail can be sent again")
    );
}
