//! Server functions, grouped by area: thin adapters that find who is asking, call a rule in
//! `server::*`, and map its result for the wire.
pub mod auth;
pub mod blog;
pub mod forum;
pub mod staff;

/// A local path to send someone back to after logging in. Anything else (another site,
/// `//evil.example`, a scheme) falls back to the home page, so `next` can't be an open redirect.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/\\") => {
            p.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/t/1/hello?page=2")), "/t/1/hello?page=2");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:x",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
