//! Sign-in hardening: failed log-ins (for throttling), password-reset tokens (stored hashed),
//! and the e-mail outbox that carries reset links.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(pk_auto(LoginFailures::Id).big_integer())
                    // The lower-cased name or address typed, whether or not it is an account.
                    .col(string_len(LoginFailures::LoginKey, 254))
                    .col(string_len_null(LoginFailures::Ip, 45))
                    .col(timestamp_with_time_zone(LoginFailures::FailedAt))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_login_failures_key", LoginFailures::LoginKey),
            ("idx_login_failures_ip", LoginFailures::Ip),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(LoginFailures::Table)
                        .col(column)
                        .col(LoginFailures::FailedAt)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PasswordResets::Table)
                    // SHA-256 of the token: the database never holds a usable link.
                    .col(string_len(PasswordResets::TokenHash, 64).primary_key())
                    .col(big_integer(PasswordResets::UserId))
                    .col(timestamp_with_time_zone(PasswordResets::CreatedAt))
                    .col(timestamp_with_time_zone(PasswordResets::ExpiresAt))
                    .col(timestamp_with_time_zone_null(PasswordResets::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PasswordResets::Table, PasswordResets::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EmailOutbox::Table)
                    .col(pk_auto(EmailOutbox::Id).big_integer())
                    .col(string_len(EmailOutbox::ToAddress, 254))
                    .col(string_len(EmailOutbox::Subject, 200))
                    .col(text(EmailOutbox::Body))
                    .col(timestamp_with_time_zone(EmailOutbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(EmailOutbox::SentAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            EmailOutbox::Table.into_iden(),
            PasswordResets::Table.into_iden(),
            LoginFailures::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Id,
    LoginKey,
    Ip,
    FailedAt,
}

#[derive(DeriveIden)]
enum PasswordResets {
    Table,
    TokenHash,
    UserId,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum EmailOutbox {
    Table,
    Id,
    ToAddress,
    Subject,
    Body,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
