//! Settings read from the environment once at start. Each is documented in the README.
use std::net::SocketAddr;

#[derive(Clone, Debug)]
pub struct Config {
    /// BACKYARD_ADDR: where the HTTP server listens.
    pub addr: SocketAddr,
    /// DATABASE_URL: `sqlite://…` (the default) or `postgres://…`.
    pub database_url: String,
    /// BACKYARD_PUBLIC_URL: the address people reach the site at; https turns on Secure cookies.
    pub public_url: String,
    /// BACKYARD_SITE_ROOT: the built browser assets (wasm, js, css, public/).
    pub site_root: String,
    /// BACKYARD_LOG: a tracing filter, e.g. `info` or `backyard=debug,info`.
    pub log: String,
}

pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://backyard.db?mode=rwc";
pub const DEFAULT_SITE_ROOT: &str = "target/site";
pub const DEFAULT_LOG: &str = "info";

impl Config {
    pub fn from_env() -> Result<Config, String> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        // cargo-leptos passes its own LEPTOS_* names; ours win when both are set.
        let addr_text = get("BACKYARD_ADDR")
            .or_else(|| get("LEPTOS_SITE_ADDR"))
            .unwrap_or_else(|| DEFAULT_ADDR.to_string());
        let addr: SocketAddr = addr_text.parse().map_err(|_| {
            format!("BACKYARD_ADDR={addr_text} is not an address like 127.0.0.1:3000")
        })?;
        let public_url = get("BACKYARD_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(format!(
                "BACKYARD_PUBLIC_URL={public_url} must start with http:// or https://"
            ));
        }
        Ok(Config {
            addr,
            database_url: get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string()),
            public_url,
            site_root: get("BACKYARD_SITE_ROOT")
                .or_else(|| get("LEPTOS_SITE_ROOT"))
                .unwrap_or_else(|| DEFAULT_SITE_ROOT.to_string()),
            log: get("BACKYARD_LOG").unwrap_or_else(|| DEFAULT_LOG.to_string()),
        })
    }

    /// Cookies get the Secure flag only when the site is really served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// scheme://host[:port] of the public URL: the only origin allowed to send writes.
    pub fn public_origin(&self) -> &str {
        let after_scheme = self.public_url.find("://").map(|i| i + 3).unwrap_or(0);
        match self.public_url[after_scheme..].find('/') {
            Some(slash) => &self.public_url[..after_scheme + slash],
            None => &self.public_url,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_https() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c.addr.to_string(), DEFAULT_ADDR);
        assert_eq!(c.public_url, "http://127.0.0.1:3000");
        assert!(!c.secure_cookies());

        let c = Config::from_lookup(|k| {
            (k == "BACKYARD_PUBLIC_URL").then(|| "https://feedback.example.com/forum/".to_string())
        })
        .unwrap();
        assert!(c.secure_cookies());
        assert_eq!(c.public_origin(), "https://feedback.example.com");
    }

    #[test]
    fn bad_values_are_refused_with_the_variable_named() {
        let err = Config::from_lookup(|k| (k == "BACKYARD_ADDR").then(|| "nope".to_string()))
            .unwrap_err();
        assert!(err.contains("BACKYARD_ADDR"));
        let err =
            Config::from_lookup(|k| (k == "BACKYARD_PUBLIC_URL").then(|| "ftp://x".to_string()))
                .unwrap_err();
        assert!(err.contains("BACKYARD_PUBLIC_URL"));
    }
}
