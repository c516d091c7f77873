use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;

use crate::{
    api::moderation::{
        AddWatchedWord, RemoveWatchedWord, SaveModerationSettings, get_moderation_settings,
    },
    components::{form::error_from_url_of, page::ErrorView},
};

/// /admin/moderation (admins): flag threshold, held posts for new members, rate limits, the
/// public moderation page, and watched words. Plain forms: no JavaScript needed.
#[component]
pub fn ModerationSettingsPage() -> impl IntoView {
    let data = OnceResource::new(get_moderation_settings());
    let error = error_from_url_of(&[
        SaveModerationSettings::PATH,
        AddWatchedWord::PATH,
        RemoveWatchedWord::PATH,
    ]);
    view! {
        <Title text="Moderation settings" />
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            {move || {
                let error = error.clone();
                Suspend::new(async move {
                    let s = match data.await {
                        Ok(s) => s,
                        Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                    };
                    let number = |name: &'static str, label: &'static str, hint: &'static str, value: i64| {
                        let id = format!("setting-{name}");
                        let hint_id = format!("{id}-hint");
                        view! {
                            <div class="field">
                                <label for=id.clone()>{label}</label>
                                <p class="hint" id=hint_id.clone()>{hint}</p>
                                <input id=id name=name type="number" min="0" max="10000" step="1" value=value aria-describedby=hint_id />
                            </div>
                        }
                    };
                    view! {
                        <section class="narrow">
                            <h1>"Moderation settings"</h1>
                            {error.map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
                            <form method="post" action=SaveModerationSettings::url() class="stack" id="settings">
                                {number("flag_threshold", "Flags that hide a post", "Weighted: a flag from a member whose flags are usually upheld counts double, from an account under a day old half.", s.flag_threshold)}
                                {number("new_member_hold", "New members' posts held for approval", "Their first posts wait for a moderator. 0 turns this off.", s.new_member_hold)}
                                {number("posts_per_10_min", "Posts per member in 10 minutes", "0 turns the limit off. Staff are never limited.", s.posts_per_10_min)}
                                {number("topics_per_hour", "New topics per member in an hour", "0 turns the limit off.", s.topics_per_hour)}
                                {number("flags_per_hour", "Flags per member in an hour", "0 turns the limit off.", s.flags_per_hour)}
                                <label class="choice" for="setting-log-public">
                                    <input type="checkbox" id="setting-log-public" name="log_public" value="on" checked=s.log_public />
                                    "Show the public moderation page (" <a href="/moderation">"/moderation"</a> ")"
                                </label>
                                <button type="submit" class="button primary">"Save settings"</button>
                            </form>
                            <section id="watched-words" aria-labelledby="watched-heading">
                                <h2 id="watched-heading">"Watched words"</h2>
                                <p class="hint">"Matched in any case, as whole words, through look-alike full-width letters and hidden characters. Use * at either end for “and more letters”."</p>
                                <form method="post" action=AddWatchedWord::url() class="filter-row">
                                    <label for="watched-word">"Word or phrase"</label>
                                    <input id="watched-word" name="word" maxlength="100" />
                                    <label for="watched-action">"Action"</label>
                                    <select id="watched-action" name="action">
                                        <option value="block">"Block: refuse the post"</option>
                                        <option value="hold">"Hold for review"</option>
                                        <option value="flag">"Flag: post it and queue it"</option>
                                        <option value="censor">"Censor: mask the word"</option>
                                    </select>
                                    <button type="submit" class="button">"Add"</button>
                                </form>
                                {if s.watched.is_empty() {
                                    view! { <p class="empty">"No watched words yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="activity-list">
                                            {s.watched.into_iter().map(|w| view! {
                                                <li class="filter-row">
                                                    <strong>{w.word.clone()}</strong>
                                                    <span class="tag">{w.action.clone()}</span>
                                                    <form method="post" action=RemoveWatchedWord::url() class="inline-form">
                                                        <input type="hidden" name="id" value=w.id />
                                                        <button type="submit" class="link-button">{format!("Remove “{}”", w.word)}</button>
                                                    </form>
                                                </li>
                                            }).collect_view()}
                                        </ul>
                                    }
                                    .into_any()
                                }}
                            </section>
                        </section>
                    }
                    .into_any()
                })
            }}
        </Suspense>
    }
}
