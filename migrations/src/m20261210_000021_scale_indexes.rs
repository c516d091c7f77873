//! Indexes the pages needed at a million posts (issue 20, bench/scale.sh).
//!
//! - `idx_topics_awaiting_order`: the staff queue lists the topics waiting for staff oldest
//!   first (`ORDER BY awaiting_staff_since, id`, 50 a page). The older (awaiting_staff_since,
//!   category_id) index cannot give that order, so with 23,000 waiting topics every queue page
//!   sorted all of them in a temporary B-tree (150 ms on SQLite). Partial: only waiting topics
//!   are in it, so it stays as small as the queue. On SQLite `id` is the rowid, which every
//!   index entry ends with; it is named for PostgreSQL, where the tie-break needs it.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_topics_awaiting_order ON topics (awaiting_staff_since, id) \
                 WHERE awaiting_staff_since IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_topics_awaiting_order")
            .await?;
        Ok(())
    }
}
