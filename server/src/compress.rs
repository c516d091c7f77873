//! Gzip for HTML pages sent to browsers. Shared (cached) pages keep a copy made once when stored
//! (page_cache); pages rendered for one reader are compressed here as they leave, at the
//! fastest level, since they are made once and sent once.
//!
//! Only for clients that send Sec-Fetch-Site (every current browser): for the others the
//! cross-site layer writes a token into the page's forms and must see plain HTML. A page made
//! for one reader is compressed only when the request came from this site itself (or was typed
//! or bookmarked): a page another site made the browser ask for is sent plain, so nothing on it
//! can be guessed from its compressed length (BREACH); session cookies are SameSite=Lax, so
//! such requests rarely carry one anyway.
use axum::{
    body::{Body, Bytes},
    extract::Request,
    http::{HeaderMap, HeaderValue, header},
    middleware::Next,
    response::Response,
};
use flate2::Compression;

/// Below this, compressing saves less than the header it costs.
const MIN_BYTES: usize = 1024;
/// Pages are rendered whole before they are sent; this only bounds what is collected to compress.
const MAX_BYTES: usize = 16 * 1024 * 1024;

/// Whether the client is a browser (Sec-Fetch-Site) that takes gzip (not `q=0`).
pub fn browser_takes_gzip(headers: &HeaderMap) -> bool {
    headers.contains_key("sec-fetch-site")
        && headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|coding| {
                let mut parts = coding.split(';').map(str::trim);
                parts
                    .next()
                    .is_some_and(|name| name.eq_ignore_ascii_case("gzip"))
                    && parts.all(|p| !matches!(p, "q=0" | "q=0.0" | "q=0.00" | "q=0.000"))
            })
}

pub fn gzip(body: &[u8], level: Compression) -> Option<Bytes> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4 + 64), level);
    encoder.write_all(body).ok()?;
    encoder.finish().ok().map(Bytes::from)
}

/// Compresses HTML answers for browsers that asked from this site (see the module header).
/// Answers already encoded (the page cache's copies) pass as they are.
pub async fn pages(req: Request, next: Next) -> Response {
    let from_here = req
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v == "same-origin" || v == "none");
    let wanted = from_here && browser_takes_gzip(req.headers());
    let res = next.run(req).await;
    let headers = res.headers();
    let html = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !wanted || !html || headers.contains_key(header::CONTENT_ENCODING) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    // Larger than is worth holding to compress: sent as it is.
    let bytes = match crate::bodies::up_to(body, MAX_BYTES).await {
        Ok(bytes) => bytes,
        Err(body) => return Response::from_parts(parts, body),
    };
    if bytes.len() < MIN_BYTES {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let Some(compressed) = gzip(&bytes, Compression::fast()) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    Response::from_parts(parts, Body::from(compressed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_browsers_that_take_gzip() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.append(*k, HeaderValue::from_static(v));
            }
            h
        };
        let site = ("sec-fetch-site", "same-origin");
        assert!(browser_takes_gzip(&headers(&[
            site,
            ("accept-encoding", "gzip, deflate, br")
        ])));
        assert!(browser_takes_gzip(&headers(&[
            site,
            ("accept-encoding", "br"),
            ("accept-encoding", "GZIP;q=0.5")
        ])));
        assert!(!browser_takes_gzip(&headers(&[
            site,
            ("accept-encoding", "gzip;q=0")
        ])));
        assert!(!browser_takes_gzip(&headers(&[
            site,
            ("accept-encoding", "br, identity")
        ])));
        assert!(!browser_takes_gzip(&headers(&[site])));
        assert!(
            !browser_takes_gzip(&headers(&[("accept-encoding", "gzip")])),
            "not a browser"
        );
    }
}
