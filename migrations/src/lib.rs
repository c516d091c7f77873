//! The schema, one migration per file. A landed migration is never edited: add a new one.
pub use sea_orm_migration::prelude::*;

mod m20261123_000001_accounts;
mod m20261123_000002_forum;
mod m20261124_000001_blog;
mod m20261124_000002_staff_response;
mod m20261124_000003_moderation;
mod m20261124_000004_admin;
mod m20261124_000005_hardening;
mod m20261130_000001_sessions;
mod m20261130_000002_moderator_edits;
mod m20261201_000001_post_lifecycle;
mod m20261202_000001_notifications;
mod m20261203_000001_search;
mod m20261204_000001_ideas;
mod m20261205_000001_uploads;
mod m20261206_000001_topic_reads;
mod m20261207_000001_profiles;
mod m20261208_000019_member_drafts;
mod m20261209_000020_cluster;
mod m20261210_000021_scale_indexes;
mod m20261211_000022_merged_ideas_decided;
mod m20261212_000023_author_posts_state;
mod m20261213_000024_topic_visible_posts;
mod m20261214_000025_notifications_by_post;
mod m20261215_000026_outbox_subject_text;
mod m20261216_000027_fan_out_attempts;
mod m20261217_000028_posts_settle_facts;
mod m20261218_000029_posts_sent_again;
mod m20261219_000030_hidden_openings_unlisted;
mod m20261220_000031_address_keys;

pub use m20261124_000001_blog::BLOG_COMMENTS_SLUG;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let each: Vec<Box<dyn MigrationTrait>> = vec![
            Box::new(m20261123_000001_accounts::Migration),
            Box::new(m20261123_000002_forum::Migration),
            Box::new(m20261124_000001_blog::Migration),
            Box::new(m20261124_000002_staff_response::Migration),
            Box::new(m20261124_000003_moderation::Migration),
            Box::new(m20261124_000004_admin::Migration),
            Box::new(m20261124_000005_hardening::Migration),
            Box::new(m20261130_000001_sessions::Migration),
            Box::new(m20261130_000002_moderator_edits::Migration),
            Box::new(m20261201_000001_post_lifecycle::Migration),
            Box::new(m20261202_000001_notifications::Migration),
            Box::new(m20261203_000001_search::Migration),
            Box::new(m20261204_000001_ideas::Migration),
            Box::new(m20261205_000001_uploads::Migration),
            Box::new(m20261206_000001_topic_reads::Migration),
            Box::new(m20261207_000001_profiles::Migration),
            Box::new(m20261208_000019_member_drafts::Migration),
            Box::new(m20261209_000020_cluster::Migration),
            Box::new(m20261210_000021_scale_indexes::Migration),
            Box::new(m20261211_000022_merged_ideas_decided::Migration),
            Box::new(m20261212_000023_author_posts_state::Migration),
            Box::new(m20261213_000024_topic_visible_posts::Migration),
            Box::new(m20261214_000025_notifications_by_post::Migration),
            Box::new(m20261215_000026_outbox_subject_text::Migration),
            Box::new(m20261216_000027_fan_out_attempts::Migration),
            Box::new(m20261217_000028_posts_settle_facts::Migration),
            Box::new(m20261218_000029_posts_sent_again::Migration),
            Box::new(m20261219_000030_hidden_openings_unlisted::Migration),
            Box::new(m20261220_000031_address_keys::Migration),
        ];
        each.into_iter()
            .map(|migration| Box::new(Whole(migration)) as Box<dyn MigrationTrait>)
            .collect()
    }
}

/// A migration applied whole or not at all: its statements and its row in `seaql_migrations` in
/// one transaction, on SQLite as on PostgreSQL (sea-orm-migration wraps only PostgreSQL's by
/// default). Without it, a brand-new SQLite site stopped in the middle of a migration kept that
/// migration's first statements but not its record, and every later start tried them again and
/// failed ("duplicate column name"). No migration here needs to run outside a transaction: none
/// turns foreign keys off or vacuums, which SQLite ignores or refuses inside one.
pub struct Whole(pub Box<dyn MigrationTrait>);

impl MigrationName for Whole {
    fn name(&self) -> &str {
        self.0.name()
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Whole {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        self.0.up(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        self.0.down(manager).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
