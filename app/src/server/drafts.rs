//! Unposted text kept in the member's session, so nothing typed is lost to a log-in, a
//! no-JavaScript preview or a refused post. Sessions exist for signed-out visitors too.
use tower_sessions::Session;

use crate::{error::AppError, model::Draft};

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

pub async fn save(session: &Session, key: &str, draft: &Draft) -> Result<(), AppError> {
    session.insert(key, draft).await.map_err(fail)
}

pub async fn load(session: &Session, key: &str) -> Result<Option<Draft>, AppError> {
    session.get(key).await.map_err(fail)
}

pub async fn clear(session: &Session, key: &str) -> Result<(), AppError> {
    session.remove::<Draft>(key).await.map_err(fail)?;
    Ok(())
}
