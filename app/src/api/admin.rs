//! The admin panel's server functions: categories. Plain forms that come back to their page.
use leptos::prelude::*;

use crate::{error::AppError, model::AdminCategory};

#[cfg(feature = "ssr")]
use super::{act, signed_in};
#[cfg(feature = "ssr")]
use crate::server::{
    admin::{self, CategoryInput},
    state,
};

#[server(endpoint = "admin_categories")]
pub async fn get_admin_categories() -> Result<Vec<AdminCategory>, AppError> {
    let user = signed_in().await?;
    crate::server::views::admin::categories(&state::db()?, &user).await
}

/// Creates a category (`category_id` 0) or saves an edit.
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "save_category")]
pub async fn save_category(
    category_id: i64,
    name: String,
    slug: String,
    description: String,
    colour: String,
    target_hours: String,
    customers_may_start: Option<String>,
    kind: Option<String>,
) -> Result<(), AppError> {
    act("", |db, user| async move {
        let input = CategoryInput {
            kind: kind.unwrap_or_default(),
            name,
            slug,
            description,
            colour,
            target_hours,
            customers_may_start: customers_may_start.is_some(),
        };
        if category_id == 0 {
            admin::create_category(&db, &user, &input).await.map(|_| ())
        } else {
            admin::update_category(&db, &user, category_id, &input)
                .await
                .map(|_| ())
        }
    })
    .await
}

/// "up" or "down" one place.
#[server(endpoint = "move_category")]
pub async fn move_category(category_id: i64, direction: String) -> Result<(), AppError> {
    act("", |db, user| async move {
        admin::move_category(&db, &user, category_id, direction == "up").await
    })
    .await
}

#[server(endpoint = "archive_category")]
pub async fn archive_category(category_id: i64, archived: String) -> Result<(), AppError> {
    act("", |db, user| async move {
        let archived = match archived.as_str() {
            "yes" => true,
            "no" => false,
            _ => return Err(AppError::invalid("archived", "Choose archive or restore.")),
        };
        admin::set_archived(&db, &user, category_id, archived).await
    })
    .await
}

#[server(endpoint = "admin_users")]
pub async fn get_admin_users(q: String) -> Result<Vec<crate::model::AdminUserRow>, AppError> {
    let user = signed_in().await?;
    crate::server::views::admin::search_users(&state::db()?, &user, &q).await
}

#[server(endpoint = "admin_user")]
pub async fn get_admin_user(user_id: i64) -> Result<crate::model::AdminUserDetail, AppError> {
    let user = signed_in().await?;
    crate::server::views::admin::user_detail(&state::db()?, &user, user_id).await
}

#[server(endpoint = "set_role")]
pub async fn set_role(user_id: i64, role: String, title: String) -> Result<(), AppError> {
    act("", |db, user| async move {
        admin::set_role(&db, &user, user_id, &role, &title)
            .await
            .map(|_| ())
    })
    .await
}

#[server(endpoint = "log_out_everywhere")]
pub async fn log_out_everywhere(user_id: i64) -> Result<(), AppError> {
    act("", |db, user| async move {
        admin::log_out_everywhere(&db, &user, user_id)
            .await
            .map(|_| ())
    })
    .await
}

/// `posts` is "keep" or "remove". Asks first (`confirmed`, see api::confirm).
#[server(endpoint = "delete_account")]
pub async fn delete_account(
    user_id: i64,
    posts: String,
    confirmed: Option<String>,
) -> Result<(), AppError> {
    if !super::confirmed_or_ask(&confirmed, "delete_account", user_id, &posts, "").await? {
        return Ok(());
    }
    let answer = super::Answer {
        fn_path: <DeleteAccount as leptos::server_fn::ServerFn>::PATH,
        done: "account_deleted",
        post: None,
        anchor: "#status".into(),
        form: String::new(),
        kept: Vec::new(),
    };
    super::act_to(answer, |db, user| async move {
        let remove = match posts.as_str() {
            "remove" => true,
            "keep" => false,
            _ => {
                return Err(AppError::invalid(
                    "posts",
                    "Choose whether to keep their posts or remove them.",
                ));
            }
        };
        admin::delete_account(&db, &user, user_id, remove).await
    })
    .await
}

#[server(endpoint = "dashboard")]
pub async fn get_dashboard() -> Result<crate::model::Dashboard, AppError> {
    let user = signed_in().await?;
    crate::server::views::admin::dashboard(&state::db()?, &user).await
}

#[server(endpoint = "site_settings")]
pub async fn get_site_settings() -> Result<crate::model::SiteSettings, AppError> {
    let user = signed_in().await?;
    crate::server::views::admin::site_settings(&state::db()?, &user).await
}

/// The vote thresholds are optional fields: a form without them leaves them as they are.
#[server(endpoint = "save_site_settings")]
#[allow(clippy::too_many_arguments)]
pub async fn save_site_settings(
    site_name: String,
    tagline: String,
    welcome_message: String,
    signup_mode: String,
    accountability_public: Option<String>,
    moderation_log_public: Option<String>,
    search_engines_index: Option<String>,
    roadmap_public: Option<String>,
    vote_min_account_hours: Option<String>,
    vote_burst_votes: Option<String>,
    vote_burst_window_minutes: Option<String>,
    vote_burst_signup_minutes: Option<String>,
) -> Result<(), AppError> {
    use crate::server::settings;
    act("", |db, user| async move {
        let s = crate::model::SiteSettings {
            site_name,
            tagline,
            welcome_message,
            signup_mode,
            accountability_public: accountability_public.is_some(),
            moderation_log_public: moderation_log_public.is_some(),
            search_engines_index: search_engines_index.is_some(),
            roadmap_public: roadmap_public.is_some(),
            votes: Default::default(),
            uploads: Default::default(),
            brand: Default::default(),
            awaiting_approval: Vec::new(),
        };
        let numbers: Vec<(&str, &str)> = [
            (settings::VOTE_MIN_ACCOUNT_HOURS.0, &vote_min_account_hours),
            (settings::VOTE_BURST_VOTES.0, &vote_burst_votes),
            (
                settings::VOTE_BURST_WINDOW_MINUTES.0,
                &vote_burst_window_minutes,
            ),
            (
                settings::VOTE_BURST_SIGNUP_MINUTES.0,
                &vote_burst_signup_minutes,
            ),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key, value.as_deref()?)))
        .collect();
        admin::save_site_settings(&db, &user, &s, &numbers).await
    })
    .await
}

/// /admin/settings#uploads: the upload limits and what images from other sites become.
#[server(endpoint = "save_upload_settings")]
pub async fn save_upload_settings(
    upload_max_file_mb: String,
    upload_daily_mb: String,
    upload_file_types: String,
    upload_image_max_px: String,
    upload_animated_gifs: String,
    upload_new_members: String,
    external_images: String,
) -> Result<(), AppError> {
    use crate::server::settings as s;
    act("#uploads", |db, user| async move {
        let values = [
            (s::UPLOAD_MAX_FILE_MB.0, upload_max_file_mb.as_str()),
            (s::UPLOAD_DAILY_MB.0, upload_daily_mb.as_str()),
            (s::UPLOAD_FILE_TYPES.0, upload_file_types.as_str()),
            (s::UPLOAD_IMAGE_MAX_SIDE.0, upload_image_max_px.as_str()),
            (s::UPLOAD_ANIMATED_GIFS.0, upload_animated_gifs.as_str()),
            (s::UPLOAD_NEW_MEMBERS.0, upload_new_members.as_str()),
            (s::EXTERNAL_IMAGES.0, external_images.as_str()),
        ];
        let changed = admin::save_settings(&db, &user, &values).await?;
        if changed.contains(&s::EXTERNAL_IMAGES.0) {
            // In the background, like `backyard rerender`: the admin's page does not wait.
            tokio::spawn(async move {
                match crate::server::rerender::rerender_all(&db).await {
                    Ok(done) => {
                        tracing::info!(?done, "re-rendered for the external images setting")
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "re-rendering for the external images setting")
                    }
                }
            });
        }
        Ok(())
    })
    .await
}

/// /admin/settings#brand: the accent colour, logos and favicon by address (files are uploaded
/// by the form beside it, to /uploads with `purpose=brand`).
#[server(endpoint = "save_brand_settings")]
pub async fn save_brand_settings(
    accent_colour: String,
    logo_light: String,
    logo_dark: String,
    favicon: String,
) -> Result<(), AppError> {
    use crate::server::settings as s;
    act("#brand", |db, user| async move {
        let values = [
            (s::ACCENT_COLOUR.0, accent_colour.as_str()),
            (s::LOGO_LIGHT.0, logo_light.as_str()),
            (s::LOGO_DARK.0, logo_dark.as_str()),
            (s::FAVICON.0, favicon.as_str()),
        ];
        admin::save_settings(&db, &user, &values).await?;
        Ok(())
    })
    .await
}

/// The home page's introduction (Markdown), for /admin/settings#home.
#[server(endpoint = "home_intro")]
pub async fn get_home_intro() -> Result<String, AppError> {
    let user = signed_in().await?;
    crate::server::views::home::intro_source(&state::db()?, &user).await
}

/// /admin/settings#home: the home page's introduction, checked and logged like every setting.
#[server(endpoint = "save_home_intro")]
pub async fn save_home_intro(home_intro: String) -> Result<(), AppError> {
    act("#home", |db, user| async move {
        let values = [(crate::server::settings::HOME_INTRO.0, home_intro.as_str())];
        admin::save_settings(&db, &user, &values).await?;
        Ok(())
    })
    .await
}

/// `decision` is "approve" or "reject".
#[server(endpoint = "decide_signup")]
pub async fn decide_signup(user_id: i64, decision: String) -> Result<(), AppError> {
    act("#approvals", |db, user| async move {
        admin::decide_signup(&db, &user, user_id, decision == "approve").await
    })
    .await
}

/// `status`: queued, sent, failed, or empty for all.
#[server(endpoint = "mail_outbox")]
pub async fn get_mail_outbox(
    status: String,
    page: u64,
) -> Result<crate::model::MailOutbox, AppError> {
    let user = signed_in().await?;
    let delivery = crate::server::mail::delivery_description(&state::app_state()?.config);
    crate::server::views::admin::mail_outbox(&state::db()?, &user, &status, page, delivery).await
}

#[server(endpoint = "retry_mail")]
pub async fn retry_mail(id: i64) -> Result<(), AppError> {
    act("", |db, user| async move {
        admin::retry_mail(&db, &user, id).await
    })
    .await
}
