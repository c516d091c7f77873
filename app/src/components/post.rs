//! One post on a topic page.
use leptos::prelude::*;

use leptos::server_fn::ServerFn;

use super::{
    avatar::{Avatar, AvatarSize},
    form::{InlineError, SentForm, Status},
    staff::AnswerButton,
    time::RelativeTime,
};
use crate::{
    api::moderation::{ModeratePost, flag_page},
    model::{PostState, PostView},
};

/// `quote_href` is where "Quote" goes: this page with the post quoted into the reply box.
#[component]
pub fn PostCard(
    post: PostView,
    quote_href: String,
    /// For staff: the topic, and whether this post is its official answer.
    #[prop(default = None)]
    answer_tools: Option<(i64, bool)>,
    /// The viewer is signed in (and may flag others' posts).
    #[prop(optional)]
    signed_in: bool,
    /// The viewer moderates: hide, delete, restore, approve.
    #[prop(optional)]
    moderator: bool,
    /// This post is the official answer and the page shows it in full right above: its text
    /// here would be the same text twice in a row, so a marker links up to it instead.
    #[prop(optional)]
    shown_above: bool,
    /// This post opens a forum topic: hidden, it takes the topic out of others' sight.
    #[prop(optional)]
    opening: bool,
) -> impl IntoView {
    let notice = state_notice(&post, opening);
    let placeholder = post.state == PostState::Hidden && post.html.is_empty();
    // Flagging is on a page of its own (/p/{id}/flag): a link here, not a form under every post.
    let flag = (signed_in && !post.editable && post.state == PostState::Visible).then(|| {
        if post.flagged_by_viewer {
            view! { <span class="muted flagged" id=format!("flag-{}", post.id)>"You flagged this"</span> }.into_any()
        } else {
            let label = format!("Flag post {} by {}", post.number, post.author_display_name);
            view! { <a href=flag_page(post.id) aria-label=label>"Flag"</a> }.into_any()
        }
    });
    let moderate = moderator.then(|| view! { <ModerateForm post_id=post.id state=post.state /> });
    let anchor = format!("post-{}", post.number);
    let heading_id = format!("post-{}-author", post.number);
    let labelled_by = heading_id.clone();
    let profile = format!("/u/{}", post.author_username);
    let by_moderator = post.edited_by_moderator;
    let edited = post.edited_at.map(|at| {
        let exact = format!("Edited {}", super::time::exact_utc(at));
        let label = if by_moderator {
            "edited by a moderator"
        } else {
            "edited"
        };
        view! { <span class="edited" class:moderator-edited=by_moderator title=exact>{label}</span> }
    });
    let badge = post
        .is_staff_reply
        .then(|| view! { <super::staff::StaffBadge title=post.staff_title.clone() /> });
    view! {
        <article class="post" class:staff-post=post.is_staff_reply class:moderated=post.state != PostState::Visible id=anchor.clone() aria-labelledby=labelled_by>
            <header class="post-meta">
                <Avatar name=post.author_display_name.clone() username=post.author_username.clone() upload=post.author_avatar size=AvatarSize::Medium />
                <a class="post-author" id=heading_id href=profile>{post.author_display_name.clone()}</a>
                {badge}
                <a class="post-time" href=format!("#{anchor}")><RelativeTime at=post.created_at /></a>
                {edited}
                <span class="post-number" aria-hidden="true">"#"{post.number}</span>
            </header>
            {notice}
            <Status for_post=post.id />
            {if placeholder {
                view! { <p class="post-body muted hidden-post">"This post was hidden by a moderator."</p> }.into_any()
            } else if shown_above {
                view! { <p class="post-body answer-shown-above"><a href="#official-answer">"Official answer, shown above"</a></p> }.into_any()
            } else {
                view! { <div class="post-body" inner_html=post.html.clone()></div> }.into_any()
            }}
            <footer class="post-actions">
                {(post.state == PostState::Visible).then(|| view! { <a href=quote_href data-quote=post.id>"Quote"</a> })}
                {(post.editable || moderator).then(|| view! { <a href=format!("/p/{}/edit", post.id)>"Edit"</a> })}
                {answer_tools.filter(|_| post.state == PostState::Visible && post.number > 1).map(|(topic_id, is_answer)| view! { <AnswerButton topic_id post_id=post.id is_answer /> })}
                {flag}
                {moderate}
            </footer>
        </article>
    }
}

/// What the author (or a moderator) is told on a post that is not plainly visible.
fn state_notice(post: &PostView, opening: bool) -> Option<impl IntoView + use<>> {
    let reason = post.moderation_reason.clone().unwrap_or_default();
    let text = match (post.state, post.html.is_empty()) {
        (PostState::Hidden, false) => format!(
            "{} {}; edit it and it goes back to the moderators.",
            if reason.is_empty() {
                "Hidden by a moderator.".to_string()
            } else {
                crate::format::sentence(&format!("Hidden by a moderator: {reason}"))
            },
            if opening {
                "Others cannot see this topic while it is hidden"
            } else {
                "Others see only that it was hidden"
            }
        ),
        (PostState::Pending, _) => {
            if reason.is_empty() {
                "Waiting for a moderator's approval.".to_string()
            } else {
                reason
            }
        }
        (PostState::Deleted, _) => crate::format::sentence(&if reason.is_empty() {
            "Deleted by a moderator".to_string()
        } else {
            format!("Deleted by a moderator: {reason}")
        }),
        _ => return None,
    };
    Some(view! { <p class="moderation-notice" role="note">{text}</p> })
}

/// A moderator's actions on one post, with the reason its author will see.
#[component]
fn ModerateForm(post_id: i64, state: PostState) -> impl IntoView {
    let id = format!("moderate-{post_id}");
    let action_id = format!("{id}-action");
    let reason_id = format!("{id}-reason");
    let actions: Vec<(&str, &str)> = match state {
        PostState::Pending => vec![("approve", "Approve"), ("delete", "Delete")],
        // Approving (deciding on what hid it) is the review queue's; "restore" makes it public.
        PostState::Hidden => vec![("restore", "Restore"), ("delete", "Delete")],
        PostState::Deleted => vec![("restore", "Restore")],
        PostState::Visible => vec![
            ("hide", "Hide"),
            ("delete", "Delete"),
            ("dismiss", "Dismiss flags"),
        ],
    };
    let sent = SentForm::new(super::staff::staff_error(), &id, &["action", "reason"]);
    let chosen = sent.kept("action");
    view! {
        <details class="post-tool" id=id.clone() open=sent.is_some()>
            <summary>"Moderate"</summary>
            // Deleting asks first: a dialog with JavaScript, the /confirm page without.
            <form method="post" action=ModeratePost::url() class="stack compact" data-confirm="Delete this post? Readers will no longer see it." data-confirm-if="action=delete" data-confirm-button="Delete the post">
                <InlineError message=sent.form_error.clone() id=format!("{id}-error") />
                <input type="hidden" name="post_id" value=post_id />
                <div class="field" class:has-error=sent.field("action").is_some()>
                    <label for=action_id.clone()>"Action"</label>
                    <select id=action_id.clone() name="action" aria-describedby=format!("{action_id}-error") aria-invalid=sent.invalid("action")>
                        {actions.into_iter().map(|(value, label)| view! { <option value=value selected=chosen.as_deref() == Some(value)>{label}</option> }).collect_view()}
                    </select>
                    <p class="field-error" id=format!("{action_id}-error")>{sent.field("action")}</p>
                </div>
                <div class="field" class:has-error=sent.field("reason").is_some()>
                    <label for=reason_id.clone()>"Reason (the author sees it)"</label>
                    <input id=reason_id.clone() name="reason" maxlength="1000" value=sent.kept("reason") aria-describedby=format!("{reason_id}-error") aria-invalid=sent.invalid("reason") />
                    <p class="field-error" id=format!("{reason_id}-error")>{sent.field("reason")}</p>
                </div>
                <button type="submit" class="button">"Apply"</button>
            </form>
        </details>
    }
}

/// A page of posts, each with "Quote" pointing back at `here` (this page's URL) with the post
/// quoted into the reply box. Topics and articles' comments both show posts through this.
///
/// On the server, a page of posts as a plain request shows it (no confirmation or returned
/// form in its address) is rendered once for everyone who sees the same posts with the same
/// controls, and kept (server::fragments); each reader gets it stitched with their times.
#[component]
pub fn PostList(
    posts: Vec<PostView>,
    here: String,
    /// For staff: the topic and its official answer, so replies offer "Mark as official answer".
    #[prop(default = None)]
    answer_tools: Option<(i64, Option<i64>)>,
    #[prop(optional)] signed_in: bool,
    #[prop(optional)] moderator: bool,
    /// The official answer's post, when the page shows it in full just above this list's first
    /// post: that post shows a marker instead of its text again.
    #[prop(default = None)]
    answer_shown_above: Option<i64>,
    /// The list is a forum topic's opening post.
    #[prop(optional)]
    opening: bool,
) -> impl IntoView {
    let list = Posts {
        posts,
        here,
        answer_tools,
        signed_in,
        moderator,
        answer_shown_above,
        opening,
    };
    #[cfg(feature = "ssr")]
    if shared::applies() {
        return shared::post_list(list).into_any();
    }
    list.render().into_any()
}

/// What a page of posts is rendered from: all of it, so its hash names the rendered HTML.
#[derive(Clone, Hash)]
struct Posts {
    posts: Vec<PostView>,
    here: String,
    answer_tools: Option<(i64, Option<i64>)>,
    signed_in: bool,
    moderator: bool,
    answer_shown_above: Option<i64>,
    opening: bool,
}

impl Posts {
    fn render(self) -> impl IntoView + use<> {
        let Posts {
            posts,
            here,
            answer_tools,
            signed_in,
            moderator,
            answer_shown_above,
            opening,
        } = self;
        let quote_base = if here.contains('?') {
            format!("{here}&")
        } else {
            format!("{here}?")
        };
        let first_id = posts.first().map(|p| p.id);
        view! {
            <div class="posts">
                {posts
                    .into_iter()
                    .map(|post| {
                        let shown_above = answer_shown_above.is_some_and(|a| a == post.id && first_id == Some(a));
                        let quote_href = format!("{quote_base}quote={}#composer", post.id);
                        let answer_tools = answer_tools
                            .filter(|_| post.number > 1)
                            .map(|(topic_id, answer)| (topic_id, answer == Some(post.id)));
                        view! { <PostCard post quote_href answer_tools signed_in moderator shown_above opening /> }
                    })
                    .collect_view()}
            </div>
        }
    }
}

#[cfg(feature = "ssr")]
mod shared {
    use super::Posts;
    use crate::components::time::{FragmentTimes, ReaderZone, write_time};
    use crate::server::fragments::{self, Fragment, TimeMarker};
    use chrono::{DateTime, Utc};
    use leptos::{prelude::*, tachys::html::InertElement};

    /// Only a page's plain form is shared: a confirmation (`?done=`) or a form sent back with
    /// its errors shows things for one reader inside the posts. `?page=` and `?quote=` change
    /// nothing in them.
    pub fn applies() -> bool {
        leptos_router::hooks::use_query_map()
            .get_untracked()
            .into_iter()
            .all(|(key, _)| key == "page" || key == "quote")
    }

    pub fn post_list(list: Posts) -> impl IntoView {
        let key = fragments::key(&("posts", &list));
        let fragment = fragments::get(key).unwrap_or_else(|| {
            let marker = TimeMarker::new();
            let owner = Owner::current().map_or_else(Owner::new, |o| o.child());
            let html = owner.with(|| {
                provide_context(FragmentTimes(marker.clone()));
                list.render().to_html()
            });
            fragments::put(key, Fragment::parse(&html, &marker))
        });
        let zone = ReaderZone::of_page();
        Suspend::new(async move {
            // To the second, so every reader in this zone this second gets the kept stitch.
            let zone = zone.await;
            let second = Utc::now().timestamp();
            let now = DateTime::from_timestamp(second, 0).unwrap_or_default();
            let html = fragment.stitch_kept(fragments::key(&(&zone, second)), |at, out| {
                write_time(at, now, &zone, out)
            });
            InertElement::new(html.to_string())
        })
    }
}
