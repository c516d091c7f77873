//! Ideas and votes: one vote per member per idea, held as pending while its account is new,
//! unconfirmed, flagged or part of a burst; the idea's public count (verified votes only) and
//! pending count kept on the topic for lists; a merged duplicate points at its original; the
//! date of the last status change for the roadmap; whether voting follows the idea.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Votes::Table)
                    .col(big_pk_auto(Votes::Id))
                    .col(big_integer(Votes::TopicId))
                    .col(big_integer(Votes::UserId))
                    .col(timestamp_with_time_zone(Votes::CreatedAt))
                    // counted | pending
                    .col(string_len(Votes::State, 12))
                    // Why a pending vote waits: new_account | unconfirmed | flagged | burst.
                    .col(string_len(Votes::HeldReason, 16).default(""))
                    // The open burst review that holds it, if any.
                    .col(big_integer_null(Votes::ReviewItemId))
                    // Shown to admins only, in a burst review.
                    .col(string_len(Votes::ClientAddress, 64).default(""))
                    // The address's range (/24 for IPv4, /48 for IPv6): what a burst groups by.
                    .col(string_len(Votes::ClientRange, 64).default(""))
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "idx_votes_topic_user",
                vec![Votes::TopicId, Votes::UserId],
                true,
            ),
            (
                "idx_votes_topic_state_time",
                vec![Votes::TopicId, Votes::State, Votes::CreatedAt],
                false,
            ),
            // A burst is looked for among an idea's latest votes.
            (
                "idx_votes_topic_time",
                vec![Votes::TopicId, Votes::CreatedAt],
                false,
            ),
            ("idx_votes_user", vec![Votes::UserId, Votes::TopicId], false),
            (
                "idx_votes_state_time",
                vec![Votes::State, Votes::CreatedAt],
                false,
            ),
            ("idx_votes_review", vec![Votes::ReviewItemId], false),
        ] {
            let mut index = Index::create();
            index.name(name).table(Votes::Table);
            for col in cols {
                index.col(col);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        // One column per statement: SQLite alters a table one change at a time.
        for column in [
            integer(Topics::VoteCount).default(0).to_owned(),
            integer(Topics::PendingVoteCount).default(0).to_owned(),
            big_integer_null(Topics::MergedIntoId),
            timestamp_with_time_zone_null(Topics::StatusChangedAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Topics::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_topics_category_votes")
                    .table(Topics::Table)
                    .col(Topics::CategoryId)
                    .col(Topics::VoteCount)
                    .to_owned(),
            )
            .await?;
        // An ideas list by newest: the category's topics already in order.
        manager
            .create_index(
                Index::create()
                    .name("idx_topics_category_created")
                    .table(Topics::Table)
                    .col(Topics::CategoryId)
                    .col(Topics::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_topics_status_changed")
                    .table(Topics::Table)
                    .col(Topics::Status)
                    .col(Topics::StatusChangedAt)
                    .to_owned(),
            )
            .await?;
        // The roadmap: one status's ideas of the ideas categories, most votes first, read from
        // the index without visiting the forum's topics of that status.
        manager
            .create_index(
                Index::create()
                    .name("idx_topics_status_category_votes")
                    .table(Topics::Table)
                    .col(Topics::Status)
                    .col(Topics::CategoryId)
                    .col(Topics::VoteCount)
                    .to_owned(),
            )
            .await?;
        for column in [
            boolean(Users::FollowOnVote).default(true).to_owned(),
            // A moderator rejected the account's votes as part of a burst: its votes wait for
            // review from now on.
            timestamp_with_time_zone_null(Users::VotesFlaggedAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // The roadmap's date for topics whose status changed before this migration: their last
        // status event.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE topics SET status_changed_at = (SELECT MAX(e.created_at) FROM topic_events e
                   WHERE e.topic_id = topics.id AND e.kind = 'status')",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Votes::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Votes {
    Table,
    Id,
    TopicId,
    UserId,
    CreatedAt,
    State,
    HeldReason,
    ReviewItemId,
    ClientAddress,
    ClientRange,
}

#[derive(DeriveIden)]
enum Topics {
    Table,
    CategoryId,
    CreatedAt,
    Status,
    VoteCount,
    PendingVoteCount,
    MergedIntoId,
    StatusChangedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    FollowOnVote,
    VotesFlaggedAt,
}
