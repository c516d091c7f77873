//! The image proxy's fetcher against real local HTTP servers (raw HTTP/1.1 over a tokio
//! TcpListener on 127.0.0.1), listed in the policy's test-only `allow` list.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use media::fetch::{FetchError, FetchPolicy, Fetcher};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What a test server does with a request.
enum Reply {
    /// Writes these bytes and closes.
    Raw(Vec<u8>),
    /// Writes these bytes, then holds the connection open without a word more.
    ThenStall(Vec<u8>),
    /// Waits, then writes these bytes and closes.
    After(Duration, Vec<u8>),
    /// Writes the head, then one byte of body every `gap`, forever.
    Drip { head: Vec<u8>, gap: Duration },
    /// Writes the head, then body bytes as fast as the client takes them, forever (chunked
    /// or, without, until the connection closes).
    Endless { head: Vec<u8>, chunked: bool },
}

struct TestServer {
    addr: SocketAddr,
    /// Connections accepted (a refused fetch must make none).
    connections: Arc<AtomicUsize>,
    /// Request heads received, in order.
    requests: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    async fn start(handler: impl Fn(&str) -> Reply + Send + Sync + 'static) -> TestServer {
        TestServer::start_on("127.0.0.1:0".parse().unwrap(), handler).await
    }

    async fn start_on(
        bind: SocketAddr,
        handler: impl Fn(&str) -> Reply + Send + Sync + 'static,
    ) -> TestServer {
        let listener = TcpListener::bind(bind).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(handler);
        let task = {
            let (connections, requests) = (connections.clone(), requests.clone());
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let (handler, requests) = (handler.clone(), requests.clone());
                    tokio::spawn(async move {
                        let _ = serve(stream, &*handler, &requests).await;
                    });
                }
            })
        };
        TestServer {
            addr,
            connections,
            requests,
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Serves requests on one connection until the reply closes it or the client goes.
async fn serve(
    mut stream: TcpStream,
    handler: &(dyn Fn(&str) -> Reply + Send + Sync),
    requests: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    loop {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await? == 0 {
                return Ok(());
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        requests.lock().unwrap().push(head.clone());
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
        match handler(&path) {
            Reply::Raw(bytes) => {
                stream.write_all(&bytes).await?;
                stream.shutdown().await?;
                return Ok(());
            }
            Reply::After(delay, bytes) => {
                tokio::time::sleep(delay).await;
                stream.write_all(&bytes).await?;
                stream.shutdown().await?;
                return Ok(());
            }
            Reply::ThenStall(bytes) => {
                stream.write_all(&bytes).await?;
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            Reply::Drip { head, gap } => {
                stream.write_all(&head).await?;
                loop {
                    tokio::time::sleep(gap).await;
                    stream.write_all(b"x").await?;
                }
            }
            Reply::Endless { head, chunked } => {
                stream.write_all(&head).await?;
                let block = vec![b'x'; 64 * 1024];
                loop {
                    if chunked {
                        stream
                            .write_all(format!("{:x}\r\n", block.len()).as_bytes())
                            .await?;
                        stream.write_all(&block).await?;
                        stream.write_all(b"\r\n").await?;
                    } else {
                        stream.write_all(&block).await?;
                    }
                }
            }
        }
    }
}

fn png(len: usize) -> Vec<u8> {
    let mut body = b"\x89PNG\r\n\x1a\n".to_vec();
    body.extend((0..len.saturating_sub(8)).map(|i| (i % 251) as u8));
    body
}

fn answer(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

fn image(content_type: &str, body: &[u8]) -> Reply {
    Reply::Raw(answer("200 OK", &[("Content-Type", content_type)], body))
}

fn redirect(status: &str, location: &str) -> Reply {
    Reply::Raw(answer(
        status,
        &[
            ("Location", location),
            ("Set-Cookie", "session=secret; Path=/"),
        ],
        b"",
    ))
}

fn policy(allow: &[&TestServer]) -> FetchPolicy {
    FetchPolicy {
        timeout: Duration::from_secs(5),
        allow: allow.iter().map(|s| s.addr).collect(),
        ..FetchPolicy::default()
    }
}

fn header<'a>(request: &'a str, name: &str) -> Option<&'a str> {
    request.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test]
async fn a_good_png_is_fetched() {
    let body = png(5000);
    let served = body.clone();
    let server = TestServer::start(move |_| image("image/png", &served)).await;
    let fetcher = Fetcher::new(policy(&[&server])).unwrap();
    let url = server.url("/pictures/cat.png?size=large");
    let fetched = fetcher.fetch(&url).await.unwrap();
    assert_eq!(fetched.bytes, body);
    assert_eq!(fetched.content_type, "image/png");
    assert_eq!(fetched.final_url, url);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert!(
        request.starts_with("GET /pictures/cat.png?size=large HTTP/1.1\r\n"),
        "{request}"
    );
    assert_eq!(header(request, "user-agent"), Some("Backyard image proxy"));
    assert_eq!(header(request, "cookie"), None);
    assert_eq!(header(request, "referer"), None);
    assert_eq!(header(request, "authorization"), None);
    assert!(
        header(request, "accept").is_some_and(|a| a.contains("image/png")),
        "{request}"
    );
}

#[tokio::test]
async fn every_accepted_image_type_and_its_parameters() {
    let server = TestServer::start(|path| match path {
        "/jpeg" => image("image/jpeg", b"jpeg"),
        "/jpg" => image("image/jpg", b"jpg"),
        "/gif" => image("IMAGE/GIF", b"gif"),
        "/webp" => image("image/webp; charset=binary", b"webp"),
        _ => image("image/png", b"png"),
    })
    .await;
    let fetcher = Fetcher::new(policy(&[&server])).unwrap();
    for (path, content_type) in [
        ("/jpeg", "image/jpeg"),
        ("/jpg", "image/jpeg"),
        ("/gif", "image/gif"),
        ("/webp", "image/webp"),
        ("/png", "image/png"),
    ] {
        let fetched = fetcher.fetch(&server.url(path)).await.unwrap();
        assert_eq!(fetched.content_type, content_type, "{path}");
        assert_eq!(&fetched.bytes[..], &path.as_bytes()[1..]);
    }
}

#[tokio::test]
async fn other_answers_are_refused() {
    let server = TestServer::start(|path| match path {
        "/html" => image(
            "text/html; charset=utf-8",
            b"<html>secret intranet page</html>",
        ),
        "/svg" => image("image/svg+xml", b"<svg onload=alert(1)>"),
        "/none" => Reply::Raw(answer("200 OK", &[], b"\x89PNG\r\n\x1a\n")),
        "/404" => Reply::Raw(answer(
            "404 Not Found",
            &[("Content-Type", "image/png")],
            b"gone",
        )),
        "/500" => Reply::Raw(answer(
            "500 Internal Server Error",
            &[("Content-Type", "text/plain")],
            b"trace",
        )),
        "/204" => Reply::Raw(answer(
            "204 No Content",
            &[("Content-Type", "image/png")],
            b"",
        )),
        _ => image("image/png", b"png"),
    })
    .await;
    let fetcher = Fetcher::new(policy(&[&server])).unwrap();
    for (path, want) in [
        ("/html", FetchError::NotAnImage("text/html".into())),
        ("/svg", FetchError::NotAnImage("image/svg+xml".into())),
        ("/none", FetchError::NotAnImage("missing".into())),
        ("/404", FetchError::Status(404)),
        ("/500", FetchError::Status(500)),
        ("/204", FetchError::Status(204)),
    ] {
        let error = fetcher.fetch(&server.url(path)).await.unwrap_err();
        assert_eq!(error, want, "{path}");
        assert!(
            !error.to_string().contains("secret"),
            "no body in the message: {error}"
        );
    }
    // A control: the same server's image is fine.
    fetcher.fetch(&server.url("/png")).await.unwrap();
}

#[tokio::test]
async fn redirects_are_followed_to_allowed_places_without_cookies_or_referer() {
    let target = TestServer::start(|_| image("image/gif", b"GIF89a")).await;
    let target_url = target.url("/final.gif");
    let first = {
        let target_url = target_url.clone();
        TestServer::start(move |path| match path {
            "/elsewhere" => redirect("302 Found", &target_url),
            "/relative" => redirect("301 Moved Permanently", "here.png"),
            "/rooted" => redirect("308 Permanent Redirect", "/dir/here.png"),
            "/see-other" => redirect("303 See Other", "/dir/here.png"),
            "/temporary" => redirect("307 Temporary Redirect", "/dir/here.png"),
            _ => image("image/png", b"png"),
        })
        .await
    };
    let fetcher = Fetcher::new(policy(&[&first, &target])).unwrap();

    let fetched = fetcher.fetch(&first.url("/elsewhere")).await.unwrap();
    assert_eq!(&fetched.bytes[..], b"GIF89a");
    assert_eq!(fetched.final_url, target_url);
    let hop = &target.requests()[0];
    assert_eq!(header(hop, "cookie"), None, "{hop}");
    assert_eq!(header(hop, "referer"), None, "{hop}");
    assert_eq!(header(hop, "user-agent"), Some("Backyard image proxy"));

    for path in ["/relative", "/rooted", "/see-other", "/temporary"] {
        let fetched = fetcher.fetch(&first.url(path)).await.unwrap();
        assert_eq!(&fetched.bytes[..], b"png", "{path}");
        let want = if path == "/relative" {
            "/here.png"
        } else {
            "/dir/here.png"
        };
        assert_eq!(fetched.final_url, first.url(want), "{path}");
    }
    let last = first.requests().last().cloned().unwrap();
    assert_eq!(header(&last, "cookie"), None, "{last}");
}

#[tokio::test]
async fn a_redirect_to_a_loopback_port_not_allowed_is_refused_without_connecting() {
    let unlisted = TestServer::start(|_| image("image/png", b"internal")).await;
    let port = unlisted.addr.port();
    let locations = vec![
        format!("http://127.0.0.1:{port}/admin.png"),
        format!("http://localhost:{port}/admin.png"),
        format!("http://[::ffff:127.0.0.1]:{port}/admin.png"),
        format!("http://2130706433:{port}/admin.png"),
        format!("http://0x7f.1:{port}/admin.png"),
    ];
    let first = {
        let locations = locations.clone();
        TestServer::start(move |path| {
            let i: usize = path.trim_start_matches('/').parse().unwrap_or(0);
            redirect("302 Found", &locations[i])
        })
        .await
    };
    let fetcher = Fetcher::new(policy(&[&first])).unwrap();
    for (i, location) in locations.iter().enumerate() {
        let error = fetcher
            .fetch(&first.url(&format!("/{i}")))
            .await
            .unwrap_err();
        assert!(
            matches!(error, FetchError::ForbiddenAddress(_)),
            "{location}: {error:?}"
        );
    }
    assert_eq!(first.requests().len(), locations.len());
    assert_eq!(
        unlisted.connections.load(Ordering::SeqCst),
        0,
        "the unlisted server was contacted"
    );

    // The control: allowed, the same redirect is followed (so the refusal above was the check).
    let fetcher = Fetcher::new(policy(&[&first, &unlisted])).unwrap();
    let fetched = fetcher.fetch(&first.url("/0")).await.unwrap();
    assert_eq!(&fetched.bytes[..], b"internal");
}

#[tokio::test]
async fn a_redirect_to_the_metadata_address_or_another_scheme_is_refused() {
    let server = TestServer::start(|path| match path {
        "/metadata" => redirect(
            "302 Found",
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        ),
        "/metadata-v6" => redirect("302 Found", "http://[fd00:ec2::254]/latest/meta-data/"),
        "/private" => redirect("307 Temporary Redirect", "https://10.1.2.3/x.png"),
        "/file" => redirect("302 Found", "file:///etc/passwd"),
        "/ftp" => redirect("302 Found", "ftp://example.com/x.png"),
        "/credentials" => redirect("302 Found", "http://user:pw@example.com/x.png"),
        "/nowhere" => Reply::Raw(answer("302 Found", &[], b"")),
        _ => image("image/png", b"png"),
    })
    .await;
    let fetcher = Fetcher::new(policy(&[&server])).unwrap();
    for (path, want) in [
        (
            "/metadata",
            Some(FetchError::ForbiddenAddress("169.254.169.254".into())),
        ),
        (
            "/metadata-v6",
            Some(FetchError::ForbiddenAddress("fd00:ec2::254".into())),
        ),
        (
            "/private",
            Some(FetchError::ForbiddenAddress("10.1.2.3".into())),
        ),
        ("/file", Some(FetchError::Scheme("file".into()))),
        ("/ftp", Some(FetchError::Scheme("ftp".into()))),
        ("/credentials", None),
        ("/nowhere", None),
    ] {
        let started = Instant::now();
        let error = fetcher.fetch(&server.url(path)).await.unwrap_err();
        match want {
            Some(want) => assert_eq!(error, want, "{path}"),
            None => assert!(matches!(error, FetchError::BadUrl(_)), "{path}: {error:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{path}: took {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn redirects_stop_after_five() {
    // /hop/N redirects to /hop/N-1; /hop/0 is the image; /loop redirects to itself.
    let server = TestServer::start(|path| match path.strip_prefix("/hop/") {
        Some("0") => image("image/png", b"png"),
        Some(n) => redirect(
            "302 Found",
            &format!("/hop/{}", n.parse::<u32>().unwrap() - 1),
        ),
        None => redirect("302 Found", "/loop"),
    })
    .await;
    let fetcher = Fetcher::new(policy(&[&server])).unwrap();

    let error = fetcher.fetch(&server.url("/loop")).await.unwrap_err();
    assert_eq!(error, FetchError::TooManyRedirects(5));
    assert_eq!(
        server.requests().len(),
        6,
        "the first request and five redirects, no more"
    );

    // Exactly five redirects are fine; six are not (and the seventh request is never made).
    let fetched = fetcher.fetch(&server.url("/hop/5")).await.unwrap();
    assert_eq!(fetched.final_url, server.url("/hop/0"));
    assert_eq!(server.requests().len(), 12);
    let error = fetcher.fetch(&server.url("/hop/6")).await.unwrap_err();
    assert_eq!(error, FetchError::TooManyRedirects(5));
    assert_eq!(server.requests().len(), 18);

    let none = Fetcher::new(FetchPolicy {
        max_redirects: 0,
        ..policy(&[&server])
    })
    .unwrap();
    assert_eq!(
        none.fetch(&server.url("/hop/1")).await.unwrap_err(),
        FetchError::TooManyRedirects(0)
    );
    none.fetch(&server.url("/hop/0")).await.unwrap();
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    const LIMIT: usize = 100_000;
    let server = TestServer::start(|path| {
        let png_head = |extra: &str| {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n{extra}Connection: close\r\n\r\n"
            )
            .into_bytes()
        };
        match path {
            "/exact" => image("image/png", &png(LIMIT)),
            "/one-over" => image("image/png", &png(LIMIT + 1)),
            // Declares a gigabyte and sends nothing: refused from the header alone.
            "/declared" => Reply::ThenStall(png_head("Content-Length: 1000000000\r\n")),
            "/chunked" => Reply::Endless {
                head: png_head("Transfer-Encoding: chunked\r\n"),
                chunked: true,
            },
            "/until-close" => Reply::Endless {
                head: png_head(""),
                chunked: false,
            },
            "/chunked-exact" => {
                let mut raw = png_head("Transfer-Encoding: chunked\r\n");
                let body = png(LIMIT);
                for part in body.chunks(30_000) {
                    raw.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
                    raw.extend_from_slice(part);
                    raw.extend_from_slice(b"\r\n");
                }
                raw.extend_from_slice(b"0\r\n\r\n");
                Reply::Raw(raw)
            }
            _ => image("image/png", b"png"),
        }
    })
    .await;
    let fetcher = Fetcher::new(FetchPolicy {
        max_bytes: LIMIT,
        ..policy(&[&server])
    })
    .unwrap();

    assert_eq!(
        fetcher
            .fetch(&server.url("/exact"))
            .await
            .unwrap()
            .bytes
            .len(),
        LIMIT
    );
    assert_eq!(
        fetcher
            .fetch(&server.url("/chunked-exact"))
            .await
            .unwrap()
            .bytes,
        png(LIMIT)
    );
    for path in ["/one-over", "/declared", "/chunked", "/until-close"] {
        let started = Instant::now();
        let error = fetcher.fetch(&server.url(path)).await.unwrap_err();
        assert_eq!(error, FetchError::TooLarge { limit: LIMIT }, "{path}");
        // Refused as soon as it is over, not at the 5 s deadline.
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{path}: took {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn a_server_that_stalls_is_cut_at_the_timeout() {
    let server = TestServer::start(|path| match path {
        // Accepts, reads the request, never answers.
        "/silent" => Reply::ThenStall(Vec::new()),
        // Half an answer.
        "/half" => Reply::ThenStall(
            b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n\x89PNG"
                .to_vec(),
        ),
        // A byte now and then: never idle long, but never done (the deadline is for the whole fetch).
        "/drip" => Reply::Drip {
            head: b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n"
                .to_vec(),
            gap: Duration::from_millis(50),
        },
        // Redirects that each take a while: the deadline covers every hop.
        _ => Reply::After(
            Duration::from_millis(150),
            answer("302 Found", &[("Location", "/slow-hop")], b""),
        ),
    })
    .await;
    let timeout = Duration::from_millis(600);
    let fetcher = Fetcher::new(FetchPolicy {
        timeout,
        max_redirects: 20,
        ..policy(&[&server])
    })
    .unwrap();
    for path in ["/silent", "/half", "/drip", "/slow-hop"] {
        let started = Instant::now();
        let error = fetcher.fetch(&server.url(path)).await.unwrap_err();
        let took = started.elapsed();
        assert_eq!(error, FetchError::Timeout(timeout), "{path}");
        assert!(
            took >= timeout && took < timeout + Duration::from_millis(1500),
            "{path}: cut after {took:?}"
        );
    }
}

#[tokio::test]
async fn a_host_name_is_checked_on_every_address_it_resolves_to() {
    // A name from /etc/hosts (not "localhost", which is refused by name) that resolves to
    // internal addresses only: the machine's own name usually.
    let Some((name, ip)) = internal_host_name().await else {
        eprintln!("skipping: no name in /etc/hosts resolves to an internal address only");
        return;
    };
    let server = TestServer::start_on(SocketAddr::new(ip, 0), |_| image("image/png", b"png")).await;
    let url = format!("http://{name}:{}/x.png", server.addr.port());

    let fetcher = Fetcher::new(FetchPolicy {
        timeout: Duration::from_secs(5),
        ..FetchPolicy::default()
    })
    .unwrap();
    let error = fetcher.fetch(&url).await.unwrap_err();
    assert_eq!(
        error,
        FetchError::ForbiddenAddress(format!("{name} ({ip})")),
        "{url}"
    );
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        0,
        "{url} was contacted"
    );

    // The control: with the address allowed, the client connects to what the resolver returned.
    let fetcher = Fetcher::new(policy(&[&server])).unwrap();
    let fetched = fetcher.fetch(&url).await.unwrap();
    assert_eq!(&fetched.bytes[..], b"png");
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

async fn internal_host_name() -> Option<(String, std::net::IpAddr)> {
    let hosts = std::fs::read_to_string("/etc/hosts").ok()?;
    for line in hosts.lines().map(|l| l.split('#').next().unwrap_or("")) {
        for name in line.split_whitespace().skip(1) {
            let lower = name.to_ascii_lowercase();
            if lower == "localhost" || lower.ends_with(".localhost") {
                continue;
            }
            let Ok(addrs) = tokio::net::lookup_host((name, 0)).await else {
                continue;
            };
            let ips: Vec<_> = addrs.map(|a| a.ip()).collect();
            if ips.len() == 1
                && media::fetch::forbidden_ip(ips[0])
                && ips[0].is_ipv4()
                && std::net::TcpListener::bind(SocketAddr::new(ips[0], 0)).is_ok()
            {
                return Some((name.to_owned(), ips[0]));
            }
        }
    }
    None
}
