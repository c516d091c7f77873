//! Uploads: files kept once per content hash (`files`), each upload a member made of one
//! (`uploads`: who, under what name, when), which posts and articles use which uploads (a
//! file's URL is shown to whoever may see one of them), the bytes themselves when the site
//! keeps files in its database (`file_blobs`), images fetched from other sites for the image
//! proxy (`proxied_images`), and a member's avatar.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Files::Table)
                    // SHA-256 of the bytes as uploaded, in hex: the same screenshot twice is one
                    // file.
                    .col(string_len(Files::Hash, 64).primary_key())
                    // What the kept copy is: png | jpeg | gif | webp | pdf | zip | text.
                    .col(string_len(Files::Kind, 8))
                    // Bytes of the kept copy (re-encoded for images).
                    .col(big_integer(Files::ByteSize))
                    .col(integer_null(Files::Width))
                    .col(integer_null(Files::Height))
                    .col(boolean(Files::Animated).default(false))
                    // A WebP copy smaller than the kept one is stored beside it.
                    .col(boolean(Files::HasWebp).default(false))
                    .col(boolean(Files::HasThumb).default(false))
                    .col(timestamp_with_time_zone(Files::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Uploads::Table)
                    .col(big_pk_auto(Uploads::Id))
                    .col(big_integer(Uploads::UserId))
                    .col(string_len(Uploads::FileHash, 64))
                    // The name as the member's browser gave it (checked: no separators or
                    // control characters); downloads are offered under it.
                    .col(string_len(Uploads::Name, 255))
                    // Bytes received: what the daily allowance counts.
                    .col(big_integer(Uploads::ReceivedSize))
                    // post | avatar
                    .col(string_len(Uploads::Purpose, 8).default("post"))
                    .col(timestamp_with_time_zone(Uploads::CreatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_uploads_user_time",
                vec![Uploads::UserId, Uploads::CreatedAt],
            ),
            ("idx_uploads_file", vec![Uploads::FileHash]),
            ("idx_uploads_time", vec![Uploads::CreatedAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Uploads::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PostUploads::Table)
                    .col(big_integer(PostUploads::PostId))
                    .col(big_integer(PostUploads::UploadId))
                    .primary_key(
                        Index::create()
                            .col(PostUploads::PostId)
                            .col(PostUploads::UploadId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_post_uploads_upload")
                    .table(PostUploads::Table)
                    .col(PostUploads::UploadId)
                    .col(PostUploads::PostId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ArticleUploads::Table)
                    .col(big_integer(ArticleUploads::ArticleId))
                    .col(big_integer(ArticleUploads::UploadId))
                    .primary_key(
                        Index::create()
                            .col(ArticleUploads::ArticleId)
                            .col(ArticleUploads::UploadId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_article_uploads_upload")
                    .table(ArticleUploads::Table)
                    .col(ArticleUploads::UploadId)
                    .col(ArticleUploads::ArticleId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FileBlobs::Table)
                    .col(string_len(FileBlobs::Key, 200).primary_key())
                    .col(blob(FileBlobs::Data))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProxiedImages::Table)
                    // SHA-256 of the URL, in hex.
                    .col(string_len(ProxiedImages::UrlHash, 64).primary_key())
                    .col(text(ProxiedImages::Url))
                    // The fetched image once kept; none while it could not be fetched.
                    .col(string_len_null(ProxiedImages::FileHash, 64))
                    // Why the last fetch failed (shown to admins, logged), "" after success.
                    .col(string_len(ProxiedImages::Error, 300).default(""))
                    .col(timestamp_with_time_zone(ProxiedImages::FetchedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_proxied_images_file")
                    .table(ProxiedImages::Table)
                    .col(ProxiedImages::FileHash)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(big_integer_null(Users::AvatarUploadId))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Files::Table.into_iden(),
            Uploads::Table.into_iden(),
            PostUploads::Table.into_iden(),
            ArticleUploads::Table.into_iden(),
            FileBlobs::Table.into_iden(),
            ProxiedImages::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Files {
    Table,
    Hash,
    Kind,
    ByteSize,
    Width,
    Height,
    Animated,
    HasWebp,
    HasThumb,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Uploads {
    Table,
    Id,
    UserId,
    FileHash,
    Name,
    ReceivedSize,
    Purpose,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PostUploads {
    Table,
    PostId,
    UploadId,
}

#[derive(DeriveIden)]
enum ArticleUploads {
    Table,
    ArticleId,
    UploadId,
}

#[derive(DeriveIden)]
enum FileBlobs {
    Table,
    Key,
    Data,
}

#[derive(DeriveIden)]
enum ProxiedImages {
    Table,
    UrlHash,
    Url,
    FileHash,
    Error,
    FetchedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    AvatarUploadId,
}
