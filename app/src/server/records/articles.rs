//! What an article row is: its state at a time, its address, the article whose comments a topic holds.
use std::collections::{HashMap, HashSet};

use chrono::{NaiveDateTime, Utc};
use migrations::BLOG_COMMENTS_SLUG;
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, Query},
};

use crate::server::{
    content::{self, MAX_BODY_CHARS},
    db::begin_write,
    entity::{article, article_tag, category, topic, user},
    forms, forum, posting, visibility,
};
use crate::{
    error::AppError,
    model::{
        ARTICLES_PER_PAGE, ArticleDraft, ArticlePage, ArticleState, ArticleSummary, BlogIndex,
        Role, article_url,
    },
};


pub fn state_of(a: &article::Model, now: DateTimeUtc) -> ArticleState {
    match (a.status.as_str(), a.published_at) {
        ("published", Some(at)) if at <= now => ArticleState::Published,
        ("published", Some(_)) => ArticleState::Scheduled,
        _ => ArticleState::Draft,
    }
}

/// The article whose comments topic `topic_id` is, if it is one.
pub async fn article_for_topic(
    conn: &impl ConnectionTrait,
    topic_id: i64,
) -> Result<Option<article::Model>, AppError> {
    Ok(article::Entity::find()
        .filter(article::Column::TopicId.eq(topic_id))
        .one(conn)
        .await?)
}

/// Where an article is, for links.
pub fn url_of(a: &article::Model) -> String {
    article_url(&a.slug, 1)
}
