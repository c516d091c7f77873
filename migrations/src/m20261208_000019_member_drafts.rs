//! Drafts kept on the server for signed-in members (issue 19): what a member was writing in a
//! composer, so it follows them to another browser or device. Sessions (app/src/server/drafts.rs)
//! keep drafts per browser; this is per member. One row per member and composer (`reply:12`,
//! `topic`, `edit:40`, `article:0`), bounded in count and size by the code that writes it.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MemberDrafts::Table)
                    .col(big_integer(MemberDrafts::UserId))
                    .col(string_len(MemberDrafts::DraftKey, 40))
                    // The draft's fields as JSON ({"title": …, "body": …}).
                    .col(text(MemberDrafts::Content))
                    // Bytes of `content`: what the member's budget counts.
                    .col(integer(MemberDrafts::ByteSize))
                    .col(timestamp_with_time_zone(MemberDrafts::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(MemberDrafts::UserId)
                            .col(MemberDrafts::DraftKey),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MemberDrafts::Table, MemberDrafts::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MemberDrafts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum MemberDrafts {
    Table,
    UserId,
    DraftKey,
    Content,
    ByteSize,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
