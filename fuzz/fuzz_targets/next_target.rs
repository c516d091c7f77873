//! Any bytes as `next=` (or any redirect target): the answer is a local path that no browser
//! reads as another host and that fits a Location header, so redirecting never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    let target = app::api::safe_next(Some(&raw));
    assert!(axum::http::HeaderValue::from_str(&target).is_ok(), "{target:?}");
    assert!(target.bytes().all(|b| b.is_ascii_graphic()), "{target:?}");
    assert!(target.starts_with('/'), "{target:?}");
    assert!(!target.starts_with("//") && !target.starts_with("/\\"), "{target:?}");
    // Percent-decoded (as a browser may), it is still the same local path.
    assert_eq!(app::api::local_path(&target).as_deref(), Some(target.as_str()));
});
