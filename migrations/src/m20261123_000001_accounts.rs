//! Accounts, database-backed sessions and the one-shot form tokens that stop double submits.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(string_len(Users::Username, 32))
                    // Lower-cased copies carry the unique indexes, so "Ada" and "ada" collide
                    // the same way on SQLite and PostgreSQL.
                    .col(string_len_uniq(Users::UsernameKey, 32))
                    .col(string_len(Users::Email, 254))
                    .col(string_len_uniq(Users::EmailKey, 254))
                    .col(string_len(Users::DisplayName, 64))
                    .col(text(Users::PasswordHash))
                    .col(string_len(Users::Role, 16).default("customer"))
                    .col(string_len_null(Users::StaffTitle, 64))
                    .col(small_integer(Users::TrustLevel).default(0))
                    .col(timestamp_with_time_zone_null(Users::SuspendedUntil))
                    .col(text_null(Users::SuspensionReason))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone_null(Users::LastSeenAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(string_len(Sessions::Id, 64).primary_key())
                    .col(big_integer_null(Sessions::UserId))
                    .col(text(Sessions::Data))
                    // Unix seconds: compared with plain integers on every backend.
                    .col(big_integer(Sessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_expires_at")
                    .table(Sessions::Table)
                    .col(Sessions::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user_id")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FormSubmissions::Table)
                    .col(string_len(FormSubmissions::Token, 64).primary_key())
                    .col(timestamp_with_time_zone(FormSubmissions::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FormSubmissions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Users {
    Table,
    Id,
    Username,
    UsernameKey,
    Email,
    EmailKey,
    DisplayName,
    PasswordHash,
    Role,
    StaffTitle,
    TrustLevel,
    SuspendedUntil,
    SuspensionReason,
    CreatedAt,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    Data,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum FormSubmissions {
    Table,
    Token,
    CreatedAt,
}
