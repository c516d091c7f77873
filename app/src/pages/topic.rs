use crate::components::category_colours::colour_class;
use leptos::{prelude::*, server_fn::ServerFn};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::{
        forum::{ComposerKind, CreateReply, get_composer_start, get_topic_page},
        ideas::{MergeIdea, Vote},
        subscriptions::SetTopicLevel,
    },
    components::{
        avatar::{Avatar, AvatarSize},
        composer::ReplyComposer,
        follow::{FollowControl, SignInToFollow},
        form::{Status, error_from_url},
        page::{ErrorView, JsonLd, PageMeta, query_number, redirect_permanently},
        pager::Pager,
        post::PostList,
        staff::{
            ConfirmBox, ConfirmRefused, ModeratorTools, ResponseBadge, StaffBadge, StaffTools,
            StatusTag,
        },
        time::RelativeTime,
        vote::IdeaVoting,
    },
    context::{CurrentUser, Site},
    error::AppError,
    model::{PostView, TopicEventView, post_url, topic_url},
};

/// /t/{id}/{slug}?page=N: the posts in order, 30 a page, and the reply box.
#[component]
pub fn TopicPage() -> impl IntoView {
    let params = use_params_map().get_untracked();
    let query = use_query_map().get_untracked();
    let id: Option<i64> = params.get("id").and_then(|v| v.parse().ok());
    let slug = params.get("slug").unwrap_or_default();
    let page: u64 = query_number(&query, "page").unwrap_or(1);
    let quote: Option<i64> = query_number(&query, "quote");
    let initial_error = error_from_url::<CreateReply>();
    let follow_error = error_from_url::<SetTopicLevel>();
    let vote_error = error_from_url::<Vote>();
    let merge_error = error_from_url::<MergeIdea>();
    let (site, me) = (
        expect_context::<Site>().0,
        expect_context::<CurrentUser>().0,
    );
    let topic = OnceResource::new(async move {
        match id {
            Some(id) => get_topic_page(id, page).await,
            None => Err(AppError::NotFound("There is no such topic.".into())),
        }
    });
    let composer = OnceResource::new(get_composer_start(
        ComposerKind::Reply(id.unwrap_or(0)),
        quote,
    ));

    view! {
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading the topic…"</p> }>
            {move || {
                let (slug, initial_error, follow_error) = (slug.clone(), initial_error.clone(), follow_error.clone());
                let (vote_error, merge_error) = (vote_error.clone(), merge_error.clone());
                Suspend::new(async move {
                    let t = match topic.await {
                        Ok(t) => t,
                        Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                    };
                    // An article's comments live on the article's page.
                    if let Some(path) = &t.article_path {
                        redirect_permanently(&if t.page > 1 { format!("{path}?page={}", t.page) } else { path.clone() });
                        return ().into_any();
                    }
                    if t.slug != slug {
                        redirect_permanently(&t.url());
                        return ().into_any();
                    }
                    let site = site.await.unwrap_or_default();
                    let signed_in = matches!(me.await, Ok(Some(_)));
                    let base = topic_url(t.id, &t.slug, 1);
                    let here = t.url();
                    let replies = t.post_count - 1;
                    let composer = match (t.locked, composer.await) {
                        _ if t.category_archived => view! { <p class="notice" id="composer">"This category is archived: its topics take no new replies."</p> }.into_any(),
                        (true, _) => view! { <p class="notice" id="composer">"This topic is locked: it takes no new replies."</p> }.into_any(),
                        (false, Ok(start)) => view! { <ReplyComposer topic_id=t.id start initial_error signed_in comment=false /> }.into_any(),
                        (false, Err(e)) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    };
                    let answer_tools = t.viewer_is_staff.then_some((t.id, t.official_answer.as_ref().map(|a| a.id)));
                    // Page 1 shows the official answer right under the first post.
                    let mut rest = t.posts;
                    let first = if t.page == 1 && !rest.is_empty() && rest[0].number == 1 { vec![rest.remove(0)] } else { Vec::new() };
                    let answer_box = t.official_answer.clone().filter(|_| t.page == 1).map(|a| view! { <OfficialAnswer answer=a topic_id=t.id slug=t.slug.clone() /> });
                    // The box sits right after the first post: when the answer is also the next
                    // post, the thread shows a marker there instead of the same text twice.
                    let answer_shown_above = t.official_answer.as_ref().filter(|_| t.page == 1 && !first.is_empty()).map(|a| a.id);
                    let confirm = if t.asks_viewer_to_confirm {
                        Some(view! { <ConfirmBox topic_id=t.id /> }.into_any())
                    } else {
                        (!t.viewer_is_staff).then(|| view! { <ConfirmRefused /> }.into_any())
                    };
                    let follow = match t.follow_level.clone() {
                        Some(level) => view! { <FollowControl topic_id=t.id level initial_error=follow_error /> }.into_any(),
                        None => view! { <SignInToFollow here=here.clone() what="follow this topic" /> }.into_any(),
                    };
                    let history = (!t.events.is_empty()).then(|| view! { <TopicHistory events=t.events.clone() /> });
                    let tools = t.viewer_is_staff.then(|| view! { <StaffTools topic_id=t.id status=t.status.clone() awaiting=t.awaiting_staff_since.is_some() /> });
                    let moderator_tools = t.viewer_is_moderator.then(|| view! {
                        <ModeratorTools topic_id=t.id locked=t.locked pinned=t.pinned categories=t.move_targets.clone() current=t.category.slug.clone() />
                    });
                    let voting = t.votes.clone().map(|votes| view! { <IdeaVoting votes title=t.title.clone() initial_error=vote_error.clone() /> });
                    let merge = t.votes.as_ref().filter(|v| t.viewer_is_staff && v.merged_into.is_none()).map(|_| view! { <MergeTool topic_id=t.id error=merge_error /> });
                    let confirmed = t.resolution_confirmed_at.is_some();
                    let approves = (t.held && t.viewer_is_moderator).then(|| view! {
                        <p class="notice" id="approves-on-reply">"This topic waits for approval: your reply approves it and makes it public. To refuse it instead, delete its first post."</p>
                    });
                    view! {
                        <PageMeta site title=t.title.clone() description=t.summary.clone() path=here.clone() og_type="article" />
                        {t.structured_data.clone().map(|json| view! { <JsonLd json /> })}
                        <Status />
                        <article class="topic">
                            <header class="topic-header">
                                <a class=format!("category-chip {}", colour_class(&t.category.slug)) href=format!("/c/{}", t.category.slug)>
                                    {t.category.name.clone()}
                                </a>
                                <h1>{t.title.clone()}</h1>
                                <p class="topic-badges">
                                    <StatusTag status=t.status.clone() confirmed />
                                    <ResponseBadge staff_reply_minutes=t.staff_reply_minutes awaiting_since=t.awaiting_staff_since held=t.held />
                                </p>
                                {voting}
                                <p class="muted topic-facts">
                                    "Started by " <a href=format!("/u/{}", t.author_username)>{t.author_username.clone()}</a> " "
                                    <RelativeTime at=t.created_at /> " · "
                                    {crate::format::count(replies as i64, "reply", "replies")}
                                    {(t.page_count > 1).then(|| format!(" · page {} of {}", t.page, t.page_count))}
                                </p>
                            </header>
                            {confirm}
                            <PostList posts=first here=here.clone() answer_tools=answer_tools signed_in moderator=t.viewer_is_moderator opening=true />
                            {answer_box}
                            <PostList posts=rest here=here.clone() answer_tools=answer_tools signed_in moderator=t.viewer_is_moderator answer_shown_above />
                            <Pager base page=t.page page_count=t.page_count />
                        </article>
                        {follow}
                        {history}
                        {tools}
                        {merge}
                        {moderator_tools}
                        {approves}
                        {composer}
                    }
                    .into_any()
                })
            }}
        </Suspense>
    }
}

/// The official answer, right under the first post, with a link to it in place.
#[component]
fn OfficialAnswer(answer: PostView, topic_id: i64, slug: String) -> impl IntoView {
    let in_place = post_url(topic_id, &slug, answer.number);
    view! {
        <section class="official-answer" id="official-answer" aria-labelledby="official-answer-heading">
            <h2 id="official-answer-heading">"Official answer"</h2>
            <p class="post-meta">
                <Avatar name=answer.author_display_name.clone() username=answer.author_username.clone() upload=answer.author_avatar size=AvatarSize::Medium />
                <a class="post-author" href=format!("/u/{}", answer.author_username)>{answer.author_display_name.clone()}</a>
                {answer.is_staff_reply.then(|| view! { <StaffBadge title=answer.staff_title.clone() /> })}
                <a href=in_place>{format!("See it in the thread (#{})", answer.number)}</a>
            </p>
            <div class="post-body" inner_html=answer.html></div>
        </section>
    }
}

/// Staff actions and confirmations, oldest first.
#[component]
fn TopicHistory(events: Vec<TopicEventView>) -> impl IntoView {
    view! {
        <section class="topic-history" aria-labelledby="history-heading">
            <h2 id="history-heading">"History"</h2>
            <ol>
                {events
                    .into_iter()
                    .map(|e| {
                        // A status note is a post in the thread already; other notes show here.
                        let note = (e.kind != "status" && !e.note.is_empty()).then(|| e.note.clone());
                        view! {
                            <li class:staff-only=e.staff_only>
                                {e.sentence()} " · " <RelativeTime at=e.created_at />
                                {e.staff_only.then(|| view! { <span class="tag">"Staff only"</span> })}
                                {note.map(|n| view! { <p class="muted">{n}</p> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </section>
    }
}

/// Staff mark this idea as a duplicate of another: its votes and followers move there.
#[component]
fn MergeTool(topic_id: i64, error: Option<AppError>) -> impl IntoView {
    let field_error = error.as_ref().and_then(|e| e.for_field("original"));
    let form_error = error.as_ref().and_then(|e| e.for_form(&["original"]));
    let invalid = field_error.is_some();
    view! {
        <section class="staff-tools merge-tool" id="merge" aria-labelledby="merge-heading">
            <h2 id="merge-heading">"Merge into another idea"</h2>
            {form_error.map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <form method="post" action=MergeIdea::url() class="stack">
                <input type="hidden" name="topic_id" value=topic_id />
                <div class="field" class:has-error=invalid>
                    <label for="field-original">"The original idea"</label>
                    <p class="hint" id="field-original-hint">"Its number or its address. This idea's votes and followers move there, it is closed with a link to the original, and its voters are told."</p>
                    <input id="field-original" name="original" required aria-describedby="field-original-hint field-original-error" aria-invalid=invalid.to_string() />
                    <p class="field-error" id="field-original-error" aria-live="polite">{field_error}</p>
                </div>
                <div class="field">
                    <label for="field-merge-note">"Note to its voters (optional)"</label>
                    <textarea id="field-merge-note" name="note" rows="2" maxlength="1000"></textarea>
                </div>
                <button type="submit" class="button">"Merge"</button>
            </form>
        </section>
    }
}
