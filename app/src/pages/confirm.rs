//! /confirm: a destructive action asks first when JavaScript is off (with it, a dialog on the
//! page asks: /forms.js). The action's own server function sends the browser here when its
//! form came without `confirmed` (api::confirm), with what was chosen and the page it was on.
use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{
        admin::DeleteAccount,
        confirm::get_confirmation,
        moderation::{ModerateBulk, ModeratePost, RemoveSpammer},
        safe_next,
    },
    components::{
        form::error_from_url_of,
        page::{ErrorView, NoIndex},
    },
};

#[component]
pub fn ConfirmPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let text = |name: &str| query.get(name).unwrap_or_default();
    let id: i64 = text("id").parse().unwrap_or(0);
    let back = safe_next(query.get("back").as_deref());
    let data = OnceResource::new(get_confirmation(
        text("action"),
        id,
        text("option"),
        text("reason"),
    ));
    // A confirmed post that failed comes back here with its error (the page it came from may
    // no longer show the thing, a deleted account's tools say, so the answer is given here).
    let error = error_from_url_of(&[
        DeleteAccount::PATH,
        RemoveSpammer::PATH,
        ModeratePost::PATH,
        ModerateBulk::PATH,
    ]);
    view! {
        <NoIndex />
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            {move || {
                let (back, error) = (back.clone(), error.clone());
                Suspend::new(async move {
                    let c = match data.await {
                        Ok(c) => c,
                        Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                    };
                    view! {
                        <Title text=c.title.clone() />
                        <section class="narrow confirm-page" aria-labelledby="confirm-title">
                            <h1 id="confirm-title">{c.title.clone()}</h1>
                            {error.map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
                            {c.details.into_iter().map(|line| view! { <p>{line}</p> }).collect_view()}
                            <form method="post" action=c.endpoint class="form-actions">
                                {c.fields.into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value /> }).collect_view()}
                                <input type="hidden" name="confirmed" value="yes" />
                                <button type="submit" class="button danger">{c.button}</button>
                                <a class="button" href=back>"Cancel"</a>
                            </form>
                        </section>
                    }
                    .into_any()
                })
            }}
        </Suspense>
    }
}
