//! Staff response: the queue and figures pages' data, and the staff actions on a topic. Every
//! action is a POST from a plain form (it works the same with and without JavaScript) that
//! comes back to the page it was sent from.
use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{Accountability, StaffMetrics, StaffQueue},
};

pub use super::SIGNED_OUT;
#[cfg(feature = "ssr")]
use super::{act, signed_in};
#[cfg(feature = "ssr")]
use crate::server::{settings, staff, state};

#[server(endpoint = "staff_queue")]
pub async fn get_staff_queue(category: Option<String>, page: u64) -> Result<StaffQueue, AppError> {
    let user = signed_in().await?;
    let app = state::app_state()?;
    crate::server::views::staff::queue(&app.db, &user, category.as_deref(), page, &app.waiting)
        .await
}

#[server(endpoint = "staff_metrics")]
pub async fn get_staff_metrics() -> Result<StaffMetrics, AppError> {
    let user = signed_in().await?;
    crate::server::views::staff::metrics(&state::db()?, &user).await
}

#[server(endpoint = "accountability")]
pub async fn get_accountability() -> Result<Accountability, AppError> {
    crate::server::views::staff::accountability(&state::db()?).await
}

#[server(endpoint = "set_topic_status")]
pub async fn set_topic_status(topic_id: i64, status: String, note: String) -> Result<(), AppError> {
    act("#staff-tools", |db, user| async move {
        staff::set_status(&db, &user, topic_id, &status, &note)
            .await
            .map(|_| ())
    })
    .await
}

#[server(endpoint = "mark_answer")]
pub async fn mark_answer(topic_id: i64, post_id: i64) -> Result<(), AppError> {
    let answer = super::Answer {
        fn_path: <MarkAnswer as leptos::server_fn::ServerFn>::PATH,
        done: "answer",
        post: Some(post_id),
        anchor: format!("#status-post-{post_id}"),
        // Its errors show in the staff tools: a post that is not a reply here has no button.
        form: String::new(),
        kept: Vec::new(),
    };
    super::act_to(answer, |db, user| async move {
        staff::mark_answer(&db, &user, topic_id, post_id)
            .await
            .map(|_| ())
    })
    .await
}

#[server(endpoint = "unmark_answer")]
pub async fn unmark_answer(topic_id: i64) -> Result<(), AppError> {
    act("", |db, user| async move {
        staff::unmark_answer(&db, &user, topic_id).await.map(|_| ())
    })
    .await
}

#[server(endpoint = "no_reply_needed")]
pub async fn no_reply_needed(topic_id: i64, reason: String) -> Result<(), AppError> {
    act("#staff-tools", |db, user| async move {
        staff::no_reply_needed(&db, &user, topic_id, &reason)
            .await
            .map(|_| ())
    })
    .await
}

/// "Did this solve it?": `solved` is "yes" or "no".
#[server(endpoint = "confirm_resolution")]
pub async fn confirm_resolution(topic_id: i64, solved: String) -> Result<(), AppError> {
    act("", |db, user| async move {
        let solved = match solved.as_str() {
            "yes" => true,
            "no" => false,
            _ => return Err(AppError::invalid("form", "Answer yes or no.")),
        };
        staff::confirm_resolution(&db, &user, topic_id, solved)
            .await
            .map(|_| ())
    })
    .await
}

/// Admins set a category's response target, in hours (fractions allowed: 0.5 is 30 minutes).
#[server(endpoint = "set_response_target")]
pub async fn set_response_target(category: String, hours: String) -> Result<(), AppError> {
    act("#targets", |db, user| async move {
        let minutes = settings::hours_to_minutes(&hours);
        staff::set_response_target(&db, &user, &category, minutes).await
    })
    .await
}

/// Admins switch the public accountability page on or off.
#[server(endpoint = "set_accountability")]
pub async fn set_accountability(public: String) -> Result<(), AppError> {
    act("#accountability", |db, user| async move {
        settings::set_accountability_public(&db, &user, public == "on").await
    })
    .await
}

/// /roadmap: for everyone while the admins keep it public; staff may preview it when it is off.
#[server(endpoint = "roadmap")]
pub async fn get_roadmap() -> Result<crate::model::Roadmap, AppError> {
    let user = state::current_user().await?;
    crate::server::views::ideas::roadmap(&state::db()?, user.as_ref()).await
}

/// /staff/ideas: ideas by votes, filtered as in its form.
#[server(endpoint = "staff_ideas")]
pub async fn get_staff_ideas(
    category: Option<String>,
    status: Option<String>,
    verified_only: bool,
    from: Option<String>,
    to: Option<String>,
    page: u64,
) -> Result<crate::model::StaffIdeas, AppError> {
    let user = signed_in().await?;
    let filter = crate::server::views::ideas::IdeasFilter {
        category,
        status,
        verified_only,
        from,
        to,
    };
    crate::server::views::ideas::staff_ideas(&state::db()?, &user, filter, page).await
}
