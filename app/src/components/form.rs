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
