//! Moderators' pages: the review queue, the moderation log, the moderation settings. Reads only.
use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, Query},
};

use crate::server::{
    auth::require_role,
    entity::{category, flag, moderation_log, post, review_item, topic, user, watched_word},
    memo::Memo,
    records::review_items::VOTE_BURST,
    settings, visibility,
};
use crate::{
    error::AppError,
    model::{
        CategoryRef, FlagView, LogEntryView, ModerationLogPage, ModerationSettings, PostState,
        ReviewItemView, ReviewQueue, Role, WatchedWordView,
    },
};

/// Filters of the review queue.
#[derive(Clone, Debug, Default)]
pub struct ReviewFilter {
    pub kind: Option<String>,
    pub reason: Option<String>,
    pub category: Option<String>,
    /// open (default) | resolved | rejected
    pub state: Option<String>,
}

pub async fn open_review_count(db: &DatabaseConnection) -> Result<u64, AppError> {
    Ok(review_item::Entity::find()
        .filter(review_item::Column::State.eq("open"))
        .count(db)
        .await?)
}

/// `open_review_count`, kept per page version: every moderator's header shows it, and with
/// 20,000 items open (a million posts) counting them was a millisecond of each of their pages.
/// Flags, holds and their resolutions are page writes (db::begin_write): they bump the version.
pub async fn open_review_count_kept(
    db: &DatabaseConnection,
    kept: &Memo<u64>,
) -> Result<u64, AppError> {
    kept.get_or_load(db, || open_review_count(db)).await
}

/// /admin/review: posts waiting for a moderator, oldest first, 30 a page. `open_kept` is the
/// open items' kept count (`open_review_count_kept`), the total when nothing narrows the list.
pub async fn review_queue(
    db: &DatabaseConnection,
    viewer: &user::Model,
    filter: ReviewFilter,
    page: u64,
    open_kept: &Memo<u64>,
) -> Result<ReviewQueue, AppError> {
    require_role(Some(viewer.role()), Role::Moderator)?;
    let state = filter
        .state
        .clone()
        .filter(|s| ["open", "resolved", "rejected"].contains(&s.as_str()))
        .unwrap_or_else(|| "open".into());
    let categories = category::Entity::find()
        .filter(category::Column::Kind.ne("blog_comments"))
        .order_by_asc(category::Column::Position)
        .all(db)
        .await?;
    let narrowed = [&filter.kind, &filter.category, &filter.reason]
        .iter()
        .any(|f| f.as_deref().is_some_and(|v| !v.is_empty()));
    let mut q = review_item::Entity::find().filter(review_item::Column::State.eq(state.as_str()));
    if let Some(kind) = filter.kind.as_deref().filter(|k| !k.is_empty()) {
        q = q.filter(review_item::Column::Kind.eq(kind));
    }
    if let Some(slug) = filter.category.as_deref().filter(|c| !c.is_empty()) {
        let id = category::Entity::find()
            .filter(category::Column::Slug.eq(slug))
            .one(db)
            .await?
            .map(|c| c.id)
            .unwrap_or(-1);
        q = q.filter(review_item::Column::CategoryId.eq(id));
    }
    if let Some(reason) = filter.reason.as_deref().filter(|r| !r.is_empty()) {
        q = q.filter(
            review_item::Column::PostId.in_subquery(
                Query::select()
                    .column(flag::Column::PostId)
                    .from(flag::Entity)
                    .and_where(flag::Column::Reason.eq(reason))
                    .to_owned(),
            ),
        );
    }
    let total = if state == "open" && !narrowed {
        open_review_count_kept(db, open_kept).await?
    } else {
        q.clone().count(db).await?
    };
    let paged = crate::server::paging::page(page, total, REVIEW_PAGE_SIZE)?;
    let (page, page_count) = (paged.number, paged.count);
    let items = q
        .order_by_asc(review_item::Column::CreatedAt)
        .order_by_asc(review_item::Column::Id)
        .offset(paged.offset())
        .limit(REVIEW_PAGE_SIZE)
        .all(db)
        .await?;
    let post_ids: Vec<i64> = items.iter().map(|i| i.post_id).collect();
    let posts: HashMap<i64, post::Model> = post::Entity::find()
        .filter(post::Column::Id.is_in(post_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let topics: HashMap<i64, topic::Model> = topic::Entity::find()
        .filter(topic::Column::Id.is_in(posts.values().map(|p| p.topic_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let flags = flag::Entity::find()
        .filter(flag::Column::PostId.is_in(post_ids))
        .order_by_asc(flag::Column::CreatedAt)
        .all(db)
        .await?;
    let author_ids: HashSet<i64> = posts.values().map(|p| p.author_id).collect();
    let people: HashSet<i64> = author_ids
        .iter()
        .copied()
        .chain(flags.iter().map(|f| f.flagger_id))
        .collect();
    let users: HashMap<i64, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(people))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let post_counts: HashMap<i64, i64> = post::Entity::find()
        .select_only()
        .column(post::Column::AuthorId)
        // COUNT(*), not COUNT(id): read from the (author, created, state) index alone.
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(post::Column::AuthorId.is_in(author_ids.iter().copied()))
        .filter(post::Column::State.eq(PostState::Visible.as_str()))
        .group_by(post::Column::AuthorId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let moderation_counts: HashMap<i64, i64> = moderation_log::Entity::find()
        .select_only()
        .column(moderation_log::Column::UserId)
        .column_as(Expr::col(moderation_log::Column::Id).count(), "n")
        .filter(moderation_log::Column::UserId.is_in(author_ids.iter().copied()))
        .group_by(moderation_log::Column::UserId)
        .into_tuple::<(Option<i64>, i64)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(id, n)| Some((id?, n)))
        .collect();
    let by_category: HashMap<i64, &category::Model> =
        categories.iter().map(|c| (c.id, c)).collect();
    let bursts: Vec<i64> = items
        .iter()
        .filter(|i| i.kind == VOTE_BURST)
        .map(|i| i.id)
        .collect();
    // Where the votes came from is for admins only.
    let mut bursts = super::ideas::burst_votes(db, &bursts, viewer.role() == Role::Admin).await?;
    let mut files =
        crate::server::uploads::of_posts(db, &items.iter().map(|i| i.post_id).collect::<Vec<_>>())
            .await?;
    let views = items
        .into_iter()
        .filter_map(|item| {
            let p = posts.get(&item.post_id)?;
            let t = topics.get(&p.topic_id)?;
            let author = users.get(&p.author_id)?;
            let c = by_category.get(&t.category_id);
            Some(ReviewItemView {
                id: item.id,
                kind: item.kind,
                state: item.state,
                created_at: item.created_at,
                post_id: p.id,
                post_number: p.post_number,
                post_state: p.state(),
                topic_id: t.id,
                topic_slug: t.slug.clone(),
                topic_title: t.title.clone(),
                category: c
                    .map(|c| crate::server::records::categories::category_ref(c))
                    .unwrap_or(CategoryRef {
                        id: t.category_id,
                        slug: String::new(),
                        name: "Blog comments".into(),
                        colour: "#3b6ea5".into(),
                    }),
                snapshot_html: item.snapshot_html,
                current_html: p.html.clone(),
                flags: flags
                    .iter()
                    .filter(|f| f.post_id == p.id)
                    .map(|f| FlagView {
                        flagger: users
                            .get(&f.flagger_id)
                            .map(|u| u.username.clone())
                            .unwrap_or_default(),
                        reason: f.reason.clone(),
                        note: f.note.clone(),
                        state: f.state.clone(),
                        weight: f.weight,
                        created_at: f.created_at,
                    })
                    .collect(),
                author_id: author.id,
                author: author.username.clone(),
                author_role: author.role(),
                author_joined_at: author.created_at,
                author_post_count: post_counts.get(&author.id).copied().unwrap_or(0) as u64,
                author_moderation_count: moderation_counts.get(&author.id).copied().unwrap_or(0)
                    as u64,
                burst: bursts.remove(&item.id),
                files: files.remove(&item.post_id).unwrap_or_default(),
                own: author.id == viewer.id,
                not_yours: crate::server::auth::check_may_act_on(viewer, author)
                    .err()
                    .map(|e| e.to_string()),
            })
        })
        .collect();
    Ok(ReviewQueue {
        items: views,
        total,
        page,
        page_count,
        categories: categories
            .iter()
            .map(crate::server::records::categories::category_ref)
            .collect(),
        kind: filter.kind,
        reason: filter.reason,
        category: filter.category,
        state,
    })
}

/// The moderation log: everything for moderators; for the public page only actions on public
/// content, with no names.
pub async fn log_page(
    db: &DatabaseConnection,
    viewer: Option<&user::Model>,
    public_only: bool,
    page: u64,
) -> Result<ModerationLogPage, AppError> {
    if public_only {
        if !settings::flag(db, settings::MODERATION_LOG_PUBLIC).await? {
            return Err(AppError::NotFound("This page is switched off.".into()));
        }
    } else {
        require_role(viewer.map(|u| u.role()), Role::Moderator)?;
    }
    let mut q = moderation_log::Entity::find();
    if public_only {
        // Only what happened where a visitor may look.
        q = q.filter(moderation_log::Column::Public.eq(true)).filter(
            moderation_log::Column::TopicId.in_subquery(visibility::public_topic_ids(Utc::now())),
        );
    }
    let total = q.clone().count(db).await?;
    let paged = crate::server::paging::page(page, total, LOG_PAGE_SIZE)?;
    let (page, page_count) = (paged.number, paged.count);
    let rows = q
        .order_by_desc(moderation_log::Column::CreatedAt)
        .order_by_desc(moderation_log::Column::Id)
        .offset(paged.offset())
        .limit(LOG_PAGE_SIZE)
        .all(db)
        .await?;
    let topics =
        crate::server::records::topics::topic_titles(db, rows.iter().filter_map(|r| r.topic_id))
            .await?;
    let numbers: HashMap<i64, i32> = post::Entity::find()
        .select_only()
        .columns([post::Column::Id, post::Column::PostNumber])
        .filter(post::Column::Id.is_in(rows.iter().filter_map(|r| r.post_id)))
        .into_tuple::<(i64, i32)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let names: HashMap<i64, String> = if public_only {
        HashMap::new()
    } else {
        user::Entity::find()
            .select_only()
            .columns([user::Column::Id, user::Column::Username])
            .filter(
                user::Column::Id.is_in(
                    rows.iter()
                        .flat_map(|r| [Some(r.actor_id), r.user_id])
                        .flatten(),
                ),
            )
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    Ok(ModerationLogPage {
        entries: rows
            .into_iter()
            .map(|r| {
                let (slug, title) = r
                    .topic_id
                    .and_then(|id| topics.get(&id).cloned())
                    .unwrap_or_default();
                LogEntryView {
                    actor: names.get(&r.actor_id).cloned().unwrap_or_default(),
                    action: r.action,
                    reason: r.reason,
                    topic_id: r.topic_id,
                    topic_slug: slug,
                    topic_title: title,
                    post_number: r.post_id.and_then(|id| numbers.get(&id).copied()),
                    member: r
                        .user_id
                        .and_then(|id| names.get(&id).cloned())
                        .unwrap_or_default(),
                    created_at: r.created_at,
                }
            })
            .collect(),
        page,
        page_count,
    })
}

/// The moderation settings page: the numbers, the public log switch and the watched words.
pub async fn settings_page(
    db: &DatabaseConnection,
    viewer: &user::Model,
) -> Result<ModerationSettings, AppError> {
    require_role(Some(viewer.role()), Role::Admin)?;
    let number = |(key, default): (&'static str, i64)| async move {
        settings::number(db, (key, default)).await
    };
    Ok(ModerationSettings {
        flag_threshold: number(settings::FLAG_THRESHOLD).await?,
        new_member_hold: number(settings::NEW_MEMBER_HOLD).await?,
        posts_per_10_min: number(settings::POSTS_PER_10_MIN).await?,
        topics_per_hour: number(settings::TOPICS_PER_HOUR).await?,
        flags_per_hour: number(settings::FLAGS_PER_HOUR).await?,
        log_public: settings::flag(db, settings::MODERATION_LOG_PUBLIC).await?,
        watched: watched_word::Entity::find()
            .order_by_asc(watched_word::Column::Word)
            .all(db)
            .await?
            .into_iter()
            .map(|w| WatchedWordView {
                id: w.id,
                word: w.word,
                action: w.action,
            })
            .collect(),
    })
}

pub const REVIEW_PAGE_SIZE: u64 = 30;

pub const LOG_PAGE_SIZE: u64 = 50;
