use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{
        forum::{ComposerKind, StartTopic, get_composer_start, postable_categories},
        search::similar_topics,
    },
    components::{composer::NewTopicForm, form::error_from_url, page::ErrorView},
    context::CurrentUser,
};

/// /new-topic?category=slug&title=…&similar=1: start a topic; with a title (from a search that
/// found nothing, or the no-JavaScript similar check) the similar topics are listed at once.
#[component]
pub fn NewTopicPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let chosen = query.get("category").unwrap_or_default();
    let asked_title = query.get("title").unwrap_or_default();
    // Asked for ("Check for similar topics" without JavaScript, or a search that found nothing).
    let show_similar = query.get("similar").is_some() || !asked_title.is_empty();
    let initial_error = error_from_url::<StartTopic>();
    let me = expect_context::<CurrentUser>().0;
    let categories = OnceResource::new(postable_categories());
    let start = OnceResource::new(get_composer_start(ComposerKind::NewTopic, None));
    view! {
        <Title text="New topic" />
        <section class="narrow">
            <h1>"Start a topic"</h1>
            <p class="lede">"Ask a question, share feedback or an idea, or report a problem. Staff read every topic."</p>
            <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
                {move || {
                    let (chosen, initial_error, asked_title) = (chosen.clone(), initial_error.clone(), asked_title.clone());
                    Suspend::new(async move {
                        let signed_in = matches!(me.await, Ok(Some(_)));
                        match (categories.await, start.await) {
                            (Ok(categories), Ok(mut start)) => {
                                if start.draft.title.is_empty() {
                                    start.draft.title = asked_title.chars().take(300).collect();
                                }
                                // A restored draft (or a search's words) shows its similar topics at once.
                                let similar = if show_similar {
                                    similar_topics(start.draft.title.clone()).await.unwrap_or_default()
                                } else {
                                    Vec::new()
                                };
                                view! { <NewTopicForm categories chosen start initial_error signed_in similar /> }.into_any()
                            }
                            (Err(e), _) | (_, Err(e)) => view! { <ErrorView error=e /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}
