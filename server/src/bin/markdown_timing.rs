//! Times the content pipeline on the most expensive bodies we know (bench/markdown.sh): the
//! best of REPEATS renders of each, in milliseconds. `--write DIR` writes the bodies to files
//! instead, for the benchmark to post to a running server.
//! usage: markdown_timing [REPEATS [NAME-FILTER]] | markdown_timing --write DIR
use std::time::Instant;

use app::server::{content, testing::worst_markdown_bodies};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--write") {
        let dir = std::path::Path::new(args.get(1).expect("a directory"));
        std::fs::create_dir_all(dir).expect("directory can be made");
        for (i, (name, body)) in worst_markdown_bodies().into_iter().enumerate() {
            let file = format!(
                "{i:02}-{}.md",
                name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            );
            std::fs::write(dir.join(file), body).expect("body written");
        }
        return;
    }
    let repeats: usize = args.first().and_then(|n| n.parse().ok()).unwrap_or(3);
    let filter = args.get(1).cloned().unwrap_or_default();
    let mut slowest = 0.0f64;
    for (name, body) in worst_markdown_bodies() {
        if !name.contains(filter.as_str()) {
            continue;
        }
        let mut best = f64::MAX;
        let mut out_len = 0;
        for _ in 0..repeats.max(1) {
            let started = Instant::now();
            let html = content::render(&body);
            best = best.min(started.elapsed().as_secs_f64() * 1000.0);
            out_len = html.len();
        }
        slowest = slowest.max(best);
        println!(
            "  {name:<32} {:>6} chars -> {:>8} bytes   {best:8.2} ms",
            body.chars().count(),
            out_len
        );
    }
    println!("  slowest: {slowest:.2} ms (each must be under 100 ms)");
}
