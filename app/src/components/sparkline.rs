//! A small line of weekly counts drawn on the server as SVG: no JavaScript, scales with its
//! cell, and says its numbers to screen readers ("12 weeks: 0, 3, 5, ...").
use leptos::prelude::*;

const WIDTH: f64 = 96.0;
const HEIGHT: f64 = 24.0;
/// Room for the stroke at the top and bottom.
const PAD: f64 = 2.0;

/// The polyline's points for `values`, scaled to the box (a flat line along the bottom when
/// all are 0).
pub fn sparkline_points(values: &[u32]) -> String {
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = if values.len() > 1 {
        WIDTH / (values.len() - 1) as f64
    } else {
        0.0
    };
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x = i as f64 * step;
            let y = HEIGHT - PAD - (HEIGHT - 2.0 * PAD) * (*v as f64) / max;
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the sparkline says in words: "12 weeks: 0, 3, 5, ...".
pub fn sparkline_label(values: &[u32]) -> String {
    let numbers: Vec<String> = values.iter().map(u32::to_string).collect();
    format!(
        "{}: {}",
        crate::format::count(values.len() as i64, "week", "weeks"),
        numbers.join(", ")
    )
}

/// Weekly counts, oldest first. `id` (unique on the page) names its `<title>`, which labels it
/// for screen readers through aria-labelledby like every chart here.
#[component]
pub fn Sparkline(id: String, values: Vec<u32>) -> impl IntoView {
    let title = sparkline_label(&values);
    let points = sparkline_points(&values);
    let title_id = format!("{id}-title");
    let labelled_by = title_id.clone();
    view! {
        <svg class="sparkline" id=id viewBox=format!("0 0 {WIDTH} {HEIGHT}") width=WIDTH height=HEIGHT role="img" aria-labelledby=labelled_by>
            <title id=title_id>{title}</title>
            <polyline points=points fill="none" />
        </svg>
    }
}
