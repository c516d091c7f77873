use leptos::prelude::*;

use crate::{
    api::staff::get_accountability,
    components::{
        figures::{CategoryFigures, HeadlineFigures, TrendChart},
        page::{ErrorView, PageMeta},
        staff::MetricsHelp,
    },
    context::Site,
    format::duration,
};

/// /accountability: the last 30 days' response figures with their change from the 30 days
/// before, the 12-week trend and the figures per category, for everyone (unless an admin has
/// switched the page off): the page a company links from its support page. Computed from live
/// data on each visit (cached 10 s for visitors).
#[component]
pub fn AccountabilityPage() -> impl IntoView {
    let site = expect_context::<Site>().0;
    let data = OnceResource::new(get_accountability());
    view! {
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Working out the figures…"</p> }>
            {move || Suspend::new(async move {
                let (w, weeks) = match data.await {
                    Ok(a) => (a.window, a.weeks),
                    Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                };
                let site = site.await.unwrap_or_default();
                let headline = match (w.overall.median_minutes, w.overall.within_target_percent) {
                    (Some(median), Some(within)) => format!(
                        "In the last 30 days our team's first reply came in {} (median), and {within}% of topics were answered within their target.",
                        duration(median)
                    ),
                    (Some(median), None) => format!("In the last 30 days our team's first reply came in {} (median).", duration(median)),
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
                    <section class="figures-section" aria-labelledby="headline-heading">
                        <h2 id="headline-heading">"The last 30 days"</h2>
                        <HeadlineFigures window=w.clone() />
                    </section>
                    <TrendChart weeks />
                    <section class="figures-section" aria-labelledby="categories-heading">
                        <h2 id="categories-heading">"By category"</h2>
                        <CategoryFigures window=w />
                    </section>
                    <MetricsHelp />
                }
                .into_any()
            })}
        </Suspense>
    }
}
