//! /p/{id}/flag: a member flags a post for the moderators. A topic page offers each post a
//! plain "Flag" link to here rather than a form of its own under every post (30 forms, half a
//! topic page's bytes, that almost nobody opens). A plain post of the form lands back on the post
//! in its topic, told the flag was sent; a refused one comes back here with its error.
use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    api::moderation::{FlagPost, get_flag_target},
    components::{
        form::{InlineError, SentForm, error_from_url},
        page::{ErrorView, NoIndex},
    },
    error::AppError,
    model::{FLAG_REASONS, FlagTarget},
};

#[component]
pub fn FlagPostPage() -> impl IntoView {
    let id: Option<i64> = use_params_map()
        .get_untracked()
        .get("id")
        .and_then(|v| v.parse().ok());
    let error = error_from_url::<FlagPost>();
    let target = OnceResource::new(async move {
        match id {
            Some(id) => get_flag_target(id).await,
            None => Err(AppError::NotFound("There is no such post.".into())),
        }
    });
    view! {
        <NoIndex />
        <section class="narrow flag-page">
            <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
                {move || {
                    let error = error.clone();
                    Suspend::new(async move {
                        match target.await {
                            Ok(t) => view! { <FlagPostView target=t error /> }.into_any(),
                            Err(e) => view! { <ErrorView error=e /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn FlagPostView(target: FlagTarget, error: Option<AppError>) -> impl IntoView {
    let t = target;
    let form_id = format!("flag-{}", t.post_id);
    let excerpt = (!t.excerpt.is_empty()).then(
        || view! { <blockquote class="flag-excerpt"><p>{t.excerpt.clone()}</p></blockquote> },
    );
    let action = match t.refusal.clone() {
        // Their own post, one no longer public, or one they flagged already: said, with no form.
        Some(why) => view! {
            <p class="flag-refusal" class:flagged=t.flagged_by_viewer id=form_id>{why}</p>
            <p><a class="button" href=t.url.clone()>"Back to the post"</a></p>
        }
        .into_any(),
        None => {
            view! { <FlagForm post_id=t.post_id form_id error back=t.url.clone() /> }.into_any()
        }
    };
    view! {
        <Title text="Flag a post" />
        <h1 id="flag-title">"Flag a post for the moderators"</h1>
        <figure class="flag-target">
            {excerpt}
            <figcaption>
                "Post #"{t.number}" by "
                <a href=format!("/u/{}", t.author_username)>{t.author_display_name.clone()}</a>
                " in "
                <a href=t.url.clone()>{t.topic_title.clone()}</a>
            </figcaption>
        </figure>
        {action}
    }
}

/// A reason and an optional note. The ids are the post's (`flag-{id}`), as when this form was
/// under every post: a refusal comes back to the form of that name.
#[component]
fn FlagForm(post_id: i64, form_id: String, error: Option<AppError>, back: String) -> impl IntoView {
    let id = form_id;
    let reason_id = format!("{id}-reason");
    let note_id = format!("{id}-note");
    let sent = SentForm::sole(error, &id, &["reason", "note"]);
    let chosen = sent.kept("reason");
    view! {
        <form method="post" action=FlagPost::url() class="stack flag-form" id=id.clone() aria-labelledby="flag-title">
            <InlineError message=sent.form_error.clone() id=format!("{id}-error") />
            <input type="hidden" name="post_id" value=post_id />
            <div class="field" class:has-error=sent.field("reason").is_some()>
                <label for=reason_id.clone()>"What's wrong with this post?"</label>
                <select id=reason_id.clone() name="reason" aria-describedby=format!("{reason_id}-error") aria-invalid=sent.invalid("reason") required>
                    // No reason is chosen for the member: an empty first choice, which the
                    // browser (or the server, without one) refuses.
                    <option value="" selected=chosen.is_none()>"Choose a reason"</option>
                    {FLAG_REASONS.iter().map(|(key, label)| view! { <option value=*key selected=chosen.as_deref() == Some(*key)>{*label}</option> }).collect_view()}
                </select>
                <p class="field-error" id=format!("{reason_id}-error")>{sent.field("reason")}</p>
            </div>
            <div class="field" class:has-error=sent.field("note").is_some()>
                <label for=note_id.clone()>"Details (required for “Something else”)"</label>
                <input id=note_id.clone() name="note" maxlength="1000" value=sent.kept("note") aria-describedby=format!("{note_id}-error") aria-invalid=sent.invalid("note") />
                <p class="field-error" id=format!("{note_id}-error")>{sent.field("note")}</p>
            </div>
            <div class="form-actions">
                <button type="submit" class="button primary">"Flag for moderators"</button>
                <a class="button" href=back>"Cancel"</a>
            </div>
        </form>
    }
}
