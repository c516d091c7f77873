//! `backyard backup PATH` and `backyard restore PATH` for the SQLite database. PostgreSQL has
//! its own tools (pg_dump / pg_restore; see the README).
use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, DatabaseConnection};

/// The file behind a `sqlite://…` URL, or why there is none.
pub fn sqlite_file(database_url: &str) -> Result<PathBuf, String> {
    if database_url.starts_with("postgres") {
        return Err(
            "backup and restore are for the SQLite database; for PostgreSQL use pg_dump and pg_restore (see the README)".into(),
        );
    }
    if !database_url.starts_with("sqlite:") {
        return Err(format!(
            "DATABASE_URL={database_url} is not a sqlite:// URL"
        ));
    }
    let path = crate::sqlite_file::path(database_url)
        .ok_or_else(|| "an in-memory database has nothing to back up".to_string())?;
    Ok(linked_file(path))
}

/// The file a link names, which a restore replaces (not the link), even when the file is gone
/// (a restore after it was lost); any other path as it is. Links are followed as far as the
/// system follows them (40).
fn linked_file(mut path: PathBuf) -> PathBuf {
    for _ in 0..40 {
        if let Ok(file) = std::fs::canonicalize(&path) {
            return file;
        }
        let Ok(target) = std::fs::read_link(&path) else {
            break;
        };
        path = path.parent().unwrap_or(Path::new(".")).join(target);
    }
    path
}

/// Writes a consistent copy of the live database to `target` with VACUUM INTO: one read
/// transaction, so the site keeps serving (readers and the writer go on under WAL) and the copy
/// is the database as of one moment, compacted, with no WAL file beside it.
pub async fn backup(db: &DatabaseConnection, target: &Path) -> Result<u64, String> {
    if target.exists() {
        return Err(format!(
            "{} already exists; choose a new file name",
            target.display()
        ));
    }
    let quoted = target.to_string_lossy().replace('\'', "''");
    db.execute_unprepared(&format!("VACUUM INTO '{quoted}'"))
        .await
        .map_err(|e| format!("backup failed: {e}"))?;
    Ok(std::fs::metadata(target).map(|m| m.len()).unwrap_or(0))
}

/// Replaces the database file with a backup. The server must be stopped. The backup is checked
/// first (it opens, passes PRAGMA integrity_check, and is a Backyard database), then copied
/// beside the database and renamed over it, so a failure part-way leaves the old file whole.
pub async fn restore(backup: &Path, database: &Path) -> Result<(), String> {
    if !backup.is_file() {
        return Err(format!("{} is not a file", backup.display()));
    }
    check(backup).await?;
    let staging = database.with_extension("restoring");
    std::fs::copy(backup, &staging).map_err(|e| format!("copying the backup: {e}"))?;
    std::fs::File::open(&staging)
        .and_then(|f| f.sync_all())
        .map_err(|e| format!("syncing the copy: {e}"))?;
    // The old database's write-ahead log belongs to the old file: it must not be replayed
    // onto the restored one.
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", database.display()));
        if side.exists() {
            std::fs::remove_file(&side).map_err(|e| format!("removing {}: {e}", side.display()))?;
        }
    }
    std::fs::rename(&staging, database).map_err(|e| format!("replacing the database: {e}"))?;
    Ok(())
}

async fn check(file: &Path) -> Result<(), String> {
    let url = format!("sqlite://{}?mode=ro", file.display());
    let db = sea_orm::Database::connect(url)
        .await
        .map_err(|e| format!("{} does not open as a SQLite database: {e}", file.display()))?;
    let one = |sql: &'static str| {
        let db = db.clone();
        async move {
            db.query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                sql,
            ))
            .await
            .ok()
            .flatten()
            .and_then(|row| row.try_get_by_index::<String>(0).ok())
        }
    };
    if one("PRAGMA integrity_check").await.as_deref() != Some("ok") {
        return Err(format!(
            "{} is damaged (integrity check failed)",
            file.display()
        ));
    }
    if one("SELECT name FROM sqlite_master WHERE name = 'users'")
        .await
        .is_none()
    {
        return Err(format!("{} is not a Backyard database", file.display()));
    }
    let _ = db.close().await;
    Ok(())
}

#[cfg(test)]
mod link_tests {
    use super::linked_file;

    /// A restore through a link replaces the file it names, also when that file is gone (the
    /// restore after it was lost), and a plain path stays as it is.
    #[test]
    fn a_link_is_followed_to_its_file_even_when_the_file_is_gone() {
        let dir = std::env::temp_dir().join(format!("backyard-links-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("volume")).unwrap();
        let dir = std::fs::canonicalize(&dir).unwrap();
        let file = dir.join("volume").join("site.db");
        std::os::unix::fs::symlink("volume/site.db", dir.join("link.db")).unwrap();
        assert_eq!(linked_file(dir.join("link.db")), file, "dangling");
        std::fs::write(&file, b"").unwrap();
        assert_eq!(linked_file(dir.join("link.db")), file);
        assert_eq!(linked_file(dir.join("plain.db")), dir.join("plain.db"));
        std::os::unix::fs::symlink("loop.db", dir.join("loop.db")).unwrap();
        assert_eq!(linked_file(dir.join("loop.db")), dir.join("loop.db"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
