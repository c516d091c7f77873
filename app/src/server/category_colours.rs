//! The category colours' part of the theme stylesheet (server::theme, /theme.css), from the
//! stored categories.
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder, QuerySelect};

use super::entity::category;
use crate::{error::AppError, format::colour_class};

/// Every category's (slug, colour).
pub async fn pairs(db: &DatabaseConnection) -> Result<Vec<(String, String)>, AppError> {
    Ok(category::Entity::find()
        .select_only()
        .column(category::Column::Slug)
        .column(category::Column::Colour)
        .order_by_asc(category::Column::Id)
        .into_tuple()
        .all(db)
        .await?)
}

/// The stylesheet for `(slug, colour)` pairs. Anything that is not a slug and a #hex colour is
/// left out, so no stored value can write CSS of its own.
pub fn stylesheet(categories: &[(String, String)]) -> String {
    let mut css = String::from("/* Category colours, from the admin panel. */\n");
    for (slug, colour) in categories {
        let slug_ok = !slug.is_empty()
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let colour_ok = colour.len() == 7
            && colour.starts_with('#')
            && colour[1..].bytes().all(|b| b.is_ascii_hexdigit());
        if slug_ok && colour_ok {
            css.push_str(&format!(
                ".{} {{ --category-colour: {colour}; }}\n",
                colour_class(slug)
            ));
        }
    }
    css
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_slugs_and_hex_colours_reach_the_stylesheet() {
        let css = super::stylesheet(&[
            ("questions".into(), "#3b6ea5".into()),
            ("evil}body{display:none".into(), "#000000".into()),
            ("ok".into(), "red;} body {x".into()),
        ]);
        assert!(css.contains(".category-colour-questions { --category-colour: #3b6ea5; }"));
        assert!(!css.contains("evil") && !css.contains("red"));
    }
}
