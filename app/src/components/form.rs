//! Form pieces shared by every form: labelled fields with their error next to them, the
//! form-level error, and how an error reaches a form when JavaScript is off.
use leptos::{
    prelude::*,
    server::ServerActionError,
    server_fn::{ServerFn, error::ServerFnUrlError},
};

use crate::error::AppError;

/// A labelled input with an optional hint and the error for this field right under it.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] maxlength: Option<u32>,
    /// What the field holds when the page opens (a stored value, or what was typed before).
    #[prop(optional, into)]
    value: Option<String>,
    /// Not required: the form works with it left empty.
    #[prop(optional)]
    optional: bool,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described_by = if hint.is_empty() {
        error_id.clone()
    } else {
        format!("{hint_id} {error_id}")
    };
    view! {
        <div class="field" class:has-error=move || error.read().is_some()>
            <label for=id.clone()>{label}</label>
            {(!hint.is_empty()).then(|| view! { <p class="hint" id=hint_id>{hint}</p> })}
            <input
                id=id
                type=kind
                name=name
                autocomplete=autocomplete
                maxlength=maxlength
                value=value
                required=!optional
                aria-describedby=described_by
                aria-invalid=move || if error.read().is_some() { "true" } else { "false" }
            />
            <p class="field-error" id=error_id aria-live="polite">{move || error.get()}</p>
        </div>
    }
}

/// The error about the form as a whole (or one no field shows), above the fields.
#[component]
pub fn FormError(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <div class="form-error" role="alert" aria-live="assertive" class:empty=move || message.read().is_none()>
            {move || message.get()}
        </div>
    }
}

/// The error a server function left in the URL after a plain (no-JavaScript) form post, when
/// it is this form's. Pages pass it into their form island, so the server render and the
/// browser's hydration start from the same state.
pub fn error_from_url<S: ServerFn<Error = AppError>>() -> Option<AppError> {
    error_from_url_of(&[S::PATH])
}

/// The same, for a page whose several forms post to the server functions at `paths`.
pub fn error_from_url_of(paths: &[&str]) -> Option<AppError> {
    use_context::<ServerActionError>()
        .filter(|e| paths.contains(&e.path()))
        .map(|e| ServerFnUrlError::<AppError>::decode_err(e.err()))
}

/// A fresh one-shot token for a form that writes. Only server components call this (islands
/// get it as a prop), so the browser build never needs a random source.
pub fn fresh_form_token() -> String {
    #[cfg(feature = "ssr")]
    {
        crate::server::auth::random_token()
    }
    #[cfg(not(feature = "ssr"))]
    {
        String::new()
    }
}

/// False in the server render, true once the island has hydrated in the browser. Forms expose it
/// as `data-ready`, which tells a person's tools (and the browser tests) that the enhanced form
/// is live.
pub fn hydrated() -> Signal<bool> {
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| set_ready.set(true));
    ready.into()
}

/// The error to show: the latest submission's, else the one the page came back with.
pub fn latest_error<T: 'static>(
    value: impl Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
    initial: Option<AppError>,
) -> Signal<Option<AppError>> {
    Signal::derive(move || match value.get() {
        Some(Err(e)) => Some(e),
        Some(Ok(_)) => None,
        None => initial.clone(),
    })
}

/// What `?done=CODE` says after an action. Only known codes have a message: the URL is not a
/// place for free text, and a copied URL shows nothing more than this fixed sentence.
pub fn done_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "posted" => "Reply posted.",
        "flagged" => "Flag sent to moderators. Thank you: they will look at it.",
        "answer" => "Marked as the official answer.",
        "unanswer" => "The official answer was removed.",
        "approved" => "The post was approved and is visible.",
        "hidden" => "The post was hidden. Its author sees the reason.",
        "post_deleted" => "The post was deleted.",
        "restored" => "The post was restored.",
        "dismissed" => "The flags on this post were dismissed.",
        "account_deleted" => "The account was deleted.",
        "spammer_removed" => {
            "The spammer was removed: their posts are deleted and they are suspended for good."
        }
        _ => return None,
    })
}

/// The page's query string with `done` and `post` set (any earlier ones dropped), `path` being
/// a local path with or without a query. How every action says what it did after a plain
/// form's redirect.
pub fn with_done(path: &str, done: &str, post: Option<i64>) -> String {
    let mut out = without_done(path);
    out.push(if out.contains('?') { '&' } else { '?' });
    out.push_str(&format!("done={done}"));
    if let Some(id) = post {
        out.push_str(&format!("&post={id}"));
    }
    out
}

/// `path` without an earlier action's `done` and `post`: a failed action says nothing was done.
pub fn without_done(path: &str) -> String {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| {
            let key = kv.split('=').next().unwrap_or("");
            !kv.is_empty() && key != "done" && key != "post"
        })
        .collect();
    if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// The confirmation of the last action, in a polite live region: after a plain form's
/// redirect (`?done=CODE`, and `&post=ID` when it was about one post: then only `for_post`
/// equal to it shows it, beside that post). With JavaScript, /forms.js moves focus here, so
/// a screen reader reads it and the keyboard starts from the result. The region is there
/// (empty, so hidden) on every page that has one, so an announcement is never its first content.
#[component]
pub fn Status(
    #[prop(optional)] for_post: Option<i64>,
    /// A page listing posts without their cards (the review queue): says what was done to
    /// any post.
    #[prop(optional)]
    any_post: bool,
) -> impl IntoView {
    let query = leptos_router::hooks::use_query_map().get_untracked();
    let post: Option<i64> = query.get("post").and_then(|v| v.parse().ok());
    let message = query
        .get("done")
        .as_deref()
        .and_then(done_message)
        .filter(|_| any_post || post == for_post);
    let shown = message.is_some();
    // One region a page, always there; a post's only when it has something to say (a page of
    // 30 posts needs no 30 empty regions).
    if for_post.is_some() && !shown {
        return None;
    }
    let id = for_post.map_or_else(|| "status".to_string(), |p| format!("status-post-{p}"));
    Some(view! {
        <p id=id class="status-message" role="status" aria-live="polite" tabindex="-1" data-status=shown.then_some("done")>
            {message}
        </p>
    })
}

/// A form's own error (one not about a field), under the form's heading. For forms of which a
/// page has several (one per post), `error` is already this form's (see `AppError::in_form`).
#[component]
pub fn InlineError(message: Option<String>, id: String) -> impl IntoView {
    view! {
        <p class="field-error form-level" id=id role="alert">{message}</p>
    }
}

/// A form of which a page has several (one per post, say), as a plain post left it: its error
/// when the error was this form's (`AppError::in_form`), and what was chosen in it. Forms of
/// one page share a server function, so the error's form name tells them apart; no other form
/// shows it, and neither does the page's top.
pub struct SentForm {
    error: Option<AppError>,
    /// The error not about one of the form's fields, for the top of the form.
    pub form_error: Option<String>,
}

impl SentForm {
    pub fn new(error: Option<AppError>, form: &str, fields: &[&str]) -> Self {
        let error = error.filter(|e| !form.is_empty() && e.is_for_form(form));
        let form_error = error.as_ref().and_then(|e| e.for_form(fields));
        SentForm { error, form_error }
    }

    /// Whether this form came back with an error (then it is shown open).
    pub fn is_some(&self) -> bool {
        self.error.is_some()
    }

    pub fn field(&self, name: &str) -> Option<String> {
        self.error.as_ref().and_then(|e| e.for_field(name))
    }

    pub fn invalid(&self, name: &str) -> &'static str {
        if self.field(name).is_some() {
            "true"
        } else {
            "false"
        }
    }

    pub fn kept(&self, name: &str) -> Option<String> {
        self.error.as_ref().and_then(|e| e.kept(name))
    }
}
