//! Any `next=` value: the redirect after logging in never leaves the site.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|next: &str| {
    let target = app::api::safe_next(Some(next));
    assert!(target.starts_with('/') && !target.starts_with("//") && !target.starts_with("/\\"));
});
