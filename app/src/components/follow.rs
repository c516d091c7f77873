//! What a member hears about: the topic page's Following / Normal / Muted control and the
//! category page's Watch button. Each choice is a plain form: it posts and comes back to the
//! page showing the new state, with JavaScript or without.
use leptos::{prelude::*, server_fn::ServerFn};

use crate::{
    api::subscriptions::{SetTopicLevel, WatchCategory},
    components::form::FormError,
    error::AppError,
    paths::encode_query_value,
};

/// The topic levels, what each is called and what it means, in the order offered.
const LEVELS: [(&str, &str, &str); 3] = [
    (
        "following",
        "Following",
        "You are told of every reply and every change by staff.",
    ),
    (
        "normal",
        "Normal",
        "You are told only when someone answers your topic, mentions you or quotes you.",
    ),
    (
        "muted",
        "Muted",
        "You are never told anything about this topic.",
    ),
];

fn level_name(level: &str) -> &'static str {
    LEVELS
        .iter()
        .find(|(value, _, _)| *value == level)
        .map_or("Normal", |(_, name, _)| *name)
}

/// The topic's control: the current level and one button per level. Plain forms, not an
/// island: a click posts and the server sends the browser back to `#follow` showing the new
/// level, with or without JavaScript (the bundle stays for what needs it: the composers).
#[component]
pub fn FollowControl(
    topic_id: i64,
    level: String,
    initial_error: Option<AppError>,
) -> impl IntoView {
    let action = SetTopicLevel::url();
    view! {
        <section class="follow-control" id="follow" aria-labelledby="follow-heading">
            <h2 id="follow-heading">"Notifications"</h2>
            <p role="status">
                "You are " <strong>{level_name(&level)}</strong> " on this topic."
            </p>
            <FormError message=initial_error.map(|e| e.to_string()) />
            <ul class="follow-levels">
                {LEVELS
                    .into_iter()
                    .map(|(value, name, meaning)| {
                        let chosen = level == value;
                        view! {
                            <li>
                                <form method="post" action=action class="inline-form">
                                    <input type="hidden" name="topic_id" value=topic_id />
                                    <input type="hidden" name="level" value=value />
                                    <button
                                        type="submit"
                                        class="button"
                                        class:primary=chosen
                                        aria-pressed=chosen.to_string()
                                    >
                                        {name}
                                    </button>
                                </form>
                                " "
                                <span class="muted">{meaning}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

/// The category's Watch / Stop watching button: a plain form, as the topic's control.
#[component]
pub fn WatchControl(
    category_id: i64,
    watching: bool,
    initial_error: Option<AppError>,
) -> impl IntoView {
    view! {
        <div class="watch-control" id="watch">
            <FormError message=initial_error.map(|e| e.to_string()) />
            <form method="post" action=WatchCategory::url() class="inline-form">
                <input type="hidden" name="category_id" value=category_id />
                <input type="hidden" name="watch" value=(!watching).to_string() />
                <button type="submit" class="button">
                    {if watching { "Stop watching" } else { "Watch" }}
                </button>
            </form>
            <p class="muted" role="status">
                {if watching {
                    "You are watching: you are told of every new topic here."
                } else {
                    "Watch to be told of every new topic here."
                }}
            </p>
        </div>
    }
}

/// For visitors, where the controls would be.
#[component]
pub fn SignInToFollow(here: String, what: &'static str) -> impl IntoView {
    let href = format!("/login?next={}", encode_query_value(&here));
    view! {
        <p class="muted follow-hint">
            <a href=href>"Log in"</a> {format!(" to {what}.")}
        </p>
    }
}
