//! Any query string: page numbers parse to a number or nothing, and the request checks decide
//! without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    let mut map = leptos_router::params::ParamsMap::new();
    for (key, value) in server::security::form_pairs(raw.as_bytes()) {
        let (Ok(key), Ok(value)) = (String::from_utf8(key), String::from_utf8(value)) else {
            continue;
        };
        map.insert(key, value);
    }
    let page: Option<u64> = app::components::page::query_number(&map, "page");
    if let Some(n) = page {
        assert_eq!(map.get("page").and_then(|v| v.parse().ok()), Some(n));
    }
    let _ = server::security::page_is_valid(raw);
});
