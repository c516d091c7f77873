//! Admission's one read inside the write: the member's limits, the watched words, a reply sent
//! again, and whether the author is barred now, in one statement (a round trip in the writers'
//! turn on SQLite), which a reply's caller may send with its topic's read (`reply_under`).
use chrono::{Duration, Utc};
use sea_orm::ConnectionTrait;

use crate::{
    error::AppError,
    server::{
        db,
        entity::user,
        settings,
        watched_words::{self, WordAction},
    },
};

/// The same member posting the same text in the same topic within this window is a double
/// submit, whatever the form token says (two tabs, a retried request, a status sent twice).
pub const DUPLICATE_WINDOW_SECS: i64 = 30;

/// What admission reads inside the write, in one statement (each statement is a round trip in
/// the writers' turn on SQLite): the member's limits, the watched words, and for a reply
/// whether the member posted the same text in the topic a moment ago.
pub struct Rules {
    pub(super) posts_per_10_min: i64,
    pub(super) topics_per_hour: i64,
    pub(super) watched: Vec<watched_words::Watched>,
    pub(super) same_reply_again: bool,
    /// The author is suspended or their account deleted, as the database has it now.
    pub(super) barred: bool,
}

impl Rules {
    pub(super) async fn read(
        txn: &impl ConnectionTrait,
        author: &user::Model,
        source: &str,
        reply_in: Option<i64>,
    ) -> Result<Rules, AppError> {
        let statement = Rules::statement(txn.get_database_backend(), author.id, source, reply_in);
        Rules::from_rows(txn.query_all_raw(statement).await?)
    }

    /// The rules from the rows of `statement`.
    pub(super) fn from_rows(rows: Vec<sea_orm::QueryResult>) -> Result<Rules, AppError> {
        let (posts, topics) = (settings::POSTS_PER_10_MIN, settings::TOPICS_PER_HOUR);
        let mut rules = Rules {
            posts_per_10_min: posts.1,
            topics_per_hour: topics.1,
            watched: Vec::new(),
            same_reply_again: false,
            barred: false,
        };
        for row in rows {
            let what: String = row.try_get("", "what")?;
            let name: String = row.try_get("", "name")?;
            let detail: String = row.try_get("", "detail")?;
            match what.as_str() {
                "limit" if name == posts.0 => {
                    rules.posts_per_10_min = settings::number_or(Some(&detail), posts.1)
                }
                "limit" => rules.topics_per_hour = settings::number_or(Some(&detail), topics.1),
                "word" => rules.watched.extend(watched(name, &detail)),
                "barred" => rules.barred = true,
                _ => rules.same_reply_again = true,
            }
        }
        rules.watched.sort_by(|a, b| a.word.cmp(&b.word));
        Ok(rules)
    }

    /// The one statement `read` sends: the author's post in the topic is found by
    /// `idx_posts_topic_author_created`, among their posts there in the window only.
    pub(super) fn statement(
        backend: sea_orm::DbBackend,
        author_id: i64,
        source: &str,
        reply_in: Option<i64>,
    ) -> sea_orm::Statement {
        let (posts, topics) = (settings::POSTS_PER_10_MIN, settings::TOPICS_PER_HOUR);
        let mut sql = String::from(
            "SELECT 'limit' AS what, key AS name, value AS detail FROM settings
              WHERE key IN ($1, $2)
             UNION ALL
             SELECT 'word', word, action FROM watched_words",
        );
        let mut values: Vec<sea_orm::Value> = vec![posts.0.into(), topics.0.into()];
        if let Some(topic_id) = reply_in {
            sql.push_str(
                "
                 UNION ALL
                 SELECT 'same', '', '' WHERE EXISTS (
                   SELECT 1 FROM posts WHERE topic_id = $3 AND author_id = $4 AND source = $5
                                         AND created_at > $6)",
            );
            values.extend([
                topic_id.into(),
                author_id.into(),
                source.into(),
                (Utc::now() - Duration::seconds(DUPLICATE_WINDOW_SECS)).into(),
            ]);
        }
        // Whether the author was suspended or deleted since the request read them: a spammer's
        // replies in flight while a moderator removed them would be posted after the removal
        // swept their posts (the sweep and this read take turns: see `admit`).
        let n = values.len();
        sql.push_str(&format!(
            "
             UNION ALL
             SELECT 'barred', '', '' FROM users
              WHERE id = ${} AND (suspended_until > ${}
                                 OR (password_hash = '!' AND username_key LIKE '{}%'))",
            n + 1,
            n + 2,
            crate::server::names::DELETED_PREFIX,
        ));
        values.extend([author_id.into(), Utc::now().into()]);
        db::numbered(backend, &sql, values)
    }
}

/// A watched word as stored, its action read from text (none for an action this build does not
/// know).
pub(super) fn watched(word: String, action: &str) -> Option<watched_words::Watched> {
    Some(watched_words::Watched {
        action: WordAction::parse(action)?,
        word,
    })
}
