//! Members' flags: their weight, and the threshold that hides a post until a moderator decides
//! (a staff member's post by staff members' flags only).

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};

use super::{link_to, reason_text};
use crate::server::{
    auth::{self},
    db::begin_write,
    entity::{flag, user},
    notify, posting, records, settings, visibility,
};
use crate::{
    error::AppError,
    model::{FLAG_REASONS, PostState, Role},
};

pub const FLAG_REASON_UNKNOWN: &str = "Choose why you are flagging this post.";

pub const FLAG_NOTE_NEEDED: &str = "Say what is wrong with this post.";

pub const FLAG_OWN_POST: &str = "You can't flag your own post.";

pub const FLAG_REMOVED_POST: &str = "That post was removed, so it can't be flagged.";

pub const FLAG_NOT_PUBLIC: &str =
    "That post is not public, so there is nothing to flag: a moderator already has it.";

pub const FLAG_TWICE: &str = "You have already flagged this post; a moderator will look at it.";

pub const AUTO_HIDDEN: &str =
    "Hidden automatically after members flagged it; a moderator will review it.";

/// A flag's weight, in hundredths: a member whose flags moderators usually upheld counts
/// double; an account less than a day old counts half.
pub async fn flag_weight(
    conn: &impl ConnectionTrait,
    flagger: &user::Model,
) -> Result<i32, AppError> {
    if Utc::now() - flagger.created_at < Duration::days(1) {
        return Ok(50);
    }
    let count = |state: &'static str| {
        flag::Entity::find()
            .filter(flag::Column::FlaggerId.eq(flagger.id))
            .filter(flag::Column::State.eq(state))
            .count(conn)
    };
    let (upheld, dismissed) = (count("upheld").await?, count("dismissed").await?);
    Ok(if upheld >= 3 && upheld >= 2 * dismissed {
        200
    } else {
        100
    })
}

/// Where a member who flagged a post lands.
#[derive(Debug, PartialEq, Eq)]
pub enum AfterFlag {
    /// The post in its topic.
    Post(String),
    /// The topic's category: the flag hid the topic's opening post, and the topic is out of
    /// the flagger's sight with it.
    Category(String),
}

/// `AfterFlag` for `flagger`, who flagged post `post_id`; None when the post is gone.
pub async fn after_flag(
    db: &DatabaseConnection,
    flagger: &user::Model,
    post_id: i64,
) -> Result<Option<AfterFlag>, AppError> {
    use crate::server::entity::{category, post, topic};
    let Some(p) = post::Entity::find_by_id(post_id).one(db).await? else {
        return Ok(None);
    };
    let Some(t) = topic::Entity::find_by_id(p.topic_id).one(db).await? else {
        return Ok(None);
    };
    if visibility::can_see_topic(db, &t, Some(flagger)).await? {
        return Ok(Some(AfterFlag::Post(records::posts::url(db, &p).await?)));
    }
    let slug: Option<String> = category::Entity::find_by_id(t.category_id)
        .select_only()
        .column(category::Column::Slug)
        .into_tuple()
        .one(db)
        .await?;
    Ok(Some(AfterFlag::Category(slug.map_or_else(
        || "/".to_string(),
        |slug| format!("/c/{slug}"),
    ))))
}

/// A signed-in member flags a post. Enough weight of open flags hides it until a moderator
/// decides.
pub async fn flag_post(
    db: &DatabaseConnection,
    flagger: &user::Model,
    post_id: i64,
    reason: &str,
    note: &str,
) -> Result<flag::Model, AppError> {
    if !FLAG_REASONS.iter().any(|(key, _)| *key == reason) {
        return Err(AppError::invalid("reason", FLAG_REASON_UNKNOWN));
    }
    let note = crate::server::invisible::trimmed_or_nothing(note);
    if reason == "other" && note.is_empty() {
        return Err(AppError::invalid("note", FLAG_NOTE_NEEDED));
    }
    let note = reason_text(note).map_err(|_| {
        AppError::invalid(
            "note",
            format!(
                "Reasons can be at most 1,000 characters; this one has {}.",
                note.chars().count()
            ),
        )
    })?;
    // A post the flagger may not read is not there for them: the answer is the one for no post.
    let (p, _) = visibility::post(db, post_id, Some(flagger)).await?;
    match p.state() {
        PostState::Visible => {}
        PostState::Deleted => return Err(AppError::invalid("form", FLAG_REMOVED_POST)),
        PostState::Pending | PostState::Hidden => {
            return Err(AppError::invalid("form", FLAG_NOT_PUBLIC));
        }
    }
    if p.author_id == flagger.id {
        return Err(AppError::invalid("form", FLAG_OWN_POST));
    }
    auth::check_not_suspended(flagger)?;
    posting::check_rate(
        db,
        flagger,
        settings::FLAGS_PER_HOUR,
        Duration::hours(1),
        posting::RateOf::Flags,
    )
    .await?;
    let weight = flag_weight(db, flagger).await?;
    let threshold = std::cmp::max(settings::number(db, settings::FLAG_THRESHOLD).await?, 1) * 100;

    let txn = begin_write(db).await?;
    // As the database has the flagger now: flags in flight while they were suspended or deleted
    // were written after it, and counted towards hiding posts.
    crate::server::records::users::still_writing(&txn, flagger.id).await?;
    // Counted again under the lock: the check above only spares a refused flag the work.
    posting::check_rate(
        &txn,
        flagger,
        settings::FLAGS_PER_HOUR,
        Duration::hours(1),
        posting::RateOf::Flags,
    )
    .await?;
    // Read again, locked: a moderator may have removed it since.
    let p = crate::server::records::posts::locked(&txn, p.id)
        .await?
        .ok_or_else(|| AppError::NotFound(crate::server::visibility::POST_MISSING.into()))?;
    match p.state() {
        PostState::Visible => {}
        PostState::Deleted => return Err(AppError::invalid("form", FLAG_REMOVED_POST)),
        PostState::Pending | PostState::Hidden => {
            return Err(AppError::invalid("form", FLAG_NOT_PUBLIC));
        }
    }
    let already = flag::Entity::find()
        .filter(flag::Column::PostId.eq(p.id))
        .filter(flag::Column::FlaggerId.eq(flagger.id))
        .filter(flag::Column::State.eq("open"))
        .count(&txn)
        .await?;
    if already > 0 {
        return Err(AppError::invalid("form", FLAG_TWICE));
    }
    let created = flag::ActiveModel {
        post_id: Set(p.id),
        flagger_id: Set(flagger.id),
        reason: Set(reason.into()),
        note: Set(note),
        weight: Set(weight),
        state: Set("open".into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    records::review_items::open(&txn, &p, records::review_items::FLAGGED).await?;
    // A staff member's post is hidden by staff members' flags only (as on Discourse): customers'
    // flags put it in front of moderators, but cannot take the company's answer down, and with
    // it the answer that the response figures count.
    let mut counted = flag::Entity::find()
        .select_only()
        .column_as(Expr::col(flag::Column::Weight).sum(), "total")
        .filter(flag::Column::PostId.eq(p.id))
        .filter(flag::Column::State.eq("open"));
    if p.is_staff_reply {
        let staff = Role::ALL.into_iter().filter(|r| r.is_staff());
        counted = counted.filter(
            flag::Column::FlaggerId.in_subquery(sea_orm::QueryTrait::into_query(
                user::Entity::find()
                    .select_only()
                    .column(user::Column::Id)
                    .filter(user::Column::Role.is_in(staff.map(Role::as_str))),
            )),
        );
    }
    let total: Option<i64> = counted.into_tuple().one(&txn).await?.flatten();
    if total.unwrap_or(0) >= threshold {
        posting::change_state(&txn, &p, PostState::Hidden, Some(AUTO_HIDDEN)).await?;
        notify::notify(
            &txn,
            p.author_id,
            "hidden",
            &format!("Your post was hidden: {AUTO_HIDDEN}"),
            &link_to(&txn, &p).await?,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(created)
}

/// A post as its flag page shows it, to `viewer`: who wrote it, the start of its text, where it
/// is, and whether this member may flag it. A post the viewer may not read is "not found", as
/// for no post at all (before being asked to log in, so a visitor learns nothing either).
pub async fn flag_target(
    db: &DatabaseConnection,
    viewer: Option<&user::Model>,
    post_id: i64,
) -> Result<crate::model::FlagTarget, AppError> {
    let (p, t) = visibility::post(db, post_id, viewer).await?;
    let Some(viewer) = viewer else {
        return Err(AppError::SignInRequired(FLAG_SIGNED_OUT.into()));
    };
    let state = p.state();
    let refusal = match state {
        PostState::Visible if p.author_id == viewer.id => Some(FLAG_OWN_POST),
        PostState::Visible => None,
        PostState::Deleted => Some(FLAG_REMOVED_POST),
        PostState::Pending | PostState::Hidden => Some(FLAG_NOT_PUBLIC),
    };
    let flagged_by_viewer = flag::Entity::find()
        .filter(flag::Column::PostId.eq(p.id))
        .filter(flag::Column::FlaggerId.eq(viewer.id))
        .filter(flag::Column::State.eq("open"))
        .count(db)
        .await?
        > 0;
    let author = user::Entity::find_by_id(p.author_id).one(db).await?;
    let url = crate::server::records::posts::url(db, &p).await?;
    Ok(crate::model::FlagTarget {
        post_id: p.id,
        number: p.post_number,
        author_username: author
            .as_ref()
            .map(|a| a.username.clone())
            .unwrap_or_default(),
        author_display_name: author.map(|a| a.display_name).unwrap_or_default(),
        topic_title: t.title,
        url,
        // Only a public post's text: a hidden one's is for its author and moderators.
        excerpt: if state == PostState::Visible {
            crate::server::html_text::excerpt(&p.html, 280)
        } else {
            String::new()
        },
        flagged_by_viewer,
        refusal: refusal
            .or(flagged_by_viewer.then_some(FLAG_TWICE))
            .map(String::from),
    })
}

pub const FLAG_SIGNED_OUT: &str = "Log in to flag a post for the moderators.";
