use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;

use crate::{
    api::staff::{SetAccountability, SetResponseTarget, get_staff_metrics},
    components::{
        figures::{CategoryFigures, HeadlineFigures, TrendChart},
        page::ErrorView,
        staff::{MetricsHelp, StaffError},
    },
};

/// /staff/metrics: response figures for the last 7 and 30 days, each with its change from the
/// period before, and the 12-week trend: the same components as /accountability (staff and
/// above); admins also set each category's target and switch the public accountability page.
#[component]
pub fn StaffMetricsPage() -> impl IntoView {
    let data = OnceResource::new(get_staff_metrics());
    view! {
        <Title text="Response figures" />
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Working out the figures…"</p> }>
            {move || Suspend::new(async move {
                let m = match data.await {
                    Ok(m) => m,
                    Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                };
                let targets = m.windows.first().map(|w| w.categories.clone()).unwrap_or_default();
                let admin = m.viewer_is_admin.then(|| {
                    let public = m.accountability_public;
                    view! {
                        <section id="targets" aria-labelledby="targets-heading">
                            <h2 id="targets-heading">"Response targets"</h2>
                            <p class="hint">"The time to a first staff reply each category aims for. Topics past it stand out in the queue."</p>
                            <ul class="target-list">
                                {targets.into_iter().filter_map(|row| row.category.map(|c| (c, row.target_minutes.unwrap_or(1440)))).map(|(c, minutes)| {
                                    let id = format!("target-{}", c.slug);
                                    let label_for = id.clone();
                                    let hours = format!("{}", (minutes as f64 / 60.0 * 100.0).round() / 100.0);
                                    view! {
                                        <li>
                                            <form method="post" action=SetResponseTarget::url() class="filter-row">
                                                <input type="hidden" name="category" value=c.slug.clone() />
                                                <label for=label_for>{format!("{} (hours)", c.name)}</label>
                                                <input id=id name="hours" type="number" min="0.05" max="720" step="any" value=hours />
                                                <button type="submit" class="button">"Save"</button>
                                            </form>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </section>
                        <section id="accountability" aria-labelledby="accountability-heading">
                            <h2 id="accountability-heading">"Public accountability page"</h2>
                            <p>
                                {if public { "On: anyone can see the last 30 days' figures at " } else { "Off: " }}
                                <a href="/accountability">"/accountability"</a>
                                {if public { "." } else { " answers “not found”." }}
                            </p>
                            <form method="post" action=SetAccountability::url()>
                                <input type="hidden" name="public" value=if public { "off" } else { "on" } />
                                <button type="submit" class="button">{if public { "Switch it off" } else { "Switch it on" }}</button>
                            </form>
                        </section>
                    }
                });
                view! {
                    <header class="intro">
                        <div>
                            <h1>"Response figures"</h1>
                            <p class="lede">"How fast staff answer customers, per category."</p>
                        </div>
                        <a class="button" href="/staff/queue">"Awaiting staff"</a>
                    </header>
                    <StaffError />
                    {m.windows.into_iter().map(|window| {
                        let id = format!("window-{}", window.days);
                        let labelled = id.clone();
                        let heading = format!("Last {}", crate::format::count(window.days as i64, "day", "days"));
                        view! {
                            <section class="figures-section" aria-labelledby=labelled>
                                <h2 id=id>{heading}</h2>
                                <HeadlineFigures window=window.clone() />
                                <CategoryFigures window />
                            </section>
                        }
                    }).collect_view()}
                    <TrendChart weeks=m.weeks />
                    <MetricsHelp />
                    {admin}
                }
                .into_any()
            })}
        </Suspense>
    }
}
