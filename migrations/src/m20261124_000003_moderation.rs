//! Moderation: flags, one review queue, the moderation log, notifications to members, watched
//! words; on posts the reason a moderator gave, on topics whether the public may see them.
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_accounts::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Posts::Table)
                    .add_column(text_null(Posts::ModerationReason))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Topics::Table)
                    // False while the opening post waits for approval or after it was removed.
                    .add_column(boolean(Topics::Visible).default(true))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Flags::Table)
                    .col(big_pk_auto(Flags::Id))
                    .col(big_integer(Flags::PostId))
                    .col(big_integer(Flags::FlaggerId))
                    // spam | rude | off_topic | illegal | other
                    .col(string_len(Flags::Reason, 16))
                    .col(text(Flags::Note).default(""))
                    // How much this flag counts toward hiding the post, in hundredths.
                    .col(integer(Flags::Weight).default(100))
                    // open | upheld | dismissed
                    .col(string_len(Flags::State, 16).default("open"))
                    .col(timestamp_with_time_zone(Flags::CreatedAt))
                    .col(timestamp_with_time_zone_null(Flags::ResolvedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Flags::Table, Flags::PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Flags::Table, Flags::FlaggerId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_flags_post")
                    .table(Flags::Table)
                    .col(Flags::PostId)
                    .col(Flags::State)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_flags_flagger")
                    .table(Flags::Table)
                    .col(Flags::FlaggerId)
                    .col(Flags::State)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ReviewItems::Table)
                    .col(big_pk_auto(ReviewItems::Id))
                    .col(big_integer(ReviewItems::PostId))
                    // flagged | held_new | held_words | edited
                    .col(string_len(ReviewItems::Kind, 16))
                    // open | resolved | rejected
                    .col(string_len(ReviewItems::State, 16).default("open"))
                    // The post as it was when it entered the queue.
                    .col(text(ReviewItems::SnapshotHtml))
                    .col(big_integer(ReviewItems::CategoryId))
                    .col(timestamp_with_time_zone(ReviewItems::CreatedAt))
                    .col(timestamp_with_time_zone_null(ReviewItems::ResolvedAt))
                    .col(big_integer_null(ReviewItems::ResolvedBy))
                    .col(string_len(ReviewItems::Resolution, 24).default(""))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReviewItems::Table, ReviewItems::PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_review_items_open")
                    .table(ReviewItems::Table)
                    .col(ReviewItems::State)
                    .col(ReviewItems::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_review_items_post")
                    .table(ReviewItems::Table)
                    .col(ReviewItems::PostId)
                    .col(ReviewItems::State)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ModerationLog::Table)
                    .col(big_pk_auto(ModerationLog::Id))
                    .col(big_integer(ModerationLog::ActorId))
                    .col(string_len(ModerationLog::Action, 24))
                    .col(big_integer_null(ModerationLog::PostId))
                    .col(big_integer_null(ModerationLog::TopicId))
                    .col(big_integer_null(ModerationLog::UserId))
                    .col(text(ModerationLog::Reason).default(""))
                    // Listed on the public /moderation page (actions on public content).
                    .col(boolean(ModerationLog::Public).default(false))
                    .col(timestamp_with_time_zone(ModerationLog::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ModerationLog::Table, ModerationLog::ActorId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_moderation_log_time")
                    .table(ModerationLog::Table)
                    .col(ModerationLog::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_moderation_log_user")
                    .table(ModerationLog::Table)
                    .col(ModerationLog::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(big_pk_auto(Notifications::Id))
                    .col(big_integer(Notifications::UserId))
                    .col(string_len(Notifications::Kind, 24))
                    .col(text(Notifications::Message))
                    .col(string_len(Notifications::Link, 300).default(""))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Notifications::Table, Notifications::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_user")
                    .table(Notifications::Table)
                    .col(Notifications::UserId)
                    .col(Notifications::ReadAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WatchedWords::Table)
                    .col(big_pk_auto(WatchedWords::Id))
                    .col(string_len_uniq(WatchedWords::Word, 100))
                    // block | hold | flag | censor
                    .col(string_len(WatchedWords::Action, 16))
                    .col(timestamp_with_time_zone(WatchedWords::CreatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WatchedWords::Table.into_iden(),
            Notifications::Table.into_iden(),
            ModerationLog::Table.into_iden(),
            ReviewItems::Table.into_iden(),
            Flags::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Topics::Table)
                    .drop_column(Topics::Visible)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Posts::Table)
                    .drop_column(Posts::ModerationReason)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Posts {
    Table,
    Id,
    ModerationReason,
}

#[derive(DeriveIden)]
enum Topics {
    Table,
    Visible,
}

#[derive(DeriveIden)]
enum Flags {
    Table,
    Id,
    PostId,
    FlaggerId,
    Reason,
    Note,
    Weight,
    State,
    CreatedAt,
    ResolvedAt,
}

#[derive(DeriveIden)]
enum ReviewItems {
    Table,
    Id,
    PostId,
    Kind,
    State,
    SnapshotHtml,
    CategoryId,
    CreatedAt,
    ResolvedAt,
    ResolvedBy,
    Resolution,
}

#[derive(DeriveIden)]
enum ModerationLog {
    Table,
    Id,
    ActorId,
    Action,
    PostId,
    TopicId,
    UserId,
    Reason,
    Public,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    Kind,
    Message,
    Link,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum WatchedWords {
    Table,
    Id,
    Word,
    Action,
    CreatedAt,
}
