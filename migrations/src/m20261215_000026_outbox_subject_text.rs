//! An e-mail's subject as text of any length. It was `varchar(200)`, but a notification's
//! subject is the site's name in brackets and then a topic title of up to 200 characters. On
//! PostgreSQL a 200-character title gave a 211-character subject, which the column refused: the
//! notification worker's turn failed every second, and every notification queued after it
//! waited. (SQLite stores any length in either type; nothing to change there.)
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("ALTER TABLE email_outbox ALTER COLUMN subject TYPE text")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "ALTER TABLE email_outbox ALTER COLUMN subject TYPE varchar(200)",
                )
                .await?;
        }
        Ok(())
    }
}
