//! What each new SQLite connection of the pool is readied with, whether one given back may be
//! lent again, and whether a missing file is made (see `db::connect`).

/// Whether opening `url` makes its file when it is missing: unless the URL's own mode says
/// not to. `mode=rwc` makes it; `mode=rw` opens only a file that is there, so a mistyped path
/// fails instead of starting an empty site; `mode=ro` only reads. Without a mode it is made
/// too, as it always was here (sqlx alone would not make it). Read as sqlx reads it: decoded,
/// and every `mode=` applied in turn, so one `rwc` makes the file and one `memory` opens none.
pub(super) fn makes_missing_file(url: &str) -> bool {
    let (_, params) = database_and_params(url);
    let modes: Vec<_> = url::form_urlencoded::parse(params.unwrap_or_default().as_bytes())
        .filter(|(key, _)| key == "mode")
        .map(|(_, mode)| mode)
        .collect();
    modes.is_empty() || modes.iter().any(|mode| mode == "rwc" || mode == "memory")
}

/// What a start says for a URL that opens only an existing file (`makes_missing_file`) whose
/// file is not there; `None` when it is there, is made, or is no file (`:memory:`, or an empty
/// path: SQLite's temporary database). sqlx would say "unable to open database file", which
/// does not say why.
pub(super) fn missing_file(url: &str) -> Option<String> {
    if makes_missing_file(url) || database_and_params(url).0 == ":memory:" {
        return None;
    }
    // sqlx's own reading of the path (percent-decoded); a URL it cannot read fails where it
    // is opened, with sqlx's word.
    let options: sea_orm::sqlx::sqlite::SqliteConnectOptions = url.parse().ok()?;
    let path = options.get_filename();
    (!path.as_os_str().is_empty() && !path.exists()).then(|| {
        format!(
            "the SQLite database {} does not exist (the URL's mode opens only an existing file; \
             mode=rwc makes it)",
            path.display()
        )
    })
}

/// A SQLite URL's database and its parameters, split as sqlx splits them.
fn database_and_params(url: &str) -> (&str, Option<&str>) {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    match rest.split_once('?') {
        Some((database, params)) => (database, Some(params)),
        None => (rest, None),
    }
}

/// Whether a connection given back to the pool may be lent again: not if sqlx still counts it
/// inside a transaction once the rollbacks queued by dropped transactions have run (the ping
/// waits for them). A group of writes whose savepoint could not be ended (see `Settle`) leaves
/// its connection so, and every BEGIN on it would fail; it is closed instead.
pub(super) async fn still_usable(
    conn: &mut sea_orm::sqlx::SqliteConnection,
) -> Result<bool, sea_orm::sqlx::Error> {
    use sea_orm::sqlx::Connection;
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    conn.ping().await?;
    Ok(!conn.is_in_transaction())
}

/// Readies a new SQLite connection: stable query plans, and search's ranking function
/// (`search_rank`).
pub(super) async fn set_up(
    conn: &mut sea_orm::sqlx::SqliteConnection,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    stable_plans(db)?;
    // SAFETY: the connection's open handle, held locked for the call.
    unsafe { crate::server::search_rank::register(db) }.map_err(sea_orm::sqlx::Error::Protocol)
}

/// Turns on SQLite's query planner stability guarantee for a new connection. Without it SQLite
/// plans around the values bound to some placeholders, above all `LIMIT ?` (every `.one()` and
/// page), and marks such a statement to be planned again whenever a new value is bound: every
/// execution of a cached statement was compiled afresh, 18 times per member's topic page, 16% of
/// its instructions in a profile. Stable plans are planned once per connection.
fn stable_plans(db: *mut libsqlite3_sys::sqlite3) -> Result<(), sea_orm::sqlx::Error> {
    // SAFETY: `db` is this connection's open handle, held locked for the call; the option takes
    // an int and a nullable out-pointer (https://sqlite.org/c3ref/c_dbconfig_defensive.html).
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        )
    };
    if rc == libsqlite3_sys::SQLITE_OK {
        Ok(())
    } else {
        Err(sea_orm::sqlx::Error::Protocol(format!(
            "could not turn on stable query plans (SQLite error {rc})"
        )))
    }
}
