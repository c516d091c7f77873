//! A day-by-day bar chart drawn on the server as SVG: readable without JavaScript, scales with
//! the page, and comes with the numbers as a table for screen readers and the curious.
use chrono::{Duration, NaiveDate};
use leptos::prelude::*;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 20.0;

#[component]
pub fn DailyChart(
    id: &'static str,
    title: &'static str,
    first_day: NaiveDate,
    values: Vec<u32>,
) -> impl IntoView {
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    let total: u32 = values.iter().sum();
    let n = values.len().max(1) as f64;
    let slot = WIDTH / n;
    let plot = HEIGHT - TOP - BOTTOM;
    let day = |i: usize| first_day + Duration::days(i as i64);
    let label = |d: NaiveDate| d.format("%-d %b").to_string();
    let last = day(values.len().saturating_sub(1));
    let summary = format!(
        "{title}: {total} in the last {}, at most {max} on one day.",
        crate::format::count(values.len() as i64, "day", "days")
    );
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    let labelled = format!("{title_id} {desc_id}");
    let bars = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let h = plot * (*v as f64) / (max as f64);
            let x = i as f64 * slot + 1.0;
            let y = TOP + plot - h;
            let tip = format!("{}: {v}", label(day(i)));
            view! {
                <rect x=format!("{x:.1}") y=format!("{y:.1}") width=format!("{:.1}", slot - 2.0) height=format!("{h:.1}") class="bar">
                    <title>{tip}</title>
                </rect>
            }
        })
        .collect_view();
    let rows = values
        .iter()
        .enumerate()
        .map(|(i, v)| view! { <tr><th scope="row">{label(day(i))}</th><td>{*v}</td></tr> })
        .collect_view();
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-labelledby=labelled>
                <title id=title_id>{title}</title>
                <desc id=desc_id>{summary.clone()}</desc>
                <line x1="0" x2=WIDTH y1=TOP + plot y2=TOP + plot class="axis" />
                {bars}
            </svg>
            // The labels are HTML, not SVG text: text inside the SVG shrinks with the drawing on
            // a narrow screen, and must stay at least 0.75rem to be read.
            <p class="chart-labels" aria-hidden="true">
                <span>{label(first_day)}</span>
                <span>{format!("max {max}")}</span>
                <span>{label(last)}</span>
            </p>
            <figcaption>{summary}</figcaption>
            <details>
                <summary>"The numbers"</summary>
                <table class="metrics"><tbody>{rows}</tbody></table>
            </details>
        </figure>
    }
}
