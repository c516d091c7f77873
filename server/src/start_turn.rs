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
//! link to it leads), `PATH-start-lock`: made readable by its owner only, opened without
//! following a link, and used only when it is this account's, root's or the database owner's,
//! so that no other account can hold it and stop every start. (The database's own write lock
//! cannot be held across the migrations, which take it themselves.) Either is let go when the
//! turn is dropped or the process dies.
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
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    let mut name = path.clone().into_os_string();
    name.push("-start-lock");
    let file = {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        // Not through a link: in a directory others may write to, one could point the name at
        // a file of theirs to lock, or at a path for this account to create.
        let mut open = std::fs::OpenOptions::new();
        open.custom_flags(libc::O_NOFOLLOW);
        match open
            .clone()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&name)
        {
            Ok(file) => {
                // Made readable by others by an older build: this account's again. (Fails,
                // harmlessly, on a file of another account's.)
                let _ = file.set_permissions(std::fs::Permissions::from_mode(0o600));
                Ok(file)
            }
            // Made by a command run as root, say, and left readable: a lock needs no more.
            Err(_) => open.read(true).open(&name),
        }
    }
    .and_then(|file| trusted(&file, &path).map(|()| file));
    let file = match file {
        Ok(file) => file,
        Err(e) => {
            tracing::warn!(
                "cannot use {} ({e}): starting without waiting for other starts; remove it, or make it readable by this account",
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

/// A lock file is this account's, root's or the database file's owner's: one that another
/// account made (in a directory anyone may write to) could be held by it to stop every start.
fn trusted(file: &std::fs::File, database: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let owner = file.metadata()?.uid();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let database_owner = std::fs::metadata(database).map(|m| m.uid()).ok();
    if owner == 0 || owner == me || Some(owner) == database_owner {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "it belongs to another account ({owner})"
        )))
    }
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
    // PostgreSQL 14 and later end idle sessions when told to; older ones have no such setting.
    let _ = sea_orm::sqlx::query("SET idle_session_timeout = 0")
        .execute(&mut conn)
        .await;
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

#[cfg(test)]
mod tests {
    use super::start_turn;

    /// A lock file another account made, or a link in its place, is not used: the start does
    /// not wait on it, and creates nothing where a link points. (Needs root to give a file to
    /// another account; skipped otherwise.)
    #[tokio::test]
    async fn a_lock_file_of_another_account_or_a_link_holds_no_start_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("backyard-turn-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let dir = std::fs::canonicalize(&dir).unwrap();
        let url = |name: &str| format!("sqlite://{}?mode=rwc", dir.join(name).display());

        let db = app::server::db::connect(&url("taken.db")).await.unwrap();
        let lock = dir.join("taken.db-start-lock");
        std::fs::write(&lock, b"").unwrap();
        std::fs::set_permissions(&lock, std::fs::Permissions::from_mode(0o644)).unwrap();
        if std::os::unix::fs::chown(&lock, Some(65534), Some(65534)).is_err() {
            eprintln!("skipping: not root");
            return;
        }
        // Held by "the other account" (this test, on its file).
        let held = std::fs::File::open(&lock).unwrap();
        held.lock().unwrap();
        let turn = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            start_turn(&db, &url("taken.db"), || {}),
        )
        .await
        .expect("not held back by another account's lock file");
        assert!(turn.unwrap()._file.is_none());

        let db = app::server::db::connect(&url("linked.db")).await.unwrap();
        let target = dir.join("somewhere-else");
        std::os::unix::fs::symlink(&target, dir.join("linked.db-start-lock")).unwrap();
        let turn = start_turn(&db, &url("linked.db"), || {}).await.unwrap();
        assert!(turn._file.is_none());
        assert!(!target.exists(), "nothing made where the link points");

        // A file of this account's, made readable by others before: its own again, and used.
        let db = app::server::db::connect(&url("mine.db")).await.unwrap();
        let mine = dir.join("mine.db-start-lock");
        std::fs::write(&mine, b"").unwrap();
        std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o644)).unwrap();
        let turn = start_turn(&db, &url("mine.db"), || {}).await.unwrap();
        assert!(turn._file.is_some());
        let mode = std::fs::metadata(&mine).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        drop(held);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
