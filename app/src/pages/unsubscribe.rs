use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{api::account::get_unsubscribe_view, components::page::ErrorView};

/// /unsubscribe/:token: the link in every notification e-mail. Opening it only asks: link
/// scanners open links in e-mails. The button posts to this same address, which is also where
/// a mail client's one-click unsubscribe (RFC 8058) posts; the server answers that post with
/// this page, which then says the e-mails stopped.
#[component]
pub fn UnsubscribePage() -> impl IntoView {
    let token = use_params_map()
        .read_untracked()
        .get("token")
        .unwrap_or_default();
    let view_data = OnceResource::new(get_unsubscribe_view(token.clone()));
    view! {
        <Title text="Stop e-mails" />
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Checking the link…"</p> }>
            {move || {
                let token = token.clone();
                Suspend::new(async move {
                    let v = match view_data.await {
                        Ok(v) => v,
                        Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                    };
                    if v.stopped {
                        view! {
                            <section class="auth-card">
                                <h1>"E-mails stopped"</h1>
                                <p class="notice" role="status">
                                    {format!("{} no longer gets e-mails about {}.", v.display_name, v.kind_label)}
                                </p>
                                <p class="muted">"Changed your mind? Log in and choose again under Notifications on your account page; notifications on the site go on as before."</p>
                                <p><a class="button" href="/account#notifications">"Your account"</a></p>
                            </section>
                        }.into_any()
                    } else {
                        view! {
                            <section class="auth-card">
                                <h1>"Stop these e-mails?"</h1>
                                <p>{format!("Stop e-mails to {} about {}?", v.display_name, v.kind_label)}</p>
                                <form method="post" action=format!("/unsubscribe/{token}") class="stack">
                                    <input type="hidden" name="List-Unsubscribe" value="One-Click" />
                                    <button type="submit" class="button primary">"Stop these e-mails"</button>
                                </form>
                                <p class="muted">"Other kinds of e-mail, and notifications on the site, stay as they are."</p>
                            </section>
                        }.into_any()
                    }
                })
            }}
        </Suspense>
    }
}
