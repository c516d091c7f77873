//! Limits hold under parallel requests: 64 requests at once through the real router, against a
//! file database with a full connection pool (an in-memory one has a single connection, which
//! hides races), let through exactly as many as the limit and give the rest its message.
use crate::common::*;
use app::server::entity::{email, password_reset, post, topic, user};
use axum::Router;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

const PARALLEL: usize = 64;

/// The demo site on a database file of its own (removed when the guard drops).
pub struct FileSite {
    pub db: DatabaseConnection,
    pub app: Router,
    dir: std::path::PathBuf,
}

impl Drop for FileSite {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn demo_on_file(name: &str) -> FileSite {
    let dir = std::env::temp_dir().join(format!(
        "backyard-parallel-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = file_db(&dir.join("site.db")).await;
    app::server::demo::seed_if_empty(&db).await.unwrap();
    FileSite {
        app: router_for(db.clone()),
        db,
        dir,
    }
}

/// Sends `count` posts at once (the hydrated form's kind, which answers with the message),
/// `fields(i)` for the i-th; returns each answer's body.
pub async fn all_at_once<F>(
    app: &Router,
    path: &'static str,
    cookie: Option<String>,
    count: usize,
    fields: F,
) -> Vec<String>
where
    F: Fn(usize) -> Vec<(String, String)>,
{
    let mut set = tokio::task::JoinSet::new();
    for i in 0..count {
        let app = app.clone();
        let cookie = cookie.clone();
        let fields = fields(i);
        set.spawn(async move {
            let borrowed: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            post_fetch(&app, path, &borrowed, cookie.as_deref())
                .await
                .body
        });
    }
    set.join_all().await
}

fn count_containing(bodies: &[String], text: &str) -> usize {
    bodies.iter().filter(|b| b.contains(text)).count()
}

fn owned(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const THROTTLED: &str = "Too many failed log-ins for this account.";

/// Wrong passwords against one account, half by its username and half by its address (each
/// spelled in a different case): exactly the limit are checked, the rest are refused unchecked.
pub async fn check_wrong_passwords_in_parallel(app: &Router) {
    let bodies = all_at_once(app, "/api/log_in", None, PARALLEL, |i| {
        let login = match i % 4 {
            0 => "casey",
            1 => "CASEY",
            2 => "casey@demo.backyard.invalid",
            _ => "Casey@Demo.Backyard.Invalid",
        };
        owned(&[("login", login), ("password", &format!("wrong guess {i}"))])
    })
    .await;
    let limit = app::server::accounts::sign_in::FAILURES_PER_ACCOUNT as usize;
    assert_eq!(
        count_containing(&bodies, app::server::accounts::WRONG_LOGIN),
        limit,
        "{bodies:#?}"
    );
    assert_eq!(
        count_containing(&bodies, THROTTLED),
        PARALLEL - limit,
        "{bodies:#?}"
    );
    // The right password now waits for the window too, whichever name it comes by.
    for login in ["casey", "casey@demo.backyard.invalid"] {
        let res = post_fetch(
            app,
            "/api/log_in",
            &[("login", login), ("password", "demo-customer-pass")],
            None,
        )
        .await;
        assert!(res.body.contains(THROTTLED), "{login}: {}", res.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_stop_at_the_limit_by_any_name() {
    let site = demo_on_file("login").await;
    check_wrong_passwords_in_parallel(&site.app).await;
}

/// A member new enough that none of their writes are in any window yet.
pub async fn newcomer(app: &Router, name: &str) -> String {
    sign_up(
        app,
        name,
        &format!("{name}@example.com"),
        "fresh violet teapot lantern",
    )
    .await
}

async fn posts_by(db: &DatabaseConnection, username: &str) -> u64 {
    let author = user::Entity::find()
        .filter(user::Column::UsernameKey.eq(username))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    post::Entity::find()
        .filter(post::Column::AuthorId.eq(author.id))
        .count(db)
        .await
        .unwrap()
}

/// Replies by one member at once: exactly the posting limit are stored.
pub async fn check_parallel_replies(db: &DatabaseConnection, app: &Router) {
    let cookie = newcomer(app, "rowan").await;
    let topic_id = topic::Entity::find()
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let bodies = all_at_once(app, "/api/reply", Some(cookie), PARALLEL, |i| {
        owned(&[
            ("topic_id", &topic_id),
            ("body", &format!("Reply number {i} of many.")),
            ("form_token", &app::server::auth::random_token()),
        ])
    })
    .await;
    let limit = app::server::settings::POSTS_PER_10_MIN.1;
    assert_eq!(posts_by(db, "rowan").await, limit as u64, "{bodies:#?}");
    assert_eq!(
        count_containing(
            &bodies,
            &format!("You've reached the limit of {limit} posts for now.")
        ),
        PARALLEL - limit as usize,
        "{bodies:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_replies_stop_at_the_posting_limit() {
    let site = demo_on_file("replies").await;
    check_parallel_replies(&site.db, &site.app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_new_topics_stop_at_the_topic_limit() {
    let site = demo_on_file("topics").await;
    let cookie = newcomer(&site.app, "juniper").await;
    let bodies = all_at_once(&site.app, "/api/start_topic", Some(cookie), PARALLEL, |i| {
        owned(&[
            ("category", "questions"),
            ("title", &format!("Question number {i}")),
            ("body", &format!("Body of question {i}.")),
            ("form_token", &app::server::auth::random_token()),
        ])
    })
    .await;
    let limit = app::server::settings::TOPICS_PER_HOUR.1;
    let author = user::Entity::find()
        .filter(user::Column::UsernameKey.eq("juniper"))
        .one(&site.db)
        .await
        .unwrap()
        .unwrap();
    let topics = topic::Entity::find()
        .filter(topic::Column::AuthorId.eq(author.id))
        .count(&site.db)
        .await
        .unwrap();
    assert_eq!(topics, limit as u64, "{bodies:#?}");
    assert_eq!(
        count_containing(
            &bodies,
            &format!("You've reached the limit of {limit} new topics for now.")
        ),
        PARALLEL - limit as usize,
        "{bodies:#?}"
    );
}

/// Waits until the background reset work has settled: the count has not moved for a while.
async fn settled_count(db: &DatabaseConnection, user_id: i64) -> u64 {
    let count = || async {
        password_reset::Entity::find()
            .filter(password_reset::Column::UserId.eq(user_id))
            .count(db)
            .await
            .unwrap()
    };
    let (mut last, mut same_for) = (count().await, 0);
    while same_for < 20 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let now = count().await;
        if now == last && now > 0 {
            same_for += 1;
        } else {
            (last, same_for) = (now, 0);
        }
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_reset_requests_make_at_most_the_limit_of_links() {
    let site = demo_on_file("resets").await;
    let bodies = all_at_once(&site.app, "/api/request_reset", None, PARALLEL, |i| {
        let login = if i % 2 == 0 {
            "casey"
        } else {
            "casey@demo.backyard.invalid"
        };
        owned(&[("login", login)])
    })
    .await;
    assert_eq!(bodies.len(), PARALLEL);
    let casey = user::Entity::find()
        .filter(user::Column::UsernameKey.eq("casey"))
        .one(&site.db)
        .await
        .unwrap()
        .unwrap();
    let limit = app::server::accounts::sign_in::RESETS_PER_HOUR;
    assert_eq!(settled_count(&site.db, casey.id).await, limit);
    let mails = email::Entity::find()
        .filter(email::Column::ToAddress.eq(casey.email.clone()))
        // Demo members' addresses are confirmed, so the demo's notifications went there too.
        .filter(email::Column::Subject.eq("Reset your password"))
        .count(&site.db)
        .await
        .unwrap();
    assert_eq!(mails, limit);
}

/// The same two limits on PostgreSQL, where writers do not share one database lock: the
/// per-key advisory lock (db::lock_key) is what makes each count-then-write atomic there.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_limits_hold_on_postgres() {
    let Some((db, admin_url, name)) = crate::postgres::fresh_database().await else {
        return;
    };
    app::server::demo::seed_if_empty(&db).await.unwrap();
    let app = router_for(db.clone());
    check_wrong_passwords_in_parallel(&app).await;
    check_parallel_replies(&db, &app).await;
    drop(app);
    crate::postgres::drop_database(db, &admin_url, &name).await;
}
