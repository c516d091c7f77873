//! The forum core: categories, topics and posts. Blog comments will be posts too.
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_accounts::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Categories::Table)
                    .col(big_pk_auto(Categories::Id))
                    .col(string_len_uniq(Categories::Slug, 64))
                    .col(string_len(Categories::Name, 64))
                    .col(text(Categories::Description).default(""))
                    .col(integer(Categories::Position).default(0))
                    .col(string_len(Categories::Colour, 7).default("#3b6ea5"))
                    // forum | ideas | blog_comments
                    .col(string_len(Categories::Kind, 16).default("forum"))
                    .col(integer(Categories::ResponseTargetMinutes).default(24 * 60))
                    .col(integer(Categories::TopicCount).default(0))
                    .col(integer(Categories::PostCount).default(0))
                    .col(timestamp_with_time_zone_null(Categories::LastPostedAt))
                    .col(timestamp_with_time_zone(Categories::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Topics::Table)
                    .col(big_pk_auto(Topics::Id))
                    .col(big_integer(Topics::CategoryId))
                    .col(big_integer(Topics::AuthorId))
                    .col(string_len(Topics::Title, 200))
                    .col(string_len(Topics::Slug, 100))
                    // open | acknowledged | planned | in_progress | resolved | declined | closed
                    .col(string_len(Topics::Status, 16).default("open"))
                    .col(boolean(Topics::Pinned).default(false))
                    .col(boolean(Topics::Locked).default(false))
                    .col(integer(Topics::PostCount).default(0))
                    .col(timestamp_with_time_zone(Topics::CreatedAt))
                    .col(timestamp_with_time_zone(Topics::LastPostedAt))
                    .col(timestamp_with_time_zone_null(Topics::FirstStaffReplyAt))
                    .col(big_integer_null(Topics::OfficialAnswerPostId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Topics::Table, Topics::CategoryId)
                            .to(Categories::Table, Categories::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Topics::Table, Topics::AuthorId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_topics_category_activity")
                    .table(Topics::Table)
                    .col(Topics::CategoryId)
                    .col(Topics::Pinned)
                    .col(Topics::LastPostedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Posts::Table)
                    .col(big_pk_auto(Posts::Id))
                    .col(big_integer(Posts::TopicId))
                    .col(big_integer(Posts::AuthorId))
                    .col(integer(Posts::PostNumber))
                    .col(text(Posts::Source))
                    .col(text(Posts::Html))
                    // visible | pending | hidden | deleted
                    .col(string_len(Posts::State, 16).default("visible"))
                    // Fixed at posting time: a later demotion does not rewrite history.
                    .col(boolean(Posts::IsStaffReply).default(false))
                    .col(string_len_null(Posts::StaffTitle, 64))
                    .col(timestamp_with_time_zone(Posts::CreatedAt))
                    .col(timestamp_with_time_zone_null(Posts::EditedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Posts::Table, Posts::TopicId)
                            .to(Topics::Table, Topics::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Posts::Table, Posts::AuthorId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_posts_topic_number")
                    .table(Posts::Table)
                    .col(Posts::TopicId)
                    .col(Posts::PostNumber)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_posts_author")
                    .table(Posts::Table)
                    .col(Posts::AuthorId)
                    .col(Posts::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_topics_author")
                    .table(Topics::Table)
                    .col(Topics::AuthorId)
                    .col(Topics::CreatedAt)
                    .to_owned(),
            )
            .await?;

        // Every edit keeps what the post said before it, and who changed it.
        manager
            .create_table(
                Table::create()
                    .table(PostRevisions::Table)
                    .col(big_pk_auto(PostRevisions::Id))
                    .col(big_integer(PostRevisions::PostId))
                    .col(big_integer(PostRevisions::EditorId))
                    .col(text(PostRevisions::OldSource))
                    .col(timestamp_with_time_zone(PostRevisions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PostRevisions::Table, PostRevisions::PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PostRevisions::Table, PostRevisions::EditorId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_post_revisions_post")
                    .table(PostRevisions::Table)
                    .col(PostRevisions::PostId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Posts::Table.into_iden(),
            Topics::Table.into_iden(),
            Categories::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
    Slug,
    Name,
    Description,
    Position,
    Colour,
    Kind,
    ResponseTargetMinutes,
    TopicCount,
    PostCount,
    LastPostedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Topics {
    Table,
    Id,
    CategoryId,
    AuthorId,
    Title,
    Slug,
    Status,
    Pinned,
    Locked,
    PostCount,
    CreatedAt,
    LastPostedAt,
    FirstStaffReplyAt,
    OfficialAnswerPostId,
}

#[derive(DeriveIden)]
enum Posts {
    Table,
    Id,
    TopicId,
    AuthorId,
    PostNumber,
    Source,
    Html,
    State,
    IsStaffReply,
    StaffTitle,
    CreatedAt,
    EditedAt,
}

#[derive(DeriveIden)]
enum PostRevisions {
    Table,
    Id,
    PostId,
    EditorId,
    OldSource,
    CreatedAt,
}
