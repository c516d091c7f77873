//! The admin panel: categories that are archived or closed to customers' new topics, and the
//! old addresses of renamed categories (so their links keep working).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Categories::Table)
                    .add_column(boolean(Categories::CustomersMayStart).default(true))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Categories::Table)
                    .add_column(boolean(Categories::Archived).default(false))
                    .to_owned(),
            )
            .await?;
        // Sign-ups by admin approval: the account exists but cannot log in until approved.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(boolean(Users::AwaitingApproval).default(false))
                    .to_owned(),
            )
            .await?;
        // The dashboard counts posts and sign-ups per day.
        manager
            .create_index(
                Index::create()
                    .name("idx_posts_created")
                    .table(Posts::Table)
                    .col(Posts::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_users_created")
                    .table(Users::Table)
                    .col(Users::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CategorySlugs::Table)
                    .col(string_len(CategorySlugs::OldSlug, 64).primary_key())
                    .col(big_integer(CategorySlugs::CategoryId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CategorySlugs::Table, CategorySlugs::CategoryId)
                            .to(Categories::Table, Categories::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CategorySlugs::Table).to_owned())
            .await?;
        for column in [Categories::Archived, Categories::CustomersMayStart] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Categories::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
    CustomersMayStart,
    Archived,
}

#[derive(DeriveIden)]
enum CategorySlugs {
    Table,
    OldSlug,
    CategoryId,
}

#[derive(DeriveIden)]
enum Posts {
    Table,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    CreatedAt,
    AwaitingApproval,
}
