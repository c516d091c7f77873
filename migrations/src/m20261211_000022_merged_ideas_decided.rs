//! A merged duplicate idea no longer waits for staff (the rule in app's posting::settle counts a
//! merge as a decision since this change). Duplicates merged before it kept their clock and sat
//! in the staff queue: each one whose latest deciding event is its merge stops waiting, as
//! settling it again would decide. One pass over the merged topics, once.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE topics SET awaiting_staff_since = NULL \
                 WHERE merged_into_id IS NOT NULL AND awaiting_staff_since IS NOT NULL \
                   AND (SELECT e.kind FROM topic_events e \
                         WHERE e.topic_id = topics.id \
                           AND e.kind IN ('reopened', 'status', 'no_reply_needed', \
                                          'category_archived', 'merged') \
                         ORDER BY e.created_at DESC, e.id DESC LIMIT 1) = 'merged'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // A correction of derived data: nothing to undo.
        Ok(())
    }
}
