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

/// How a form island sends its form with JavaScript on: one copy of the code for every form
/// island, instead of a typed `ServerAction` (and `ActionForm`) per form, each bringing its own
/// serde_qs parser of the form and its own action machinery into the wasm bundle. The form goes
/// as the browser would send it, urlencoded, to its server function (the form's `action`),
/// asking for a script's answer: an error comes back as an `AppError` shown in place, success
/// as the page to go to. Without JavaScript the same form posts natively.
#[derive(Clone, Copy)]
pub struct FormSend {
    /// True while the form is on its way (the button says so and waits).
    pub pending: RwSignal<bool>,
    /// The latest send's answer, for `latest_error`.
    pub answer: RwSignal<Option<Result<(), AppError>>>,
}

impl FormSend {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        FormSend {
            pending: RwSignal::new(false),
            answer: RwSignal::new(None),
        }
    }

    /// The error to show: the latest send's, else the one the page came back with.
    pub fn error(self, initial: Option<AppError>) -> Signal<Option<AppError>> {
        latest_error(self.answer, initial)
    }

    /// The form's submit handler.
    pub fn on_submit(self) -> impl Fn(leptos::ev::SubmitEvent) + Copy + 'static {
        move |ev| {
            if ev.default_prevented() {
                return;
            }
            ev.prevent_default();
            #[cfg(feature = "hydrate")]
            {
                use leptos::wasm_bindgen::JsCast;
                let Some(form) = ev
                    .target()
                    .and_then(|t| t.dyn_into::<leptos::web_sys::HtmlFormElement>().ok())
                else {
                    return;
                };
                let submitter = ev
                    .submitter()
                    .and_then(|b| b.dyn_into::<leptos::web_sys::HtmlButtonElement>().ok())
                    .filter(|b| !b.name().is_empty())
                    .map(|b| (b.name(), b.value()));
                self.pending.set(true);
                leptos::task::spawn_local(async move {
                    let answer = send(&form, submitter).await;
                    self.answer.set(Some(answer));
                    self.pending.set(false);
                });
            }
        }
    }
}

/// Sends `form` to its server function as a script client (see `FormSend`) and follows a
/// redirect; gives the server function's error otherwise.
#[cfg(feature = "hydrate")]
async fn send(
    form: &leptos::web_sys::HtmlFormElement,
    submitter: Option<(String, String)>,
) -> Result<(), AppError> {
    use leptos::server_fn::{
        client::{Client, browser::BrowserClient},
        error::FromServerFnError,
        request::{ClientReq, browser::BrowserRequest},
        response::{ClientRes, browser::BrowserResponse},
    };
    let unsendable = || AppError::Request("this browser can't send the form.".into());
    let data = leptos::web_sys::FormData::new_with_form(form).map_err(|_| unsendable())?;
    if let Some((name, value)) = submitter {
        let _ = data.append_with_str(&name, &value);
    }
    // The files went as they were picked (POST /uploads): the server function takes the text.
    data.delete("files");
    let body = leptos::web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data)
        .map_err(|_| unsendable())?
        .to_string()
        .as_string()
        .unwrap_or_default();
    let path = form.get_attribute("action").unwrap_or_default();
    let request = <BrowserRequest as ClientReq<AppError>>::try_new_post(
        &path,
        "application/x-www-form-urlencoded",
        "application/json",
        body,
    )?;
    let response = <BrowserClient as Client<AppError>>::send(request).await?;
    if <BrowserResponse as ClientRes<AppError>>::has_redirect(&response) {
        follow(&<BrowserResponse as ClientRes<AppError>>::location(
            &response,
        ));
        return Ok(());
    }
    let status = <BrowserResponse as ClientRes<AppError>>::status(&response);
    if (200..300).contains(&status) {
        return Ok(());
    }
    let bytes = <BrowserResponse as ClientRes<AppError>>::try_into_bytes(response).await?;
    Err(AppError::de(bytes))
}

/// Goes to `target`, the page the server sent the form to (a new post: …#post-N). When that is
/// the page already open, changing only the #fragment would not reload it, so reload explicitly.
#[cfg(feature = "hydrate")]
fn follow(target: &str) {
    let location = window().location();
    let here = format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    );
    let same_page = target.split('#').next() == Some(here.as_str());
    let _ = location.set_href(target);
    if same_page {
        let _ = location.reload();
    }
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
/// place for free text, and a copied URL shows nothing more than this fixed sentence (or, for
/// an action on several items, `bulk_done`'s, whose only variables are two numbers).
pub fn done_message(code: &str) -> Option<String> {
    if let Some(bulk) = code.strip_prefix("bulk.") {
        return bulk_message(bulk);
    }
    Some(
        match code {
            "posted" => "Reply posted.",
            "flagged" => "Flag sent to moderators. Thank you: they will look at it.",
            "answer" => "Marked as the official answer.",
            "unanswer" => "The official answer was removed.",
            "approved" => "The post was approved and is visible.",
            "hidden" => "The post was hidden. Its author sees the reason.",
            "kept_hidden" => "The post stays hidden. Its author sees the reason.",
            "post_deleted" => "The post was deleted.",
            "restored" => "The post was restored.",
            "dismissed" => "The flags on this post were dismissed.",
            "account_deleted" => "The account was deleted.",
            "spammer_removed" => {
                "The spammer was removed: their posts are deleted and they are suspended for good."
            }
            _ => return None,
        }
        .to_string(),
    )
}

/// The `done` code of an action (`approve`, `hide`, ...) taken on `acted` posts of the review
/// queue at once, with `left` of the selected items left as they were.
pub fn bulk_done(action: &str, acted: usize, left: usize) -> String {
    format!("bulk.{action}.{acted}.{left}")
}

/// `bulk_done`'s sentence, from what follows its "bulk.".
fn bulk_message(code: &str) -> Option<String> {
    let mut parts = code.split('.');
    let (Some(action), Some(acted), Some(left), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    // Digits only, written as a number is written (no leading zero), and no more than a
    // selection can hold.
    let number = |s: &str| {
        let plain = s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
        s.parse::<i64>()
            .ok()
            .filter(|n| plain && *n <= crate::model::MOST_SELECTED as i64)
    };
    let acted = number(acted).filter(|n| *n > 0)?;
    let left = number(left)?;
    let posts = crate::format::count(acted, "post", "posts");
    let authors = if acted == 1 {
        "Its author sees the reason."
    } else {
        "Their authors see the reason."
    };
    let mut out = match action {
        "approve" => format!("{posts} approved: public now."),
        "dismiss" => format!("The flags on {posts} were dismissed."),
        "hide" => format!("{posts} hidden. {authors}"),
        "keep_hidden" => format!("{posts} kept hidden. {authors}"),
        "delete" => format!("{posts} deleted."),
        "restore" => format!("{posts} restored."),
        _ => return None,
    };
    if left == 1 {
        out.push_str(
            " 1 selected item was left as it was: another moderator decided it first, or the \
             action does not apply to it.",
        );
    } else if left > 1 {
        out.push_str(&format!(
            " {left} selected items were left as they were: another moderator decided them \
             first, or the action does not apply to them."
        ));
    }
    Some(out)
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

    /// `new`, for a page's only form of its kind (the flag page's, the profile on /account):
    /// it also shows a form the server could not read (`AppError::is_unreadable`), which
    /// carries no form name, since it can only have been this one. Where a page has a form of
    /// the kind for each post, the page's top says it once instead (`StaffError`).
    pub fn sole(error: Option<AppError>, form: &str, fields: &[&str]) -> Self {
        let (readable, unreadable): (Option<AppError>, Option<AppError>) = match error {
            Some(e) if e.is_unreadable() => (None, Some(e)),
            other => (other, None),
        };
        let mut sent = SentForm::new(readable, form, fields);
        if let Some(e) = unreadable {
            sent.form_error = Some(e.to_string());
            sent.error = Some(e);
        }
        sent
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A bulk action's sentence says its numbers and nothing else from the address: any other
    /// shape of code (a word where a number goes, a number too large, a part more or fewer, an
    /// action that is not one) says nothing.
    #[test]
    fn a_bulk_action_says_its_counts_and_only_they_come_from_the_address() {
        assert_eq!(
            done_message(&bulk_done("hide", 1, 0)).as_deref(),
            Some("1 post hidden. Its author sees the reason.")
        );
        assert_eq!(
            done_message(&bulk_done("delete", 3, 2)).as_deref(),
            Some(
                "3 posts deleted. 2 selected items were left as they were: another moderator \
                 decided them first, or the action does not apply to them."
            )
        );
        assert_eq!(
            done_message(&bulk_done("dismiss", 2, 1)).as_deref(),
            Some(
                "The flags on 2 posts were dismissed. 1 selected item was left as it was: \
                 another moderator decided it first, or the action does not apply to it."
            )
        );
        for code in [
            "bulk.hide.<script>.1",
            "bulk.hide.0.1",
            "bulk.hide.-1.0",
            "bulk.hide.1.-1",
            "bulk.hide.99999999999999999999.0",
            "bulk.hide.1",
            "bulk.hide.1.0.0",
            "bulk.steal.1.0",
            "bulk..1.0",
            "bulk.hide.1.0%0a",
            "bulk.hide.+1.0",
            "bulk.hide.201.0",
            "bulk.hide.1.201",
            "bulk.hide.9999999.0",
            "bulk.hide.0001.0",
            "bulk.hide.1.00",
            "bulk.hide..0",
        ] {
            assert_eq!(done_message(code), None, "{code}");
        }
        assert_eq!(done_message("posted").as_deref(), Some("Reply posted."));
    }
}
