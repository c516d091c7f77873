use leptos::prelude::*;

use crate::{
    api::staff::get_accountability,
    components::{
        page::{ErrorView, PageMeta},
        staff::{MetricsHelp, MetricsTable},
    },
    context::Site,
    model::short_duration,
};

/// /accountability: the last 30 days' response figures, for everyone (unless an admin has
/// switched the page off). Computed from live data on each visit (cached 10 s for visitors).
#[component]
pub fn AccountabilityPage() -> impl IntoView {
    let site = expect_context::<Site>().0;
    let data = OnceResource::new(get_accountability());
    view! {
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Working out the figures…"</p> }>
            {move || Suspend::new(async move {
                let w = match data.await {
                    Ok(w) => w,
                    Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                };
                let site = site.await.unwrap_or_default();
                let headline = match (w.overall.median_minutes, w.overall.within_target_percent) {
                    (Some(median), Some(within)) => format!(
                        "In the last 30 days our team's first reply came in {} (median), and {within}% of topics were answered within their target.",
                        short_duration(median)
                    ),
                    (Some(median), None) => format!("In the last 30 days our team's first reply came in {} (median).", short_duration(median)),
                    _ => "No customer topics were answered in the last 30 days yet.".to_string(),
                };
                view! {
                    <PageMeta site title="How fast we answer".to_string() description=headline.clone() path="/accountability".to_string() />
                    <header class="intro">
                        <div>
                            <h1>"How fast we answer"</h1>
                            <p class="lede">{headline}</p>
                        </div>
                    </header>
                    <MetricsTable window=w />
                    <MetricsHelp />
                }
                .into_any()
            })}
        </Suspense>
    }
}
