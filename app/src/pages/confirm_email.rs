use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    api::account::{ConfirmEmail, confirm_link_valid},
    components::form::{FormError, error_from_url},
    messages::CONFIRM_LINK_BAD,
};

/// /confirm-email/:token: the link a confirmation e-mail carries. Opening it only asks (mail
/// systems open links to scan them); the button confirms.
#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let token = use_params_map()
        .read_untracked()
        .get("token")
        .unwrap_or_default();
    let form_error = error_from_url::<ConfirmEmail>().map(|e| e.to_string());
    let valid = OnceResource::new(confirm_link_valid(token.clone()));
    view! {
        <Title text="Confirm your e-mail address" />
        <section class="auth-card">
            <h1>"Confirm your e-mail address"</h1>
            <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Checking the link…"</p> }>
                {move || {
                    let (token, form_error) = (token.clone(), form_error.clone());
                    Suspend::new(async move {
                        if valid.await.unwrap_or(false) {
                            view! {
                                <form method="post" action=ConfirmEmail::url() class="stack">
                                    <FormError message=Signal::stored(form_error) />
                                    <input type="hidden" name="token" value=token />
                                    <p>"Confirm that this address is yours, and e-mails from this site can go to it."</p>
                                    <button type="submit" class="button primary">"Confirm my address"</button>
                                </form>
                            }.into_any()
                        } else {
                            view! {
                                <p class="form-error" role="alert">{form_error.unwrap_or_else(|| CONFIRM_LINK_BAD.to_string())}</p>
                                <p><a class="button" href="/account#email">"Your account"</a></p>
                            }.into_any()
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}
