//! Category colours come from a stylesheet (/category-colours.css, served by the router from
//! server::category_colours) rather than style attributes, so the Content-Security-Policy can
//! refuse every inline style. Pages link it with a hash of its text (`?v=`), so browsers keep it
//! until a colour or category changes instead of asking for it before every page can be shown.
use leptos::prelude::*;
use leptos_meta::Stylesheet;

pub use crate::format::colour_class;

/// The `<link>` to the current stylesheet, from the site facts every page loads.
#[component]
pub fn CategoryColours() -> impl IntoView {
    let site = expect_context::<crate::context::Site>().0;
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
