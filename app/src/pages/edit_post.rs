use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    api::forum::{ComposerKind, EditPost, get_composer_start, get_editable_post},
    components::{composer::EditPostForm, form::error_from_url, page::ErrorView},
    error::AppError,
    model::post_url,
};

/// /p/{id}/edit: the author edits their post.
#[component]
pub fn EditPostPage() -> impl IntoView {
    let id: Option<i64> = use_params_map()
        .get_untracked()
        .get("id")
        .and_then(|v| v.parse().ok());
    let initial_error = error_from_url::<EditPost>();
    let post = OnceResource::new(async move {
        match id {
            Some(id) => get_editable_post(id).await,
            None => Err(AppError::NotFound("There is no such post.".into())),
        }
    });
    let draft = OnceResource::new(get_composer_start(
        ComposerKind::Edit(id.unwrap_or(0)),
        None,
    ));
    view! {
        <Title text="Edit post" />
        <section class="narrow">
            <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
                {move || {
                    let initial_error = initial_error.clone();
                    Suspend::new(async move {
                        let p = match post.await {
                            Ok(p) => p,
                            Err(AppError::SignInRequired(_)) => {
                                let next = format!("/p/{}/edit", id.unwrap_or(0));
                                return view! {
                                    <h1>"Edit post"</h1>
                                    <p>"Log in to edit your posts. " <a href=format!("/login?next={next}")>"Log in"</a></p>
                                }
                                .into_any();
                            }
                            Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                        };
                        // A kept draft (a preview, or a refused save) wins over the stored text.
                        let (source, preview_html) = match draft.await {
                            Ok(start) if !start.draft.body.is_empty() => (start.draft.body, start.draft.preview_html),
                            _ => (p.source.clone(), None),
                        };
                        let back = post_url(p.topic_id, &p.topic_slug, p.number);
                        view! {
                            <h1>"Edit your post"</h1>
                            <p class="muted">"In " <a href=back.clone()>{p.topic_title.clone()}</a> ". The earlier version is kept."</p>
                            <EditPostForm post_id=p.id source preview_html cancel_href=back initial_error moderating=p.moderating />
                        }
                        .into_any()
                    })
                }}
            </Suspense>
        </section>
    }
}
