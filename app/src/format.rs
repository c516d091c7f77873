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
