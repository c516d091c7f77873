//! Page-level pieces: HTTP status from a page, the error view, and the head tags every
//! content page carries (title, description, canonical URL, OpenGraph, `noindex`, JSON-LD).
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

/// Asks search engines not to index this page: an `X-Robots-Tag: noindex` header, which the
/// server turns into `<meta name="robots" content="noindex">` at the end of the head
/// (server/src/robots.rs) and the page cache keeps with the page. For pages that are not worth
/// a search result: empty lists, pages past the end, errors, search results, and every page
/// while the admin has indexing switched off. Not a leptos_meta `<Meta>`: leptos_meta 0.8 keeps
/// only the head tags rendered by the time the stream's first chunk is ready, and an error view
/// rendered late in a Suspense missed it about one time in ten.
#[component]
pub fn NoIndex() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.insert_header(
            axum::http::HeaderName::from_static("x-robots-tag"),
            axum::http::HeaderValue::from_static("noindex"),
        );
    }
}

/// JSON-LD (schema.org) for search engines, as `<script type="application/ld+json">`. `json` is
/// JSON from serde_json; the browser ends a script element at the first `</script` whatever
/// JSON thinks of it, so `<`, `>` and `&` (and the two line separators old JavaScript parsers
/// choke on) are written as JSON's own \u escapes: the same data to a JSON parser, and no
/// markup to an HTML one.
#[component]
pub fn JsonLd(json: String) -> impl IntoView {
    view! { <script type="application/ld+json" inner_html=script_safe_json(&json)></script> }
}

/// `json` with every character that could end or confuse a script element escaped as `\uXXXX`.
/// Only valid inside JSON strings or between tokens, which is where serde_json puts them.
pub fn script_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// A page that could not be shown: the right status, a plain message, a way on, and `noindex`
/// (a page past the end, a removed topic: nothing for a search result).
#[component]
pub fn ErrorView(error: AppError) -> impl IntoView {
    set_status(error.status());
    let heading = match &error {
        AppError::NotFound(_) => "Not found",
        AppError::Forbidden(_) => "Not allowed",
        AppError::SignInRequired(_) => "Please log in",
        _ => "Something went wrong",
    };
    // Signed out on a members' page: the way in, and back here after, rather than a dead end.
    // (Staff pages answer a visitor 403 with api::SIGNED_OUT, not naming who may see them.)
    let signed_out = match &error {
        AppError::SignInRequired(_) => true,
        AppError::Forbidden(why) => why == crate::api::SIGNED_OUT,
        _ => false,
    };
    let log_in = signed_out.then(|| {
        let location = leptos_router::hooks::use_location();
        let (path, search) = (
            location.pathname.get_untracked(),
            location.search.get_untracked(),
        );
        let here = match search.trim_start_matches('?') {
            "" => path,
            query => format!("{path}?{query}"),
        };
        let href = format!("/login?next={}", crate::paths::encode_query_value(&here));
        view! { <p class="signed-out-note"><a class="button primary" href=href>"Log in"</a></p> }
    });
    view! {
        <Title text=heading />
        <NoIndex />
        <section class="not-found">
            <h1>{heading}</h1>
            <p>{error.to_string()}</p>
            {log_in}
            <p><a class="button" href="/">"Go to the community home"</a></p>
        </section>
    }
}

/// Title, description, canonical URL and OpenGraph tags for a content page; with `noindex`,
/// also [`NoIndex`] (an empty list: worth a visit, not a search result).
#[component]
pub fn PageMeta(
    site: SiteInfo,
    title: String,
    description: String,
    /// The page's own path, e.g. /t/12/some-title
    path: String,
    #[prop(default = "website")] og_type: &'static str,
    #[prop(optional)] noindex: bool,
) -> impl IntoView {
    let url = format!("{}{}", site.public_url, path);
    view! {
        {noindex.then(|| view! { <NoIndex /> })}
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

#[cfg(test)]
mod tests {
    #[test]
    fn json_in_a_script_cannot_end_it_and_stays_the_same_json() {
        let json = "{\"a\":\"</script><script>alert(1)</script> & \u{2028} <!--\"}";
        let safe = super::script_safe_json(json);
        assert!(!safe.contains('<') && !safe.contains('>') && !safe.contains('&'));
        assert_eq!(
            safe,
            r#"{"a":"\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e \u0026 \u2028 \u003c!--"}"#
        );
    }
}
