//! An address's key (what counts mail to it and finds its account) became its composed form
//! (NFC) in lower case with every sigma the same (app::server::email_address::address_key).
//! Two things follow:
//!
//! - The outbox keeps each message's key (`to_key`, with an index for the per-address limits):
//!   the limits compared SQL's `lower(to_address)` with the key, and SQLite's `lower` changes
//!   ASCII letters only, so an address with a capital "É" was never counted and its limits
//!   never held.
//! - A member's key is written again where the new form differs from the old one (the address
//!   in lower case): an address stored with Hangul jamo, a compatibility ideograph, a final
//!   sigma or a domain outside ASCII is found by its address again. A key an account was given
//!   for another reason (a deleted account's) is left as it is; one another account has makes
//!   this account a later one of the same address ("key #..."), found by it with the other.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

/// The key as this migration writes it; kept here, as it was, whatever the app's becomes: the
/// part before the @ composed, in lower case, composed again and with every sigma alike; the
/// domain as IDNA's ASCII form.
fn key(address: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let lower = |text: &str| text.to_lowercase().nfc().collect::<String>();
    let given: String = address.trim().nfc().collect();
    let Some((local, domain)) = given.rsplit_once('@') else {
        return lower(&given);
    };
    let domain = idna::domain_to_ascii_strict(domain).unwrap_or_else(|_| lower(domain));
    format!("{}@{domain}", lower(local).replace('ς', "σ"))
}

/// `column` holds a character that is not ASCII (only such a value's key can have changed).
fn not_ascii(backend: DbBackend, column: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("octet_length({column}) <> char_length({column})"),
        _ => format!("length({column}) <> length(CAST({column} AS BLOB))"),
    }
}

fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        sql.to_string()
    } else {
        sql.replace('$', "?")
    };
    Statement::from_sql_and_values(backend, sql, values)
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        db.execute_unprepared(
            "ALTER TABLE email_outbox ADD COLUMN to_key TEXT NOT NULL DEFAULT ''",
        )
        .await?;
        // ASCII letters only, as the key lowers them (PostgreSQL's own `lower` follows the
        // database's locale: a Turkish one lowers "I" to "ı"); the rest below.
        db.execute_unprepared(match backend {
            DbBackend::Postgres => {
                "UPDATE email_outbox SET to_key = lower(to_address COLLATE \"C\")"
            }
            _ => "UPDATE email_outbox SET to_key = lower(to_address)",
        })
        .await?;
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                format!(
                    "SELECT id, to_address FROM email_outbox WHERE {}",
                    not_ascii(backend, "to_address")
                ),
            ))
            .await?;
        for row in rows {
            let id: i64 = row.try_get("", "id")?;
            let address: String = row.try_get("", "to_address")?;
            db.execute_raw(statement(
                backend,
                "UPDATE email_outbox SET to_key = $1 WHERE id = $2",
                vec![key(&address).into(), id.into()],
            ))
            .await?;
        }
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS idx_email_outbox_to_key
             ON email_outbox (to_key, subject, created_at)",
        )
        .await?;

        let members = db
            .query_all_raw(Statement::from_string(
                backend,
                format!(
                    "SELECT id, email, email_key FROM users WHERE {}",
                    not_ascii(backend, "email")
                ),
            ))
            .await?;
        for row in members {
            let id: i64 = row.try_get("", "id")?;
            let email: String = row.try_get("", "email")?;
            let old: String = row.try_get("", "email_key")?;
            // A later account for an address in use has "key #random" (app::server::accounts).
            let (stem, suffix) = old.split_at(old.find(" #").unwrap_or(old.len()));
            if stem != email.trim().to_lowercase() {
                continue;
            }
            let new = format!("{}{suffix}", key(&email));
            if new == old {
                continue;
            }
            let taken = db
                .query_one_raw(statement(
                    backend,
                    "SELECT 1 AS taken FROM users WHERE email_key = $1",
                    vec![new.clone().into()],
                ))
                .await?
                .is_some();
            // A key another account has: this one becomes another account of the address, as a
            // later sign-up with it would ("key #..."), and is found by it with the other.
            let new = if taken {
                format!("{new} #m31-{id}")
            } else {
                new
            };
            db.execute_raw(statement(
                backend,
                "UPDATE users SET email_key = $1 WHERE id = $2",
                vec![new.into(), id.into()],
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS idx_email_outbox_to_key")
            .await?;
        db.execute_unprepared("ALTER TABLE email_outbox DROP COLUMN to_key")
            .await?;
        Ok(())
    }
}
