//! Topics by id, as lists name them.
use std::collections::{HashMap, HashSet};

use chrono::{Duration, Utc};
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::server::{
    blog, content,
    db::begin_write,
    entity::{category, post, topic, user},
    forms, moderation, posting, records, staff, visibility,
};
use crate::{
    error::AppError,
    model::{
        ActivityPost, CategoryPage, CategoryRef, CategorySummary, EditablePost, PAGE_SIZE,
        PostState, PostView, TopicListItem, TopicPage, UserProfile,
    },
};


/// Topics' slugs and titles by id, for lists that link to them (one query).
pub(crate) async fn topic_titles(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, (String, String)>, AppError> {
    Ok(topic::Entity::find()
        .select_only()
        .columns([topic::Column::Id, topic::Column::Slug, topic::Column::Title])
        .filter(topic::Column::Id.is_in(ids))
        .into_tuple::<(i64, String, String)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(id, slug, title)| (id, (slug, title)))
        .collect())
}
