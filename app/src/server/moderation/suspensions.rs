//! Suspensions: for a time or for good, lifted, and "remove spammer" (every post deleted and the
//! account suspended in one step).

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set};

use super::reason_text;
use crate::server::records::moderation_log::log;
use crate::server::{
    auth::{check_may_act_on, require_role},
    db::begin_write,
    entity::user,
    notify, posting,
};
use crate::{error::AppError, model::Role};

/// A suspension's reason is told to the member (hiding or deleting a post says "the author").
pub const SUSPENSION_REASON_NEEDED: &str = "Give a reason: the member will see it.";

pub const NOT_YOURSELF: &str = "You can't suspend yourself.";
/// "For good" is a date no one will see pass.
const FOR_GOOD: Duration = Duration::days(365 * 100);

/// Suspends a member for `days` (None: for good), ending their sessions.
pub async fn suspend(
    db: &DatabaseConnection,
    moderator: &user::Model,
    user_id: i64,
    days: Option<i64>,
    reason: &str,
) -> Result<user::Model, AppError> {
    require_role(Some(moderator.role()), Role::Moderator)?;
    let reason = reason.trim();
    if crate::server::invisible::is_blank(reason) {
        return Err(AppError::invalid("reason", SUSPENSION_REASON_NEEDED));
    }
    let reason = reason_text(reason)?;
    let reason = reason.as_str();
    if let Some(d) = days
        && ![1, 3, 7, 30].contains(&d)
    {
        return Err(AppError::invalid(
            "days",
            "Suspend for 1, 3, 7 or 30 days, or for good.",
        ));
    }
    let target = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no such member.".into()))?;
    check_can_suspend(moderator, &target)?;
    let txn = begin_write(db).await?;
    // Read again on the locked row: the same suspension sent again (a double click, two
    // moderators at once) is taken once. Twenty at once logged twenty suspensions and told the
    // member twenty times.
    let target = crate::server::records::users::locked(&txn, target.id).await?;
    if is_repeat(&target, days, reason) {
        return Ok(target);
    }
    let updated = suspend_in(&txn, moderator, &target, days, reason, "suspend").await?;
    txn.commit().await?;
    Ok(updated)
}

/// How close in time two suspensions of the same length and reason are the same one sent twice.
const REPEAT_WITHIN: Duration = Duration::minutes(1);

/// Whether `target`'s current suspension is the one `days` and `reason` would give, set within
/// `REPEAT_WITHIN`: a different length or reason, or the same later, is a new decision.
fn is_repeat(target: &user::Model, days: Option<i64>, reason: &str) -> bool {
    let would_end = Utc::now() + days.map_or(FOR_GOOD, Duration::days);
    target.suspension_reason.as_deref() == Some(reason)
        && target
            .suspended_until
            .is_some_and(|until| (would_end - until).abs() < REPEAT_WITHIN)
}

fn check_can_suspend(moderator: &user::Model, target: &user::Model) -> Result<(), AppError> {
    if target.id == moderator.id {
        return Err(AppError::Forbidden(NOT_YOURSELF.into()));
    }
    check_may_act_on(moderator, target)
}

async fn suspend_in(
    conn: &impl ConnectionTrait,
    moderator: &user::Model,
    target: &user::Model,
    days: Option<i64>,
    reason: &str,
    action: &str,
) -> Result<user::Model, AppError> {
    let until = Utc::now() + days.map_or(FOR_GOOD, Duration::days);
    let mut row: user::ActiveModel = target.clone().into();
    row.suspended_until = Set(Some(until));
    row.suspension_reason = Set(Some(reason.to_string()));
    let updated = row.update(conn).await?;
    crate::server::session_store::end_sessions(conn, target.id).await?;
    log(
        conn,
        moderator,
        action,
        None,
        None,
        Some(target.id),
        reason,
        false,
    )
    .await?;
    let how_long = match days {
        Some(1) => "for a day".to_string(),
        Some(d) => format!("for {}", crate::format::count(d, "day", "days")),
        None => "for good".to_string(),
    };
    notify::notify(
        conn,
        target.id,
        "suspended",
        &format!("Your account was suspended {how_long}. Reason: {reason}"),
        "",
    )
    .await?;
    Ok(updated)
}

pub async fn unsuspend(
    db: &DatabaseConnection,
    moderator: &user::Model,
    user_id: i64,
) -> Result<(), AppError> {
    require_role(Some(moderator.role()), Role::Moderator)?;
    let target = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no such member.".into()))?;
    check_may_act_on(moderator, &target)?;
    let txn = begin_write(db).await?;
    // Read again on the locked row: lifting a suspension that is not there (sent twice, or
    // never suspended) logs nothing and tells no one.
    let target = crate::server::records::users::locked(&txn, target.id).await?;
    if target
        .suspended_until
        .is_none_or(|until| until <= Utc::now())
    {
        return Ok(());
    }
    let mut row: user::ActiveModel = target.clone().into();
    row.suspended_until = Set(None);
    row.suspension_reason = Set(None);
    row.update(&txn).await?;
    log(
        &txn,
        moderator,
        "unsuspend",
        None,
        None,
        Some(target.id),
        "",
        false,
    )
    .await?;
    notify::notify(
        &txn,
        target.id,
        "unsuspended",
        "Your suspension was lifted.",
        "",
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// "Remove spammer": every post of the account deleted and the account suspended for good, in
/// one step.
pub async fn remove_spammer(
    db: &DatabaseConnection,
    moderator: &user::Model,
    user_id: i64,
    reason: &str,
) -> Result<u64, AppError> {
    require_role(Some(moderator.role()), Role::Moderator)?;
    let reason = if crate::server::invisible::is_blank(reason) {
        "Spam"
    } else {
        reason.trim()
    };
    let reason = reason_text(reason)?;
    let reason = reason.as_str();
    let target = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no such member.".into()))?;
    check_can_suspend(moderator, &target)?;
    if target.role().is_staff() {
        return Err(AppError::Forbidden(
            "Staff accounts can't be removed as spammers.".into(),
        ));
    }
    let txn = begin_write(db).await?;
    // The same removal sent again (a double click, two moderators at once) is taken once.
    let target = crate::server::records::users::locked(&txn, target.id).await?;
    if is_repeat(&target, None, reason) {
        return Ok(0);
    }
    let posts = posting::remove_all_by(&txn, target.id, reason).await?;
    // A spammer's votes are not support: they leave every count.
    crate::server::records::votes::remove_all_by(&txn, target.id).await?;
    // Their files answer "not found" from now on; the sweep takes the bytes.
    crate::server::uploads::remove_all_by(&txn, target.id).await?;
    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    crate::server::records::review_items::close_for_removed(
        &txn,
        &ids,
        moderator.id,
        "remove_spammer",
    )
    .await?;
    suspend_in(&txn, moderator, &target, None, reason, "remove_spammer").await?;
    txn.commit().await?;
    Ok(posts.len() as u64)
}
