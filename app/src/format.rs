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

/// "1 Dec 2026, 14:05 CET": the exact time in the reader's zone (an IANA name, as the member's
/// "Your time zone" setting stores it), for RelativeTime's tooltip and screen-reader text. The
/// zone's own abbreviation where it has one (CET/CEST, EST/EDT: which one is the date's, summer
/// time included), else its offset as browsers write it ("GMT-3", "GMT+5:30"). No zone, or a
/// name this build does not know (a zone removed from the database since it was saved), is
/// UTC: a time is never left out, at worst it is in UTC and says so. Zones are known to the
/// server build only (chrono-tz stays out of the wasm bundle; no island shows a time).
pub fn exact_in(at: DateTime<Utc>, zone: Option<&str>) -> String {
    #[cfg(feature = "ssr")]
    if let Some(tz) = zone.and_then(|z| z.parse::<chrono_tz::Tz>().ok()) {
        use chrono::Offset;
        use chrono_tz::OffsetName;
        let local = at.with_timezone(&tz);
        let offset = local.offset();
        // chrono-tz also names offsets as numbers ("-03") where the zone has no letters.
        let name = match offset.abbreviation() {
            Some(a) if a.starts_with(|c: char| c.is_ascii_alphabetic()) => a.to_string(),
            _ => gmt_offset(offset.fix().local_minus_utc()),
        };
        return written_out(local.naive_local(), &name);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = zone;
    written_out(at.naive_utc(), "UTC")
}

/// "GMT+5:30", "GMT-3", "GMT": an offset from UTC in seconds, the way Intl.DateTimeFormat
/// writes a zone without an abbreviation, so the server's text and the browser's agree.
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
fn gmt_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.abs() / 60;
    match (minutes / 60, minutes % 60) {
        (0, 0) => "GMT".into(),
        (h, 0) => format!("GMT{sign}{h}"),
        (h, m) => format!("GMT{sign}{h}:{m:02}"),
    }
}

/// "1 Dec 2026, 14:05 NAME": day, month and year in words, so no reader mistakes 1/12 for
/// 12 January; a 24-hour clock. Written out, not strftime, for the reason given at exact_utc.
fn written_out(local: chrono::NaiveDateTime, zone_name: &str) -> String {
    use chrono::{Datelike, Timelike};
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {} {}, {:02}:{:02} {zone_name}",
        local.day(),
        MONTHS[local.month0() as usize],
        local.year(),
        local.hour(),
        local.minute()
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

/// "1 topic", "2 topics", "0 topics": every count a page, e-mail or feed shows goes through here,
/// so no page says "1 topics". `one` and `many` are written out (not `one` + "s") because
/// English plurals are not regular: "reply"/"replies", "person"/"people".
pub fn count(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 || n == -1 { one } else { many })
}

/// How long something took or has waited, unambiguous and short: "under a minute", "4 min",
/// "2 h 10 min", "1 day 3 h", "3 weeks", "2 weeks 1 day". The staff clock, the queue, the
/// figures, accountability and e-mails all write durations with this one function.
pub fn duration(minutes: i64) -> String {
    const HOUR: i64 = 60;
    const DAY: i64 = 24 * HOUR;
    const WEEK: i64 = 7 * DAY;
    let m = minutes.max(0);
    let days = |d: i64| count(d, "day", "days");
    match m {
        0 => "under a minute".to_string(),
        1..HOUR => format!("{m} min"),
        HOUR..DAY => match m % HOUR {
            0 => format!("{} h", m / HOUR),
            r => format!("{} h {r} min", m / HOUR),
        },
        // Under two weeks the days carry the meaning, and hours still matter within a day or two.
        DAY..WEEK => match (m % DAY) / HOUR {
            0 => days(m / DAY),
            h => format!("{} {h} h", days(m / DAY)),
        },
        _ => match (m % WEEK) / DAY {
            0 => count(m / WEEK, "week", "weeks"),
            d => format!("{} {}", count(m / WEEK, "week", "weeks"), days(d)),
        },
    }
}

/// `text` ended with a full stop, unless it ends with its own punctuation already: a reason,
/// a name or a title the member typed ("Spam.", "Why?") is put into a sentence without
/// "Spam.." or "Why?.".
pub fn sentence(text: &str) -> String {
    let text = text.trim_end();
    if text.ends_with(['.', '!', '?', '…', ':', ';']) || text.is_empty() {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

#[cfg(test)]
mod tests {
    use super::{count, duration, sentence};

    #[test]
    fn sentences_end_once() {
        assert_eq!(sentence("Spam"), "Spam.");
        assert_eq!(sentence("Spam. "), "Spam.");
        assert_eq!(sentence("Why?"), "Why?");
        assert_eq!(sentence("Wait…"), "Wait…");
        assert_eq!(
            sentence("Hidden by a moderator: off-topic!"),
            "Hidden by a moderator: off-topic!"
        );
    }

    #[test]
    fn counts_take_the_right_form() {
        assert_eq!(count(0, "topic", "topics"), "0 topics");
        assert_eq!(count(1, "topic", "topics"), "1 topic");
        assert_eq!(count(2, "reply", "replies"), "2 replies");
        assert_eq!(count(1, "person", "people"), "1 person");
        assert_eq!(count(1_000, "vote", "votes"), "1000 votes");
    }

    #[test]
    fn durations_say_their_units() {
        assert_eq!(duration(-5), "under a minute");
        assert_eq!(duration(0), "under a minute");
        assert_eq!(duration(1), "1 min");
        assert_eq!(duration(4), "4 min");
        assert_eq!(duration(59), "59 min");
        assert_eq!(duration(60), "1 h");
        assert_eq!(duration(130), "2 h 10 min");
        assert_eq!(duration(24 * 60), "1 day");
        assert_eq!(duration(27 * 60 + 5), "1 day 3 h");
        assert_eq!(duration(2 * 24 * 60), "2 days");
        assert_eq!(duration(7 * 24 * 60), "1 week");
        assert_eq!(duration(21 * 24 * 60 + 30), "3 weeks");
        assert_eq!(duration(15 * 24 * 60), "2 weeks 1 day");
        for m in [1, 5, 61, 1500, 20_000, 100_000] {
            let d = duration(m);
            // Never the bare "m"/"d" abbreviations that read as months or are unclear.
            assert!(!d.split(' ').any(|w| w == "m" || w == "d"), "{d}");
        }
    }
}

/// The exact time in the reader's zone (the test build has the server's zones).
#[cfg(test)]
mod exact_time_tests {
    use super::exact_in;
    use chrono::{TimeZone, Utc};

    #[test]
    fn exact_times_follow_the_readers_zone_and_summer_time() {
        let winter = Utc.with_ymd_and_hms(2026, 12, 1, 13, 5, 0).unwrap();
        let summer = Utc.with_ymd_and_hms(2026, 7, 1, 13, 5, 0).unwrap();
        // East of UTC, winter and summer time.
        assert_eq!(
            exact_in(winter, Some("Europe/Paris")),
            "1 Dec 2026, 14:05 CET"
        );
        assert_eq!(
            exact_in(summer, Some("Europe/Paris")),
            "1 Jul 2026, 15:05 CEST"
        );
        // West of UTC: the day can be the one before.
        let early = Utc.with_ymd_and_hms(2026, 12, 1, 3, 0, 0).unwrap();
        assert_eq!(
            exact_in(early, Some("America/New_York")),
            "30 Nov 2026, 22:00 EST"
        );
        assert_eq!(
            exact_in(summer, Some("America/New_York")),
            "1 Jul 2026, 09:05 EDT"
        );
        // The night summer time starts in New York (8 March 2026, 02:00 EST becomes 03:00
        // EDT): a minute apart across the jump.
        let before = Utc.with_ymd_and_hms(2026, 3, 8, 6, 59, 0).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 3, 8, 7, 0, 0).unwrap();
        assert_eq!(
            exact_in(before, Some("America/New_York")),
            "8 Mar 2026, 01:59 EST"
        );
        assert_eq!(
            exact_in(after, Some("America/New_York")),
            "8 Mar 2026, 03:00 EDT"
        );
        // Zones named only by their offset, written as browsers write them.
        assert_eq!(
            exact_in(winter, Some("America/Sao_Paulo")),
            "1 Dec 2026, 10:05 GMT-3"
        );
        assert_eq!(
            exact_in(winter, Some("Asia/Kolkata")),
            "1 Dec 2026, 18:35 IST"
        );
        assert_eq!(
            exact_in(winter, Some("Asia/Kathmandu")),
            "1 Dec 2026, 18:50 GMT+5:45"
        );
    }

    #[test]
    fn no_zone_or_an_unknown_one_is_utc() {
        let at = Utc.with_ymd_and_hms(2026, 1, 9, 8, 30, 0).unwrap();
        assert_eq!(exact_in(at, None), "9 Jan 2026, 08:30 UTC");
        assert_eq!(exact_in(at, Some("UTC")), "9 Jan 2026, 08:30 UTC");
        assert_eq!(exact_in(at, Some("Mars/Olympus")), "9 Jan 2026, 08:30 UTC");
        assert_eq!(exact_in(at, Some("")), "9 Jan 2026, 08:30 UTC");
    }
}
