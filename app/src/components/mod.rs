//! Reusable view pieces.
pub mod article;
pub mod article_form;
pub mod category_colours;
pub mod chart;
pub mod composer;
pub mod form;
pub mod header;
pub mod page;
pub mod pager;
pub mod post;
pub mod staff;
pub mod time;

/// Percent-encodes a query-string value (RFC 3986 unreserved characters and / pass through).
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
