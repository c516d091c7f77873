use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::forum::{ComposerKind, StartTopic, get_composer_start, postable_categories},
    components::{composer::NewTopicForm, form::error_from_url, page::ErrorView},
    context::CurrentUser,
};

/// /new-topic?category=slug: start a topic.
#[component]
pub fn NewTopicPage() -> impl IntoView {
    let chosen = use_query_map()
        .get_untracked()
        .get("category")
        .unwrap_or_default();
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
                    let (chosen, initial_error) = (chosen.clone(), initial_error.clone());
                    Suspend::new(async move {
                        let signed_in = matches!(me.await, Ok(Some(_)));
                        match (categories.await, start.await) {
                            (Ok(categories), Ok(start)) => {
                                view! { <NewTopicForm categories chosen start initial_error signed_in /> }.into_any()
                            }
                            (Err(e), _) | (_, Err(e)) => view! { <ErrorView error=e /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}
