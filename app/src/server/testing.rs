//! Helpers for tests: a fresh in-memory SQLite with the real migrations.
use chrono::Utc;
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};

use super::{db, entity::user};

pub async fn test_db() -> DatabaseConnection {
    let conn = db::connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite opens");
    db::migrate(&conn).await.expect("migrations apply");
    conn
}

/// A bare customer row with a given id, for tests that need an author but not the sign-up rules.
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
        trust_level: Set(0),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .expect("user row inserts")
}
