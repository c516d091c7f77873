use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    api::blog::{SaveArticle, get_article_editor},
    components::{
        article_form::ArticleForm, form::error_from_url, page::ErrorView, time::exact_utc,
    },
    error::AppError,
    model::article_url,
    paths::encode_query_value,
};

/// /blog/new and /blog/{slug}/edit: the article editor, for staff (and, for an existing
/// article, its author or an admin). Anyone else gets the refusal and no form.
#[component]
pub fn ArticleEditorPage() -> impl IntoView {
    let slug = use_params_map().get_untracked().get("slug");
    let initial_error = error_from_url::<SaveArticle>();
    let heading = if slug.is_some() {
        "Edit article"
    } else {
        "Write an article"
    };
    let here = match &slug {
        Some(s) => format!("/blog/{s}/edit"),
        None => "/blog/new".to_string(),
    };
    let start = OnceResource::new(get_article_editor(slug));
    view! {
        <Title text=heading />
        <section class="narrow">
            <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading the editor…"</p> }>
                {move || {
                    let (initial_error, here) = (initial_error.clone(), here.clone());
                    Suspend::new(async move {
                        match start.await {
                            Ok(start) => {
                                let cancel_href = if start.current_slug.is_empty() { "/blog".to_string() } else { article_url(&start.current_slug, 1) };
                                let now_utc = exact_utc(chrono::Utc::now());
                                view! {
                                    <h1>{heading}</h1>
                                    <p class="lede">"Save a draft to preview it at its real address; nobody else sees it until you publish."</p>
                                    <ArticleForm start initial_error cancel_href now_utc />
                                }
                                .into_any()
                            }
                            Err(AppError::SignInRequired(_)) => view! {
                                <h1>{heading}</h1>
                                <p>"Log in to write articles. " <a href=format!("/login?next={}", encode_query_value(&here))>"Log in"</a></p>
                            }
                            .into_any(),
                            Err(e) => view! { <ErrorView error=e /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}
