//! What a database error means to the code that met it.
use sea_orm::DbErr;

/// Whether an error is the database's trouble of the moment, not the statement's: no connection
/// (refused, dropped, killed by an administrator, the pool timed out), SQLite busy or locked
/// past the busy timeout, out of disk or memory, or a PostgreSQL deadlock or serialization
/// failure. The same work may well succeed when tried again. Everything else (a constraint, a
/// value refused, a statement the database rejects) fails again the same way.
pub fn is_transient(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error};
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx.as_ref() {
        Error::Io(_)
        | Error::Tls(_)
        | Error::Protocol(_)
        | Error::PoolTimedOut
        | Error::PoolClosed
        | Error::WorkerCrashed
        | Error::BeginFailed => true,
        Error::Database(e) => {
            let code = e.code().unwrap_or_default();
            if let Some(sqlite) = sqlite_primary_code(e.as_ref()) {
                // BUSY, LOCKED, NOMEM, IOERR, FULL, CANTOPEN.
                matches!(sqlite, 5 | 6 | 7 | 10 | 13 | 14)
            } else {
                // A PostgreSQL SQLSTATE: a connection exception (class 08), a transaction
                // rolled back for a deadlock or serialization (40), too many connections
                // (53300), a terminated backend, a shutdown or a server not yet taking
                // connections (57P01 to 57P03). Not a statement cancelled by
                // statement_timeout (57014) or a resource limit (53xxx): the same work runs
                // into them again, every time, and must not stop the work behind it.
                code.starts_with("08")
                    || code.starts_with("40")
                    || matches!(code.as_ref(), "53300" | "57P01" | "57P02" | "57P03")
            }
        }
        _ => false,
    }
}

/// Whether `err` is SQLite's "database is busy" or "locked": another connection or process holds
/// the file for the moment. Not a file that cannot be opened, which no wait mends.
pub fn is_sqlite_busy(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error};
    let (DbErr::Conn(RuntimeErr::SqlxError(e))
    | DbErr::Exec(RuntimeErr::SqlxError(e))
    | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    let Error::Database(e) = e.as_ref() else {
        return false;
    };
    matches!(sqlite_primary_code(e.as_ref()), Some(5 | 6))
}

/// A migration's error as a start tells it. A migration to apply writes: a file another
/// program keeps locked for writing through the busy wait (one long hold, or writes back to
/// back) is told as such, not as a bare "database is locked".
pub(super) fn held_while_migrating(err: DbErr) -> DbErr {
    if is_sqlite_busy(&err) {
        DbErr::Custom(format!(
            "SQLite could not migrate the database: another process kept it locked for writing \
             through the wait ({err})"
        ))
    } else {
        err
    }
}

/// Whether `err` is the pool's time-out: no connection could be had (or opened) in time.
pub fn is_pool_timeout(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, error::ConnAcquireErr, sqlx::Error};
    match err {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => true,
        DbErr::Conn(RuntimeErr::SqlxError(e)) => matches!(e.as_ref(), Error::PoolTimedOut),
        _ => false,
    }
}

/// SQLite's primary result code of a database error (the low byte of its extended code), or
/// `None` for another database's error.
fn sqlite_primary_code(e: &dyn sea_orm::sqlx::error::DatabaseError) -> Option<i32> {
    e.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()?;
    e.code()?.parse::<i32>().ok().map(|c| c & 0xff)
}

/// True when `err` is a unique-constraint violation (a race lost to another writer).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
