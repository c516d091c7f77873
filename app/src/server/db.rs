//! Connecting, migrating, and the one way to start a write transaction.
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};
use tokio::sync::watch;

use super::batch::Batch;

mod errors;
mod sqlite_connection;
mod turn_figures;
use errors::is_pool_timeout;
pub use errors::{is_sqlite_busy, is_transient, is_unique_violation};
use sqlite_connection::{set_up, still_usable};
use turn_figures::WaitingWriter;
pub use turn_figures::{writer_busy_seconds, writers_waiting};

/// The page cache of each SQLite connection (see `connect`); negative means KiB to SQLite.
const SQLITE_CACHE_KIB: &str = "-1024";
/// The SQLite pool's connections (see `connect`).
const SQLITE_CONNECTIONS: u32 = 4;
/// Pages the write-ahead log grows to before the commit that passes it copies them into the
/// database file (SQLite's automatic checkpoint; its default is 1,000). The writers rewrite the
/// same pages (a busy topic's row, the search index's newest segments, the tail of the posts)
/// group after group, and a checkpoint copies each page once however often the log holds it:
/// at 16,000 (64 MiB of 4 KiB pages) a reply writes a tenth fewer bytes and the writers' turn
/// holds fewer checkpoints (docs/benchmarks.md, run 41).
const SQLITE_CHECKPOINT_PAGES: &str = "16000";

/// Opens the database. SQLite gets WAL (readers never block the writer), synchronous=FULL (an
/// answered write is on disk), foreign keys, and a busy timeout so writers queue, not fail.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_within(url, Duration::from_secs(10)).await
}

/// `connect`, with `patience` for a request's wait for a connection, SQLite's busy timeout and
/// the wait for a file another process holds (shorter in tests).
async fn connect_within(url: &str, patience: Duration) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_string());
    // A request that cannot get a connection in time fails instead of hanging.
    opts.sqlx_logging(false)
        .connect_timeout(patience)
        .acquire_timeout(patience);
    if url.starts_with("sqlite:") {
        // Every connection to an in-memory database is a different database: keep one. Else
        // four: SQLite answers in this process, on its connections' threads, so more readers
        // than twice the cores only wait their turn for a core, and each connection keeps its
        // own pages, prepared statements and schema (about 3.4 MB each after the benchmark's
        // pages at a million posts; with eight they were half the heap).
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        opts.max_connections(if in_memory { 1 } else { SQLITE_CONNECTIONS })
            .min_connections(1)
            // sqlx pings a connection before lending it (and again when it comes back, which
            // cannot be turned off). On SQLite a ping is a hand-off to the connection's thread
            // and back, so every statement cost three hand-offs where two do, and a member's
            // topic page spent a third of its CPU switching threads. There is nothing to test:
            // the database is in this process. (PostgreSQL keeps the ping before lending: it
            // replaces connections the server or a proxy dropped, say after a restart.)
            .test_before_acquire(false);
        if let Some(missing) = sqlite_connection::missing_file(url) {
            return Err(DbErr::Custom(missing));
        }
        let makes = sqlite_connection::makes_missing_file(url);
        opts.map_sqlx_sqlite_opts(move |o| {
            let o = if makes { o.create_if_missing(true) } else { o };
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(patience)
                // Each connection's own page cache, 1 MiB instead of SQLite's 2: the operating
                // system keeps the file's pages too, so a miss here is a read from memory,
                // and the connections' caches are a large part of a busy server's memory.
                .pragma("cache_size", SQLITE_CACHE_KIB)
                .pragma("wal_autocheckpoint", SQLITE_CHECKPOINT_PAGES)
        });
        opts.map_sqlx_sqlite_pool_opts(|pool| {
            pool.after_connect(|conn, _| Box::pin(async move { set_up(conn).await }))
                .after_release(|conn, _| Box::pin(async move { still_usable(conn).await }))
        });
    } else {
        opts.max_connections(16).min_connections(1);
        return Database::connect(opts).await;
    }
    // Several processes opening one new SQLite file together (servers started at once, see
    // `start_turn`) may meet "database is locked" while one of them turns the file to WAL: that
    // change takes the file alone and SQLite answers it without waiting for the busy timeout.
    // It is the moment's trouble, not the file's; try again until `patience` has passed since
    // the first try, each try cut short there (a file that cannot be opened at all fails at
    // once).
    let deadline = tokio::time::Instant::now() + patience;
    let mut told = false;
    loop {
        let attempt = tokio::time::timeout_at(deadline, Database::connect(opts.clone()));
        match told_if_slow(attempt, patience / 10, &mut told).await {
            Ok(Err(e)) if is_sqlite_busy(&e) && tokio::time::Instant::now() < deadline => {
                if !told {
                    told = true;
                    tracing::info!(error = %e, "{HELD}; waiting for it");
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            // The wait ran out: in the busy timeout inside sqlx's open (which tells it as its
            // pool's time-out), or here. Say what held the start up.
            Err(_) => return Err(held_past(patience, "the wait ran out")),
            Ok(Err(e)) if is_sqlite_busy(&e) || is_pool_timeout(&e) => {
                return Err(held_past(patience, &e.to_string()));
            }
            Ok(result) => return result,
        }
    }
}

/// What a start waiting for SQLite's file says while it waits.
const HELD: &str = "the SQLite database is held by another process";

/// A start that could not open SQLite's file within `patience`.
fn held_past(patience: Duration, why: &str) -> DbErr {
    DbErr::Custom(format!(
        "SQLite could not open the database within {} s; another process may hold it locked \
         ({why})",
        patience.as_secs_f32()
    ))
}

/// Runs `opening`, saying once (`told`) that it waits when it takes longer than `slow`: SQLite
/// waits out a lock another process holds inside sqlx's open, silently.
async fn told_if_slow<F: std::future::Future>(
    opening: F,
    slow: Duration,
    told: &mut bool,
) -> F::Output {
    tokio::pin!(opening);
    if !*told {
        tokio::select! {
            result = &mut opening => return result,
            () = tokio::time::sleep(slow) => {
                *told = true;
                tracing::info!("{HELD}, or opening it is slow; waiting for it");
            }
        }
    }
    opening.await
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

/// Applies every migration not yet applied. Runs on every start, in its turn
/// (`server::start_turn`).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None)
        .await
        .map_err(errors::held_while_migrating)
}

/// Begins a write transaction. On SQLite it takes the write lock up front (BEGIN IMMEDIATE), so
/// two writers queue instead of one failing when it upgrades a read lock; and within this
/// process they queue on an async lock first (`WRITERS`), each woken the moment the one before
/// is done. Left to SQLite's busy handler, waiting writers sleep and poll (1, 2, 5 ... 100 ms),
/// and 32 at once spend most of their time asleep: votes ran at 420 a second with a p99 of
/// 0.8 s that way. The busy timeout still orders writers of other processes (a command run
/// beside the server).
///
/// On SQLite writers also commit in groups. Each commit is a sync to disk (synchronous=FULL),
/// 1 to 7 ms on a shared disk, and one writer at a time committing alone wrote 150 to 245
/// replies a second with the server mostly idle. So a writer whose turn comes continues the
/// transaction the writer before left open (its group), its own writes in a savepoint of it;
/// and a writer that finishes while others wait for the turn leaves the group open for them
/// instead of committing. The group commits when nobody waits (or at `MOST_IN_GROUP`), one
/// sync for all of it, and only then is each member's `commit` answered: an answered write is
/// as durable as one committed alone. A member that fails undoes only its savepoint. A member
/// sees the writes of the members before it (one connection); other connections see them when
/// the group commits, which is before any of them is answered. Writes made beside the turn
/// (straight on the pool) wait on SQLite's busy handler for the gap between two groups.
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTransaction, DbErr> {
    let turn = if db.get_database_backend() == DbBackend::Sqlite {
        Some(wait_for_turn().await)
    } else {
        None
    };
    begin_write_in_turn(db, turn).await
}

/// This process's turn to write on SQLite (see `begin_write`); none is needed on PostgreSQL.
/// Waiting for it can be given up (the future dropped) without harm. A group left open by the
/// writers before is committed first (and its members answered), so the holder knows that no
/// transaction of this process is open: it may write beside the process's writers, as another
/// process would, without waiting for SQLite's lock.
pub async fn writer_turn(db: &DatabaseConnection) -> Option<WriterTurn> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    loop {
        let mut turn = wait_for_turn().await;
        let Some(group) = turn.0.open.take() else {
            return Some(turn);
        };
        // In a task of its own, so that giving up the wait cannot stop a COMMIT halfway.
        match tokio::spawn(async move {
            group.finish(None).await;
            turn
        })
        .await
        {
            Ok(turn) => return Some(turn),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // The runtime is shutting down; so is this caller.
            Err(_) => continue,
        }
    }
}

/// Waits for the turn, counted in `writers_waiting` meanwhile.
async fn wait_for_turn() -> WriterTurn {
    let _waiting = WaitingWriter::count();
    WriterTurn::new(WRITERS.clone().lock_owned().await)
}

/// `begin_write` for a caller that already holds the turn (from `writer_turn`).
pub async fn begin_write_in_turn(
    db: &DatabaseConnection,
    turn: Option<WriterTurn>,
) -> Result<WriteTransaction, DbErr> {
    let (Some(turn), DbBackend::Sqlite) = (turn, db.get_database_backend()) else {
        let txn = db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        return Ok(WriteTransaction {
            txn: Some(txn),
            group: None,
            opened: AtomicBool::new(false),
            db: db.clone(),
            private: false,
        });
    };
    // A group left open by the writer before, on this database: joined at once, with no
    // statement to run (under load, nearly every writer), so without a task's hop in the turn.
    if turn
        .0
        .open
        .as_ref()
        .is_some_and(|g| same_database(&g.db, db))
    {
        return Ok(member_of_open_group(db.clone(), turn));
    }
    // The group's statements run in a task of their own: a caller dropped meanwhile (its client
    // gone) must not stop a COMMIT or a BEGIN halfway, and a transaction it would have had is
    // dropped in the task, which passes the turn on.
    match tokio::spawn(join_group(db.clone(), turn)).await {
        Ok(joined) => joined,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(DbErr::Custom("the runtime is shutting down".into())),
    }
}

/// Continues the group left open in `turn` (committing it first if it writes another
/// database) or begins one.
async fn join_group(
    db: DatabaseConnection,
    mut turn: WriterTurn,
) -> Result<WriteTransaction, DbErr> {
    if let Some(other) = turn.0.open.take_if(|g| !same_database(&g.db, &db)) {
        other.finish(None).await;
    }
    if turn.0.open.is_none() {
        let txn = db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        turn.0.open = Some(Group {
            db: db.clone(),
            txn,
            members: 0,
            flusher_queued: false,
            outcome: watch::channel(None).0,
        });
    }
    Ok(member_of_open_group(db, turn))
}

/// A writer's place in the group open in `turn`; its savepoint is opened by its first
/// statement (`WriteTransaction::opening`).
fn member_of_open_group(db: DatabaseConnection, turn: WriterTurn) -> WriteTransaction {
    let Some(group) = turn.0.open.as_ref() else {
        unreachable!("called with a group open")
    };
    let joined = Joined {
        outcome: group.outcome.subscribe(),
        before: group.members,
    };
    WriteTransaction {
        txn: None,
        group: Some((turn, joined)),
        opened: AtomicBool::new(false),
        db,
        private: false,
    }
}

/// `begin_write` for a write that changes nothing a visitor's page shows (a log-in failure, a
/// reset token, a preference): its commit leaves the page caches alone, so a flood of failed
/// log-ins does not empty them.
pub async fn begin_private_write(db: &DatabaseConnection) -> Result<WriteTransaction, DbErr> {
    let mut txn = begin_write(db).await?;
    txn.private = true;
    Ok(txn)
}

/// This process's SQLite writers, one at a time (see `begin_write`), and the group transaction
/// the last one left open. One lock for every SQLite database the process opens: a server opens
/// one; tests that open several only wait longer (and a group of one database is committed
/// before a writer of another begins).
static WRITERS: std::sync::LazyLock<std::sync::Arc<tokio::sync::Mutex<Writers>>> =
    std::sync::LazyLock::new(Default::default);

/// What the turn to write holds.
#[derive(Default)]
pub struct Writers {
    /// A group transaction left open for the next writer.
    open: Option<Group>,
}

/// At most this many writers commit together: a member's answer waits for the members after
/// it, so a group is not extended for ever under a steady stream of writers.
const MOST_IN_GROUP: usize = 64;

/// A transaction shared by consecutive writers, each in a savepoint of it (see `begin_write`).
struct Group {
    db: DatabaseConnection,
    txn: DatabaseTransaction,
    /// Writers whose savepoints were released into it.
    members: usize,
    /// A flusher (`flush_later`) was queued for it.
    flusher_queued: bool,
    /// How the group ended (`None` while it is open), for its members.
    outcome: watch::Sender<Option<Result<usize, DbErr>>>,
}

impl Group {
    /// Commits the group, or with `failed` rolls it back, and tells every member. Called with
    /// the turn held, never from a future that can be dropped (a task's own).
    async fn finish(self, failed: Option<DbErr>) {
        let Group {
            txn,
            members,
            outcome,
            ..
        } = self;
        let result = match failed {
            None => txn.commit().await.map(|()| members),
            Some(e) => {
                if let Err(again) = txn.rollback().await {
                    tracing::error!(error = %again, "rolling back a failed group of writes");
                }
                Err(e)
            }
        };
        if let Err(e) = &result {
            tracing::error!(error = %e, members, "a group of writes was not committed");
        }
        outcome.send_replace(Some(result));
    }
}

/// A group member's savepoint (see `begin_write`). Members follow one another, each ending its
/// savepoint before the next begins, so one name serves them all.
const SAVEPOINT: &str = "backyard_writer";

/// Ends a member's savepoint (released on commit, rolled back otherwise) and passes the group
/// on or commits it. If the task never runs (the runtime is shutting down), a savepoint it was
/// to undo is undone with the whole group (see `Drop`).
struct Settle {
    /// `None` once run.
    turn: Option<WriterTurn>,
    release: bool,
    /// The member sent a statement, and with it its savepoint.
    opened: bool,
    /// With `release`: the member's last writes (`WriteTransaction::commit_with`), sent with
    /// its release in one round trip.
    last: Batch,
    /// Told whether `last` was written, when there is any: if not, the member alone is undone
    /// (its savepoint rolled back) and the group goes on without it.
    written: Option<tokio::sync::oneshot::Sender<Result<(), DbErr>>>,
}

impl Settle {
    async fn run(mut self) {
        let Some(mut turn) = self.turn.take() else {
            return;
        };
        let mut release = self.release;
        let last = std::mem::take(&mut self.last);
        let opened = self.opened || (release && !last.is_empty());
        let ended = match (turn.0.open.as_ref(), opened, release) {
            (Some(group), true, true) if !last.is_empty() => {
                let mut text = Batch::default();
                if !self.opened {
                    text.push(Statement::from_string(
                        DbBackend::Sqlite,
                        format!("SAVEPOINT {SAVEPOINT}"),
                    ));
                }
                text.append(last);
                text.push(Statement::from_string(
                    DbBackend::Sqlite,
                    format!("RELEASE {SAVEPOINT}"),
                ));
                match text.run(&group.txn).await {
                    Ok(()) => {
                        self.tell_written(Ok(()));
                        Ok(())
                    }
                    // A write failed (or the release): this member's savepoint is undone, the
                    // members before it keep theirs, and it is told.
                    Err(e) => {
                        release = false;
                        self.tell_written(Err(e));
                        group
                            .txn
                            .execute_unprepared(&format!(
                                "ROLLBACK TO {SAVEPOINT}; RELEASE {SAVEPOINT}"
                            ))
                            .await
                            .map(drop)
                    }
                }
            }
            (Some(group), true, true) => group
                .txn
                .execute_unprepared(&format!("RELEASE {SAVEPOINT}"))
                .await
                .map(drop),
            // No savepoint to undo (SQLite rolled the whole transaction back after an error, or
            // the first statement never reached it) fails the group, as every failure to end a
            // savepoint does: what it holds is not known.
            (Some(group), true, false) => group
                .txn
                .execute_unprepared(&format!("ROLLBACK TO {SAVEPOINT}; RELEASE {SAVEPOINT}"))
                .await
                .map(drop),
            _ => Ok(()),
        };
        match ended {
            Ok(()) => {
                if let Some(group) = turn.0.open.as_mut() {
                    group.members += usize::from(release);
                }
            }
            Err(e) => {
                // What the group holds is not known any more (SQLite may have rolled all of it
                // back): none of it is committed, and every member is told.
                tracing::error!(error = %e, release, "ending a writer's savepoint");
                if let Some(group) = turn.0.open.take() {
                    group.finish(Some(e)).await;
                }
                return;
            }
        }
        pass_on(turn).await;
    }

    /// Tells the member whether its last writes were written (once; a member waits for its
    /// group only after that).
    fn tell_written(&mut self, written: Result<(), DbErr>) {
        if let Some(tell) = self.written.take() {
            // Not waiting any more (its request gone): nobody to tell.
            let _ = tell.send(written);
        }
    }
}

impl Drop for Settle {
    fn drop(&mut self) {
        if let Some(mut turn) = self.turn.take()
            && self.opened
            && (!self.release || !self.last.is_empty())
        {
            // Never run: the group's transaction is rolled back as it drops (sea-orm queues the
            // rollback on its connection), and its members are told it ended without a commit.
            // A member released without its last writes would be committed half-written.
            drop(turn.0.open.take());
        }
    }
}

/// With writers waiting for the turn, leaves the group open for them (and queues a flusher, in
/// case they all give up waiting); otherwise commits it.
async fn pass_on(mut turn: WriterTurn) {
    let Some(group) = turn.0.open.as_mut() else {
        return;
    };
    // An in-memory database has one connection, which an open group would keep from readers.
    let shares = group
        .db
        .get_sqlite_connection_pool()
        .options()
        .get_max_connections()
        > 1;
    if shares && writers_waiting() > 0 && group.members < MOST_IN_GROUP {
        if !group.flusher_queued {
            group.flusher_queued = true;
            tokio::spawn(flush_later());
        }
        drop(turn);
    } else if let Some(group) = turn.0.open.take() {
        group.finish(None).await;
    }
}

/// Takes the turn after the writers waiting now (tokio's lock is first come, first served) and
/// commits any group still open then: a group left open for writers who then gave up waiting
/// (their requests dropped) is committed all the same, and its members answered.
async fn flush_later() {
    let mut turn = WriterTurn::new(WRITERS.clone().lock_owned().await);
    if let Some(group) = turn.0.open.take() {
        group.finish(None).await;
    }
}

/// A write transaction from `begin_write`: used like sea-orm's transaction (`&txn` is a
/// connection; `commit` or drop to roll back), and holding this process's turn to write on
/// SQLite until it ends.
pub struct WriteTransaction {
    /// This writer's own transaction on PostgreSQL; `None` once ended, and on SQLite, where the
    /// writer writes in its group's (`group`).
    txn: Option<DatabaseTransaction>,
    /// On SQLite: the turn, which holds the group, and this writer's place in the group; `None`
    /// once ended.
    group: Option<(WriterTurn, Joined)>,
    /// On SQLite: this writer's savepoint was sent, with its first statement. A round trip to
    /// SQLite's thread of its own was one of a reply's nine inside the writers' turn.
    opened: AtomicBool,
    /// For the page version's bump after the commit.
    db: DatabaseConnection,
    /// Made by `begin_private_write`: the commit changes no page.
    private: bool,
}

/// A member's view of its group.
struct Joined {
    outcome: watch::Receiver<Option<Result<usize, DbErr>>>,
    /// Members released into the group before this one joined (read by tests).
    #[cfg_attr(not(test), allow(dead_code))]
    before: usize,
}

/// Holding this process's turn to write on SQLite; the next writer's turn comes when it drops.
/// The time it was held is added to `writer_busy_seconds` then.
pub struct WriterTurn(tokio::sync::OwnedMutexGuard<Writers>, std::time::Instant);

impl WriterTurn {
    fn new(held: tokio::sync::OwnedMutexGuard<Writers>) -> WriterTurn {
        WriterTurn(held, turn_figures::taken())
    }
}

impl Drop for WriterTurn {
    fn drop(&mut self) {
        turn_figures::ended(self.1);
    }
}

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
    /// On SQLite it returns once the group this write joined has committed (see `begin_write`).
    pub async fn commit(mut self) -> Result<(), DbErr> {
        self.commit_in_group(Batch::default()).await.map(|_| ())
    }

    /// `commit`, with `last` written first: writes nothing reads, which on SQLite go in one
    /// round trip with the end of this writer's savepoint instead of one of their own inside
    /// the writers' turn. If one fails, nothing of this writer's is committed.
    pub async fn commit_with(mut self, last: Batch) -> Result<(), DbErr> {
        self.commit_in_group(last).await.map(|_| ())
    }

    /// `commit_with`, saying how many writers committed in this one's group.
    async fn commit_in_group(&mut self, last: Batch) -> Result<usize, DbErr> {
        let committed = match (self.group.take(), self.txn.take()) {
            (Some((turn, mut joined)), _) => {
                let (tell, written) = if last.is_empty() {
                    (None, None)
                } else {
                    let (tell, written) = tokio::sync::oneshot::channel();
                    (Some(tell), Some(written))
                };
                // Released, passed on or committed by a task: not stopped halfway if this
                // caller is dropped while it waits for the group.
                tokio::spawn(
                    Settle {
                        turn: Some(turn),
                        release: true,
                        opened: self.opened.load(Ordering::Relaxed),
                        last,
                        written: tell,
                    }
                    .run(),
                );
                if let Some(written) = written {
                    match written.await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => return Err(e),
                        Err(_) => {
                            return Err(DbErr::Custom(
                                "the group of writes ended without a commit".into(),
                            ));
                        }
                    }
                }
                match joined.outcome.wait_for(Option::is_some).await {
                    Ok(outcome) => outcome.clone().unwrap_or_else(|| unreachable!()),
                    Err(_) => Err(DbErr::Custom(
                        "the group of writes ended without a commit".into(),
                    )),
                }
            }
            (None, Some(txn)) => {
                if let Err(e) = last.run(&txn).await {
                    // Rolled back as it drops.
                    return Err(e);
                }
                txn.commit().await.map(|()| 1)
            }
            (None, None) => {
                return Err(DbErr::Custom("the write transaction had ended".into()));
            }
        };
        let members = committed?;
        if !self.private {
            crate::server::page_version::changed(&self.db).await;
        }
        Ok(members)
    }

    /// Members released into this writer's group before it joined (0: it began the group).
    #[cfg(test)]
    fn joined_after(&self) -> usize {
        self.group.as_ref().map_or(0, |(_, joined)| joined.before)
    }

    /// The transaction this writer's statements go to: its own, or its group's.
    fn conn(&self) -> &DatabaseTransaction {
        match (&self.txn, &self.group) {
            (Some(txn), _) => txn,
            (None, Some((turn, _))) => match turn.0.open.as_ref() {
                Some(group) => &group.txn,
                None => unreachable!("a member's group stays open until the member ends"),
            },
            (None, None) => unreachable!("used only before commit"),
        }
    }

    /// Whether this statement is the writer's first in its group, which opens its savepoint.
    fn opening(&self) -> bool {
        self.group.is_some() && !self.opened.swap(true, Ordering::Relaxed)
    }

    /// Opens the savepoint before a statement whose count of changed rows is read: sent with
    /// it, the savepoint's own count (SQLite's of the last change before it) would be added.
    async fn open_alone(&self) -> Result<(), DbErr> {
        if self.opening() {
            self.conn()
                .execute_unprepared(&format!("SAVEPOINT {SAVEPOINT}"))
                .await?;
        }
        Ok(())
    }

    /// A read, with the savepoint before it in the same round trip if it is the first.
    fn opened_with(&self, mut stmt: Statement) -> Statement {
        if self.opening() {
            stmt.sql = format!("SAVEPOINT {SAVEPOINT};\n{}", stmt.sql);
        }
        stmt
    }
}

/// Dropped without `commit` (an error, a panic, a request gone): only this writer's writes are
/// undone, the members before it in its group keep theirs, and the turn passes on.
impl Drop for WriteTransaction {
    fn drop(&mut self) {
        let Some((turn, _)) = self.group.take() else {
            // PostgreSQL, or after `commit`: sea-orm rolls back a transaction dropped open.
            return;
        };
        let settle = Settle {
            turn: Some(turn),
            release: false,
            opened: *self.opened.get_mut(),
            last: Batch::default(),
            written: None,
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(settle.run());
            }
            // Outside a runtime (never in the server): see `Settle`'s `Drop`.
            Err(_) => drop(settle),
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTransaction {
    fn get_database_backend(&self) -> DbBackend {
        self.conn().get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<sea_orm::ExecResult, DbErr> {
        self.open_alone().await?;
        self.conn().execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<sea_orm::ExecResult, DbErr> {
        self.open_alone().await?;
        self.conn().execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<sea_orm::QueryResult>, DbErr> {
        self.conn().query_one_raw(self.opened_with(stmt)).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
        self.conn().query_all_raw(self.opened_with(stmt)).await
    }

    fn support_returning(&self) -> bool {
        self.conn().support_returning()
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
        assert_eq!(pragma("wal_autocheckpoint").await, "16000");
        db.close().await.unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A site stopped in the middle of a migration (a brand-new database is still migrating in
    /// its first tenth of a second) starts again: each migration is applied whole or not at
    /// all. Cut after each migration's statements, before its record, the database holds only
    /// the migrations before it, and the next start applies the rest.
    #[tokio::test]
    async fn a_migration_cut_short_leaves_nothing_and_the_next_start_applies_it() {
        use migrations::{MigrationName, MigrationTrait, Migrator, MigratorTrait, SchemaManager};
        use std::sync::atomic::{AtomicUsize, Ordering};

        /// How many migrations run before the one that is cut.
        static BEFORE: AtomicUsize = AtomicUsize::new(0);
        /// The migrations up to the one cut, which runs its statements and then fails as a
        /// stopped process would: before its row in `seaql_migrations`.
        struct CutShort;
        struct Cut(Box<dyn MigrationTrait>);
        impl MigrationName for Cut {
            fn name(&self) -> &str {
                self.0.name()
            }
        }
        #[async_trait::async_trait]
        impl MigrationTrait for Cut {
            async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
                self.0.up(manager).await?;
                Err(DbErr::Custom("stopped".into()))
            }
            fn use_transaction(&self) -> Option<bool> {
                self.0.use_transaction()
            }
        }
        #[async_trait::async_trait]
        impl MigratorTrait for CutShort {
            fn migrations() -> Vec<Box<dyn MigrationTrait>> {
                let mut all = Migrator::migrations();
                all.truncate(BEFORE.load(Ordering::SeqCst) + 1);
                let last = all.pop().expect("a migration to cut");
                all.push(Box::new(Cut(last)));
                all
            }
        }

        async fn schema(db: &DatabaseConnection) -> Vec<String> {
            db.query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_schema \
                 WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index::<String>(0).unwrap())
            .collect()
        }

        let dir = std::env::temp_dir().join(format!("backyard-migrate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let whole = connect(&format!("sqlite://{}/whole.db?mode=rwc", dir.display()))
            .await
            .unwrap();
        super::migrate(&whole).await.unwrap();
        let migrated = schema(&whole).await;
        whole.close().await.unwrap();

        let count = Migrator::migrations().len();
        for before in 0..count {
            let url = format!("sqlite://{}/cut-{before}.db?mode=rwc", dir.display());
            let db = connect(&url).await.unwrap();
            Migrator::up(&db, Some(before as u32)).await.unwrap();
            let earlier = schema(&db).await;
            BEFORE.store(before, Ordering::SeqCst);
            let cut = CutShort::up(&db, None).await;
            let name = Migrator::migrations()[before].name().to_string();
            assert!(cut.is_err(), "{name} was cut");
            assert_eq!(schema(&db).await, earlier, "{name} cut short left nothing");
            assert_eq!(
                Migrator::get_applied_migrations(&db).await.unwrap().len(),
                before
            );
            super::migrate(&db)
                .await
                .unwrap_or_else(|e| panic!("the start after {name} was cut: {e}"));
            assert_eq!(schema(&db).await, migrated, "after {name} was cut");
            db.close().await.unwrap();
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    // Group commit (see `begin_write`). Each test writes to a database file of its own: an
    // in-memory database has one connection and never leaves a group open.

    use std::collections::HashMap;

    use sea_orm::{DatabaseConnection, DbBackend, DbErr};

    use super::{Batch, WriteTransaction, begin_write, connect, writer_turn, writers_waiting};

    static DATABASES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    /// A new database file with a table of marks: (writer, n).
    async fn marks_db() -> (DatabaseConnection, String, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "backyard-group-{}-{}",
            std::process::id(),
            DATABASES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}/g.db?mode=rwc", dir.display());
        let db = connect(&url).await.unwrap();
        db.execute_unprepared("CREATE TABLE marks (writer INTEGER NOT NULL, n INTEGER NOT NULL)")
            .await
            .unwrap();
        (db, url, dir)
    }

    /// Odd writers' rows go in as reads (`RETURNING`), even writers' as writes: a member's
    /// first statement is either.
    async fn mark(txn: &WriteTransaction, writer: usize, n: usize) -> Result<(), DbErr> {
        let insert = |sql: &str| {
            Statement::from_sql_and_values(
                DbBackend::Sqlite,
                sql,
                [(writer as i64).into(), (n as i64).into()],
            )
        };
        if writer % 2 == 1 {
            let sql = "INSERT INTO marks (writer, n) VALUES (?, ?) RETURNING writer";
            txn.query_one_raw(insert(sql)).await.map(drop)
        } else {
            let sql = "INSERT INTO marks (writer, n) VALUES (?, ?)";
            txn.execute_raw(insert(sql)).await.map(drop)
        }
    }

    /// Each writer's rows as a new connection (a new pool) sees them: what is on disk.
    async fn rows_afresh(url: &str) -> HashMap<usize, usize> {
        let fresh = connect(url).await.unwrap();
        let rows = fresh
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT writer, COUNT(*) FROM marks GROUP BY writer",
            ))
            .await
            .unwrap();
        fresh.close().await.unwrap();
        rows.into_iter()
            .map(|r| {
                let writer: i64 = r.try_get_by_index(0).unwrap();
                let n: i64 = r.try_get_by_index(1).unwrap();
                (writer as usize, n as usize)
            })
            .collect()
    }

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Plan {
        /// Writes two rows and commits.
        Commit,
        /// Writes a row, then a statement fails and the error drops the transaction.
        Fail,
        /// Its first statement, a read, fails.
        FailFirst,
        /// Goes away while its first statement runs (its client gone): sqlx stops running a
        /// text's statements once nobody listens, so nothing of the turn's own may ride in front
        /// of a writer's first statement (a savepoint did once, and its group failed).
        CancelInFirst,
        /// Writes two rows, then its request goes away (the task is aborted) before it commits.
        CancelBeforeCommit,
        /// Writes two rows and calls commit, then goes away while it waits for the group.
        CancelInCommit,
        /// Goes away while it waits for its turn.
        CancelWaiting,
        /// Writes a row, and its second with its commit (`commit_with`).
        CommitWithLast,
        /// Writes both rows with its commit, nothing before.
        OnlyLast,
        /// Writes a row, then a second and a failing one with its commit.
        FailInLast,
        /// Writes a row, and its second with its commit, then goes away while it waits.
        CancelInCommitWithLast,
    }

    /// What one writer saw: its commit's answer (the members of its group), or how it ended.
    #[derive(Debug)]
    enum Ended {
        Committed(usize),
        Failed(#[allow(dead_code)] DbErr),
        Cancelled,
    }

    async fn write(
        db: DatabaseConnection,
        id: usize,
        plan: Plan,
        pauses: u8,
        marked: tokio::sync::oneshot::Sender<()>,
    ) -> Result<usize, DbErr> {
        let mut txn = begin_write(&db).await?;
        // Rows `ns` of this writer, as writes held back for the commit.
        let marks = |ns: std::ops::Range<usize>| {
            let mut last = Batch::default();
            for n in ns {
                last.push(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "INSERT INTO marks (writer, n) VALUES (?, ?)",
                    [(id as i64).into(), (n as i64).into()],
                ));
            }
            last
        };
        if plan == Plan::OnlyLast {
            return txn.commit_in_group(marks(0..2)).await;
        }
        if plan == Plan::CancelInFirst {
            tokio::select! {
                biased;
                _ = mark(&txn, id, 0) => {}
                () = tokio::task::yield_now() => {}
            }
            return Err(DbErr::Custom("gave up".into()));
        }
        if plan == Plan::FailFirst {
            txn.query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT * FROM no_such_table",
            ))
            .await?;
        }
        mark(&txn, id, 0).await?;
        for _ in 0..pauses {
            tokio::task::yield_now().await;
        }
        if plan == Plan::Fail {
            txn.execute_unprepared("INSERT INTO no_such_table VALUES (1)")
                .await?;
        }
        match plan {
            Plan::CommitWithLast => return txn.commit_in_group(marks(1..2)).await,
            Plan::FailInLast => {
                let mut last = marks(1..2);
                last.push(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "INSERT INTO marks (writer, n) VALUES (?, NULL)",
                    [(id as i64).into()],
                ));
                return txn.commit_in_group(last).await;
            }
            Plan::CancelInCommitWithLast => {
                return tokio::select! {
                    biased;
                    done = txn.commit_in_group(marks(1..2)) => done,
                    () = tokio::task::yield_now() => Err(DbErr::Custom("gave up".into())),
                };
            }
            _ => {}
        }
        mark(&txn, id, 1).await?;
        match plan {
            Plan::CancelBeforeCommit => {
                let _ = marked.send(());
                std::future::pending().await
            }
            Plan::CancelInCommit => {
                // Gives up after the commit's first step (the savepoint handed to the group).
                tokio::select! {
                    biased;
                    done = txn.commit_in_group(Batch::default()) => done,
                    () = tokio::task::yield_now() => Err(DbErr::Custom("gave up".into())),
                }
            }
            _ => txn.commit_in_group(Batch::default()).await,
        }
    }

    /// Runs one writer per plan at once: they queue behind a held turn first, so that they
    /// write in groups. Every writer must end within a minute (a hang fails the test).
    async fn run_writers(db: &DatabaseConnection, plans: &[(Plan, u8)]) -> Vec<Ended> {
        let held = writer_turn(db).await;
        let mut tasks = Vec::new();
        let mut queued = 0;
        for (id, &(plan, pauses)) in plans.iter().enumerate() {
            let (marked, was_marked) = tokio::sync::oneshot::channel();
            let task = tokio::spawn(write(db.clone(), id, plan, pauses, marked));
            match plan {
                Plan::CancelWaiting => task.abort(),
                Plan::CancelBeforeCommit => {
                    let abort = task.abort_handle();
                    tokio::spawn(async move {
                        if was_marked.await.is_ok() {
                            abort.abort();
                        }
                    });
                    queued += 1;
                }
                _ => queued += 1,
            }
            tasks.push(task);
        }
        // Until they all wait (others' writers may be counted too: this only makes groups).
        for _ in 0..2000 {
            if writers_waiting() >= queued {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        drop(held);
        let ended = tokio::time::timeout(std::time::Duration::from_secs(60), async {
            let mut ended = Vec::new();
            for task in tasks {
                ended.push(match task.await {
                    Ok(Ok(members)) => Ended::Committed(members),
                    Ok(Err(e)) => Ended::Failed(e),
                    Err(e) if e.is_cancelled() => Ended::Cancelled,
                    Err(e) => std::panic::resume_unwind(e.into_panic()),
                });
            }
            ended
        })
        .await
        .expect("every writer ends");
        // A writer that gave up after handing its commit over (`CancelInCommit`) ends before
        // its group commits: the release runs in a task, and the group may be left open for
        // writers counted as waiting, to be committed by a flusher. Taking the turn waits for
        // that task and commits any group still open, so what is read next is what the
        // writers' groups wrote. (Read at once, it failed now and then on a fast machine.)
        drop(writer_turn(db).await);
        ended
    }

    /// Checks what each writer was told against what a new connection reads: a committed
    /// writer's rows are all there, a failed or cancelled one's are not (one cancelled after
    /// handing its commit over is committed with its group).
    fn check(plans: &[(Plan, u8)], ended: &[Ended], rows: &HashMap<usize, usize>) {
        for (id, ((plan, _), ended)) in plans.iter().zip(ended).enumerate() {
            let rows = rows.get(&id).copied().unwrap_or(0);
            match (plan, ended) {
                (
                    Plan::Commit | Plan::CommitWithLast | Plan::OnlyLast,
                    Ended::Committed(members),
                ) => {
                    assert!(*members >= 1);
                    assert_eq!(rows, 2, "writer {id} was told its write is on disk");
                }
                (Plan::Fail | Plan::FailFirst | Plan::FailInLast, Ended::Failed(_)) => {
                    assert_eq!(rows, 0, "writer {id} failed")
                }
                // Its first row may or may not have been written before it went away: either
                // way none of it stays.
                (Plan::CancelInFirst, Ended::Failed(_)) => {
                    assert_eq!(rows, 0, "writer {id} went away in its first statement")
                }
                (Plan::CancelBeforeCommit | Plan::CancelWaiting, Ended::Cancelled) => {
                    assert_eq!(rows, 0, "writer {id} went away before committing")
                }
                (
                    Plan::CancelInCommit | Plan::CancelInCommitWithLast,
                    Ended::Failed(_) | Ended::Committed(_),
                ) => {
                    assert_eq!(rows, 2, "writer {id} handed its commit to its group")
                }
                _ => panic!("writer {id} ({plan:?}) ended as {ended:?}"),
            }
        }
    }

    /// A member's savepoint goes with its first statement, yet a count of changed rows is the
    /// member's own: here the second member of a group (one connection), whose first statement
    /// changes nothing right after the first member changed three rows.
    #[tokio::test]
    async fn a_members_first_statement_counts_its_own_changes() {
        let (db, _url, dir) = marks_db().await;
        for _ in 0..20 {
            let held = writer_turn(&db).await;
            let first = tokio::spawn({
                let db = db.clone();
                async move {
                    let txn = begin_write(&db).await?;
                    txn.execute_unprepared("INSERT INTO marks VALUES (1, 0), (1, 1), (1, 2)")
                        .await?;
                    txn.commit().await
                }
            });
            let second = tokio::spawn({
                let db = db.clone();
                async move {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    let txn = begin_write(&db).await?;
                    let joined = txn.joined_after();
                    let changed = txn
                        .execute_unprepared("UPDATE marks SET n = n WHERE writer = 2")
                        .await?
                        .rows_affected();
                    txn.commit().await?;
                    Ok::<_, DbErr>((joined, changed))
                }
            });
            tokio::time::sleep(std::time::Duration::from_millis(60)).await;
            drop(held);
            first.await.unwrap().unwrap();
            let (joined, changed) = second.await.unwrap().unwrap();
            assert_eq!(changed, 0);
            if joined == 1 {
                db.close().await.unwrap();
                let _ = std::fs::remove_dir_all(dir);
                return;
            }
        }
        panic!("the second writer never joined the first one's group");
    }

    /// 200 writers at once, some failing midway (or in the writes sent with their commit) and
    /// some going away: exactly the committed writers' rows are on disk, every writer ends, and
    /// they committed in groups.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn writers_commit_in_groups_and_a_failed_or_cancelled_one_leaves_nothing() {
        let (db, url, dir) = marks_db().await;
        let plans: Vec<(Plan, u8)> = (0..200)
            .map(|i| {
                let plan = match i % 14 {
                    1 => Plan::CancelInFirst,
                    3 => Plan::Fail,
                    4 => Plan::FailFirst,
                    5 => Plan::CancelBeforeCommit,
                    7 => Plan::CancelInCommit,
                    9 => Plan::CancelWaiting,
                    10 => Plan::CommitWithLast,
                    11 => Plan::FailInLast,
                    12 => Plan::OnlyLast,
                    13 => Plan::CancelInCommitWithLast,
                    _ => Plan::Commit,
                };
                (plan, (i % 4) as u8)
            })
            .collect();
        let ended = run_writers(&db, &plans).await;
        let rows = rows_afresh(&url).await;
        check(&plans, &ended, &rows);
        let largest = ended
            .iter()
            .filter_map(|e| match e {
                Ended::Committed(members) => Some(*members),
                _ => None,
            })
            .max();
        assert!(largest > Some(1), "no group had more than one member");
        // Writes go on as before afterwards.
        let txn = begin_write(&db).await.unwrap();
        mark(&txn, 1000, 0).await.unwrap();
        txn.commit().await.unwrap();
        assert_eq!(rows_afresh(&url).await.get(&1000), Some(&1));
        db.close().await.unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A member whose savepoint cannot be ended (here it ended the whole transaction itself,
    /// as SQLite does on a full disk) fails its whole group: every member is told and none of
    /// its rows stay; later writers are not affected (the broken connection is not reused).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_broken_group_fails_every_member_and_writing_goes_on() {
        let (db, url, dir) = marks_db().await;
        let mut joined_a_group = false;
        for attempt in 0..20 {
            let base = attempt * 10;
            let held = writer_turn(&db).await;
            let first = tokio::spawn({
                let db = db.clone();
                async move {
                    let mut txn = begin_write(&db).await?;
                    mark(&txn, base, 0).await?;
                    txn.commit_in_group(Batch::default()).await
                }
            });
            let breaker = tokio::spawn({
                let db = db.clone();
                async move {
                    // Queued after the first (the turn is first come, first served).
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    let mut txn = begin_write(&db).await?;
                    let joined = txn.joined_after();
                    mark(&txn, base + 1, 0).await?;
                    txn.execute_unprepared("ROLLBACK").await?;
                    Ok::<_, DbErr>((joined, txn.commit_in_group(Batch::default()).await))
                }
            });
            // A writer after the breaker, in its group if one is left open: what it is told
            // matches what is on disk (a savepoint opened where the group's transaction is gone
            // would begin a new one, and the group would commit as if whole).
            let after = tokio::spawn({
                let db = db.clone();
                async move {
                    tokio::time::sleep(std::time::Duration::from_millis(40)).await;
                    let mut txn = begin_write(&db).await?;
                    mark(&txn, base + 3, 0).await?;
                    txn.commit_in_group(Batch::default()).await
                }
            });
            tokio::time::sleep(std::time::Duration::from_millis(60)).await;
            drop(held);
            let (first, breaker, after) =
                tokio::time::timeout(std::time::Duration::from_secs(60), async {
                    (
                        first.await.unwrap(),
                        breaker.await.unwrap().unwrap(),
                        after.await.unwrap(),
                    )
                })
                .await
                .expect("all three end");
            let (joined, broken) = breaker;
            assert!(broken.is_err(), "the breaker's commit fails");
            let rows = rows_afresh(&url).await;
            assert_eq!(rows.get(&(base + 1)), None);
            let after_rows = rows.get(&(base + 3)).copied();
            assert_eq!(
                after.is_ok(),
                after_rows == Some(1),
                "{after:?} {after_rows:?}"
            );
            if joined == 1 {
                // It joined the first writer's group: the first is failed with it.
                joined_a_group = true;
                assert!(first.is_err(), "{first:?}");
                assert_eq!(rows.get(&base), None);
            } else {
                assert_eq!(first.unwrap(), 1);
                assert_eq!(rows.get(&base), Some(&1));
            }
            // Later writers write (more than the pool's connections, one after another).
            for n in 0..20 {
                let txn = begin_write(&db).await.unwrap();
                mark(&txn, base + 2, n).await.unwrap();
                txn.commit().await.unwrap();
            }
            assert_eq!(rows_afresh(&url).await.get(&(base + 2)), Some(&20));
            if joined_a_group {
                break;
            }
        }
        assert!(
            joined_a_group,
            "the breaker never joined the first writer's group"
        );
        db.close().await.unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A group left open for a writer who then gives up waiting (its request dropped) is
    /// committed all the same, and its member answered: nobody waits on a group for ever.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_left_open_for_a_writer_who_gives_up_is_committed() {
        let (db, url, dir) = marks_db().await;
        let wait_until_waiting = |n: usize| async move {
            for _ in 0..2000 {
                if writers_waiting() >= n {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        };
        let mut seen_left_open = false;
        // Other tests' writers share the turn and may commit the group first: tried until the
        // group was left open as intended.
        for attempt in 0..20 {
            let first = begin_write(&db).await.unwrap();
            mark(&first, attempt, 0).await.unwrap();
            // Next in line: a holder of the bare turn, which leaves any group as it finds it.
            let (has_turn, turn_came) = tokio::sync::oneshot::channel();
            let (release, released) = tokio::sync::oneshot::channel::<()>();
            let holder = tokio::spawn(async move {
                let turn = super::wait_for_turn().await;
                let _ = has_turn.send(turn.0.open.is_some());
                let _ = released.await;
                drop(turn);
            });
            wait_until_waiting(1).await;
            // Then a writer, who will give up waiting.
            let quitter = tokio::spawn({
                let db = db.clone();
                async move { begin_write(&db).await.map(|_| ()) }
            });
            wait_until_waiting(2).await;
            let committing = tokio::spawn(async move {
                let mut first = first;
                first.commit_in_group(Batch::default()).await
            });
            let left_open = turn_came.await.unwrap();
            quitter.abort();
            let _ = quitter.await;
            release.send(()).unwrap();
            let committed = tokio::time::timeout(std::time::Duration::from_secs(60), committing)
                .await
                .expect("the first writer is answered")
                .unwrap();
            assert_eq!(committed.unwrap(), 1);
            holder.await.unwrap();
            assert_eq!(rows_afresh(&url).await.get(&attempt), Some(&1));
            if left_open {
                seen_left_open = true;
                break;
            }
        }
        assert!(
            seen_left_open,
            "the group was never left open for those waiting"
        );
        db.close().await.unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// Any mix of committing, failing and cancelled writers: each is told the truth about
        /// its write, and nobody waits for ever.
        #[test]
        fn any_mix_of_writers_is_told_the_truth(
            plans in proptest::collection::vec(
                (
                    proptest::prop_oneof![
                        4 => proptest::strategy::Just(Plan::Commit),
                        1 => proptest::strategy::Just(Plan::Fail),
                        1 => proptest::strategy::Just(Plan::FailFirst),
                        1 => proptest::strategy::Just(Plan::CancelInFirst),
                        1 => proptest::strategy::Just(Plan::CancelBeforeCommit),
                        1 => proptest::strategy::Just(Plan::CancelInCommit),
                        1 => proptest::strategy::Just(Plan::CancelWaiting),
                        2 => proptest::strategy::Just(Plan::CommitWithLast),
                        1 => proptest::strategy::Just(Plan::OnlyLast),
                        1 => proptest::strategy::Just(Plan::FailInLast),
                        1 => proptest::strategy::Just(Plan::CancelInCommitWithLast),
                    ],
                    0u8..4,
                ),
                1..40,
            )
        ) {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let (db, url, dir) = marks_db().await;
                let ended = run_writers(&db, &plans).await;
                check(&plans, &ended, &rows_afresh(&url).await);
                db.close().await.unwrap();
                let _ = std::fs::remove_dir_all(dir);
            });
        }
    }

    /// A new SQLite file in a folder of its own (`backyard-NAME-PID`), in SQLite's rollback
    /// journal, with a table `t` and a transaction begun in `mode` that wrote a row to it and
    /// holds the file: another program's hold, as a start meets it.
    async fn held_file(
        name: &str,
        mode: sea_orm::SqliteTransactionMode,
    ) -> (
        std::path::PathBuf,
        String,
        sea_orm::DatabaseConnection,
        sea_orm::DatabaseTransaction,
    ) {
        use sea_orm::Database;
        let dir = std::env::temp_dir().join(format!("backyard-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("h.db").display());
        let holder = Database::connect(url.as_str()).await.unwrap();
        holder
            .execute_unprepared("CREATE TABLE t (n INTEGER)")
            .await
            .unwrap();
        let held = begun(&holder, mode).await;
        held.execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        (dir, url, holder, held)
    }

    /// A transaction begun on `conn` in SQLite's `mode`, as another program holding the file
    /// would hold it.
    async fn begun(
        conn: &sea_orm::DatabaseConnection,
        mode: sea_orm::SqliteTransactionMode,
    ) -> sea_orm::DatabaseTransaction {
        use sea_orm::TransactionTrait;
        conn.begin_with_options(sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(mode),
            ..Default::default()
        })
        .await
        .unwrap()
    }

    /// A start whose migration finds the file held for writing by another program past the
    /// wait says so (it said a bare "database is locked"), and migrates once let go.
    #[tokio::test]
    async fn a_migration_held_up_by_another_writer_is_told_as_such() {
        use std::time::Duration;
        let dir = std::env::temp_dir().join(format!("backyard-migrating-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("m.db").display());
        // The server's file (WAL), then another program's write transaction on it: readers
        // pass, writers wait.
        let db = super::connect_within(&url, Duration::from_millis(300))
            .await
            .unwrap();
        let other = sea_orm::Database::connect(url.as_str()).await.unwrap();
        let held = begun(&other, sea_orm::SqliteTransactionMode::Immediate).await;
        held.execute_unprepared("CREATE TABLE t (n INTEGER)")
            .await
            .unwrap();
        let err = super::migrate(&db).await.unwrap_err().to_string();
        assert!(
            err.starts_with(
                "Custom Error: SQLite could not migrate the database: another process kept it \
                 locked for writing through the wait ("
            ),
            "{err}"
        );
        held.commit().await.unwrap();
        other.close().await.unwrap();
        super::migrate(&db).await.unwrap();
        db.close().await.unwrap();
        std::fs::remove_dir_all(&dir).ok();
    }

    /// A URL's own mode is kept: `mode=rw` opens only a file that is there, so a mistyped path
    /// says so and makes nothing (it made an empty database, and so an empty site); `mode=rwc`
    /// and a URL without a mode make the file; `mode=rw` opens one that is there.
    #[tokio::test]
    async fn a_url_in_mode_rw_opens_only_a_file_that_is_there() {
        let dir = std::env::temp_dir().join(format!("backyard-rw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("typo.db");
        let err = super::connect(&format!("sqlite://{}?mode=rw", file.display()))
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "Custom Error: the SQLite database {} does not exist (the URL's mode opens only \
                 an existing file; mode=rwc makes it)",
                file.display()
            )
        );
        assert!(!file.exists());
        // Read as sqlx reads it: decoded (the space is the file's, `r%77` is `rw`).
        let spaced = dir.join("a b.db");
        let encoded = format!("sqlite://{}?mode=rw", dir.join("a%20b.db").display());
        assert!(super::connect(&encoded).await.is_err());
        assert!(!spaced.exists());
        let err = super::connect(&format!("sqlite://{}?mode=r%77", file.display()))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not exist"), "{err}");
        assert!(!file.exists());
        // In memory there is no file to miss.
        for url in [
            "sqlite::memory:?mode=rw".to_string(),
            format!("sqlite://{}?mode=rw&mode=memory", file.display()),
        ] {
            let db = super::connect(&url).await.unwrap();
            db.execute_unprepared("CREATE TABLE t (n INTEGER)")
                .await
                .unwrap();
            db.close().await.unwrap();
            assert!(!file.exists(), "{url}");
        }
        // Every `mode=` counts, as in sqlx: a later `rwc` makes the file.
        for (name, query) in [
            ("made.db", "?mode=rwc"),
            ("plain.db", ""),
            ("both.db", "?mode=rw&mode=rwc"),
        ] {
            let made = dir.join(name);
            let db = super::connect(&format!("sqlite://{}{query}", made.display()))
                .await
                .unwrap();
            db.execute_unprepared("CREATE TABLE t (n INTEGER)")
                .await
                .unwrap();
            db.close().await.unwrap();
            assert!(made.is_file(), "{name}");
        }
        std::fs::rename(dir.join("made.db"), &spaced).unwrap();
        let db = super::connect(&encoded).await.unwrap();
        db.execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        db.close().await.unwrap();
        std::fs::remove_dir_all(&dir).ok();
    }

    /// A start that finds the file held by another program past its wait says so (sqlx tells
    /// it as its pool's time-out), and opens it once let go.
    #[tokio::test]
    async fn a_file_held_locked_past_the_wait_is_told_as_such() {
        use std::time::Duration;
        // Another program's hold on the whole file: a rollback journal's exclusive lock.
        let (dir, url, other, held) =
            held_file("held", sea_orm::SqliteTransactionMode::Exclusive).await;
        let started = std::time::Instant::now();
        let err = super::connect_within(&url, Duration::from_millis(300))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("SQLite could not open the database within 0.3 s; another process may hold it locked"),
            "{err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        // Let go, the same start opens it, and what the holder wrote is there.
        held.commit().await.unwrap();
        other.close().await.unwrap();
        let db = super::connect_within(&url, Duration::from_millis(300))
            .await
            .unwrap();
        let n = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT COUNT(*) AS n FROM t",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        assert_eq!(n, 1);
        drop(db);
        std::fs::remove_dir_all(&dir).ok();
    }

    /// A start waits no longer than its patience in all, also when the hold changes on the way:
    /// a first try told "locked" at once (another program about to write) and a later one held
    /// in SQLite's busy wait (a reader) each stop at the same deadline.
    #[tokio::test]
    async fn a_start_waits_no_longer_than_its_patience_when_the_hold_changes() {
        use sea_orm::{Database, TransactionTrait};
        use std::time::Duration;
        let (dir, url, _writer, writing) =
            held_file("held-on", sea_orm::SqliteTransactionMode::Immediate).await;
        let reader = Database::connect(url.as_str()).await.unwrap();
        // Near the end of the wait a reader comes, then the writer gives up: the reader holds
        // the file two seconds more.
        let hold = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(850)).await;
            let reading = reader.begin().await.unwrap();
            reading
                .execute_unprepared("SELECT COUNT(*) FROM t")
                .await
                .unwrap();
            writing.rollback().await.unwrap();
            tokio::time::sleep(Duration::from_secs(2)).await;
            reading.commit().await.unwrap();
        });
        let started = std::time::Instant::now();
        let err = super::connect_within(&url, Duration::from_secs(1))
            .await
            .unwrap_err()
            .to_string();
        let waited = started.elapsed();
        assert!(
            err.contains(
                "SQLite could not open the database within 1 s; another process may hold it locked"
            ),
            "{err}"
        );
        // Not a figure of speed: a try begun at 0.9 s would wait its own second (1.9 s in all).
        assert!(waited < Duration::from_millis(1500), "{waited:?}");
        hold.await.unwrap();
        std::fs::remove_dir_all(&dir).ok();
    }

    /// The database's trouble of the moment is told from a statement that fails on its own
    /// (the notification worker counts only the second against a fan-out): SQLite busy past
    /// its timeout and a terminated PostgreSQL backend are passing; a refused row is not.
    #[tokio::test]
    async fn passing_trouble_is_told_from_a_refused_statement() {
        use super::is_transient;
        use sea_orm::{ConnectOptions, Database, DbErr, TransactionTrait};
        assert!(is_transient(&DbErr::ConnectionAcquire(
            sea_orm::error::ConnAcquireErr::Timeout
        )));
        let dir = std::env::temp_dir().join(format!("backyard-transient-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
        let mut opts = ConnectOptions::new(url);
        opts.sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o| o.busy_timeout(std::time::Duration::ZERO));
        let (a, b) = (
            Database::connect(opts.clone()).await.unwrap(),
            Database::connect(opts).await.unwrap(),
        );
        a.execute_unprepared("CREATE TABLE t (n INTEGER CHECK (n > 0))")
            .await
            .unwrap();
        let refused = a
            .execute_unprepared("INSERT INTO t VALUES (0)")
            .await
            .unwrap_err();
        assert!(!is_transient(&refused), "{refused}");
        let holding = begun(&a, sea_orm::SqliteTransactionMode::Immediate).await;
        let busy = b
            .execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap_err();
        assert!(is_transient(&busy), "{busy}");
        // Only SQLite's busy is waited out where a file is opened (`connect`), not a refusal.
        assert!(super::is_sqlite_busy(&busy), "{busy}");
        assert!(!super::is_sqlite_busy(&refused), "{refused}");
        holding.rollback().await.unwrap();
        // A file that cannot be opened is not waited for: it is told at once.
        let nowhere = format!(
            "sqlite://{}?mode=rwc",
            dir.join("no/such/dir/t.db").display()
        );
        let unopened = super::connect(&nowhere).await.unwrap_err();
        assert!(!super::is_sqlite_busy(&unopened), "{unopened}");
        std::fs::remove_dir_all(&dir).ok();

        let Some(pg) = crate::server::testing::PostgresTestDb::create().await else {
            return;
        };
        pg.db
            .execute_unprepared("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .await
            .unwrap();
        pg.db
            .execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        let refused = pg
            .db
            .execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap_err();
        assert!(!is_transient(&refused), "{refused}");
        let terminated = pg
            .db
            .execute_unprepared("SELECT pg_terminate_backend(pg_backend_pid())")
            .await
            .unwrap_err();
        assert!(is_transient(&terminated), "{terminated}");
        // A statement past statement_timeout fails again the same way: not passing.
        let txn = pg.db.begin().await.unwrap();
        txn.execute_unprepared("SET LOCAL statement_timeout = '10ms'")
            .await
            .unwrap();
        let timed_out = txn
            .execute_unprepared("SELECT pg_sleep(1)")
            .await
            .unwrap_err();
        assert!(!is_transient(&timed_out), "{timed_out}");
        drop(txn);
        pg.drop().await;
    }
}
