//! Page-level pieces: HTTP status from a page, the error view, and the head tags every
//! content page carries (title, description, canonical URL, OpenGraph).
use leptos::prelude::*;
use leptos_meta::{Link, Meta, Title};

use crate::{error::AppError, model::SiteInfo};

/// Sets the response status of the page being rendered (server only; a no-op in the browser).
pub fn set_status(code: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(res), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::StatusCode::from_u16(code),
    ) {
        res.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}

/// Answers the page request with a 301 to `url` (old or mistyped slugs). Only a local path
/// (crate::paths::local_path) is ever sent; anything else leaves the page as it is.
pub fn redirect_permanently(url: &str) {
    #[cfg(feature = "ssr")]
    if let (Some(res), Some(Ok(location))) = (
        use_context::<leptos_axum::ResponseOptions>(),
        crate::paths::local_path(url).map(|path| axum::http::HeaderValue::from_str(&path)),
    ) {
        res.set_status(axum::http::StatusCode::MOVED_PERMANENTLY);
        res.insert_header(axum::http::header::LOCATION, location);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = url;
}

/// A page that could not be shown: the right status, a plain message, a way on.
#[component]
pub fn ErrorView(error: AppError) -> impl IntoView {
    set_status(error.status());
    let heading = match &error {
        AppError::NotFound(_) => "Not found",
        AppError::Forbidden(_) => "Not allowed",
        AppError::SignInRequired(_) => "Please log in",
        _ => "Something went wrong",
    };
    view! {
        <Title text=heading />
        <section class="not-found">
            <h1>{heading}</h1>
            <p>{error.to_string()}</p>
            <p><a class="button" href="/">"Go to the community home"</a></p>
        </section>
    }
}

/// Title, description, canonical URL and OpenGraph tags for a content page.
#[component]
pub fn PageMeta(
    site: SiteInfo,
    title: String,
    description: String,
    /// The page's own path, e.g. /t/12/some-title
    path: String,
    #[prop(default = "website")] og_type: &'static str,
) -> impl IntoView {
    let url = format!("{}{}", site.public_url, path);
    view! {
        <Title text=title.clone() />
        <Meta name="description" content=description.clone() />
        <Link rel="canonical" href=url.clone() />
        <Meta property="og:site_name" content=site.name />
        <Meta property="og:type" content=og_type />
        <Meta property="og:title" content=title />
        <Meta property="og:description" content=description />
        <Meta property="og:url" content=url />
    }
}

/// Reads `?name=` as a number, defaulting when it is missing or not a number.
pub fn query_number<T: std::str::FromStr>(
    query: &leptos_router::params::ParamsMap,
    name: &str,
) -> Option<T> {
    query.get(name).and_then(|v| v.parse().ok())
}
