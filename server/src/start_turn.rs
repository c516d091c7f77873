//! One start's turn at what a start does once: migrate, and seed a new demo site. Servers
//! started together on one database (several app servers after an upgrade, or replicas on a new
//! database) would otherwise each read the migrations still to apply and apply them together:
//! every one but the first fails ("table already exists") and exits, and two demo seeds both see
//! a database without accounts. Held, the others wait, then find nothing left to do.
//!
//! PostgreSQL: a session advisory lock on a connection of its own, outside the pool, kept busy
//! (`KEEP_BUSY`) so that a server which ends idle sessions (`idle_session_timeout`,
//! `idle_in_transaction_session_timeout`) does not end it while the migrations and the seed run
//! on other connections. SQLite: an exclusive `flock` of the database's directory (where a link
//! to the file leads): no file of its own, so nothing another user made can be in the way, and
//! the database's own write lock cannot be held across the migrations, which take it
//! themselves. Either is let go when the turn is dropped or the process dies.
use std::time::Duration;

use sea_orm::sqlx::{Connection, PgConnection, Row};
use sea_orm::{DatabaseConnection, DbBackend, DbErr};

pub struct StartTurn {
    /// PostgreSQL: dropped, it tells the task that holds the lock's connection to close it.
    _release: Option<tokio::sync::oneshot::Sender<()>>,
    /// SQLite: the database's directory, locked.
    _directory: Option<std::fs::File>,
}

/// The key of the start's PostgreSQL advisory lock.
const LOCK_KEY: &str = "backyard start";

/// How often the lock's connection asks something while the turn is held.
const KEEP_BUSY: Duration = Duration::from_millis(100);

/// Waits for this start's turn on the database `db` opened from `url`; `waiting` is called once
/// if another start has it, so the operator is told why nothing happens yet.
pub async fn start_turn(
    db: &DatabaseConnection,
    url: &str,
    waiting: impl FnOnce(),
) -> Result<StartTurn, DbErr> {
    let none = StartTurn {
        _release: None,
        _directory: None,
    };
    if db.get_database_backend() == DbBackend::Postgres {
        return postgres_turn(url, waiting).await;
    }
    let Some(path) = crate::sqlite_file::path(url) else {
        // An in-memory database is this process's alone.
        return Ok(none);
    };
    // The database file exists by now (`connect` made it).
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    let directory = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => ".".into(),
    };
    let directory = match std::fs::File::open(&directory) {
        Ok(d) => d,
        Err(e) => {
            // A directory this user may not list: nothing to lock, so no turn to wait for.
            tracing::warn!(
                "cannot open {} to lock it ({e}): starting without waiting for other starts",
                directory.display()
            );
            return Ok(none);
        }
    };
    let failed = |e: std::io::Error| DbErr::Custom(format!("cannot lock the start: {e}"));
    let held = match directory.try_lock() {
        Ok(()) => directory,
        Err(std::fs::TryLockError::WouldBlock) => {
            waiting();
            tokio::task::spawn_blocking(move || directory.lock().map(|()| directory))
                .await
                .map_err(|e| DbErr::Custom(e.to_string()))?
                .map_err(failed)?
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(failed(e)),
    };
    Ok(StartTurn {
        _release: None,
        _directory: Some(held),
    })
}

async fn postgres_turn(url: &str, waiting: impl FnOnce()) -> Result<StartTurn, DbErr> {
    let failed = |e: sea_orm::sqlx::Error| DbErr::Custom(format!("cannot lock the start: {e}"));
    let mut conn = PgConnection::connect(url).await.map_err(failed)?;
    let free: bool = sea_orm::sqlx::query("SELECT pg_try_advisory_lock(hashtext($1))")
        .bind(LOCK_KEY)
        .fetch_one(&mut conn)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(failed)?;
    if !free {
        waiting();
        // A statement running, not an idle session: no idle timeout ends the wait.
        sea_orm::sqlx::query("SELECT pg_advisory_lock(hashtext($1))")
            .bind(LOCK_KEY)
            .execute(&mut conn)
            .await
            .map_err(failed)?;
    }
    let (release, mut released) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut released => break,
                _ = tokio::time::sleep(KEEP_BUSY) => {
                    if let Err(e) = sea_orm::sqlx::query("SELECT 1").execute(&mut conn).await {
                        tracing::warn!(
                            "the start's lock was lost ({e}): another start may migrate at the same time"
                        );
                        return;
                    }
                }
            }
        }
        // The session's end lets the lock go.
        let _ = conn.close().await;
    });
    Ok(StartTurn {
        _release: Some(release),
        _directory: None,
    })
}
