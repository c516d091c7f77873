//! The version of what visitors' pages show: bumped after every commit that may change a page,
//! read by the page cache (server/src/page_cache.rs) before it answers from memory. A cached
//! page is only served while the version is the one it was stored under, so a write shows at
//! once, and a request that writes nothing (a refused form, a failed log-in, a 404) leaves the
//! cache alone.
//!
//! Where it lives decides who sees a bump:
//! - SQLite: one serving process per database, so a counter in this process is the version.
//! - PostgreSQL: several servers share the database, so the version is the `page_version`
//!   sequence. A writer bumps it after its commit and before its response leaves; a server
//!   reads it before answering from its cache (see `PageCache`, which shares one read among
//!   the requests waiting at the same time). A request that arrives after a write's response
//!   then reads a version at least the write's, whichever server wrote.
//!
//! Bumped after the commit, never inside the transaction: a bump that other servers could see
//! before the rows they render would let a render of the old rows be stored under the new
//! version, and served until the next write.
use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

/// This process's version, for SQLite. Shared by every database the process opens: a second
/// one (tests) only empties the cache more often.
static LOCAL: AtomicU64 = AtomicU64::new(0);

/// Says that a commit may have changed what visitors see. Called once the write is durable and
/// before the response: by `WriteTransaction::commit` and by the few writes made outside one.
/// A failure to bump is logged, not returned: the write happened, and a page cached elsewhere
/// is then stale for at most the cache's TTL.
pub async fn changed(db: &DatabaseConnection) {
    LOCAL.fetch_add(1, Ordering::SeqCst);
    if db.get_database_backend() == DbBackend::Postgres {
        let bump = Statement::from_string(DbBackend::Postgres, "SELECT nextval('page_version')");
        if let Err(e) = db.execute_raw(bump).await {
            tracing::error!(error = %e, "bumping the page version after a write");
        }
    }
}

/// Says, inside a transaction or outside one, that this process must not trust what it kept:
/// for writes of settings, whose readers keep them (server::memo). Never enough alone: a
/// reader between this and the commit keeps the old value under the new version, so the
/// commit's own `changed` must follow (WriteTransaction::commit does).
pub fn changed_here() {
    LOCAL.fetch_add(1, Ordering::SeqCst);
}

/// The current version. On PostgreSQL one small query (a sequence's last value: no table, no
/// lock); on SQLite a counter.
pub async fn current(db: &DatabaseConnection) -> Result<u64, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(LOCAL.load(Ordering::SeqCst));
    }
    // A new sequence's first `nextval` leaves `last_value` as it was and sets `is_called`.
    let read = Statement::from_string(
        DbBackend::Postgres,
        "SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END FROM page_version",
    );
    let row = db
        .query_one_raw(read)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("page_version".into()))?;
    Ok(row.try_get_by_index::<i64>(0)? as u64)
}

/// Whether every check needs the database (several servers may write) or this process's
/// counter is the whole truth.
pub fn shared(db: &DatabaseConnection) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}
