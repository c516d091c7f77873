#![recursion_limit = "256"]
//! Backyard: everything the server render and the browser islands share.
pub mod api;
pub mod app;
pub mod components;
pub mod context;
pub mod error;
pub mod format;
pub mod messages;
pub mod model;
pub mod pages;
pub mod paths;
#[cfg(feature = "ssr")]
pub mod server;

/// The browser entry point: hydrates the islands on the page and nothing else.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // After a post, the server sends the browser to the new post (…#post-N). When that is the
    // page already open, changing only the #fragment would not reload it, so reload explicitly.
    let _ = leptos::server_fn::redirect::set_redirect_hook(|target: &str| {
        let location = leptos::prelude::window().location();
        let here = format!(
            "{}{}",
            location.pathname().unwrap_or_default(),
            location.search().unwrap_or_default()
        );
        let same_page = target.split('#').next() == Some(here.as_str());
        let _ = location.set_href(target);
        if same_page {
            let _ = location.reload();
        }
    });
    leptos::mount::hydrate_islands();
}
