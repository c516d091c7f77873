use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{auth::LogIn, safe_next},
    components::form::{Field, FormError, error_from_url},
    error::AppError,
    paths::encode_query_value,
};

const FIELDS: [&str; 2] = ["login", "password"];

#[component]
pub fn LogInPage() -> impl IntoView {
    let next = safe_next(use_query_map().read_untracked().get("next").as_deref());
    let initial_error = error_from_url::<LogIn>();
    let signup_href = format!("/signup?next={}", encode_query_value(&next));
    // Sent here by posting while signed out: say why, and that nothing was lost.
    let from_composer = next.ends_with("#composer");
    let after_reset = use_query_map().read_untracked().get("reset").is_some();
    view! {
        <Title text="Log in" />
        <section class="auth-card">
            <h1>"Log in"</h1>
            {from_composer
                .then(|| view! { <p class="notice">"Log in to post. What you wrote is kept, and you'll go straight back to it."</p> })}
            {after_reset
                .then(|| view! { <p class="notice" role="status">"Your password was changed and you were logged out everywhere. Log in with the new one."</p> })}
            <p class="muted">"New here? " <a href=signup_href>"Create an account"</a></p>
            <LogInForm next initial_error />
            <p class="muted"><a href="/reset">"Forgot your password?"</a></p>
        </section>
    }
}

/// A plain form, not an island: the server answers a refusal by sending the browser back here
/// with the error and the typed name (`initial_error`), with or without JavaScript, and
/// public/forms.js puts the focus on the field to fix.
#[component]
fn LogInForm(next: String, initial_error: Option<AppError>) -> impl IntoView {
    let typed_login = initial_error.as_ref().and_then(|e| e.kept("login"));
    let field = |name: &str| initial_error.as_ref().and_then(|e| e.for_field(name));
    let (login_error, password_error) = (field("login"), field("password"));
    let form_error = initial_error.as_ref().and_then(|e| e.for_form(&FIELDS));
    view! {
        <form method="post" action=LogIn::url() class="stack" novalidate>
            <FormError message=form_error />
            <input type="hidden" name="next" value=next />
            <Field label="Username or e-mail" name="login" autocomplete="username" value=typed_login.unwrap_or_default() error=login_error />
            <Field label="Password" name="password" kind="password" autocomplete="current-password" error=password_error />
            <button type="submit" class="button primary">"Log in"</button>
        </form>
    }
}
