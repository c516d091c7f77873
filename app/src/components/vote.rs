//! An idea's vote button and count, on the ideas list and the topic page. Members get a plain
//! form that posts and comes back to the idea with the new count. Visitors get a plain form to
//! the same server function, which sends them to log in and casts the vote once they have.
//! Staff also see the votes still waiting ("+3 pending").
use leptos::{prelude::*, server_fn::ServerFn};

use crate::{
    api::ideas::{Vote, idea_anchor},
    components::form::FormError,
    error::AppError,
    model::{IdeaVotes, topic_url},
};

/// "1 vote", "12 votes".
pub fn votes_text(count: i32) -> String {
    crate::format::count(count as i64, "vote", "votes")
}

/// The idea's votes as the viewer may act on them: a button while voting is open, the count
/// alone once it has closed, a link to the original for a merged duplicate.
#[component]
pub fn IdeaVoting(
    votes: IdeaVotes,
    /// The idea's title, for screen readers: a list has one Vote button per idea.
    title: String,
    /// The error a plain form came back with (the topic page's one button only).
    #[prop(optional_no_strip)]
    initial_error: Option<AppError>,
) -> impl IntoView {
    if let Some(original) = votes.merged_into.clone() {
        return view! {
            <div class="idea-votes merged" id=idea_anchor(votes.topic_id)>
                <p class="notice merged-notice">
                    "Merged into " <a href=topic_url(original.id, &original.slug, 1)>{original.title}</a>
                    ": vote for it there."
                </p>
            </div>
        }
        .into_any();
    }
    if !votes.open {
        return view! {
            <div class="idea-votes closed" id=idea_anchor(votes.topic_id)>
                <span class="vote-count">{votes_text(votes.count)}</span>
                <PendingCount pending=votes.pending_count />
                <span class="muted vote-closed">"Voting closed"</span>
            </div>
        }
        .into_any();
    }
    match votes.voted {
        Some(voted) => view! {
            <VoteButton
                topic_id=votes.topic_id
                title
                count=votes.count
                voted
                waiting=votes.waiting
                pending_count=votes.pending_count
                initial_error
            />
        }
        .into_any(),
        None => {
            view! { <VisitorVote topic_id=votes.topic_id title count=votes.count initial_error /> }
                .into_any()
        }
    }
}

/// "+3 pending", for staff, when any vote waits.
#[component]
fn PendingCount(pending: Option<i32>) -> impl IntoView {
    pending.filter(|k| *k > 0).map(|k| {
        view! {
            <span class="vote-pending" title="Votes from new or unconfirmed accounts, or held for review: not in the public count yet">
                {format!("+{k} pending")}
            </span>
        }
    })
}

/// A member's vote button and the count: a plain form, not an island. A click posts and the
/// server sends the browser back to this idea (`#idea-N`) with the new count, with or without
/// JavaScript; an ideas list has one per idea, so an island here would hydrate dozens.
#[component]
pub fn VoteButton(
    topic_id: i64,
    title: String,
    count: i32,
    voted: bool,
    waiting: Option<String>,
    pending_count: Option<i32>,
    initial_error: Option<AppError>,
) -> impl IntoView {
    view! {
        <div class="idea-votes" id=idea_anchor(topic_id)>
            <form method="post" action=Vote::url() class="vote-form">
                <input type="hidden" name="topic_id" value=topic_id />
                <input type="hidden" name="vote" value=if voted { "withdraw" } else { "up" } />
                <button
                    type="submit"
                    class="vote-button"
                    class:voted=voted
                    aria-pressed=voted.to_string()
                >
                    {if voted { "Voted" } else { "Vote" }}
                    <span class="visually-hidden">{format!(" for: {title}")}</span>
                </button>
            </form>
            <span class="vote-count" role="status">{votes_text(count)}</span>
            <PendingCount pending=pending_count />
            {waiting.filter(|_| voted).map(|w| view! { <p class="vote-waiting">{w}</p> })}
            <FormError message=initial_error.map(|e| e.to_string()) />
        </div>
    }
}

/// A visitor's Vote: a plain form (no island), so the click leads to logging in and back.
#[component]
fn VisitorVote(
    topic_id: i64,
    title: String,
    count: i32,
    initial_error: Option<AppError>,
) -> impl IntoView {
    view! {
        <div class="idea-votes" id=idea_anchor(topic_id)>
            <form method="post" action=Vote::url() class="vote-form">
                <input type="hidden" name="topic_id" value=topic_id />
                <input type="hidden" name="vote" value="up" />
                <button type="submit" class="vote-button" aria-pressed="false">
                    "Vote" <span class="visually-hidden">{format!(" for: {title}")}</span>
                </button>
            </form>
            <span class="vote-count">{votes_text(count)}</span>
            // Only with an error: a category page lists a Vote for each idea.
            {initial_error.map(|e| view! { <FormError message=Some(e.to_string()) /> })}
        </div>
    }
}
