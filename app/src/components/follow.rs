//! What a member hears about: the topic page's Following / Normal / Muted control and the
//! category page's Watch button. Each choice is a plain form (it works without JavaScript and
//! comes back to the page); hydrated, the page stays and the control shows the new state.
use leptos::prelude::*;

use crate::{
    api::subscriptions::{SetTopicLevel, WatchCategory},
    components::form::{FormError, hydrated, latest_error},
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

/// The topic's control: the current level and one button per level.
#[island]
pub fn FollowControl(
    topic_id: i64,
    level: String,
    initial_error: Option<AppError>,
) -> impl IntoView {
    let action = ServerAction::<SetTopicLevel>::new();
    let current = RwSignal::new(level);
    Effect::new(move |_| {
        if let Some(Ok(level)) = action.value().get() {
            current.set(level);
        }
    });
    let error = latest_error(action.value(), initial_error);
    let pending = action.pending();
    let ready = hydrated();
    view! {
        <section class="follow-control" id="follow" aria-labelledby="follow-heading">
            <h2 id="follow-heading">"Notifications"</h2>
            <p role="status">
                "You are " <strong>{move || level_name(&current.get())}</strong> " on this topic."
            </p>
            <FormError message=Signal::derive(move || error.get().map(|e| e.to_string())) />
            <ul class="follow-levels">
                {LEVELS
                    .into_iter()
                    .map(|(value, name, meaning)| {
                        view! {
                            <li>
                                <ActionForm action attr:class="inline-form" attr:data-ready=move || ready.get().to_string()>
                                    <input type="hidden" name="topic_id" value=topic_id />
                                    <input type="hidden" name="level" value=value />
                                    <button
                                        type="submit"
                                        class="button"
                                        class:primary=move || current.get() == value
                                        aria-pressed=move || (current.get() == value).to_string()
                                        disabled=pending
                                    >
                                        {name}
                                    </button>
                                </ActionForm>
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

/// The category's Watch / Stop watching button.
#[island]
pub fn WatchControl(
    category_id: i64,
    watching: bool,
    initial_error: Option<AppError>,
) -> impl IntoView {
    let action = ServerAction::<WatchCategory>::new();
    let watching = RwSignal::new(watching);
    Effect::new(move |_| {
        if let Some(Ok(now)) = action.value().get() {
            watching.set(now);
        }
    });
    let error = latest_error(action.value(), initial_error);
    let pending = action.pending();
    let ready = hydrated();
    view! {
        <div class="watch-control" id="watch">
            <FormError message=Signal::derive(move || error.get().map(|e| e.to_string())) />
            <ActionForm action attr:class="inline-form" attr:data-ready=move || ready.get().to_string()>
                <input type="hidden" name="category_id" value=category_id />
                <input type="hidden" name="watch" value=move || (!watching.get()).to_string() />
                <button type="submit" class="button" disabled=pending>
                    {move || if watching.get() { "Stop watching" } else { "Watch" }}
                </button>
            </ActionForm>
            <p class="muted" role="status">
                {move || {
                    if watching.get() {
                        "You are watching: you are told of every new topic here."
                    } else {
                        "Watch to be told of every new topic here."
                    }
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
