//! The file a SQLite `DATABASE_URL` names, for what works on the file beside SQLite: the
//! start's turn (`start_turn`), backup and restore (`backup`).
use std::path::PathBuf;
use std::str::FromStr;

use sea_orm::sqlx::sqlite::SqliteConnectOptions;

/// The file of a SQLite database URL (`sqlite://PATH?...` or `sqlite:PATH`), read as sqlx reads
/// it (percent-decoded), or None for an in-memory database or another engine's URL.
pub fn path(url: &str) -> Option<PathBuf> {
    if !url.starts_with("sqlite:") || url.contains("mode=memory") || url.contains(":memory:") {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    let path = options.get_filename();
    (!path.as_os_str().is_empty()).then(|| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::path;

    /// The file a SQLite URL names, as sqlx opens it: percent-decoded, with or without `//`;
    /// none for memory or PostgreSQL.
    #[test]
    fn a_sqlite_url_names_its_file_as_sqlx_reads_it() {
        let file = |url: &str| path(url).map(|p| p.display().to_string());
        assert_eq!(
            file("sqlite:///var/lib/b.db?mode=rwc").as_deref(),
            Some("/var/lib/b.db")
        );
        assert_eq!(file("sqlite://rel.db").as_deref(), Some("rel.db"));
        assert_eq!(file("sqlite:rel.db").as_deref(), Some("rel.db"));
        assert_eq!(
            file("sqlite:///a%20dir/%61b.db").as_deref(),
            Some("/a dir/ab.db")
        );
        assert_eq!(
            file("sqlite:///q%3Fx.db?mode=rwc").as_deref(),
            Some("/q?x.db")
        );
        for none in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite:///x.db?mode=memory",
            "sqlite:",
            "postgres://postgres@127.0.0.1/b",
        ] {
            assert_eq!(file(none), None, "{none}");
        }
    }
}
