//! Where uploads are kept: in PostgreSQL (the default store, shared by two app servers on one
//! database), and moved between stores by `backyard uploads migrate --to STORE` (a directory;
//! S3 against the local moto server the test command starts). The rules themselves are tested
//! in uploads_http.rs and app's uploads tests.

use std::{process::Command, sync::Arc};

use app::server::uploads::{self, Incoming, Purpose};
use axum::body::Bytes;
use axum::http::StatusCode;
use media::store::{DirStore, Store};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::common::*;

/// A small real PNG: a gradient, so re-encoding has something to do.
fn screenshot(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 3, y as u8 * 5, seed]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

async fn member(db: &DatabaseConnection, name: &str) -> app::server::entity::user::Model {
    let id = 900 + name.len() as i64;
    app::server::testing::insert_user(db, id).await
}

/// The upload `u` as a visitor fetches it, once a public post uses it.
async fn publish(
    db: &DatabaseConnection,
    author: &app::server::entity::user::Model,
    markdown: &str,
) {
    let category: i64 = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM categories WHERE slug <> 'blog-comments' ORDER BY id LIMIT 1",
        ))
        .await
        .unwrap()
        .expect("a category")
        .try_get("", "id")
        .unwrap();
    let slug: String = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT slug FROM categories WHERE id = {category}"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "slug")
        .unwrap();
    app::server::forum::start_topic(
        db,
        author,
        &slug,
        "The export button crashes",
        &format!("Here is what I see:\n\n{markdown}"),
        None,
    )
    .await
    .expect("the topic is posted");
}

#[tokio::test]
async fn uploads_live_in_postgresql_and_every_app_server_serves_them() {
    let Some((db, admin_url, name)) = crate::postgres::fresh_database().await else {
        return;
    };
    app::server::demo::seed_if_empty(&db).await.unwrap();
    let ada = member(&db, "ada").await;
    let store: Arc<dyn Store> =
        app::server::uploads::store::open(&app::server::config::UploadStore::Database, &db)
            .unwrap();
    let png = screenshot(1);
    let up = uploads::accept(
        &db,
        store.as_ref(),
        &ada,
        Incoming {
            name: "crash.png".into(),
            bytes: Bytes::from(png.clone()),
        },
        Purpose::Post,
    )
    .await
    .expect("accepted on PostgreSQL");
    // The same bytes again: one file, kept once.
    let again = uploads::accept(
        &db,
        store.as_ref(),
        &ada,
        Incoming {
            name: "crash-again.png".into(),
            bytes: Bytes::from(png),
        },
        Purpose::Post,
    )
    .await
    .unwrap();
    assert_ne!(up.id, again.id);
    let files = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM files",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(files, 1);
    publish(&db, &ada, &up.markdown).await;

    // Two app servers on the one database: a visitor of either gets the same bytes.
    let first = router_for(db.clone());
    let second = router_for(db.clone());
    let a = get(&first, &up.url, None).await;
    let b = get(&second, &up.url, None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(b.status, StatusCode::OK);
    assert_eq!(a.header("content-type"), Some("image/png"));
    assert_eq!(a.body, b.body);
    let thumb = get(&second, &uploads::thumb_url_of(up.id, &up.name), None).await;
    assert_eq!(thumb.status, StatusCode::OK);
    assert_eq!(thumb.header("content-type"), Some("image/webp"));
    drop_database(db, &admin_url, &name).await;
}

use crate::postgres::drop_database;

fn backyard(
    db_path: &std::path::Path,
    args: &[&str],
    env: &[(&str, String)],
) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_backyard"));
    cmd.args(args)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", db_path.display()),
        )
        .env("BACKYARD_LOG", "warn")
        .env_remove("BACKYARD_UPLOADS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the backyard binary runs")
}

/// A file database with two uploads kept in it (the default store).
async fn site_with_uploads(dir: &std::path::Path) -> (std::path::PathBuf, Vec<String>) {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("site.db");
    let _ = std::fs::remove_file(&path);
    let db = file_db(&path).await;
    let ada = member(&db, "ada").await;
    let store = app::server::uploads::store::DbStore::new(db.clone());
    for seed in [1, 2] {
        uploads::accept(
            &db,
            &store,
            &ada,
            Incoming {
                name: format!("shot-{seed}.png"),
                bytes: Bytes::from(screenshot(seed)),
            },
            Purpose::Post,
        )
        .await
        .unwrap();
    }
    let mut keys = store.keys().await.unwrap();
    keys.sort();
    db.close().await.unwrap();
    (path, keys)
}

#[tokio::test]
async fn uploads_migrate_copies_every_file_to_a_directory() {
    let dir = std::env::temp_dir().join(format!("backyard-migrate-dir-{}", std::process::id()));
    let (db_path, keys) = site_with_uploads(&dir).await;
    // Main copy, thumbnail and (when smaller) a WebP copy of each of the two screenshots.
    assert!(keys.len() >= 4, "{keys:?}");
    let files = dir.join("files");
    let _ = std::fs::remove_dir_all(&files);
    let to = format!("dir:{}", files.display());
    let out = backyard(&db_path, &["uploads", "migrate", "--to", &to], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("Copied {} stored files", keys.len())),
        "{stdout}"
    );
    let target = DirStore::new(files.clone()).unwrap();
    let mut copied = target.keys().await.unwrap();
    copied.sort();
    assert_eq!(copied, keys);
    let db = file_db(&db_path).await;
    let source = app::server::uploads::store::DbStore::new(db.clone());
    for k in &keys {
        assert_eq!(
            target.get(k).await.unwrap(),
            source.get(k).await.unwrap(),
            "{k}"
        );
    }

    // A store that is not one is refused with what to write instead, and nothing moves.
    let bad = backyard(&db_path, &["uploads", "migrate", "--to", "ftp://x"], &[]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("use database, dir:/some/path or s3"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    db.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// moto's endpoint from the test command (scripts/s3_server.sh); required when CI=true.
fn s3_endpoint() -> Option<String> {
    match std::env::var("BACKYARD_TEST_S3_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but BACKYARD_TEST_S3_ENDPOINT is not set (scripts/test.sh starts moto)")
        }
        _ => {
            eprintln!("skipping: no S3 test server (BACKYARD_TEST_S3_ENDPOINT unset)");
            None
        }
    }
}

/// Creates a bucket on moto with a plain PUT (object_store cannot create buckets).
async fn create_bucket(endpoint: &str, bucket: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut conn = tokio::net::TcpStream::connect(host).await.unwrap();
    conn.write_all(
        format!("PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn uploads_migrate_copies_every_file_to_s3() {
    let Some(endpoint) = s3_endpoint() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("backyard-migrate-s3-{}", std::process::id()));
    let (db_path, keys) = site_with_uploads(&dir).await;
    let bucket = format!("backyard-migrate-{}", std::process::id());
    create_bucket(&endpoint, &bucket).await;
    let env = [
        ("BACKYARD_S3_ENDPOINT", endpoint.clone()),
        ("BACKYARD_S3_BUCKET", bucket.clone()),
        ("BACKYARD_S3_ACCESS_KEY_ID", "test".to_string()),
        ("BACKYARD_S3_SECRET_ACCESS_KEY", "test-secret".to_string()),
    ];
    let out = backyard(&db_path, &["uploads", "migrate", "--to", "s3"], &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("Copied {} stored files", keys.len())),
        "{stdout}"
    );
    assert!(!stdout.contains("test-secret"), "{stdout}");

    // Served from S3 once the site is switched to it: a router whose store is the bucket.
    let s3 = app::server::uploads::store::open(
        &app::server::config::UploadStore::from_lookup(|k| {
            env.iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.clone())
                .or_else(|| (k == "BACKYARD_UPLOADS").then(|| "s3".to_string()))
        })
        .unwrap(),
        &file_db(&db_path).await,
    )
    .unwrap();
    let mut held = s3.keys().await.unwrap();
    held.sort();
    assert_eq!(held, keys);
    let _ = std::fs::remove_dir_all(&dir);
}

/// What the outside test found: a file another member linked again stayed up after a moderator
/// hid the post it came with; and parallel uploads refused by the daily allowance left their
/// files in the store.
#[tokio::test]
async fn hiding_the_uploaders_post_takes_the_file_down_wherever_it_is_linked() {
    let db = sqlite_memory().await;
    app::server::demo::seed_if_empty(&db).await.unwrap();
    let casey = member(&db, "casey").await;
    let other = member(&db, "someone else").await;
    let moderator = app::server::testing::with_role(&db, 950, app::model::Role::Moderator).await;
    let store = app::server::uploads::store::DbStore::new(db.clone());
    let up = uploads::accept(
        &db,
        &store,
        &casey,
        Incoming {
            name: "abuse.png".into(),
            bytes: Bytes::from(screenshot(7)),
        },
        Purpose::Post,
    )
    .await
    .unwrap();
    publish(&db, &casey, &up.markdown).await;
    let topic_id: i64 = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT MAX(id) AS id FROM topics",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "id")
        .unwrap();
    // Someone links it again while it is public (a quote, or on purpose).
    app::server::forum::reply(
        &db,
        &other,
        topic_id,
        &format!("Again: {}", up.markdown),
        None,
    )
    .await
    .unwrap();
    let app = router_for(db.clone());
    assert_eq!(get(&app, &up.url, None).await.status, StatusCode::OK);
    let first: i64 = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT id FROM posts WHERE topic_id = {topic_id} AND post_number = 1"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "id")
        .unwrap();
    app::server::moderation::act_on_post(
        &db,
        &moderator,
        first,
        app::server::moderation::PostAction::Hide,
        "Abusive picture",
    )
    .await
    .unwrap();
    // A write empties the visitors' cache; this one went round the router, so ask afresh.
    let app = router_for(db.clone());
    for url in [up.url.clone(), uploads::thumb_url_of(up.id, &up.name)] {
        assert_eq!(
            get(&app, &url, None).await.status,
            StatusCode::NOT_FOUND,
            "{url}"
        );
    }
    let (row, _) = uploads::visible(&db, up.id, Some(&casey))
        .await
        .expect("its uploader still sees it");
    assert_eq!(row.id, up.id);
    assert!(uploads::visible(&db, up.id, Some(&other)).await.is_err());
}

#[tokio::test]
async fn uploads_refused_by_the_daily_allowance_leave_nothing_stored() {
    let db = sqlite_memory().await;
    let casey = member(&db, "casey").await;
    app::server::settings::put(&db, app::server::settings::UPLOAD_DAILY_MB.0, "1")
        .await
        .unwrap();
    let store = app::server::uploads::store::DbStore::new(db.clone());
    // Five different 300 KB logs at once: three fit in 1 MB.
    let logs: Vec<Vec<u8>> = (0..5)
        .map(|i| {
            format!("{i} the export failed\n")
                .repeat(300 * 1024 / 22)
                .into_bytes()
        })
        .collect();
    let tries = logs.iter().enumerate().map(|(i, log)| {
        uploads::accept(
            &db,
            &store,
            &casey,
            Incoming {
                name: format!("export-{i}.log"),
                bytes: Bytes::from(log.clone()),
            },
            Purpose::Post,
        )
    });
    let results = futures_util::future::join_all(tries).await;
    let taken = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(taken, 3, "{results:?}");
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(refused.to_string().contains("a day"), "{refused}");
    }
    let count = |table: &'static str| {
        let db = db.clone();
        async move {
            db.query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap()
        }
    };
    assert_eq!(count("uploads").await, 3);
    assert_eq!(count("files").await, 3, "no file kept for a refused upload");
    assert_eq!(count("file_blobs").await, 3);
}
