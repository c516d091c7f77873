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
    admin::categories(&state::db()?, &user).await
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
) -> Result<(), AppError> {
    act("", |db, user| async move {
        let input = CategoryInput {
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
        admin::set_archived(&db, &user, category_id, archived == "yes").await
    })
    .await
}
