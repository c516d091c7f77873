use crate::components::category_colours::colour_class;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::staff::get_staff_queue,
    components::{
        page::{ErrorView, query_number},
        pager::Pager,
        staff::WaitedSince,
        time::RelativeTime,
    },
    model::{QueueItem, short_duration, topic_url},
};

/// /staff/queue?category=slug: topics waiting for staff, oldest first (staff and above).
#[component]
pub fn StaffQueuePage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let category = query.get("category").filter(|c| !c.is_empty());
    let page: u64 = query_number(&query, "page").unwrap_or(1);
    let data = OnceResource::new(get_staff_queue(category, page));
    view! {
        <Title text="Awaiting staff" />
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading the queue…"</p> }>
            {move || Suspend::new(async move {
                let q = match data.await {
                    Ok(q) => q,
                    Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                };
                let base = match &q.category {
                    Some(slug) => format!("/staff/queue?category={slug}"),
                    None => "/staff/queue".to_string(),
                };
                let chosen = q.category.clone().unwrap_or_default();
                let options = q
                    .categories
                    .iter()
                    .map(|c| view! { <option value=c.slug.clone() selected=c.slug == chosen>{c.name.clone()}</option> })
                    .collect_view();
                let count = match q.total {
                    0 => "Nobody is waiting.".to_string(),
                    n => format!("{} waiting for a staff reply.", crate::format::count(n as i64, "topic is", "topics are")),
                };
                view! {
                    <header class="intro">
                        <div>
                            <h1>"Awaiting staff"</h1>
                            <p class="lede">{count} " Oldest first; a topic leaves when staff reply or mark it as needing no reply."</p>
                        </div>
                        <div class="button-row">
                            <a class="button" href="/staff/metrics">"Response figures"</a>
                            <a class="button" href="/staff/ideas">"Ideas by votes"</a>
                        </div>
                    </header>
                    <form method="get" action="/staff/queue" class="filter-row">
                        <label for="queue-category">"Category"</label>
                        <select id="queue-category" name="category">
                            <option value="">"All categories"</option>
                            {options}
                        </select>
                        <button type="submit" class="button">"Filter"</button>
                    </form>
                    {if q.items.is_empty() {
                        view! { <div class="empty"><p>"Nothing is waiting for staff. Well done."</p></div> }.into_any()
                    } else {
                        view! {
                            <ol class="queue-list" aria-label="Topics waiting for staff">
                                {q.items.into_iter().map(|item| view! { <QueueRow item /> }).collect_view()}
                            </ol>
                        }
                        .into_any()
                    }}
                    <Pager base page=q.page page_count=q.page_count />
                    {(!q.recent_no_reply.is_empty()).then(|| view! {
                        <section aria-labelledby="set-aside-heading" class="set-aside">
                            <h2 id="set-aside-heading">"Recently set aside without a reply"</h2>
                            <ul class="activity-list">
                                {q.recent_no_reply.into_iter().map(|d| view! {
                                    <li>
                                        <a href=topic_url(d.topic_id, &d.topic_slug, 1)>{d.topic_title.clone()}</a>
                                        <p class="muted">{d.actor.clone()} " · " <RelativeTime at=d.created_at /> ": " {d.reason.clone()}</p>
                                    </li>
                                }).collect_view()}
                            </ul>
                        </section>
                    })}
                }
                .into_any()
            })}
        </Suspense>
    }
}

#[component]
fn QueueRow(item: QueueItem) -> impl IntoView {
    let target = short_duration(item.target_minutes as i64);
    if item.withheld {
        // Hidden by members' flags: only moderators may read it, and one decides.
        return view! {
            <li class="queue-item" class:past-target=item.past_target>
                <div class="topic-main">
                    <span class="topic-title muted">"A topic hidden after members flagged it"</span>
                    <span class="tag held-tag">"A moderator is reviewing it"</span>
                    {item.past_target.then(|| view! { <span class="tag past-target-tag">{format!("Past the {target} target")}</span> })}
                    <p class="muted topic-by">
                        <a class=format!("category-chip {}", colour_class(&item.category.slug)) href=format!("/c/{}", item.category.slug)>{item.category.name.clone()}</a>
                        " · " <WaitedSince at=item.awaiting_since />
                    </p>
                </div>
            </li>
        }
        .into_any();
    }
    view! {
        <li class="queue-item" class:past-target=item.past_target>
            <div class="topic-main">
                <a class="topic-title" href=topic_url(item.id, &item.slug, 1)>{item.title.clone()}</a>
                {item.held.then(|| view! { <span class="tag held-tag">"Waiting for approval"</span> })}
                {item.under_review.then(|| view! { <span class="tag held-tag">"Hidden after flags: review it"</span> })}
                {item.reopened.then(|| view! { <span class="tag">"Reopened"</span> })}
                {item.past_target.then(|| view! { <span class="tag past-target-tag">{format!("Past the {target} target")}</span> })}
                <p class="muted topic-by">
                    <a class=format!("category-chip {}", colour_class(&item.category.slug)) href=format!("/c/{}", item.category.slug)>{item.category.name.clone()}</a>
                    " by " <a href=format!("/u/{}", item.author)>{item.author.clone()}</a> " · " <WaitedSince at=item.awaiting_since />
                </p>
                <p class="queue-excerpt">{item.excerpt.clone()}</p>
            </div>
        </li>
    }
    .into_any()
}
