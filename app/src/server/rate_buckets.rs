//! Write budgets kept in the database, for several servers on one PostgreSQL: a client that
//! sends alternately to two servers spends one budget, not one per server. A token bucket per
//! key that holds a minute's worth and refills continuously, as the in-memory one of a single
//! server does (server/src/security.rs `IpLimits`).
//!
//! One statement takes a token: the upsert locks the key's row, so concurrent requests for the
//! same key (on any server) run one after another, each seeing the tokens the previous took;
//! a refused request changes nothing (the update's WHERE fails, no row comes back).
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

/// Takes one write from `key`'s bucket of `per_minute`: true if there was one. PostgreSQL only
/// (SQLite servers keep their budgets in memory: one process serves the database).
pub async fn take(db: &DatabaseConnection, key: &str, per_minute: u32) -> Result<bool, DbErr> {
    debug_assert_eq!(db.get_database_backend(), DbBackend::Postgres);
    // The bucket's level now: what it held plus what the time since earned, at most full.
    const LEVEL: &str = "LEAST($2::float8, rate_buckets.tokens \
        + EXTRACT(EPOCH FROM (now() - rate_buckets.refilled_at))::float8 * $2::float8 / 60.0)";
    let sql = format!(
        "INSERT INTO rate_buckets (bucket_key, tokens, refilled_at) \
         VALUES ($1, $2::float8 - 1, now()) \
         ON CONFLICT (bucket_key) DO UPDATE SET tokens = {LEVEL} - 1, refilled_at = now() \
         WHERE {LEVEL} >= 1 \
         RETURNING tokens"
    );
    let taken = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [key.into(), f64::from(per_minute).into()],
        ))
        .await?;
    Ok(taken.is_some())
}

/// Forgets buckets idle for two minutes: full again by then, the same as no row.
pub async fn forget_idle(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let done = db
        .execute_raw(Statement::from_string(
            DbBackend::Postgres,
            "DELETE FROM rate_buckets WHERE refilled_at < now() - interval '2 minutes'",
        ))
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two servers' worth of parallel writers from one address: exactly the budget gets
    /// through, whoever sends them; another key has its own budget; a refused take writes
    /// nothing (the bucket is not pushed below zero, so it refills on time).
    #[tokio::test]
    async fn a_bucket_holds_under_parallel_takes_on_postgres() {
        let Some(pg) = crate::server::testing::PostgresTestDb::create().await else {
            return;
        };
        let db = pg.db.clone();
        let takes = (0..40).map(|_| {
            let db = db.clone();
            tokio::spawn(async move { take(&db, "writes:10.0.0.1", 10).await.unwrap() })
        });
        let mut allowed = 0;
        for t in takes {
            allowed += usize::from(t.await.unwrap());
        }
        assert_eq!(allowed, 10, "a minute's worth, however many arrive at once");
        assert!(take(&db, "writes:10.0.0.2", 10).await.unwrap());
        let tokens = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT tokens FROM rate_buckets WHERE bucket_key = 'writes:10.0.0.1'",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<f64>(0)
            .unwrap();
        assert!((0.0..1.0).contains(&tokens), "{tokens}");
        assert_eq!(
            forget_idle(&db).await.unwrap(),
            0,
            "both were used just now"
        );
        pg.drop().await;
    }
}
