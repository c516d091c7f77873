//! Drafts kept on the server for signed-in members (issue 19, drafts): saved by the script
//! (`/api/save_member_draft`) and by the no-JavaScript preview, bounded like session drafts,
//! given back only to their owner, refused for visitors and suspended members, and forgotten
//! when the post lands. Every refusal writes nothing.
use crate::common::*;
use app::server::{
    content::MAX_BODY_CHARS,
    drafts::{MAX_DRAFT_BYTES, MAX_DRAFTS, MEMBER_DRAFTS_FULL, MEMBER_KEY_UNKNOWN},
    entity::{member_draft, topic, user},
};
use axum::http::StatusCode;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};
use serde_json::Value;

async fn rows(db: &DatabaseConnection) -> Vec<member_draft::Model> {
    member_draft::Entity::find().all(db).await.unwrap()
}

async fn user_id(db: &DatabaseConnection, name: &str) -> i64 {
    user::Entity::find()
        .filter(user::Column::Username.eq(name))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn save(d: &DemoMembers, cookie: Option<&str>, fields: &[(&str, &str)]) -> Reply {
    post_fetch(&d.app, "/api/save_member_draft", fields, cookie).await
}

/// The member's kept draft for `key`, as the script gets it (JSON `null` when none).
async fn load(d: &DemoMembers, cookie: Option<&str>, key: &str) -> Reply {
    post_fetch(&d.app, "/api/member_draft", &[("key", key)], cookie).await
}

fn json(res: &Reply) -> Value {
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    serde_json::from_str(&res.body).unwrap()
}

#[tokio::test]
async fn a_members_draft_is_kept_and_given_back_to_them_only() {
    let d = demo_members().await;
    let res = save(
        &d,
        Some(&d.casey),
        &[
            ("key", "topic"),
            ("title", "Invoices <b>missing</b>"),
            ("body", "Half a question & more"),
        ],
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let kept = json(&load(&d, Some(&d.casey), "topic").await);
    assert_eq!(kept["title"], "Invoices <b>missing</b>");
    assert_eq!(kept["body"], "Half a question & more");
    assert_eq!(kept["summary"], "");
    let at = kept["saved_at"].as_i64().unwrap();
    assert!((chrono::Utc::now().timestamp_millis() - at).abs() < 60_000);

    // Another member has their own (none); a visitor is refused and gets nothing.
    assert_eq!(json(&load(&d, Some(&d.sam), "topic").await), Value::Null);
    let visitor = load(&d, None, "topic").await;
    assert_eq!(visitor.status, StatusCode::FORBIDDEN);
    assert!(!visitor.body.contains("Half a question"));

    // Saving again replaces it; a blank draft forgets it; so does discarding.
    save(
        &d,
        Some(&d.casey),
        &[("key", "topic"), ("body", "Second go")],
    )
    .await;
    assert_eq!(
        json(&load(&d, Some(&d.casey), "topic").await)["body"],
        "Second go"
    );
    assert_eq!(rows(&d.db).await.len(), 1);
    save(
        &d,
        Some(&d.casey),
        &[("key", "topic"), ("title", " "), ("body", "\n")],
    )
    .await;
    assert_eq!(json(&load(&d, Some(&d.casey), "topic").await), Value::Null);
    save(&d, Some(&d.casey), &[("key", "reply:1"), ("body", "Kept")]).await;
    let res = post_fetch(
        &d.app,
        "/api/discard_member_draft",
        &[("key", "reply:1")],
        Some(&d.casey),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(rows(&d.db).await.is_empty());
}

#[tokio::test]
async fn refused_drafts_say_why_and_write_nothing() {
    let d = demo_members().await;
    save(
        &d,
        Some(&d.casey),
        &[("key", "reply:1"), ("body", "Already kept")],
    )
    .await;
    let before = rows(&d.db).await;
    let long_body = "x".repeat(MAX_BODY_CHARS + 1);
    let long_title = "t".repeat(301);
    let long_summary = "s".repeat(301);
    let cases: Vec<(Vec<(&str, &str)>, String)> = vec![
        (
            vec![("key", "reply:1"), ("body", &long_body)],
            format!(
                "A post can be at most 50000 characters; this one has {}.",
                MAX_BODY_CHARS + 1
            ),
        ),
        (
            vec![("key", "topic"), ("title", &long_title), ("body", "ok")],
            "A title can be at most 300 characters; this one has 301.".into(),
        ),
        (
            vec![("key", "article:0"), ("summary", &long_summary)],
            "A summary can be at most 300 characters; this one has 301.".into(),
        ),
        (
            vec![("key", "reply:abc"), ("body", "x")],
            MEMBER_KEY_UNKNOWN.into(),
        ),
        (
            vec![("key", "draft:topic"), ("body", "x")],
            MEMBER_KEY_UNKNOWN.into(),
        ),
        (vec![("key", ""), ("body", "x")], MEMBER_KEY_UNKNOWN.into()),
    ];
    for (fields, message) in cases {
        let res = save(&d, Some(&d.casey), &fields).await;
        assert!(res.status.is_client_error(), "{fields:?}: {}", res.status);
        assert!(res.body.contains(&message), "{fields:?}: {}", res.body);
        assert_eq!(rows(&d.db).await, before, "{fields:?}");
    }
    // A visitor keeps nothing on the server.
    let res = save(&d, None, &[("key", "topic"), ("body", "Visitor text")]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(rows(&d.db).await, before);
}

#[tokio::test]
async fn a_member_keeps_twenty_drafts_within_the_budget() {
    let d = demo_members().await;
    let casey = user_id(&d.db, "casey").await;
    for topic in 1..=MAX_DRAFTS {
        let key = format!("reply:{topic}");
        let res = save(&d, Some(&d.casey), &[("key", &key), ("body", "short")]).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        // Distinct times, so "least recently kept" is well defined.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    save(&d, Some(&d.casey), &[("key", "reply:1"), ("body", "again")]).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    save(
        &d,
        Some(&d.casey),
        &[("key", "topic"), ("body", "one more")],
    )
    .await;
    let keys: Vec<String> = rows(&d.db).await.into_iter().map(|r| r.draft_key).collect();
    assert_eq!(keys.len(), MAX_DRAFTS);
    assert!(
        !keys.contains(&"reply:2".to_string()),
        "the least recently kept goes"
    );
    assert!(keys.contains(&"reply:1".to_string()) && keys.contains(&"topic".to_string()));

    // Big drafts: what fits in the budget is kept, the next is refused and nothing changes.
    for row in rows(&d.db).await {
        member_draft::Entity::delete_by_id((row.user_id, row.draft_key))
            .exec(&d.db)
            .await
            .unwrap();
    }
    let big = "é".repeat(MAX_BODY_CHARS);
    let mut kept = 0;
    let refused = loop {
        let key = format!("edit:{kept}");
        let res = save(&d, Some(&d.casey), &[("key", &key), ("body", &big)]).await;
        if res.status != StatusCode::OK {
            break res;
        }
        kept += 1;
        assert!(kept < MAX_DRAFTS, "the budget never ran out");
    };
    assert!(
        refused.body.contains(MEMBER_DRAFTS_FULL),
        "{}",
        refused.body
    );
    let total: i64 = rows(&d.db).await.iter().map(|r| r.byte_size as i64).sum();
    assert_eq!(rows(&d.db).await.len(), kept);
    assert!(total as usize <= MAX_DRAFT_BYTES);
    assert!(kept >= 1);
    // Nobody else's room is used: sam still keeps his.
    let res = save(&d, Some(&d.sam), &[("key", "edit:1"), ("body", &big)]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        member_draft::Entity::find()
            .filter(member_draft::Column::UserId.eq(casey))
            .count(&d.db)
            .await
            .unwrap() as usize,
        kept
    );
}

#[tokio::test]
async fn a_suspended_member_keeps_nothing_on_the_server() {
    let d = demo_members().await;
    save(&d, Some(&d.casey), &[("key", "topic"), ("body", "Before")]).await;
    let before = rows(&d.db).await;
    let mut casey: user::ActiveModel = user::Entity::find_by_id(user_id(&d.db, "casey").await)
        .one(&d.db)
        .await
        .unwrap()
        .unwrap()
        .into();
    casey.suspended_until = Set(Some(chrono::Utc::now() + chrono::Duration::days(3)));
    casey.suspension_reason = Set(Some("Rude".into()));
    casey.update(&d.db).await.unwrap();
    for (path, fields) in [
        (
            "/api/save_member_draft",
            vec![("key", "topic"), ("body", "After")],
        ),
        ("/api/discard_member_draft", vec![("key", "topic")]),
    ] {
        let res = post_fetch(&d.app, path, &fields, Some(&d.casey)).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}: {}", res.body);
        assert_eq!(rows(&d.db).await, before, "{path}");
    }
}

#[tokio::test]
async fn a_no_javascript_preview_keeps_the_draft_for_the_member_and_posting_forgets_it() {
    let d = demo_members().await;
    let t = topic::Entity::find().one(&d.db).await.unwrap().unwrap();
    let path = format!("/t/{}/{}", t.id, t.slug);
    let id = t.id.to_string();
    let key = format!("reply:{}", t.id);
    let token = form_token_on(&d.app, &path, Some(&d.casey)).await;
    let text = "Previewed on my laptop";
    let fields = [
        ("topic_id", id.as_str()),
        ("body", text),
        ("form_token", token.as_str()),
    ];
    let mut preview = fields.to_vec();
    preview.push(("preview", "1"));
    // A refused post keeps the text in the session only: a refusal writes nothing else.
    let mut refused = fields.to_vec();
    refused[1] = ("body", "   ");
    let res = post_form(&d.app, "/api/reply", &refused, Some(&d.casey), &path).await;
    assert!(res.status.is_redirection(), "{}", res.body);
    assert!(rows(&d.db).await.is_empty());
    let res = post_form(&d.app, "/api/reply", &preview, Some(&d.casey), &path).await;
    assert!(res.status.is_redirection(), "{}", res.body);
    // On another device (a new session) the draft is there for casey, and only for casey.
    let phone = session_of(&d.app, "casey", "demo-customer-pass").await;
    assert_eq!(json(&load(&d, Some(&phone), &key).await)["body"], text);
    assert_eq!(json(&load(&d, Some(&d.sam), &key).await), Value::Null);

    let res = post_form(&d.app, "/api/reply", &fields, Some(&d.casey), &path).await;
    assert!(res.status.is_redirection(), "{}", res.body);
    assert!(
        res.location
            .as_deref()
            .unwrap_or("")
            .contains("done=posted"),
        "{:?}",
        res.location
    );
    assert_eq!(json(&load(&d, Some(&phone), &key).await), Value::Null);
    assert!(rows(&d.db).await.is_empty());
}
