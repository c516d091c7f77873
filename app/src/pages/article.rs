use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::{blog::get_article_page, forum::CreateReply},
    components::{
        article::{ArticleDate, Byline, StateTag, TagLinks},
        composer::ReplyComposer,
        form::error_from_url,
        page::{ErrorView, JsonLd, PageMeta, query_number},
        pager::Pager,
        post::PostList,
    },
    context::{CurrentUser, Site},
    model::{ArticleState, article_url, saved_message},
};

/// /blog/{slug}?page=N: the article, then its comments (30 a page) and the comment box. A draft
/// or scheduled article shows here to its author and admins only: this is its preview.
#[component]
pub fn ArticlePage() -> impl IntoView {
    let slug = use_params_map()
        .get_untracked()
        .get("slug")
        .unwrap_or_default();
    let query = use_query_map().get_untracked();
    let page: u64 = query_number(&query, "page").unwrap_or(1);
    let quote: Option<i64> = query_number(&query, "quote");
    let saved = query.get("saved").and_then(|code| saved_message(&code));
    let initial_error = error_from_url::<CreateReply>();
    let (site, me) = (
        expect_context::<Site>().0,
        expect_context::<CurrentUser>().0,
    );
    let data = OnceResource::new(get_article_page(slug, page, quote));
    view! {
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading the article…"</p> }>
            {move || {
                let initial_error = initial_error.clone();
                Suspend::new(async move {
                    let p = match data.await {
                        Ok(p) => p,
                        Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                    };
                    let site = site.await.unwrap_or_default();
                    let signed_in = matches!(me.await, Ok(Some(_)));
                    let a = p.article.clone();
                    let here = article_url(&a.slug, p.page);
                    let banner = match (a.state, a.published_at) {
                        (ArticleState::Draft, _) => Some("Draft: only you and admins can see this page. Publish it to put it on the blog.".to_string()),
                        (ArticleState::Scheduled, Some(at)) => Some(format!("Scheduled: only you and admins can see this page until {}, when it publishes by itself.", crate::components::time::exact_utc(at))),
                        _ => None,
                    };
                    let comments_heading = match a.comment_count {
                        0 => "Comments".to_string(),
                        n => crate::format::count(n as i64, "comment", "comments"),
                    };
                    let comment_box = match (p.composer, a.state, p.comments_open) {
                        (Some(start), _, _) => view! { <ReplyComposer topic_id=p.topic_id start initial_error signed_in comment=true /> }.into_any(),
                        (None, ArticleState::Published, false) => view! { <p class="notice" id="composer">"Comments are closed on this article."</p> }.into_any(),
                        (None, _, _) => view! { <p class="notice" id="composer">"Comments open when the article is published."</p> }.into_any(),
                    };
                    let empty = (p.comments.is_empty() && p.comments_open && a.state == ArticleState::Published)
                        .then(|| view! { <p class="empty">"No comments yet. Questions and thoughts are welcome: the team reads every one."</p> });
                    view! {
                        <PageMeta site title=a.title.clone() description=a.summary.clone() path=here.clone() og_type="article" />
                        {p.structured_data.clone().map(|json| view! { <JsonLd json /> })}
                        {saved.map(|message| view! { <p class="notice saved" role="status">{message}</p> })}
                        {banner.map(|message| view! { <p class="notice draft-banner" role="status">{message}</p> })}
                        <article class="article">
                            <header class="article-header">
                                <p class="muted"><a href="/blog">"Blog"</a></p>
                                <h1>{a.title.clone()} " " <StateTag article=a.clone() /></h1>
                                <p class="article-meta muted">
                                    <Byline article=a.clone() />
                                    {a.published_at.filter(|_| a.state == ArticleState::Published).map(|at| view! { " · " <ArticleDate at /> })}
                                    {p.can_edit.then(|| view! { " · " <a href=format!("/blog/{}/edit", a.slug)>"Edit"</a> })}
                                </p>
                                <TagLinks tags=a.tags.clone() />
                            </header>
                            {a.cover_image_url.clone().map(|src| view! { <img class="article-hero" src=src alt="" /> })}
                            <div class="post-body article-body" inner_html=p.html></div>
                        </article>
                        <section class="comments" id="comments" aria-labelledby="comments-heading">
                            <h2 id="comments-heading">{comments_heading}</h2>
                            {empty}
                            <PostList posts=p.comments here=here.clone() signed_in />
                            <Pager base=article_url(&a.slug, 1) page=p.page page_count=p.page_count />
                            {comment_box}
                        </section>
                    }
                    .into_any()
                })
            }}
        </Suspense>
    }
}
