//! The operator commands, run as the real binary.

use std::process::Command;

use crate::common::*;

fn backyard(db_path: &std::path::Path, args: &[&str], password: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_backyard"))
        .args(args)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", db_path.display()),
        )
        .env("BACKYARD_ADMIN_PASSWORD", password)
        .env("BACKYARD_LOG", "warn")
        .output()
        .expect("the backyard binary runs")
}

#[tokio::test]
async fn create_admin_makes_an_admin_who_can_log_in() {
    let dir = std::env::temp_dir().join(format!("backyard-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cli.db");
    let _ = std::fs::remove_file(&path);
    let args = [
        "create-admin",
        "--username",
        "boss",
        "--email",
        "boss@example.com",
        "--title",
        "Head of Support",
    ];

    let out = backyard(&path, &args, "a long enough password");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Created admin boss"));

    // Bad input is refused with the rule's message and a failing exit code.
    let again = backyard(&path, &args, "a long enough password");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("That username is taken"));
    let short = backyard(
        &path,
        &[
            "create-admin",
            "--username",
            "b2",
            "--email",
            "b2@example.com",
        ],
        "short",
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10 characters"));

    let db = file_db(&path).await;
    assert_eq!(user_count(&db).await, 1);
    let user = app::server::accounts::log_in(&db, "boss", "a long enough password", None)
        .await
        .unwrap();
    assert_eq!(user.role(), app::model::Role::Admin);
    assert_eq!(user.staff_title.as_deref(), Some("Head of Support"));
    db.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `backup` copies a live database while the site serves and takes writes; `restore` puts a
/// copy back (checked first), and refuses what is not a sound Backyard database.
#[tokio::test]
async fn backup_while_serving_then_restore() {
    use std::io::{Read, Write};
    let dir = std::env::temp_dir().join(format!("backyard-backup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let live = dir.join("live.db");
    let port = 3600 + std::process::id() % 300;
    let mut server = Command::new(env!("CARGO_BIN_EXE_backyard"))
        .args(["serve", "--demo"])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", live.display()),
        )
        .env("BACKYARD_ADDR", format!("127.0.0.1:{port}"))
        .env("BACKYARD_LOG", "error")
        .env("BACKYARD_IP_WRITES_PER_MINUTE", "0")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let request = |raw: String| -> String {
        let send = || -> std::io::Result<String> {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port as u16))?;
            s.write_all(raw.as_bytes())?;
            let mut out = String::new();
            s.read_to_string(&mut out)?;
            Ok(out)
        };
        send().unwrap_or_default()
    };
    for _ in 0..100 {
        if request("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into())
            .contains("200 OK")
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Writes go on in the background while the backup runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let body = format!("login=ghost{n}&password=wrong+password+{n}");
                let raw = format!(
                    "POST /api/log_in HTTP/1.1\r\nHost: x\r\nSec-Fetch-Site: same-origin\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = std::net::TcpStream::connect(("127.0.0.1", port as u16))
                    .and_then(|mut s| s.write_all(raw.as_bytes()).map(|_| s))
                    .map(|mut s| s.read_to_end(&mut Vec::new()));
            }
            n
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    let copy = dir.join("copy.db");
    let out = backyard(&live, &["backup", copy.to_str().unwrap()], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Backed up to"));
    let page = request("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into());
    assert!(page.contains("200 OK"), "the site kept serving");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(writer.join().unwrap() > 0);
    let again = backyard(&live, &["backup", copy.to_str().unwrap()], "");
    assert!(
        !again.status.success(),
        "an existing file is never overwritten"
    );
    server.kill().unwrap();
    server.wait().unwrap();

    // The copy is whole, and restores into a new place.
    let restored = dir.join("restored.db");
    let out = backyard(&restored, &["restore", copy.to_str().unwrap()], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = file_db(&restored).await;
    assert_eq!(user_count(&db).await, 3, "the demo accounts came back");
    db.close().await.unwrap();

    // Not a database, or not ours: refused, and the target is untouched.
    let junk = dir.join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    let out = backyard(&restored, &["restore", junk.to_str().unwrap()], "");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not open as a SQLite database")
            || String::from_utf8_lossy(&out.stderr).contains("damaged"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = file_db(&restored).await;
    assert_eq!(user_count(&db).await, 3);
    db.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `set` checks a value as the admin panel does: an unknown key or a value out of range is
/// refused with what is allowed, a failing exit code, and nothing written.
#[tokio::test]
async fn set_refuses_unknown_keys_and_out_of_range_values() {
    use app::server::{entity::setting, settings};
    use sea_orm::EntityTrait;
    let dir = std::env::temp_dir().join(format!("backyard-set-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("set.db");
    let run = |args: &[&str]| {
        let out = backyard(&path, args, "");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    // Accepted, and stored in the form the site reads.
    let (ok, stdout, stderr) = run(&["set", "rate_posts_per_10_min", " 20 "]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("rate_posts_per_10_min = 20"), "{stdout}");
    let (ok, _, stderr) = run(&["set", "accountability_public", "off"]);
    assert!(ok, "{stderr}");
    let stored = || async {
        let db = file_db(&path).await;
        let rows = setting::Entity::find().all(&db).await.unwrap();
        db.close().await.unwrap();
        rows.into_iter()
            .map(|s| (s.key, s.value))
            .collect::<Vec<_>>()
    };
    let before = stored().await;
    assert!(before.contains(&("rate_posts_per_10_min".into(), "20".into())));
    assert!(before.contains(&("accountability_public".into(), "false".into())));

    // An unknown key (a typo of a real one): refused, naming every valid key.
    let (ok, _, stderr) = run(&["set", "rate_post_per_10_min", "20"]);
    assert!(!ok);
    assert!(
        stderr.contains("There is no setting \"rate_post_per_10_min\""),
        "{stderr}"
    );
    for s in settings::ALL {
        assert!(stderr.contains(s.key), "{} missing from: {stderr}", s.key);
    }

    // Out of range, not a number, not a choice: refused, naming what is allowed.
    for (key, value, allowed) in [
        ("flag_threshold", "0", "from 1 to 10,000"),
        ("rate_topics_per_hour", "-1", "from 0 to 10,000"),
        ("rate_topics_per_hour", "lots", "0 to turn it off"),
        ("session_idle_hours", "100000", "from 1 to 9,600"),
        ("signup_mode", "sometimes", "open, closed or approval"),
        ("accountability_public", "maybe", "true or false"),
    ] {
        let (ok, _, stderr) = run(&["set", key, value]);
        assert!(!ok, "{key} {value}");
        assert!(
            stderr.contains(key) && stderr.contains(allowed),
            "{key} {value}: {stderr}"
        );
    }
    let (ok, _, stderr) = run(&["set", "flag_threshold"]);
    assert!(
        !ok && stderr.contains("needs a KEY and a VALUE"),
        "{stderr}"
    );

    assert_eq!(stored().await, before, "nothing written");
    let _ = std::fs::remove_dir_all(&dir);
}

/// What `backyard` started with no command printed up to "Backyard is running", with
/// LEPTOS_WATCH set or not (cargo-leptos's watch sets it), on a new database.
fn start_output(name: &str, watch: bool, args: &[&str]) -> String {
    use std::io::BufRead;
    let dir = std::env::temp_dir().join(format!("backyard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_backyard"));
    command
        .args(args)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.join("site.db").display()),
        )
        .env("BACKYARD_ADDR", "127.0.0.1:0")
        .env("BACKYARD_LOG", "error")
        .env_remove("LEPTOS_WATCH")
        .stdout(std::process::Stdio::piped());
    if watch {
        command.env("LEPTOS_WATCH", "true");
    }
    let mut server = command.spawn().unwrap();
    let mut printed = String::new();
    for line in std::io::BufReader::new(server.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if line.starts_with("Backyard is running") {
            break;
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    printed
}

/// `cargo leptos watch` runs the binary without a command: the development loop then serves the
/// demo site on a new database, as scripts/start.sh does. Only the watch does this: started
/// without a command otherwise, or as `serve`, the site starts empty.
#[test]
fn cargo_leptos_watch_serves_the_demo_site() {
    let watched = start_output("watch", true, &[]);
    assert!(watched.contains("Seeded demo content"), "{watched}");
    assert!(watched.contains("Backyard is running"), "{watched}");
    for (name, watch, args) in [("plain", false, &[][..]), ("serve", true, &["serve"][..])] {
        let printed = start_output(name, watch, args);
        assert!(printed.contains("Backyard is running"), "{printed}");
        assert!(!printed.contains("demo"), "{name}: {printed}");
    }
}

/// Starts `backyard seed-demo` (a start: migrations, then the demo) once for each of `urls` (one
/// database's names), all at once, and checks that each one worked, that the migrations were
/// applied once and that the demo was seeded once (`server::start_turn`). Without the turn, the starts
/// that read the migrations to apply before the first had applied them failed ("already
/// exists").
async fn starts_together(urls: &[String]) {
    let started: Vec<_> = urls
        .iter()
        .map(|url| {
            Command::new(env!("CARGO_BIN_EXE_backyard"))
                .arg("seed-demo")
                .env("DATABASE_URL", url)
                .env("BACKYARD_LOG", "warn")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("the backyard binary runs")
        })
        .collect();
    let mut seeded = 0;
    for child in started {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "a start failed: {}{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        if stdout.contains("Seeded demo content.") {
            seeded += 1;
        } else {
            assert!(stdout.contains("already has accounts"), "{stdout}");
        }
    }
    assert_eq!(seeded, 1, "the demo is seeded by one start");

    let db = app::server::db::connect(&urls[0]).await.unwrap();
    let (alone, _) = demo_site().await;
    assert_eq!(
        user_count(&db).await,
        user_count(&alone).await,
        "the demo's accounts, once"
    );
    let topics = |db: sea_orm::DatabaseConnection| async move {
        use sea_orm::{EntityTrait, PaginatorTrait};
        app::server::entity::topic::Entity::find()
            .count(&db)
            .await
            .unwrap()
    };
    assert_eq!(topics(db.clone()).await, topics(alone).await);
    use migrations::MigratorTrait;
    let applied = migrations::Migrator::get_applied_migrations(&db)
        .await
        .unwrap();
    assert_eq!(applied.len(), migrations::Migrator::migrations().len());
    db.close().await.unwrap();
}

/// Three rounds of four starts; in the last two the file goes by other names too, a link to it
/// and its name percent-encoded (as sqlx decodes it), which take the same turn.
#[tokio::test]
async fn starts_together_on_a_new_sqlite_database_migrate_and_seed_once() {
    let dir = std::env::temp_dir().join(format!("backyard-starts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("a dir")).unwrap();
    for round in 0..3 {
        let path = dir.join("a dir").join(format!("starts-{round}.db"));
        let url = |path: &str| format!("sqlite://{path}?mode=rwc");
        let plain = url(&path.display().to_string());
        let urls = if round == 0 {
            vec![plain; 4]
        } else {
            let link = dir.join(format!("link-{round}.db"));
            // The link's target is made by the first start that opens it.
            std::os::unix::fs::symlink(&path, &link).unwrap();
            let encoded = url(&path.display().to_string().replace(' ', "%20"));
            vec![
                plain.clone(),
                url(&link.display().to_string()),
                encoded,
                plain,
            ]
        };
        starts_together(&urls).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Four rounds of four starts; in the last three the server ends idle sessions (after 300 ms),
/// idle transactions (after 100 ms), as the migrations and the seed leave the turn's
/// connection, and statements (after a second), as a waiting start's wait for the lock is.
#[tokio::test]
async fn starts_together_on_a_new_postgres_database_migrate_and_seed_once() {
    for round in 0..4 {
        let Some((admin_url, name, url)) = crate::postgres::empty_database("backyard_starts").await
        else {
            return;
        };
        if round > 0 {
            let timeout = [
                "idle_session_timeout = '300ms'",
                "idle_in_transaction_session_timeout = '100ms'",
                "statement_timeout = '1s'",
            ][round - 1];
            let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
            sea_orm::ConnectionTrait::execute_unprepared(
                &admin,
                &format!("ALTER DATABASE {name} SET {timeout}"),
            )
            .await
            .unwrap();
            admin.close().await.unwrap();
        }
        starts_together(&vec![url.clone(); 4]).await;
        let db = app::server::db::connect(&url).await.unwrap();
        crate::postgres::drop_database(db, &admin_url, &name).await;
    }
}
