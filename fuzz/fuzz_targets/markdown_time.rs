//! Any text through the content pipeline in bounded time: one render taking longer than
//! LIMIT_MS is a superlinear path (the release pipeline renders the worst 50,000-character
//! bodies we know in a few milliseconds; the limit leaves room for the fuzzer's
//! instrumentation). Run with a long enough input: -max_len=50000. Seeds: the bodies of
//! app::server::testing::worst_markdown_bodies (`markdown_timing --write DIR`).
#![no_main]
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;

const LIMIT_MS: u64 = 500;

fuzz_target!(|source: &str| {
    if source.chars().count() > app::server::content::MAX_BODY_CHARS {
        return; // longer bodies are refused before they are rendered
    }
    let started = Instant::now();
    let html = app::server::content::render(source);
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(LIMIT_MS),
        "{} ms for {} characters ({} bytes out): {:?}",
        took.as_millis(),
        source.chars().count(),
        html.len(),
        source.chars().take(200).collect::<String>()
    );
});
