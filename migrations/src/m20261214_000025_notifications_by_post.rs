//! Notifications by the post they tell of: `(post_id, user_id)`. The notification worker tells a
//! post's followers only those it has not told of that post by name already (a mention, a
//! quote), a probe per follower and statement. By member (the only index a probe could take
//! before) it read every notification the member ever had, and a long-standing member collects
//! thousands; by post it reads the one or two rows of that post.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_notifications_post ON notifications (post_id, user_id)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_notifications_post")
            .await?;
        Ok(())
    }
}
