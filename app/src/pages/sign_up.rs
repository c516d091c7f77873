use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{
        auth::{SignUp, get_signup_mode},
        safe_next,
    },
    components::form::{Field, FormError, error_from_url, fresh_form_token},
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
    let mode = OnceResource::new(get_signup_mode());
    view! {
        <Title text="Sign up" />
        <section class="auth-card">
            <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
                {move || {
                    let (form_token, next, initial_error, login_href) = (form_token.clone(), next.clone(), initial_error.clone(), login_href.clone());
                    Suspend::new(async move {
                        // Closed: no form to fill in for nothing, only why and the way in.
                        if mode.await.is_ok_and(|m| m == "closed") {
                            return view! {
                                <h1>"Sign-ups are closed"</h1>
                                <p>"This community is not taking new members at the moment. If you already have an account, you can log in."</p>
                                <p><a class="button primary" href=login_href>"Log in"</a></p>
                            }
                            .into_any();
                        }
                        view! {
                            <h1>"Create your account"</h1>
                            {pending.then(|| view! {
                                <p class="notice" role="status">"Thanks for signing up! An admin approves new accounts here; you can log in once yours is approved."</p>
                            })}
                            <p class="muted">"Already have one? " <a href=login_href>"Log in"</a></p>
                            <SignUpForm form_token next initial_error />
                        }
                        .into_any()
                    })
                }}
            </Suspense>
        </section>
    }
}

/// A plain form, not an island: a refusal comes back here with every field's error and the
/// typed name and e-mail (`initial_error`; the password never comes back), with or without
/// JavaScript.
#[component]
fn SignUpForm(form_token: String, next: String, initial_error: Option<AppError>) -> impl IntoView {
    let field = |name: &str| initial_error.as_ref().and_then(|e| e.for_field(name));
    let typed = |name: &str| initial_error.as_ref().and_then(|e| e.kept(name));
    let (typed_username, typed_email) = (typed("username"), typed("email"));
    let form_error = initial_error.as_ref().and_then(|e| e.for_form(&FIELDS));
    view! {
        <form method="post" action=SignUp::url() class="stack" novalidate>
            <FormError message=form_error />
            <input type="hidden" name="form_token" value=form_token />
            <input type="hidden" name="next" value=next />
            <Field
                label="Username"
                name="username"
                autocomplete="username"
                hint="Up to 32 letters, numbers, dots, dashes or underscores. Shown on your posts."
                maxlength=64
                value=typed_username.unwrap_or_default()
                error=field("username")
            />
            <Field label="E-mail" name="email" kind="email" autocomplete="email" hint="Never shown to anyone." value=typed_email.unwrap_or_default() error=field("email") />
            <Field
                label="Password"
                name="password"
                kind="password"
                autocomplete="new-password"
                hint="At least 10 characters."
                error=field("password")
            />
            <button type="submit" class="button primary">"Create account"</button>
        </form>
    }
}
