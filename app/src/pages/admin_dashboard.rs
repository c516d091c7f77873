use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::admin::get_dashboard,
    components::{chart::DailyChart, page::ErrorView},
    model::short_duration,
};

/// /admin: what needs attention, links into each queue, and the last 30 days (moderators and
/// admins; the admin-only sections are linked for admins).
#[component]
pub fn AdminDashboardPage() -> impl IntoView {
    let data = OnceResource::new(get_dashboard());
    view! {
        <Title text="Admin" />
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let d = match data.await {
                    Ok(d) => d,
                    Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                };
                let median = d.median_minutes_7d.map(short_duration).unwrap_or_else(|| "—".into());
                view! {
                    <h1>"Admin"</h1>
                    <ul class="stat-grid" aria-label="Now">
                        <li><a href="/admin/review"><strong class="stat" id="stat-review">{d.open_review_items}</strong>" to review"</a></li>
                        <li><a href="/staff/queue"><strong class="stat" id="stat-awaiting">{d.awaiting_staff}</strong>" awaiting staff"</a></li>
                        <li><a href="/staff/queue"><strong class="stat" id="stat-past-target">{d.past_target}</strong>" past their target"</a></li>
                        <li><a href="/staff/metrics"><strong class="stat" id="stat-median">{median}</strong>" median first staff reply, 7 days"</a></li>
                    </ul>
                    <div class="chart-grid">
                        <DailyChart id="chart-members" title="New members per day" first_day=d.first_day values=d.new_members />
                        <DailyChart id="chart-posts" title="Posts per day" first_day=d.first_day values=d.new_posts />
                    </div>
                    <nav class="admin-links" aria-label="Admin sections">
                        <a class="button" href="/admin/users">"Members"</a>
                        <a class="button" href="/admin/log">"Moderation log"</a>
                        {d.viewer_is_admin.then(|| view! {
                            <a class="button" href="/admin/settings">"Site settings"</a>
                            <a class="button" href="/admin/categories">"Categories"</a>
                            <a class="button" href="/admin/moderation">"Moderation settings"</a>
                            <a class="button" href="/admin/mail">"Outgoing mail"</a>
                        })}
                    </nav>
                }
                .into_any()
            })}
        </Suspense>
    }
}
