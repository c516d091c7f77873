//! Category colours come from a stylesheet (/category-colours.css, served by the router) rather
//! than style attributes, so the Content-Security-Policy can refuse every inline style. Pages
//! link it with a hash of its text (`?v=`), so browsers keep it until a colour or category
//! changes instead of asking for it before every page can be shown.
use leptos::prelude::*;
use leptos_meta::Stylesheet;

/// The `<link>` to the current stylesheet, from the site facts every page loads.
#[component]
pub fn CategoryColours() -> impl IntoView {
    let site = expect_context::<crate::app::Site>().0;
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                site.await.ok().map(|s| {
                    let href = format!("/category-colours.css?v={}", s.colours_version);
                    view! { <Stylesheet id="category-colours" href /> }
                })
            })}
        </Suspense>
    }
}

/// The stylesheet for the categories as they are now, and its version (a hash of its text).
#[cfg(feature = "ssr")]
pub async fn current(
    db: &sea_orm::DatabaseConnection,
) -> Result<(String, String), crate::error::AppError> {
    use crate::server::entity::category;
    use sea_orm::{EntityTrait, QueryOrder, QuerySelect};
    use sha2::{Digest, Sha256};
    let pairs: Vec<(String, String)> = category::Entity::find()
        .select_only()
        .column(category::Column::Slug)
        .column(category::Column::Colour)
        .order_by_asc(category::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let css = stylesheet(&pairs);
    let digest = Sha256::digest(css.as_bytes());
    let version = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    Ok((css, version))
}

/// The class that gives an element its category's colour (as --category-colour).
pub fn colour_class(slug: &str) -> String {
    format!("category-colour-{slug}")
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
