//! The moderation log's rows: every moderator and admin action, with who, what and why.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::error::AppError;
use crate::server::entity::{moderation_log, user};

/// One line of the moderation log: every moderator and admin action goes through here.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn log(
    conn: &impl ConnectionTrait,
    actor: &user::Model,
    action: &str,
    post_id: Option<i64>,
    topic_id: Option<i64>,
    user_id: Option<i64>,
    reason: &str,
    public: bool,
) -> Result<(), AppError> {
    moderation_log::ActiveModel {
        actor_id: Set(actor.id),
        action: Set(action.into()),
        post_id: Set(post_id),
        topic_id: Set(topic_id),
        user_id: Set(user_id),
        reason: Set(reason.into()),
        public: Set(public),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}
