//! Rows as `migrate-data` reads, writes and fingerprints them: every value decoded into one
//! canonical form by its PostgreSQL column type, whichever engine it came from, so the same
//! row gives the same fingerprint on both sides.
use app::server::db::{numbered, placeholders};
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Value};
use sha2::{Digest, Sha256};

use super::schema::{Kind, Table, quoted};

/// One value in its canonical form.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    /// To the microsecond: what PostgreSQL keeps (SQLite's text keeps nanoseconds).
    Time(DateTime<Utc>),
    Bytes(Vec<u8>),
    Float(f64),
}

fn decode_error(e: DbErr) -> String {
    e.to_string()
}

/// Reads column `i` of `row` as a value of `kind`. SQLite's integers stand in for booleans
/// (0 or 1 only) and its text for times; a value that does not fit the target's column is an
/// error naming it, never something quietly changed.
pub fn decode(row: &QueryResult, i: usize, kind: Kind, backend: DbBackend) -> Result<Cell, String> {
    let sqlite = backend == DbBackend::Sqlite;
    let cell = match kind {
        Kind::Int16 | Kind::Int32 | Kind::Int64 if sqlite => {
            let v = row
                .try_get_by_index::<Option<i64>>(i)
                .map_err(decode_error)?;
            if let Some(n) = v {
                let fits = match kind {
                    Kind::Int16 => i16::try_from(n).is_ok(),
                    Kind::Int32 => i32::try_from(n).is_ok(),
                    _ => true,
                };
                if !fits {
                    return Err(format!("{n} is too large for the target's {kind:?} column"));
                }
            }
            v.map(Cell::Int)
        }
        Kind::Int16 => row
            .try_get_by_index::<Option<i16>>(i)
            .map_err(decode_error)?
            .map(|n| Cell::Int(n.into())),
        Kind::Int32 => row
            .try_get_by_index::<Option<i32>>(i)
            .map_err(decode_error)?
            .map(|n| Cell::Int(n.into())),
        Kind::Int64 => row
            .try_get_by_index::<Option<i64>>(i)
            .map_err(decode_error)?
            .map(Cell::Int),
        Kind::Bool if sqlite => match row
            .try_get_by_index::<Option<i64>>(i)
            .map_err(decode_error)?
        {
            None => None,
            Some(0) => Some(Cell::Bool(false)),
            Some(1) => Some(Cell::Bool(true)),
            Some(n) => return Err(format!("{n} is not a boolean (0 or 1)")),
        },
        Kind::Bool => row
            .try_get_by_index::<Option<bool>>(i)
            .map_err(decode_error)?
            .map(Cell::Bool),
        Kind::Text => match row
            .try_get_by_index::<Option<String>>(i)
            .map_err(decode_error)?
        {
            Some(s) if s.contains('\0') => {
                return Err("the text holds a NUL character, which PostgreSQL cannot store".into());
            }
            v => v.map(Cell::Text),
        },
        Kind::Time => row
            .try_get_by_index::<Option<DateTime<Utc>>>(i)
            .map_err(decode_error)?
            .map(|t| Cell::Time(t.trunc_subsecs(6))),
        Kind::Bytes => row
            .try_get_by_index::<Option<Vec<u8>>>(i)
            .map_err(decode_error)?
            .map(Cell::Bytes),
        Kind::Float => row
            .try_get_by_index::<Option<f64>>(i)
            .map_err(decode_error)?
            .map(Cell::Float),
    };
    Ok(cell.unwrap_or(Cell::Null))
}

/// The value to bind for a column of `kind` (a NULL keeps its type: PostgreSQL wants one).
pub fn to_value(cell: &Cell, kind: Kind) -> Value {
    let int = match cell {
        Cell::Int(n) => Some(*n),
        _ => None,
    };
    match kind {
        Kind::Int16 => Value::SmallInt(int.map(|n| n as i16)),
        Kind::Int32 => Value::Int(int.map(|n| n as i32)),
        Kind::Int64 => Value::BigInt(int),
        Kind::Bool => Value::Bool(match cell {
            Cell::Bool(b) => Some(*b),
            _ => None,
        }),
        Kind::Text => Value::String(match cell {
            Cell::Text(s) => Some(s.clone()),
            _ => None,
        }),
        Kind::Time => Value::ChronoDateTimeUtc(match cell {
            Cell::Time(t) => Some(*t),
            _ => None,
        }),
        Kind::Bytes => Value::Bytes(match cell {
            Cell::Bytes(b) => Some(b.clone()),
            _ => None,
        }),
        Kind::Float => Value::Double(match cell {
            Cell::Float(f) => Some(*f),
            _ => None,
        }),
    }
}

/// A table's row count and checksum: the SHA-256 of each row's canonical bytes, added up
/// modulo 2^256. The sum does not depend on the order rows are read in (SQLite's are read in
/// the order they were written, PostgreSQL's by primary key), while any changed, missing or
/// extra row changes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint {
    pub rows: u64,
    sum: [u64; 4],
}

impl Fingerprint {
    pub fn add(&mut self, row: &[Cell]) {
        let mut hash = Sha256::new();
        for cell in row {
            match cell {
                Cell::Null => hash.update([0u8]),
                Cell::Int(n) => {
                    hash.update([1u8]);
                    hash.update(n.to_le_bytes());
                }
                Cell::Bool(b) => hash.update([2, u8::from(*b)]),
                Cell::Text(s) => {
                    hash.update([3u8]);
                    hash.update((s.len() as u64).to_le_bytes());
                    hash.update(s.as_bytes());
                }
                Cell::Time(t) => {
                    hash.update([4u8]);
                    hash.update(t.timestamp_micros().to_le_bytes());
                }
                Cell::Bytes(b) => {
                    hash.update([5u8]);
                    hash.update((b.len() as u64).to_le_bytes());
                    hash.update(b);
                }
                Cell::Float(f) => {
                    hash.update([6u8]);
                    hash.update(f.to_bits().to_le_bytes());
                }
            }
        }
        let digest = hash.finalize();
        let mut carry = 0u128;
        for (limb, bytes) in self.sum.iter_mut().zip(digest.chunks_exact(8)) {
            let word = u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
            let total = u128::from(*limb) + u128::from(word) + carry;
            *limb = total as u64;
            carry = total >> 64;
        }
        self.rows += 1;
    }

    /// The checksum as 64 hex digits.
    pub fn hex(&self) -> String {
        self.sum
            .iter()
            .rev()
            .map(|limb| format!("{limb:016x}"))
            .collect()
    }
}

/// Rows per statement: PostgreSQL takes at most 65,535 bound values in one.
pub fn batch_rows(table: &Table) -> usize {
    (60_000 / table.columns.len().max(1)).clamp(1, 1000)
}

/// The next batch of a SQLite table after `after_rowid`, in the order the rows were written:
/// (rowid, cells) pairs. Walking by rowid reads each row once at the cost of an index step.
pub async fn sqlite_batch(
    conn: &impl ConnectionTrait,
    table: &Table,
    after_rowid: i64,
) -> Result<Vec<(i64, Vec<Cell>)>, String> {
    let sql = format!(
        "SELECT rowid, {} FROM {} WHERE rowid > $1 ORDER BY rowid LIMIT {}",
        table.column_list(),
        quoted(&table.name),
        batch_rows(table)
    );
    let rows = conn
        .query_all_raw(numbered(DbBackend::Sqlite, &sql, vec![after_rowid.into()]))
        .await
        .map_err(|e| format!("reading {} from the source: {e}", table.name))?;
    rows.iter()
        .map(|row| {
            let rowid = row.try_get_by_index::<i64>(0).map_err(decode_error)?;
            let cells = cells(row, table, 1, DbBackend::Sqlite)
                .map_err(|e| format!("the source's {} row {rowid}: {e}", table.name))?;
            Ok((rowid, cells))
        })
        .collect()
}

fn cells(
    row: &QueryResult,
    table: &Table,
    first: usize,
    backend: DbBackend,
) -> Result<Vec<Cell>, String> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            decode(row, first + i, c.kind, backend).map_err(|e| format!("column {}: {e}", c.name))
        })
        .collect()
}

/// The next batch of a PostgreSQL table after the key `after` (None: from the start), by
/// primary key.
pub async fn postgres_batch(
    conn: &impl ConnectionTrait,
    table: &Table,
    after: Option<&[Cell]>,
) -> Result<Vec<Vec<Cell>>, String> {
    let key_columns: Vec<String> = table
        .key
        .iter()
        .map(|&i| quoted(&table.columns[i].name))
        .collect();
    let key = key_columns.join(", ");
    let mut values = Vec::new();
    let condition = match after {
        None => String::new(),
        Some(last) => {
            for &i in &table.key {
                values.push(to_value(&last[i], table.columns[i].kind));
            }
            format!("WHERE ({key}) > ({})", placeholders(1, table.key.len()))
        }
    };
    let sql = format!(
        "SELECT {} FROM {} {condition} ORDER BY {key} LIMIT {}",
        table.column_list(),
        quoted(&table.name),
        batch_rows(table)
    );
    let rows = conn
        .query_all_raw(numbered(DbBackend::Postgres, &sql, values))
        .await
        .map_err(|e| format!("reading {} back from the target: {e}", table.name))?;
    rows.iter()
        .map(|row| {
            cells(row, table, 0, DbBackend::Postgres)
                .map_err(|e| format!("the target's {}: {e}", table.name))
        })
        .collect()
}

/// Every row of a PostgreSQL table, fingerprinted batch by batch.
pub async fn postgres_fingerprint(
    conn: &impl ConnectionTrait,
    table: &Table,
) -> Result<Fingerprint, String> {
    let mut print = Fingerprint::default();
    let mut last: Option<Vec<Cell>> = None;
    loop {
        let batch = postgres_batch(conn, table, last.as_deref()).await?;
        for row in &batch {
            print.add(row);
        }
        match batch.into_iter().last() {
            Some(row) => last = Some(row),
            None => return Ok(print),
        }
    }
}

/// Writes rows into a PostgreSQL table with one multi-row INSERT.
pub async fn insert(
    conn: &impl ConnectionTrait,
    table: &Table,
    rows: &[Vec<Cell>],
) -> Result<(), String> {
    if rows.is_empty() {
        return Ok(());
    }
    let width = table.columns.len();
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ",
        quoted(&table.name),
        table.column_list()
    );
    let mut values = Vec::with_capacity(rows.len() * width);
    for (n, row) in rows.iter().enumerate() {
        if n > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        sql.push_str(&placeholders(n * width + 1, width));
        sql.push(')');
        for (cell, column) in row.iter().zip(&table.columns) {
            values.push(to_value(cell, column.kind));
        }
    }
    conn.execute_raw(numbered(DbBackend::Postgres, &sql, values))
        .await
        .map_err(|e| format!("writing {} to the target: {e}", table.name))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(rows: &[Vec<Cell>]) -> Fingerprint {
        let mut f = Fingerprint::default();
        for r in rows {
            f.add(r);
        }
        f
    }

    #[test]
    fn fingerprint_ignores_order_but_not_content() {
        let a = vec![Cell::Int(1), Cell::Text("ada".into()), Cell::Bool(true)];
        let b = vec![Cell::Int(2), Cell::Null, Cell::Bool(false)];
        assert_eq!(
            print(&[a.clone(), b.clone()]),
            print(&[b.clone(), a.clone()])
        );
        assert_ne!(print(&[a.clone()]), print(&[a.clone(), b.clone()]));
        let changed = vec![Cell::Int(1), Cell::Text("adb".into()), Cell::Bool(true)];
        assert_ne!(
            print(&[a.clone(), b.clone()]).hex(),
            print(&[changed, b]).hex()
        );
        // Text is length-prefixed: moving a character from one column to the next shows.
        let left = vec![Cell::Text("ab".into()), Cell::Text("c".into())];
        let right = vec![Cell::Text("a".into()), Cell::Text("bc".into())];
        assert_ne!(print(&[left]), print(&[right]));
        // An empty string is not NULL.
        assert_ne!(
            print(&[vec![Cell::Text(String::new())]]),
            print(&[vec![Cell::Null]])
        );
    }
}
