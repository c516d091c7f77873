//! The site's look from its settings: the theme stylesheet (accent colour and category colours,
//! server::theme), the favicon and the browser's chrome colour. The stylesheet is linked with a
//! hash of its text (`?v=`), so browsers keep it until an admin changes a colour or a category.
use leptos::prelude::*;
use leptos_meta::{Link, Meta, Stylesheet};

/// The head tags, from the site facts every page loads.
#[component]
pub fn SiteTheme() -> impl IntoView {
    let site = expect_context::<crate::context::Site>().0;
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                site.await.ok().map(|s| {
                    let href = format!("/theme.css?v={}", s.theme_version);
                    let icon = match s.favicon {
                        Some(href) => view! { <Link rel="icon" href /> }.into_any(),
                        None => view! { <Link rel="icon" href="/favicon.svg" type_="image/svg+xml" /> }.into_any(),
                    };
                    view! {
                        <Stylesheet id="theme" href />
                        {icon}
                        <Meta name="theme-color" content=s.theme_colour />
                    }
                })
            })}
        </Suspense>
    }
}
