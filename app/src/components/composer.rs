//! Writing posts: the Markdown editor with its preview, and the three forms that use it (reply,
//! new topic, edit). Each form is an island: without JavaScript it posts natively and "Preview"
//! round-trips through the server; with it, errors update in place and the preview is live.
use std::time::Duration;

use leptos::prelude::*;

use super::form::{FormError, hydrated, latest_error};
use crate::{
    api::{
        forum::{CreateReply, EditPost, StartTopic, render_preview},
        search::similar_topics,
    },
    components::staff::StatusTag,
    error::AppError,
    model::{CategoryRef, ComposerStart, SimilarTopic},
};

/// The body textarea, its error, and the preview. `preview_html` is what a no-JavaScript
/// "Preview" brought back (already through the content pipeline).
#[component]
pub fn BodyEditor(
    label: &'static str,
    initial: String,
    preview_html: Option<String>,
    #[prop(into)] error: Signal<Option<String>>,
    /// The text, when the form changes it too (quoting); else the editor keeps its own.
    #[prop(optional)]
    body: Option<RwSignal<String>>,
) -> impl IntoView {
    let body = body.unwrap_or_else(|| RwSignal::new(initial.clone()));
    let preview = RwSignal::new(preview_html);
    let preview_error = RwSignal::new(None::<String>);
    let edits = StoredValue::new(0u64);

    let refresh = move || {
        leptos::task::spawn_local(async move {
            match render_preview(body.get_untracked()).await {
                Ok(html) => {
                    preview_error.set(None);
                    preview.set(Some(html));
                }
                Err(e) => preview_error.set(Some(e.to_string())),
            }
        })
    };
    // Live preview: re-render 300 ms after the last keystroke (one request per pause in typing).
    let on_input = move |ev: leptos::ev::Event| {
        body.set(event_target_value(&ev));
        edits.update_value(|n| *n += 1);
        let this_edit = edits.get_value();
        set_timeout(
            move || {
                if edits.get_value() == this_edit && !body.get_untracked().trim().is_empty() {
                    refresh();
                }
            },
            Duration::from_millis(300),
        );
    };
    // With JavaScript the button previews in place instead of posting the form.
    let on_preview = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        refresh();
    };
    let described_by = "field-body-hint field-body-error";
    view! {
        <div class="field body-editor" class:has-error=move || error.read().is_some()>
            <label for="field-body">{label}</label>
            <textarea
                id="field-body"
                name="body"
                rows="8"
                maxlength="50000"
                aria-describedby=described_by
                aria-invalid=move || if error.read().is_some() { "true" } else { "false" }
                prop:value=move || body.get()
                on:input=on_input
            >
                {super::escape_rcdata(initial)}
            </textarea>
            <p class="hint" id="field-body-hint">
                "Markdown works: **bold**, _italic_, [link](https://…), > quote, `code`, @name to mention."
            </p>
            <p class="field-error" id="field-body-error" aria-live="polite">{move || error.get()}</p>
            <div class="editor-tools">
                <button type="submit" name="preview" value="1" class="button subtle" on:click=on_preview>
                    "Preview"
                </button>
                <span class="field-error" aria-live="polite">{move || preview_error.get()}</span>
            </div>
            <Show when=move || preview.read().is_some()>
                <section class="preview" aria-label="Preview">
                    <h3 class="preview-label">"Preview"</h3>
                    <div class="post-body" inner_html=move || preview.get().unwrap_or_default()></div>
                </section>
            </Show>
        </div>
    }
}

fn submit_label(
    pending: Memo<bool>,
    idle: &'static str,
    busy: &'static str,
) -> impl Fn() -> &'static str {
    move || if pending.get() { busy } else { idle }
}

#[island]
pub fn ReplyComposer(
    topic_id: i64,
    start: ComposerStart,
    initial_error: Option<AppError>,
    signed_in: bool,
    /// Under a blog article: the same form, worded as a comment.
    comment: bool,
) -> impl IntoView {
    let action = ServerAction::<CreateReply>::new();
    let (heading, label, idle) = if comment {
        ("Leave a comment", "Your comment", "Post comment")
    } else {
        ("Reply", "Your reply", "Post reply")
    };
    let pending = action.pending();
    let ready = hydrated();
    let error = latest_error(action.value(), initial_error);
    let body = RwSignal::new(start.draft.body.clone());
    #[cfg(feature = "hydrate")]
    quote_into(body);
    view! {
        <ActionForm action attr:class="composer stack" attr:id="composer" attr:novalidate=true attr:data-ready=move || ready.get().to_string()>
            <h2>{heading}</h2>
            <FormError message=Signal::derive(move || error.get().and_then(|e| e.for_form(&["body"]))) />
            <input type="hidden" name="topic_id" value=topic_id />
            <input type="hidden" name="form_token" value=start.form_token />
            <BodyEditor
                label
                initial=start.draft.body
                preview_html=start.draft.preview_html
                error=Signal::derive(move || error.get().and_then(|e| e.for_field("body")))
                body
            />
            {(!signed_in).then(|| view! { <p class="hint">"You'll be asked to log in when you post. Your text is kept."</p> })}
            <button type="submit" class="button primary" disabled=pending aria-busy=move || pending.get().to_string()>
                {submit_label(pending, idle, "Posting…")}
            </button>
        </ActionForm>
    }
}

/// With JavaScript, a post's "Quote" link adds the quote to the reply being written instead of
/// loading the page again with it (which would lose what was typed).
#[cfg(feature = "hydrate")]
fn quote_into(body: RwSignal<String>) {
    use leptos::{wasm_bindgen::JsCast, web_sys};
    let handle = window_event_listener(leptos::ev::click, move |ev| {
        let link = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("a[data-quote]").ok().flatten());
        let Some(post_id) = link
            .and_then(|a| a.get_attribute("data-quote"))
            .and_then(|v| v.parse::<i64>().ok())
        else {
            return;
        };
        ev.prevent_default();
        leptos::task::spawn_local(async move {
            if let Ok(quoted) = crate::api::forum::get_quote(post_id).await {
                body.update(|text| {
                    if !text.is_empty() && !text.ends_with("\n\n") {
                        text.push_str(if text.ends_with('\n') { "\n" } else { "\n\n" });
                    }
                    text.push_str(&quoted);
                });
                if let Some(area) = document().get_element_by_id("field-body") {
                    area.scroll_into_view();
                    if let Ok(area) = area.dyn_into::<web_sys::HtmlElement>() {
                        let _ = area.focus();
                    }
                }
            }
        });
    });
    on_cleanup(move || handle.remove());
}

#[island]
pub fn NewTopicForm(
    categories: Vec<CategoryRef>,
    chosen: String,
    start: ComposerStart,
    initial_error: Option<AppError>,
    signed_in: bool,
    /// Topics like the draft's title, found by the server when the page opened.
    similar: Vec<SimilarTopic>,
) -> impl IntoView {
    let action = ServerAction::<StartTopic>::new();
    let title = RwSignal::new(start.draft.title.clone());
    let pending = action.pending();
    let ready = hydrated();
    let error = latest_error(action.value(), initial_error);
    let field = move |name: &'static str| {
        Signal::derive(move || error.get().and_then(|e| e.for_field(name)))
    };
    let category_error = field("category");
    let chosen = if start.draft.category.is_empty() {
        chosen
    } else {
        start.draft.category.clone()
    };
    view! {
        <ActionForm action attr:class="composer stack" attr:id="composer" attr:novalidate=true attr:data-ready=move || ready.get().to_string()>
            <FormError message=Signal::derive(move || error.get().and_then(|e| e.for_form(&["title", "body", "category"]))) />
            <input type="hidden" name="form_token" value=start.form_token />
            <div class="field" class:has-error=move || category_error.read().is_some()>
                <label for="field-category">"Category"</label>
                <select id="field-category" name="category" aria-describedby="field-category-error">
                    <option value="" selected=chosen.is_empty()>"Choose a category…"</option>
                    {categories
                        .into_iter()
                        .map(|c| {
                            let selected = c.slug == chosen;
                            view! { <option value=c.slug selected=selected>{c.name}</option> }
                        })
                        .collect_view()}
                </select>
                <p class="field-error" id="field-category-error" aria-live="polite">{move || category_error.get()}</p>
            </div>
            <TitleField initial=start.draft.title error=field("title") typed=title />
            <SimilarTopics title initial=similar />
            <BodyEditor label="Details" initial=start.draft.body preview_html=start.draft.preview_html error=field("body") />
            {(!signed_in).then(|| view! { <p class="hint">"You'll be asked to log in when you post. Your text is kept."</p> })}
            <button type="submit" class="button primary" disabled=pending aria-busy=move || pending.get().to_string()>
                {submit_label(pending, "Post topic", "Posting…")}
            </button>
        </ActionForm>
    }
}

/// Existing topics like the title being typed, so a customer finds the answer before asking
/// again. With JavaScript the list follows the title (one request per pause in typing); without
/// it, "Check for similar topics" posts the form, which keeps the text and comes back with the
/// list.
#[component]
fn SimilarTopics(title: RwSignal<String>, initial: Vec<SimilarTopic>) -> impl IntoView {
    let found = RwSignal::new(initial);
    let asked = StoredValue::new(String::new());
    let look = move || {
        let now = title.get_untracked();
        if now.trim() == asked.get_value().trim() {
            return;
        }
        asked.set_value(now.clone());
        leptos::task::spawn_local(async move {
            if let Ok(topics) = similar_topics(now.clone()).await
                // An older answer arriving late does not replace a newer one.
                && asked.get_value() == now
            {
                found.set(topics);
            }
        });
    };
    let edits = StoredValue::new(0u64);
    Effect::new(move |previous: Option<()>| {
        title.track();
        if previous.is_none() {
            return;
        }
        edits.update_value(|n| *n += 1);
        let this_edit = edits.get_value();
        set_timeout(
            move || {
                if edits.get_value() == this_edit {
                    look();
                }
            },
            Duration::from_millis(350),
        );
    });
    let on_check = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        look();
    };
    view! {
        <div class="similar-check">
            <button type="submit" name="similar" value="1" class="button subtle" formnovalidate=true on:click=on_check>
                "Check for similar topics"
            </button>
        </div>
        <section id="similar-topics" class="similar-topics" aria-live="polite" aria-label="Similar topics"
            class:empty=move || found.read().is_empty()>
            <Show when=move || !found.read().is_empty()>
                <h2>"Similar topics: is your question already answered?"</h2>
                <ul>
                    <For each=move || found.get() key=|t| t.url.clone() let:t>
                        <li>
                            <a href=t.url.clone()>{t.title.clone()}</a>
                            <StatusTag status=t.status.clone() confirmed=t.resolution_confirmed />
                            {t.staff_answered.then(|| view! { <span class="tag staff-answered-tag">"Staff replied"</span> })}
                            <span class="muted">{match t.reply_count { 0 => " · no replies yet".to_string(), 1 => " · 1 reply".to_string(), n => format!(" · {n} replies") }}</span>
                        </li>
                    </For>
                </ul>
            </Show>
        </section>
    }
}

/// The title input, keeping what was typed (Field is for empty inputs).
#[component]
pub fn TitleField(
    initial: String,
    #[prop(into)] error: Signal<Option<String>>,
    /// Follows what is typed, for a form that reacts to the title.
    #[prop(optional)]
    typed: Option<RwSignal<String>>,
) -> impl IntoView {
    let on_input = move |ev: leptos::ev::Event| {
        if let Some(typed) = typed {
            typed.set(event_target_value(&ev));
        }
    };
    view! {
        <div class="field" class:has-error=move || error.read().is_some()>
            <label for="field-title">"Title"</label>
            <input
                id="field-title"
                name="title"
                type="text"
                value=initial
                maxlength="300"
                on:input=on_input
                aria-describedby="field-title-error"
                aria-invalid=move || if error.read().is_some() { "true" } else { "false" }
            />
            <p class="field-error" id="field-title-error" aria-live="polite">{move || error.get()}</p>
        </div>
    }
}

#[island]
pub fn EditPostForm(
    post_id: i64,
    source: String,
    preview_html: Option<String>,
    cancel_href: String,
    initial_error: Option<AppError>,
    /// A moderator editing someone else's post: ask for the reason the author will see.
    moderating: bool,
) -> impl IntoView {
    let action = ServerAction::<EditPost>::new();
    let pending = action.pending();
    let ready = hydrated();
    let error = latest_error(action.value(), initial_error);
    view! {
        <ActionForm action attr:class="composer stack" attr:id="composer" attr:novalidate=true attr:data-ready=move || ready.get().to_string()>
            <FormError message=Signal::derive(move || error.get().and_then(|e| e.for_form(&["body"]))) />
            <input type="hidden" name="post_id" value=post_id />
            <BodyEditor
                label="Post"
                initial=source
                preview_html
                error=Signal::derive(move || error.get().and_then(|e| e.for_field("body")))
            />
            {moderating.then(|| view! {
                <div class="field">
                    <label for="field-reason">"Reason (the author sees it)"</label>
                    <input id="field-reason" name="reason" maxlength="1000" />
                </div>
            })}
            <div class="form-actions">
                <button type="submit" class="button primary" disabled=pending aria-busy=move || pending.get().to_string()>
                    {submit_label(pending, "Save edit", "Saving…")}
                </button>
                <a class="button subtle" href=cancel_href>"Cancel"</a>
            </div>
        </ActionForm>
    }
}
