//! `backyard migrate-data --from sqlite://... --to postgres://...`: copies a live SQLite site
//! into an empty PostgreSQL database, for a site that outgrows one machine.
//!
//! 1. The target must be empty (no table holds more rows than a fresh install): otherwise it is
//!    refused before anything is written. Then this version's migrations run on it.
//! 2. The source is read in one read transaction: under WAL that is one snapshot, so the site
//!    keeps serving and writing meanwhile and the copy is the site as of one moment.
//! 3. Every table the target's schema has is copied (found in the catalogue, never from a list),
//!    parents before children along the foreign keys, in batches of multi-row INSERTs, all in
//!    one PostgreSQL transaction: a failure anywhere leaves the target as empty as it was.
//!    The search index is built from the copied posts instead (its two engines' tables differ).
//! 4. Each sequence is moved past the copied ids, then each table's rows are read back from the
//!    target, counted and fingerprinted (see `rows::Fingerprint`) and compared with the
//!    source's, before the commit.
mod rows;
mod schema;

use std::{
    collections::BTreeSet,
    path::PathBuf,
    time::{Duration, Instant},
};

use app::server::db;
use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, TransactionTrait,
};

pub use rows::Fingerprint;
use rows::{Cell, insert, postgres_fingerprint, sqlite_batch};
use schema::{MIGRATIONS_TABLE, SEARCH_TABLES, Table, quoted};

/// One copied table: its rows and the checksum both sides agreed on.
pub struct CopiedTable {
    pub name: String,
    pub print: Fingerprint,
}

pub struct Outcome {
    pub tables: Vec<CopiedTable>,
    /// Rows in the built search index, when the source's index was built (else the server
    /// builds it on its first start, as it would have on SQLite).
    pub search_rows: Option<u64>,
    /// Copying the rows, building the search index, then reading every row back to check.
    pub copying: Duration,
    pub indexing: Duration,
    pub checking: Duration,
    /// From start to commit, the target's migrations included.
    pub elapsed: Duration,
}

impl Outcome {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.print.rows).sum()
    }

    /// What the command prints: each table, then the totals and the rate.
    pub fn report(&self) -> String {
        let mut out = String::new();
        for t in &self.tables {
            out.push_str(&format!(
                "  {:<28} {:>10} row{}  checksum {}\n",
                t.name,
                t.print.rows,
                if t.print.rows == 1 { "" } else { "s" },
                &t.print.hex()[..16]
            ));
        }
        match self.search_rows {
            Some(n) => out.push_str(&format!(
                "  search index built from the copied posts and articles: {n} rows in {:.2} s\n",
                self.indexing.as_secs_f64()
            )),
            None => out.push_str(
                "  search index: not built on the source either; the server builds it when it \
                 first starts\n",
            ),
        }
        let copying = self.copying.as_secs_f64();
        out.push_str(&format!(
            "Copied {} rows in {} tables in {:.2} s ({:.0} rows/s), checked them on both sides \
             in {:.2} s; {:.2} s in all. Every table's row count and checksum match the source's.",
            self.rows(),
            self.tables.len(),
            copying,
            self.rows() as f64 / copying.max(1e-9),
            self.checking.as_secs_f64(),
            self.elapsed.as_secs_f64(),
        ));
        out
    }
}

/// Runs the whole copy; `progress` hears of each table as it is copied.
pub async fn run(
    from: &str,
    to: &str,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<Outcome, String> {
    let started = Instant::now();
    let source = open_source(from).await?;
    check_source_version(&source).await?;
    let target = open_target(to).await?;

    let fresh = schema::fresh_install_rows().await?;
    if let Some(refusal) = schema::occupied(&target, &fresh)
        .await
        .map_err(|e| format!("reading the target database: {e}"))?
    {
        return Err(refusal);
    }
    db::migrate(&target)
        .await
        .map_err(|e| format!("migrating the target database: {e}"))?;
    let tables = plan(&source, &target).await?;

    // The source's snapshot starts at its first read (SQLite's BEGIN is deferred) and holds
    // until the end, counts and all.
    let snapshot = source
        .begin()
        .await
        .map_err(|e| format!("starting a read of the source: {e}"))?;
    let txn = target
        .begin()
        .await
        .map_err(|e| format!("starting the target's transaction: {e}"))?;
    // Two copies started at once into one target: the second waits here, then finds it full.
    db::lock_key(&txn, "backyard migrate-data")
        .await
        .map_err(|e| e.to_string())?;
    if let Some(refusal) = schema::occupied(&txn, &fresh)
        .await
        .map_err(|e| e.to_string())?
    {
        return Err(refusal);
    }
    // What the migrations seeded (the blog's comment category) comes from the source instead.
    for table in tables.iter().rev() {
        txn.execute_unprepared(&format!("DELETE FROM {}", quoted(&table.name)))
            .await
            .map_err(|e| format!("emptying {}: {e}", table.name))?;
    }

    let copy_started = Instant::now();
    let mut copied = Vec::new();
    for table in &tables {
        let print = copy_table(&snapshot, &txn, table).await?;
        progress(&format!(
            "  copied {:<28} {:>10} rows  ({:.1} s)",
            table.name,
            print.rows,
            copy_started.elapsed().as_secs_f64()
        ));
        copied.push(CopiedTable {
            name: table.name.clone(),
            print,
        });
    }
    reset_sequences(&txn, &tables).await?;
    let copying = copy_started.elapsed();
    let index_started = Instant::now();
    let search_rows = build_search_index(&snapshot, &txn).await?;
    let indexing = index_started.elapsed();
    progress("  checking every table's row count and checksum on both sides");
    let check_started = Instant::now();
    for (table, source_side) in tables.iter().zip(&copied) {
        let source_count = schema::count(&snapshot, &table.name)
            .await
            .map_err(|e| format!("counting the source's {}: {e}", table.name))?;
        let target_side = postgres_fingerprint(&txn, table).await?;
        if source_count != source_side.print.rows || target_side != source_side.print {
            return Err(format!(
                "the copy of {} does not match the source (source: {} rows, checksum {}; \
                 target: {} rows, checksum {}); nothing was kept",
                table.name,
                source_count,
                source_side.print.hex(),
                target_side.rows,
                target_side.hex()
            ));
        }
    }
    let checking = check_started.elapsed();
    txn.commit()
        .await
        .map_err(|e| format!("committing the copy: {e}"))?;
    let _ = snapshot.rollback().await;
    let _ = source.close().await;
    let _ = target.close().await;
    Ok(Outcome {
        tables: copied,
        search_rows,
        copying,
        indexing,
        checking,
        elapsed: started.elapsed(),
    })
}

/// The source, read-write but never written: a read-only SQLite connection cannot read a WAL
/// database whose -shm file it may not create. It must exist: opening a missing file would make
/// a new, empty database and copy nothing.
async fn open_source(from: &str) -> Result<DatabaseConnection, String> {
    let rest = from
        .strip_prefix("sqlite://")
        .or_else(|| from.strip_prefix("sqlite:"))
        .ok_or_else(|| format!("--from {from} is not a sqlite:// URL"))?;
    let path = PathBuf::from(rest.split('?').next().unwrap_or_default());
    if path.as_os_str().is_empty() || rest.contains(":memory:") {
        return Err("--from must name a SQLite database file".into());
    }
    if !path.is_file() {
        return Err(format!("--from: {} is not a file", path.display()));
    }
    let mut opts = ConnectOptions::new(format!("sqlite://{}", path.display()));
    opts.max_connections(1).sqlx_logging(false);
    opts.map_sqlx_sqlite_opts(|o| {
        o.create_if_missing(false)
            .busy_timeout(Duration::from_secs(10))
    });
    Database::connect(opts)
        .await
        .map_err(|e| format!("cannot open the source {}: {e}", path.display()))
}

async fn open_target(to: &str) -> Result<DatabaseConnection, String> {
    if !(to.starts_with("postgres://") || to.starts_with("postgresql://")) {
        return Err(format!(
            "--to {} is not a postgres:// URL",
            without_password(to)
        ));
    }
    db::connect(to)
        .await
        .map_err(|e| format!("cannot open the target {}: {e}", without_password(to)))
}

/// `url` with any password replaced, for messages. Its query is left out whole: it may carry
/// `password=` or `sslpassword=` too.
fn without_password(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, _)) => (base, "?…"),
        None => (url, ""),
    };
    let masked = match (base.find("://"), base.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &base[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &base[..scheme + 3], &base[at..]),
                None => base.to_string(),
            }
        }
        _ => base.to_string(),
    };
    format!("{masked}{query}")
}

/// The source must be at this version's schema: the same migrations applied, no more, no less.
async fn check_source_version(source: &DatabaseConnection) -> Result<(), String> {
    let rows = source
        .query_all_raw(db::numbered(
            DbBackend::Sqlite,
            &format!("SELECT version FROM {MIGRATIONS_TABLE}"),
            vec![],
        ))
        .await
        .map_err(|e| format!("the source is not a Backyard database ({e})"))?;
    let applied: BTreeSet<String> = rows
        .iter()
        .filter_map(|r| r.try_get_by_index::<String>(0).ok())
        .collect();
    let known: BTreeSet<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let missing: Vec<&String> = known.difference(&applied).collect();
    let unknown: Vec<&String> = applied.difference(&known).collect();
    if !unknown.is_empty() {
        return Err(format!(
            "the source was migrated by a newer Backyard ({}); run migrate-data from that version",
            join(&unknown)
        ));
    }
    if !missing.is_empty() {
        return Err(format!(
            "the source is behind this version (missing migrations {}): start this version of \
             the server on it once, or run `backyard migrate` with DATABASE_URL pointing at it",
            join(&missing)
        ));
    }
    Ok(())
}

fn join(names: &[&String]) -> String {
    names
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The target's tables to fill, in foreign-key order, each checked against the source's
/// columns. A source table the target lacks stops the copy: its rows would be lost.
async fn plan(
    source: &DatabaseConnection,
    target: &DatabaseConnection,
) -> Result<Vec<Table>, String> {
    let (source_tables, virtual_tables) = schema::source_tables(source)
        .await
        .map_err(|e| format!("reading the source's tables: {e}"))?;
    let target_names = schema::target_tables(target)
        .await
        .map_err(|e| format!("reading the target's tables: {e}"))?;
    let skipped = |name: &str| name == MIGRATIONS_TABLE || SEARCH_TABLES.contains(&name);
    for name in source_tables.iter().chain(&virtual_tables) {
        if !skipped(name.as_str()) && !target_names.contains(name) {
            return Err(format!(
                "the source has a table {name} that the target's schema lacks; nothing was copied"
            ));
        }
    }
    let mut tables = Vec::new();
    for name in target_names.iter().filter(|n| !skipped(n.as_str())) {
        if !source_tables.contains(name) {
            return Err(format!(
                "the target has a table {name} that the source lacks; nothing was copied"
            ));
        }
        let table = schema::describe(target, name).await?;
        let source_columns = schema::source_columns(source, name)
            .await
            .map_err(|e| format!("reading the source's {name}: {e}"))?;
        let target_columns: BTreeSet<String> =
            table.columns.iter().map(|c| c.name.clone()).collect();
        if source_columns != target_columns {
            return Err(format!(
                "the table {name} has columns {:?} on the source but {:?} on the target",
                source_columns, target_columns
            ));
        }
        tables.push(table);
    }
    schema::in_foreign_key_order(target, tables).await
}

/// Copies one table batch by batch, returning the source's fingerprint of what was sent.
async fn copy_table(
    snapshot: &impl ConnectionTrait,
    txn: &impl ConnectionTrait,
    table: &Table,
) -> Result<Fingerprint, String> {
    let mut print = Fingerprint::default();
    let mut after = i64::MIN;
    loop {
        let batch = sqlite_batch(snapshot, table, after).await?;
        let Some((last, _)) = batch.last() else {
            return Ok(print);
        };
        after = *last;
        let rows: Vec<Vec<Cell>> = batch.into_iter().map(|(_, cells)| cells).collect();
        for row in &rows {
            print.add(row);
        }
        insert(txn, table, &rows).await?;
    }
}

/// Moves every sequence past the largest id copied into its column, so the first new row after
/// the move takes a fresh id.
async fn reset_sequences(txn: &impl ConnectionTrait, tables: &[Table]) -> Result<(), String> {
    for table in tables {
        for column in &table.serial {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence($1, $2)::regclass, \
                 COALESCE(MAX({col}), 0) + 1, false) FROM {table}",
                col = quoted(column),
                table = quoted(&table.name)
            );
            txn.query_one_raw(db::numbered(
                DbBackend::Postgres,
                &sql,
                vec![quoted(&table.name).into(), column.clone().into()],
            ))
            .await
            .map_err(|e| format!("moving the sequence of {}.{column}: {e}", table.name))?;
        }
    }
    Ok(())
}

/// Builds the target's search index from the copied posts and articles when the source's was
/// built (a site that has served once); else leaves it to the server's first start, as SQLite
/// would have.
async fn build_search_index(
    snapshot: &impl ConnectionTrait,
    txn: &impl ConnectionTrait,
) -> Result<Option<u64>, String> {
    let built = schema::count(snapshot, "search_index_state")
        .await
        .map_err(|e| format!("reading the source's search index state: {e}"))?;
    if built == 0 {
        return Ok(None);
    }
    app::server::search_index::build_in(txn)
        .await
        .map(Some)
        .map_err(|e| format!("building the target's search index: {e}"))
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn messages_never_show_a_password() {
        assert_eq!(
            without_password("postgres://app:s3cret@db.example:5432/backyard"),
            "postgres://app:***@db.example:5432/backyard"
        );
        assert_eq!(
            without_password("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(without_password("postgres://host/x"), "postgres://host/x");
        assert_eq!(
            without_password("postgres://postgres@127.0.0.1:5432/x?password=Query@Secret"),
            "postgres://postgres@127.0.0.1:5432/x?…"
        );
    }
}
