use crate::components::category_colours::colour_class;
use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Link;
use leptos_router::hooks::use_query_map;

use crate::{
    api::forum::{MarkAllRead, get_home},
    components::{
        avatar::{Avatar, AvatarSize},
        form::error_from_url_of,
        page::{ErrorView, PageMeta, query_number},
        pager::Pager,
        staff::{ResponseBadge, StatusTag},
        time::RelativeTime,
    },
    format::{count, duration},
    model::{CategorySummary, LatestTopic, ResponseHeadline, Unread, topic_url},
};

/// The home page's description when the site has no tagline.
const DESCRIPTION: &str = "Ask questions, share feedback and get answers from our team.";

/// /?page=N: the admins' introduction, the response promise's headline (linking to
/// /accountability), the latest topics across categories (20 a page) beside the categories.
/// A signed-in member sees what is new to them and can mark it all read; a visitor's page is
/// the same for every visitor, so the page cache can serve it.
#[component]
pub fn HomePage() -> impl IntoView {
    let page: u64 = query_number(&use_query_map().get_untracked(), "page").unwrap_or(1);
    let data = OnceResource::new(get_home(page));
    let site = expect_context::<crate::context::Site>().0;
    let error = error_from_url_of(&[MarkAllRead::PATH]);
    view! {
        <Link rel="alternate" type_="application/atom+xml" title="New topics" href="/feed.xml" />
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading the latest topics…"</p> }>
            {move || { let error = error.clone(); Suspend::new(async move {
                let home = match data.await {
                    Ok(home) => home,
                    Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                };
                let site = site.await.unwrap_or_default();
                let tagline = site.tagline.trim().to_string();
                let description = if tagline.is_empty() { DESCRIPTION.to_string() } else { tagline };
                let path = if home.page > 1 { format!("/?page={}", home.page) } else { "/".to_string() };
                let first_page = home.page == 1;
                let heading = if first_page { "Latest topics".to_string() } else { format!("Latest topics, page {}", home.page) };
                let new_in = home.new_in_category.clone();
                let mark_all = home.signed_in.then(|| view! {
                    <form method="post" action=MarkAllRead::url() class="inline-form">
                        <button type="submit" class="button subtle">"Mark all read"</button>
                    </form>
                });
                view! {
                    <PageMeta site title="Community".to_string() description path />
                    <section class="intro home-intro">
                        <div>
                            <h1>"Community"</h1>
                            {(!home.intro_html.is_empty()).then(|| view! { <div class="lede home-intro-text" inner_html=home.intro_html.clone()></div> })}
                        </div>
                        <a class="button primary" href="/new-topic">"New topic"</a>
                    </section>
                    {home.headline.clone().map(|h| view! { <Headline headline=h /> })}
                    {error.map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
                    <div class="home-columns" class:home-single=!first_page>
                        <section class="home-latest" aria-labelledby="latest-heading">
                            <div class="section-head">
                                <h2 id="latest-heading">{heading}</h2>
                                {mark_all}
                            </div>
                            {if home.latest.is_empty() {
                                view! { <p class="empty">"No topics yet. Start the first one."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="topic-list latest-list">
                                        {home.latest.into_iter().map(|t| view! { <LatestRow latest=t /> }).collect_view()}
                                    </ul>
                                }
                                .into_any()
                            }}
                            <Pager base="/".to_string() page=home.page page_count=home.page_count />
                        </section>
                        {first_page.then(|| view! {
                            <section class="home-categories" aria-labelledby="categories-heading">
                                <h2 id="categories-heading">"Categories"</h2>
                                {if home.categories.is_empty() {
                                    view! { <p class="empty">"No categories yet. An admin can add the first one."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="category-list">
                                            {home.categories.into_iter().map(|c| {
                                                let new_topics = new_in.iter().find(|(id, _)| *id == c.id).map(|(_, n)| *n);
                                                view! { <CategoryRow category=c new_topics /> }
                                            }).collect_view()}
                                        </ul>
                                    }
                                    .into_any()
                                }}
                            </section>
                        })}
                    </div>
                }
                .into_any()
            })}}
        </Suspense>
    }
}

/// "Median first staff reply, last 30 days: 2 h 10 min · 94 % answered within target", linking
/// to the page that shows how it is measured.
#[component]
fn Headline(headline: ResponseHeadline) -> impl IntoView {
    let window = format!(
        "last {}",
        crate::format::count(headline.days as i64, "day", "days")
    );
    let figures = match (headline.median_minutes, headline.within_target_percent) {
        (Some(median), within) => view! {
            "Median first staff reply, " {window} ": " <strong>{duration(median)}</strong>
            {within.map(|p| view! { " · " <strong>{format!("{p} %")}</strong> " answered within target" })}
        }
        .into_any(),
        (None, _) => view! { "How fast our team answers: no customer topics answered in the " {window} " yet" }.into_any(),
    };
    view! {
        <p class="response-headline">
            <a href="/accountability">{figures}</a>
        </p>
    }
}

/// What is new in a topic or category to the member, in words a screen reader reads whole.
#[component]
fn UnreadBadge(unread: Unread) -> impl IntoView {
    let (shown, spoken) = match unread {
        Unread::New => ("New".to_string(), " topic since your last visit"),
        Unread::Posts(n) => (
            format!("{n} new"),
            if n == 1 {
                " reply you haven't read"
            } else {
                " replies you haven't read"
            },
        ),
    };
    view! { <span class="unread-badge">{shown}<span class="visually-hidden">{spoken}</span></span> }
}

#[component]
fn LatestRow(latest: LatestTopic) -> impl IntoView {
    let t = latest.topic;
    let replies = count(t.reply_count as i64, "reply", "replies");
    let href = topic_url(t.id, &t.slug, 1);
    view! {
        <li class="topic-row latest-row" class:unread=latest.unread.is_some()>
            <div class="topic-main">
                <a class="topic-title" href=href>{t.title.clone()}</a>
                {latest.unread.map(|unread| view! { <UnreadBadge unread /> })}
                <StatusTag status=t.status.clone() confirmed=t.resolution_confirmed />
                {t.answered.then(|| view! { <span class="tag answered-tag">"Answered"</span> })}
                <p class="muted topic-by">
                    <a class=format!("category-chip {}", colour_class(&latest.category.slug)) href=format!("/c/{}", latest.category.slug)>{latest.category.name.clone()}</a>
                    " by " <Avatar name=t.author_display_name.clone() username=t.author.clone() upload=t.author_avatar size=AvatarSize::Small />
                    <a href=format!("/u/{}", t.author)>{t.author.clone()}</a> " "
                    <ResponseBadge staff_reply_minutes=t.staff_reply_minutes awaiting_since=t.awaiting_staff_since />
                </p>
            </div>
            <div class="topic-stats">
                <span class="count">{replies}</span>
                <span class="activity">
                    {latest.last_poster.map(|name| view! { "last by " <a href=format!("/u/{name}")>{name.clone()}</a> " · " })}
                    <RelativeTime at=t.last_posted_at />
                </span>
            </div>
        </li>
    }
}

#[component]
fn CategoryRow(category: CategorySummary, new_topics: Option<u32>) -> impl IntoView {
    let topics = count(category.topic_count as i64, "topic", "topics");
    let new_topics = new_topics.filter(|n| *n > 0).map(|n| {
        let spoken = if n == 1 { " topic with posts you haven't read" } else { " topics with posts you haven't read" };
        view! { <span class="unread-badge">{format!("{n} new")}<span class="visually-hidden">{spoken}</span></span> }
    });
    view! {
        <li class=format!("category {}", colour_class(&category.slug))>
            <div class="category-main">
                <h3 class="category-name"><a href=format!("/c/{}", category.slug)>{category.name.clone()}</a></h3>
                <p class="category-description">{category.description.clone()}</p>
            </div>
            <div class="category-stats">
                <span class="count">{topics} {new_topics}</span>
                {category.last_posted_at.map(|at| view! { <span class="activity">"Active " <RelativeTime at /></span> })}
            </div>
        </li>
    }
}
