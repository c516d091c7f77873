//! One start's turn at what a start does once: migrate, and seed a new demo site. Servers
//! started together on one database (several app servers after an upgrade, or replicas on a new
//! database) would otherwise each read the migrations still to apply and apply them together:
//! every one but the first fails ("table already exists") and exits, and two demo seeds both see
//! a database without accounts. Held, the others wait, then find nothing left to do.
//!
//! PostgreSQL: a session advisory lock on a connection of its own, outside the pool, with the
//! session's timeouts off (a `lock_timeout` would end the wait) and kept busy (`KEEP_BUSY`) so
//! that a server which ends idle sessions does not end it while the migrations and the seed run
//! on other connections. SQLite: an exclusive `flock` of a file beside the database (where a
//! link to it leads), `PATH-start-lock`, made readable by its owner only, so that no other
//! account can hold it and stop every start; the database's own write lock cannot be held across
//! the migrations, which take it themselves. Either is let go when the turn is dropped or the
//! process dies.
use std::time::Duration;

use sea_orm::sqlx::{Connection, PgConnection, Row};
use sea_orm::{DatabaseConnection, DbBackend, DbErr};

pub struct StartTurn {
    /// PostgreSQL: dropped, it tells the task that holds the lock's connection to close it.
    _release: Option<tokio::sync::oneshot::Sender<()>>,
    /// SQLite: the lock file, locked.
    _file: Option<std::fs::File>,
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
        _file: None,
    };
    if db.get_database_backend() == DbBackend::Postgres {
        return postgres_turn(url, waiting).await;
    }
    let Some(path) = crate::sqlite_file::path(url) else {
        // An in-memory database is this process's alone.
        return Ok(none);
    };
    // The database file exists by now (`connect` made it): a link is followed, so that its
    // names take one turn.
    let mut name = std::fs::canonicalize(&path)
        .unwrap_or(path)
        .into_os_string();
    name.push("-start-lock");
    let file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&name)
    }
    // Made by a command run as root, say, and left readable: a lock needs no more.
    .or_else(|_| std::fs::File::open(&name));
    let file = match file {
        Ok(file) => file,
        Err(e) => {
            tracing::warn!(
                "cannot open {} ({e}): starting without waiting for other starts; remove it, or make it readable by this account",
                name.to_string_lossy()
            );
            return Ok(none);
        }
    };
    let failed = |e: std::io::Error| DbErr::Custom(format!("cannot lock the start: {e}"));
    let held = match file.try_lock() {
        Ok(()) => file,
        Err(std::fs::TryLockError::WouldBlock) => {
            waiting();
            tokio::task::spawn_blocking(move || file.lock().map(|()| file))
                .await
                .map_err(|e| DbErr::Custom(e.to_string()))?
                .map_err(failed)?
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(failed(e)),
    };
    Ok(StartTurn {
        _release: None,
        _file: Some(held),
    })
}

async fn postgres_turn(url: &str, waiting: impl FnOnce()) -> Result<StartTurn, DbErr> {
    let failed = |e: sea_orm::sqlx::Error| DbErr::Custom(format!("cannot lock the start: {e}"));
    let mut conn = PgConnection::connect(url).await.map_err(failed)?;
    // This session's own: a wait as long as the migrations take, and a lock kept while idle.
    sea_orm::sqlx::raw_sql(
        "SET lock_timeout = 0; SET statement_timeout = 0;
         SET idle_in_transaction_session_timeout = 0",
    )
    .execute(&mut conn)
    .await
    .map_err(failed)?;
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
        _file: None,
    })
}
