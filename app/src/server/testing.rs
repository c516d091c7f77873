//! Helpers for tests: a fresh SQLite database with the real migrations.
use chrono::Utc;
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};

use super::{db, entity::user};

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
    let conn = db::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("test database opens");
    db::migrate(&conn).await.expect("migrations apply");
    conn
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
        ..Default::default()
    }
    .insert(conn)
    .await
    .expect("user row inserts")
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
