//! Connecting, migrating, and the one way to start a write transaction.
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

/// Opens the database. SQLite gets WAL (readers never block the writer), synchronous=FULL (an
/// answered write is on disk), foreign keys, and a busy timeout so writers queue, not fail.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_string());
    // A request that cannot get a connection within 10 s fails instead of hanging.
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        // Every connection to an in-memory database is a different database: keep one.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        opts.max_connections(if in_memory { 1 } else { 8 })
            .min_connections(1);
        opts.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .create_if_missing(true)
        });
        opts.map_sqlx_sqlite_pool_opts(|pool| {
            pool.after_connect(|conn, _| Box::pin(async move { stable_plans(conn).await }))
        });
    } else {
        opts.max_connections(16).min_connections(1);
    }
    Database::connect(opts).await
}

/// Turns on SQLite's query planner stability guarantee for a new connection. Without it SQLite
/// plans around the values bound to some placeholders, above all `LIMIT ?` (every `.one()` and
/// page), and marks such a statement to be planned again whenever a new value is bound: every
/// execution of a cached statement was compiled afresh, 18 times per member's topic page, 16% of
/// its instructions in a profile. Stable plans are planned once per connection.
async fn stable_plans(
    conn: &mut sea_orm::sqlx::SqliteConnection,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
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

/// A raw statement written once for both backends with PostgreSQL's `$N` placeholders (SQLite's
/// `?N` numbers them the same way).
pub fn numbered(backend: DbBackend, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    let sql = if backend == DbBackend::Sqlite {
        sql.replace('$', "?")
    } else {
        sql.to_string()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `$first, $first+1, ...` for `n` values, for a statement given to `numbered`.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Applies every migration not yet applied. Runs on every start.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Begins a write transaction. On SQLite it takes the write lock up front (BEGIN IMMEDIATE), so
/// two writers queue instead of one failing when it upgrades a read lock; and within this
/// process they queue on an async lock first (`WRITERS`), each woken the moment the one before
/// commits. Left to SQLite's busy handler, waiting writers sleep and poll (1, 2, 5 ... 100 ms),
/// and 32 at once spend most of their time asleep: votes ran at 420 a second with a p99 of
/// 0.8 s that way. The busy timeout still orders writers of other processes (a command run
/// beside the server).
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTransaction, DbErr> {
    let turn = writer_turn(db).await;
    begin_write_in_turn(db, turn).await
}

/// This process's turn to write on SQLite (see `begin_write`); none is needed on PostgreSQL.
/// Waiting for it can be given up (the future dropped) without harm.
pub async fn writer_turn(db: &DatabaseConnection) -> Option<WriterTurn> {
    if db.get_database_backend() == DbBackend::Sqlite {
        let _waiting = WaitingWriter::count();
        Some(WriterTurn(WRITERS.clone().lock_owned().await))
    } else {
        None
    }
}

/// `begin_write` for a caller that already holds the turn (from `writer_turn`).
pub async fn begin_write_in_turn(
    db: &DatabaseConnection,
    turn: Option<WriterTurn>,
) -> Result<WriteTransaction, DbErr> {
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    Ok(WriteTransaction {
        txn,
        _turn: turn,
        db: db.clone(),
        private: false,
    })
}

/// `begin_write` for a write that changes nothing a visitor's page shows (a log-in failure, a
/// reset token, a preference): its commit leaves the page caches alone, so a flood of failed
/// log-ins does not empty them.
pub async fn begin_private_write(db: &DatabaseConnection) -> Result<WriteTransaction, DbErr> {
    let mut txn = begin_write(db).await?;
    txn.private = true;
    Ok(txn)
}

/// This process's SQLite writers, one at a time (see `begin_write`). One lock for every SQLite
/// database the process opens: a server opens one; tests that open several only wait longer.
static WRITERS: std::sync::LazyLock<std::sync::Arc<tokio::sync::Mutex<()>>> =
    std::sync::LazyLock::new(Default::default);

/// How many of this process's SQLite writers are waiting for their turn now (for /metrics):
/// above a handful for long, writes arrive faster than the one writer finishes them.
pub fn writers_waiting() -> usize {
    WRITERS_WAITING.load(std::sync::atomic::Ordering::Relaxed)
}

static WRITERS_WAITING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Counts one writer in `WRITERS_WAITING` until it has its turn or gives up waiting (dropped).
struct WaitingWriter;

impl WaitingWriter {
    fn count() -> WaitingWriter {
        WRITERS_WAITING.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        WaitingWriter
    }
}

impl Drop for WaitingWriter {
    fn drop(&mut self) {
        WRITERS_WAITING.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A write transaction from `begin_write`: used like sea-orm's transaction (`&txn` is a
/// connection; `commit` or drop to roll back), and holding this process's turn to write on
/// SQLite until it ends.
pub struct WriteTransaction {
    txn: DatabaseTransaction,
    _turn: Option<WriterTurn>,
    /// For the page version's bump after the commit.
    db: DatabaseConnection,
    /// Made by `begin_private_write`: the commit changes no page.
    private: bool,
}

/// Holding this process's turn to write on SQLite; the next writer's turn comes when it drops.
pub struct WriterTurn(#[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>);

/// Whether two connections reach the same database: clones of one pool share its options, so
/// the same options mean the same pool (two in-memory databases have the same file name but
/// are different databases).
pub fn same_database(a: &DatabaseConnection, b: &DatabaseConnection) -> bool {
    match (a.get_database_backend(), b.get_database_backend()) {
        (DbBackend::Sqlite, DbBackend::Sqlite) => std::sync::Arc::ptr_eq(
            &a.get_sqlite_connection_pool().connect_options(),
            &b.get_sqlite_connection_pool().connect_options(),
        ),
        _ => false,
    }
}

impl WriteTransaction {
    /// Says that, as it turned out, this transaction wrote nothing a page shows (every request
    /// in it was refused), so its commit leaves the page caches alone.
    pub fn changed_no_page(&mut self) {
        self.private = true;
    }

    /// Commits, then (unless private) bumps the page version before the caller answers, so
    /// every server's page cache stops serving what this write changed (see page_version).
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await?;
        if !self.private {
            crate::server::page_version::changed(&self.db).await;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTransaction {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<sea_orm::ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<sea_orm::ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<sea_orm::QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

/// Makes a count-then-write under `key` (an account's failed log-ins, a member's posts, an
/// address's mail) atomic: concurrent transactions locking the same key run one after another,
/// so each one's count includes what the others wrote. SQLite needs nothing more, since
/// `begin_write` already holds the database's one write lock; PostgreSQL takes a transaction
/// advisory lock on the key's hash (a collision only serialises two unrelated keys). Several
/// keys must be locked in a fixed order (sorted) so two transactions never wait on each other.
pub async fn lock_key(txn: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            [key.into()],
        ))
        .await?;
    }
    Ok(())
}

/// True when `err` is a unique-constraint violation (a race lost to another writer).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Statement};

    /// What makes an answered write durable and concurrent writers safe: WAL, synchronous=FULL
    /// (2), foreign keys, a busy timeout. A SIGKILL test cannot tell FULL from NORMAL (the OS
    /// keeps what a killed process wrote), so the settings themselves are checked here.
    #[tokio::test]
    async fn sqlite_runs_in_wal_mode_with_full_sync() {
        let dir = std::env::temp_dir().join(format!("backyard-pragma-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}/p.db?mode=rwc", dir.display());
        let db = super::connect(&url).await.unwrap();
        let pragma = |name: &'static str| {
            let db = db.clone();
            async move {
                let row = db
                    .query_one_raw(Statement::from_string(
                        db.get_database_backend(),
                        format!("PRAGMA {name}"),
                    ))
                    .await
                    .unwrap()
                    .unwrap();
                row.try_get_by_index::<String>(0)
                    .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                    .unwrap()
            }
        };
        assert_eq!(pragma("journal_mode").await, "wal");
        assert_eq!(pragma("synchronous").await, "2");
        assert_eq!(pragma("foreign_keys").await, "1");
        assert_eq!(pragma("busy_timeout").await, "10000");
        db.close().await.unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }
}
