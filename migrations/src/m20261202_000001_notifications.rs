//! Closing the loop: who follows which topic and watches which category, what each member wants
//! by e-mail, notifications that point at a post and collapse ("5 new replies in ..."), a queue
//! of changes to fan out to followers, confirmed and bouncing addresses, one-time e-mail
//! tokens, an outbox that retries with backoff and keeps its last error, received replies (so a
//! message handed over twice posts once).
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_accounts::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        for column in [
            // Existing addresses already received password resets: they count as confirmed.
            timestamp_with_time_zone_null(Members::EmailConfirmedAt),
            timestamp_with_time_zone_null(Members::EmailBouncingSince),
            // An IANA zone name; none: the site's.
            string_len_null(Members::TimeZone, 64),
            boolean(Members::FollowOnStart).default(true).to_owned(),
            boolean(Members::FollowOnReply).default(true).to_owned(),
            timestamp_with_time_zone_null(Members::LastDigestAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Members::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            big_integer_null(Notes::TopicId),
            big_integer_null(Notes::PostId),
            // How many events this one unread notification stands for ("5 new replies").
            integer(Notes::Count).default(1).to_owned(),
            // The notification is about a staff member's answer: shown with the badge.
            boolean(Notes::Staff).default(false).to_owned(),
            // The preference it falls under (answers, replies, new_topics, mentions), or "".
            string_len(Notes::MailKind, 16).default("").to_owned(),
            timestamp_with_time_zone_null(Notes::UpdatedAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Notes::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_topic")
                    .table(Notes::Table)
                    .col(Notes::TopicId)
                    .col(Notes::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TopicFollows::Table)
                    .col(big_integer(TopicFollows::UserId))
                    .col(big_integer(TopicFollows::TopicId))
                    // following | muted
                    .col(string_len(TopicFollows::Level, 12))
                    .col(timestamp_with_time_zone(TopicFollows::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(TopicFollows::UserId)
                            .col(TopicFollows::TopicId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TopicFollows::Table, TopicFollows::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TopicFollows::Table, TopicFollows::TopicId)
                            .to(Topics::Table, Topics::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_topic_follows_topic")
                    .table(TopicFollows::Table)
                    .col(TopicFollows::TopicId)
                    .col(TopicFollows::Level)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CategoryWatches::Table)
                    .col(big_integer(CategoryWatches::UserId))
                    .col(big_integer(CategoryWatches::CategoryId))
                    .col(timestamp_with_time_zone(CategoryWatches::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(CategoryWatches::UserId)
                            .col(CategoryWatches::CategoryId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CategoryWatches::Table, CategoryWatches::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CategoryWatches::Table, CategoryWatches::CategoryId)
                            .to(Categories::Table, Categories::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_category_watches_category")
                    .table(CategoryWatches::Table)
                    .col(CategoryWatches::CategoryId)
                    .to_owned(),
            )
            .await?;

        // A row only where a member chose something else than the default.
        manager
            .create_table(
                Table::create()
                    .table(MailPreferences::Table)
                    .col(big_integer(MailPreferences::UserId))
                    // answers | replies | new_topics | mentions
                    .col(string_len(MailPreferences::Kind, 16))
                    // immediately | digest | never
                    .col(string_len(MailPreferences::Mode, 12))
                    .primary_key(
                        Index::create()
                            .col(MailPreferences::UserId)
                            .col(MailPreferences::Kind),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MailPreferences::Table, MailPreferences::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // What a post or a topic change still owes its followers and watchers: written in the
        // change's transaction, fanned out by the worker (thousands of followers never slow the
        // request that caused it).
        manager
            .create_table(
                Table::create()
                    .table(FanOuts::Table)
                    .col(big_pk_auto(FanOuts::Id))
                    // reply | new_topic | status | answer | confirm
                    .col(string_len(FanOuts::Kind, 16))
                    .col(big_integer(FanOuts::TopicId))
                    .col(big_integer_null(FanOuts::PostId))
                    .col(big_integer(FanOuts::ActorId))
                    .col(text(FanOuts::Message))
                    .col(timestamp_with_time_zone(FanOuts::CreatedAt))
                    .col(timestamp_with_time_zone_null(FanOuts::DoneAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_fan_outs_waiting")
                    .table(FanOuts::Table)
                    .col(FanOuts::DoneAt)
                    .col(FanOuts::Id)
                    .to_owned(),
            )
            .await?;

        // Links sent by e-mail that work once: confirming an address (at sign-up or a change).
        manager
            .create_table(
                Table::create()
                    .table(EmailTokens::Table)
                    .col(big_pk_auto(EmailTokens::Id))
                    .col(big_integer(EmailTokens::UserId))
                    .col(string_len(EmailTokens::Address, 254))
                    // SHA-256 of the token, hex: the link itself is never stored.
                    .col(string_len_uniq(EmailTokens::TokenHash, 64))
                    .col(timestamp_with_time_zone(EmailTokens::CreatedAt))
                    .col(timestamp_with_time_zone(EmailTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(EmailTokens::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(EmailTokens::Table, EmailTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // Messages handed to `backyard receive-mail`, by Message-ID: one message, one post.
        manager
            .create_table(
                Table::create()
                    .table(ReceivedMail::Table)
                    .col(big_pk_auto(ReceivedMail::Id))
                    .col(string_len_uniq(ReceivedMail::MessageId, 300))
                    .col(big_integer_null(ReceivedMail::UserId))
                    .col(big_integer_null(ReceivedMail::PostId))
                    .col(timestamp_with_time_zone(ReceivedMail::ReceivedAt))
                    .to_owned(),
            )
            .await?;

        // The outbox: delivery state, retries with backoff, the last error for the admins.
        for column in [
            big_integer_null(Outbox::UserId),
            // reset | confirm | notice | notification | digest
            string_len(Outbox::Kind, 16).default("").to_owned(),
            text_null(Outbox::HtmlBody),
            string_len_null(Outbox::ReplyTo, 254),
            string_len_null(Outbox::ListUnsubscribe, 500),
            // queued | sent | failed
            string_len(Outbox::Status, 8).default("queued").to_owned(),
            integer(Outbox::Attempts).default(0).to_owned(),
            timestamp_with_time_zone_null(Outbox::NextAttemptAt),
            // A worker's claim: another worker leaves the message alone until then.
            timestamp_with_time_zone_null(Outbox::ClaimedUntil),
            text_null(Outbox::LastError),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Outbox::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_email_outbox_due")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        for sql in [
            "UPDATE users SET email_confirmed_at = created_at",
            "UPDATE notifications SET updated_at = created_at",
            "UPDATE email_outbox SET status = CASE WHEN sent_at IS NULL THEN 'queued' ELSE 'sent' END,
                 next_attempt_at = created_at, kind = 'reset'",
            // Every member already follows the topics they started.
            "INSERT INTO topic_follows (user_id, topic_id, level, created_at)
                 SELECT author_id, id, 'following', created_at FROM topics",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the notifications migration is not reversible".into(),
        ))
    }
}

#[derive(DeriveIden)]
enum Members {
    #[sea_orm(iden = "users")]
    Table,
    EmailConfirmedAt,
    EmailBouncingSince,
    TimeZone,
    FollowOnStart,
    FollowOnReply,
    LastDigestAt,
}

#[derive(DeriveIden)]
enum Notes {
    #[sea_orm(iden = "notifications")]
    Table,
    UserId,
    TopicId,
    PostId,
    Count,
    Staff,
    MailKind,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Topics {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TopicFollows {
    Table,
    UserId,
    TopicId,
    Level,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CategoryWatches {
    Table,
    UserId,
    CategoryId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MailPreferences {
    Table,
    UserId,
    Kind,
    Mode,
}

#[derive(DeriveIden)]
enum FanOuts {
    Table,
    Id,
    Kind,
    TopicId,
    PostId,
    ActorId,
    Message,
    CreatedAt,
    DoneAt,
}

#[derive(DeriveIden)]
enum EmailTokens {
    Table,
    Id,
    UserId,
    Address,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum ReceivedMail {
    Table,
    Id,
    MessageId,
    UserId,
    PostId,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    #[sea_orm(iden = "email_outbox")]
    Table,
    UserId,
    Kind,
    HtmlBody,
    ReplyTo,
    ListUnsubscribe,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastError,
}
