//! Who last edited a post that was not theirs to write (a moderator or an admin), so the post
//! can say "edited by a moderator" under its author's name and badge.
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
                    .add_column(big_integer_null(Posts::ModeratorEditBy))
                    .to_owned(),
            )
            .await?;
        // Posts edited by moderators before this column existed: their revisions say who.
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE posts SET moderator_edit_by = (
                 SELECT r.editor_id FROM post_revisions r
                 WHERE r.post_id = posts.id AND r.editor_id <> posts.author_id
                 ORDER BY r.id DESC LIMIT 1)
             WHERE EXISTS (SELECT 1 FROM post_revisions r
                 WHERE r.post_id = posts.id AND r.editor_id <> posts.author_id)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Posts::Table)
                    .drop_column(Posts::ModeratorEditBy)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Posts {
    Table,
    ModeratorEditBy,
}
