//! Staff response pieces: the response badge and status tag of a topic, the staff tools and the
//! "Did this solve it?" box on a topic page, and how the figures are counted (the figures
//! themselves are in figures.rs). All forms here are plain HTML forms posting to server
//! functions: they work the same with JavaScript on or off.
use chrono::{DateTime, Utc};
use leptos::{prelude::*, server_fn::ServerFn};

use super::time::RelativeTime;
use crate::{
    api::moderation::{
        ModerateBulk, ModeratePost, ModerateTopic, MoveTopic, RemoveSpammer, SuspendMember,
        UnsuspendMember,
    },
    api::staff::{
        ConfirmResolution, MarkAnswer, NoReplyNeeded, SetAccountability, SetResponseTarget,
        SetTopicStatus, UnmarkAnswer,
    },
    components::form::error_from_url_of,
    error::AppError,
    model::{TopicStatus, short_duration},
};

/// The staff badge beside a name: "Staff", then the member's staff title if they have one
/// ("Staff · Community Manager": a title alone does not say the company is speaking), and for
/// screen readers what it marks (`spoken`, "Reply from " by default). One badge everywhere:
/// posts, the official answer, articles, notifications.
#[component]
pub fn StaffBadge(
    title: Option<String>,
    #[prop(default = "Reply from ")] spoken: &'static str,
) -> impl IntoView {
    let title = title.filter(|t| !t.trim().is_empty() && t.trim() != "Staff");
    view! {
        <span class="staff-badge">
            <span class="visually-hidden">{spoken}</span>"Staff"
            {title.map(|t| view! { <span class="staff-title"><span aria-hidden="true">" · "</span>{t}</span> })}
        </span>
    }
}

/// The error a staff form on this page came back with, if any.
pub fn staff_error() -> Option<AppError> {
    error_from_url_of(&[
        SetTopicStatus::PATH,
        MarkAnswer::PATH,
        UnmarkAnswer::PATH,
        NoReplyNeeded::PATH,
        ConfirmResolution::PATH,
        SetResponseTarget::PATH,
        SetAccountability::PATH,
        ModeratePost::PATH,
        ModerateBulk::PATH,
        ModerateTopic::PATH,
        MoveTopic::PATH,
        SuspendMember::PATH,
        UnsuspendMember::PATH,
        RemoveSpammer::PATH,
    ])
}

/// The page's staff error, where the page's staff forms are. An error that belongs to one
/// form of many (a post's flag or moderation form) is shown in that form instead.
#[component]
pub fn StaffError() -> impl IntoView {
    staff_error()
        .filter(|e| e.is_for_form(""))
        .map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })
}

fn minutes_since(at: DateTime<Utc>) -> i64 {
    (Utc::now() - at).num_minutes()
}

/// "Staff replied in 3 h 12 min", or "Awaiting staff · 2 days", or nothing (a staff member's own
/// topic, or one set aside).
#[component]
pub fn ResponseBadge(
    staff_reply_minutes: Option<i64>,
    awaiting_since: Option<DateTime<Utc>>,
    /// The opening post waits for a moderator: staff cannot answer it publicly yet.
    #[prop(optional)]
    held: bool,
) -> impl IntoView {
    if held {
        return Some(
            view! { <span class="response-badge held" title="A moderator checks new members' first posts">"Waiting for approval"</span> }
                .into_any(),
        );
    }
    match (staff_reply_minutes, awaiting_since) {
        (_, Some(since)) => Some(
            view! {
                <span class="response-badge awaiting" title="No staff reply yet">
                    "Awaiting staff · " {short_duration(minutes_since(since))}
                </span>
            }
            .into_any(),
        ),
        (Some(m), None) => Some(
            view! { <span class="response-badge replied"><RepliedIcon />"Staff replied in " {short_duration(m)}</span> }
                .into_any(),
        ),
        (None, None) => None,
    }
}

/// The status, unless it is plain "open".
#[component]
pub fn StatusTag(status: String, #[prop(optional)] confirmed: bool) -> impl IntoView {
    (status != TopicStatus::Open.as_str()).then(|| {
        let label = if confirmed && status == TopicStatus::Resolved.as_str() {
            "Resolved, confirmed by the customer".to_string()
        } else {
            TopicStatus::label_of(&status)
        };
        let resolved = status == TopicStatus::Resolved.as_str();
        view! { <span class=format!("tag status-tag status-{status}")>{resolved.then(|| view! { <ResolvedIcon /> })}{label}</span> }
    })
}

/// A speech bubble: "Staff replied" badges. It and the tick tell "Staff replied" and "Resolved"
/// apart by shape, not only by colour (they also use different colours). Decorative: the words
/// beside it say the same.
#[component]
pub fn RepliedIcon() -> impl IntoView {
    view! {
        <svg class="badge-icon" aria-hidden="true" focusable="false" viewBox="0 0 16 16" width="12" height="12">
            <path d="M2.5 3h11v7.5H7l-3.5 3v-3h-1z" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round" />
        </svg>
    }
}

/// A tick: "Resolved" and "Answered" badges.
#[component]
pub fn ResolvedIcon() -> impl IntoView {
    view! {
        <svg class="badge-icon" aria-hidden="true" focusable="false" viewBox="0 0 16 16" width="12" height="12">
            <path d="M3 8.5l3.2 3.2L13 4.8" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" />
        </svg>
    }
}

/// "Mark as official answer" (or "Remove official answer") on a reply, for staff.
#[component]
pub fn AnswerButton(topic_id: i64, post_id: i64, is_answer: bool) -> impl IntoView {
    if is_answer {
        view! {
            <form method="post" action=UnmarkAnswer::url() class="inline-form">
                <input type="hidden" name="topic_id" value=topic_id />
                <button type="submit" class="link-button">"Remove official answer"</button>
            </form>
        }
        .into_any()
    } else {
        // Its errors show in the staff tools (api::staff::mark_answer says why).
        view! {
            <form method="post" action=MarkAnswer::url() class="inline-form">
                <input type="hidden" name="topic_id" value=topic_id />
                <input type="hidden" name="post_id" value=post_id />
                <button type="submit" class="link-button">"Mark as official answer"</button>
            </form>
        }
        .into_any()
    }
}

/// Why an answer to "Did this solve it?" sent without JavaScript was refused, for an author no
/// longer asked (staff answered first, or resolved it again), where the box is not shown: staff
/// read it in their own tools' `StaffError`.
#[component]
pub fn ConfirmRefused() -> impl IntoView {
    error_from_url_of(&[ConfirmResolution::PATH])
        .map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })
}

/// The topic's author is asked whether staff's resolution solved it.
#[component]
pub fn ConfirmBox(topic_id: i64) -> impl IntoView {
    view! {
        <section class="confirm-box" aria-labelledby="confirm-heading">
            <h2 id="confirm-heading">"Did this solve it?"</h2>
            <p>"Staff marked this topic resolved. Tell them whether it worked for you."</p>
            <StaffError />
            <form method="post" action=ConfirmResolution::url() class="form-actions">
                <input type="hidden" name="topic_id" value=topic_id />
                <button type="submit" name="solved" value="yes" class="button primary">"Yes, it's solved"</button>
                <button type="submit" name="solved" value="no" class="button">"No, I still need help"</button>
            </form>
        </section>
    }
}

/// Status (with an optional note posted as a staff reply) and "no reply needed", for staff.
#[component]
pub fn StaffTools(topic_id: i64, status: String, awaiting: bool) -> impl IntoView {
    let options = TopicStatus::ALL
        .into_iter()
        .map(|s| {
            let value = s.as_str();
            view! { <option value=value selected=status == value>{s.label()}</option> }
        })
        .collect_view();
    view! {
        <section class="staff-tools" id="staff-tools" aria-labelledby="staff-tools-heading">
            <h2 id="staff-tools-heading">"Staff tools"</h2>
            <StaffError />
            <form method="post" action=SetTopicStatus::url() class="stack">
                <input type="hidden" name="topic_id" value=topic_id />
                <div class="field">
                    <label for="field-status">"Status"</label>
                    <select id="field-status" name="status">{options}</select>
                </div>
                <div class="field">
                    <label for="field-note">"Note (optional)"</label>
                    <p class="hint" id="field-note-hint">"Posted in the topic as your staff reply, so it also answers the customer."</p>
                    <textarea id="field-note" name="note" rows="3" maxlength="50000" aria-describedby="field-note-hint"></textarea>
                </div>
                <button type="submit" class="button primary">"Update status"</button>
            </form>
            {awaiting.then(|| view! {
                <form method="post" action=NoReplyNeeded::url() class="stack no-reply">
                    <input type="hidden" name="topic_id" value=topic_id />
                    <div class="field">
                        <label for="field-reason">"No reply needed? Say why"</label>
                        <p class="hint" id="field-reason-hint">"Takes it out of the queue without a reply. Other staff see the reason; customers don't."</p>
                        <input id="field-reason" name="reason" maxlength="1000" aria-describedby="field-reason-hint" />
                    </div>
                    <button type="submit" class="button">"Remove from the queue"</button>
                </form>
            })}
        </section>
    }
}

/// How the figures are counted, in words, under every figures table.
#[component]
pub fn MetricsHelp() -> impl IntoView {
    view! {
        <p class="hint metrics-help">
            "Counted over topics customers started in the period. Time to first staff reply runs from the topic's start to the first reply by staff. "
            "“Answered within target” is the share of topics answered within their category's target, out of those answered or already past it. "
            "The 90th percentile is the time within which nine in ten answers came."
        </p>
    }
}

/// When a topic has waited, relative, for the queue.
#[component]
pub fn WaitedSince(at: DateTime<Utc>) -> impl IntoView {
    view! { <span>"waiting " {short_duration(minutes_since(at))} " · since " <RelativeTime at /></span> }
}

/// Lock, pin and move a topic, for moderators, each with a reason for the log.
#[component]
pub fn ModeratorTools(
    topic_id: i64,
    locked: bool,
    pinned: bool,
    categories: Vec<crate::model::CategoryRef>,
    current: String,
) -> impl IntoView {
    let topic_form = move |action: &'static str, label: &'static str| {
        view! {
            <form method="post" action=ModerateTopic::url() class="filter-row">
                <input type="hidden" name="topic_id" value=topic_id />
                <input type="hidden" name="action" value=action />
                <label class="visually-hidden" for=format!("reason-{action}")>{format!("Reason to {action}")}</label>
                <input id=format!("reason-{action}") name="reason" maxlength="1000" placeholder="Reason (optional)" />
                <button type="submit" class="button">{label}</button>
            </form>
        }
    };
    let options = categories
        .into_iter()
        .map(|c| view! { <option value=c.slug.clone() selected=c.slug == current>{c.name.clone()}</option> })
        .collect_view();
    view! {
        <section class="staff-tools" id="moderator-tools" aria-labelledby="moderator-tools-heading">
            <h2 id="moderator-tools-heading">"Moderator tools"</h2>
            {if locked { topic_form("unlock", "Unlock topic") } else { topic_form("lock", "Lock topic") }}
            {if pinned { topic_form("unpin", "Unpin topic") } else { topic_form("pin", "Pin topic") }}
            <form method="post" action=MoveTopic::url() class="filter-row">
                <input type="hidden" name="topic_id" value=topic_id />
                <label for="move-category">"Move to"</label>
                <select id="move-category" name="category">{options}</select>
                <input name="reason" maxlength="1000" placeholder="Reason (optional)" aria-label="Reason for moving" />
                <button type="submit" class="button">"Move"</button>
            </form>
        </section>
    }
}

/// Suspend, lift a suspension, or remove a spammer: on a member's page and in the review queue.
#[component]
pub fn MemberTools(
    user_id: i64,
    suspended: bool,
    /// Which of the page's several tools of one member this is (the review queue shows them
    /// under each of the member's items), so that their fields' ids differ.
    #[prop(optional)]
    place: Option<i64>,
) -> impl IntoView {
    let suspend_id = match place {
        Some(place) => format!("suspend-{user_id}-{place}"),
        None => format!("suspend-{user_id}"),
    };
    let days_id = format!("{suspend_id}-days");
    let reason_id = format!("{suspend_id}-reason");
    view! {
        <details class="post-tool member-tools">
            <summary>"Moderate this member"</summary>
            {if suspended {
                view! {
                    <form method="post" action=UnsuspendMember::url()>
                        <input type="hidden" name="user_id" value=user_id />
                        <button type="submit" class="button">"Lift the suspension"</button>
                    </form>
                }
                .into_any()
            } else {
                view! {
                    <form method="post" action=SuspendMember::url() class="stack compact">
                        <input type="hidden" name="user_id" value=user_id />
                        <div class="field">
                            <label for=days_id.clone()>"Suspend for"</label>
                            <select id=days_id name="days">
                                <option value="1">"1 day"</option>
                                <option value="3">"3 days"</option>
                                <option value="7">"7 days"</option>
                                <option value="30">"30 days"</option>
                                <option value="forever">"Permanently"</option>
                            </select>
                        </div>
                        <div class="field">
                            <label for=reason_id.clone()>"Reason (shown to them)"</label>
                            <input id=reason_id name="reason" maxlength="1000" />
                        </div>
                        <button type="submit" class="button">"Suspend"</button>
                    </form>
                }
                .into_any()
            }}
            // Asks first: a dialog with JavaScript, the /confirm page without.
            <form method="post" action=RemoveSpammer::url() class="filter-row" data-confirm="Remove this member as a spammer? All their posts are deleted and they are suspended for good." data-confirm-button="Remove the spammer">
                <input type="hidden" name="user_id" value=user_id />
                <input type="hidden" name="reason" value="Spam" />
                <button type="submit" class="button danger">"Remove spammer: delete all their posts and suspend"</button>
            </form>
        </details>
    }
}
