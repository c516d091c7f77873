//! /metrics through the real router: off by default, on with BACKYARD_METRICS=on behind a
//! bearer token on the site's address or on an address of its own, a page Prometheus can parse,
//! counters that move, and route labels that are patterns, never the paths asked for.
use std::collections::{BTreeMap, BTreeSet};

use crate::common::*;
use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

const TOKEN: &str = "metrics-token-0123456789abcdef";

fn metrics_config(extra: &[(&str, &str)]) -> app::server::config::Config {
    let mut settings = vec![
        ("BACKYARD_PUBLIC_URL", ORIGIN),
        ("DATABASE_URL", "sqlite::memory:"),
        ("BACKYARD_METRICS", "on"),
    ];
    settings.extend_from_slice(extra);
    config_with(&settings)
}

/// The demo site with metrics on the site's own address, behind `TOKEN`.
async fn site_with_metrics() -> (DatabaseConnection, Router) {
    let db = sqlite_memory().await;
    app::server::demo::seed_if_empty(&db).await.unwrap();
    let cfg = metrics_config(&[("BACKYARD_METRICS_TOKEN", TOKEN)]);
    let app = server::router(server::app_state(cfg, db.clone()));
    (db, app)
}

async fn scrape(app: &Router, authorization: Option<&str>) -> Reply {
    let mut req = Request::get("/metrics");
    if let Some(value) = authorization {
        req = req.header(header::AUTHORIZATION, value);
    }
    send(app, req.body(Body::empty()).unwrap()).await
}

/// The page, checked against the text exposition format (see `parse`).
async fn metrics_page(app: &Router) -> Exposition {
    let reply = scrape(app, Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    parse(&reply.body)
}

/// A parsed page: each sample's value by its name and labels as written.
struct Exposition {
    text: String,
    samples: BTreeMap<String, f64>,
}

impl Exposition {
    fn value(&self, sample: &str) -> f64 {
        self.samples.get(sample).copied().unwrap_or(0.0)
    }

    fn has(&self, sample: &str) -> bool {
        self.samples.contains_key(sample)
    }
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Parses the text format strictly: every line is `# HELP name text`, `# TYPE name kind` or
/// `name{label="value",...} number`; HELP and TYPE come once per family, before its samples;
/// every sample belongs to the family declared last (a histogram's as name_bucket, _sum,
/// _count); label values are quoted with \\, \" and \n escaped; no series appears twice; and a
/// histogram's buckets only grow, ending at +Inf equal to its _count.
fn parse(text: &str) -> Exposition {
    assert!(text.ends_with('\n'), "the page ends with a newline");
    let mut helped = BTreeSet::new();
    let mut typed = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    let mut samples = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            let (keyword, rest) = rest.split_once(' ').expect(line);
            let (name, tail) = rest.split_once(' ').expect(line);
            assert!(is_metric_name(name), "{line}");
            match keyword {
                "HELP" => {
                    assert!(helped.insert(name.to_string()), "HELP twice: {line}");
                    assert!(!tail.trim().is_empty(), "{line}");
                }
                "TYPE" => {
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&tail),
                        "{line}"
                    );
                    assert!(
                        typed.insert(name.to_string(), tail.to_string()).is_none(),
                        "TYPE twice: {line}"
                    );
                    assert!(helped.contains(name), "HELP before TYPE: {line}");
                    current = Some((name.to_string(), tail.to_string()));
                }
                _ => panic!("an unknown comment: {line}"),
            }
            continue;
        }
        assert!(!line.starts_with('#'), "{line}");
        let name_end = line.find(['{', ' ']).expect(line);
        let name = &line[..name_end];
        assert!(is_metric_name(name), "{line}");
        let (family, kind) = current.as_ref().expect("a sample after its TYPE");
        let belongs = if kind == "histogram" {
            ["_bucket", "_sum", "_count"]
                .iter()
                .any(|s| name.strip_suffix(s) == Some(family.as_str()))
        } else {
            name == family
        };
        assert!(belongs, "{name} is not of the family {family}: {line}");
        let mut rest = &line[name_end..];
        let mut labels = String::new();
        if let Some(inner) = rest.strip_prefix('{') {
            let mut chars = inner.char_indices().peekable();
            // Label by label, up to the closing brace.
            let end = loop {
                let start = chars.peek().map(|(i, _)| *i).expect(line);
                while chars
                    .peek()
                    .is_some_and(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
                {
                    chars.next();
                }
                let at = chars.peek().map(|(i, _)| *i).expect(line);
                assert!(at > start, "a label name: {line}");
                assert_eq!(chars.next().map(|(_, c)| c), Some('='), "{line}");
                assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                loop {
                    match chars.next().expect(line).1 {
                        '\\' => {
                            let escaped = chars.next().expect(line).1;
                            assert!(['\\', '"', 'n'].contains(&escaped), "{line}");
                        }
                        '"' => break,
                        '\n' => panic!("{line}"),
                        _ => {}
                    }
                }
                match chars.next().expect(line) {
                    (_, ',') => continue,
                    (i, '}') => break i,
                    _ => panic!("{line}"),
                }
            };
            labels = inner[..end].to_string();
            rest = &inner[end + 1..];
        }
        let value = rest.strip_prefix(' ').expect(line);
        let number: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            v => v.parse().unwrap_or_else(|_| panic!("not a number: {line}")),
        };
        let key = if labels.is_empty() {
            name.to_string()
        } else {
            format!("{name}{{{labels}}}")
        };
        assert!(samples.insert(key, number).is_none(), "twice: {line}");
    }
    for (family, kind) in &typed {
        if kind != "histogram" {
            continue;
        }
        // Per series (its labels without le), the buckets in order.
        let mut buckets: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        for (key, value) in &samples {
            let Some(labels) = key
                .strip_prefix(&format!("{family}_bucket{{"))
                .and_then(|l| l.strip_suffix('}'))
            else {
                continue;
            };
            let (series, le) = labels.rsplit_once(",le=").expect(key);
            let le = le.trim_matches('"');
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            buckets
                .entry(series.to_string())
                .or_default()
                .push((le, *value));
        }
        for (series, mut list) in buckets {
            list.sort_by(|a, b| a.0.total_cmp(&b.0));
            assert!(list.windows(2).all(|w| w[0].1 <= w[1].1), "{series}");
            let last = list.last().unwrap();
            assert_eq!(last.0, f64::INFINITY, "{series} ends at +Inf");
            assert_eq!(
                Some(&last.1),
                samples.get(&format!("{family}_count{{{series}}}")),
                "{series}: +Inf is the count"
            );
        }
    }
    Exposition {
        text: text.to_string(),
        samples,
    }
}

#[tokio::test]
async fn metrics_are_not_served_unless_switched_on() {
    let (_db, app) = demo_site().await;
    for authorization in [None, Some(format!("Bearer {TOKEN}"))] {
        let reply = scrape(&app, authorization.as_deref()).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert!(!reply.body.contains("backyard_http_requests_total"));
    }
}

#[tokio::test]
async fn on_the_site_address_only_the_bearer_token_reads_them() {
    let (_db, app) = site_with_metrics().await;
    let wrong_length = format!("Bearer {TOKEN}x");
    let wrong_last_char = format!("Bearer {}X", &TOKEN[..TOKEN.len() - 1]);
    let basic = format!("Basic {TOKEN}");
    for authorization in [
        None,
        Some(wrong_length.as_str()),
        Some(wrong_last_char.as_str()),
        Some(basic.as_str()),
        Some("Bearer "),
    ] {
        let reply = scrape(&app, authorization).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{authorization:?}");
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Bearer realm=\"metrics\"")
        );
        assert!(
            reply.body.contains("BACKYARD_METRICS_TOKEN"),
            "{}",
            reply.body
        );
        assert!(!reply.body.contains("backyard_http"), "no figures leak");
    }
    // The scheme's name is case-insensitive; the token is not.
    let lower = format!("bearer {TOKEN}");
    assert_eq!(scrape(&app, Some(&lower)).await.status, StatusCode::OK);
    let token_upper = format!("Bearer {}", TOKEN.to_uppercase());
    if token_upper != format!("Bearer {TOKEN}") {
        assert_eq!(
            scrape(&app, Some(&token_upper)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // From the loopback address it is refused all the same: a proxy on this host is loopback.
    let mut req = Request::get("/metrics").body(Body::empty()).unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            40000,
        ))));
    assert_eq!(send(&app, req).await.status, StatusCode::UNAUTHORIZED);
    let post = Request::post("/metrics")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send(&app, post).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    metrics_page(&app).await;
}

#[tokio::test]
async fn counters_move_and_routes_are_labelled_by_their_pattern() {
    let (db, app) = site_with_metrics().await;
    let before = metrics_page(&app).await;
    let topic = "backyard_http_requests_total{route=\"/t/{id}/{slug}\",status=\"4xx\"}";
    let unmatched = "backyard_http_requests_total{route=\"unmatched\",status=\"4xx\"}";
    for _ in 0..3 {
        let reply = get(&app, "/t/123/anything-at-all", None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        let reply = get(&app, "/no/such/place-xyzzy", None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
    }
    // A visitor's topic page twice: rendered, then from the page cache.
    let topic_row = app::server::entity::topic::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let topic_path = format!("/t/{}/{}", topic_row.id, topic_row.slug);
    for _ in 0..2 {
        assert_eq!(get(&app, &topic_path, None).await.status, StatusCode::OK);
    }
    let after = metrics_page(&app).await;
    assert_eq!(
        after.value(topic) - before.value(topic),
        3.0,
        "{}",
        after.text
    );
    assert_eq!(after.value(unmatched) - before.value(unmatched), 3.0);
    let read = "backyard_http_requests_total{route=\"/t/{id}/{slug}\",status=\"2xx\"}";
    assert_eq!(after.value(read) - before.value(read), 2.0);
    let count = "backyard_http_request_duration_seconds_count{route=\"/t/{id}/{slug}\"}";
    assert_eq!(
        after.value(count) - before.value(count),
        5.0,
        "3 missing, 2 read"
    );
    let sum = "backyard_http_request_duration_seconds_sum{route=\"/t/{id}/{slug}\"}";
    assert!(after.value(sum) > before.value(sum));
    // The page cache counts are process-wide (other tests move them too): at least ours.
    let hits = "backyard_page_cache_lookups_total{kind=\"page\",result=\"hit\"}";
    let misses = "backyard_page_cache_lookups_total{kind=\"page\",result=\"miss\"}";
    assert!(after.value(hits) - before.value(hits) >= 1.0);
    assert!(after.value(misses) - before.value(misses) >= 1.0);
    // The scrape itself is counted under its own route.
    let scrapes = "backyard_http_requests_total{route=\"/metrics\",status=\"2xx\"}";
    assert!(after.value(scrapes) >= 1.0);
    // Patterns only: nothing of the paths asked for.
    let routes: BTreeSet<&str> = after
        .samples
        .keys()
        .filter_map(|k| {
            k.split_once("route=\"")
                .map(|(_, r)| r.split('"').next().unwrap())
        })
        .collect();
    assert!(routes.contains("/t/{id}/{slug}") && routes.contains("unmatched"));
    for route in &routes {
        for raw in ["123", "anything", "xyzzy", "/no/such"] {
            assert!(!route.contains(raw), "{raw} in the route label {route}");
        }
    }

    // The rest of the page: pool, outbox, workers, memory, build.
    for family in [
        "backyard_db_pool_connections{state=\"in_use\"}",
        "backyard_db_pool_connections{state=\"idle\"}",
        "backyard_db_pool_max_connections",
        "backyard_db_writers_waiting",
        "backyard_db_writer_busy_seconds_total",
        "backyard_database_up",
        "backyard_outbox_queued",
        "backyard_outbox_oldest_due_seconds",
        "backyard_notifications_waiting",
        "backyard_notifications_oldest_seconds",
        "backyard_worker_failures_total{worker=\"mail\"}",
        "backyard_worker_failures_total{worker=\"cleanup\"}",
        "process_resident_memory_bytes",
        "backyard_process_peak_resident_memory_bytes",
        "process_start_time_seconds",
    ] {
        assert!(after.has(family), "{family} missing:\n{}", after.text);
    }
    assert_eq!(after.value("backyard_database_up"), 1.0);
    let queued = app::server::entity::email::Entity::find()
        .filter(sea_orm::ColumnTrait::eq(
            &app::server::entity::email::Column::Status,
            "queued",
        ))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(after.value("backyard_outbox_queued"), queued as f64);
    assert!(
        after.value("process_resident_memory_bytes") > 1e6,
        "{}",
        after.text
    );
    assert!(after.text.contains("backyard_build_info{version=\""));
    assert!(after.text.contains(",database=\"sqlite\"} 1\n"));
}

#[tokio::test]
async fn a_failed_worker_round_is_counted() {
    let (_db, app) = site_with_metrics().await;
    let failures = "backyard_worker_failures_total{worker=\"digest\"}";
    let before = metrics_page(&app).await.value(failures);
    server::metrics::worker_round(server::metrics::Worker::Digest, true);
    server::metrics::worker_round(server::metrics::Worker::Digest, false);
    let after = metrics_page(&app).await;
    assert!(after.value(failures) - before >= 1.0);
    assert!(
        after.value("backyard_worker_last_round_timestamp_seconds{worker=\"digest\"}")
            > 1_700_000_000.0
    );
}

#[tokio::test]
async fn on_their_own_address_the_site_does_not_answer_them() {
    let db = sqlite_memory().await;
    let cfg = metrics_config(&[("BACKYARD_METRICS_ADDR", "127.0.0.1:9100")]);
    let routers = server::routers(server::app_state(cfg, db));
    let site = routers.site;
    let own = routers.metrics.expect("a router for the metrics address");
    assert_eq!(
        scrape(&site, None).await.status,
        StatusCode::NOT_FOUND,
        "not on the site's address"
    );
    assert_eq!(get(&site, "/healthz", None).await.status, StatusCode::OK);
    // No token set: the address itself is the protection (a private interface or loopback).
    let reply = scrape(&own, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let page = parse(&reply.body);
    assert_eq!(
        page.value("backyard_http_requests_total{route=\"/healthz\",status=\"2xx\"}"),
        1.0
    );
    assert_eq!(
        page.value("backyard_http_requests_total{route=\"unmatched\",status=\"4xx\"}"),
        1.0,
        "the site's /metrics is an unmatched path there"
    );
    assert_eq!(
        get(&own, "/healthz", None).await.status,
        StatusCode::NOT_FOUND,
        "the metrics address serves nothing else"
    );

    // With a token set, the own address asks for it too.
    let db = sqlite_memory().await;
    let cfg = metrics_config(&[
        ("BACKYARD_METRICS_ADDR", "127.0.0.1:9100"),
        ("BACKYARD_METRICS_TOKEN", TOKEN),
    ]);
    let own = server::routers(server::app_state(cfg, db)).metrics.unwrap();
    assert_eq!(scrape(&own, None).await.status, StatusCode::UNAUTHORIZED);
    let authorised = scrape(&own, Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(authorised.status, StatusCode::OK);
}

#[tokio::test]
async fn on_postgres_the_pool_and_outbox_are_read_from_it() {
    let Some((db, admin_url, name)) = crate::postgres::fresh_database().await else {
        return;
    };
    app::server::mail::enqueue(&db, "ada@example.com", "Hello", "Body")
        .await
        .unwrap();
    let cfg = metrics_config(&[("BACKYARD_METRICS_TOKEN", TOKEN)]);
    let app = server::router(server::app_state(cfg, db.clone()));
    assert_eq!(get(&app, "/healthz", None).await.status, StatusCode::OK);
    let page = metrics_page(&app).await;
    assert_eq!(page.value("backyard_database_up"), 1.0, "{}", page.text);
    assert_eq!(page.value("backyard_outbox_queued"), 1.0);
    assert!(page.value("backyard_outbox_oldest_due_seconds") >= 0.0);
    let pool = app::server::metrics::pool(&db).unwrap();
    assert_eq!(
        page.value("backyard_db_pool_max_connections"),
        f64::from(pool.max)
    );
    assert!(page.has("backyard_db_pool_connections{state=\"idle\"}"));
    for sqlite_only in [
        "backyard_db_writers_waiting",
        "backyard_db_writer_busy_seconds_total",
    ] {
        assert!(
            !page.has(sqlite_only),
            "SQLite's writer only: {sqlite_only}"
        );
    }
    assert!(page.text.contains(",database=\"postgres\"} 1\n"));
    drop(app);
    crate::postgres::drop_database(db, &admin_url, &name).await;
}
