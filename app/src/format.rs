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

#[cfg(test)]
mod tests {
    use super::{count, duration};

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
