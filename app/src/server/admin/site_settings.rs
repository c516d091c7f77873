//! Admins' site settings (each one's bounds and log entry are in `settings`).
use sea_orm::DatabaseConnection;

use crate::server::{db::begin_write, entity::user, settings};
use crate::{error::AppError, model::SiteSettings};

/// Admins save the site's texts and switches; applied from the next page on. `numbers` are
/// numeric settings as typed (the vote thresholds), each checked against its bounds; one the
/// form did not send is left as it is.
pub async fn save_site_settings(
    db: &DatabaseConnection,
    actor: &user::Model,
    s: &SiteSettings,
    numbers: &[(&str, &str)],
) -> Result<(), AppError> {
    let on = |b: bool| if b { "true" } else { "false" };
    let mut values: Vec<(&str, &str)> = vec![
        (settings::SITE_NAME.0, &s.site_name),
        (settings::SITE_TAGLINE.0, &s.tagline),
        (settings::WELCOME_MESSAGE.0, &s.welcome_message),
        (settings::SIGNUP_MODE.0, &s.signup_mode),
        (settings::ACCOUNTABILITY_PUBLIC, on(s.accountability_public)),
        (settings::MODERATION_LOG_PUBLIC, on(s.moderation_log_public)),
        (settings::SEARCH_ENGINES_INDEX, on(s.search_engines_index)),
        (settings::ROADMAP_PUBLIC, on(s.roadmap_public)),
    ];
    values.extend_from_slice(numbers);
    let txn = begin_write(db).await?;
    settings::change_all(&txn, settings::ChangedBy::Admin(actor), &values).await?;
    txn.commit().await?;
    Ok(())
}

/// Saves one form's settings (uploads, brand); the keys that changed. A change of what images
/// from other sites become needs every stored body re-rendered (pages show the HTML made at
/// write time): the caller starts that (`rerender` is a sibling feature).
pub async fn save_settings(
    db: &DatabaseConnection,
    actor: &user::Model,
    values: &[(&str, &str)],
) -> Result<Vec<&'static str>, AppError> {
    let txn = begin_write(db).await?;
    let changed = settings::change_all(&txn, settings::ChangedBy::Admin(actor), values).await?;
    txn.commit().await?;
    Ok(changed)
}

/// The brand images an uploaded file can become, by the upload form's `setting` field.
pub const BRAND_IMAGES: [&str; 3] = [
    settings::LOGO_LIGHT.0,
    settings::LOGO_DARK.0,
    settings::FAVICON.0,
];

/// Checked before the file is received, so a refused request stores nothing: admins only, and
/// `setting` one of [`BRAND_IMAGES`]. Returns the setting's key.
pub fn may_set_brand_image(actor: &user::Model, setting: &str) -> Result<&'static str, AppError> {
    crate::server::auth::require_role(Some(actor.role()), crate::model::Role::Admin)?;
    BRAND_IMAGES
        .into_iter()
        .find(|key| *key == setting)
        .ok_or_else(|| {
            AppError::invalid(
                "setting",
                "Choose the logo, the logo for dark mode or the favicon.",
            )
        })
}

/// Makes an uploaded image (its address on this site) the logo, dark logo or favicon; logged.
pub async fn set_brand_image(
    db: &DatabaseConnection,
    actor: &user::Model,
    setting: &str,
    address: &str,
) -> Result<(), AppError> {
    let key = may_set_brand_image(actor, setting)?;
    save_settings(db, actor, &[(key, address)]).await?;
    Ok(())
}
