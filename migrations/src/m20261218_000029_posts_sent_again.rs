//! What admission reads of a reply's author in its topic, inside the writers' turn: whether they
//! posted the same text there in the last 30 seconds (app::server::posting::admission,
//! `SAME_REPLY_AGAIN`). Without this index SQLite read, row by row, either every post the
//! author wrote in those 30 seconds (by the author's index by time) or every post of the topic
//! (by its index by number), as the statistics had it, to find the author's few there: under
//! the reply benchmark, whose writers each post about 20 a second, about 630 rows and 0.18 ms a
//! reply, every writer of the site waiting meanwhile. By `(topic_id, author_id, created_at)`
//! it reads the author's posts in this topic in the window only. `IF NOT EXISTS`: an operator
//! may have made it by hand.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS idx_posts_topic_author_created
                 ON posts (topic_id, author_id, created_at)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS idx_posts_topic_author_created")
            .await?;
        Ok(())
    }
}
