//! Writes whose answer nobody reads, held back and sent with the next statement that is read.
//!
//! On SQLite every statement is a hand-off to the connection's thread and back, and a write's
//! statements run inside the writers' turn (`db::begin_write`), one writer at a time: a reply's
//! round trips, not the cores, bound how many replies a second a site takes. sqlx runs a text
//! of several statements in one hand-off, binding plain `?` placeholders in order across them,
//! so a batch and the read after it cost one round trip. PostgreSQL takes one statement a
//! message when it has parameters: there the statements run one by one, in order.
//!
//! What a batch holds must not be read before it is sent: the caller sends it with a read of
//! other rows, or runs it.
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, Value};

#[derive(Default)]
#[must_use = "a batch's writes happen only when it is sent or run"]
pub struct Batch(Vec<Statement>);

impl Batch {
    /// Holds back a write (an `INSERT`, `UPDATE` or `DELETE` without `RETURNING`).
    pub fn push(&mut self, write: Statement) {
        self.0.push(write);
    }

    /// Holds back the writes `other` holds, after these.
    pub fn append(&mut self, other: Batch) {
        self.0.extend(other.0);
    }

    /// Whether nothing is held back.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Holds back a write if there is one.
    pub fn extend(&mut self, write: Option<Statement>) {
        self.0.extend(write);
    }

    /// Runs the writes held back.
    pub async fn run(self, conn: &impl ConnectionTrait) -> Result<(), DbErr> {
        match self.joined(conn.get_database_backend(), None) {
            Joined::Nothing => Ok(()),
            Joined::One(statement) => conn.execute_raw(statement).await.map(drop),
            Joined::Each(statements) => {
                for statement in statements {
                    conn.execute_raw(statement).await?;
                }
                Ok(())
            }
        }
    }

    /// Runs the writes held back, then `read`, whose row (if any) is returned.
    pub async fn then_one(
        self,
        conn: &impl ConnectionTrait,
        read: Statement,
    ) -> Result<Option<QueryResult>, DbErr> {
        let read = self.sent_before(conn, read).await?;
        conn.query_one_raw(read).await
    }

    /// Runs `read` first, then the writes held back, and gives the read's rows: for a read
    /// whose answer must not see the writes, in one round trip on SQLite all the same.
    pub async fn after_all(
        self,
        conn: &impl ConnectionTrait,
        read: Statement,
    ) -> Result<Vec<QueryResult>, DbErr> {
        let mut all = vec![read];
        all.extend(self.0);
        match join(all, conn.get_database_backend()) {
            Joined::Nothing => unreachable!("a read was given"),
            // The writes have no rows (no `RETURNING`): the rows are the read's.
            Joined::One(statement) => conn.query_all_raw(statement).await,
            Joined::Each(statements) => {
                let mut statements = statements.into_iter();
                let read = statements.next().expect("the read is first");
                let rows = conn.query_all_raw(read).await?;
                for statement in statements {
                    conn.execute_raw(statement).await?;
                }
                Ok(rows)
            }
        }
    }

    /// Runs each part in order, its read first and then its writes (`after_all` for each), and
    /// gives each part's rows: on SQLite the parts are one round trip, however many. There each
    /// read's rows are told apart by a column put in front of the read's own (`batch_part`), so
    /// the caller reads its columns by name.
    pub async fn after_all_each(
        conn: &impl ConnectionTrait,
        parts: Vec<(Statement, Batch)>,
    ) -> Result<Vec<Vec<QueryResult>>, DbErr> {
        let backend = conn.get_database_backend();
        if backend != DbBackend::Sqlite || parts.len() <= 1 {
            let mut rows = Vec::with_capacity(parts.len());
            for (read, writes) in parts {
                rows.push(writes.after_all(conn, read).await?);
            }
            return Ok(rows);
        }
        let count = parts.len();
        let mut all = Vec::new();
        for (n, (read, writes)) in parts.into_iter().enumerate() {
            all.push(part(n, read));
            all.extend(writes.0);
        }
        parts_rows(conn, all, count).await
    }

    /// Runs the writes held back, then each read, and gives each read's rows (`then_one` for
    /// several reads): one round trip on SQLite, the rows told apart as in `after_all_each`.
    pub async fn then_each(
        self,
        conn: &impl ConnectionTrait,
        reads: Vec<Statement>,
    ) -> Result<Vec<Vec<QueryResult>>, DbErr> {
        let backend = conn.get_database_backend();
        if backend != DbBackend::Sqlite || reads.len() <= 1 {
            let mut reads = reads.into_iter();
            let Some(first) = reads.next() else {
                self.run(conn).await?;
                return Ok(Vec::new());
            };
            let mut rows = vec![self.then_all(conn, first).await?];
            for read in reads {
                rows.push(conn.query_all_raw(read).await?);
            }
            return Ok(rows);
        }
        let count = reads.len();
        let mut all = self.0;
        all.extend(reads.into_iter().enumerate().map(|(n, read)| part(n, read)));
        parts_rows(conn, all, count).await
    }

    /// Runs the writes held back, then `read`, and gives all its rows.
    async fn then_all(
        self,
        conn: &impl ConnectionTrait,
        read: Statement,
    ) -> Result<Vec<QueryResult>, DbErr> {
        let read = self.sent_before(conn, read).await?;
        conn.query_all_raw(read).await
    }

    /// What reads after the writes held back: on SQLite the writes and `read` as one text;
    /// elsewhere `read`, the writes run first one by one.
    async fn sent_before(
        self,
        conn: &impl ConnectionTrait,
        read: Statement,
    ) -> Result<Statement, DbErr> {
        match self.joined(conn.get_database_backend(), Some(read)) {
            Joined::Nothing => unreachable!("a read was given"),
            Joined::One(statement) => Ok(statement),
            Joined::Each(mut statements) => {
                let read = statements.pop().expect("the read is last");
                for statement in statements {
                    conn.execute_raw(statement).await?;
                }
                Ok(read)
            }
        }
    }

    /// The held writes and `read` as one statement on SQLite, or each on its own.
    fn joined(self, backend: DbBackend, read: Option<Statement>) -> Joined {
        let mut all = self.0;
        all.extend(read);
        join(all, backend)
    }
}

/// Read `n` of several in one text on SQLite: its rows led by their part's number.
fn part(n: usize, mut read: Statement) -> Statement {
    // On lines of their own: the read may end in a `--` comment.
    read.sql = format!(
        "SELECT {n} AS batch_part, part.* FROM (\n{}\n) part",
        read.sql
    );
    read
}

/// Runs `all` (on SQLite, `count` reads made by `part` among writes) as one text, and gives
/// each part's rows.
async fn parts_rows(
    conn: &impl ConnectionTrait,
    all: Vec<Statement>,
    count: usize,
) -> Result<Vec<Vec<QueryResult>>, DbErr> {
    let Joined::One(statement) = join(all, DbBackend::Sqlite) else {
        unreachable!("SQLite's statements are joined into one")
    };
    let mut rows: Vec<Vec<QueryResult>> = (0..count).map(|_| Vec::new()).collect();
    for row in conn.query_all_raw(statement).await? {
        let n = row.try_get::<i64>("", "batch_part")?;
        rows.get_mut(n as usize)
            .ok_or_else(|| DbErr::Custom(format!("no batch part {n}")))?
            .push(row);
    }
    Ok(rows)
}

/// `all` as one statement on SQLite (run in order), or each on its own.
fn join(mut all: Vec<Statement>, backend: DbBackend) -> Joined {
    match (all.len(), backend) {
        (0, _) => Joined::Nothing,
        (1, _) => Joined::One(all.pop().expect("one statement")),
        (_, DbBackend::Sqlite) => {
            let mut sql = String::new();
            let mut values = Vec::new();
            for statement in all {
                let (text, bound) = sequential(&statement);
                // On a line of its own: a statement may end in a `--` comment.
                if !sql.is_empty() {
                    sql.push_str("\n;\n");
                }
                sql.push_str(&text);
                values.extend(bound);
            }
            Joined::One(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                sql,
                values,
            ))
        }
        (_, _) => Joined::Each(all),
    }
}

enum Joined {
    Nothing,
    One(Statement),
    Each(Vec<Statement>),
}

/// A SQLite statement with every placeholder a plain `?` and its values in the order they
/// appear, so that statements joined into one text bind in order. sqlx binds a plain `?` of the
/// second statement after the values the first used, but a numbered `?N` always to the text's
/// N-th value (`db::numbered` writes `?N`). SQLite numbers a plain `?` one past the largest
/// number before it. Quoted text (`'...'`, `"..."`) and comments are left as they are.
fn sequential(statement: &Statement) -> (String, Vec<Value>) {
    let values = statement
        .values
        .as_ref()
        .map(|v| v.0.clone())
        .unwrap_or_default();
    let sql = statement.sql.as_str();
    // Read as bytes: everything looked for is ASCII, and a reply's texts are thousands of
    // bytes read inside the writers' turn (read a character at a time, this was 2% of the
    // reply benchmark's samples). Unchanged spans are copied whole.
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut bound = Vec::with_capacity(values.len());
    let mut largest = 0usize;
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        // Quoted text or a comment is skipped to its end (or the text's). A doubled quote
        // inside quotes closes and opens again, which reads it the same way.
        let (opened, end) = match (bytes[at], bytes.get(at + 1)) {
            (b'\'', _) => (1, "'"),
            (b'"', _) => (1, "\""),
            (b'/', Some(b'*')) => (2, "*/"),
            (b'-', Some(b'-')) => (2, "\n"),
            (b'?', _) => {
                out.push_str(&sql[copied..at]);
                let digits = bytes[at + 1..]
                    .iter()
                    .position(|d| !d.is_ascii_digit())
                    .unwrap_or(bytes.len() - at - 1);
                let n = sql[at + 1..at + 1 + digits]
                    .parse::<usize>()
                    .unwrap_or(largest + 1);
                largest = largest.max(n);
                // SQLite treats a value not given as NULL.
                bound.push(values.get(n - 1).cloned().unwrap_or(Value::String(None)));
                out.push('?');
                at += 1 + digits;
                copied = at;
                continue;
            }
            _ => {
                at += 1;
                continue;
            }
        };
        let inside = at + opened;
        at = sql[inside..]
            .find(end)
            .map_or(bytes.len(), |i| inside + i + end.len());
    }
    out.push_str(&sql[copied..]);
    (out, bound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{db::numbered, testing::test_db};

    fn texts(values: &[Value]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn numbered_placeholders_become_plain_in_the_order_they_appear() {
        let s = numbered(
            DbBackend::Sqlite,
            "SELECT $2, '$1 ?', \"a?b\", /* it's ?3 */ $1, -- ?1 'x\n $2, ?",
            vec![10.into(), 20.into()],
        );
        let (sql, values) = sequential(&s);
        assert_eq!(
            sql,
            "SELECT ?, '?1 ?', \"a?b\", /* it's ?3 */ ?, -- ?1 'x\n ?, ?"
        );
        // The last plain `?` is one past the largest number before it: the third value, none.
        assert_eq!(texts(&values), ["20", "10", "20", "NULL"]);
        let plain = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "UPDATE t SET a = ? WHERE b = 'it''s ?' AND c = ?",
            [1.into(), 2.into()],
        );
        let (sql, values) = sequential(&plain);
        assert_eq!(sql, plain.sql);
        assert_eq!(texts(&values), ["1", "2"]);
        // Text that is not ASCII around the placeholders, and a comment the text ends in.
        let open = numbered(
            DbBackend::Sqlite,
            "SELECT 'é?' || $1, «$2» -- ?1 ü",
            vec![1.into(), 2.into()],
        );
        let (sql, values) = sequential(&open);
        assert_eq!(sql, "SELECT 'é?' || ?, «?» -- ?1 ü");
        assert_eq!(texts(&values), ["1", "2"]);
    }

    /// A test database made by `set_up`'s statements, then counting the statements sent to it
    /// (one a round trip to SQLite's thread).
    async fn counted_db(
        set_up: &[&str],
    ) -> (
        sea_orm::DatabaseConnection,
        std::sync::Arc<std::sync::Mutex<usize>>,
    ) {
        let mut db = test_db().await;
        for sql in set_up {
            db.execute_unprepared(sql).await.unwrap();
        }
        let seen = std::sync::Arc::new(std::sync::Mutex::new(0usize));
        let count = seen.clone();
        db.set_metric_callback(move |_| *count.lock().unwrap() += 1);
        (db, seen)
    }

    /// Every row of the tests' table `t`, as `1one,2two`.
    async fn table_rows(db: &sea_orm::DatabaseConnection) -> String {
        db.query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT group_concat(id || v, ',') AS all_rows FROM (SELECT * FROM t ORDER BY id)",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<String>("", "all_rows")
        .unwrap()
    }

    #[tokio::test]
    async fn held_writes_go_with_the_read_in_one_statement_and_in_order() {
        let (db, seen) = counted_db(&["CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"]).await;
        let mut batch = Batch::default();
        batch.push(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO t (id, v) VALUES (?, ?)",
            [1.into(), "one".into()],
        ));
        batch.push(numbered(
            DbBackend::Sqlite,
            "INSERT INTO t (v, id) VALUES ($2, $1) -- ends in a comment",
            vec![2.into(), "two".into()],
        ));
        batch.push(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "UPDATE t SET v = v || ? WHERE id = ?",
            ["!".into(), 1.into()],
        ));
        let read = numbered(
            DbBackend::Sqlite,
            "SELECT group_concat(id || v, ',') AS all_rows FROM (SELECT * FROM t WHERE id <= $1 ORDER BY id)",
            vec![2.into()],
        );
        let row = batch.then_one(&db, read).await.unwrap().unwrap();
        assert_eq!(row.try_get::<String>("", "all_rows").unwrap(), "1one!,2two");
        assert_eq!(*seen.lock().unwrap(), 1, "one round trip");
    }

    #[tokio::test]
    async fn a_read_before_the_writes_does_not_see_them_and_costs_one_round_trip() {
        let (db, seen) = counted_db(&[
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)",
            "INSERT INTO t VALUES (1, 'one')",
        ])
        .await;
        let mut batch = Batch::default();
        batch.push(numbered(
            DbBackend::Sqlite,
            "INSERT INTO t (id, v) VALUES ($1, $2)",
            vec![2.into(), "two".into()],
        ));
        batch.push(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "UPDATE t SET v = v || ? WHERE id = ?",
            ["!".into(), 1.into()],
        ));
        let read = numbered(
            DbBackend::Sqlite,
            "SELECT id, v FROM t WHERE id >= $1 ORDER BY id",
            vec![1.into()],
        );
        let rows = batch.after_all(&db, read).await.unwrap();
        let read: Vec<(i64, String)> = rows
            .iter()
            .map(|r| (r.try_get("", "id").unwrap(), r.try_get("", "v").unwrap()))
            .collect();
        assert_eq!(read, [(1, "one".to_string())]);
        assert_eq!(*seen.lock().unwrap(), 1, "one round trip");
        assert_eq!(table_rows(&db).await, "1one!,2two");
        // A write that fails fails the whole, rows and all.
        let mut failing = Batch::default();
        failing.push(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO t (id, v) VALUES (?, ?)",
            [3.into(), Value::String(None)],
        ));
        let read = Statement::from_string(DbBackend::Sqlite, "SELECT id FROM t");
        let err = failing.after_all(&db, read).await.unwrap_err();
        assert!(err.to_string().contains("NOT NULL"), "{err}");
    }

    #[tokio::test]
    async fn parts_each_read_before_their_writes_in_one_round_trip() {
        let (db, seen) = counted_db(&[
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)",
            "INSERT INTO t VALUES (1, 'one')",
        ])
        .await;
        let part = |id: i64, v: &str| {
            let mut writes = Batch::default();
            writes.push(numbered(
                DbBackend::Sqlite,
                "INSERT INTO t (id, v) VALUES ($1, $2)",
                vec![id.into(), v.into()],
            ));
            // A read that ends in a comment, as `hinted` ones may.
            let read = numbered(
                DbBackend::Sqlite,
                "SELECT id, v FROM t WHERE id >= $1 ORDER BY id -- every row so far",
                vec![1.into()],
            );
            (read, writes)
        };
        let rows =
            Batch::after_all_each(&db, vec![part(2, "two"), part(3, "three"), part(4, "four")])
                .await
                .unwrap();
        let read: Vec<Vec<i64>> = rows
            .iter()
            .map(|rows| rows.iter().map(|r| r.try_get("", "id").unwrap()).collect())
            .collect();
        // Each read sees the parts before it, not its own writes.
        assert_eq!(read, [vec![1], vec![1, 2], vec![1, 2, 3]]);
        assert_eq!(*seen.lock().unwrap(), 1, "one round trip");
        // A part whose read finds nothing still has its place.
        let mut writes = Batch::default();
        writes.push(numbered(
            DbBackend::Sqlite,
            "UPDATE t SET v = $1 WHERE id = 1",
            vec!["uno".into()],
        ));
        let none = numbered(
            DbBackend::Sqlite,
            "SELECT id FROM t WHERE id > $1",
            vec![9.into()],
        );
        let rows = Batch::after_all_each(&db, vec![(none, writes), part(5, "five")])
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].is_empty());
        assert_eq!(rows[1].len(), 4);
        // A write that fails fails the whole (the worker's turn is then rolled back).
        let txn = sea_orm::TransactionTrait::begin(&db).await.unwrap();
        let err = Batch::after_all_each(&txn, vec![part(6, "six"), part(6, "again")])
            .await
            .unwrap_err();
        assert!(err.to_string().contains("UNIQUE"), "{err}");
        txn.rollback().await.unwrap();
        assert_eq!(table_rows(&db).await, "1uno,2two,3three,4four,5five");
    }

    #[tokio::test]
    async fn reads_after_the_writes_each_see_them_in_one_round_trip() {
        let (db, seen) = counted_db(&[
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)",
            "INSERT INTO t VALUES (1, 'one')",
        ])
        .await;
        let mut writes = Batch::default();
        writes.push(numbered(
            DbBackend::Sqlite,
            "INSERT INTO t (id, v) VALUES ($1, $2)",
            vec![2.into(), "two".into()],
        ));
        let read = |from: i64| {
            numbered(
                DbBackend::Sqlite,
                "SELECT id, v FROM t WHERE id >= $1 ORDER BY id -- from here",
                vec![from.into()],
            )
        };
        let none = Statement::from_string(DbBackend::Sqlite, "SELECT id FROM t WHERE id > 9");
        let rows = writes
            .then_each(&db, vec![read(1), none, read(2)])
            .await
            .unwrap();
        let read_ids: Vec<Vec<i64>> = rows
            .iter()
            .map(|rows| rows.iter().map(|r| r.try_get("", "id").unwrap()).collect())
            .collect();
        assert_eq!(read_ids, [vec![1, 2], vec![], vec![2]]);
        assert_eq!(*seen.lock().unwrap(), 1, "one round trip");
        // One read, or none: the writes still go first.
        let mut writes = Batch::default();
        writes.push(Statement::from_string(
            DbBackend::Sqlite,
            "UPDATE t SET v = 'uno' WHERE id = 1",
        ));
        let rows = writes.then_each(&db, vec![read(1)]).await.unwrap();
        assert_eq!(rows[0][0].try_get::<String>("", "v").unwrap(), "uno");
        let mut writes = Batch::default();
        writes.push(Statement::from_string(
            DbBackend::Sqlite,
            "UPDATE t SET v = 'dos' WHERE id = 2",
        ));
        assert!(writes.then_each(&db, Vec::new()).await.unwrap().is_empty());
        assert_eq!(table_rows(&db).await, "1uno,2dos");
        // A write that fails fails the whole, and no read is given.
        let mut failing = Batch::default();
        failing.push(Statement::from_string(
            DbBackend::Sqlite,
            "INSERT INTO t (id, v) VALUES (3, NULL)",
        ));
        let err = failing
            .then_each(&db, vec![read(1), read(2)])
            .await
            .unwrap_err();
        assert!(err.to_string().contains("NOT NULL"), "{err}");
        assert_eq!(table_rows(&db).await, "1uno,2dos");
    }

    #[tokio::test]
    async fn a_failing_write_in_a_batch_is_the_reads_error() {
        let db = test_db().await;
        db.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            .await
            .unwrap();
        let mut batch = Batch::default();
        batch.push(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO t (id, v) VALUES (?, ?)",
            [1.into(), Value::String(None)],
        ));
        let read = Statement::from_string(DbBackend::Sqlite, "SELECT COUNT(*) AS n FROM t");
        let err = batch.then_one(&db, read).await.unwrap_err();
        assert!(err.to_string().contains("NOT NULL"), "{err}");
    }
}
