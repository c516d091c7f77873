use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::{
    api::forum::get_user_profile,
    components::{
        avatar::{Avatar, AvatarSize},
        form::Status,
        page::{ErrorView, PageMeta},
        staff::{MemberTools, StaffError},
        time::RelativeTime,
    },
    context::Site,
    model::post_url,
    pages::category::TopicRow,
};

/// /u/{username}: who a member is and what they wrote lately.
#[component]
pub fn UserPage() -> impl IntoView {
    let username = use_params_map()
        .get_untracked()
        .get("username")
        .unwrap_or_default();
    let site = expect_context::<Site>().0;
    let data = OnceResource::new(get_user_profile(username));
    view! {
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let u = match data.await {
                    Ok(u) => u,
                    Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                };
                let site = site.await.unwrap_or_default();
                if u.deleted {
                    return view! { <DeletedAccount site username=u.username.clone() posts=u.post_count /> }.into_any();
                }
                let role = match (&u.staff_title, u.role.is_staff()) {
                    (Some(title), true) => format!("{} · {}", u.role.label(), title),
                    _ => u.role.label().to_string(),
                };
                let description = format!("{} ({role}) on {}: {}, {}.", u.display_name, site.name, crate::format::count(u.topic_count as i64, "topic", "topics"), crate::format::count(u.post_count as i64, "post", "posts"));
                view! {
                    <PageMeta site title=u.display_name.clone() description path=format!("/u/{}", u.username) og_type="profile" noindex=u.topic_count == 0 && u.post_count == 0 />
                    <Status />
                    <header class="profile-header">
                        <Avatar name=u.display_name.clone() username=u.username.clone() upload=u.avatar_upload_id size=AvatarSize::Large />
                        <div class="profile-facts">
                            <h1>{u.display_name.clone()}</h1>
                            <p class="muted">
                                "@"{u.username.clone()} " · "
                                <span class:staff-badge=u.role.is_staff()>{role}</span>
                                " · joined " <RelativeTime at=u.joined_at />
                            </p>
                            <p class="muted">{format!("{} · {}", crate::format::count(u.topic_count as i64, "topic", "topics"), crate::format::count(u.post_count as i64, "post", "posts"))}</p>
                            {u.staff_answers.map(|a| view! {
                                <p class="muted staff-answers">{format!(
                                    "{} · {}",
                                    crate::format::count(a.replies as i64, "staff reply", "staff replies"),
                                    crate::format::count(a.official as i64, "official answer", "official answers")
                                )}</p>
                            })}
                            {(!u.bio_html.is_empty()).then(|| view! { <div class="profile-bio post-body" inner_html=u.bio_html.clone()></div> })}
                            {u.uploads_used.map(|used| view! {
                                <p class="muted uploads-used">{format!(
                                    "Uploads: {}, {}",
                                    crate::format::count(used.files as i64, "file", "files"),
                                    used.size
                                )}</p>
                            })}
                            {(u.viewer_is_moderator && u.suspended).then(|| view! { <p class="tag state-tag">"Suspended"</p> })}
                            {u.viewer_is_moderator.then(|| view! { <StaffError /> <MemberTools user_id=u.id suspended=u.suspended /> })}
                        </div>
                    </header>
                    <section aria-labelledby="recent-topics">
                        <h2 id="recent-topics">"Topics"</h2>
                        {if u.topics.is_empty() {
                            view! { <p class="empty">"No topics yet."</p> }.into_any()
                        } else {
                            view! { <ul class="topic-list">{u.topics.into_iter().map(|t| view! { <TopicRow topic=t /> }).collect_view()}</ul> }.into_any()
                        }}
                    </section>
                    <section aria-labelledby="recent-posts">
                        <h2 id="recent-posts">"Recent posts"</h2>
                        {if u.posts.is_empty() {
                            view! { <p class="empty">"No posts yet."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="activity-list">
                                    {u.posts
                                        .into_iter()
                                        .map(|p| {
                                            let href = post_url(p.topic_id, &p.topic_slug, p.number);
                                            view! {
                                                <li>
                                                    <a href=href>{p.topic_title}</a>
                                                    " " <RelativeTime at=p.created_at />
                                                    <p class="muted">{p.excerpt}</p>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                            .into_any()
                        }}
                    </section>
                }
                .into_any()
            })}
        </Suspense>
    }
}

/// A deleted account's page: that it was deleted, and nothing to do about it (no name, picture,
/// message or moderation tools: nothing of the person is left to act on).
#[component]
fn DeletedAccount(site: crate::model::SiteInfo, username: String, posts: u64) -> impl IntoView {
    view! {
        <PageMeta site title="Deleted account".to_string() description="This account was deleted.".to_string() path=format!("/u/{username}") og_type="profile" noindex=true />
        <Status />
        <section class="deleted-account">
            <h1>"Deleted account"</h1>
            <p class="notice">"This account was deleted. Nothing can be done with it any more."</p>
            {(posts > 0).then(|| view! {
                <p class="muted">{format!("Its {posts} {} stay in their topics, signed “deleted user”.", if posts == 1 { "post" } else { "posts" })}</p>
            })}
        </section>
    }
}
