//! The article editor: one island. Without JavaScript it posts natively ("Preview" round-trips
//! through the server and comes back with every field kept); with it, errors update in place,
//! the preview is live and the save button says what it will do.
use leptos::{prelude::*, server_fn::ServerFn};

use super::{
    composer::{BodyEditor, TitleField},
    form::{Field, FormError, FormSend, hydrated},
};
use crate::{
    api::blog::SaveArticle,
    error::AppError,
    model::{ArticleEditorStart, ArticleState},
};

const FIELDS: [&str; 8] = [
    "title",
    "slug",
    "summary",
    "cover_image_url",
    "tags",
    "body",
    "publish",
    "publish_at",
];

#[island]
pub fn ArticleForm(
    start: ArticleEditorStart,
    initial_error: Option<AppError>,
    cancel_href: String,
    /// "It is now …" in UTC, so a writer can pick a time without guessing the zone.
    now_utc: String,
) -> impl IntoView {
    let send = FormSend::new();
    let pending = send.pending;
    let uploading = RwSignal::new(false);
    let ready = hydrated();
    let error = send.error(initial_error);
    let field = move |name: &'static str| {
        Signal::derive(move || error.get().and_then(|e| e.for_field(name)))
    };
    let d = start.draft;
    let is_public = start.state == Some(ArticleState::Published);
    let publish = RwSignal::new(d.publish.clone());
    let choice = move |value: &'static str, label: &'static str| {
        let id = format!("publish-{value}");
        let label_for = id.clone();
        view! {
            <label class="choice" for=label_for>
                <input
                    type="radio"
                    id=id
                    name="publish"
                    value=value
                    checked=d.publish == value
                    on:change=move |_| publish.set(value.to_string())
                />
                {label}
            </label>
        }
    };
    // Before hydration (and without JavaScript) the choice can change without the page
    // knowing, so the button says only "Save"; once live it says what it will do.
    let save_label = move || match (pending.get(), publish.get().as_str()) {
        _ if !ready.get() => "Save",
        (true, _) => "Saving…",
        (false, "now") if !is_public => "Publish",
        (false, "schedule") => "Schedule",
        (false, "draft") => "Save draft",
        _ => "Save",
    };
    let slug_hint = if is_public {
        "Published articles keep their address, so links to them keep working."
    } else {
        "Where it lives: /blog/… Leave empty to make one from the title."
    };
    view! {
        <form method="post" action=SaveArticle::url() class="composer stack article-form" id="editor" enctype="multipart/form-data" novalidate data-ready=move || ready.get().to_string() on:submit=send.on_submit()>
            <FormError message=Signal::derive(move || error.get().and_then(|e| e.for_form(&FIELDS))) />
            <input type="hidden" name="article_id" value=start.article_id />
            <input type="hidden" name="form_token" value=start.form_token />
            <TitleField initial=d.title error=field("title") />
            <Field label="Address" name="slug" value=d.slug optional=true maxlength=80 hint=slug_hint error=field("slug") />
            <Field
                label="Summary"
                name="summary"
                value=d.summary
                optional=true
                maxlength=300
                hint="Optional. A sentence or two for the blog's list and the feed."
                error=field("summary")
            />
            <Field
                label="Cover image"
                name="cover_image_url"
                kind="url"
                value=d.cover_image_url
                optional=true
                maxlength=500
                hint="Optional. The web address of an image (https://…)."
                error=field("cover_image_url")
            />
            <Field label="Tags" name="tags" value=d.tags optional=true maxlength=200 hint="Optional. Up to 5, separated by commas." error=field("tags") />
            <BodyEditor label="Article" initial=d.body preview_html=d.preview_html error=field("body") uploading />
            <fieldset class="field publishing" class:has-error=move || field("publish").read().is_some() || field("publish_at").read().is_some()>
                <legend>"Publishing"</legend>
                {choice("draft", if is_public { "Unpublish: back to a draft only you and admins can see" } else { "Draft: only you and admins can see it" })}
                {choice("now", if is_public { "Published" } else { "Publish now" })}
                {choice("schedule", "Schedule for a time")}
                <p class="field-error" aria-live="polite">{move || field("publish").get()}</p>
                <label for="field-publish_at">"Publish at (UTC)"</label>
                <p class="hint" id="field-publish_at-hint">{format!("Used when scheduling. It is now {now_utc}.")}</p>
                <input
                    id="field-publish_at"
                    type="datetime-local"
                    name="publish_at"
                    value=d.publish_at
                    aria-describedby="field-publish_at-hint field-publish_at-error"
                    aria-invalid=move || if field("publish_at").read().is_some() { "true" } else { "false" }
                />
                <p class="field-error" id="field-publish_at-error" aria-live="polite">{move || field("publish_at").get()}</p>
            </fieldset>
            <label class="choice" for="field-comments_open">
                <input type="checkbox" id="field-comments_open" name="comments_open" value="on" checked=d.comments_open />
                "Allow comments (turning them off keeps existing ones readable)"
            </label>
            <div class="form-actions">
                <button type="submit" class="button primary" disabled=move || pending.get() || uploading.get() aria-busy=move || pending.get().to_string()>
                    {save_label}
                </button>
                <a class="button subtle" href=cancel_href>"Cancel"</a>
            </div>
        </form>
    }
}
