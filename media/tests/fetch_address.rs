//! The image proxy's address rules: which addresses are public, and which URLs are refused
//! before any connection is attempted.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use media::fetch::{FetchError, FetchPolicy, Fetcher, forbidden_ip};

fn ip(text: &str) -> IpAddr {
    text.parse()
        .unwrap_or_else(|_| panic!("{text} is not an address"))
}

#[test]
fn public_unicast_addresses_are_allowed() {
    for text in [
        "93.184.216.34",
        "1.1.1.1",
        "8.8.8.8",
        "100.63.255.255", // just below CGNAT
        "100.128.0.0",    // just above CGNAT
        "172.15.255.255", // just below 172.16/12
        "172.32.0.0",     // just above
        "169.253.255.255",
        "192.167.255.255",
        "192.0.1.1",
        "198.17.255.255",
        "198.20.0.0",
        "223.255.255.255", // the last unicast address before multicast
        "11.0.0.1",
        "126.255.255.255",
        "128.0.0.1",
        "2606:4700::1",
        "2a00:1450:4001:80b::200e",
        "2001:4860:4860::8888", // Google DNS: in 2001::/16 but outside 2001::/23
        "2001:200::1",
        "2400:cb00::1",
        "3ffe::1",
        "::ffff:93.184.216.34", // IPv4-mapped public
        "64:ff9b::5db8:d822",   // NAT64 of 93.184.216.34
        "2002:5db8:d822::1",    // 6to4 of 93.184.216.34
    ] {
        assert!(!forbidden_ip(ip(text)), "{text} was refused");
    }
}

#[test]
fn everything_else_is_refused() {
    for text in [
        // IPv4
        "0.0.0.0",
        "0.1.2.3",
        "127.0.0.1",
        "127.255.255.254",
        "10.0.0.1",
        "10.255.255.255",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.0.1",
        "192.168.255.255",
        "169.254.169.254", // cloud metadata
        "169.254.0.1",
        "100.64.0.1", // CGNAT
        "100.127.255.255",
        "192.0.0.8",
        "192.0.2.1",    // TEST-NET-1
        "198.51.100.7", // TEST-NET-2
        "203.0.113.9",  // TEST-NET-3
        "198.18.0.1",   // benchmarking
        "198.19.255.255",
        "192.88.99.1", // 6to4 relay anycast
        "224.0.0.1",   // multicast
        "239.255.255.250",
        "240.0.0.1", // reserved
        "255.255.255.255",
        // IPv6
        "::",
        "::1",
        "fe80::1",
        "febf::1",
        "fec0::1", // site-local (deprecated)
        "fc00::1",
        "fd12:3456:789a::1",
        "ff02::1",
        "ff0e::1",
        "100::1",       // discard-only
        "2001:db8::1",  // documentation
        "3fff::1",      // documentation (RFC 9637)
        "2001::1",      // Teredo
        "2001:2::1",    // benchmarking
        "2001:10::1",   // ORCHID
        "64:ff9b:1::1", // local-use NAT64
        "4000::1",      // outside 2000::/3
        // IPv4 embedded in IPv6
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:0.0.0.0",
        "::127.0.0.1",        // IPv4-compatible (deprecated)
        "::93.184.216.34",    // IPv4-compatible, even of a public address
        "64:ff9b::7f00:1",    // NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
        "64:ff9b::c0a8:1",    // NAT64 of 192.168.0.1
        "2002:7f00:1::1",     // 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::",   // 6to4 of 169.254.169.254
        "2002:0a00:0001::1",  // 6to4 of 10.0.0.1
    ] {
        assert!(forbidden_ip(ip(text)), "{text} was allowed");
    }
}

fn fetcher() -> Fetcher {
    Fetcher::new(FetchPolicy {
        timeout: Duration::from_secs(5),
        ..FetchPolicy::default()
    })
    .unwrap()
}

#[test]
fn the_default_policy_is_10_seconds_10_mib_5_redirects_nothing_allowed() {
    let policy = FetchPolicy::default();
    assert_eq!(policy.timeout, Duration::from_secs(10));
    assert_eq!(policy.max_bytes, 10 * 1024 * 1024);
    assert_eq!(policy.max_redirects, 5);
    assert!(policy.allow.is_empty());
}

#[tokio::test]
async fn other_schemes_are_refused() {
    let fetcher = fetcher();
    for (url, scheme) in [
        ("file:///etc/passwd", "file"),
        ("ftp://example.com/x.png", "ftp"),
        ("javascript:alert(1)", "javascript"),
        ("data:image/png;base64,iVBORw0KGgo=", "data"),
        ("gopher://example.com/", "gopher"),
        ("ws://example.com/", "ws"),
    ] {
        assert_eq!(
            fetcher.fetch(url).await.unwrap_err(),
            FetchError::Scheme(scheme.into()),
            "{url}"
        );
    }
}

#[tokio::test]
async fn malformed_urls_and_credentials_are_refused() {
    let fetcher = fetcher();
    for url in [
        "",
        "not a url",
        "/relative.png",
        "http://",
        "https://user:pass@example.com/x.png",
        "https://user@example.com/x.png",
    ] {
        let error = fetcher.fetch(url).await.unwrap_err();
        assert!(matches!(error, FetchError::BadUrl(_)), "{url}: {error:?}");
    }
}

/// A listener on 127.0.0.1 the refused URLs point at: it must see no connection.
struct Witness {
    listener: tokio::net::TcpListener,
    port: u16,
}

impl Witness {
    async fn new() -> Witness {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        Witness { listener, port }
    }

    async fn assert_untouched(&self, url: &str) {
        let attempt =
            tokio::time::timeout(Duration::from_millis(200), self.listener.accept()).await;
        assert!(
            attempt.is_err(),
            "{url}: a connection reached the local listener"
        );
    }
}

#[tokio::test]
async fn internal_hosts_are_refused_without_any_connection() {
    let witness = Witness::new().await;
    let fetcher = fetcher();
    let port = witness.port;
    for (url, refused) in [
        (format!("http://127.0.0.1:{port}/x.png"), "127.0.0.1"),
        (format!("http://localhost:{port}/x.png"), "localhost"),
        (format!("http://LOCALHOST.:{port}/x.png"), "localhost"),
        (
            format!("http://img.localhost:{port}/x.png"),
            "img.localhost",
        ),
        (format!("http://[::1]:{port}/x.png"), "::1"),
        (
            format!("http://[::ffff:127.0.0.1]:{port}/x.png"),
            "::ffff:127.0.0.1",
        ),
        (
            format!("http://[::ffff:7f00:1]:{port}/x.png"),
            "::ffff:127.0.0.1",
        ),
        (format!("http://2130706433:{port}/x.png"), "127.0.0.1"),
        (format!("http://0x7f.1:{port}/x.png"), "127.0.0.1"),
        (format!("http://0x7f000001:{port}/x.png"), "127.0.0.1"),
        (format!("http://0177.0.0.1:{port}/x.png"), "127.0.0.1"),
        (format!("http://127.1:{port}/x.png"), "127.0.0.1"),
        (format!("http://0:{port}/x.png"), "0.0.0.0"),
        (format!("http://0.0.0.0:{port}/x.png"), "0.0.0.0"),
        (format!("https://127.0.0.1:{port}/x.png"), "127.0.0.1"),
        (format!("http://%31%32%37.0.0.1:{port}/x.png"), "127.0.0.1"),
    ] {
        let started = Instant::now();
        let error = fetcher.fetch(&url).await.unwrap_err();
        assert_eq!(error, FetchError::ForbiddenAddress(refused.into()), "{url}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{url}: refused only after {:?}",
            started.elapsed()
        );
        witness.assert_untouched(&url).await;
    }
    // The port is no part of the rule: the well-known ones are refused as well.
    for (url, refused) in [
        (
            "http://169.254.169.254/latest/meta-data/",
            "169.254.169.254",
        ),
        ("http://10.0.0.1/x.png", "10.0.0.1"),
        ("http://192.168.1.1:8080/x.png", "192.168.1.1"),
        (
            "http://100.100.100.200/latest/meta-data/",
            "100.100.100.200",
        ), // Alibaba metadata
        ("http://[fd00:ec2::254]/latest/meta-data/", "fd00:ec2::254"), // AWS IPv6 metadata
        ("http://[fe80::1%25eth0]/x.png", ""),
    ] {
        let started = Instant::now();
        let error = fetcher.fetch(url).await.unwrap_err();
        match refused {
            "" => assert!(matches!(error, FetchError::BadUrl(_)), "{url}: {error:?}"),
            _ => assert_eq!(error, FetchError::ForbiddenAddress(refused.into()), "{url}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{url}: refused only after {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn the_allow_list_matches_the_port_too() {
    let witness = Witness::new().await;
    let allowed: SocketAddr = format!("127.0.0.1:{}", witness.port).parse().unwrap();
    let fetcher = Fetcher::new(FetchPolicy {
        allow: vec![allowed],
        ..FetchPolicy::default()
    })
    .unwrap();
    // Allowed exactly: accepted by the URL check.
    fetcher
        .check_url(&format!("http://127.0.0.1:{}/x.png", witness.port))
        .unwrap();
    // The same address on another port, or another loopback address on that port: refused.
    let other_port = if witness.port == 65535 {
        65534
    } else {
        witness.port + 1
    };
    for url in [
        format!("http://127.0.0.1:{other_port}/x.png"),
        format!("http://127.0.0.2:{}/x.png", witness.port),
        format!("http://[::1]:{}/x.png", witness.port),
    ] {
        let error = fetcher.check_url(&url).unwrap_err();
        assert!(
            matches!(error, FetchError::ForbiddenAddress(_)),
            "{url}: {error:?}"
        );
    }
}

#[test]
fn errors_read_well() {
    assert_eq!(
        FetchError::ForbiddenAddress("169.254.169.254".into()).to_string(),
        "refused to fetch from 169.254.169.254: not a public address"
    );
    assert_eq!(
        FetchError::Scheme("file".into()).to_string(),
        "image URLs must be http or https, not file:"
    );
    assert_eq!(
        FetchError::TooManyRedirects(5).to_string(),
        "more than 5 redirects"
    );
    assert_eq!(
        FetchError::Status(404).to_string(),
        "the other site answered HTTP 404"
    );
    assert_eq!(
        FetchError::TooLarge { limit: 10 }.to_string(),
        "the image is larger than 10 bytes"
    );
    assert_eq!(
        FetchError::NotAnImage("text/html".into()).to_string(),
        "not an image (Content-Type text/html)"
    );
}
