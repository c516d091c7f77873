//! Each topic's public posts by when they were written: `(topic_id, created_at, author_id,
//! post_number)` over visible posts only. What is new to a member is a visible post written
//! after their horizon (at most 30 days ago, `records::reads`), so the home page's count per
//! category and the topic lists' markers read only a topic's public posts of that window from
//! here, however long the topic and whatever fills it besides. By post number instead (the only
//! index by topic before), a probe walked every post before the horizon, or every deleted or
//! held post after the last public one: 26 to 50 ms a home page with 200,000 such posts in one
//! topic, 0.15 ms with this. Partial, so that a deleted flood adds nothing to it; one more index
//! entry per public post. Covering (the author and the number too), so the rule reads no post
//! rows: with the two columns only in the table, the home page's count at a million posts took
//! 0.5 to 0.66 ms against 0.3 to 0.5 ms by post number; covering, 0.30 to 0.43 ms.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_posts_topic_visible_created
                 ON posts (topic_id, created_at, author_id, post_number) WHERE state = 'visible'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_posts_topic_visible_created")
            .await?;
        Ok(())
    }
}
