use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::auth::ChangePassword,
    components::form::{Field, FormError, error_from_url},
    context::CurrentUser,
};

const FIELDS: [&str; 2] = ["current_password", "new_password"];

/// /account: the member's own settings. Changing the password ends every other session.
#[component]
pub fn AccountPage() -> impl IntoView {
    let changed = use_query_map().read_untracked().get("changed").is_some();
    let error = error_from_url::<ChangePassword>();
    let field = |name: &str| error.as_ref().and_then(|e| e.for_field(name));
    let (current_error, new_error) = (field("current_password"), field("new_password"));
    let form_error = error.as_ref().and_then(|e| e.for_form(&FIELDS));
    let me = expect_context::<CurrentUser>().0;
    view! {
        <Title text="Your account" />
        <section class="auth-card">
            <h1>"Your account"</h1>
            <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(user)) => view! {
                            <p class="muted">"Signed in as " <strong>{user.username}</strong></p>
                        }.into_any(),
                        _ => view! {
                            <p class="notice">"Log in first to change your account."</p>
                            <p><a class="button primary" href="/login?next=/account">"Log in"</a></p>
                        }.into_any(),
                    }
                })}
            </Suspense>
            <h2>"Change your password"</h2>
            {changed.then(|| view! {
                <p class="notice" role="status">"Your password was changed. Every other browser signed in to your account has been logged out."</p>
            })}
            <form method="post" action=ChangePassword::url() class="stack">
                <FormError message=Signal::stored(form_error) />
                <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" error=Signal::stored(current_error) />
                <Field label="New password" name="new_password" kind="password" autocomplete="new-password" hint="At least 10 characters, not a common password. Other browsers signed in to your account will be logged out." error=Signal::stored(new_error) />
                <button type="submit" class="button primary">"Change password"</button>
            </form>
        </section>
    }
}
