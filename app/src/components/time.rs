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
///
/// Inside a shared fragment (a page of posts rendered once for many readers, see
/// server::fragments) it writes a marker instead, and [`write_time`] writes the same element
/// for each reader when the fragment is stitched.
#[component]
pub fn RelativeTime(at: DateTime<Utc>) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(FragmentTimes(marker)) = use_context::<FragmentTimes>() {
        return marker.mark(at).into_any();
    }
    let zone = ReaderZone::of_page();
    // Pages render whole (SsrMode::Async); the member is usually loaded by the time a page's
    // own data is, and then this resumes at once.
    Suspend::new(async move {
        let zone = zone.await;
        let mut html = String::new();
        write_time(at, Utc::now(), &zone, &mut html);
        leptos::tachys::html::InertElement::new(html)
    })
    .into_any()
}

/// Set while a shared fragment renders: times become markers (server::fragments).
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct FragmentTimes(pub crate::server::fragments::TimeMarker);

/// The zone a reader's exact times are written in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReaderZone {
    zone: Option<String>,
    /// Not chosen by the reader (the site's): the browser may write it in its own.
    automatic: bool,
}

impl ReaderZone {
    /// This page's reader's zone, from the member and the site the page loads anyway.
    pub fn of_page() -> impl std::future::Future<Output = ReaderZone> + Send + 'static {
        use std::future::IntoFuture;
        // Turned into futures now, while the page's owner is alive: a resource turned into one
        // later panics if the page was dropped meanwhile (its reader gone mid-render), and the
        // futures hold what they wait for themselves.
        let me = use_context::<CurrentUser>().map(|CurrentUser(me)| me.into_future());
        let site = use_context::<Site>().map(|Site(site)| site.into_future());
        async move {
            let chosen = match me {
                Some(me) => me.await.ok().flatten().and_then(|u| u.time_zone),
                None => None,
            };
            let automatic = chosen.is_none();
            let zone = match (chosen, site) {
                (Some(zone), _) => Some(zone),
                (None, Some(site)) => site.await.ok().map(|s| s.time_zone),
                (None, None) => None,
            };
            ReaderZone { zone, automatic }
        }
    }
}

/// The `<time>` element for `at` as read at `now`: relative text, the exact time in the
/// reader's zone as its title and as visually hidden text.
pub fn write_time(at: DateTime<Utc>, now: DateTime<Utc>, zone: &ReaderZone, out: &mut String) {
    use std::fmt::Write;
    let exact = escape(&exact_in(at, zone.zone.as_deref()));
    let _ = write!(
        out,
        r#"<time datetime="{}" title="{exact}"{}>{}<span class="visually-hidden"> ({exact})</span></time>"#,
        at.to_rfc3339(),
        if zone.automatic {
            r#" data-exact="""#
        } else {
            ""
        },
        escape(&relative(at, now)),
    );
}

/// Text for HTML: a zone's name comes from the member's settings.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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
