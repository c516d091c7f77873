//! Similar topics, shown while a member writes a new topic's title.
use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
};

use super::{
    SEARCHES, SIMILAR_LIMIT,
    query::{self, Combine, Within},
};
use crate::{
    error::AppError,
    model::{SimilarTopic, topic_url},
    server::{db::numbered, entity::topic},
};

/// Up to five listed forum topics whose titles are like `title`: for a member about to ask
/// again what was asked before. Any of the title's words may match; the engine's relevance
/// ranks them, answered topics a little first.
pub async fn similar(db: &DatabaseConnection, title: &str) -> Result<Vec<SimilarTopic>, AppError> {
    let parsed = query::parse(title);
    if parsed.is_empty() || title.trim().chars().count() < 4 {
        return Ok(Vec::new());
    }
    let _turn = SEARCHES.acquire().await.map_err(|_| AppError::Internal)?;
    let backend = db.get_database_backend();
    let (expression, values) =
        query::expression(backend, &parsed.terms, Combine::Any, Within::Titles, 1);
    let answered = "CASE WHEN t.first_staff_reply_at IS NOT NULL THEN 1.2 ELSE 1.0 END";
    let sql = match backend {
        DbBackend::Postgres => format!(
            "SELECT COALESCE(t.merged_into_id, p.topic_id) AS topic_id FROM search_index s
               JOIN posts p ON p.id = s.doc_id
               JOIN topics t ON t.id = p.topic_id,
               (SELECT {expression} AS query) q
              WHERE s.title_document @@ q.query
                AND p.post_number = 1 AND p.state = 'visible' AND t.visible
                AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.topic_id = t.id)
              ORDER BY ts_rank(s.title_document, q.query) * {answered} DESC, t.id DESC
              LIMIT {SIMILAR_LIMIT}"
        ),
        _ => format!(
            "SELECT COALESCE(t.merged_into_id, p.topic_id) AS topic_id FROM search_index
               JOIN posts p ON p.id = search_index.rowid
               JOIN topics t ON t.id = p.topic_id
              WHERE search_index MATCH {expression}
                AND p.post_number = 1 AND p.state = 'visible' AND t.visible
                AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.topic_id = t.id)
              ORDER BY backyard_bm25(search_index, 8.0, 1.0, 1.0) * {answered}, t.id DESC
              LIMIT {SIMILAR_LIMIT}"
        ),
    };
    let ids: Vec<i64> = db
        .query_all_raw(numbered(backend, &sql, values))
        .await?
        .iter()
        .map(|row| row.try_get::<i64>("", "topic_id"))
        .collect::<Result<_, _>>()?;
    // A duplicate and its original name the same topic: shown once.
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<i64> = ids.into_iter().filter(|id| seen.insert(*id)).collect();
    let mut topics: HashMap<i64, topic::Model> = topic::Entity::find()
        .filter(topic::Column::Id.is_in(ids.clone()))
        // A merged duplicate's original since held or removed is not suggested.
        .filter(topic::Column::Visible.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    Ok(ids
        .iter()
        .filter_map(|id| topics.remove(id))
        .map(|t| SimilarTopic {
            url: topic_url(t.id, &t.slug, 1),
            title: t.title,
            status: t.status,
            resolution_confirmed: t.resolution_confirmed_at.is_some(),
            staff_answered: t.first_staff_reply_at.is_some(),
            reply_count: (t.post_count - 1).max(0),
        })
        .collect())
}
