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
    /// BACKYARD_CLIENT_IP_HEADER: behind a reverse proxy, the header it puts the client's
    /// address in (e.g. `X-Forwarded-For`); unset, the TCP peer is the client.
    pub client_ip_header: Option<String>,
    /// BACKYARD_IP_CONCURRENCY: requests in progress at once from one address (0: no limit).
    pub ip_concurrency: u32,
    /// BACKYARD_IP_WRITES_PER_MINUTE: writes per minute from one address (0: no limit).
    pub ip_writes_per_minute: u32,
    /// BACKYARD_SENDMAIL: a sendmail-compatible program that delivers e-mail; unset, e-mails
    /// are written to the log (development).
    pub sendmail: Option<String>,
    /// BACKYARD_MAIL_FROM: the From of e-mails the site sends.
    pub mail_from: String,
}

pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://backyard.db?mode=rwc";
pub const DEFAULT_SITE_ROOT: &str = "target/site";
pub const DEFAULT_LOG: &str = "info";
pub const DEFAULT_IP_CONCURRENCY: u32 = 32;
pub const DEFAULT_IP_WRITES_PER_MINUTE: u32 = 60;

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
        let number = |key: &str, default: u32| -> Result<u32, String> {
            match get(key) {
                None => Ok(default),
                Some(v) => v
                    .parse()
                    .map_err(|_| format!("{key}={v} is not a whole number (0 turns it off)")),
            }
        };
        let mail_from = get("BACKYARD_MAIL_FROM").unwrap_or_else(|| {
            let host = public_url.split("://").nth(1).unwrap_or("localhost");
            let host = host.split(['/', ':']).next().unwrap_or("localhost");
            format!("Backyard <noreply@{host}>")
        });
        Ok(Config {
            addr,
            database_url: get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string()),
            public_url,
            site_root: get("BACKYARD_SITE_ROOT")
                .or_else(|| get("LEPTOS_SITE_ROOT"))
                .unwrap_or_else(|| DEFAULT_SITE_ROOT.to_string()),
            log: get("BACKYARD_LOG").unwrap_or_else(|| DEFAULT_LOG.to_string()),
            client_ip_header: get("BACKYARD_CLIENT_IP_HEADER").filter(|h| !h.is_empty()),
            sendmail: get("BACKYARD_SENDMAIL").filter(|p| !p.is_empty()),
            mail_from,
            ip_concurrency: number("BACKYARD_IP_CONCURRENCY", DEFAULT_IP_CONCURRENCY)?,
            ip_writes_per_minute: number(
                "BACKYARD_IP_WRITES_PER_MINUTE",
                DEFAULT_IP_WRITES_PER_MINUTE,
            )?,
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
