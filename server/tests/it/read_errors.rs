//! Refusals from the server functions that read: each answers with its own status (401, 403,
//! 404, 400), never the 500 that says the server broke.
use axum::http::StatusCode;

use crate::common::*;

#[tokio::test]
async fn every_read_refusal_has_its_status() {
    let d = demo_members().await;
    let casey = Some(d.casey.as_str());
    let sam = Some(d.sam.as_str());
    let admin = Some(d.admin.as_str());
    let missing = "987654";
    let (not_found, forbidden, sign_in, bad) = (
        StatusCode::NOT_FOUND,
        StatusCode::FORBIDDEN,
        StatusCode::UNAUTHORIZED,
        StatusCode::BAD_REQUEST,
    );
    // (path, form fields, cookie, status expected)
    type Case<'a> = (
        &'a str,
        Vec<(&'a str, &'a str)>,
        Option<&'a str>,
        StatusCode,
    );
    let cases: Vec<Case> = vec![
        (
            "/api/category_page",
            vec![("slug", "no-such"), ("page", "1")],
            None,
            not_found,
        ),
        (
            "/api/category_page",
            vec![("slug", "questions"), ("page", "99")],
            None,
            not_found,
        ),
        (
            "/api/topic_page",
            vec![("id", missing), ("page", "1")],
            None,
            not_found,
        ),
        (
            "/api/topic_page",
            vec![("id", missing), ("page", "1")],
            casey,
            not_found,
        ),
        (
            "/api/user_profile",
            vec![("username", "nobody-here")],
            None,
            not_found,
        ),
        (
            "/api/editable_post",
            vec![("post_id", missing)],
            None,
            sign_in,
        ),
        (
            "/api/editable_post",
            vec![("post_id", missing)],
            casey,
            not_found,
        ),
        ("/api/quote", vec![("post_id", missing)], None, not_found),
        ("/api/preview", vec![("body", " ")], casey, bad),
        ("/api/blog_index", vec![("page", "99")], None, not_found),
        (
            "/api/article_page",
            vec![("slug", "no-such"), ("page", "1")],
            None,
            not_found,
        ),
        ("/api/article_editor", vec![], None, sign_in),
        ("/api/article_editor", vec![], casey, forbidden),
        (
            "/api/article_editor",
            vec![("slug", "no-such")],
            sam,
            not_found,
        ),
        ("/api/review_queue", vec![("page", "1")], None, forbidden),
        ("/api/review_queue", vec![("page", "1")], casey, forbidden),
        (
            "/api/moderation_log",
            vec![("public", "false"), ("page", "1")],
            None,
            forbidden,
        ),
        (
            "/api/moderation_log",
            vec![("public", "false"), ("page", "1")],
            casey,
            forbidden,
        ),
        ("/api/notifications", vec![], None, sign_in),
        ("/api/moderation_settings", vec![], casey, forbidden),
        ("/api/staff_queue", vec![("page", "1")], casey, forbidden),
        (
            "/api/staff_queue",
            vec![("category", "no-such"), ("page", "1")],
            sam,
            not_found,
        ),
        ("/api/staff_queue", vec![("page", "99")], sam, not_found),
        ("/api/staff_metrics", vec![], None, forbidden),
        ("/api/staff_metrics", vec![], casey, forbidden),
        ("/api/admin_categories", vec![], casey, forbidden),
        ("/api/admin_users", vec![("q", "")], sam, forbidden),
        ("/api/admin_user", vec![("user_id", "1")], casey, forbidden),
        (
            "/api/admin_user",
            vec![("user_id", missing)],
            admin,
            not_found,
        ),
        ("/api/dashboard", vec![], sam, forbidden),
        ("/api/site_settings", vec![], casey, forbidden),
    ];
    for (path, fields, cookie, expected) in cases {
        let res = post_fetch(&d.app, path, &fields, cookie).await;
        assert_eq!(res.status, expected, "{path} {fields:?}: {}", res.body);
        // Still the error as the client decodes it, with its message.
        let decoded: app::error::AppError =
            serde_json::from_str(&res.body).unwrap_or_else(|e| panic!("{path}: {e}: {}", res.body));
        assert_eq!(decoded.status(), expected.as_u16(), "{path}");
    }
    // The public accountability page, switched off.
    app::server::settings::put(&d.db, app::server::settings::ACCOUNTABILITY_PUBLIC, "false")
        .await
        .unwrap();
    let res = post_fetch(&d.app, "/api/accountability", &[], None).await;
    assert_eq!(res.status, not_found, "{}", res.body);
}
