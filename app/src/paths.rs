//! Where a redirect may go: only a path on this site; and query values written into links.
//! Shared by the server (every redirect) and the browser build (where to go after logging in).

/// `target` as a Location on this site, or None. Used only when, after percent-decoding, it is
/// a path starting with exactly one `/` followed by neither `/` nor `\` (either makes it
/// another host: `//evil.example`, and browsers read `\` as `/`), with no control character or
/// whitespace anywhere (browsers drop tabs and line breaks inside URLs, so `/<TAB>/evil.example`
/// is `//evil.example` to them, and CR or LF would end the header). Malformed escapes and
/// escapes that are not UTF-8 are refused too. The result has any non-ASCII character
/// percent-encoded, so it is always a valid header value.
pub fn local_path(target: &str) -> Option<String> {
    let decoded = percent_decode(target)?;
    // As sent and as decoded: `%2F` is not a path to a browser, and `/%2F/x` decodes to `//x`.
    let one_leading_slash = |path: &str| {
        let mut chars = path.chars();
        chars.next() == Some('/') && !matches!(chars.next(), Some('/' | '\\'))
    };
    if !one_leading_slash(target) || !one_leading_slash(&decoded) {
        return None;
    }
    if decoded.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    let mut out = String::with_capacity(target.len());
    for c in target.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    Some(out)
}

/// `%XX` escapes decoded once; None when one is malformed or the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A query value as `encode_query_value` (or a browser's form: `+` is a space) wrote it.
pub fn decode_query_value(value: &str) -> Option<String> {
    percent_decode(&value.replace('+', " "))
}

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
