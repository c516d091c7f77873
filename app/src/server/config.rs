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
    /// BACKYARD_SMTP_URL: the SMTP server that delivers e-mail (`smtp://` with STARTTLS
    /// required, `smtps://` with implicit TLS; plain only on localhost, when
    /// BACKYARD_SMTP_ALLOW_PLAIN_LOCALHOST=1).
    pub smtp: Option<SmtpServer>,
    /// BACKYARD_SMTP_CA_FILE: a PEM file of roots to trust besides the public ones (a private CA).
    pub smtp_ca_file: Option<String>,
    /// BACKYARD_SENDMAIL: a sendmail-compatible program that delivers e-mail instead of SMTP.
    /// With neither set, e-mail stays queued in the outbox, where admins can read it.
    pub sendmail: Option<String>,
    /// BACKYARD_MAIL_FROM: the From of e-mails the site sends.
    pub mail_from: String,
    /// BACKYARD_REPLY_ADDRESS: where replies by e-mail arrive, e.g. `reply@support.example.com`
    /// (each message's Reply-To is `reply+TOKEN@support.example.com`); unset, no replies.
    pub reply_address: Option<String>,
    /// BACKYARD_UPLOADS: where uploaded files are kept: `database` (the default), `dir:/path`,
    /// or `s3` (with BACKYARD_S3_BUCKET, BACKYARD_S3_REGION, BACKYARD_S3_ENDPOINT for a store
    /// other than AWS, BACKYARD_S3_ACCESS_KEY_ID and BACKYARD_S3_SECRET_ACCESS_KEY).
    pub uploads: UploadStore,
    /// BACKYARD_METRICS, BACKYARD_METRICS_ADDR, BACKYARD_METRICS_TOKEN: the Prometheus page.
    pub metrics: MetricsSettings,
}

/// Whether and where `/metrics` is served (off by default).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MetricsSettings {
    /// BACKYARD_METRICS=on.
    pub enabled: bool,
    /// BACKYARD_METRICS_ADDR: a second address that serves only `/metrics` (e.g. 127.0.0.1:9100,
    /// or a private interface the scraper reaches); unset, the site's own address serves it.
    pub addr: Option<SocketAddr>,
    /// BACKYARD_METRICS_TOKEN: the bearer token a scraper must send. Required on the site's own
    /// address: there a reverse proxy on the same host connects from 127.0.0.1 for every
    /// visitor, so "only from loopback" would let the whole internet in through it.
    pub token: Option<String>,
}

// The token is a secret: logs show only whether there is one.
impl std::fmt::Debug for MetricsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsSettings")
            .field("enabled", &self.enabled)
            .field("addr", &self.addr)
            .field("token", &self.token.as_ref().map(|_| "(set)"))
            .finish()
    }
}

/// The shortest metrics token accepted: long enough that guessing it over HTTP is hopeless.
pub const MIN_METRICS_TOKEN_CHARS: usize = 16;

impl MetricsSettings {
    /// The three BACKYARD_METRICS* settings, checked together; `site` is BACKYARD_ADDR.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
        site: SocketAddr,
    ) -> Result<MetricsSettings, String> {
        let set = |key: &str| get(key).filter(|v| !v.trim().is_empty());
        let enabled = match set("BACKYARD_METRICS").as_deref() {
            None | Some("off") => false,
            Some("on") => true,
            Some(other) => return Err(format!("BACKYARD_METRICS={other}: use on or off")),
        };
        let addr = match set("BACKYARD_METRICS_ADDR") {
            None => None,
            Some(text) => Some(text.parse::<SocketAddr>().map_err(|_| {
                format!("BACKYARD_METRICS_ADDR={text} is not an address like 127.0.0.1:9100")
            })?),
        };
        let token = set("BACKYARD_METRICS_TOKEN");
        if !enabled && (addr.is_some() || token.is_some()) {
            return Err(
                "BACKYARD_METRICS_ADDR and BACKYARD_METRICS_TOKEN need BACKYARD_METRICS=on".into(),
            );
        }
        if addr == Some(site) {
            return Err(format!(
                "BACKYARD_METRICS_ADDR={site} is the site's own address (BACKYARD_ADDR): leave it \
                 unset to serve /metrics there, or name another port"
            ));
        }
        if let Some(token) = &token
            && (token.chars().count() < MIN_METRICS_TOKEN_CHARS
                || !token.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(format!(
                "BACKYARD_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_CHARS} printable \
                 characters without spaces (e.g. from `openssl rand -hex 32`)"
            ));
        }
        if enabled && addr.is_none() && token.is_none() {
            return Err(format!(
                "BACKYARD_METRICS=on serves /metrics on the site's own address, where anyone who \
                 reaches the site could read it: set BACKYARD_METRICS_TOKEN (at least \
                 {MIN_METRICS_TOKEN_CHARS} characters; the scraper sends it as a bearer token), \
                 or BACKYARD_METRICS_ADDR=127.0.0.1:9100 to serve it on a private address instead"
            ));
        }
        Ok(MetricsSettings {
            enabled,
            addr,
            token,
        })
    }

    /// Whether the site's own address answers `/metrics` (on, and no address of its own).
    pub fn on_site_address(&self) -> bool {
        self.enabled && self.addr.is_none()
    }
}

/// Where uploaded files are kept.
#[derive(Clone)]
pub enum UploadStore {
    Database,
    Directory(String),
    S3(std::sync::Arc<media::store::S3Config>),
}

// The S3 secret is not for logs.
impl std::fmt::Debug for UploadStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UploadStore::Database => write!(f, "database"),
            UploadStore::Directory(path) => write!(f, "dir:{path}"),
            UploadStore::S3(c) => write!(
                f,
                "s3 bucket {} at {}",
                c.bucket,
                c.endpoint.as_deref().unwrap_or("AWS")
            ),
        }
    }
}

impl UploadStore {
    /// BACKYARD_UPLOADS and, for `s3`, the BACKYARD_S3_* settings.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<UploadStore, String> {
        let set = |key: &str| get(key).filter(|v| !v.trim().is_empty());
        let choice = set("BACKYARD_UPLOADS").unwrap_or_else(|| "database".into());
        if choice == "database" {
            return Ok(UploadStore::Database);
        }
        if let Some(path) = choice.strip_prefix("dir:") {
            if path.is_empty() {
                return Err(
                    "BACKYARD_UPLOADS=dir: needs a directory, like dir:/var/lib/backyard/uploads"
                        .into(),
                );
            }
            return Ok(UploadStore::Directory(path.to_string()));
        }
        if choice != "s3" {
            return Err(format!(
                "BACKYARD_UPLOADS={choice}: use database, dir:/some/path or s3"
            ));
        }
        let need = |key: &str| set(key).ok_or_else(|| format!("BACKYARD_UPLOADS=s3 needs {key}"));
        let endpoint = set("BACKYARD_S3_ENDPOINT");
        Ok(UploadStore::S3(std::sync::Arc::new(
            media::store::S3Config {
                allow_http: endpoint
                    .as_deref()
                    .is_some_and(|e| e.starts_with("http://")),
                endpoint,
                bucket: need("BACKYARD_S3_BUCKET")?,
                region: set("BACKYARD_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
                access_key_id: need("BACKYARD_S3_ACCESS_KEY_ID")?,
                secret_access_key: need("BACKYARD_S3_SECRET_ACCESS_KEY")?,
                prefix: set("BACKYARD_S3_PREFIX").unwrap_or_default(),
            },
        )))
    }
}

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://`: STARTTLS, required (a server that does not offer it gets nothing).
    StartTls,
    /// `smtps://`: TLS from the first byte.
    ImplicitTls,
    /// `smtp://` to localhost with BACKYARD_SMTP_ALLOW_PLAIN_LOCALHOST=1: a local relay.
    Plain,
}

/// BACKYARD_SMTP_URL, parsed and checked.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpServer {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// User and password for AUTH (PLAIN or LOGIN), percent-decoded.
    pub credentials: Option<(String, String)>,
}

// Config is logged at start in places; the password must not be.
impl std::fmt::Debug for SmtpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpServer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .finish()
    }
}

impl SmtpServer {
    /// Parses BACKYARD_SMTP_URL. The message never repeats the URL: it may hold a password.
    pub fn parse(text: &str, allow_plain_localhost: bool) -> Result<SmtpServer, String> {
        const KEY: &str = "BACKYARD_SMTP_URL";
        let url = url::Url::parse(text).map_err(|e| {
            format!("{KEY} is not a URL like smtp://user:password@mail.example.com:587 ({e})")
        })?;
        let (security, default_port) = match url.scheme() {
            "smtp" if allow_plain_localhost => (SmtpSecurity::Plain, 25),
            "smtp" => (SmtpSecurity::StartTls, 587),
            "smtps" => (SmtpSecurity::ImplicitTls, 465),
            other => {
                return Err(format!(
                    "{KEY} must start with smtp:// (STARTTLS) or smtps:// (TLS), not {other}://"
                ));
            }
        };
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(format!("{KEY} names no host")),
        };
        if !url.path().trim_matches('/').is_empty()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(format!(
                "{KEY} takes only a scheme, user, password, host and port (no path or ?options)"
            ));
        }
        if allow_plain_localhost {
            let loopback = host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                return Err(format!(
                    "BACKYARD_SMTP_ALLOW_PLAIN_LOCALHOST=1 allows unencrypted SMTP only to \
                     localhost, not to {host}; remove it to use STARTTLS or smtps://"
                ));
            }
            if url.scheme() == "smtps" {
                return Err(format!(
                    "BACKYARD_SMTP_ALLOW_PLAIN_LOCALHOST=1 is for smtp://{host}, not smtps://"
                ));
            }
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| format!("{KEY}: the user or password is not UTF-8 once decoded"))
        };
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, Some(password)) if !user.is_empty() => Some((decode(user)?, decode(password)?)),
            _ => {
                return Err(format!(
                    "{KEY}: give both a user and a password (smtp://user:password@host), or neither"
                ));
            }
        };
        Ok(SmtpServer {
            host,
            port: url.port().unwrap_or(default_port),
            security,
            credentials,
        })
    }
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
            // No display name: mail goes out under the site's name (mail::delivery, `named`).
            format!("noreply@{host}")
        });
        if let Err(e) = mail_from.parse::<lettre::message::Mailbox>() {
            return Err(format!(
                "BACKYARD_MAIL_FROM={mail_from} is not an address like \
                 `Backyard <noreply@example.com>` or `noreply@example.com` ({e})"
            ));
        }
        let set = |key: &str| get(key).filter(|v| !v.is_empty());
        let allow_plain = match set("BACKYARD_SMTP_ALLOW_PLAIN_LOCALHOST").as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            Some(other) => {
                return Err(format!(
                    "BACKYARD_SMTP_ALLOW_PLAIN_LOCALHOST={other}: use 1 to allow it, or leave it unset"
                ));
            }
        };
        let smtp = set("BACKYARD_SMTP_URL")
            .map(|u| SmtpServer::parse(&u, allow_plain))
            .transpose()?;
        let sendmail = set("BACKYARD_SENDMAIL");
        if smtp.is_some() && sendmail.is_some() {
            return Err(
                "set BACKYARD_SMTP_URL or BACKYARD_SENDMAIL, not both: each one delivers all mail"
                    .into(),
            );
        }
        if allow_plain && smtp.is_none() {
            return Err("BACKYARD_SMTP_ALLOW_PLAIN_LOCALHOST=1 needs BACKYARD_SMTP_URL".into());
        }
        let smtp_ca_file = set("BACKYARD_SMTP_CA_FILE");
        if smtp_ca_file.is_some() && smtp.is_none() {
            return Err("BACKYARD_SMTP_CA_FILE needs BACKYARD_SMTP_URL".into());
        }
        let reply_address = set("BACKYARD_REPLY_ADDRESS");
        if let Some(r) = &reply_address
            && (super::email_address::address_problem(r).is_some() || r.contains('+'))
        {
            return Err(format!(
                "BACKYARD_REPLY_ADDRESS={r} must be one plain address without a +, like \
                 reply@support.example.com (each message adds +TOKEN to it)"
            ));
        }
        let uploads = UploadStore::from_lookup(&get)?;
        let metrics = MetricsSettings::from_lookup(&get, addr)?;
        Ok(Config {
            uploads,
            metrics,
            addr,
            database_url: get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string()),
            public_url,
            site_root: get("BACKYARD_SITE_ROOT")
                .or_else(|| get("LEPTOS_SITE_ROOT"))
                .unwrap_or_else(|| DEFAULT_SITE_ROOT.to_string()),
            log: get("BACKYARD_LOG").unwrap_or_else(|| DEFAULT_LOG.to_string()),
            client_ip_header: get("BACKYARD_CLIENT_IP_HEADER").filter(|h| !h.is_empty()),
            smtp,
            smtp_ca_file,
            sendmail,
            mail_from,
            reply_address,
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

    fn with(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn smtp_urls_ask_for_tls_unless_plain_is_allowed_on_localhost() {
        let c = with(&[(
            "BACKYARD_SMTP_URL",
            "smtp://ada%40x:p%3Ass@mail.example.com",
        )])
        .unwrap();
        let smtp = c.smtp.unwrap();
        assert_eq!(
            (smtp.host.as_str(), smtp.port, smtp.security),
            ("mail.example.com", 587, SmtpSecurity::StartTls)
        );
        assert_eq!(
            smtp.credentials,
            Some(("ada@x".to_string(), "p:ss".to_string()))
        );
        assert!(!format!("{smtp:?}").contains("p:ss"), "no password in logs");
        let c = with(&[("BACKYARD_SMTP_URL", "smtps://mail.example.com")]).unwrap();
        assert_eq!(
            c.smtp.map(|s| (s.port, s.security)),
            Some((465, SmtpSecurity::ImplicitTls))
        );
        let c = with(&[
            ("BACKYARD_SMTP_URL", "smtp://127.0.0.1:2525"),
            ("BACKYARD_SMTP_ALLOW_PLAIN_LOCALHOST", "1"),
        ])
        .unwrap();
        assert_eq!(
            c.smtp.map(|s| (s.port, s.security)),
            Some((2525, SmtpSecurity::Plain))
        );
        assert_eq!(c.sendmail, None);
    }

    #[test]
    fn bad_mail_settings_are_refused_at_start_with_the_variable_named() {
        for (pairs, expected) in [
            (
                vec![("BACKYARD_SMTP_URL", "http://mail.example.com")],
                "must start with smtp://",
            ),
            (
                vec![("BACKYARD_SMTP_URL", "mail.example.com")],
                "is not a URL",
            ),
            (
                vec![("BACKYARD_SMTP_URL", "smtp://mail.example.com?tls=none")],
                "no path or ?options",
            ),
            (
                vec![("BACKYARD_SMTP_URL", "smtp://ada@mail.example.com")],
                "both a user and a password",
            ),
            (
                vec![
                    ("BACKYARD_SMTP_URL", "smtp://mail.example.com"),
                    ("BACKYARD_SMTP_ALLOW_PLAIN_LOCALHOST", "1"),
                ],
                "only to localhost, not to mail.example.com",
            ),
            (
                vec![
                    ("BACKYARD_SMTP_URL", "smtp://localhost"),
                    ("BACKYARD_SMTP_ALLOW_PLAIN_LOCALHOST", "yes"),
                ],
                "BACKYARD_SMTP_ALLOW_PLAIN_LOCALHOST=yes",
            ),
            (
                vec![
                    ("BACKYARD_SMTP_URL", "smtp://mail.example.com"),
                    ("BACKYARD_SENDMAIL", "/usr/sbin/sendmail"),
                ],
                "not both",
            ),
            (
                vec![("BACKYARD_SMTP_CA_FILE", "/etc/ca.pem")],
                "BACKYARD_SMTP_CA_FILE needs BACKYARD_SMTP_URL",
            ),
            (
                vec![("BACKYARD_MAIL_FROM", "Backyard <nope>")],
                "BACKYARD_MAIL_FROM=",
            ),
            (
                vec![("BACKYARD_REPLY_ADDRESS", "reply+x@example.com")],
                "BACKYARD_REPLY_ADDRESS=",
            ),
            (
                vec![("BACKYARD_REPLY_ADDRESS", "a@example.com, b@example.com")],
                "BACKYARD_REPLY_ADDRESS=",
            ),
        ] {
            let err = with(&pairs).unwrap_err();
            assert!(err.contains(expected), "{pairs:?}: {err}");
            assert!(!err.contains("p:ss"));
        }
        let c = with(&[("BACKYARD_REPLY_ADDRESS", "reply@support.example.com")]).unwrap();
        assert_eq!(
            c.reply_address.as_deref(),
            Some("reply@support.example.com")
        );
    }

    #[test]
    fn metrics_are_off_unless_asked_for_and_never_open_on_the_site_address() {
        let c = with(&[]).unwrap();
        assert_eq!(c.metrics, MetricsSettings::default());
        assert!(!c.metrics.on_site_address());

        let token = "0123456789abcdef0123";
        let c = with(&[
            ("BACKYARD_METRICS", "on"),
            ("BACKYARD_METRICS_TOKEN", token),
        ])
        .unwrap();
        assert!(c.metrics.on_site_address());
        assert_eq!(c.metrics.token.as_deref(), Some(token));
        assert!(!format!("{c:?}").contains(token), "no token in logs");

        let c = with(&[
            ("BACKYARD_METRICS", "on"),
            ("BACKYARD_METRICS_ADDR", "127.0.0.1:9100"),
        ])
        .unwrap();
        assert_eq!(c.metrics.addr, Some("127.0.0.1:9100".parse().unwrap()));
        assert!(!c.metrics.on_site_address());

        for (pairs, expected) in [
            (
                vec![("BACKYARD_METRICS", "yes")],
                "BACKYARD_METRICS=yes: use on or off",
            ),
            (
                vec![("BACKYARD_METRICS", "on")],
                "set BACKYARD_METRICS_TOKEN",
            ),
            (
                vec![("BACKYARD_METRICS_ADDR", "127.0.0.1:9100")],
                "need BACKYARD_METRICS=on",
            ),
            (
                vec![("BACKYARD_METRICS_TOKEN", token)],
                "need BACKYARD_METRICS=on",
            ),
            (
                vec![
                    ("BACKYARD_METRICS", "on"),
                    ("BACKYARD_METRICS_ADDR", "9100"),
                ],
                "BACKYARD_METRICS_ADDR=9100 is not an address",
            ),
            (
                vec![
                    ("BACKYARD_METRICS", "on"),
                    ("BACKYARD_METRICS_ADDR", DEFAULT_ADDR),
                ],
                "the site's own address",
            ),
            (
                vec![
                    ("BACKYARD_METRICS", "on"),
                    ("BACKYARD_METRICS_TOKEN", "short"),
                ],
                "at least 16",
            ),
            (
                vec![
                    ("BACKYARD_METRICS", "on"),
                    ("BACKYARD_METRICS_TOKEN", "a token with spaces in it"),
                ],
                "without spaces",
            ),
        ] {
            let err = with(&pairs).unwrap_err();
            assert!(err.contains(expected), "{pairs:?}: {err}");
        }
    }
}
