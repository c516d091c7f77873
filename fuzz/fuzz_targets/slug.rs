//! Any title or typed address through the slug rules: URL-safe, stable, never a path.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let slug = app::server::forum::slugify(text);
    assert!(slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
    assert_eq!(app::server::forum::slugify(&slug), slug);
    if let Ok(Some(checked)) = app::server::blog::check_slug(text) {
        assert!(!checked.contains('/') && !checked.contains(".."));
        assert_eq!(app::server::blog::check_slug(&checked), Ok(Some(checked.clone())));
    }
});
