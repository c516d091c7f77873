//! The one post lifecycle: when each post first became public (the response clock counts from
//! there, so a held staff reply answers when it is approved and a restored one keeps its time),
//! and a topic's post numbering kept apart from its count of visible posts. The counts are then
//! recomputed from the rows: before this, they included held, hidden and deleted posts.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Posts::Table)
                    .add_column(timestamp_with_time_zone_null(Posts::PublishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Topics::Table)
                    .add_column(integer(Topics::LastPostNumber).default(0))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for sql in [
            // A post that is not waiting for approval was public from its creation (the time of
            // an approval was not kept before this).
            "UPDATE posts SET published_at = created_at WHERE state <> 'pending'",
            // A forum topic is listed by its opening post (accounts deleted with their posts
            // had left empty topics listed), and one whose opening post is gone waits for nobody.
            "UPDATE topics SET visible = EXISTS (SELECT 1 FROM posts p WHERE p.topic_id = topics.id
                 AND p.post_number = 1 AND p.state IN ('visible', 'hidden'))
             WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.topic_id = topics.id)",
            "UPDATE topics SET awaiting_staff_since = NULL WHERE started_by_staff OR NOT EXISTS
                 (SELECT 1 FROM posts p WHERE p.topic_id = topics.id AND p.post_number = 1
                  AND p.state IN ('visible', 'pending'))",
            "UPDATE topics SET last_post_number = COALESCE(
                 (SELECT MAX(p.post_number) FROM posts p WHERE p.topic_id = topics.id), 0)",
            "UPDATE topics SET post_count = (SELECT COUNT(*) FROM posts p
                 WHERE p.topic_id = topics.id AND p.state = 'visible')",
            // The clock by the one rule (see `posting::settle`): the earliest public staff reply
            // that is still public; none for a topic staff started.
            "UPDATE topics SET first_staff_reply_at = CASE WHEN started_by_staff THEN NULL ELSE
                 (SELECT MIN(p.published_at) FROM posts p WHERE p.topic_id = topics.id
                  AND p.post_number > 1 AND p.is_staff_reply AND p.state = 'visible') END",
            "UPDATE topics SET last_posted_at = COALESCE((SELECT MAX(p.published_at) FROM posts p
                 WHERE p.topic_id = topics.id AND p.state = 'visible'), created_at)",
            "UPDATE categories SET
                 topic_count = (SELECT COUNT(*) FROM topics t
                     WHERE t.category_id = categories.id AND t.visible),
                 post_count = COALESCE((SELECT SUM(t.post_count) FROM topics t
                     WHERE t.category_id = categories.id AND t.visible), 0),
                 last_posted_at = (SELECT MAX(t.last_posted_at) FROM topics t
                     WHERE t.category_id = categories.id AND t.visible)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Topics::Table)
                    .drop_column(Topics::LastPostNumber)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Posts::Table)
                    .drop_column(Posts::PublishedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Posts {
    Table,
    PublishedAt,
}

#[derive(DeriveIden)]
enum Topics {
    Table,
    LastPostNumber,
}
