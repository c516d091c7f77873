//! Times are stored in UTC and shown relative ("3 hours ago"), the exact time (in the reader's
//! zone) on hover and to screen readers.
use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::context::{CurrentUser, Site};

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

pub use crate::format::{exact_in, exact_utc};

/// A `<time>` showing a relative time, with the exact time as its tooltip. A tooltip needs a
/// mouse, and screen readers skip `title`, so the exact time is also in the element as
/// visually hidden text: everyone can learn when, not only "3 hours ago".
///
/// The exact time is in the reader's zone: a member's "Your time zone", read from the
/// signed-in member every page loads once (CurrentUser), so no query per time. Visitors and
/// members on "automatic" get the site's zone from the server (loaded once with the site,
/// Site; a visitor's page is cached and shared by every visitor, so it cannot be in anyone's
/// own), marked `data-exact`: with JavaScript, public/forms.js rewrites those in the
/// browser's zone. A zone the member chose is left alone.
#[component]
pub fn RelativeTime(at: DateTime<Utc>) -> impl IntoView {
    let (me, site) = (use_context::<CurrentUser>(), use_context::<Site>());
    let ago = relative(at, Utc::now());
    // Pages render whole (SsrMode::Async); the member is usually loaded by the time a page's
    // own data is, and then this resumes at once.
    Suspend::new(async move {
        let chosen = match me {
            Some(CurrentUser(me)) => me.await.ok().flatten().and_then(|u| u.time_zone),
            None => None,
        };
        let automatic = chosen.is_none();
        let zone = match (chosen, site) {
            (Some(zone), _) => Some(zone),
            (None, Some(Site(site))) => site.await.ok().map(|s| s.time_zone),
            (None, None) => None,
        };
        let exact = exact_in(at, zone.as_deref());
        let spoken = format!(" ({exact})");
        view! {
            <time datetime=at.to_rfc3339() title=exact data-exact=automatic.then_some("")>
                {ago}<span class="visually-hidden">{spoken}</span>
            </time>
        }
    })
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
