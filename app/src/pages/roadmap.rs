use leptos::prelude::*;

use crate::{
    api::staff::get_roadmap,
    components::{
        page::{ErrorView, PageMeta},
        time::RelativeTime,
    },
    context::Site,
    model::{RoadmapColumn, RoadmapIdea},
};

/// /roadmap: the ideas the team has planned, is working on and has done, most votes first.
/// Public unless an admin switched it off (staff then see a preview).
#[component]
pub fn RoadmapPage() -> impl IntoView {
    let site = expect_context::<Site>().0;
    let data = OnceResource::new(get_roadmap());
    view! {
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading the roadmap…"</p> }>
            {move || Suspend::new(async move {
                let r = match data.await {
                    Ok(r) => r,
                    Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                };
                let site = site.await.unwrap_or_default();
                let lede = "What we have planned, what we are working on and what is done, from your ideas. Vote on the ideas that matter to you.";
                view! {
                    <PageMeta site title="Roadmap".to_string() description=lede.to_string() path="/roadmap".to_string() noindex=r.preview />
                    <header class="intro">
                        <div>
                            <h1>"Roadmap"</h1>
                            <p class="lede">{lede}</p>
                        </div>
                    </header>
                    {r.preview.then(|| view! {
                        <p class="notice" role="status">"The public roadmap is switched off: only staff see this preview. Admins switch it on in the site settings."</p>
                    })}
                    <div class="roadmap">
                        {r.columns.into_iter().map(|c| view! { <Column column=c /> }).collect_view()}
                    </div>
                }
                .into_any()
            })}
        </Suspense>
    }
}

#[component]
fn Column(column: RoadmapColumn) -> impl IntoView {
    let heading_id = format!("roadmap-{}", column.status);
    let count = column.ideas.len() as u64 + column.more;
    let status = column.status.clone();
    let labelled = heading_id.clone();
    view! {
        <section class="roadmap-column" aria-labelledby=labelled>
            <h2 id=heading_id>{column.heading.clone()} " " <span class="muted">{format!("({count})")}</span></h2>
            {if column.ideas.is_empty() {
                view! { <p class="empty">"Nothing here yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="roadmap-list">
                        {column.ideas.into_iter().map(|idea| view! { <Idea idea /> }).collect_view()}
                    </ol>
                }
                .into_any()
            }}
            {(column.more > 0).then(|| view! {
                <p class="muted">
                    {format!("And {} more in ", column.more)}
                    {column.more_in.into_iter().enumerate().map(|(i, c)| view! {
                        {(i > 0).then_some(", ")}
                        <a href=format!("/c/{}?status={}", c.slug, status)>{c.name.clone()}</a>
                    }).collect_view()}
                    "."
                </p>
            })}
        </section>
    }
}

#[component]
fn Idea(idea: RoadmapIdea) -> impl IntoView {
    let votes = crate::format::count(idea.votes as i64, "vote", "votes");
    view! {
        <li class="roadmap-idea">
            <a class="topic-title" href=format!("/t/{}/{}", idea.topic_id, idea.slug)>{idea.title.clone()}</a>
            <span class="muted roadmap-meta">
                <span class="vote-count">{votes}</span>
                " · " {idea.category.name.clone()}
                {idea.status_changed_at.map(|at| view! { " · updated " <RelativeTime at /> })}
            </span>
        </li>
    }
}
