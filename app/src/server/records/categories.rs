//! Categories as lists and pages name them.

use crate::model::CategoryRef;
use crate::server::entity::category;

pub(crate) fn category_ref(c: &category::Model) -> CategoryRef {
    CategoryRef {
        id: c.id,
        slug: c.slug.clone(),
        name: c.name.clone(),
        colour: c.colour.clone(),
    }
}

pub const CATEGORY_MISSING: &str = "Choose a category from the list.";
