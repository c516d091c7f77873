//! Writing posts: the Markdown editor with its preview, and the three forms that use it (reply,
//! new topic, edit). Each form is an island: without JavaScript it posts natively and "Preview"
//! round-trips through the server; with it, errors update in place and the preview is live.
//!
//! What keeps the islands small (the bundle's limit is in scripts/lib.sh): no `ActionForm`,
//! `<Show>` or `.into_any()` in an island. Each erases a view into an `AnyView`, which brings
//! every way of rendering it into the wasm, async hydration included (never used by islands):
//! they were a fifth of the bundle. A closure giving an `Option`, or `Either`, does the same.
//! Forms are sent by `form::FormSend`, one copy for every form island.
use std::time::Duration;

use leptos::{either::EitherOf3, prelude::*, server_fn::ServerFn};

use super::form::{FormError, FormSend, hydrated};
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
    /// Set while files are still being sent, so the form's button waits for them (a post sent
    /// meanwhile would go without them).
    #[prop(optional)]
    uploading: Option<RwSignal<bool>>,
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
    let uploads = RwSignal::new(Vec::<UploadJob>::new());
    if let Some(uploading) = uploading {
        Effect::new(move |_| {
            let busy = uploads.with(|jobs| jobs.iter().any(|j| j.error.is_none()));
            uploading.set(busy);
        });
    }
    // A file dropped on the text or a screenshot pasted into it is uploaded like a picked one.
    let on_drop = move |ev: leptos::ev::DragEvent| {
        let files = ev.data_transfer().and_then(|d| d.files());
        if files.as_ref().is_some_and(|f| f.length() > 0) {
            ev.prevent_default();
            start_uploads(files, body, uploads, refresh);
        }
    };
    let on_dragover = move |ev: leptos::ev::DragEvent| {
        if ev
            .data_transfer()
            .is_some_and(|d| d.types().includes(&"Files".into(), 0))
        {
            ev.prevent_default();
        }
    };
    let on_paste = move |ev: leptos::ev::ClipboardEvent| {
        let files = ev.clipboard_data().and_then(|d| d.files());
        if files.as_ref().is_some_and(|f| f.length() > 0) {
            ev.prevent_default();
            start_uploads(files, body, uploads, refresh);
        }
    };
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
                on:drop=on_drop
                on:dragover=on_dragover
                on:paste=on_paste
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
            <Attachments body uploads refresh />
            // A closure, not <Show>: Show's children become an AnyView (see the module comment).
            {move || preview.get().map(|html| view! {
                <section class="preview" aria-label="Preview">
                    <h3 class="preview-label">"Preview"</h3>
                    <div class="post-body" inner_html=html></div>
                </section>
            })}
        </div>
    }
}

/// One file being uploaded from the composer, or refused.
#[derive(Clone, Debug, PartialEq)]
pub struct UploadJob {
    id: u32,
    name: String,
    /// 0 to 100 while sending; `None` once the server has it and is processing.
    percent: Option<u32>,
    error: Option<String>,
}

/// What the file field takes (the server decides from the bytes; this only narrows the picker).
const ACCEPT: &str = "image/png,image/jpeg,image/gif,image/webp,.pdf,.txt,.log,.zip";

/// Attaching files: a file field (several at once). Without JavaScript the files go with the
/// form: "Upload" brings the editor back with their Markdown added and a preview, and posting
/// takes them too. With it, each file is sent as soon as it is picked (or dropped, or pasted),
/// with its progress, and its Markdown goes in at the cursor.
#[component]
fn Attachments(
    body: RwSignal<String>,
    uploads: RwSignal<Vec<UploadJob>>,
    refresh: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let ready = hydrated();
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast;
            if let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::HtmlInputElement>().ok())
            {
                start_uploads(input.files(), body, uploads, refresh);
                // Sent already: the form must not send them again when it posts.
                input.set_value("");
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, body, refresh);
    };
    let dismiss = move |id: u32| uploads.update(|jobs| jobs.retain(|j| j.id != id));
    view! {
        <div class="attachments">
            <label for="field-files">"Attach files"</label>
            <div class="attach-row">
                <input id="field-files" type="file" name="files" multiple accept=ACCEPT
                    aria-describedby="field-files-hint" on:change=on_change />
                <button type="submit" name="attach" value="1" class="button subtle" hidden=move || ready.get()>
                    "Upload"
                </button>
            </div>
            <p class="hint" id="field-files-hint">
                "Screenshots and photos (PNG, JPEG, GIF, WebP), or PDF, text, log and zip files. "
                <span hidden=move || !ready.get()>"You can also drop files on the text or paste a screenshot into it."</span>
            </p>
            <ul class="upload-list" aria-live="polite">
                <For each=move || uploads.get() key=|j| (j.id, j.percent, j.error.clone()) let:job>
                    {
                        let id = job.id;
                        match (job.error, job.percent) {
                            (Some(why), _) => EitherOf3::A(view! {
                                <li class="upload-failed">
                                    <span class="field-error">{why}</span>
                                    " "
                                    <button type="button" class="link-button" on:click=move |_| dismiss(id)>"Dismiss"</button>
                                </li>
                            }),
                            (None, Some(percent)) => EitherOf3::B(view! {
                                <li>
                                    <span>{format!("Uploading {}… {percent} %", job.name)}</span>
                                    <progress max="100" value=percent.to_string()>{format!("{percent} %")}</progress>
                                </li>
                            }),
                            (None, None) => EitherOf3::C(view! {
                                <li><span>{format!("Processing {}…", job.name)}</span></li>
                            }),
                        }
                    }
                </For>
            </ul>
        </div>
    }
}

/// Sends each file to POST /uploads (one request each, with progress), then puts its Markdown
/// in the text at the cursor and refreshes the preview. A refusal is shown, with why; the text
/// is never touched by a failure.
#[allow(unused_variables)]
fn start_uploads(
    files: Option<leptos::web_sys::FileList>,
    body: RwSignal<String>,
    uploads: RwSignal<Vec<UploadJob>>,
    refresh: impl Fn() + Copy + Send + Sync + 'static,
) {
    #[cfg(feature = "hydrate")]
    {
        let Some(files) = files else { return };
        for i in 0..files.length() {
            if let Some(file) = files.get(i) {
                upload_one(file, body, uploads, refresh);
            }
        }
    }
}

#[cfg(feature = "hydrate")]
fn upload_one(
    file: leptos::web_sys::File,
    body: RwSignal<String>,
    uploads: RwSignal<Vec<UploadJob>>,
    refresh: impl Fn() + Copy + Send + Sync + 'static,
) {
    use leptos::wasm_bindgen::{JsCast, closure::Closure};
    use leptos::web_sys;
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = file.name();
    uploads.update(|jobs| {
        jobs.push(UploadJob {
            id,
            name: name.clone(),
            percent: Some(0),
            error: None,
        })
    });
    let set = move |percent: Option<u32>, error: Option<String>| {
        uploads.update(|jobs| {
            if let Some(j) = jobs.iter_mut().find(|j| j.id == id) {
                j.percent = percent;
                j.error = error;
            }
        })
    };
    let failed = {
        let name = std::rc::Rc::<str>::from(name.as_str());
        move |why: String| set(None, Some(format!("{name}: {why}")))
    };
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
        return failed("this browser can't upload files.".into());
    };
    let form = match web_sys::FormData::new() {
        Ok(f) => f,
        Err(_) => return failed("this browser can't upload files.".into()),
    };
    if form
        .append_with_blob_and_filename("file", &file, &file.name())
        .is_err()
        || xhr.open("POST", "/uploads").is_err()
    {
        return failed("this browser can't upload files.".into());
    }
    let _ = xhr.set_request_header("Accept", "application/json");
    let progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            if e.length_computable() && e.total() > 0.0 {
                let percent = (e.loaded() / e.total() * 100.0).round() as u32;
                // All sent: the server is decoding and storing it.
                set(if percent >= 100 { None } else { Some(percent) }, None);
            }
        });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    }
    let answered = xhr.clone();
    let on_answer = failed.clone();
    let onload = Closure::<dyn FnMut()>::new(move || {
        let failed = on_answer.clone();
        let text = answered.response_text().ok().flatten().unwrap_or_default();
        let answer: crate::model::UploadAnswer = serde_json::from_str(&text).unwrap_or_default();
        for done in &answer.uploaded {
            insert_at_cursor(body, &done.markdown);
        }
        if !answer.uploaded.is_empty() {
            refresh();
        }
        match answer.error {
            Some(why) => failed(why),
            None if answer.uploaded.is_empty() => failed(format!(
                "the upload failed (the server answered {}). Your text is kept; try again.",
                answered.status().unwrap_or(0)
            )),
            None => uploads.update(|jobs| jobs.retain(|j| j.id != id)),
        }
    });
    xhr.set_onload(Some(onload.as_ref().unchecked_ref()));
    let on_error = failed.clone();
    let onerror = Closure::<dyn FnMut()>::new(move || {
        let failed = on_error.clone();
        failed("the upload failed: the connection broke. Your text is kept; try again.".into())
    });
    xhr.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    if xhr.send_with_opt_form_data(Some(&form)).is_err() {
        return failed("the upload could not start. Your text is kept; try again.".into());
    }
    // The handlers live as long as the request; a few bytes per upload.
    progress.forget();
    onload.forget();
    onerror.forget();
}

/// Puts `markdown` in the text at the cursor of the editor (or at the end), on lines of its own.
#[cfg(feature = "hydrate")]
fn insert_at_cursor(body: RwSignal<String>, markdown: &str) {
    use leptos::wasm_bindgen::JsCast;
    let area = document()
        .get_element_by_id("field-body")
        .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlTextAreaElement>().ok());
    let text = body.get_untracked();
    // The selection is counted in UTF-16 code units; the text is UTF-8.
    let at = area
        .as_ref()
        .and_then(|a| a.selection_end().ok().flatten())
        .map(|units| {
            let mut seen = 0u32;
            text.char_indices()
                .find(|(_, c)| {
                    let before = seen;
                    seen += c.len_utf16() as u32;
                    before >= units
                })
                .map_or(text.len(), |(i, _)| i)
        })
        .unwrap_or(text.len());
    let (before, after) = text.split_at(at);
    let lead = if before.is_empty() || before.ends_with("\n\n") {
        ""
    } else if before.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    };
    let trail = if after.starts_with('\n') {
        "\n"
    } else {
        "\n\n"
    };
    let inserted = format!("{lead}{markdown}{trail}");
    let new_text = format!("{before}{inserted}{after}");
    let cursor = (before.encode_utf16().count() + inserted.encode_utf16().count()) as u32;
    body.set(new_text);
    if let Some(area) = area {
        area.set_value(&body.get_untracked());
        let _ = area.set_selection_range(cursor, cursor);
    }
}

fn submit_label(
    pending: RwSignal<bool>,
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
    let send = FormSend::new();
    let (heading, label, idle) = if comment {
        ("Leave a comment", "Your comment", "Post comment")
    } else {
        ("Reply", "Your reply", "Post reply")
    };
    let pending = send.pending;
    let ready = hydrated();
    let error = send.error(initial_error);
    let body = RwSignal::new(start.draft.body.clone());
    let uploading = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    quote_into(body);
    view! {
        <form method="post" action=CreateReply::url() class="composer stack" id="composer" enctype="multipart/form-data" novalidate data-ready=move || ready.get().to_string() on:submit=send.on_submit()>
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
                uploading
            />
            {(!signed_in).then(|| view! { <p class="hint">"You'll be asked to log in when you post. Your text is kept."</p> })}
            <button type="submit" class="button primary" disabled=move || pending.get() || uploading.get() aria-busy=move || pending.get().to_string()>
                {submit_label(pending, idle, "Posting…")}
            </button>
        </form>
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
    let send = FormSend::new();
    let title = RwSignal::new(start.draft.title.clone());
    let uploading = RwSignal::new(false);
    let pending = send.pending;
    let ready = hydrated();
    let error = send.error(initial_error);
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
        <form method="post" action=StartTopic::url() class="composer stack" id="composer" enctype="multipart/form-data" novalidate data-ready=move || ready.get().to_string() on:submit=send.on_submit()>
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
            <BodyEditor label="Details" initial=start.draft.body preview_html=start.draft.preview_html error=field("body") uploading />
            {(!signed_in).then(|| view! { <p class="hint">"You'll be asked to log in when you post. Your text is kept."</p> })}
            <button type="submit" class="button primary" disabled=move || pending.get() || uploading.get() aria-busy=move || pending.get().to_string()>
                {submit_label(pending, "Post topic", "Posting…")}
            </button>
        </form>
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
            {move || (!found.read().is_empty()).then(|| view! {
                <h2>"Similar topics: is your question already answered?"</h2>
                <ul>
                    <For each=move || found.get() key=|t| t.url.clone() let:t>
                        <li>
                            <a href=t.url.clone()>{t.title.clone()}</a>
                            <StatusTag status=t.status.clone() confirmed=t.resolution_confirmed />
                            {t.staff_answered.then(|| view! { <span class="tag staff-answered-tag"><super::staff::RepliedIcon />"Staff replied"</span> })}
                            <span class="muted">{match t.reply_count { 0 => " · no replies yet".to_string(), n => format!(" · {}", crate::format::count(n as i64, "reply", "replies")) }}</span>
                        </li>
                    </For>
                </ul>
            })}
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
    let send = FormSend::new();
    let uploading = RwSignal::new(false);
    let pending = send.pending;
    let ready = hydrated();
    let error = send.error(initial_error);
    view! {
        <form method="post" action=EditPost::url() class="composer stack" id="composer" enctype="multipart/form-data" novalidate data-ready=move || ready.get().to_string() on:submit=send.on_submit()>
            <FormError message=Signal::derive(move || error.get().and_then(|e| e.for_form(&["body"]))) />
            <input type="hidden" name="post_id" value=post_id />
            <BodyEditor
                label="Post"
                initial=source
                preview_html
                error=Signal::derive(move || error.get().and_then(|e| e.for_field("body")))
                uploading
            />
            {moderating.then(|| view! {
                <div class="field">
                    <label for="field-reason">"Reason (the author sees it)"</label>
                    <input id="field-reason" name="reason" maxlength="1000" />
                </div>
            })}
            <div class="form-actions">
                <button type="submit" class="button primary" disabled=move || pending.get() || uploading.get() aria-busy=move || pending.get().to_string()>
                    {submit_label(pending, "Save edit", "Saving…")}
                </button>
                <a class="button subtle" href=cancel_href>"Cancel"</a>
            </div>
        </form>
    }
}
