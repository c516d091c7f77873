//! Moderation: flags from members, the review queue, moderators' actions, the logs and
//! notifications. Every write is a POST from a plain form that comes back to its page.
use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{FlagTarget, ModerationLogPage, NotificationView, ReviewQueue},
};

#[cfg(feature = "ssr")]
use super::{act, signed_in};
#[cfg(feature = "ssr")]
use crate::server::{
    moderation::{self, PostAction, TopicAction},
    notify, state,
    views::confirm::DELETE_POSTS,
    views::moderation::ReviewFilter,
};

#[cfg(feature = "ssr")]
fn action_of(action: &str) -> Result<PostAction, AppError> {
    PostAction::parse(action).ok_or_else(|| AppError::invalid("action", moderation::ACTION_UNKNOWN))
}

/// A member flags a post (the form is on the post's flag page, /p/{id}/flag). A plain form
/// lands back on the post in its topic, told the flag was sent; a refused one goes back to the
/// flag page with the error in the form, whichever page sent it.
#[server(endpoint = "flag_post")]
pub async fn flag_post(post_id: i64, reason: String, note: String) -> Result<(), AppError> {
    let answer = super::Answer {
        fn_path: <FlagPost as leptos::server_fn::ServerFn>::PATH,
        done: "flagged",
        post: Some(post_id),
        anchor: format!("#status-post-{post_id}"),
        kept: vec![
            ("reason".into(), reason.clone()),
            ("note".into(), note.clone()),
        ],
        form: format!("flag-{post_id}"),
    };
    let result = async {
        let user = super::writer().await?;
        let db = state::db()?;
        let flag = moderation::flag_post(&db, &user, post_id, &reason, &note).await?;
        moderation::after_flag(&db, &user, flag.post_id).await
    }
    .await;
    match result {
        Ok(after) => {
            let (page, post, anchor) = match after {
                // The post's address in its topic (a flag that hid it does not move it).
                Some(moderation::AfterFlag::Post(url)) => (
                    url.split('#').next().unwrap_or_default().to_string(),
                    answer.post,
                    answer.anchor.clone(),
                ),
                Some(moderation::AfterFlag::Category(page)) => (page, None, "#status".into()),
                None => (super::page_of_form(), answer.post, answer.anchor.clone()),
            };
            let target = crate::components::form::with_done(&page, answer.done, post);
            super::redirect(&format!("{target}{anchor}"));
            Ok(())
        }
        Err(e) => super::fail_at(answer, e, &flag_page(post_id)),
    }
}

/// A post's flag page.
pub fn flag_page(post_id: i64) -> String {
    format!("/p/{post_id}/flag")
}

/// The post a member is about to flag, for its flag page: not found when they may not read
/// it, "log in" for a visitor.
#[server(endpoint = "flag_target")]
pub async fn get_flag_target(post_id: i64) -> Result<FlagTarget, AppError> {
    let viewer = state::current_user().await?;
    crate::server::moderation::flag_target(&state::db()?, viewer.as_ref(), post_id).await
}

/// A moderator acts on a post: approve, dismiss, hide, delete or restore, with a reason.
#[server(endpoint = "moderate_post")]
///
/// Deleting asks first (`confirmed`, see api::confirm).
pub async fn moderate_post(
    post_id: i64,
    action: String,
    reason: String,
    confirmed: Option<String>,
    // The review queue's item the form decides (see `moderation::act_on_item`).
    item: Option<i64>,
) -> Result<(), AppError> {
    let done = match action.as_str() {
        "approve" => "approved",
        "hide" => "hidden",
        "keep_hidden" => "kept_hidden",
        "delete" => "post_deleted",
        "restore" => "restored",
        "dismiss" => "dismissed",
        _ => "",
    };
    let answer = super::Answer {
        fn_path: <ModeratePost as leptos::server_fn::ServerFn>::PATH,
        done,
        post: Some(post_id),
        anchor: format!("#status-post-{post_id}"),
        form: format!("moderate-{post_id}"),
        kept: vec![
            ("action".into(), action.clone()),
            ("reason".into(), reason.clone()),
        ],
    };
    if action == "delete" && confirmed.is_none() {
        // Who may not delete is refused, and a delete without its reason is told so, before
        // anything is asked.
        let checked = async {
            let user = super::writer().await?;
            crate::server::auth::require_role(Some(user.role()), crate::model::Role::Moderator)?;
            moderation::check_reason(PostAction::Delete, &reason).map(|_| ())
        };
        if let Err(e) = checked.await {
            return super::fail(answer, e);
        }
        // The queue's item goes along, so the confirmed delete still decides it.
        let item = item.map(|i| i.to_string()).unwrap_or_default();
        if !super::confirmed_or_ask(&confirmed, "delete_post", post_id, &item, &reason).await? {
            return Ok(());
        }
    }
    super::act_to(answer, |db, user| async move {
        let action = action_of(&action)?;
        match item {
            Some(item) => moderation::act_on_item(&db, &user, item, post_id, action, &reason).await,
            None => moderation::act_on_post(&db, &user, post_id, action, &reason).await,
        }
    })
    .await
}

/// One action on the selected review items. A plain form comes back to the queue told how many
/// posts it was taken on and how many items were left; refused, the bar says why with the
/// action, the reason and the selection as they were sent.
#[server(endpoint = "moderate_bulk")]
///
/// Deleting asks first (`confirmed`, see api::confirm), as a single delete does.
pub async fn moderate_bulk(
    action: String,
    reason: String,
    items: Option<Vec<i64>>,
    confirmed: Option<String>,
) -> Result<(), AppError> {
    let items = items.unwrap_or_default();
    let selection: Vec<String> = items.iter().map(i64::to_string).collect();
    let answer = super::Answer {
        fn_path: <ModerateBulk as leptos::server_fn::ServerFn>::PATH,
        done: "",
        post: None,
        anchor: "#status".into(),
        form: BULK_FORM.into(),
        kept: vec![
            ("action".into(), action.clone()),
            ("reason".into(), reason.clone()),
            ("items".into(), selection.join(",")),
        ],
    };
    // Back to the queue, with its filters and page when it was sent from there: the bar is
    // only on it.
    let page = Some(super::page_of_form())
        .filter(|page| page.split(['?', '#']).next() == Some(REVIEW_QUEUE))
        .unwrap_or_else(|| REVIEW_QUEUE.to_string());
    if action == "delete" && confirmed.is_none() {
        // Who may not delete, a delete without its reason, and items with nothing to delete
        // are refused before anything is asked.
        let checked = async {
            let user = super::writer().await?;
            moderation::bulk_delete_confirmation(&state::db()?, &user, &items, &reason).await
        }
        .await;
        if let Err(e) = checked {
            return super::fail_at(answer, e, &page);
        }
        // Each item once, in order: the question's address carries them.
        let mut ids = items.clone();
        ids.sort_unstable();
        ids.dedup();
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        if !super::confirmed_or_ask(&confirmed, DELETE_POSTS, 0, &ids.join(","), &reason).await? {
            return Ok(());
        }
    }
    let result = async {
        let user = super::writer().await?;
        let action = action_of(&action)?;
        let done = moderation::bulk(&state::db()?, &user, &items, action, &reason).await?;
        Ok::<_, AppError>(crate::components::form::bulk_done(
            action.as_str(),
            done.acted,
            done.left,
        ))
    }
    .await;
    match result {
        Ok(done) => {
            let target = crate::components::form::with_done(&page, &done, None);
            super::redirect(&format!("{target}{}", answer.anchor));
            Ok(())
        }
        Err(e) => super::fail_at(answer, e, &page),
    }
}

/// The review queue's page.
#[cfg(feature = "ssr")]
const REVIEW_QUEUE: &str = "/admin/review";

/// The review queue's form for an action on the selected items, as its errors name it.
pub const BULK_FORM: &str = "bulk";

/// Lock, unlock, pin or unpin a topic.
#[server(endpoint = "moderate_topic")]
pub async fn moderate_topic(topic_id: i64, action: String, reason: String) -> Result<(), AppError> {
    act("#moderator-tools", |db, user| async move {
        let action = TopicAction::parse(&action)
            .ok_or_else(|| AppError::invalid("action", moderation::ACTION_UNKNOWN))?;
        moderation::act_on_topic(&db, &user, topic_id, action, &reason).await
    })
    .await
}

#[server(endpoint = "move_topic")]
pub async fn move_topic(topic_id: i64, category: String, reason: String) -> Result<(), AppError> {
    act("#moderator-tools", |db, user| async move {
        moderation::move_topic(&db, &user, topic_id, &category, &reason).await
    })
    .await
}

/// Suspend a member: `days` is 1, 3, 7, 30 or "forever".
#[server(endpoint = "suspend_member")]
pub async fn suspend_member(user_id: i64, days: String, reason: String) -> Result<(), AppError> {
    act("", |db, user| async move {
        let days = match days.as_str() {
            "forever" => None,
            d => Some(d.parse::<i64>().map_err(|_| {
                AppError::invalid("days", "Suspend for 1, 3, 7 or 30 days, or for good.")
            })?),
        };
        moderation::suspend(&db, &user, user_id, days, &reason)
            .await
            .map(|_| ())
    })
    .await
}

#[server(endpoint = "unsuspend_member")]
pub async fn unsuspend_member(user_id: i64) -> Result<(), AppError> {
    act("", |db, user| async move {
        moderation::unsuspend(&db, &user, user_id).await
    })
    .await
}

/// Deletes every post of the account and suspends it for good, in one step.
#[server(endpoint = "remove_spammer")]
///
/// Asks first (`confirmed`, see api::confirm).
pub async fn remove_spammer(
    user_id: i64,
    reason: String,
    confirmed: Option<String>,
) -> Result<(), AppError> {
    if !super::confirmed_or_ask(&confirmed, "remove_spammer", user_id, "", &reason).await? {
        return Ok(());
    }
    let answer = super::Answer {
        fn_path: <RemoveSpammer as leptos::server_fn::ServerFn>::PATH,
        done: "spammer_removed",
        post: None,
        anchor: "#status".into(),
        form: String::new(),
        kept: Vec::new(),
    };
    super::act_to(answer, |db, user| async move {
        moderation::remove_spammer(&db, &user, user_id, &reason)
            .await
            .map(|_| ())
    })
    .await
}

#[server(endpoint = "review_queue")]
pub async fn get_review_queue(
    kind: Option<String>,
    reason: Option<String>,
    category: Option<String>,
    state: Option<String>,
    page: u64,
) -> Result<ReviewQueue, AppError> {
    let user = signed_in().await?;
    let filter = ReviewFilter {
        kind,
        reason,
        category,
        state,
    };
    let app = state::app_state()?;
    crate::server::views::moderation::review_queue(&app.db, &user, filter, page, &app.review_open)
        .await
}

#[server(endpoint = "moderation_log")]
pub async fn get_moderation_log(public: bool, page: u64) -> Result<ModerationLogPage, AppError> {
    let user = state::current_user().await?;
    if !public && user.is_none() {
        return Err(AppError::Forbidden(super::SIGNED_OUT.into()));
    }
    crate::server::views::moderation::log_page(&state::db()?, user.as_ref(), public, page).await
}

#[server(endpoint = "notifications")]
pub async fn get_notifications() -> Result<Vec<NotificationView>, AppError> {
    let user = state::current_user()
        .await?
        .ok_or_else(|| AppError::SignInRequired("Log in to see your notifications.".into()))?;
    notify::list(&state::db()?, user.id).await
}

#[server(endpoint = "mark_notifications_read")]
pub async fn mark_notifications_read() -> Result<(), AppError> {
    act("", |db, user| async move {
        notify::mark_all_read(&db, user.id).await
    })
    .await
}

#[server(endpoint = "moderation_settings")]
pub async fn get_moderation_settings() -> Result<crate::model::ModerationSettings, AppError> {
    let user = signed_in().await?;
    crate::server::views::moderation::settings_page(&state::db()?, &user).await
}

#[server(endpoint = "save_moderation_settings")]
pub async fn save_moderation_settings(
    flag_threshold: String,
    new_member_hold: String,
    posts_per_10_min: String,
    topics_per_hour: String,
    flags_per_hour: String,
    log_public: Option<String>,
) -> Result<(), AppError> {
    use crate::server::settings;
    act("#settings", |db, user| async move {
        let values = [
            (settings::FLAG_THRESHOLD.0, flag_threshold.as_str()),
            (settings::NEW_MEMBER_HOLD.0, new_member_hold.as_str()),
            (settings::POSTS_PER_10_MIN.0, posts_per_10_min.as_str()),
            (settings::TOPICS_PER_HOUR.0, topics_per_hour.as_str()),
            (settings::FLAGS_PER_HOUR.0, flags_per_hour.as_str()),
        ];
        moderation::save_settings(&db, &user, &values, log_public.is_some()).await
    })
    .await
}

#[server(endpoint = "add_watched_word")]
pub async fn add_watched_word(word: String, action: String) -> Result<(), AppError> {
    act("#watched-words", |db, user| async move {
        moderation::add_watched_word(&db, &user, &word, &action).await
    })
    .await
}

#[server(endpoint = "remove_watched_word")]
pub async fn remove_watched_word(id: i64) -> Result<(), AppError> {
    act("#watched-words", |db, user| async move {
        moderation::remove_watched_word(&db, &user, id).await
    })
    .await
}

/// A moderator accepts the votes a burst review holds: they count.
#[server(endpoint = "accept_vote_burst")]
pub async fn accept_vote_burst(item_id: i64) -> Result<(), AppError> {
    act("", |db, user| async move {
        crate::server::ideas::accept_burst(&db, &user, item_id)
            .await
            .map(|_| ())
    })
    .await
}

/// A moderator rejects the votes a burst review holds: they go, and their accounts are flagged.
#[server(endpoint = "reject_vote_burst")]
pub async fn reject_vote_burst(item_id: i64) -> Result<(), AppError> {
    act("", |db, user| async move {
        crate::server::ideas::reject_burst(&db, &user, item_id)
            .await
            .map(|_| ())
    })
    .await
}
