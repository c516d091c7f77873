//! `backyard migrate-data`: a SQLite site copied into a new PostgreSQL database, checked on
//! both sides, and then served from PostgreSQL. Uses the PostgreSQL server the other PostgreSQL
//! tests use; skipped when none answers, except under CI=true, where it must run.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use crate::common::*;
use app::server::{
    db,
    entity::{post, topic},
};
use axum::http::StatusCode;
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, EntityTrait, QueryOrder, Statement,
};
use server::migrate_data;

/// A new PostgreSQL database with nothing in it (not even the migrations), dropped at the end.
struct NewPg {
    admin_url: String,
    name: String,
    url: String,
}

impl NewPg {
    async fn create() -> Option<NewPg> {
        let (admin_url, name, url) = crate::postgres::empty_database("backyard_migrate").await?;
        Some(NewPg {
            admin_url,
            name,
            url,
        })
    }

    async fn connect(&self) -> DatabaseConnection {
        db::connect(&self.url).await.unwrap()
    }

    async fn drop(self) {
        let admin = Database::connect(&self.admin_url).await.unwrap();
        admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await
            .unwrap();
    }
}

/// A SQLite site in a file of its own: migrated, with the demo content (`backyard seed-demo`)
/// and its search index built (as a site that has served once has it).
async fn demo_file(label: &str) -> (PathBuf, String, DatabaseConnection) {
    let dir = std::env::temp_dir().join(format!(
        "backyard-migrate-{}-{label}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("site.db");
    let conn = file_db(&path).await;
    assert!(app::server::demo::seed_if_empty(&conn).await.unwrap());
    app::server::search_index::ensure_built(&conn)
        .await
        .unwrap()
        .expect("built");
    let url = format!("sqlite://{}", path.display());
    (path, url, conn)
}

async fn rows_of(conn: &impl ConnectionTrait, sql: &str) -> Vec<sea_orm::QueryResult> {
    conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap()
}

async fn count(conn: &impl ConnectionTrait, table: &str) -> i64 {
    rows_of(conn, &format!("SELECT COUNT(*) FROM \"{table}\""))
        .await
        .remove(0)
        .try_get_by_index::<i64>(0)
        .unwrap()
}

/// Every table of a PostgreSQL database with its row count.
async fn pg_counts(conn: &DatabaseConnection) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for row in rows_of(
        conn,
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .await
    {
        let name: String = row.try_get_by_index(0).unwrap();
        let n = count(conn, &name).await;
        out.insert(name, n);
    }
    out
}

async fn migrate(from: &str, to: &str) -> Result<migrate_data::Outcome, String> {
    let mut quiet = |_: &str| {};
    migrate_data::run(from, to, &mut quiet).await
}

#[tokio::test]
async fn the_demo_site_moves_to_postgres_and_serves_from_there() {
    let Some(target) = NewPg::create().await else {
        return;
    };
    let (_, from, source) = demo_file("demo").await;
    let sqlite_app = router_for(source.clone());
    // A member signed in on the SQLite site: the session is data like any other.
    let casey = session_of(&sqlite_app, "casey", "demo-customer-pass").await;
    let casey_name = signed_in_as(&sqlite_app, &casey).await;
    assert!(casey_name.is_some());

    let outcome = migrate(&from, &target.url).await.unwrap();
    println!("{}", outcome.report());
    let pg = target.connect().await;

    // Every ordinary table of the source was copied, with the same number of rows, counted
    // here apart from the command's own check.
    let source_tables: Vec<String> = rows_of(
        &source,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT LIKE 'search_index%' AND name != 'seaql_migrations' ORDER BY name",
    )
    .await
    .iter()
    .map(|r| r.try_get_by_index::<String>(0).unwrap())
    .collect();
    let mut copied: Vec<String> = outcome.tables.iter().map(|t| t.name.clone()).collect();
    copied.sort();
    assert_eq!(copied, source_tables);
    for t in &outcome.tables {
        let n = count(&source, &t.name).await;
        assert_eq!(n as u64, t.print.rows, "{}", t.name);
        assert_eq!(count(&pg, &t.name).await, n, "{}", t.name);
    }
    for busy in [
        "users",
        "sessions",
        "categories",
        "topics",
        "posts",
        "articles",
        "votes",
        "notifications",
        "email_outbox",
    ] {
        assert!(count(&pg, busy).await > 0, "the demo has {busy}");
    }
    // The search index was rebuilt from the copied posts: one row per row of the source's.
    assert_eq!(
        outcome.search_rows,
        Some(count(&source, "search_index").await as u64)
    );
    // Posts' text and times, read back from each engine through the entity: the same.
    let posts_before = post::Entity::find()
        .order_by_asc(post::Column::Id)
        .all(&source)
        .await
        .unwrap();
    let posts_after = post::Entity::find()
        .order_by_asc(post::Column::Id)
        .all(&pg)
        .await
        .unwrap();
    assert_eq!(posts_before.len(), posts_after.len());
    for (a, b) in posts_before.iter().zip(&posts_after) {
        assert_eq!((a.id, &a.source, &a.html), (b.id, &b.source, &b.html));
        assert_eq!(
            a.created_at.timestamp_micros(),
            b.created_at.timestamp_micros()
        );
    }

    // The site on PostgreSQL: a topic page, the copied session, a log-in, a reply.
    let app = router_for(pg.clone());
    let t = topic::Entity::find()
        .order_by_asc(topic::Column::Id)
        .one(&pg)
        .await
        .unwrap()
        .unwrap();
    let path = format!("/t/{}/{}", t.id, t.slug);
    let page = get(&app, &path, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&t.slug));
    assert_eq!(signed_in_as(&app, &casey).await, casey_name);
    let cookie = session_of(&app, "casey", "demo-customer-pass").await;
    let last_id = posts_after.last().unwrap().id;
    let token = form_token_on(&app, &path, Some(&cookie)).await;
    let body = "Posted on PostgreSQL after the move";
    let res = post_reply(&app, &path, t.id, body, &token, &cookie).await;
    assert!(
        res.location
            .as_deref()
            .unwrap_or("")
            .contains("done=posted"),
        "{:?} {}",
        res.location,
        res.body
    );
    let newest = post::Entity::find()
        .order_by_desc(post::Column::Id)
        .one(&pg)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(newest.source, body);
    assert!(newest.id > last_id, "a fresh id after the copied ones");
    // A new member gets a fresh id too (every table's sequence moved, not only posts').
    sign_up(
        &app,
        "newcomer",
        "newcomer@example.com",
        "a long enough password",
    )
    .await;

    let _ = pg.close().await;
    target.drop().await;
}

#[tokio::test]
async fn a_target_that_is_not_empty_is_refused_and_nothing_is_written() {
    let Some(target) = NewPg::create().await else {
        return;
    };
    let (_, from, _source) = demo_file("refused").await;

    // A database that holds something else: refused before the migrations touch it.
    let pg = target.connect().await;
    pg.execute_unprepared("CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT)")
        .await
        .unwrap();
    pg.execute_unprepared("INSERT INTO notes VALUES (1, 'keep me')")
        .await
        .unwrap();
    let err = migrate(&from, &target.url).await.err().expect("refused");
    assert!(
        err.contains("the target database is not empty: notes (1 row)"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(
        pg_counts(&pg).await,
        BTreeMap::from([("notes".to_string(), 1)])
    );

    // A Backyard database with a member in it: refused, every table as it was.
    pg.execute_unprepared("DROP TABLE notes").await.unwrap();
    db::migrate(&pg).await.unwrap();
    sign_up(
        &router_for(pg.clone()),
        "already",
        "already@example.com",
        "a long enough password",
    )
    .await;
    let before = pg_counts(&pg).await;
    let err = migrate(&from, &target.url).await.err().expect("refused");
    assert!(err.contains("users (1 row)"), "{err}");
    assert_eq!(pg_counts(&pg).await, before);

    let _ = pg.close().await;
    target.drop().await;
}

#[tokio::test]
async fn hostile_text_and_bytes_arrive_byte_for_byte() {
    let Some(target) = NewPg::create().await else {
        return;
    };
    let (_, from, source) = demo_file("hostile").await;
    let controls: String = (1u8..32).chain([127]).map(char::from).collect();
    let hostile = format!(
        "Zoë 💩 👩‍👩‍👧‍👦 🇺🇦 \u{202E}desrever\u{202C} e\u{301} 中文 한국어 日本語 \
         \u{FEFF}\u{200B}\u{2028}\u{2029} {controls} '; DROP TABLE users; -- \\ \"quoted\" $1 ?1 \
         <script>alert(1)</script> \u{E000}\u{10FFFF}"
    );
    let long = format!("{}{}", "αβγ 🦀 ".repeat(100_000), hostile);
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let first_post: i64 = rows_of(&source, "SELECT MIN(id) FROM posts").await[0]
        .try_get_by_index(0)
        .unwrap();
    source
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "UPDATE posts SET source = ?, html = ?, created_at = ? WHERE id = ?",
            [
                hostile.clone().into(),
                long.clone().into(),
                // Nanoseconds, as SQLite's text keeps them: PostgreSQL keeps microseconds.
                "2026-11-30 23:59:59.123456789+00:00".into(),
                first_post.into(),
            ],
        ))
        .await
        .unwrap();
    source
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "UPDATE users SET display_name = ? WHERE username = 'casey'",
            ["💩\u{202E}Casey\u{7}".into()],
        ))
        .await
        .unwrap();
    source
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO file_blobs (key, data) VALUES (?, ?), (?, ?)",
            [
                "every-byte".into(),
                bytes.clone().into(),
                "empty".into(),
                Vec::<u8>::new().into(),
            ],
        ))
        .await
        .unwrap();

    migrate(&from, &target.url).await.unwrap();
    let pg = target.connect().await;
    let row = pg
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT source, html, created_at FROM posts WHERE id = $1",
            [first_post.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get_by_index::<String>(0).unwrap(), hostile);
    assert_eq!(
        row.try_get_by_index::<String>(1).unwrap().as_bytes(),
        long.as_bytes()
    );
    let at: chrono::DateTime<chrono::Utc> = row.try_get_by_index(2).unwrap();
    assert_eq!(at.to_rfc3339(), "2026-11-30T23:59:59.123456+00:00");
    let name: String = rows_of(
        &pg,
        "SELECT display_name FROM users WHERE username = 'casey'",
    )
    .await[0]
        .try_get_by_index(0)
        .unwrap();
    assert_eq!(name, "💩\u{202E}Casey\u{7}");
    let blobs = rows_of(&pg, "SELECT key, data FROM file_blobs ORDER BY key").await;
    assert_eq!(blobs.len(), 2);
    assert_eq!(
        blobs[0].try_get_by_index::<Vec<u8>>(1).unwrap(),
        Vec::<u8>::new()
    );
    assert_eq!(blobs[1].try_get_by_index::<Vec<u8>>(1).unwrap(), bytes);

    let _ = pg.close().await;
    target.drop().await;
}

#[tokio::test]
async fn text_postgresql_cannot_hold_stops_the_copy_and_leaves_the_target_empty() {
    let Some(target) = NewPg::create().await else {
        return;
    };
    let (_, from, source) = demo_file("nul").await;
    let last_post: i64 = rows_of(&source, "SELECT MAX(id) FROM posts").await[0]
        .try_get_by_index(0)
        .unwrap();
    source
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "UPDATE posts SET source = ? WHERE id = ?",
            ["before\0after".into(), last_post.into()],
        ))
        .await
        .unwrap();
    let err = migrate(&from, &target.url).await.err().expect("refused");
    assert!(
        err.contains(&format!(
            "the source's posts row {last_post}: column source"
        )) && err.contains("NUL character"),
        "{err}"
    );
    // Nothing was kept: every table holds what the migrations alone put there.
    let pg = target.connect().await;
    for (table, n) in pg_counts(&pg).await {
        let fresh = match table.as_str() {
            "seaql_migrations" => n,
            "categories" => 1, // the blog's comment category every install has
            _ => 0,
        };
        assert_eq!(n, fresh, "{table}");
    }
    // With the text mended, the same target takes the copy.
    source
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "UPDATE posts SET source = ? WHERE id = ?",
            ["before after".into(), last_post.into()],
        ))
        .await
        .unwrap();
    migrate(&from, &target.url).await.unwrap();
    assert_eq!(count(&pg, "posts").await, count(&source, "posts").await);

    let _ = pg.close().await;
    target.drop().await;
}

/// The site keeps writing while it is copied: the copy is the source as of one moment, so its
/// counts and checksums still agree, and the writes after that moment are not in it.
#[tokio::test]
async fn a_live_site_keeps_writing_while_it_is_copied() {
    let Some(target) = NewPg::create().await else {
        return;
    };
    let (path, from, _source) = demo_file("live").await;
    let writer = file_db(&path).await;
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let task = {
        let (stop, written) = (stop.clone(), written.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                writer
                    .execute_raw(Statement::from_sql_and_values(
                        DbBackend::Sqlite,
                        "INSERT INTO form_submissions (token, created_at) VALUES (?, ?)",
                        [format!("live-{n}").into(), chrono::Utc::now().into()],
                    ))
                    .await
                    .unwrap();
                written.store(n, Ordering::Relaxed);
                tokio::task::yield_now().await;
            }
            writer
        })
    };
    while written.load(Ordering::Relaxed) < 20 {
        tokio::task::yield_now().await;
    }
    let at_start = written.load(Ordering::Relaxed);
    let outcome = migrate(&from, &target.url).await.unwrap();
    let during = written.load(Ordering::Relaxed) - at_start;
    stop.store(true, Ordering::Relaxed);
    let writer = task.await.unwrap();
    assert!(during > 0, "the site wrote while it was copied");
    let copied = outcome
        .tables
        .iter()
        .find(|t| t.name == "form_submissions")
        .unwrap()
        .print
        .rows as i64;
    let pg = target.connect().await;
    assert_eq!(count(&pg, "form_submissions").await, copied);
    assert!(copied < count(&writer, "form_submissions").await);

    let _ = pg.close().await;
    target.drop().await;
}

/// Two copies started at once into one target: one copies, the other is refused, and the
/// target holds the site once.
#[tokio::test]
async fn two_copies_at_once_into_one_target_copy_once() {
    let Some(target) = NewPg::create().await else {
        return;
    };
    let (_, from, source) = demo_file("twice").await;
    let (a, b) = tokio::join!(migrate(&from, &target.url), migrate(&from, &target.url));
    assert!(
        a.is_ok() != b.is_ok(),
        "one copy, one refusal: {:?} / {:?}",
        a.as_ref().err(),
        b.as_ref().err()
    );
    let pg = target.connect().await;
    for table in ["users", "posts", "topics", "categories", "sessions"] {
        assert_eq!(
            count(&pg, table).await,
            count(&source, table).await,
            "{table}"
        );
    }
    let _ = pg.close().await;
    target.drop().await;
}

/// The benchmark's database (`backyard seed-bench`, at a few thousand posts) makes the same
/// round trip; the test prints the command's report with its rate.
#[tokio::test]
async fn the_benchmark_database_round_trips() {
    let Some(target) = NewPg::create().await else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("backyard-migrate-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bench.db");
    let _ = std::fs::remove_file(&path);
    let source = file_db(&path).await;
    server::bench_seed::run(
        &source,
        server::bench_seed::Sizes {
            users: 300,
            topics: 200,
            posts: 4000,
            votes: 300,
        },
    )
    .await
    .unwrap();
    app::server::search_index::ensure_built(&source)
        .await
        .unwrap();
    let from = format!("sqlite://{}", path.display());
    let outcome = migrate(&from, &target.url).await.unwrap();
    println!("{}", outcome.report());
    let pg = target.connect().await;
    assert_eq!(count(&pg, "posts").await, count(&source, "posts").await);
    assert!(count(&pg, "posts").await >= 4000);
    assert_eq!(count(&pg, "votes").await, count(&source, "votes").await);
    assert_eq!(
        outcome.search_rows,
        Some(count(&source, "search_index").await as u64)
    );
    let app = router_for(pg.clone());
    let bench_topic = get(
        &app,
        &format!("/t/1/{}", server::bench_seed::BENCH_TOPIC_SLUG),
        None,
    )
    .await;
    assert_eq!(bench_topic.status, StatusCode::OK, "{}", bench_topic.body);
    session_of(&app, "member1", "bench-password-1").await;
    let _ = pg.close().await;
    target.drop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The command as operators run it: its figures on success, and its refusals on stderr with a
/// failing exit code.
#[tokio::test]
async fn the_command_prints_its_figures_and_its_refusals() {
    let Some(target) = NewPg::create().await else {
        return;
    };
    let (path, from, _source) = demo_file("cli").await;
    let backyard = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_backyard"))
            .args(args)
            .env("DATABASE_URL", &from)
            .env("BACKYARD_LOG", "warn")
            .output()
            .expect("the backyard binary runs")
    };
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).to_string();

    let out = backyard(&["migrate-data", "--from", &from]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("migrate-data needs --from sqlite://PATH and --to postgres://"),
        "{}",
        text(&out.stderr)
    );

    // A source that is not there is not made (an empty new database would copy nothing).
    let missing = path.with_file_name("missing.db");
    let missing_url = format!("sqlite://{}", missing.display());
    let out = backyard(&["migrate-data", "--from", &missing_url, "--to", &target.url]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("is not a file"),
        "{}",
        text(&out.stderr)
    );
    assert!(!missing.exists());

    let out = backyard(&["migrate-data", "--from", &from, "--to", &target.url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(report.contains("  copied posts"), "{report}");
    assert!(report.contains(" rows/s)"), "{report}");
    assert!(
        report.contains("Every table's row count and checksum match the source's."),
        "{report}"
    );

    // Run again: the target now holds the site, so it is refused.
    let out = backyard(&["migrate-data", "--from", &from, "--to", &target.url]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("backyard: migrate-data: the target database is not empty: "),
        "{}",
        text(&out.stderr)
    );
    target.drop().await;
}
