//! Plain formatting that both builds, the components and the server rules share. It sits below
//! all of them: no view code, no database.
use chrono::{DateTime, Utc};

/// "2026-11-23 14:05 UTC", for tooltips and messages. (Written out rather than through a
/// strftime pattern, which is parsed again on every call and showed up in page-render profiles.)
pub fn exact_utc(at: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// The class that gives an element its category's colour (as --category-colour): the pages
/// put it on elements, the server's stylesheet defines it.
pub fn colour_class(slug: &str) -> String {
    format!("category-colour-{slug}")
}

/// A file's size as people read it: "10 MB", "2.4 MB", "512 KB", "120 bytes".
pub fn file_size(bytes: i64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    let bytes = bytes.max(0) as f64;
    if bytes >= MB {
        let mb = bytes / MB;
        if mb >= 10.0 || mb.fract() < 0.05 {
            format!("{} MB", mb.round() as u64)
        } else {
            format!("{mb:.1} MB")
        }
    } else if bytes >= 1024.0 {
        format!("{} KB", (bytes / 1024.0).round() as u64)
    } else if bytes == 1.0 {
        "1 byte".into()
    } else {
        format!("{} bytes", bytes as u64)
    }
}
