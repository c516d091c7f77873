use crate::components::category_colours::colour_class;
use leptos::prelude::*;
use leptos_meta::Link;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::{forum::get_category_page, subscriptions::WatchCategory},
    components::{
        follow::{SignInToFollow, WatchControl},
        form::error_from_url,
        page::{ErrorView, PageMeta, query_number, redirect_permanently},
        pager::Pager,
        staff::{ResponseBadge, StatusTag},
        time::RelativeTime,
    },
    context::Site,
    model::{TopicListItem, TopicStatus, topic_url},
};

/// /c/{slug}?page=N: the category's topics, latest activity first, 30 a page.
#[component]
pub fn CategoryPage() -> impl IntoView {
    let slug = use_params_map()
        .get_untracked()
        .get("slug")
        .unwrap_or_default();
    let page: u64 = query_number(&use_query_map().get_untracked(), "page").unwrap_or(1);
    let site = expect_context::<Site>().0;
    let status = use_query_map().get_untracked().get("status");
    let data = OnceResource::new(get_category_page(slug, page, status));
    let watch_error = error_from_url::<WatchCategory>();
    view! {
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading topics…"</p> }>
            {move || { let watch_error = watch_error.clone(); Suspend::new(async move {
                let c = match data.await {
                    Ok(c) => c,
                    Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                };
                if let Some(now) = &c.moved_to {
                    redirect_permanently(now);
                    return ().into_any();
                }
                let site = site.await.unwrap_or_default();
                let plain = format!("/c/{}", c.category.slug);
                let base = match &c.status {
                    Some(status) => format!("{plain}?status={status}"),
                    None => plain.clone(),
                };
                let path = if c.page > 1 { format!("{plain}?page={}", c.page) } else { plain.clone() };
                let filters = status_filters(&plain, c.status.as_deref());
                let new_topic = format!("/new-topic?category={}", c.category.slug);
                let watch = match c.watching {
                    Some(watching) => view! { <WatchControl category_id=c.category.id watching initial_error=watch_error /> }.into_any(),
                    None => view! { <SignInToFollow here=path.clone() what="watch this category for new topics" /> }.into_any(),
                };
                let description = if c.description.is_empty() { format!("Topics in {}", c.category.name) } else { c.description.clone() };
                // Nothing to list (a new category, or a status with no topics): worth a visit,
                // not a search result.
                let empty = c.topics.is_empty();
                let feed = format!("/c/{}/feed.xml", c.category.slug);
                view! {
                    <PageMeta site title=c.category.name.clone() description path noindex=empty />
                    <Link rel="alternate" type_="application/atom+xml" title=format!("{}: new topics", c.category.name) href=feed />
                    <header class=format!("page-header {}", colour_class(&c.category.slug))>
                        <div>
                            <h1 class="category-title">{c.category.name.clone()}</h1>
                            <p class="lede">{c.description.clone()}</p>
                        </div>
                        <a class="button primary" href=new_topic.clone()>"New topic"</a>
                    </header>
                    {watch}
                    {filters}
                    {if c.topics.is_empty() {
                        view! {
                            <div class="empty">
                                <p>{if c.status.is_some() { "No topics have this status." } else { "No topics here yet." }}</p>
                                <p><a class="button" href=new_topic>"Start the first one"</a></p>
                            </div>
                        }
                        .into_any()
                    } else {
                        view! {
                            <ul class="topic-list" aria-label="Topics">
                                {c.topics.into_iter().map(|t| view! { <TopicRow topic=t /> }).collect_view()}
                            </ul>
                        }
                        .into_any()
                    }}
                    <Pager base page=c.page page_count=c.page_count />
                }
                .into_any()
            })}}
        </Suspense>
    }
}

#[component]
pub fn TopicRow(topic: TopicListItem) -> impl IntoView {
    let replies = match topic.reply_count {
        1 => "1 reply".to_string(),
        n => format!("{n} replies"),
    };
    view! {
        <li class="topic-row">
            <div class="topic-main">
                <a class="topic-title" href=topic_url(topic.id, &topic.slug, 1)>{topic.title.clone()}</a>
                {topic.pinned.then(|| view! { <span class="tag">"Pinned"</span> })}
                {topic.locked.then(|| view! { <span class="tag">"Locked"</span> })}
                <StatusTag status=topic.status.clone() confirmed=topic.resolution_confirmed />
                {topic.answered.then(|| view! { <span class="tag answered-tag">"Answered"</span> })}
                <p class="muted topic-by">
                    "by " <a href=format!("/u/{}", topic.author)>{topic.author.clone()}</a> " "
                    <ResponseBadge staff_reply_minutes=topic.staff_reply_minutes awaiting_since=topic.awaiting_staff_since />
                </p>
            </div>
            <div class="topic-stats">
                <span class="count">{replies}</span>
                <span class="activity"><RelativeTime at=topic.last_posted_at /></span>
            </div>
        </li>
    }
}

/// "All · Open · Acknowledged · …": plain links that filter the list by status.
fn status_filters(base: &str, current: Option<&str>) -> impl IntoView {
    let link = |href: String, label: &'static str, on: bool| {
        view! { <li><a href=href aria-current=on.then_some("page")>{label}</a></li> }
    };
    let mut links = vec![link(base.to_string(), "All", current.is_none())];
    for s in TopicStatus::ALL {
        links.push(link(
            format!("{base}?status={}", s.as_str()),
            s.label(),
            current == Some(s.as_str()),
        ));
    }
    view! {
        <nav class="status-filters" aria-label="Filter by status">
            <ul>{links}</ul>
        </nav>
    }
}
