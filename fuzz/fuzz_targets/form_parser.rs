//! Any request body through the urlencoded form parser of the request checks: no panic, and a
//! value encoded the way browsers encode it decodes back to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for (key, value) in server::security::form_pairs(data) {
        assert!(key.len() <= data.len() && value.len() <= data.len());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let encoded = app::components::encode_query_value(text);
        assert_eq!(server::security::percent_decode(encoded.as_bytes()), data);
    }
});
