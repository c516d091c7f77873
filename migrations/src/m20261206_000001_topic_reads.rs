//! What each member has read, for the home page's "new" and "unread" markers: per topic, the
//! highest post number they have seen (Discourse's `last_read_post_number`, so a count of what
//! is unread is a range of post numbers, not a row per post); per member, when they last chose
//! "Mark all read" (activity before it is not new to them). And an index for the home page's
//! latest topics across categories.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TopicReads::Table)
                    .col(big_integer(TopicReads::UserId))
                    .col(big_integer(TopicReads::TopicId))
                    .col(integer(TopicReads::LastReadPostNumber))
                    .col(timestamp_with_time_zone(TopicReads::LastReadAt))
                    .primary_key(
                        Index::create()
                            .col(TopicReads::UserId)
                            .col(TopicReads::TopicId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TopicReads::Table, TopicReads::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TopicReads::Table, TopicReads::TopicId)
                            .to(Topics::Table, Topics::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A topic's rows go with it (the cascade looks them up by topic).
        manager
            .create_index(
                Index::create()
                    .name("idx_topic_reads_topic")
                    .table(TopicReads::Table)
                    .col(TopicReads::TopicId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReadHorizons::Table)
                    .col(big_integer(ReadHorizons::UserId).primary_key())
                    .col(timestamp_with_time_zone(ReadHorizons::AllReadAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReadHorizons::Table, ReadHorizons::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The latest topics across every category, newest activity first.
        manager
            .create_index(
                Index::create()
                    .name("idx_topics_last_posted")
                    .table(Topics::Table)
                    .col(Topics::LastPostedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the topic reads migration is not reversible".into(),
        ))
    }
}

#[derive(DeriveIden)]
enum TopicReads {
    Table,
    UserId,
    TopicId,
    LastReadPostNumber,
    LastReadAt,
}

#[derive(DeriveIden)]
enum ReadHorizons {
    Table,
    UserId,
    AllReadAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Topics {
    Table,
    Id,
    LastPostedAt,
}
