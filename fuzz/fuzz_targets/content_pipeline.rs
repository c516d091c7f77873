//! Any text through the content pipeline: no panic, and the stored HTML is a fixed point of the
//! sanitiser (cleaning it again changes nothing, so it re-parses to the same structure).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|source: &str| {
    let html = app::server::content::render(source);
    assert_eq!(app::server::content::clean_html(&html), html, "not idempotent for {source:?}");
    let lower = html.to_ascii_lowercase();
    for banned in ["<script", "<svg", "<math", "<iframe", "<style", "<object"] {
        assert!(!lower.contains(banned), "{banned} from {source:?}");
    }
});
