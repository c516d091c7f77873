use crate::components::category_colours::colour_class;
use leptos::prelude::*;
use leptos_meta::Link;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::{forum::get_category_page, ideas::Vote, subscriptions::WatchCategory},
    components::{
        avatar::{Avatar, AvatarSize},
        follow::{SignInToFollow, WatchControl},
        form::error_from_url,
        page::{ErrorView, PageMeta, query_number, redirect_permanently},
        pager::Pager,
        staff::{ResponseBadge, StatusTag},
        time::RelativeTime,
        vote::IdeaVoting,
    },
    context::Site,
    model::{IdeaSort, IdeasList, TopicListItem, TopicStatus, topic_url},
};

/// /c/{slug}?page=N: the category's topics, latest activity first, 30 a page. A category of
/// ideas also takes `sort` (votes, trending, newest, active) and `mine=1` (the ideas the member
/// voted for), and shows each idea's votes.
#[component]
pub fn CategoryPage() -> impl IntoView {
    let slug = use_params_map()
        .get_untracked()
        .get("slug")
        .unwrap_or_default();
    let page: u64 = query_number(&use_query_map().get_untracked(), "page").unwrap_or(1);
    let site = expect_context::<Site>().0;
    let query = use_query_map().get_untracked();
    let status = query.get("status");
    let sort = query.get("sort");
    let mine = query.get("mine").is_some_and(|v| v == "1");
    let data = OnceResource::new(get_category_page(slug, page, status, sort, mine));
    let watch_error = error_from_url::<WatchCategory>();
    let vote_error = error_from_url::<Vote>();
    view! {
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading topics…"</p> }>
            {move || { let (watch_error, vote_error) = (watch_error.clone(), vote_error.clone()); Suspend::new(async move {
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
                let base = list_href(&plain, c.status.as_deref(), c.ideas.as_ref());
                let path = if c.page > 1 { format!("{plain}?page={}", c.page) } else { plain.clone() };
                let filters = status_filters(&plain, c.status.as_deref(), c.ideas.as_ref());
                let idea_choices = c.ideas.clone().map(|ideas| idea_choices(&plain, c.status.as_deref(), ideas));
                let vote_error = vote_error.map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> });
                let mine = c.ideas.as_ref().is_some_and(|i| i.mine);
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
                    // A flag that hid a topic's opening post lands here (the topic is out of sight).
                    <crate::components::form::Status />
                    <header class=format!("page-header {}", colour_class(&c.category.slug))>
                        <div>
                            <h1 class="category-title">{c.category.name.clone()}</h1>
                            <p class="lede">{c.description.clone()}</p>
                        </div>
                        {if c.archived {
                            view! { <p class="notice archived-note">"This category is archived: it is read-only."</p> }.into_any()
                        } else {
                            view! { <a class="button primary" href=new_topic.clone()>"New topic"</a> }.into_any()
                        }}
                    </header>
                    {watch}
                    {filters}
                    {idea_choices}
                    {vote_error}
                    {if c.topics.is_empty() {
                        let none = if mine { "You haven't voted for any idea here yet." } else if c.status.is_some() { "No topics have this status." } else { "No topics here yet." };
                        view! {
                            <div class="empty">
                                <p>{none}</p>
                                {(!c.archived).then(|| view! { <p><a class="button" href=new_topic>"Start the first one"</a></p> })}
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
    let replies = crate::format::count(topic.reply_count as i64, "reply", "replies");
    let idea = topic.votes.is_some();
    let votes = topic
        .votes
        .clone()
        .map(|votes| view! { <IdeaVoting votes title=topic.title.clone() /> });
    view! {
        <li class="topic-row" class:idea-row=idea>
            {votes}
            <div class="topic-main">
                <a class="topic-title" href=topic_url(topic.id, &topic.slug, 1)>{topic.title.clone()}</a>
                {topic.pinned.then(|| view! { <span class="tag">"Pinned"</span> })}
                {topic.locked.then(|| view! { <span class="tag">"Locked"</span> })}
                <StatusTag status=topic.status.clone() confirmed=topic.resolution_confirmed />
                {topic.answered.then(|| view! { <span class="tag answered-tag"><crate::components::staff::ResolvedIcon />"Answered"</span> })}
                <p class="muted topic-by">
                    "by " <Avatar name=topic.author_display_name.clone() username=topic.author.clone() upload=topic.author_avatar size=AvatarSize::Small />
                    <a href=format!("/u/{}", topic.author)>{topic.author.clone()}</a> " "
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

/// The list's address with its filters and sort (and no page): the pager and every filter
/// link start from it.
fn list_href(plain: &str, status: Option<&str>, ideas: Option<&IdeasList>) -> String {
    let mut query = Vec::new();
    if let Some(status) = status {
        query.push(format!("status={status}"));
    }
    if let Some(ideas) = ideas {
        if ideas.sort != IdeaSort::Votes {
            query.push(format!("sort={}", ideas.sort.as_str()));
        }
        if ideas.mine {
            query.push("mine=1".to_string());
        }
    }
    if query.is_empty() {
        plain.to_string()
    } else {
        format!("{plain}?{}", query.join("&"))
    }
}

/// "All · Open · Acknowledged · …": plain links that filter the list by status (keeping an
/// ideas list's sort and "my votes").
fn status_filters(base: &str, current: Option<&str>, ideas: Option<&IdeasList>) -> impl IntoView {
    let link = |href: String, label: &'static str, on: bool| {
        view! { <li><a href=href aria-current=on.then_some("page")>{label}</a></li> }
    };
    let mut links = vec![link(list_href(base, None, ideas), "All", current.is_none())];
    for s in TopicStatus::ALL {
        links.push(link(
            list_href(base, Some(s.as_str()), ideas),
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

/// An ideas list's sort (most votes, trending, newest, recently active) and, for members,
/// "My votes": plain links, so they work without JavaScript.
fn idea_choices(base: &str, status: Option<&str>, ideas: IdeasList) -> impl IntoView {
    let sorts = IdeaSort::ALL
        .into_iter()
        .map(|sort| {
            let href = list_href(
                base,
                status,
                Some(&IdeasList {
                    sort,
                    ..ideas.clone()
                }),
            );
            let on = sort == ideas.sort;
            view! { <li><a href=href aria-current=on.then_some("page")>{sort.label()}</a></li> }
        })
        .collect_view();
    let mine = ideas.signed_in.then(|| {
        let all = list_href(base, status, Some(&IdeasList { mine: false, ..ideas.clone() }));
        let only = list_href(base, status, Some(&IdeasList { mine: true, ..ideas.clone() }));
        view! {
            <nav class="status-filters idea-mine" aria-label="Whose votes">
                <ul>
                    <li><a href=all aria-current=(!ideas.mine).then_some("page")>"All ideas"</a></li>
                    <li><a href=only aria-current=ideas.mine.then_some("page")>"My votes"</a></li>
                </ul>
            </nav>
        }
    });
    view! {
        <nav class="status-filters idea-sort" aria-label="Sort ideas">
            <ul>{sorts}</ul>
        </nav>
        {mine}
    }
}
