//! Several app servers on one PostgreSQL (issue 20): what they must share that one process kept
//! in memory.
//!
//! - `rate_buckets`: per-address write budgets (a token bucket per key), so a client sending
//!   alternately to two servers gets one budget, not two. Rows are short-lived counters, not
//!   content: one per address active in the last minutes. SQLite gets the table for one
//!   schema everywhere; a single SQLite server keeps the budgets in memory.
//! - the `page_version` sequence (PostgreSQL only): bumped after every commit that changes what
//!   a visitor's page shows, read by each server before it answers from its page cache. A
//!   sequence, not a row: `nextval` takes no row lock, so writers never queue on it, and it is
//!   not rolled back, which does not matter here since it is bumped after the commit.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateBuckets::Table)
                    // What the budget is for: `writes:<address>`.
                    .col(string_len(RateBuckets::BucketKey, 80).primary_key())
                    // Writes still allowed; refilled with time up to a minute's worth.
                    .col(double(RateBuckets::Tokens))
                    .col(timestamp_with_time_zone(RateBuckets::RefilledAt))
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("CREATE SEQUENCE page_version")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP SEQUENCE page_version")
                .await?;
        }
        manager
            .drop_table(Table::drop().table(RateBuckets::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum RateBuckets {
    Table,
    BucketKey,
    Tokens,
    RefilledAt,
}
