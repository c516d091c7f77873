//! `noindex` in the page as well as in its header. A page says noindex through
//! `app::components::page::NoIndex`, which sets the `X-Robots-Tag` header; here a page with
//! that header gets `<meta name="robots" content="noindex">` at the end of its head. Not a
//! leptos_meta tag: leptos_meta 0.8 keeps only the head tags rendered by the time the stream's
//! first chunk is ready, and a view rendered late in a Suspense (an error view after a slow
//! count) missed it about one request in ten; a header set then is never missed. Inside the
//! page cache, so a cached copy has the tag too.
use axum::{
    body::Body,
    extract::Request,
    http::{HeaderName, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

pub const X_ROBOTS_TAG: HeaderName = HeaderName::from_static("x-robots-tag");
const META: &str = r#"<meta name="robots" content="noindex">"#;
/// Pages are far smaller; this only bounds what is read.
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

pub async fn noindex_meta(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let noindex = res
        .headers()
        .get(&X_ROBOTS_TAG)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"noindex"));
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !noindex || !html || res.headers().contains_key(header::CONTENT_ENCODING) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE_BYTES).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "page too large").into_response();
    };
    let Ok(page) = std::str::from_utf8(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    match with_meta(page) {
        Some(page) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(page))
        }
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}

/// The page with the meta tag at the end of its head, or None when its head has one already
/// (or it has no head).
fn with_meta(page: &str) -> Option<String> {
    let head_end = page.find("</head>")?;
    if page[..head_end].contains(r#"<meta name="robots""#) {
        return None;
    }
    let mut out = String::with_capacity(page.len() + META.len());
    out.push_str(&page[..head_end]);
    out.push_str(META);
    out.push_str(&page[head_end..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::with_meta;

    #[test]
    fn the_tag_goes_at_the_end_of_the_head_once() {
        assert_eq!(
            with_meta("<html><head><title>x</title></head><body>a</body></html>").as_deref(),
            Some(
                r#"<html><head><title>x</title><meta name="robots" content="noindex"></head><body>a</body></html>"#
            )
        );
        assert_eq!(
            with_meta(r#"<head><meta name="robots" content="noindex"></head>"#),
            None
        );
        assert_eq!(with_meta("no head"), None);
    }
}
