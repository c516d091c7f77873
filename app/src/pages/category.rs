use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::forum::get_category_page,
    app::Site,
    components::{
        page::{ErrorView, PageMeta, query_number},
        pager::Pager,
        time::RelativeTime,
    },
    model::{TopicListItem, topic_url},
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
    view! {
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading topics…"</p> }>
            {move || Suspend::new(async move {
                let c = match data.await {
                    Ok(c) => c,
                    Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                };
                let site = site.await.unwrap_or_default();
                let base = format!("/c/{}", c.category.slug);
                let path = if c.page > 1 { format!("{base}?page={}", c.page) } else { base.clone() };
                let new_topic = format!("/new-topic?category={}", c.category.slug);
                let description = if c.description.is_empty() { format!("Topics in {}", c.category.name) } else { c.description.clone() };
                view! {
                    <PageMeta site title=c.category.name.clone() description path />
                    <header class="page-header" style:--category-colour=c.category.colour.clone()>
                        <div>
                            <h1 class="category-title">{c.category.name.clone()}</h1>
                            <p class="lede">{c.description.clone()}</p>
                        </div>
                        <a class="button primary" href=new_topic.clone()>"New topic"</a>
                    </header>
                    {if c.topics.is_empty() {
                        view! {
                            <div class="empty">
                                <p>"No topics here yet."</p>
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
            })}
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
                <p class="muted topic-by">"by " <a href=format!("/u/{}", topic.author)>{topic.author.clone()}</a></p>
            </div>
            <div class="topic-stats">
                <span class="count">{replies}</span>
                <span class="activity"><RelativeTime at=topic.last_posted_at /></span>
            </div>
        </li>
    }
}
