//! The image proxy's fetcher, modelled on GitHub's camo: a post's `![..](https://other.site/x.png)`
//! is served through this site, so readers' browsers never contact other sites. Fetching a URL
//! a member chose is a way into the server's own network (server-side request forgery), so:
//!
//! - only http and https URLs without credentials are fetched;
//! - every address a host resolves to must be a public unicast address ([`forbidden_ip`]), or
//!   nothing is fetched; the client's own DNS resolver does that lookup and check, so the
//!   connection goes to exactly the addresses checked (no second lookup for an attacker's DNS
//!   server to answer differently); IP-literal hosts are checked before the request, and the
//!   client connects to them without any lookup;
//! - redirects are followed here, at most [`FetchPolicy::max_redirects`], each hop checked the
//!   same way; the client itself follows none;
//! - one deadline for the whole fetch, a size limit enforced from Content-Length and while
//!   reading, and only a 200 answer typed image/png, jpeg, gif or webp is accepted (a first
//!   filter: the caller decodes and re-encodes the bytes with `media::image`);
//! - no cookies, no Referer, no proxy from the environment, a fixed User-Agent.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{self, HeaderValue};
use url::{Host, Url};

/// Sent with every request.
pub const USER_AGENT: &str = "Backyard image proxy";

/// The Content-Types accepted ("image/jpg" is a common misspelling of image/jpeg).
const IMAGE_TYPES: [&str; 5] = [
    "image/png",
    "image/jpeg",
    "image/jpg",
    "image/gif",
    "image/webp",
];

/// Limits for [`Fetcher`].
#[derive(Clone, Debug)]
pub struct FetchPolicy {
    /// For the whole fetch: every lookup, connection, redirect and the body.
    pub timeout: Duration,
    /// The largest body accepted, in bytes.
    pub max_bytes: usize,
    /// How many redirects are followed; one more is an error.
    pub max_redirects: u8,
    /// For tests only (empty in production): addresses permitted although [`forbidden_ip`]
    /// refuses them, so a test can fetch from a server on 127.0.0.1. An IP-literal URL
    /// matches an entry by address and port; a host name's resolved addresses match by
    /// address alone (the client resolves names before it attaches the port).
    pub allow: Vec<SocketAddr>,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            timeout: Duration::from_secs(10),
            max_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            allow: Vec::new(),
        }
    }
}

/// An image fetched from another site: bytes not yet decoded.
#[derive(Clone, Debug)]
pub struct Fetched {
    pub bytes: Bytes,
    /// The answer's media type, lower case, without parameters ("image/png").
    pub content_type: String,
    /// The URL that answered, after any redirects.
    pub final_url: String,
}

/// Why an image was not fetched. Short, for admins and logs; never a response body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Not a URL, or one this fetcher does not fetch (credentials in it, a bad redirect).
    #[error("bad image URL: {0}")]
    BadUrl(String),
    /// Not http or https.
    #[error("image URLs must be http or https, not {0}:")]
    Scheme(String),
    /// The host is, or resolves to, an address that is not public (what and why).
    #[error("refused to fetch from {0}: not a public address")]
    ForbiddenAddress(String),
    /// More redirects than the policy allows.
    #[error("more than {0} redirects")]
    TooManyRedirects(u8),
    /// The whole fetch took longer than the policy allows.
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    /// The body is larger than the policy allows.
    #[error("the image is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// The answer's Content-Type is not an accepted image type.
    #[error("not an image (Content-Type {0})")]
    NotAnImage(String),
    /// The final answer was not 200 OK.
    #[error("the other site answered HTTP {0}")]
    Status(u16),
    /// Lookup, connection, TLS or transfer failure.
    #[error("network error: {0}")]
    Network(String),
}

/// Whether `ip` is anything but a public unicast address: the fetcher refuses it.
///
/// IPv4: 0/8, 10/8, 100.64/10 (CGNAT), 127/8, 169.254/16 (link-local, cloud metadata),
/// 172.16/12, 192.0.0/24, 192.0.2/24, 192.88.99/24, 192.168/16, 198.18/15, 198.51.100/24,
/// 203.0.113/24, 224/4 (multicast), 240/4 (reserved, broadcast).
///
/// IPv6: only global unicast (2000::/3) is public, less 2001::/23 (IETF special purpose:
/// Teredo, benchmarking, ORCHID, ...), 2001:db8::/32 and 3fff::/20 (documentation), and 6to4
/// (2002::/16), NAT64 (64:ff9b::/96) and IPv4-mapped (::ffff:0:0/96) addresses are judged by
/// the IPv4 address they carry. Everything else (::, ::1, IPv4-compatible ::/96, fc00::/7,
/// fe80::/10, fec0::/10, ff00::/8, 64:ff9b:1::/48, 100::/64, ...) is refused.
pub fn forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 0 && c == 2)
        || (a == 192 && b == 88 && c == 99)
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    // IPv4-mapped ::ffff:a.b.c.d: a connection to it reaches a.b.c.d.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    // NAT64 well-known prefix 64:ff9b::/96: the gateway connects to the last 32 bits.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return forbidden_v4(embedded(s[6], s[7]));
    }
    // 6to4 2002:AABB:CCDD::/48 routes to AA.BB.CC.DD.
    if s[0] == 0x2002 {
        return forbidden_v4(embedded(s[1], s[2]));
    }
    let global_unicast = s[0] & 0xe000 == 0x2000;
    !global_unicast
        || s[0] == 0x2001 && s[1] < 0x0200 // 2001::/23
        || s[0] == 0x2001 && s[1] == 0x0db8 // 2001:db8::/32
        || s[0] == 0x3fff && s[1] & 0xf000 == 0 // 3fff::/20
}

/// Fetches images from other sites under a [`FetchPolicy`]. Build one and share it: it holds
/// the HTTP client (and its connection pool).
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<FetchPolicy>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Fetcher {
    pub fn new(policy: FetchPolicy) -> Result<Self, FetchError> {
        crate::store::install_crypto();
        let allowed_ips: Vec<IpAddr> = policy.allow.iter().map(SocketAddr::ip).collect();
        let mut headers = header::HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("image/png,image/jpeg,image/gif,image/webp"),
        );
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .no_proxy()
            .user_agent(USER_AGENT)
            .default_headers(headers)
            .dns_resolver(CheckedResolver {
                allowed_ips: Arc::new(allowed_ips),
            })
            .connect_timeout(policy.timeout)
            .timeout(policy.timeout)
            .build()
            .map_err(|e| {
                FetchError::Network(format!("cannot build the HTTP client: {}", chain(&e)))
            })?;
        Ok(Fetcher {
            client,
            policy: Arc::new(policy),
        })
    }

    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// Fetches the image at `url`, following up to `max_redirects` redirects, all within
    /// `timeout`.
    pub async fn fetch(&self, url: &str) -> Result<Fetched, FetchError> {
        let timeout = self.policy.timeout;
        match tokio::time::timeout(timeout, self.fetch_within_deadline(url)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout(timeout)),
        }
    }

    /// Refuses `url` when it may not be fetched, without any lookup or connection, as far as
    /// the URL alone tells: the scheme, credentials, and a host that is an address (in any
    /// form the URL standard accepts: `2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`) or a
    /// `localhost` name. A host name's addresses are checked when the fetch resolves it.
    pub fn check_url(&self, url: &str) -> Result<Url, FetchError> {
        let parsed = Url::parse(url.trim()).map_err(|e| FetchError::BadUrl(e.to_string()))?;
        self.check_parsed(&parsed)?;
        Ok(parsed)
    }

    fn check_parsed(&self, url: &Url) -> Result<(), FetchError> {
        match url.scheme() {
            "http" | "https" => {}
            other => return Err(FetchError::Scheme(other.to_owned())),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::BadUrl(
                "a user name or password in the URL".into(),
            ));
        }
        let port = url
            .port_or_known_default()
            .ok_or_else(|| FetchError::BadUrl("no port".into()))?;
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if name == "localhost" || name.ends_with(".localhost") {
                    return Err(FetchError::ForbiddenAddress(name));
                }
                return Ok(());
            }
            None => return Err(FetchError::BadUrl("no host".into())),
        };
        let addr = SocketAddr::new(ip, port);
        if forbidden_ip(ip) && !self.policy.allow.contains(&addr) {
            return Err(FetchError::ForbiddenAddress(ip.to_string()));
        }
        Ok(())
    }

    async fn fetch_within_deadline(&self, url: &str) -> Result<Fetched, FetchError> {
        let mut url = self.check_url(url)?;
        let mut redirects: u8 = 0;
        loop {
            let response = self
                .client
                .get(url.clone())
                .send()
                .await
                .map_err(|e| self.client_error(e))?;
            let status = response.status().as_u16();
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .ok_or_else(|| {
                        FetchError::BadUrl(format!("a {status} redirect without a Location"))
                    })?
                    .to_str()
                    .map_err(|_| FetchError::BadUrl("an unreadable redirect Location".into()))?;
                let next = url
                    .join(location)
                    .map_err(|e| FetchError::BadUrl(format!("redirect to an invalid URL: {e}")))?;
                if redirects >= self.policy.max_redirects {
                    return Err(FetchError::TooManyRedirects(self.policy.max_redirects));
                }
                redirects += 1;
                self.check_parsed(&next)?;
                tracing::debug!(from = %url, to = %next, "image proxy: following a redirect");
                url = next;
                continue;
            }
            if status != 200 {
                return Err(FetchError::Status(status));
            }
            let content_type = image_type(response.headers().get(header::CONTENT_TYPE))?;
            let bytes = self.read_body(response).await?;
            return Ok(Fetched {
                bytes,
                content_type,
                final_url: url.to_string(),
            });
        }
    }

    async fn read_body(&self, mut response: reqwest::Response) -> Result<Bytes, FetchError> {
        let limit = self.policy.max_bytes;
        let declared = response.content_length();
        if declared.is_some_and(|length| length > limit as u64) {
            return Err(FetchError::TooLarge { limit });
        }
        let mut body = BytesMut::with_capacity(declared.unwrap_or(0).min(limit as u64) as usize);
        while let Some(chunk) = response.chunk().await.map_err(|e| self.client_error(e))? {
            if body.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    /// The fetcher's own refusal when the resolver made it, else a timeout or network error.
    fn client_error(&self, error: reqwest::Error) -> FetchError {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(e) = source {
            if let Some(refusal) = e.downcast_ref::<FetchError>() {
                return refusal.clone();
            }
            source = e.source();
        }
        if error.is_timeout() {
            return FetchError::Timeout(self.policy.timeout);
        }
        FetchError::Network(chain(&error.without_url()))
    }
}

/// The media type of an accepted image answer, or why not.
fn image_type(value: Option<&HeaderValue>) -> Result<String, FetchError> {
    let Some(value) = value else {
        return Err(FetchError::NotAnImage("missing".into()));
    };
    let Ok(text) = value.to_str() else {
        return Err(FetchError::NotAnImage("unreadable".into()));
    };
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if IMAGE_TYPES.contains(&essence.as_str()) {
        return Ok(if essence == "image/jpg" {
            "image/jpeg".into()
        } else {
            essence
        });
    }
    // The other site's words, bounded: this ends up in a log line.
    let shown: String = essence.chars().take(60).collect();
    Err(FetchError::NotAnImage(if shown.is_empty() {
        "empty".into()
    } else {
        shown
    }))
}

/// An error and its sources on one line: "error sending request: client error (Connect): ...".
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let next = e.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = e.source();
    }
    text
}

/// The client's DNS resolver: looks the name up once and fails the connection unless every
/// address is public (or allowed by the test policy); the client connects to exactly these.
struct CheckedResolver {
    allowed_ips: Arc<Vec<IpAddr>>,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allowed = Arc::clone(&self.allowed_ips);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let boxed = |e: FetchError| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) };
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| boxed(FetchError::Network(format!("cannot resolve {host}: {e}"))))?
                .collect();
            if addrs.is_empty() {
                return Err(boxed(FetchError::Network(format!(
                    "{host} has no addresses"
                ))));
            }
            if let Some(bad) = addrs
                .iter()
                .map(SocketAddr::ip)
                .find(|ip| forbidden_ip(*ip) && !allowed.contains(ip))
            {
                return Err(boxed(FetchError::ForbiddenAddress(format!(
                    "{host} ({bad})"
                ))));
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}
