//! What `migrate-data` copies, read from the two databases' own catalogues rather than from a
//! list kept by hand: a table a later migration adds is copied without anyone remembering to
//! add it here, and a table the target lacks stops the copy instead of being left behind.
use std::collections::{BTreeMap, BTreeSet};

use app::server::db::numbered;
use sea_orm::{ConnectionTrait, DbBackend, DbErr};

/// The tables the migrator keeps for itself: the target's own run of the migrations fills it.
pub const MIGRATIONS_TABLE: &str = "seaql_migrations";

/// The full-text index and its "built" mark: an FTS5 table on SQLite and a tsvector table on
/// PostgreSQL (see the search migration), so its rows cannot be copied across; the target's is
/// built from the copied posts and articles instead, in the same transaction.
pub const SEARCH_TABLES: [&str; 2] = ["search_index", "search_index_state"];

/// How a column's values are read, compared and written: PostgreSQL's type decides (SQLite
/// keeps booleans as integers and times as text under any declared type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Int16,
    Int32,
    Int64,
    Bool,
    Text,
    Time,
    Bytes,
    Float,
}

impl Kind {
    fn from_postgres(data_type: &str) -> Option<Kind> {
        Some(match data_type {
            "smallint" => Kind::Int16,
            "integer" => Kind::Int32,
            "bigint" => Kind::Int64,
            "boolean" => Kind::Bool,
            "text" | "character varying" | "character" => Kind::Text,
            "timestamp with time zone" => Kind::Time,
            "bytea" => Kind::Bytes,
            "double precision" => Kind::Float,
            _ => return None,
        })
    }
}

pub struct Column {
    pub name: String,
    pub kind: Kind,
}

/// A table as the target holds it.
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// Positions in `columns` of the primary key, in the key's order.
    pub key: Vec<usize>,
    /// Columns whose values come from a sequence (serial or identity): reset past the copied
    /// ids, or the first new row would take an id the copy already used.
    pub serial: Vec<String>,
}

/// `name` as an SQL identifier, the same on both engines.
pub fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Table {
    /// The column list for SELECT and INSERT.
    pub fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|c| quoted(&c.name))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

async fn strings(
    conn: &impl ConnectionTrait,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<Vec<Vec<Option<String>>>, DbErr> {
    let backend = conn.get_database_backend();
    let rows = conn.query_all_raw(numbered(backend, sql, values)).await?;
    rows.iter()
        .map(|row| {
            let mut out = Vec::new();
            let mut i = 0;
            while let Ok(v) = row.try_get_by_index::<Option<String>>(i) {
                out.push(v);
                i += 1;
            }
            Ok(out)
        })
        .collect()
}

/// The ordinary tables of the target's current schema, by name.
pub async fn target_tables(pg: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let rows = strings(
        pg,
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
        vec![],
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .collect())
}

/// One target table's columns, key and sequences.
pub async fn describe(pg: &impl ConnectionTrait, name: &str) -> Result<Table, String> {
    let err = |e: DbErr| format!("reading the target's table {name}: {e}");
    let rows = strings(
        pg,
        "SELECT column_name::text, data_type::text, is_generated::text, \
                CASE WHEN column_default LIKE 'nextval(%' OR is_identity = 'YES' \
                     THEN 'serial' END \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        vec![name.into()],
    )
    .await
    .map_err(err)?;
    let mut columns = Vec::new();
    let mut serial = Vec::new();
    for row in rows {
        let [Some(column), Some(data_type), generated, is_serial] = &row[..] else {
            return Err(format!(
                "reading the target's table {name}: unexpected catalogue row"
            ));
        };
        // A generated column is computed by PostgreSQL from the others.
        if generated.as_deref() == Some("ALWAYS") {
            continue;
        }
        let kind = Kind::from_postgres(data_type).ok_or_else(|| {
            format!(
                "the column {name}.{column} has the type {data_type}, which migrate-data does \
                 not know how to copy and compare"
            )
        })?;
        if is_serial.is_some() {
            serial.push(column.clone());
        }
        columns.push(Column {
            name: column.clone(),
            kind,
        });
    }
    let key_names = strings(
        pg,
        "SELECT a.attname::text FROM pg_index i \
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
         WHERE i.indrelid = quote_ident($1)::regclass AND i.indisprimary \
         ORDER BY array_position(i.indkey::int2[], a.attnum)",
        vec![name.into()],
    )
    .await
    .map_err(err)?;
    let key: Vec<usize> = key_names
        .iter()
        .filter_map(|r| r.first().cloned().flatten())
        .filter_map(|k| columns.iter().position(|c| c.name == k))
        .collect();
    if key.is_empty() {
        // The read-back walks each table by its key; a table without one cannot be compared.
        return Err(format!(
            "the table {name} has no primary key, so its copy cannot be checked row by row"
        ));
    }
    Ok(Table {
        name: name.to_string(),
        columns,
        key,
        serial,
    })
}

/// Orders tables so every table comes after the tables its foreign keys point to: rows then go
/// in with every constraint checked as they arrive. A table pointing at itself is fine when its
/// rows are copied in the order they were written (a reply after the post it answers).
pub async fn in_foreign_key_order(
    pg: &impl ConnectionTrait,
    tables: Vec<Table>,
) -> Result<Vec<Table>, String> {
    let edges = strings(
        pg,
        "SELECT child.relname::text, parent.relname::text FROM pg_constraint c \
         JOIN pg_class child ON child.oid = c.conrelid \
         JOIN pg_class parent ON parent.oid = c.confrelid \
         WHERE c.contype = 'f' \
         AND c.connamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())",
        vec![],
    )
    .await
    .map_err(|e| format!("reading the target's foreign keys: {e}"))?;
    let mut needs: BTreeMap<String, BTreeSet<String>> = tables
        .iter()
        .map(|t| (t.name.clone(), BTreeSet::new()))
        .collect();
    for edge in edges {
        if let [Some(child), Some(parent)] = &edge[..]
            && child != parent
            && let Some(set) = needs.get_mut(child)
            && tables.iter().any(|t| &t.name == parent)
        {
            set.insert(parent.clone());
        }
    }
    let mut by_name: BTreeMap<String, Table> =
        tables.into_iter().map(|t| (t.name.clone(), t)).collect();
    let mut ordered = Vec::new();
    while !needs.is_empty() {
        // Alphabetical among the ready ones, so every run copies in the same order.
        let ready: Vec<String> = needs
            .iter()
            .filter(|(_, parents)| parents.iter().all(|p| !needs.contains_key(p)))
            .map(|(name, _)| name.clone())
            .collect();
        if ready.is_empty() {
            let circle: Vec<&str> = needs.keys().map(String::as_str).collect();
            return Err(format!(
                "the tables {} refer to each other in a circle; migrate-data cannot order them",
                circle.join(", ")
            ));
        }
        for name in ready {
            needs.remove(&name);
            ordered.extend(by_name.remove(&name));
        }
    }
    Ok(ordered)
}

/// The source's ordinary tables (not SQLite's own, not the shadow tables behind a virtual
/// table), and its virtual tables apart.
pub async fn source_tables(
    sqlite: &impl ConnectionTrait,
) -> Result<(BTreeSet<String>, BTreeSet<String>), DbErr> {
    let rows = strings(
        sqlite,
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        vec![],
    )
    .await?;
    let mut plain = BTreeSet::new();
    let mut virtual_tables = BTreeSet::new();
    for row in &rows {
        if let [Some(name), sql] = &row[..] {
            let is_virtual = sql.as_deref().is_some_and(|s| {
                s.trim_start()
                    .to_ascii_uppercase()
                    .starts_with("CREATE VIRTUAL")
            });
            if is_virtual {
                virtual_tables.insert(name.clone());
            } else {
                plain.insert(name.clone());
            }
        }
    }
    // FTS5 keeps a virtual table's rows in tables named after it (search_index_data, ...).
    plain.retain(|name| {
        !virtual_tables
            .iter()
            .any(|v| name.starts_with(&format!("{v}_")))
    });
    Ok((plain, virtual_tables))
}

/// A source table's column names.
pub async fn source_columns(
    sqlite: &impl ConnectionTrait,
    table: &str,
) -> Result<BTreeSet<String>, DbErr> {
    let rows = strings(
        sqlite,
        "SELECT name FROM pragma_table_info($1)",
        vec![table.into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .collect())
}

/// `SELECT COUNT(*)` of one table.
pub async fn count(conn: &impl ConnectionTrait, table: &str) -> Result<u64, DbErr> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(numbered(
            backend,
            &format!("SELECT COUNT(*) FROM {}", quoted(table)),
            vec![],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("COUNT(*) returned no row".into()))?;
    Ok(row.try_get_by_index::<i64>(0)?.max(0) as u64)
}

/// The rows each table holds in a database freshly migrated by this version (the blog's
/// comment category, say): a target holding no more than these is empty.
pub async fn fresh_install_rows() -> Result<BTreeMap<String, u64>, String> {
    let scratch = app::server::db::connect("sqlite::memory:")
        .await
        .map_err(|e| format!("opening a scratch database: {e}"))?;
    app::server::db::migrate(&scratch)
        .await
        .map_err(|e| format!("migrating a scratch database: {e}"))?;
    let (tables, _) = source_tables(&scratch).await.map_err(|e| e.to_string())?;
    let mut rows = BTreeMap::new();
    for table in tables {
        let n = count(&scratch, &table).await.map_err(|e| e.to_string())?;
        rows.insert(table, n);
    }
    let _ = scratch.close().await;
    Ok(rows)
}

/// Why the target is not empty, if it is not: the tables holding more rows than a fresh
/// install's, with their counts.
pub async fn occupied(
    pg: &impl ConnectionTrait,
    fresh: &BTreeMap<String, u64>,
) -> Result<Option<String>, DbErr> {
    debug_assert_eq!(pg.get_database_backend(), DbBackend::Postgres);
    let mut held = Vec::new();
    for table in target_tables(pg).await? {
        if table == MIGRATIONS_TABLE {
            continue;
        }
        let n = count(pg, &table).await?;
        if n > fresh.get(&table).copied().unwrap_or(0) {
            held.push(format!(
                "{table} ({n} row{})",
                if n == 1 { "" } else { "s" }
            ));
        }
    }
    Ok((!held.is_empty()).then(|| {
        format!(
            "the target database is not empty: {}. migrate-data copies only into an empty \
             database (create one with `createdb`); nothing was written",
            held.join(", ")
        )
    }))
}
