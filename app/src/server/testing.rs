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
