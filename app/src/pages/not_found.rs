use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <crate::components::page::NoIndex />
        <section class="not-found">
            <h1>"Page not found"</h1>
            <p>"There's nothing at this address. It may have moved, or the link may be mistyped."</p>
            <p><a class="button" href="/">"Go to the community home"</a></p>
        </section>
    }
}
