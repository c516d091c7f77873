use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::moderation::get_moderation_log,
    components::{
        page::{ErrorView, PageMeta, query_number},
        pager::Pager,
        time::RelativeTime,
    },
    model::{LogEntryView, action_label, post_url, topic_url},
};

/// /admin/log (moderators: everything, with names) and /moderation (everyone: actions on public
/// content and their reasons, without names).
#[component]
pub fn ModerationLogPage(public: bool) -> impl IntoView {
    let page: u64 = query_number(&use_query_map().get_untracked(), "page").unwrap_or(1);
    let data = OnceResource::new(get_moderation_log(public, page));
    let site = expect_context::<crate::context::Site>().0;
    let (title, lede, base) = if public {
        (
            "Moderation",
            "What moderators did on public topics, and why.",
            "/moderation",
        )
    } else {
        (
            "Moderation log",
            "Every moderator action: who, what, on which post or member, why and when.",
            "/admin/log",
        )
    };
    view! {
        {(!public).then(|| view! { <Title text=title /> })}
        <header class="intro">
            <div>
                <h1>{title}</h1>
                <p class="lede">{lede}</p>
            </div>
        </header>
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let data = data.await;
                // The public page's head: canonical and OpenGraph, and noindex while it is empty.
                let meta = match (public, &data) {
                    (true, Ok(log)) => {
                        let site = site.await.unwrap_or_default();
                        let path = if log.page > 1 { format!("{base}?page={}", log.page) } else { base.to_string() };
                        Some(view! { <PageMeta site title=title.to_string() description=lede.to_string() path noindex=log.entries.is_empty() /> })
                    }
                    _ => None,
                };
                let body = match data {
                    Ok(log) if log.entries.is_empty() => view! { <div class="empty"><p>"Nothing yet."</p></div> }.into_any(),
                    Ok(log) => view! {
                        <ol class="activity-list log-list">
                            {log.entries.into_iter().map(|e| view! { <LogRow entry=e /> }).collect_view()}
                        </ol>
                        <Pager base=base.to_string() page=log.page page_count=log.page_count />
                    }
                    .into_any(),
                    Err(e) => view! { <ErrorView error=e /> }.into_any(),
                };
                view! { {meta} {body} }
            })}
        </Suspense>
    }
}

#[component]
fn LogRow(entry: LogEntryView) -> impl IntoView {
    let who = if entry.actor.is_empty() {
        "A moderator".to_string()
    } else {
        entry.actor.clone()
    };
    let target = entry.topic_id.map(|id| {
        let href = match entry.post_number {
            Some(n) => post_url(id, &entry.topic_slug, n),
            None => topic_url(id, &entry.topic_slug, 1),
        };
        view! { " in " <a href=href>{entry.topic_title.clone()}</a> }
    });
    view! {
        <li>
            {who} " " {action_label(&entry.action).to_string()} {target}
            {(!entry.member.is_empty()).then(|| format!(" (member: {})", entry.member))}
            " · " <RelativeTime at=entry.created_at />
            {(!entry.reason.is_empty()).then(|| view! { <p class="muted">"Reason: " {entry.reason.clone()}</p> })}
        </li>
    }
}
