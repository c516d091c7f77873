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
    // No redirect hook: form islands follow their server function's redirect themselves
    // (components::form::FormSend), and the islands' other calls (preview, similar topics,
    // quotes) never redirect.
    leptos::mount::hydrate_islands();
}
