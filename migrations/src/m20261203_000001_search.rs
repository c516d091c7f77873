//! Full-text search in the database's own engine, so one machine and several search alike.
//!
//! One row per public post (`doc_id` = the post's id) and per article (`doc_id` = minus the
//! article's id), holding the clean text: the topic's title, the body as plain text, and the
//! body's Chinese, Japanese and Korean runs as two-character pieces (`cjk`), so that any two or
//! more consecutive characters find it on both engines, whatever the server's locale.
//!
//! - SQLite: an FTS5 table (its `rowid` is the doc id) with the Porter stemmer over unicode61
//!   with diacritics removed (café = cafe, exports = export).
//! - PostgreSQL: a table with a stored `tsvector` under a GIN index, in a text search
//!   configuration `backyard`: English stemming after `unaccent`.
//!
//! The index starts empty; the server fills it at start when it is empty and public posts exist
//! (app::server::search_index::ensure_built), since the plain text is made in Rust.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let statements: &[&str] = match manager.get_database_backend() {
            sea_orm::DbBackend::Postgres => &[
                "CREATE EXTENSION IF NOT EXISTS unaccent",
                "DO $$ BEGIN
                   IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'backyard') THEN
                     CREATE TEXT SEARCH CONFIGURATION backyard (COPY = pg_catalog.english);
                     ALTER TEXT SEARCH CONFIGURATION backyard
                       ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
                   END IF;
                 END $$",
                "CREATE TABLE search_index (
                   doc_id BIGINT PRIMARY KEY,
                   title TEXT NOT NULL,
                   body TEXT NOT NULL,
                   cjk TEXT NOT NULL,
                   document TSVECTOR NOT NULL
                 )",
                "CREATE INDEX idx_search_index_document ON search_index USING GIN (document)",
            ],
            _ => &["CREATE VIRTUAL TABLE search_index USING fts5(
                   title, body, cjk,
                   tokenize = 'porter unicode61 remove_diacritics 2'
                 )"],
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE search_index")
            .await?;
        Ok(())
    }
}
