//! Staff response: who is waiting for staff and since when, resolutions and their confirmation,
//! a topic's history of staff actions, and site settings.
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_accounts::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        for column in [
            // Set while the topic waits for a staff answer (new, or reopened); the queue's key.
            timestamp_with_time_zone_null(Topics::AwaitingStaffSince),
            // A staff member started it: it waits for nobody and is left out of the figures.
            boolean(Topics::StartedByStaff).default(false).to_owned(),
            timestamp_with_time_zone_null(Topics::ResolvedAt),
            timestamp_with_time_zone_null(Topics::ResolutionConfirmedAt),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Topics::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_topics_awaiting_staff")
                    .table(Topics::Table)
                    .col(Topics::AwaitingStaffSince)
                    .col(Topics::CategoryId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_topics_created")
                    .table(Topics::Table)
                    .col(Topics::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_topics_resolved")
                    .table(Topics::Table)
                    .col(Topics::ResolvedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TopicEvents::Table)
                    .col(big_pk_auto(TopicEvents::Id))
                    .col(big_integer(TopicEvents::TopicId))
                    .col(big_integer_null(TopicEvents::ActorId))
                    // status | answer | unanswer | no_reply_needed | confirmed | reopened
                    .col(string_len(TopicEvents::Kind, 24))
                    .col(string_len(TopicEvents::Detail, 64).default(""))
                    .col(text(TopicEvents::Note).default(""))
                    .col(boolean(TopicEvents::StaffOnly).default(false))
                    .col(timestamp_with_time_zone(TopicEvents::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TopicEvents::Table, TopicEvents::TopicId)
                            .to(Topics::Table, Topics::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TopicEvents::Table, TopicEvents::ActorId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_topic_events_topic")
                    .table(TopicEvents::Table)
                    .col(TopicEvents::TopicId)
                    .col(TopicEvents::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .col(string_len(Settings::Key, 64).primary_key())
                    .col(text(Settings::Value))
                    .to_owned(),
            )
            .await?;

        // Topics that exist already: who started them, and which still wait for staff.
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE topics SET started_by_staff = EXISTS (SELECT 1 FROM posts \
             WHERE posts.topic_id = topics.id AND posts.post_number = 1 AND posts.is_staff_reply)",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE topics SET awaiting_staff_since = created_at \
             WHERE first_staff_reply_at IS NULL AND started_by_staff = FALSE AND status = 'open' \
             AND category_id IN (SELECT id FROM categories WHERE kind <> 'blog_comments')",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Settings::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(TopicEvents::Table).to_owned())
            .await?;
        for column in [
            Topics::AwaitingStaffSince,
            Topics::StartedByStaff,
            Topics::ResolvedAt,
            Topics::ResolutionConfirmedAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Topics::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Topics {
    Table,
    Id,
    CategoryId,
    CreatedAt,
    AwaitingStaffSince,
    StartedByStaff,
    ResolvedAt,
    ResolutionConfirmedAt,
}

#[derive(DeriveIden)]
enum TopicEvents {
    Table,
    Id,
    TopicId,
    ActorId,
    Kind,
    Detail,
    Note,
    StaffOnly,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
}
