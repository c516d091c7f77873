//! The response figures as /accountability and /staff/metrics show them: the headline figures
//! with their change from the period before, the 12-week trend (an SVG drawn on the server,
//! with the same numbers as a table), and the figures per category (one table that becomes
//! cards on a phone). No JavaScript; the numbers all come from `server::views::staff`.
use leptos::prelude::*;

use crate::{
    format::{count, duration},
    model::{MetricsRow, MetricsWeek, MetricsWindow},
};

/// The period a window is compared with, in words: "the previous 30 days".
pub fn previous_period(days: u32) -> String {
    format!("the previous {}", count(days as i64, "day", "days"))
}

/// Whether a change is for the better, the worse, or neither (the class that colours it; the
/// words say the same, so colour is never the only sign).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Better,
    Worse,
    Same,
    /// One of the two periods has no figure.
    Unknown,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Better => "figure-change change-better",
            Tone::Worse => "figure-change change-worse",
            Tone::Same | Tone::Unknown => "figure-change",
        }
    }
}

/// A figure's change from the period before: an arrow for the eye (hidden from screen readers)
/// and the words that say it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub arrow: &'static str,
    pub words: String,
    pub tone: Tone,
}

fn unknown(current_known: bool, period: &str) -> Change {
    Change {
        arrow: "",
        words: if current_known {
            format!("No data yet for {period} to compare with")
        } else {
            "No data yet".into()
        },
        tone: Tone::Unknown,
    }
}

/// A time's change: less is better ("▼ 12 min faster than the previous 30 days").
pub fn duration_change(current: Option<i64>, previous: Option<i64>, period: &str) -> Change {
    let (Some(now), Some(before)) = (current, previous) else {
        return unknown(current.is_some(), period);
    };
    match now - before {
        0 => Change {
            arrow: "",
            words: format!("The same as {period}"),
            tone: Tone::Same,
        },
        d if d < 0 => Change {
            arrow: "▼",
            words: format!("{} faster than {period}", duration(-d)),
            tone: Tone::Better,
        },
        d => Change {
            arrow: "▲",
            words: format!("{} slower than {period}", duration(d)),
            tone: Tone::Worse,
        },
    }
}

/// A share's change, in percentage points: more is better ("▲ 5 points more than ...").
pub fn percent_change(current: Option<u32>, previous: Option<u32>, period: &str) -> Change {
    let (Some(now), Some(before)) = (current, previous) else {
        return unknown(current.is_some(), period);
    };
    let d = now as i64 - before as i64;
    match d {
        0 => Change {
            arrow: "",
            words: format!("The same as {period}"),
            tone: Tone::Same,
        },
        d if d > 0 => Change {
            arrow: "▲",
            words: format!("{} more than {period}", count(d, "point", "points")),
            tone: Tone::Better,
        },
        d => Change {
            arrow: "▼",
            words: format!("{} fewer than {period}", count(-d, "point", "points")),
            tone: Tone::Worse,
        },
    }
}

fn duration_or_none(minutes: Option<i64>) -> String {
    minutes.map(duration).unwrap_or_else(|| "—".into())
}

fn percent_or_none(p: Option<u32>) -> String {
    p.map(|p| format!("{p}%")).unwrap_or_else(|| "—".into())
}

#[component]
fn Figure(
    label: &'static str,
    value: Option<String>,
    change: Change,
    note: String,
) -> impl IntoView {
    let Change { arrow, words, tone } = change;
    let value = value.unwrap_or_else(|| "No data yet".into());
    view! {
        <div class="figure">
            <dt>{label}</dt>
            <dd class="figure-value">{value}</dd>
            <dd class=tone.class()>
                {(!arrow.is_empty()).then(|| view! { <span aria-hidden="true">{arrow}" "</span> })}
                {words}
            </dd>
            <dd class="figure-note">{note}</dd>
        </div>
    }
}

/// The four headline figures of a window, each with its change from the period before.
#[component]
pub fn HeadlineFigures(window: MetricsWindow) -> impl IntoView {
    let (now, before) = (window.overall, window.previous);
    let period = previous_period(window.days);
    let answered = format!(
        "{} of {} answered by staff.",
        now.answered,
        count(now.topics as i64, "topic", "topics")
    );
    let resolved = match now.resolved {
        0 => "None marked resolved yet.".to_string(),
        n => format!("Of {} marked resolved.", count(n as i64, "topic", "topics")),
    };
    view! {
        <dl class="headline-figures">
            <Figure
                label="Median time to first staff reply"
                value=now.median_minutes.map(duration)
                change=duration_change(now.median_minutes, before.median_minutes, &period)
                note=answered
            />
            <Figure
                label="90% of first replies came within"
                value=now.p90_minutes.map(duration)
                change=duration_change(now.p90_minutes, before.p90_minutes, &period)
                note="The 90th percentile: nine in ten customers waited no longer.".to_string()
            />
            <Figure
                label="Answered within target"
                value=now.within_target_percent.map(|p| format!("{p}%"))
                change=percent_change(now.within_target_percent, before.within_target_percent, &period)
                note="Of topics answered, or waiting past their category's target.".to_string()
            />
            <Figure
                label="Resolutions the customer confirmed"
                value=now.confirmed_percent.map(|p| format!("{p}%"))
                change=percent_change(now.confirmed_percent, before.confirmed_percent, &period)
                note=resolved
            />
        </dl>
    }
}

/// A round top for the trend's scale at or above `max` minutes, so its middle line is a
/// round figure too.
pub fn scale_top(max: i64) -> i64 {
    const HOUR: i64 = 60;
    const DAY: i64 = 24 * HOUR;
    const STEPS: [i64; 13] = [
        10,
        30,
        HOUR,
        2 * HOUR,
        4 * HOUR,
        8 * HOUR,
        12 * HOUR,
        DAY,
        2 * DAY,
        4 * DAY,
        7 * DAY,
        14 * DAY,
        28 * DAY,
    ];
    STEPS
        .into_iter()
        .find(|&s| s >= max)
        .unwrap_or_else(|| (max + 28 * DAY - 1) / (28 * DAY) * 28 * DAY)
}

fn week_label(week: &MetricsWeek) -> String {
    week.starts.format("%-d %b").to_string()
}

/// The view box: 10 units a week, 100 high. It stretches to the box CSS gives it; the labels
/// are HTML around it, so they keep their size on any screen.
const SLOT: f64 = 10.0;
const PLOT: f64 = 100.0;

/// Twelve weeks of time to first staff reply: a solid bar for the median inside an outlined
/// one for the 90th percentile, a round scale, and the same numbers in a table below.
#[component]
pub fn TrendChart(weeks: Vec<MetricsWeek>) -> impl IntoView {
    let top = scale_top(
        weeks
            .iter()
            .filter_map(|w| w.figures.p90_minutes)
            .max()
            .unwrap_or(0)
            .max(1),
    );
    let empty = weeks
        .iter()
        .filter(|w| w.figures.median_minutes.is_none())
        .count();
    let summary = match (weeks.first(), weeks.last()) {
        (Some(first), Some(last)) => {
            let medians: Vec<String> = weeks
                .iter()
                .map(|w| duration_or_none(w.figures.median_minutes))
                .collect();
            format!(
                "Weekly median time to first staff reply from the week of {} to the week of {}: {}.{}",
                week_label(first),
                week_label(last),
                medians.join(", "),
                if empty > 0 {
                    format!(
                        " {} without answered topics.",
                        count(empty as i64, "week", "weeks")
                    )
                } else {
                    String::new()
                }
            )
        }
        _ => "No weeks to show yet.".into(),
    };
    let height = |minutes: i64| {
        // A reply within the minute still shows as a sliver, not as no bar at all.
        (PLOT * minutes as f64 / top as f64).clamp(1.0, PLOT)
    };
    let bars = weeks
        .iter()
        .enumerate()
        .filter_map(|(i, w)| {
            let median = w.figures.median_minutes?;
            let p90 = w.figures.p90_minutes.unwrap_or(median);
            let x = i as f64 * SLOT + 2.0;
            let tip = format!(
                "Week of {}: median {}, 90th percentile {}",
                week_label(w),
                duration(median),
                duration(p90)
            );
            let (hm, hp) = (height(median), height(p90));
            Some(view! {
                <g>
                    <title>{tip}</title>
                    <rect class="trend-p90" x=format!("{x:.1}") y=format!("{:.2}", PLOT - hp) width="6" height=format!("{hp:.2}") vector-effect="non-scaling-stroke" />
                    <rect class="trend-median" x=format!("{x:.1}") y=format!("{:.2}", PLOT - hm) width="6" height=format!("{hm:.2}") />
                </g>
            })
        })
        .collect_view();
    let rows = weeks
        .iter()
        .map(|w| {
            let f = &w.figures;
            view! {
                <tr>
                    <th scope="row" data-label="Week of">{week_label(w)}</th>
                    <td data-label="Topics">{f.topics}</td>
                    <td data-label="Answered">{f.answered}</td>
                    <td data-label="Median">{duration_or_none(f.median_minutes)}</td>
                    <td data-label="90th percentile">{duration_or_none(f.p90_minutes)}</td>
                    <td data-label="Within target">{percent_or_none(f.within_target_percent)}</td>
                </tr>
            }
        })
        .collect_view();
    // Four date labels, each under three weeks' bars (twelve would not fit a phone).
    let ticks = weeks
        .iter()
        .step_by(3)
        .map(|w| view! { <span>{week_label(w)}</span> })
        .collect_view();
    let width = weeks.len().max(1) as f64 * SLOT;
    view! {
        <figure class="trend" aria-labelledby="trend-heading">
            <h2 id="trend-heading">"Time to first staff reply, week by week"</h2>
            <p class="trend-legend" aria-hidden="true">
                <span class="trend-key trend-key-median"></span>" Median "
                <span class="trend-key trend-key-p90"></span>" 90th percentile"
            </p>
            <div class="trend-plot">
                <svg viewBox=format!("0 0 {width} {PLOT}") preserveAspectRatio="none" role="img" aria-labelledby="trend-title trend-desc">
                    <title id="trend-title">"Time to first staff reply over the last 12 weeks"</title>
                    <desc id="trend-desc">{summary}</desc>
                    <line class="trend-grid" x1="0" x2=width y1="0.5" y2="0.5" vector-effect="non-scaling-stroke" />
                    <line class="trend-grid" x1="0" x2=width y1="50" y2="50" vector-effect="non-scaling-stroke" />
                    <line class="trend-axis" x1="0" x2=width y1=PLOT y2=PLOT vector-effect="non-scaling-stroke" />
                    {bars}
                </svg>
                <div class="trend-scale" aria-hidden="true">
                    <span>{duration(top)}</span>
                    <span>{duration(top / 2)}</span>
                    <span>"0"</span>
                </div>
                <div class="trend-weeks" aria-hidden="true">{ticks}</div>
            </div>
            <figcaption class="hint">"Each bar is one week of topics customers started, the last one ending today. A gap is a week with no answered topics."</figcaption>
            <details class="trend-numbers">
                <summary>"The numbers, week by week"</summary>
                <table class="figure-table trend-table">
                    <caption class="visually-hidden">"Time to first staff reply, week by week"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Week of"</th>
                            <th scope="col">"Topics"</th>
                            <th scope="col">"Answered"</th>
                            <th scope="col">"Median"</th>
                            <th scope="col">"90th percentile"</th>
                            <th scope="col">"Within target"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
}

/// Waiting now, with how long the oldest has waited.
fn waiting_text(row: &MetricsRow) -> String {
    match (row.waiting, row.oldest_waiting_since) {
        (0, _) | (_, None) => "0".into(),
        (n, Some(since)) => format!(
            "{n} (oldest {})",
            duration((chrono::Utc::now() - since).num_minutes())
        ),
    }
}

#[component]
fn CategoryRow(row: MetricsRow, #[prop(optional)] total: bool) -> impl IntoView {
    let name = row
        .category
        .as_ref()
        .map(|c| c.name.clone())
        .unwrap_or_else(|| "All categories".into());
    let target = row
        .target_minutes
        .map(|m| duration(m as i64))
        .unwrap_or_else(|| "—".into());
    let confirmed = match row.confirmed_percent {
        Some(p) => format!("{p}% of {}", row.resolved),
        None => "— (none resolved)".into(),
    };
    view! {
        <tr class:total=total>
            <th scope="row">{name}</th>
            <td data-label="Target">{target}</td>
            <td data-label="Topics">{row.topics}</td>
            <td data-label="Answered">{row.answered}</td>
            <td data-label="Median to first staff reply">{duration_or_none(row.median_minutes)}</td>
            <td data-label="90th percentile">{duration_or_none(row.p90_minutes)}</td>
            <td data-label="Answered within target">{percent_or_none(row.within_target_percent)}</td>
            <td data-label="Waiting now">{waiting_text(&row)}</td>
            <td data-label="Resolutions confirmed">{confirmed}</td>
        </tr>
    }
}

/// One window's figures per category and for all of them: a table on a wide screen, one card
/// per category on a phone (the same markup; CSS lays it out), every column shown in both.
#[component]
pub fn CategoryFigures(window: MetricsWindow) -> impl IntoView {
    let caption = format!(
        "Last {}, by category",
        count(window.days as i64, "day", "days")
    );
    view! {
        <table class="figure-table category-figures">
            <caption>{caption}</caption>
            <thead>
                <tr>
                    <th scope="col">"Category"</th>
                    <th scope="col">"Target"</th>
                    <th scope="col">"Topics"</th>
                    <th scope="col">"Answered"</th>
                    <th scope="col">"Median to first staff reply"</th>
                    <th scope="col">"90th percentile"</th>
                    <th scope="col">"Answered within target"</th>
                    <th scope="col">"Waiting now"</th>
                    <th scope="col">"Resolutions confirmed"</th>
                </tr>
            </thead>
            <tbody>
                {window.categories.into_iter().map(|row| view! { <CategoryRow row /> }).collect_view()}
                <CategoryRow row=window.overall total=true />
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERIOD: &str = "the previous 30 days";

    #[test]
    fn changes_are_said_in_words() {
        let c = duration_change(Some(118), Some(130), PERIOD);
        assert_eq!(
            (c.arrow, c.words.as_str(), c.tone),
            ("▼", "12 min faster than the previous 30 days", Tone::Better)
        );
        let c = duration_change(Some(27 * 60 + 5), Some(5), PERIOD);
        assert_eq!(
            (c.arrow, c.words.as_str(), c.tone),
            (
                "▲",
                "1 day 3 h slower than the previous 30 days",
                Tone::Worse
            )
        );
        let c = duration_change(Some(40), Some(40), PERIOD);
        assert_eq!((c.arrow, c.tone), ("", Tone::Same));
        assert_eq!(c.words, "The same as the previous 30 days");
        let c = percent_change(Some(63), Some(58), PERIOD);
        assert_eq!(
            (c.arrow, c.words.as_str(), c.tone),
            ("▲", "5 points more than the previous 30 days", Tone::Better)
        );
        let c = percent_change(Some(50), Some(51), PERIOD);
        assert_eq!(
            (c.arrow, c.words.as_str(), c.tone),
            ("▼", "1 point fewer than the previous 30 days", Tone::Worse)
        );
        // Empty periods: no arrow, no colour, and the words say why.
        let c = duration_change(Some(40), None, PERIOD);
        assert_eq!((c.arrow, c.tone), ("", Tone::Unknown));
        assert_eq!(
            c.words,
            "No data yet for the previous 30 days to compare with"
        );
        assert_eq!(percent_change(None, Some(80), PERIOD).words, "No data yet");
        assert_eq!(duration_change(None, None, PERIOD).words, "No data yet");
        assert_eq!(previous_period(7), "the previous 7 days");
    }

    #[test]
    fn the_scale_rounds_up_to_a_round_top() {
        assert_eq!(scale_top(1), 10);
        assert_eq!(scale_top(10), 10);
        assert_eq!(scale_top(11), 30);
        assert_eq!(scale_top(61), 120);
        assert_eq!(scale_top(25 * 60), 2 * 24 * 60);
        assert_eq!(scale_top(29 * 24 * 60), 56 * 24 * 60);
    }
}
