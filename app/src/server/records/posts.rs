//! Where a post is.
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::{
    error::AppError,
    model::{PAGE_SIZE, article_url, topic_url},
    server::{
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
    let page = (p.post_number.max(1) as u64 - 1) / PAGE_SIZE + 1;
    let article = article::Entity::find()
        .filter(article::Column::TopicId.eq(t.id))
        .one(conn)
        .await?;
    let page_url = match article {
        Some(a) => article_url(&a.slug, page),
        None => topic_url(t.id, &t.slug, page),
    };
    Ok(format!("{page_url}#post-{}", p.post_number))
}
