use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::blog::get_blog_index,
    components::{
        article::ArticleCard,
        page::{ErrorView, PageMeta, query_number},
        pager::Pager,
    },
    context::Site,
};

/// /blog and /blog/tag/{tag}: published articles, newest first, 10 a page. Staff also see
/// their drafts and scheduled articles, apart from the public list.
#[component]
pub fn BlogIndexPage() -> impl IntoView {
    let tag = use_params_map().get_untracked().get("tag");
    let page: u64 = query_number(&use_query_map().get_untracked(), "page").unwrap_or(1);
    let site = expect_context::<Site>().0;
    let data = OnceResource::new(get_blog_index(page, tag));
    view! {
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading articles…"</p> }>
            {move || Suspend::new(async move {
                let b = match data.await {
                    Ok(b) => b,
                    Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                };
                let site = site.await.unwrap_or_default();
                let base = match &b.tag {
                    Some(tag) => format!("/blog/tag/{tag}"),
                    None => "/blog".to_string(),
                };
                let path = if b.page > 1 { format!("{base}?page={}", b.page) } else { base.clone() };
                let (title, lede) = match &b.tag {
                    Some(tag) => (format!("Articles tagged “{tag}”"), "From the team's blog.".to_string()),
                    None => ("Blog".to_string(), "News and notes from the team. Comment under any article: we read and answer.".to_string()),
                };
                let write = b.can_write.then(|| view! { <a class="button primary" href="/blog/new">"Write an article"</a> });
                let unpublished = (!b.unpublished.is_empty()).then(|| view! {
                    <section class="unpublished" aria-labelledby="unpublished-heading">
                        <h2 id="unpublished-heading">"Drafts and scheduled"</h2>
                        <p class="muted">"Only you and admins see these until they are published."</p>
                        <ul class="article-list compact">
                            {b.unpublished.into_iter().map(|a| view! { <ArticleCard article=a /> }).collect_view()}
                        </ul>
                    </section>
                });
                let empty = b.articles.is_empty();
                let list = if b.articles.is_empty() {
                    view! {
                        <div class="empty">
                            <p>{if b.tag.is_some() { "No published articles have this tag." } else { "No articles yet. The team's news will appear here." }}</p>
                            {b.tag.is_some().then(|| view! { <p><a href="/blog">"All articles"</a></p> })}
                        </div>
                    }
                    .into_any()
                } else {
                    view! {
                        <ul class="article-list" aria-label="Articles">
                            {b.articles.into_iter().map(|a| view! { <ArticleCard article=a /> }).collect_view()}
                        </ul>
                    }
                    .into_any()
                };
                view! {
                    <PageMeta site title=title.clone() description=lede.clone() path noindex=empty />
                    <header class="intro">
                        <div>
                            <h1>{title}</h1>
                            <p class="lede">{lede}</p>
                            <p class="muted"><a href="/blog/feed.xml" type="application/atom+xml">"Subscribe with a feed reader"</a></p>
                        </div>
                        {write}
                    </header>
                    {unpublished}
                    {list}
                    <Pager base page=b.page page_count=b.page_count />
                }
                .into_any()
            })}
        </Suspense>
    }
}
