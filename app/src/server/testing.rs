//! Helpers for tests: a fresh SQLite database with the real migrations, and `World`, the one
//! fixture the rule tests start from (categories, members of every role, settings).
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, Set, TransactionTrait,
};

use super::{
    db,
    entity::{post, user},
    forum::{self, NewCategory},
    settings,
};
use crate::model::Role;

/// A fresh SQLite file with the real migrations and the production settings (WAL, a pool of
/// connections). A file rather than `:memory:`, whose single shared connection would make tests
/// behave unlike the real server when several requests overlap.
pub async fn test_db() -> DatabaseConnection {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join("backyard-test-dbs");
    std::fs::create_dir_all(&dir).expect("temp dir");
    forget_old_databases(&dir);
    let path = dir.join(format!(
        "{}-{}.db",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    // A copy of a database migrated once per test process: migrating takes most of a test's
    // set-up time (each migration is a synced write). Should the copy fail, `migrate` below
    // applies every migration to the empty file instead; on a copy it only checks.
    let _ = std::fs::copy(migrated_template(&dir), &path);
    let conn = db::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("test database opens");
    db::migrate(&conn).await.expect("migrations apply");
    conn
}

/// A database file with every migration applied, made once per process and then only copied.
fn migrated_template(dir: &std::path::Path) -> std::path::PathBuf {
    static TEMPLATE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let path = dir.join(format!("{}-template.db", std::process::id()));
            let url = format!("sqlite://{}?mode=rwc", path.display());
            // On its own thread and runtime: the caller may be inside any test's runtime.
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async {
                    for suffix in ["", "-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                    }
                    let conn = db::connect(&url).await.expect("template database opens");
                    db::migrate(&conn).await.expect("migrations apply");
                    // Everything into the main file, so that copying it alone copies it all.
                    conn.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                        .await
                        .expect("checkpoint");
                    conn.close().await.expect("template database closes");
                });
                path
            })
            .join()
            .expect("template database is made")
        })
        .clone()
}

/// Deletes test databases left by runs more than an hour ago.
fn forget_old_databases(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() > 3600);
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A bare customer row with a given id, for tests that need an author but not the sign-up rules.
/// An established member (trust level 1), so their posts are not held as a new member's.
pub async fn insert_user(conn: &DatabaseConnection, id: i64) -> user::Model {
    user::ActiveModel {
        id: Set(id),
        username: Set(format!("user{id}")),
        username_key: Set(format!("user{id}")),
        email: Set(format!("user{id}@example.com")),
        email_key: Set(format!("user{id}@example.com")),
        display_name: Set(format!("User {id}")),
        password_hash: Set("!".into()),
        role: Set("customer".into()),
        trust_level: Set(1),
        created_at: Set(Utc::now()),
        // Members who confirmed their address long ago, as on a running site.
        email_confirmed_at: Set(Some(Utc::now())),
        ..Default::default()
    }
    .insert(conn)
    .await
    .expect("user row inserts")
}

/// Post number `number` of topic `topic_id` (1 is its opening post), whatever its state.
pub async fn post_at(conn: &impl ConnectionTrait, topic_id: i64, number: i32) -> post::Model {
    post::Entity::find()
        .filter(post::Column::TopicId.eq(topic_id))
        .filter(post::Column::PostNumber.eq(number))
        .one(conn)
        .await
        .expect("posts read")
        .expect("the topic has that post")
}

/// A transaction whose plans use statistics taken now by `ANALYZE`, then changed by `adjust`
/// (statements on `sqlite_stat1`, or nothing). One connection: SQLite reads statistics when a
/// connection loads the schema, so another of the pool's connections may still plan with what
/// it loaded when it opened. For tests that hold a statement to its index (`query_plan`).
pub async fn with_statistics(db: &DatabaseConnection, adjust: &str) -> DatabaseTransaction {
    let txn = db.begin().await.expect("a transaction");
    txn.execute_unprepared(&format!("ANALYZE; {adjust} ANALYZE sqlite_schema"))
        .await
        .expect("statistics");
    txn
}

/// SQLite's plan for `statement`: the details of `EXPLAIN QUERY PLAN` that name `table`, in
/// order, for tests that hold a statement to its index whatever the statistics say.
pub async fn query_plan(
    conn: &impl ConnectionTrait,
    statement: &sea_orm::Statement,
    table: &str,
) -> Vec<String> {
    conn.query_all_raw(sea_orm::Statement {
        sql: format!("EXPLAIN QUERY PLAN {}", statement.sql),
        ..statement.clone()
    })
    .await
    .expect("a plan")
    .into_iter()
    .map(|r| r.try_get::<String>("", "detail").expect("a detail"))
    .filter(|d| d.contains(&format!(" {table} ")) || d.ends_with(&format!(" {table}")))
    .collect()
}

/// Watches `words` (word, action) as an admin's list would, straight into the table.
pub async fn watch(conn: &impl ConnectionTrait, words: &[(&str, &str)]) {
    for (word, action) in words {
        super::entity::watched_word::ActiveModel {
            word: Set((*word).into()),
            action: Set((*action).into()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(conn)
        .await
        .unwrap();
    }
}

/// A member with `role` (from `insert_user`): staff, moderators and admins carry a staff title,
/// as the staff badge needs one.
pub async fn with_role(conn: &DatabaseConnection, id: i64, role: Role) -> user::Model {
    let mut row: user::ActiveModel = insert_user(conn, id).await.into();
    row.role = Set(role.as_str().into());
    row.staff_title = Set(role.is_staff().then(|| "Support".to_string()));
    row.update(conn).await.expect("role is set")
}

/// What rule tests start from: a fresh database, two forum categories ("questions", then
/// "ideas"), and one member of each kind. Build it with `World::new()`, or `World::builder()`
/// for a variation.
pub struct World {
    pub db: DatabaseConnection,
    /// Customers (trust level 1, so nothing of theirs is held as a new member's): user1, user2.
    pub customer: user::Model,
    pub other: user::Model,
    /// user3, role staff, titled "Support".
    pub staff: user::Model,
    /// user4, role moderator.
    pub moderator: user::Model,
    /// user5, role admin.
    pub admin: user::Model,
}

/// Ids of the members `World` makes; tests add their own members above these.
pub const WORLD_MEMBERS: [i64; 5] = [1, 2, 3, 4, 5];

impl World {
    /// The usual world: rate limits off, as tests write many posts in a moment.
    pub async fn new() -> World {
        World::builder().build().await
    }

    pub fn builder() -> WorldBuilder {
        WorldBuilder {
            rate_limits: false,
            categories: true,
            members_since: None,
        }
    }
}

/// Options of `World`.
pub struct WorldBuilder {
    rate_limits: bool,
    categories: bool,
    members_since: Option<chrono::DateTime<Utc>>,
}

impl WorldBuilder {
    /// Members who joined `age` ago (a brand-new account's flags count for less).
    pub fn members_aged(mut self, age: chrono::Duration) -> WorldBuilder {
        self.members_since = Some(Utc::now() - age);
        self
    }

    /// No forum categories (for tests of what a site without any shows).
    pub fn without_categories(mut self) -> WorldBuilder {
        self.categories = false;
        self
    }

    /// Keeps the default rate limits (for tests of the limits themselves).
    pub fn with_rate_limits(mut self) -> WorldBuilder {
        self.rate_limits = true;
        self
    }

    pub async fn build(self) -> World {
        self.build_on(test_db().await).await
    }

    /// The same world on a database of the caller's (a fresh PostgreSQL one, say).
    pub async fn build_on(self, db: DatabaseConnection) -> World {
        let categories: &[_] = if self.categories {
            &[("questions", "Questions"), ("ideas", "Ideas")]
        } else {
            &[]
        };
        for &(slug, name) in categories {
            forum::create_category(
                &db,
                NewCategory {
                    slug,
                    name,
                    description: "",
                    colour: "#2f855a",
                },
            )
            .await
            .expect("category is created");
        }
        if !self.rate_limits {
            for (key, _) in [
                settings::POSTS_PER_10_MIN,
                settings::TOPICS_PER_HOUR,
                settings::FLAGS_PER_HOUR,
            ] {
                settings::put(&db, key, "0")
                    .await
                    .expect("setting is saved");
            }
        }
        let joined = |member: user::Model| async {
            let Some(since) = self.members_since else {
                return member;
            };
            let mut row: user::ActiveModel = member.into();
            row.created_at = Set(since);
            row.update(&db).await.expect("joining date is set")
        };
        let [customer, other, staff, moderator, admin] = WORLD_MEMBERS;
        World {
            customer: joined(insert_user(&db, customer).await).await,
            other: joined(insert_user(&db, other).await).await,
            staff: joined(with_role(&db, staff, Role::Staff).await).await,
            moderator: joined(with_role(&db, moderator, Role::Moderator).await).await,
            admin: joined(with_role(&db, admin, Role::Admin).await).await,
            db,
        }
    }
}

/// A fresh, uniquely named PostgreSQL database with the real migrations, on the server named by
/// DATABASE_URL when it is a postgres:// URL, else 127.0.0.1:5432. None (with a note) when no
/// server answers, except under CI=true, where it must. Drop it with `PostgresTestDb::drop`.
pub struct PostgresTestDb {
    pub db: DatabaseConnection,
    admin_url: String,
    name: String,
}

impl PostgresTestDb {
    pub async fn create() -> Option<PostgresTestDb> {
        let admin_url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|u| u.starts_with("postgres"))
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
        let admin = match sea_orm::Database::connect(&admin_url).await {
            Ok(c) => c,
            Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("CI=true but PostgreSQL at {admin_url} is unreachable: {e}")
            }
            Err(e) => {
                eprintln!("skipping the PostgreSQL run: {admin_url} is unreachable ({e})");
                return None;
            }
        };
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "backyard_rules_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("test database is created");
        let base = &admin_url[..admin_url.rfind('/').expect("a database in the URL")];
        let db = db::connect(&format!("{base}/{name}"))
            .await
            .expect("test database opens");
        db::migrate(&db).await.expect("migrations apply");
        Some(PostgresTestDb {
            db,
            admin_url,
            name,
        })
    }

    pub async fn drop(self) {
        let _ = self.db.close().await;
        if let Ok(admin) = sea_orm::Database::connect(&self.admin_url).await {
            let _ = admin
                .execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .await;
        }
    }
}

/// The most expensive bodies we know how to write, each as long as a post may be: nesting,
/// emphasis, links, reference definitions, wide tables and raw HTML that make Markdown parsers
/// and HTML tree builders do more than linear work. The unit tests check what they render to,
/// `markdown_timing` (bench/markdown.sh) times them, and the fuzz target starts from them.
pub fn worst_markdown_bodies() -> Vec<(&'static str, String)> {
    use super::content::MAX_BODY_CHARS as N;
    // `unit` repeated to fill the limit, then `tail` (cut to fit).
    let fill = |unit: &str, tail: &str| {
        let units = (N - tail.chars().count()) / unit.chars().count();
        let mut s = unit.repeat(units);
        s.push_str(tail);
        s
    };
    // A table `columns` wide (header and delimiter rows), then rows of one cell each, which the
    // parser pads to the full width.
    let wide_table = |columns: usize| {
        let mut s = "a|".repeat(columns);
        s.push('\n');
        s.push_str(&"-|".repeat(columns));
        s.push('\n');
        while s.len() + 2 <= N {
            s.push_str("b\n");
        }
        s
    };
    let distinct_formatting: String = {
        let mut s = String::new();
        let mut i = 0;
        while s.len() < N - 40 {
            s.push_str(&format!("<b title={i}>x\n\n"));
            i += 1;
        }
        s
    };
    let lazy_quote_lines: String = {
        let mut s = String::new();
        let mut depth = 1;
        while s.len() + depth + 2 < N {
            s.push_str(&">".repeat(depth));
            s.push_str("a\n");
            depth += 1;
        }
        s
    };
    let indented_list: String = {
        let mut s = String::new();
        let mut depth = 0;
        while s.len() + 2 * depth + 7 < N {
            s.push_str(&"  ".repeat(depth));
            s.push_str("- item\n");
            depth += 1;
        }
        s
    };
    vec![
        ("quotes >>>", fill(">", "deep")),
        ("quotes > > >", fill("> ", "deep")),
        ("quotes, one more per line", lazy_quote_lines),
        ("lists - - -", fill("- ", "deep")),
        ("lists * 1. +", fill("* 1. + ", "deep")),
        ("lists, indented", indented_list),
        ("lists then quotes", fill("- > ", "deep")),
        ("emphasis *a", fill("*a", "")),
        ("emphasis *_", fill("*_", "x")),
        ("emphasis **a __b", fill("**a __b ", "")),
        ("strikethrough ~~", fill("~~a", "")),
        ("links [[[", fill("[", "](https://x.example)")),
        ("links [a](", fill("[a](", "")),
        ("links ![[", fill("![[]()", "")),
        ("links <", fill("<a", "")),
        ("code spans `", fill("`a``", "")),
        (
            "reference definitions",
            fill("[a]: https://x.example\n[a][a] ", ""),
        ),
        ("reference labels [a][", fill("[a][", "")),
        ("table, 24,000 columns", wide_table(12_000)),
        ("table, 1,000 columns", wide_table(1_000)),
        ("raw HTML <div>", fill("<div>", "deep")),
        ("raw HTML <b><i>", fill("<b><i>", "deep\n\nx")),
        ("raw HTML, distinct formatting", distinct_formatting),
        ("raw HTML <table><td>", fill("<table><tr><td>", "deep")),
        ("raw HTML </p>", fill("<p></p><b>", "")),
        ("mentions and URLs", fill("@ab https://x.example/ ", "")),
        ("bare URLs", fill("https://x.y ", "")),
    ]
}

/// What the test SMTP server is told to do (scripts/smtp_test_server.py).
#[derive(Clone, Debug, Default)]
pub struct SmtpTestOptions {
    /// Listen here (a port a test chose while nothing listened on it); None: any free port.
    pub port: Option<u16>,
    /// Offer STARTTLS, with a certificate from the test CA, and refuse mail without it.
    pub tls: bool,
    /// Require AUTH as `SmtpTestServer::USER` / `SmtpTestServer::PASSWORD`.
    pub auth: bool,
    /// Answer 421 to this many messages first.
    pub fail_first: u32,
    /// Answer 550 to every message.
    pub reject: bool,
    /// Answer 451 to every message for this address, and take the others.
    pub defer: Option<String>,
}

/// A real SMTP server on 127.0.0.1 (aiosmtpd, in target/mail-venv: scripts/test.sh installs it)
/// that stores what it accepts as JSON files. Stopped and cleaned up when dropped.
pub struct SmtpTestServer {
    child: std::process::Child,
    pub port: u16,
    pub dir: std::path::PathBuf,
    tls: bool,
}

impl SmtpTestServer {
    pub const USER: &'static str = "backyard";
    pub const PASSWORD: &'static str = "test-password";

    /// The venv's Python, or None with a note when it is missing (a panic under CI=true).
    pub fn python() -> Option<std::path::PathBuf> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let python = std::env::var_os("BACKYARD_MAIL_VENV")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| root.join("target/mail-venv"))
            .join("bin/python");
        let works = std::process::Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        match works {
            true => Some(python),
            false if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("CI=true but {} has no aiosmtpd", python.display())
            }
            false => {
                eprintln!(
                    "skipping an SMTP test: no aiosmtpd at {} (scripts/test.sh installs it)",
                    python.display()
                );
                None
            }
        }
    }

    pub fn start(options: SmtpTestOptions) -> Option<SmtpTestServer> {
        use std::io::BufRead;
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let python = Self::python()?;
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/smtp_test_server.py");
        let dir = std::env::temp_dir().join(format!(
            "backyard-smtp-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let mut command = std::process::Command::new(python);
        command.arg(script).arg("--dir").arg(&dir);
        if let Some(port) = options.port {
            command.args(["--port", &port.to_string()]);
        }
        if options.tls {
            let (_, cert, key) = test_certificates();
            command.arg("--tls").arg(cert).arg(key);
        }
        if options.auth {
            command.args(["--auth", &format!("{}:{}", Self::USER, Self::PASSWORD)]);
        }
        if options.fail_first > 0 {
            command.args(["--fail-first", &options.fail_first.to_string()]);
        }
        if options.reject {
            command.arg("--reject");
        }
        if let Some(address) = &options.defer {
            command.args(["--defer", address]);
        }
        let mut child = command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the test SMTP server starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the test SMTP server says its port");
        let port = line
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("the test SMTP server said {line:?}, not PORT n"));
        Some(SmtpTestServer {
            child,
            port,
            dir,
            tls: options.tls,
        })
    }

    /// The settings that send to this server: STARTTLS and AUTH when it asks for them, the
    /// test CA through BACKYARD_SMTP_CA_FILE, plain (allowed on localhost) otherwise.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        smtp_settings(self.port, self.tls)
    }

    /// The messages it accepted, oldest first, as {"mail_from", "rcpt_tos", "data"}.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let mut files: Vec<_> = std::fs::read_dir(&self.dir)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "json"));
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }
}

impl Drop for SmtpTestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Settings for an SMTP server on 127.0.0.1:`port` (which need not be listening yet): with
/// `tls`, STARTTLS, the test CA and AUTH as the test user; without, plain on localhost.
pub fn smtp_settings(port: u16, tls: bool) -> Vec<(&'static str, String)> {
    let mut settings = vec![(
        "BACKYARD_MAIL_FROM",
        "Backyard <noreply@example.com>".into(),
    )];
    if tls {
        let (ca, _, _) = test_certificates();
        settings.push((
            "BACKYARD_SMTP_URL",
            format!(
                "smtp://{}:{}@127.0.0.1:{port}",
                SmtpTestServer::USER,
                SmtpTestServer::PASSWORD
            ),
        ));
        settings.push(("BACKYARD_SMTP_CA_FILE", ca.display().to_string()));
    } else {
        settings.push(("BACKYARD_SMTP_URL", format!("smtp://127.0.0.1:{port}")));
        settings.push(("BACKYARD_SMTP_ALLOW_PLAIN_LOCALHOST", "1".into()));
    }
    settings
}

/// A mail transport built from `settings` as the server builds it from the environment.
pub fn smtp_transport(settings: &[(&str, String)]) -> super::mail::Transport {
    let config = super::config::Config::from_lookup(|k| {
        settings
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.clone())
    })
    .expect("mail settings are valid");
    super::mail::Transport::from_config(&config)
        .expect("the transport builds")
        .expect("a transport is configured")
}

/// A fake sendmail in a fresh directory of its own under the temp dir: `script` is the shell
/// script's body after `#!/bin/sh`, given that directory to write what it saw into. Returns the
/// directory and the program's path.
pub fn fake_sendmail(
    name: &str,
    script: impl FnOnce(&std::path::Path) -> String,
) -> (std::path::PathBuf, String) {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("backyard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let program = dir.join("sendmail");
    std::fs::write(&program, format!("#!/bin/sh\n{}", script(&dir))).unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let program = program.to_str().unwrap().to_string();
    (dir, program)
}

/// A CA and a certificate it signed for localhost and 127.0.0.1, made once per test process
/// with Debian's openssl: (CA certificate, server certificate, server key).
pub fn test_certificates() -> &'static (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf)
{
    static FILES: std::sync::OnceLock<(
        std::path::PathBuf,
        std::path::PathBuf,
        std::path::PathBuf,
    )> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("backyard-test-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let openssl = |args: &[&str]| {
            let out = std::process::Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("openssl runs");
            assert!(out.status.success(), "openssl {args:?}: {out:?}");
        };
        std::fs::write(
            dir.join("leaf.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             extendedKeyUsage=serverAuth\n",
        )
        .expect("extensions file");
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Backyard test CA",
        ]);
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=localhost",
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
        ]);
        (
            dir.join("ca.pem"),
            dir.join("leaf.pem"),
            dir.join("leaf.key"),
        )
    })
}

/// A port on 127.0.0.1 that nothing listens on (for a moment: tests start a server on it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}
