//! Categories as lists and pages name them.

use sea_orm::{DatabaseConnection, EntityTrait};

use crate::error::AppError;
use crate::model::CategoryRef;
use crate::server::entity::{category, category_slug};

pub(crate) fn category_ref(c: &category::Model) -> CategoryRef {
    CategoryRef {
        id: c.id,
        slug: c.slug.clone(),
        name: c.name.clone(),
        colour: c.colour.clone(),
    }
}

pub const CATEGORY_MISSING: &str = "Choose a category from the list.";

/// Where an old address of a renamed category points now.
pub async fn renamed_to(
    db: &DatabaseConnection,
    old_slug: &str,
) -> Result<Option<String>, AppError> {
    let Some(moved) = category_slug::Entity::find_by_id(old_slug.to_string())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(category::Entity::find_by_id(moved.category_id)
        .one(db)
        .await?
        .map(|c| c.slug))
}
