//! What each new SQLite connection of the pool is readied with, and whether one given back may
//! be lent again (see `db::connect`).

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
