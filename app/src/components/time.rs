//! Times are stored in UTC and shown relative ("3 hours ago"), the exact time on hover.
use chrono::{DateTime, Utc};
use leptos::prelude::*;

pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds();
    if secs < 0 {
        return "just now".into();
    }
    let (n, unit) = match secs {
        0..=59 => return "just now".into(),
        60..=3599 => (secs / 60, "minute"),
        3600..=86_399 => (secs / 3600, "hour"),
        86_400..=2_591_999 => (secs / 86_400, "day"),
        2_592_000..=31_535_999 => (secs / 2_592_000, "month"),
        _ => (secs / 31_536_000, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

pub use crate::format::exact_utc;

/// A `<time>` showing a relative time, with the exact UTC time as its tooltip.
#[component]
pub fn RelativeTime(at: DateTime<Utc>) -> impl IntoView {
    let exact = exact_utc(at);
    view! { <time datetime=at.to_rfc3339() title=exact>{relative(at, Utc::now())}</time> }
}

#[cfg(test)]
mod tests {
    use super::relative;
    use chrono::{Duration, Utc};

    #[test]
    fn reads_like_a_person_would_say_it() {
        let now = Utc::now();
        assert_eq!(relative(now - Duration::seconds(5), now), "just now");
        assert_eq!(relative(now - Duration::minutes(1), now), "1 minute ago");
        assert_eq!(relative(now - Duration::hours(3), now), "3 hours ago");
        assert_eq!(relative(now - Duration::days(2), now), "2 days ago");
        assert_eq!(relative(now - Duration::days(400), now), "1 year ago");
    }
}
