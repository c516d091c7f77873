//! Admins' site settings (each one's bounds and log entry are in `settings`).
use sea_orm::DatabaseConnection;

use crate::server::{db::begin_write, entity::user, settings};
use crate::{error::AppError, model::SiteSettings};

/// Admins save the site's texts and switches; applied from the next page on.
pub async fn save_site_settings(
    db: &DatabaseConnection,
    actor: &user::Model,
    s: &SiteSettings,
) -> Result<(), AppError> {
    let on = |b: bool| if b { "true" } else { "false" };
    let txn = begin_write(db).await?;
    settings::change_all(
        &txn,
        settings::ChangedBy::Admin(actor),
        &[
            (settings::SITE_NAME.0, &s.site_name),
            (settings::SITE_TAGLINE.0, &s.tagline),
            (settings::WELCOME_MESSAGE.0, &s.welcome_message),
            (settings::SIGNUP_MODE.0, &s.signup_mode),
            (settings::ACCOUNTABILITY_PUBLIC, on(s.accountability_public)),
            (settings::MODERATION_LOG_PUBLIC, on(s.moderation_log_public)),
            (settings::SEARCH_ENGINES_INDEX, on(s.search_engines_index)),
        ],
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
