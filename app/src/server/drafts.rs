//! Unposted text kept in the member's session, so nothing typed is lost to a log-in, a
//! no-JavaScript preview or a refused post. Sessions exist for signed-out visitors too.
//! Composers keep a `Draft`; the article editor keeps an `ArticleDraft`.
use serde::{Serialize, de::DeserializeOwned};
use tower_sessions::Session;

use crate::error::AppError;

fn fail(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "draft read/write failed");
    AppError::Internal
}

pub fn reply_key(topic_id: i64) -> String {
    format!("draft:reply:{topic_id}")
}
pub const NEW_TOPIC_KEY: &str = "draft:topic";
pub fn edit_key(post_id: i64) -> String {
    format!("draft:edit:{post_id}")
}
/// The article editor's draft; 0 for a new article.
pub fn article_key(article_id: i64) -> String {
    format!("draft:article:{article_id}")
}

pub async fn save<T: Serialize>(session: &Session, key: &str, draft: &T) -> Result<(), AppError> {
    session.insert(key, draft).await.map_err(fail)
}

pub async fn load<T: DeserializeOwned>(
    session: &Session,
    key: &str,
) -> Result<Option<T>, AppError> {
    session.get(key).await.map_err(fail)
}

pub async fn clear(session: &Session, key: &str) -> Result<(), AppError> {
    session.remove_value(key).await.map_err(fail)?;
    Ok(())
}
