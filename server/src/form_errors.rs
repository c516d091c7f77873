//! Form errors carried in the URL, signed. A form posted without JavaScript that fails is sent
//! back to its page with `__path` (the server function) and `__err` (the error) in the query, and
//! the page shows that error. Anyone can write such a URL, so on its own it would let a link put
//! any text (phishing copy) in the site's own login form. So the redirect also carries `__sig`,
//! an HMAC over the browser's cookie, the page and the error, and a page is rendered with the
//! error only when the signature holds for the browser asking: a crafted URL, or a real one
//! opened in another browser, shows the page without it.
use std::sync::Arc;

use app::server::{
    auth::{hmac_sha256, random_token, server_secret, to_hex},
    config::Config,
};
use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Uri, header},
    middleware::Next,
    response::Response,
};

use crate::security::{
    constant_time_eq, cookie_value, csrf_cookie, csrf_cookie_name, is_token, percent_decode,
};

const ERR: &str = "__err";
const PATH: &str = "__path";
const SIG: &str = "__sig";

/// The settings (cookie names) and the key that signs form errors (the database's
/// `form-errors` server secret, read on first use).
pub struct FormErrors {
    config: Arc<Config>,
    db: sea_orm::DatabaseConnection,
    key: tokio::sync::OnceCell<[u8; 32]>,
}

impl FormErrors {
    pub fn new(config: Arc<Config>, db: sea_orm::DatabaseConnection) -> Self {
        FormErrors {
            config,
            db,
            key: tokio::sync::OnceCell::new(),
        }
    }

    async fn key(&self) -> Option<&[u8; 32]> {
        self.key
            .get_or_try_init(|| server_secret(&self.db, "form-errors"))
            .await
            .ok()
    }

    /// The browser as the cross-site check knows it: its session cookie, else its token cookie.
    fn browser_of(&self, headers: &HeaderMap) -> Option<String> {
        cookie_value(headers, crate::session_cookie_name(&self.config))
            .filter(|s| !s.is_empty())
            .or_else(|| {
                cookie_value(headers, csrf_cookie_name(&self.config)).filter(|t| is_token(t))
            })
    }
}

/// Each part length-prefixed, so no choice of parts can make another's message.
fn signature(key: &[u8; 32], browser: &str, page: &str, fn_path: &[u8], err: &[u8]) -> String {
    let mut message = Vec::new();
    for part in [browser.as_bytes(), page.as_bytes(), fn_path, err] {
        message.extend_from_slice(format!("{}:", part.len()).as_bytes());
        message.extend_from_slice(part);
    }
    to_hex(&hmac_sha256(key, &message))
}

fn is_error_key(pair: &str) -> bool {
    let key = pair.split('=').next().unwrap_or("");
    [ERR, PATH, SIG].contains(&key)
}

/// The query's error parts, decoded: (`__path`, `__err`, `__sig`), when each is there once.
fn error_parts(query: &str) -> Option<(Vec<u8>, Vec<u8>, String)> {
    let values = |name: &str| -> Vec<Vec<u8>> {
        query
            .split('&')
            .filter_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .map(|v| percent_decode(v.as_bytes()))
            .collect()
    };
    let (mut paths, mut errs, mut sigs) = (values(PATH), values(ERR), values(SIG));
    if paths.len() != 1 || errs.len() != 1 || sigs.len() != 1 {
        return None;
    }
    let sig = String::from_utf8(sigs.pop()?).ok()?;
    Some((paths.pop()?, errs.pop()?, sig))
}

/// Signs the error in a failed no-JavaScript post's redirect, for the browser that will follow
/// it; and renders a page with an error from its URL only when that error was signed for this
/// browser and this page (otherwise the page is rendered as if the URL had no error).
pub async fn layer(State(guard): State<Arc<FormErrors>>, mut req: Request, next: Next) -> Response {
    let query = req.uri().query().unwrap_or("");
    if query.split('&').any(is_error_key) {
        let genuine = match (error_parts(query), guard.browser_of(req.headers())) {
            (Some((fn_path, err, sig)), Some(browser)) => match guard.key().await {
                Some(key) => {
                    let expected = signature(key, &browser, req.uri().path(), &fn_path, &err);
                    constant_time_eq(sig.as_bytes(), expected.as_bytes())
                }
                None => false,
            },
            _ => false,
        };
        if !genuine {
            strip_error_parts(req.uri_mut());
        }
    }
    let request_browser = guard.browser_of(req.headers());
    let mut res = next.run(req).await;
    sign_redirect(&guard, &mut res, request_browser).await;
    res
}

fn strip_error_parts(uri: &mut Uri) {
    let kept: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && !is_error_key(pair))
        .collect();
    let path_and_query = if kept.is_empty() {
        uri.path().to_string()
    } else {
        format!("{}?{}", uri.path(), kept.join("&"))
    };
    let mut parts = std::mem::take(uri).into_parts();
    parts.path_and_query = path_and_query.parse().ok();
    *uri = Uri::from_parts(parts).unwrap_or_else(|_| Uri::from_static("/"));
}

/// Rewrites a redirect whose Location carries error parts: the newest `__path`/`__err` (a
/// page that already had an error gets the new one appended), signed; a redirect after a
/// success that kept an old `__sig` loses it. A browser with neither cookie is given a token
/// cookie here, so that the error is bound to it.
async fn sign_redirect(guard: &FormErrors, res: &mut Response, request_browser: Option<String>) {
    let Some(location) = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return;
    };
    let (before_hash, hash) = match location.split_once('#') {
        Some((a, h)) => (a, Some(h)),
        None => (location.as_str(), None),
    };
    let Some((base, query)) = before_hash.split_once('?') else {
        return;
    };
    if !query.split('&').any(is_error_key) {
        return;
    }
    let mut kept: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && !is_error_key(pair))
        .map(str::to_string)
        .collect();
    let last = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .next_back()
            .map(str::to_string)
    };
    if let (Some(fn_path), Some(err)) = (last(PATH), last(ERR)) {
        let key = guard.key().await;
        // The browser as it will be when it follows the redirect: this response may start (or
        // end) its session.
        let session_name = crate::session_cookie_name(&guard.config);
        let set_session = res
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| {
                let value = c.strip_prefix(session_name)?.strip_prefix('=')?;
                Some(value.split(';').next().unwrap_or("").to_string())
            });
        let browser = match set_session {
            Some(value) if !value.is_empty() => Some(value),
            // An ended session leaves the token cookie, if any.
            Some(_) => None,
            None => request_browser,
        };
        let browser = match browser {
            Some(b) => b,
            None => {
                let fresh = random_token();
                res.headers_mut()
                    .append(header::SET_COOKIE, csrf_cookie(&guard.config, &fresh));
                fresh
            }
        };
        // Without the key the error is left out rather than shown unsigned.
        if let Some(key) = key {
            let page = page_of(base);
            let sig = signature(
                key,
                &browser,
                page,
                &percent_decode(fn_path.as_bytes()),
                &percent_decode(err.as_bytes()),
            );
            kept.push(format!("{PATH}={fn_path}"));
            kept.push(format!("{ERR}={err}"));
            kept.push(format!("{SIG}={sig}"));
        }
    }
    let mut rebuilt = base.to_string();
    if !kept.is_empty() {
        rebuilt.push('?');
        rebuilt.push_str(&kept.join("&"));
    }
    if let Some(hash) = hash {
        rebuilt.push('#');
        rebuilt.push_str(hash);
    }
    if let Ok(v) = HeaderValue::from_str(&rebuilt) {
        res.headers_mut().insert(header::LOCATION, v);
    }
}

/// The path of a Location (absolute, as the redirect back to the Referer is, or local).
fn page_of(base: &str) -> &str {
    match base.find("://") {
        Some(i) => {
            let rest = &base[i + 3..];
            rest.find('/').map_or("/", |slash| &rest[slash..])
        }
        None => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_parts_are_read_once_each_and_stripped_whole() {
        assert!(error_parts("__path=/a&__err=x&__sig=s").is_some());
        assert!(error_parts("__path=/a&__err=x&__err=y&__sig=s").is_none());
        assert!(error_parts("__path=/a&__err=x").is_none());
        let mut uri: Uri = "/login?next=%2F&__err=evil&__path=/api/log_in&__sig=1"
            .parse()
            .unwrap();
        strip_error_parts(&mut uri);
        assert_eq!(uri, "/login?next=%2F");
        assert_eq!(page_of("http://h:1/login"), "/login");
        assert_eq!(page_of("http://h:1"), "/");
        assert_eq!(page_of("/x"), "/x");
    }
}
