//! One post on a topic page.
use leptos::prelude::*;

use super::{staff::AnswerButton, time::RelativeTime};
use crate::model::PostView;

/// `quote_href` is where "Quote" goes: this page with the post quoted into the reply box.
#[component]
pub fn PostCard(
    post: PostView,
    quote_href: String,
    /// For staff: the topic, and whether this post is its official answer.
    #[prop(default = None)]
    answer_tools: Option<(i64, bool)>,
) -> impl IntoView {
    let anchor = format!("post-{}", post.number);
    let heading_id = format!("post-{}-author", post.number);
    let labelled_by = heading_id.clone();
    let profile = format!("/u/{}", post.author_username);
    let edited = post.edited_at.map(|at| {
        let exact = format!("Edited {}", super::time::exact_utc(at));
        view! { <span class="edited" title=exact>"edited"</span> }
    });
    let badge = post.is_staff_reply.then(|| {
        let title = post.staff_title.clone().unwrap_or_else(|| "Staff".into());
        view! { <span class="staff-badge"><span class="visually-hidden">"Staff reply: "</span>{title}</span> }
    });
    view! {
        <article class="post" class:staff-post=post.is_staff_reply id=anchor.clone() aria-labelledby=labelled_by>
            <header class="post-meta">
                <a class="post-author" id=heading_id href=profile>{post.author_display_name.clone()}</a>
                {badge}
                <a class="post-time" href=format!("#{anchor}")><RelativeTime at=post.created_at /></a>
                {edited}
                <span class="post-number" aria-hidden="true">"#"{post.number}</span>
            </header>
            <div class="post-body" inner_html=post.html.clone()></div>
            <footer class="post-actions">
                <a href=quote_href data-quote=post.id>"Quote"</a>
                {post.editable.then(|| view! { <a href=format!("/p/{}/edit", post.id)>"Edit"</a> })}
                {answer_tools.map(|(topic_id, is_answer)| view! { <AnswerButton topic_id post_id=post.id is_answer /> })}
            </footer>
        </article>
    }
}

/// A page of posts, each with "Quote" pointing back at `here` (this page's URL) with the post
/// quoted into the reply box. Topics and articles' comments both show posts through this.
#[component]
pub fn PostList(
    posts: Vec<PostView>,
    here: String,
    /// For staff: the topic and its official answer, so replies offer "Mark as official answer".
    #[prop(default = None)]
    answer_tools: Option<(i64, Option<i64>)>,
) -> impl IntoView {
    let quote_base = if here.contains('?') {
        format!("{here}&")
    } else {
        format!("{here}?")
    };
    view! {
        <div class="posts">
            {posts
                .into_iter()
                .map(|post| {
                    let quote_href = format!("{quote_base}quote={}#composer", post.id);
                    let answer_tools = answer_tools
                        .filter(|_| post.number > 1)
                        .map(|(topic_id, answer)| (topic_id, answer == Some(post.id)));
                    view! { <PostCard post quote_href answer_tools /> }
                })
                .collect_view()}
        </div>
    }
}
