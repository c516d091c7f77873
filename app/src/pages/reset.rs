use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::auth::{RESET_LINK_BAD, RESET_SENT, RequestReset, ResetPassword, reset_link_valid},
    components::form::{Field, FormError, error_from_url},
};

/// /reset: ask for a link to choose a new password. The page says the same thing afterwards
/// whether or not the name or address is an account's.
#[component]
pub fn ResetRequestPage() -> impl IntoView {
    let sent = use_query_map().read_untracked().get("sent").is_some();
    view! {
        <Title text="Reset your password" />
        <section class="auth-card">
            <h1>"Reset your password"</h1>
            {if sent {
                view! { <p class="notice" role="status">{RESET_SENT}</p> }.into_any()
            } else {
                view! { <p class="muted">"Enter your username or e-mail address and we'll e-mail you a link to choose a new password."</p> }.into_any()
            }}
            <RequestForm />
            <p class="muted"><a href="/login">"Back to log in"</a></p>
        </section>
    }
}

#[component]
fn RequestForm() -> impl IntoView {
    view! {
        <form method="post" action=RequestReset::url() class="stack">
            <Field label="Username or e-mail" name="login" autocomplete="username" error=Signal::stored(None::<String>) />
            <button type="submit" class="button primary">"Send me a link"</button>
        </form>
    }
}

/// /reset/:token: choose a new password through an e-mailed link.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let token = use_params_map()
        .read_untracked()
        .get("token")
        .unwrap_or_default();
    let error = error_from_url::<ResetPassword>();
    let new_error = error.as_ref().and_then(|e| e.for_field("new_password"));
    let form_error = error.as_ref().and_then(|e| e.for_form(&["new_password"]));
    let valid = OnceResource::new(reset_link_valid(token.clone()));
    view! {
        <Title text="Choose a new password" />
        <section class="auth-card">
            <h1>"Choose a new password"</h1>
            <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Checking the link…"</p> }>
                {move || {
                    let (token, new_error, form_error) = (token.clone(), new_error.clone(), form_error.clone());
                    Suspend::new(async move {
                        if valid.await.unwrap_or(false) {
                            view! {
                                <form method="post" action=ResetPassword::url() class="stack">
                                    <FormError message=Signal::stored(form_error) />
                                    <input type="hidden" name="token" value=token />
                                    <Field label="New password" name="new_password" kind="password" autocomplete="new-password" hint="At least 10 characters, not a common password. You'll be logged out everywhere and can log in with it at once." error=Signal::stored(new_error) />
                                    <button type="submit" class="button primary">"Set new password"</button>
                                </form>
                            }.into_any()
                        } else {
                            view! {
                                <p class="form-error" role="alert">{RESET_LINK_BAD}</p>
                                <RequestForm />
                            }.into_any()
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}
