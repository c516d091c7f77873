//! The Content-Security-Policy of rendered pages. The only inline script is Leptos' hydration
//! loader; everything else comes from this site's own files. A page rendered for one reader
//! allows it by the render's nonce; a page the cache shares among visitors allows its inline
//! scripts by their hashes instead, so every visitor can be sent the same bytes.
use axum::http::{HeaderValue, header::CONTENT_SECURITY_POLICY};
use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use leptos::prelude::*;
use sha2::{Digest, Sha256};

/// No inline script but the allowed ones, no plugins, no framing, no `<base>` tricks, forms post
/// only here. Images only from this site: uploads, and other sites' pictures through the image
/// proxy (content.rs points them there), so a reader's browser never asks another site for
/// anything, even if some path put another site's address in a page. `wasm-unsafe-eval` lets
/// the browser compile the site's own WebAssembly.
fn policy(inline_scripts: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' {inline_scripts} 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'; form-action 'self'{}",
        live_reload_source()
    )
}

/// Under `cargo leptos watch` (it sets LEPTOS_WATCH) Leptos' `AutoReload` puts a script in
/// every page that opens a WebSocket to the tool's reload port, `ws://<this host>:<port>`:
/// another origin, which `default-src 'self'` would refuse, and then nothing reloads. The
/// policy allows that one port on any host then (the page may be opened as localhost or by
/// address), and never otherwise: cargo-leptos is not how the site is deployed.
fn live_reload_source() -> &'static str {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCE.get_or_init(|| {
        live_reload_source_for(
            std::env::var("LEPTOS_WATCH").ok().as_deref(),
            std::env::var("LEPTOS_RELOAD_PORT").ok().as_deref(),
        )
    })
}

/// The `connect-src` part for the live-reload socket, from LEPTOS_WATCH and
/// LEPTOS_RELOAD_PORT (3001 unless set, as in leptos_config).
fn live_reload_source_for(watch: Option<&str>, port: Option<&str>) -> String {
    if watch.is_none() {
        return String::new();
    }
    let port: u16 = port.and_then(|p| p.parse().ok()).unwrap_or(3001);
    format!("; connect-src 'self' ws://*:{port} wss://*:{port}")
}

/// The policy of a page rendered for one reader: its inline scripts carry this nonce.
pub fn page_policy(nonce: &str) -> String {
    policy(&format!("'nonce-{nonce}'"))
}

/// Sets the page policy on the response being rendered, with this render's nonce.
pub fn set_page_policy() {
    let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce)) {
        res.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

/// The nonce in a page policy, so a cached page can be given a fresh one.
pub fn nonce_of(policy: &str) -> Option<&str> {
    let start = policy.find("'nonce-")? + "'nonce-".len();
    let len = policy[start..].find('\'')?;
    Some(&policy[start..start + len])
}

/// A rendered page made shareable: the nonce attributes taken out of `html` and the policy
/// allowing each inline script that carried the nonce by its SHA-256 hash. A nonce sent to many
/// readers would be no secret; a hash allows only that exact script, which Leptos writes the
/// same for every reader. `None` when the nonce appears anywhere else (then the page is not
/// shared).
pub fn with_script_hashes(html: &str, nonce: &str) -> Option<(String, String)> {
    let attribute = format!(" nonce=\"{nonce}\"");
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let tag_end = start + rest[start..].find('>')?;
        let content_end = tag_end + 1 + rest[tag_end + 1..].find("</script>")?;
        let content = &rest[tag_end + 1..content_end];
        if rest[start..tag_end].contains(&attribute) && !content.is_empty() {
            hashes.push(format!(
                "'sha256-{}'",
                BASE64.encode(Sha256::digest(content))
            ));
        }
        rest = &rest[content_end..];
    }
    // Leptos also writes the nonce as the `crossorigin` value of its preload links, where any
    // value but "use-credentials" means anonymous, as the empty value does.
    let shared = html
        .replace(&attribute, "")
        .replace(&format!("crossorigin=\"{nonce}\""), "crossorigin=\"\"");
    if shared.contains(nonce) {
        return None;
    }
    hashes.sort();
    hashes.dedup();
    Some((shared, policy(&hashes.join(" "))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_pages_allow_their_inline_scripts_by_hash() {
        let nonce = "n0nceN0nceN0nce0";
        let page = format!(
            r#"<head><link rel="modulepreload" href="/pkg/b.js" crossorigin="{nonce}"><script type="module" nonce="{nonce}">alert(1)</script></head><p>{nonce}?</p>"#
        );
        assert_eq!(
            with_script_hashes(&page, nonce),
            None,
            "the nonce outside a tag"
        );
        let page = page.replace(&format!("<p>{nonce}?</p>"), "<p>post</p>");
        let (html, policy) = with_script_hashes(&page, nonce).unwrap();
        assert!(
            !html.contains(nonce) && html.contains(r#"<script type="module">alert(1)</script>"#)
        );
        assert!(
            html.contains(r#"href="/pkg/b.js" crossorigin="">"#),
            "{html}"
        );
        // sha256("alert(1)"), base64: as browsers compute it.
        assert!(
            policy.contains("script-src 'self' 'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI=' 'wasm-unsafe-eval'"),
            "{policy}"
        );
        assert!(!policy.contains("nonce") && !policy.contains("unsafe-inline"));
    }

    #[test]
    fn only_cargo_leptos_watch_opens_the_reload_port() {
        assert_eq!(live_reload_source_for(None, Some("3001")), "");
        assert_eq!(
            live_reload_source_for(Some("true"), None),
            "; connect-src 'self' ws://*:3001 wss://*:3001"
        );
        assert_eq!(
            live_reload_source_for(Some("true"), Some("4001")),
            "; connect-src 'self' ws://*:4001 wss://*:4001"
        );
        // The tests run without LEPTOS_WATCH: the policy they see has no connect-src.
        assert!(!page_policy("n").contains("connect-src"));
    }

    #[test]
    fn the_nonce_is_found_again() {
        let p = page_policy("abcDEF123_-");
        assert_eq!(nonce_of(&p), Some("abcDEF123_-"));
        assert!(p.contains("object-src 'none'") && p.contains("frame-ancestors 'none'"));
        assert!(!p.contains("unsafe-inline"));
    }
}
