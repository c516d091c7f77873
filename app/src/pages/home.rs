use crate::components::category_colours::colour_class;
use leptos::prelude::*;
use leptos_meta::Link;

use crate::{
    api::forum::list_categories,
    components::{page::PageMeta, time::RelativeTime},
    model::CategorySummary,
};

/// The home page's description when the site has no tagline.
const DESCRIPTION: &str = "Ask questions, share feedback and get answers from our team.";

#[component]
pub fn HomePage() -> impl IntoView {
    let categories = OnceResource::new(list_categories());
    let site = expect_context::<crate::context::Site>().0;
    view! {
        <Link rel="alternate" type_="application/atom+xml" title="New topics" href="/feed.xml" />
        <section class="intro">
            <div>
                <h1>"Community"</h1>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let site = site.await.unwrap_or_default();
                        let tagline = site.tagline.clone();
                        let description = if tagline.trim().is_empty() { DESCRIPTION.to_string() } else { tagline.clone() };
                        view! {
                            <PageMeta site title="Community".to_string() description path="/".to_string() />
                            <p class="lede">{tagline}</p>
                        }
                    })}
                </Suspense>
            </div>
            <a class="button primary" href="/new-topic">"New topic"</a>
        </section>
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading categories…"</p> }>
            {move || Suspend::new(async move {
                match categories.await {
                    Ok(list) if list.is_empty() => {
                        view! { <p class="empty">"No categories yet. An admin can add the first one."</p> }.into_any()
                    }
                    Ok(list) => view! {
                        <ul class="category-list" aria-label="Categories">
                            {list.into_iter().map(|c| view! { <CategoryRow category=c /> }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CategoryRow(category: CategorySummary) -> impl IntoView {
    let topics = match category.topic_count {
        1 => "1 topic".to_string(),
        n => format!("{n} topics"),
    };
    view! {
        <li class=format!("category {}", colour_class(&category.slug))>
            <div class="category-main">
                <h2 class="category-name"><a href=format!("/c/{}", category.slug)>{category.name.clone()}</a></h2>
                <p class="category-description">{category.description.clone()}</p>
                {category.latest_topic_title.clone().map(|t| view! { <p class="category-latest">"Latest: " {t}</p> })}
            </div>
            <div class="category-stats">
                <span class="count">{topics}</span>
                {category.last_posted_at.map(|at| view! { <span class="activity">"Active " <RelativeTime at /></span> })}
            </div>
        </li>
    }
}
