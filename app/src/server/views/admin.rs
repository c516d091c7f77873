//! Admins' pages: categories, members, the dashboard, site settings, the mail outbox. Reads only.
use chrono::Utc;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::server::records::users::member;
use crate::server::{
    auth::require_role,
    entity::{category, email, moderation_log, user},
    settings,
};
use crate::{
    error::AppError,
    model::{
        AdminCategory, AdminUserDetail, AdminUserRow, Dashboard, MailOutbox, OutboxMessage, Role,
        SiteSettings,
    },
};

/// /admin/categories: every forum category with its settings, in order.
pub async fn categories(
    db: &DatabaseConnection,
    viewer: &user::Model,
) -> Result<Vec<AdminCategory>, AppError> {
    require_role(Some(viewer.role()), Role::Admin)?;
    Ok(category::Entity::find()
        .filter(category::Column::Kind.ne("blog_comments"))
        .order_by_asc(category::Column::Position)
        .order_by_asc(category::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|c| AdminCategory {
            id: c.id,
            slug: c.slug,
            name: c.name,
            description: c.description,
            colour: c.colour,
            target_hours: format!(
                "{}",
                (c.response_target_minutes as f64 / 60.0 * 100.0).round() / 100.0
            ),
            customers_may_start: c.customers_may_start,
            archived: c.archived,
            topic_count: c.topic_count,
            kind: c.kind,
        })
        .collect())
}

/// /admin/users?q=: members whose name (or, for admins, e-mail) contains `q`; 50 at most.
pub async fn search_users(
    db: &DatabaseConnection,
    viewer: &user::Model,
    q: &str,
) -> Result<Vec<AdminUserRow>, AppError> {
    require_role(Some(viewer.role()), Role::Moderator)?;
    let admin = viewer.role() == Role::Admin;
    let needle = q.trim().to_lowercase();
    let mut query = user::Entity::find();
    if !needle.is_empty() {
        let mut any =
            sea_orm::Condition::any().add(user::Column::UsernameKey.contains(needle.as_str()));
        if admin {
            any = any.add(user::Column::EmailKey.contains(needle.as_str()));
        }
        query = query.filter(any);
    }
    Ok(query
        .order_by_asc(user::Column::UsernameKey)
        .limit(50)
        .all(db)
        .await?
        .into_iter()
        .map(|u| AdminUserRow {
            id: u.id,
            username: u.username.clone(),
            email: admin.then(|| u.email.clone()),
            role: u.role(),
            staff_title: u.staff_title.clone(),
            joined_at: u.created_at,
            suspended: u.suspended_until.is_some_and(|t| t > Utc::now()),
        })
        .collect())
}

/// /admin/users/{id}: a member as moderators see them.
pub async fn user_detail(
    db: &DatabaseConnection,
    viewer: &user::Model,
    user_id: i64,
) -> Result<AdminUserDetail, AppError> {
    use crate::server::entity::{flag, post, session};
    require_role(Some(viewer.role()), Role::Moderator)?;
    let u = member(db, user_id).await?;
    let admin = viewer.role() == Role::Admin;
    let posts = post::Entity::find()
        .filter(post::Column::AuthorId.eq(u.id))
        .count(db)
        .await?;
    let flags_raised = flag::Entity::find()
        .filter(flag::Column::FlaggerId.eq(u.id))
        .count(db)
        .await?;
    let flags_received = flag::Entity::find()
        .filter(
            flag::Column::PostId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(post::Column::Id)
                    .from(post::Entity)
                    .and_where(post::Column::AuthorId.eq(u.id))
                    .to_owned(),
            ),
        )
        .count(db)
        .await?;
    let sessions = session::Entity::find()
        .filter(session::Column::UserId.eq(u.id))
        .count(db)
        .await?;
    let history = moderation_log::Entity::find()
        .filter(moderation_log::Column::UserId.eq(u.id))
        .order_by_desc(moderation_log::Column::CreatedAt)
        .limit(50)
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.action, e.reason, e.created_at))
        .collect();
    Ok(AdminUserDetail {
        row: AdminUserRow {
            id: u.id,
            username: u.username.clone(),
            email: admin.then(|| u.email.clone()),
            role: u.role(),
            staff_title: u.staff_title.clone(),
            joined_at: u.created_at,
            suspended: u.suspended_until.is_some_and(|t| t > Utc::now()),
        },
        suspension_reason: u.suspension_reason.clone(),
        posts,
        flags_raised,
        flags_received,
        sessions,
        history,
        viewer_is_admin: admin,
    })
}

/// /admin: what needs attention, and the last 30 days' activity.
pub async fn dashboard(
    db: &DatabaseConnection,
    viewer: &user::Model,
) -> Result<Dashboard, AppError> {
    use crate::server::entity::{post, topic};
    require_role(Some(viewer.role()), Role::Moderator)?;
    let now = Utc::now();
    let since = (now - chrono::Duration::days(29)).date_naive();
    let start = since
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now);
    let day_of = |at: sea_orm::prelude::DateTimeUtc| (at.date_naive() - since).num_days();
    let mut members = vec![0u32; 30];
    let mut posts = vec![0u32; 30];
    let joined: Vec<sea_orm::prelude::DateTimeUtc> = user::Entity::find()
        .select_only()
        .column(user::Column::CreatedAt)
        .filter(user::Column::CreatedAt.gte(start))
        .into_tuple()
        .all(db)
        .await?;
    for at in joined {
        if let Some(n) = members.get_mut(day_of(at) as usize) {
            *n += 1;
        }
    }
    let written: Vec<sea_orm::prelude::DateTimeUtc> = post::Entity::find()
        .select_only()
        .column(post::Column::CreatedAt)
        .filter(post::Column::CreatedAt.gte(start))
        .into_tuple()
        .all(db)
        .await?;
    for at in written {
        if let Some(n) = posts.get_mut(day_of(at) as usize) {
            *n += 1;
        }
    }
    let week = crate::server::views::staff::figures(db, &[7], now)
        .await?
        .pop()
        .ok_or(AppError::Internal)?;
    let targets: std::collections::HashMap<i64, i32> = category::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.response_target_minutes))
        .collect();
    let awaiting: Vec<(i64, sea_orm::prelude::DateTimeUtc)> = topic::Entity::find()
        .select_only()
        .columns([topic::Column::CategoryId, topic::Column::AwaitingStaffSince])
        // Held topics too: they wait in the queue (for approval), as /staff/queue and
        // /accountability count them.
        .filter(topic::Column::AwaitingStaffSince.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    let past_target = awaiting
        .iter()
        .filter(|(c, since)| {
            now - *since > chrono::Duration::minutes(*targets.get(c).unwrap_or(&1440) as i64)
        })
        .count() as u64;
    Ok(Dashboard {
        open_review_items: crate::server::views::moderation::open_review_count(db).await?,
        awaiting_staff: awaiting.len() as u64,
        past_target,
        median_minutes_7d: week.overall.median_minutes,
        first_day: since,
        new_members: members,
        new_posts: posts,
        viewer_is_admin: viewer.role() == Role::Admin,
    })
}

/// /admin/settings: the site's texts and switches, as stored.
pub async fn site_settings(
    db: &DatabaseConnection,
    viewer: &user::Model,
) -> Result<SiteSettings, AppError> {
    require_role(Some(viewer.role()), Role::Admin)?;
    Ok(SiteSettings {
        site_name: settings::text(db, settings::SITE_NAME).await?,
        tagline: settings::text(db, settings::SITE_TAGLINE).await?,
        welcome_message: settings::text(db, settings::WELCOME_MESSAGE).await?,
        signup_mode: settings::text(db, settings::SIGNUP_MODE).await?,
        accountability_public: settings::accountability_public(db).await?,
        moderation_log_public: settings::flag(db, settings::MODERATION_LOG_PUBLIC).await?,
        search_engines_index: settings::search_engines_index(db).await?,
        roadmap_public: settings::flag(db, settings::ROADMAP_PUBLIC).await?,
        votes: crate::model::VoteThresholds {
            min_account_hours: settings::number(db, settings::VOTE_MIN_ACCOUNT_HOURS).await?,
            burst_votes: settings::number(db, settings::VOTE_BURST_VOTES).await?,
            burst_window_minutes: settings::number(db, settings::VOTE_BURST_WINDOW_MINUTES).await?,
            burst_signup_minutes: settings::number(db, settings::VOTE_BURST_SIGNUP_MINUTES).await?,
        },
        uploads: crate::model::UploadSettings {
            max_file_mb: settings::number(db, settings::UPLOAD_MAX_FILE_MB).await?,
            daily_mb: settings::number(db, settings::UPLOAD_DAILY_MB).await?,
            file_types: settings::text(db, settings::UPLOAD_FILE_TYPES).await?,
            image_max_px: settings::number(db, settings::UPLOAD_IMAGE_MAX_SIDE).await?,
            animated_gifs: settings::text(db, settings::UPLOAD_ANIMATED_GIFS).await?,
            new_members: settings::text(db, settings::UPLOAD_NEW_MEMBERS).await?,
            external_images: settings::text(db, settings::EXTERNAL_IMAGES).await?,
        },
        brand: crate::model::BrandSettings {
            accent_colour: settings::text(db, settings::ACCENT_COLOUR).await?,
            logo_light: settings::text(db, settings::LOGO_LIGHT).await?,
            logo_dark: settings::text(db, settings::LOGO_DARK).await?,
            favicon: settings::text(db, settings::FAVICON).await?,
        },
        awaiting_approval: user::Entity::find()
            .filter(user::Column::AwaitingApproval.eq(true))
            .order_by_asc(user::Column::CreatedAt)
            .all(db)
            .await?
            .into_iter()
            .map(|u| AdminUserRow {
                id: u.id,
                username: u.username.clone(),
                email: Some(u.email.clone()),
                role: u.role(),
                staff_title: None,
                joined_at: u.created_at,
                suspended: false,
            })
            .collect(),
    })
}

/// Messages on one page of /admin/mail.
pub const OUTBOX_PAGE_SIZE: u64 = 50;
pub const OUTBOX_STATUS_UNKNOWN: &str = "Show queued, sent or failed messages, or all of them.";

/// /admin/mail?status=&page=: the outbox, newest first. `delivery` says how mail leaves (from
/// the configuration); without one, each message's text is shown, as nothing will send it.
pub async fn mail_outbox(
    db: &DatabaseConnection,
    viewer: &user::Model,
    status: &str,
    page: u64,
    delivery: Option<String>,
) -> Result<MailOutbox, AppError> {
    require_role(Some(viewer.role()), Role::Admin)?;
    if !["", "queued", "sent", "failed"].contains(&status) {
        return Err(AppError::invalid("status", OUTBOX_STATUS_UNKNOWN));
    }
    let count = |s: &'static str| {
        email::Entity::find()
            .filter(email::Column::Status.eq(s))
            .count(db)
    };
    let (queued, sent, failed) = (
        count("queued").await?,
        count("sent").await?,
        count("failed").await?,
    );
    let mut query = email::Entity::find();
    if !status.is_empty() {
        query = query.filter(email::Column::Status.eq(status));
    }
    let total = query.clone().count(db).await?;
    let page = crate::server::paging::page(page, total, OUTBOX_PAGE_SIZE)?;
    let show_text = delivery.is_none();
    let messages = query
        .order_by_desc(email::Column::Id)
        .offset(page.offset())
        .limit(page.size)
        .all(db)
        .await?
        .into_iter()
        .map(|m| OutboxMessage {
            id: m.id,
            to: m.to_address,
            subject: m.subject,
            kind: m.kind,
            status: m.status,
            attempts: m.attempts,
            created_at: m.created_at,
            sent_at: m.sent_at,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            text: show_text.then_some(m.body),
        })
        .collect();
    Ok(MailOutbox {
        delivery,
        status: status.to_string(),
        queued,
        sent,
        failed,
        messages,
        page: page.number,
        page_count: page.count,
    })
}
