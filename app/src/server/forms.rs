//! One-shot form tokens: every rendered form that writes carries a fresh token, and the write
//! consumes it in the same transaction. A form sent twice (a double click, a resubmitted page)
//! is then stored once and the second send gets a clear message.
use chrono::{Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryTrait, Set,
    SqlErr, Statement,
};

use super::entity::form_submission;
use crate::error::AppError;

/// Fails with `already_sent` if `token` was used before, or with a reload hint if it is not a
/// token at all. Read-only: rules call it before their other checks, so a form sent twice is
/// told so rather than, say, that its username is now taken (by itself).
pub async fn check_unused(
    conn: &impl ConnectionTrait,
    token: &str,
    already_sent: &str,
) -> Result<(), AppError> {
    check_shape(token)?;
    if form_submission::Entity::find_by_id(token.to_string())
        .one(conn)
        .await?
        .is_some()
    {
        return Err(AppError::invalid("form", already_sent));
    }
    Ok(())
}

/// A token as `auth::random_token` makes them: 64 lower-case hex characters. Only that one
/// spelling, so an upper-case copy of a used token is not a second, unused one.
fn check_shape(token: &str) -> Result<(), AppError> {
    if token.len() != 64
        || !token
            .bytes()
            .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(AppError::invalid(
            "form",
            "This form is out of date. Reload the page and try again.",
        ));
    }
    Ok(())
}

/// Records `token` as used, inside the write's transaction. Fails like `check_unused`.
pub async fn consume(
    conn: &impl ConnectionTrait,
    token: &str,
    already_sent: &str,
) -> Result<(), AppError> {
    let record = recording(conn.get_database_backend(), token)?;
    conn.execute_raw(record)
        .await
        .map_err(|e| refused_if_used(e, already_sent))?;
    Ok(())
}

/// `consume`'s one statement, for a write that sends it with its first read (`Batch`: one
/// round trip fewer in the writers' turn) and passes that read's error to `refused_if_used`.
/// A plain insert: a token recorded before fails it as a violation of the table's key.
pub fn recording(backend: DbBackend, token: &str) -> Result<Statement, AppError> {
    check_shape(token)?;
    let row = form_submission::ActiveModel {
        token: Set(token.to_string()),
        created_at: Set(Utc::now()),
    };
    Ok(form_submission::Entity::insert(row).build(backend))
}

/// The refusal of a form sent twice if `err` is `recording`'s insert finding its token
/// recorded; any other error as it is.
pub fn refused_if_used(err: DbErr, already_sent: &str) -> AppError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::invalid("form", already_sent),
        _ => err.into(),
    }
}

/// Forgets tokens older than a day: no form stays open that long.
pub async fn purge_old(conn: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let cutoff = Utc::now() - Duration::days(1);
    let res = form_submission::Entity::delete_many()
        .filter(form_submission::Column::CreatedAt.lt(cutoff))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

#[cfg(test)]
mod tests {
    use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, TransactionTrait};

    use super::*;
    use crate::server::{
        batch::Batch,
        testing::{PostgresTestDb, test_db},
    };

    const SENT: &str = "Already sent.";

    fn message(r: Result<(), AppError>) -> String {
        match r {
            Err(AppError::Invalid { message, .. }) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// On SQLite and on PostgreSQL: `consume`, and `recording` sent with a read (`Batch`) as a
    /// reply sends it in the writers' turn.
    #[tokio::test]
    async fn a_token_is_used_once_in_its_one_spelling() {
        async fn check(db: &DatabaseConnection) {
            let token = crate::server::auth::random_token();
            consume(db, &token, SENT).await.unwrap();
            assert_eq!(message(consume(db, &token, SENT).await), SENT);
            assert_eq!(message(check_unused(db, &token, SENT).await), SENT);
            // The same token in capitals, or not a token at all: out of date, nothing recorded.
            for other in [
                token.to_uppercase(),
                "g".repeat(64),
                token[..63].to_string(),
            ] {
                let stale = message(consume(db, &other, SENT).await);
                assert!(stale.contains("out of date"), "{other}: {stale}");
                let stale = message(check_unused(db, &other, SENT).await);
                assert!(stale.contains("out of date"), "{other}: {stale}");
            }
            // Sent with a read in a transaction: a used token fails the read, and the refusal
            // names it; an unused one is recorded and the read answers.
            let backend = db.get_database_backend();
            let read = || Statement::from_string(backend, "SELECT 1 AS one");
            let txn = db.begin().await.unwrap();
            let mut first = Batch::default();
            first.push(recording(backend, &token).unwrap());
            let refused = first
                .then_one(&txn, read())
                .await
                .map(drop)
                .map_err(|e| refused_if_used(e, SENT));
            assert_eq!(message(refused), SENT);
            drop(txn);
            let fresh = crate::server::auth::random_token();
            let txn = db.begin().await.unwrap();
            let mut first = Batch::default();
            first.push(recording(backend, &fresh).unwrap());
            let row = first.then_one(&txn, read()).await.unwrap().unwrap();
            assert_eq!(row.try_get::<i32>("", "one").unwrap(), 1);
            txn.commit().await.unwrap();
            assert_eq!(message(check_unused(db, &fresh, SENT).await), SENT);
            assert_eq!(form_submission::Entity::find().count(db).await.unwrap(), 2);
        }
        check(&test_db().await).await;
        if let Some(pg) = PostgresTestDb::create().await {
            check(&pg.db).await;
            pg.drop().await;
        }
    }
}
