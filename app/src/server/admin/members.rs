//! Admins' members: roles, logging out everywhere, deleting an account, deciding sign-ups; never\nleaving the site without an admin.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};

use crate::server::records::users::member;
use crate::server::{auth::require_role, db::begin_write, entity::user};
use crate::{error::AppError, model::Role};

pub const LAST_ADMIN: &str = "Backyard needs at least one admin: make someone else an admin first.";

pub const NOT_YOURSELF: &str = "You can't do that to your own account here.";

pub const ROLE_UNKNOWN: &str = "Choose customer, staff, moderator or admin.";

/// Refuses a change that would leave no admin.
async fn check_not_last_admin(
    conn: &impl ConnectionTrait,
    target: &user::Model,
) -> Result<(), AppError> {
    if target.role() != Role::Admin {
        return Ok(());
    }
    let admins = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .count(conn)
        .await?;
    if admins <= 1 {
        return Err(AppError::invalid("role", LAST_ADMIN));
    }
    Ok(())
}

/// An admin action about a member, in the moderation log.
async fn log_about(
    conn: &impl ConnectionTrait,
    actor: &user::Model,
    action: &str,
    user_id: i64,
    reason: &str,
) -> Result<(), AppError> {
    crate::server::records::moderation_log::log(
        conn,
        actor,
        action,
        None,
        None,
        Some(user_id),
        reason,
        false,
    )
    .await
}

/// Admins change a member's role and staff title (the title only shows for staff and above).
pub async fn set_role(
    db: &DatabaseConnection,
    actor: &user::Model,
    user_id: i64,
    role: &str,
    title: &str,
) -> Result<user::Model, AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    let role = Role::parse(role).ok_or_else(|| AppError::invalid("role", ROLE_UNKNOWN))?;
    let title = crate::server::content::strip_direction_overrides(title);
    let title = crate::server::invisible::trimmed_or_nothing(&title);
    if title.chars().count() > 64 {
        return Err(AppError::invalid(
            "title",
            "Titles can be at most 64 characters.",
        ));
    }
    let txn = begin_write(db).await?;
    let target = member(&txn, user_id).await?;
    if role != Role::Admin {
        check_not_last_admin(&txn, &target).await?;
    }
    let before = format!(
        "{} ({})",
        target.role().label(),
        target.staff_title.clone().unwrap_or_default()
    );
    let mut row: user::ActiveModel = target.into();
    row.role = Set(role.as_str().into());
    row.staff_title = Set((role.is_staff() && !title.is_empty()).then(|| title.to_string()));
    let updated = row.update(&txn).await?;
    // The log says what was stored: a customer has no title, whatever the form sent.
    let stored_title = updated.staff_title.as_deref().unwrap_or_default();
    log_about(
        &txn,
        actor,
        "role",
        user_id,
        &format!("{before} → {} ({stored_title})", role.label()),
    )
    .await?;
    crate::server::notify::notify(
        &txn,
        user_id,
        "role",
        &format!(
            "Your role is now {}{}.",
            role.label(),
            if stored_title.is_empty() {
                String::new()
            } else {
                format!(", {stored_title}")
            }
        ),
        "",
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Ends every session of a member (moderators and admins).
pub async fn log_out_everywhere(
    db: &DatabaseConnection,
    actor: &user::Model,
    user_id: i64,
) -> Result<u64, AppError> {
    require_role(Some(actor.role()), Role::Moderator)?;
    let txn = begin_write(db).await?;
    let target = member(&txn, user_id).await?;
    crate::server::auth::check_may_act_on(actor, &target)?;
    let ended = crate::server::session_store::end_sessions(&txn, target.id).await?;
    log_about(&txn, actor, "log_out_everywhere", target.id, "").await?;
    txn.commit().await?;
    Ok(ended)
}

/// Admins delete an account: its posts stay, signed "deleted user", or are removed too. The
/// account row stays (posts point at it) with nothing personal left in it.
pub async fn delete_account(
    db: &DatabaseConnection,
    actor: &user::Model,
    user_id: i64,
    remove_posts: bool,
) -> Result<(), AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    if actor.id == user_id {
        return Err(AppError::invalid("form", NOT_YOURSELF));
    }
    let txn = begin_write(db).await?;
    // Locked first: a post its member is sending now is swept with the rest, or refused.
    let target = crate::server::records::users::locked(&txn, user_id).await?;
    check_not_last_admin(&txn, &target).await?;
    if remove_posts {
        let removed =
            crate::server::posting::remove_all_by(&txn, target.id, "The account was deleted.")
                .await?;
        let ids: Vec<i64> = removed.iter().map(|p| p.id).collect();
        crate::server::records::review_items::close_for_removed(
            &txn,
            &ids,
            actor.id,
            "delete_account",
        )
        .await?;
        // Its votes go with its posts; kept, they stay as anonymous support.
        crate::server::records::votes::remove_all_by(&txn, target.id).await?;
        crate::server::uploads::remove_all_by(&txn, target.id).await?;
    }
    crate::server::session_store::end_sessions(&txn, target.id).await?;
    crate::server::records::users::void_reset_links(&txn, target.id).await?;
    {
        use crate::server::entity::{
            category_watch, email_token, mail_preference, member_draft, topic_follow,
        };
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        email_token::Entity::delete_many()
            .filter(email_token::Column::UserId.eq(target.id))
            .exec(&txn)
            .await?;
        topic_follow::Entity::delete_many()
            .filter(topic_follow::Column::UserId.eq(target.id))
            .exec(&txn)
            .await?;
        category_watch::Entity::delete_many()
            .filter(category_watch::Column::UserId.eq(target.id))
            .exec(&txn)
            .await?;
        mail_preference::Entity::delete_many()
            .filter(mail_preference::Column::UserId.eq(target.id))
            .exec(&txn)
            .await?;
        // What they were writing goes with them.
        member_draft::Entity::delete_many()
            .filter(member_draft::Column::UserId.eq(target.id))
            .exec(&txn)
            .await?;
        // And mail not yet sent to the address they had (a confirmation, a notification).
        crate::server::entity::email::Entity::delete_many()
            .filter(crate::server::entity::email::Column::UserId.eq(target.id))
            .filter(crate::server::entity::email::Column::Status.eq("queued"))
            .exec(&txn)
            .await?;
    }
    // Sign-up refuses names of this shape (names::looks_deleted), but one taken before that, or
    // an address of the same shape, must not make the deletion fail: then a longer name is used.
    let mut gone = format!("deleted-{}", target.id);
    let taken = user::Entity::find()
        .filter(user::Column::Id.ne(target.id))
        .filter(
            sea_orm::Condition::any()
                .add(user::Column::UsernameKey.eq(gone.clone()))
                .add(user::Column::EmailKey.eq(format!("{gone}@deleted.invalid"))),
        )
        .one(&txn)
        .await?
        .is_some();
    if taken {
        gone = format!("{gone}-{}", &crate::server::auth::random_token()[..12]);
    }
    let mut row: user::ActiveModel = target.into();
    row.username = Set(gone.clone());
    row.username_key = Set(gone.clone());
    row.email = Set(format!("{gone}@deleted.invalid"));
    row.email_key = Set(format!("{gone}@deleted.invalid"));
    // Nothing more reaches it: no address to confirm, no topic or category it hears from,
    // and no link it asked for (an address change) can bring it back.
    row.email_confirmed_at = Set(None);
    row.display_name = Set("deleted user".into());
    row.bio_source = Set(String::new());
    row.bio_html = Set(String::new());
    row.password_hash = Set("!".into());
    row.role = Set(Role::Customer.as_str().into());
    row.staff_title = Set(None);
    row.update(&txn).await?;
    log_about(
        &txn,
        actor,
        "delete_account",
        user_id,
        if remove_posts {
            "posts removed"
        } else {
            "posts kept as deleted user"
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Admins approve (welcomed, may log in) or turn away (the account is deleted) a sign-up.
pub async fn decide_signup(
    db: &DatabaseConnection,
    actor: &user::Model,
    user_id: i64,
    approve: bool,
) -> Result<(), AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    let target = member(db, user_id).await?;
    if !target.awaiting_approval {
        return Err(AppError::invalid(
            "form",
            "That account is not waiting for approval.",
        ));
    }
    if approve {
        let txn = begin_write(db).await?;
        let mut row: user::ActiveModel = target.into();
        row.awaiting_approval = Set(false);
        row.update(&txn).await?;
        log_about(&txn, actor, "approve_signup", user_id, "").await?;
        txn.commit().await?;
        crate::server::notify::welcome(db, user_id).await
    } else {
        delete_account(db, actor, user_id, true).await
    }
}
