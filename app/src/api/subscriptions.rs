//! Following, muting and watching: one click on the topic or category page, with or without
//! JavaScript.
use leptos::prelude::*;

use crate::error::AppError;

#[cfg(feature = "ssr")]
use crate::server::subscriptions;

/// Sets the member's level for a topic ("following", "normal" or "muted"); gives the level now.
#[server(endpoint = "set_topic_level")]
pub async fn set_topic_level(topic_id: i64, level: String) -> Result<String, AppError> {
    super::act_in_place("#follow", |db, user| async move {
        let level = subscriptions::set_topic_level(&db, &user, topic_id, &level).await?;
        Ok(level.as_str().to_string())
    })
    .await
}

/// Watches a category for its new topics, or stops; gives whether the member watches it now.
#[server(endpoint = "watch_category")]
pub async fn watch_category(category_id: i64, watch: bool) -> Result<bool, AppError> {
    super::act_in_place("#watch", |db, user| async move {
        subscriptions::set_category_watch(&db, &user, category_id, watch).await?;
        Ok(watch)
    })
    .await
}
