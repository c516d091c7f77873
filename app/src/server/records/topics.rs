//! Topics by id, as lists name them.
use crate::model::TopicStatus;
use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::error::AppError;
use crate::server::entity::topic;

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

/// Resolved by staff, not yet answered by its author.
pub fn waits_for_confirmation(t: &topic::Model) -> bool {
    t.status == TopicStatus::Resolved.as_str() && t.resolution_confirmed_at.is_none()
}
