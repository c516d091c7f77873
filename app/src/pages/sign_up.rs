use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{auth::SignUp, safe_next},
    components::form::{
        Field, FormError, error_from_url, fresh_form_token, hydrated, latest_error,
    },
    error::AppError,
    paths::encode_query_value,
};

const FIELDS: [&str; 3] = ["username", "email", "password"];

#[component]
pub fn SignUpPage() -> impl IntoView {
    let next = safe_next(use_query_map().read_untracked().get("next").as_deref());
    let pending = use_query_map().read_untracked().get("pending").is_some();
    let initial_error = error_from_url::<SignUp>();
    let form_token = fresh_form_token();
    let login_href = format!("/login?next={}", encode_query_value(&next));
    view! {
        <Title text="Sign up" />
        <section class="auth-card">
            <h1>"Create your account"</h1>
            {pending.then(|| view! {
                <p class="notice" role="status">"Thanks for signing up! An admin approves new accounts here; you can log in once yours is approved."</p>
            })}
            <p class="muted">"Already have one? " <a href=login_href>"Log in"</a></p>
            <SignUpForm form_token next initial_error />
        </section>
    }
}

#[island]
fn SignUpForm(form_token: String, next: String, initial_error: Option<AppError>) -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let pending = action.pending();
    let ready = hydrated();
    let error = latest_error(action.value(), initial_error);
    let field = move |name: &'static str| {
        Signal::derive(move || error.get().and_then(|e| e.for_field(name)))
    };
    view! {
        <ActionForm action attr:class="stack" attr:novalidate=true attr:data-ready=move || ready.get().to_string()>
            <FormError message=Signal::derive(move || error.get().and_then(|e| e.for_form(&FIELDS))) />
            <input type="hidden" name="form_token" value=form_token />
            <input type="hidden" name="next" value=next />
            <Field
                label="Username"
                name="username"
                autocomplete="username"
                hint="Up to 32 letters, numbers, dots, dashes or underscores. Shown on your posts."
                maxlength=64
                error=field("username")
            />
            <Field label="E-mail" name="email" kind="email" autocomplete="email" hint="Never shown to anyone." error=field("email") />
            <Field
                label="Password"
                name="password"
                kind="password"
                autocomplete="new-password"
                hint="At least 10 characters."
                error=field("password")
            />
            <button type="submit" class="button primary" disabled=pending aria-busy=move || pending.get().to_string()>
                {move || if pending.get() { "Creating your account…" } else { "Create account" }}
            </button>
        </ActionForm>
    }
}
