//! A topic whose opening post is hidden (by a moderator, or by members' flags) is no longer
//! listed (app::server::posting::settle): its title was in every list, on the home page and in
//! search, while its post was hidden for spam or abuse. This unlists the ones hidden before, and
//! recounts the categories' figures from their listed topics as `settle` does.
use sea_orm_migration::prelude::*;

/// Each category's figures from its listed topics, as `settle` keeps them; run after the topics
/// change sides either way.
const RECOUNT_CATEGORIES: &str = "UPDATE categories SET
    topic_count = (SELECT COUNT(*) FROM topics t
        WHERE t.category_id = categories.id AND t.visible),
    post_count = COALESCE((SELECT SUM(t.post_count) FROM topics t
        WHERE t.category_id = categories.id AND t.visible), 0),
    last_posted_at = (SELECT MAX(t.last_posted_at) FROM topics t
        WHERE t.category_id = categories.id AND t.visible)";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in [
            "UPDATE topics SET visible = FALSE
             WHERE visible
               AND EXISTS (SELECT 1 FROM posts p WHERE p.topic_id = topics.id
                           AND p.post_number = 1 AND p.state = 'hidden')
               AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.topic_id = topics.id)",
            RECOUNT_CATEGORIES,
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in [
            "UPDATE topics SET visible = TRUE
             WHERE NOT visible
               AND EXISTS (SELECT 1 FROM posts p WHERE p.topic_id = topics.id
                           AND p.post_number = 1 AND p.state = 'hidden')
               AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.topic_id = topics.id)",
            RECOUNT_CATEGORIES,
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
