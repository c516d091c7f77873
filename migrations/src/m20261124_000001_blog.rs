//! The company blog: articles written by staff, each with a comment topic in one hidden
//! "blog comments" category, so comments are ordinary posts (one pipeline, one flag queue, one
//! staff badge). Tags live in their own table so a tag's list is one indexed read.
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_accounts::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The slug of the category every article's comment topic lives in.
pub const BLOG_COMMENTS_SLUG: &str = "blog-comments";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Articles::Table)
                    .col(big_pk_auto(Articles::Id))
                    .col(big_integer(Articles::AuthorId))
                    .col(big_integer_uniq(Articles::TopicId))
                    .col(string_len_uniq(Articles::Slug, 100))
                    .col(string_len(Articles::Title, 200))
                    .col(text(Articles::Summary).default(""))
                    .col(text(Articles::Source))
                    .col(text(Articles::Html))
                    .col(string_len_null(Articles::CoverImageUrl, 500))
                    // draft | published; "scheduled" is published with a future published_at,
                    // so it goes public at that time with no job to run.
                    .col(string_len(Articles::Status, 16).default("draft"))
                    .col(timestamp_with_time_zone_null(Articles::PublishedAt))
                    .col(timestamp_with_time_zone(Articles::CreatedAt))
                    .col(timestamp_with_time_zone(Articles::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Articles::Table, Articles::AuthorId)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Articles::Table, Articles::TopicId)
                            .to(Topics::Table, Topics::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_articles_public")
                    .table(Articles::Table)
                    .col(Articles::Status)
                    .col(Articles::PublishedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ArticleTags::Table)
                    .col(big_integer(ArticleTags::ArticleId))
                    .col(string_len(ArticleTags::Tag, 32))
                    .primary_key(
                        Index::create()
                            .col(ArticleTags::ArticleId)
                            .col(ArticleTags::Tag),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ArticleTags::Table, ArticleTags::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_article_tags_tag")
                    .table(ArticleTags::Table)
                    .col(ArticleTags::Tag)
                    .to_owned(),
            )
            .await?;

        // The one category that holds every article's comments; the forum never lists it.
        let insert = Query::insert()
            .into_table(Categories::Table)
            .columns([
                Categories::Slug,
                Categories::Name,
                Categories::Description,
                Categories::Position,
                Categories::Colour,
                Categories::Kind,
                Categories::ResponseTargetMinutes,
                Categories::TopicCount,
                Categories::PostCount,
                Categories::CreatedAt,
            ])
            .values_panic([
                BLOG_COMMENTS_SLUG.into(),
                "Blog comments".into(),
                "Comments on the company blog's articles.".into(),
                1000.into(),
                "#3b6ea5".into(),
                "blog_comments".into(),
                (24 * 60).into(),
                0.into(),
                0.into(),
                sea_orm_migration::sea_orm::prelude::ChronoUtc::now().into(),
            ])
            .to_owned();
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ArticleTags::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Articles::Table).to_owned())
            .await?;
        let delete = Query::delete()
            .from_table(Categories::Table)
            .and_where(Expr::col(Categories::Slug).eq(BLOG_COMMENTS_SLUG))
            .to_owned();
        manager.exec_stmt(delete).await
    }
}

#[derive(DeriveIden)]
enum Articles {
    Table,
    Id,
    AuthorId,
    TopicId,
    Slug,
    Title,
    Summary,
    Source,
    Html,
    CoverImageUrl,
    Status,
    PublishedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ArticleTags {
    Table,
    ArticleId,
    Tag,
}

#[derive(DeriveIden)]
enum Topics {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Slug,
    Name,
    Description,
    Position,
    Colour,
    Kind,
    ResponseTargetMinutes,
    TopicCount,
    PostCount,
    CreatedAt,
}
