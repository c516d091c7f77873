//! Times are stored in UTC and shown relative ("3 hours ago"), the exact time on hover.
use chrono::{DateTime, Utc};
use leptos::prelude::*;

pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds();
    if secs < 0 {
        return "just now".into();
    }
    let (n, one, many) = match secs {
        0..=59 => return "just now".into(),
        60..=3599 => (secs / 60, "minute", "minutes"),
        3600..=86_399 => (secs / 3600, "hour", "hours"),
        86_400..=2_591_999 => (secs / 86_400, "day", "days"),
        2_592_000..=31_535_999 => (secs / 2_592_000, "month", "months"),
        _ => (secs / 31_536_000, "year", "years"),
    };
    format!("{} ago", crate::format::count(n, one, many))
}

pub use crate::format::exact_utc;

/// A `<time>` showing a relative time, with the exact UTC time as its tooltip. A tooltip needs a
/// mouse, and screen readers skip `title`, so the exact time is also in the element as
/// visually hidden text: everyone can learn when, not only "3 hours ago".
#[component]
pub fn RelativeTime(at: DateTime<Utc>) -> impl IntoView {
    let exact = exact_utc(at);
    let spoken = format!(" ({exact})");
    view! {
        <time datetime=at.to_rfc3339() title=exact>
            {relative(at, Utc::now())}<span class="visually-hidden">{spoken}</span>
        </time>
    }
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
        assert_eq!(relative(now - Duration::days(800), now), "2 years ago");
    }
}
