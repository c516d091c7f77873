//! Times the search rules in-process (app::server::search: the query, ranking, snippets; no
//! HTTP, no page rendering) on the database at DATABASE_URL, for bench/search.sh: with the
//! HTTP figures beside them, one sees what the engine costs and what the page adds.
//! usage: search_timing QUERIES.tsv [REQUESTS]   (QUERIES.tsv from `backyard bench-queries`)
use std::time::{Duration, Instant};

use app::{model::SearchRequest, server::search};

fn stats(label: &str, mut ms: Vec<f64>, goal: &str) {
    ms.sort_by(f64::total_cmp);
    let median = ms[ms.len() / 2];
    let p99 = ms[((ms.len() * 99).div_ceil(100)).max(1) - 1];
    println!(
        "  {label:<40} n={:<5} median {median:7.2} ms   p99 {p99:7.2} ms   {goal}",
        ms.len()
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tsv = std::fs::read_to_string(
        args.first()
            .expect("usage: search_timing QUERIES.tsv [REQUESTS]"),
    )
    .expect("the queries file can be read");
    let requests: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(200);
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let db = app::server::db::connect(&url)
        .await
        .expect("the database opens");
    let queries: Vec<(String, String)> = tsv
        .lines()
        .filter_map(|l| {
            let mut parts = l.split('\t');
            Some((parts.next()?.to_string(), parts.next()?.to_string()))
        })
        .collect();
    let group = |kinds: &[&str]| -> Vec<String> {
        queries
            .iter()
            .filter(|(k, _)| kinds.contains(&k.as_str()))
            .map(|(_, q)| q.clone())
            .collect()
    };
    let groups = [
        ("one-word", group(&["word", "accent", "cjk"])),
        ("three-word", group(&["three"])),
        ("phrase", group(&["phrase"])),
    ];
    let similar = group(&["similar"]);
    println!(
        "In-process (no HTTP, no page): search::search and search::similar, {requests} calls a row"
    );
    for clients in [1usize, 4] {
        for (name, texts) in &groups {
            if texts.is_empty() {
                continue;
            }
            let (db, texts) = (db.clone(), std::sync::Arc::new(texts.clone()));
            let ms = run(clients, requests, move |i| {
                let db = db.clone();
                let q = texts[i % texts.len()].clone();
                async move {
                    let request = SearchRequest {
                        q,
                        page: 1,
                        ..Default::default()
                    };
                    let started = Instant::now();
                    search::search(&db, request).await.expect("search answers");
                    started.elapsed()
                }
            })
            .await;
            stats(
                &format!("search {name}, {clients} client(s)"),
                ms,
                "goal: median < 20 ms, p99 < 100 ms",
            );
        }
        if similar.is_empty() {
            continue;
        }
        let (db, similar) = (db.clone(), std::sync::Arc::new(similar.clone()));
        let ms = run(clients, requests, move |i| {
            let db = db.clone();
            let title = similar[i % similar.len()].clone();
            async move {
                let started = Instant::now();
                search::similar(&db, &title).await.expect("similar answers");
                started.elapsed()
            }
        })
        .await;
        stats(
            &format!("similar, {clients} client(s)"),
            ms,
            "goal: median < 10 ms",
        );
    }
}

/// `total` calls of `call(i)` over `clients` tasks; their times in milliseconds.
async fn run<F, Fut>(clients: usize, total: usize, call: F) -> Vec<f64>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Duration> + Send,
{
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (next, call) = (next.clone(), call.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    return out;
                }
                out.push(call(i).await.as_secs_f64() * 1000.0);
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("a timing task finished"));
    }
    all
}
