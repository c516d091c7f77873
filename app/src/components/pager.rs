//! Real page links (they work without JavaScript): previous, a window of numbers, next.
use leptos::prelude::*;

/// `base` may carry a query of its own (a filter): the page number joins it.
fn page_href(base: &str, page: u64) -> String {
    if page <= 1 {
        base.to_string()
    } else if base.contains('?') {
        format!("{base}&page={page}")
    } else {
        format!("{base}?page={page}")
    }
}

/// The page numbers to show: first, last, and two either side of the current one.
pub fn page_window(page: u64, count: u64) -> Vec<Option<u64>> {
    let mut out = Vec::new();
    let mut last_shown = 0;
    for n in 1..=count {
        if n == 1 || n == count || n.abs_diff(page) <= 2 {
            if last_shown != 0 && n > last_shown + 1 {
                out.push(None); // a gap
            }
            out.push(Some(n));
            last_shown = n;
        }
    }
    out
}

#[component]
pub fn Pager(base: String, page: u64, page_count: u64) -> impl IntoView {
    (page_count > 1).then(|| {
        let prev = (page > 1).then(|| page_href(&base, page - 1));
        let next = (page < page_count).then(|| page_href(&base, page + 1));
        view! {
            <nav class="pager" aria-label="Pages">
                {prev.map(|href| view! { <a class="pager-step" href=href rel="prev">"← Previous"</a> })}
                <ol>
                    {page_window(page, page_count)
                        .into_iter()
                        .map(|slot| match slot {
                            Some(n) if n == page => view! { <li><span aria-current="page">{n}</span></li> }.into_any(),
                            Some(n) => {
                                let label = format!("Page {n}");
                                view! { <li><a href=page_href(&base, n) aria-label=label>{n}</a></li> }.into_any()
                            }
                            None => view! { <li class="gap" aria-hidden="true">"…"</li> }.into_any(),
                        })
                        .collect_view()}
                </ol>
                {next.map(|href| view! { <a class="pager-step" href=href rel="next">"Next →"</a> })}
            </nav>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::page_window;

    #[test]
    fn windows_keep_the_ends_and_the_neighbourhood() {
        assert_eq!(page_window(1, 3), vec![Some(1), Some(2), Some(3)]);
        assert_eq!(
            page_window(6, 20),
            vec![
                Some(1),
                None,
                Some(4),
                Some(5),
                Some(6),
                Some(7),
                Some(8),
                None,
                Some(20)
            ]
        );
    }
}
