//! Where a post is, and a post read for a change.
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement, sea_query::Expr,
};

use crate::{
    error::AppError,
    model::{PAGE_SIZE, article_url, topic_url},
    server::{
        db::numbered,
        entity::{article, post, topic},
        visibility::TOPIC_MISSING,
    },
};

/// A post's address: its topic's (or its article's) page holding it, anchored at the post.
pub async fn url(conn: &impl ConnectionTrait, p: &post::Model) -> Result<String, AppError> {
    let t = topic::Entity::find_by_id(p.topic_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(TOPIC_MISSING.into()))?;
    let article = article::Entity::find()
        .filter(article::Column::TopicId.eq(t.id))
        .one(conn)
        .await?;
    Ok(url_in(p, &t, article.as_ref()))
}

/// A post's address, its topic (and the topic's article, if it is an article's comments) known.
pub fn url_in(p: &post::Model, t: &topic::Model, article: Option<&article::Model>) -> String {
    let page = (p.post_number.max(1) as u64 - 1) / PAGE_SIZE + 1;
    let page_url = match article {
        Some(a) => article_url(&a.slug, page),
        None => topic_url(t.id, &t.slug, page),
    };
    format!("{page_url}#post-{}", p.post_number)
}

/// The post `id` read for a change, its row locked until the transaction ends (PostgreSQL;
/// SQLite's writers already take turns): two requests acting on one post at once act one after
/// the other, the second on what the first left.
///
/// The lock is a no-op `UPDATE`, and on SQLite it is left out: every write transaction there
/// holds the database's write lock from its start (`db::begin_write`), and the statement was a
/// round trip to SQLite's thread inside the writers' turn (two a reply).
pub async fn locked(txn: &impl ConnectionTrait, id: i64) -> Result<Option<post::Model>, AppError> {
    if txn.get_database_backend() != DbBackend::Sqlite {
        post::Entity::update_many()
            .col_expr(post::Column::State, Expr::col(post::Column::State))
            .filter(post::Column::Id.eq(id))
            .exec(txn)
            .await?;
    }
    Ok(post::Entity::find_by_id(id).one(txn).await?)
}

/// Where the post numbered last in the topic whose id is `topic` (a placeholder) is: one
/// written in the same round trip as this is read, whose id is not known yet
/// (`posting::write`). Found by the topic's unique (topic, number) index.
pub fn last_numbered_where(topic: &str) -> String {
    format!(
        "p.topic_id = {topic}
         AND p.post_number = (SELECT t.last_post_number FROM topics t WHERE t.id = {topic})"
    )
}

/// The read of the post numbered last in topic `topic_id` (see `last_numbered_where`).
pub fn last_numbered_read(backend: DbBackend, topic_id: i64) -> Statement {
    numbered(
        backend,
        &format!(
            "SELECT p.* FROM posts p WHERE {}",
            last_numbered_where("$1")
        ),
        vec![topic_id.into()],
    )
}
