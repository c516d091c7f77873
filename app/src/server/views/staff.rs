//! The staff response as staff and the public read it: the awaiting-staff queue, a topic's history, the response figures. Reads only.
use std::collections::{HashMap, HashSet};

use chrono::{Duration, Utc};
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};

use crate::server::{
    auth::require_role,
    content,
    entity::{category, post, topic, topic_event, user},
    settings,
};
use crate::{
    error::AppError,
    model::{
        MetricsRow, MetricsWindow, NoReplyDecision, PostState, QueueItem, Role, StaffMetrics,
        StaffQueue, TopicStatus,
    },
};

/// A topic's history, oldest first; staff-only entries (reasons for "no reply needed") only for
/// staff.
pub async fn events(
    db: &DatabaseConnection,
    topic_id: i64,
    for_staff: bool,
) -> Result<Vec<crate::model::TopicEventView>, AppError> {
    let mut q = topic_event::Entity::find().filter(topic_event::Column::TopicId.eq(topic_id));
    if !for_staff {
        q = q.filter(topic_event::Column::StaffOnly.eq(false));
    }
    let rows = q
        .order_by_asc(topic_event::Column::CreatedAt)
        .order_by_asc(topic_event::Column::Id)
        .all(db)
        .await?;
    let names = usernames(db, rows.iter().filter_map(|e| e.actor_id)).await?;
    Ok(rows
        .into_iter()
        .map(|e| crate::model::TopicEventView {
            actor: e
                .actor_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_default(),
            // A merge's detail is the original's number: the page links the original itself,
            // and only while everyone may see it.
            detail: if e.kind == crate::server::records::topic_events::MERGED {
                String::new()
            } else {
                e.detail
            },
            kind: e.kind,
            note: e.note,
            staff_only: e.staff_only,
            created_at: e.created_at,
        })
        .collect())
}

/// The forum's categories (not the blog's hidden one), in the admins' order.
async fn forum_categories(db: &DatabaseConnection) -> Result<Vec<category::Model>, AppError> {
    Ok(category::Entity::find()
        .filter(category::Column::Kind.ne("blog_comments"))
        .order_by_asc(category::Column::Position)
        .all(db)
        .await?)
}

/// /staff/queue: topics waiting for staff, oldest first, 50 a page, optionally one category's.
pub async fn queue(
    db: &DatabaseConnection,
    viewer: &user::Model,
    category_slug: Option<&str>,
    page: u64,
) -> Result<StaffQueue, AppError> {
    require_role(Some(viewer.role()), Role::Staff)?;
    let now = Utc::now();
    let categories = forum_categories(db).await?;
    let chosen = match category_slug.filter(|s| !s.is_empty()) {
        Some(slug) => Some(
            categories
                .iter()
                .find(|c| c.slug == slug)
                .ok_or_else(|| AppError::NotFound("There is no such category.".into()))?,
        ),
        None => None,
    };
    let ids: Vec<i64> = match chosen {
        Some(c) => vec![c.id],
        None => categories.iter().map(|c| c.id).collect(),
    };
    // Topics held for approval are here too, marked: the customer is waiting all the same, and
    // a moderator approves and answers from the topic page in one step.
    let waiting = topic::Entity::find()
        .filter(topic::Column::AwaitingStaffSince.is_not_null())
        .filter(topic::Column::CategoryId.is_in(ids));
    let total = waiting.clone().count(db).await?;
    let paged = crate::server::paging::page(page, total, QUEUE_PAGE_SIZE)?;
    let (page, page_count) = (paged.number, paged.count);
    let topics = waiting
        .order_by_asc(topic::Column::AwaitingStaffSince)
        .order_by_asc(topic::Column::Id)
        .offset(paged.offset())
        .limit(QUEUE_PAGE_SIZE)
        .all(db)
        .await?;
    let firsts: HashMap<i64, (String, String)> = post::Entity::find()
        .select_only()
        .columns([
            post::Column::TopicId,
            post::Column::Html,
            post::Column::State,
        ])
        .filter(post::Column::TopicId.is_in(topics.iter().map(|t| t.id)))
        .filter(post::Column::PostNumber.eq(1))
        .into_tuple::<(i64, String, String)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, html, state)| (id, (html, state)))
        .collect();
    let names = usernames(db, topics.iter().map(|t| t.author_id)).await?;
    let by_id: HashMap<i64, &category::Model> = categories.iter().map(|c| (c.id, c)).collect();
    let items = topics
        .into_iter()
        .filter_map(|t| {
            let c = by_id.get(&t.category_id)?;
            let since = t.awaiting_staff_since?;
            let target = Duration::minutes(c.response_target_minutes as i64);
            Some(QueueItem {
                category: crate::server::records::categories::category_ref(c),
                author: names.get(&t.author_id).cloned().unwrap_or_default(),
                created_at: t.created_at,
                awaiting_since: since,
                reopened: since > t.created_at,
                held: firsts
                    .get(&t.id)
                    .is_some_and(|(_, state)| PostState::parse(state) == PostState::Pending),
                target_minutes: c.response_target_minutes,
                past_target: now - since > target,
                excerpt: firsts
                    .get(&t.id)
                    .map(|(html, _)| content::excerpt(html, 200))
                    .unwrap_or_default(),
                id: t.id,
                slug: t.slug,
                title: t.title,
            })
        })
        .collect();
    Ok(StaffQueue {
        items,
        total,
        page,
        page_count,
        categories: categories
            .iter()
            .map(crate::server::records::categories::category_ref)
            .collect(),
        category: chosen.map(|c| c.slug.clone()),
        recent_no_reply: recent_no_reply(db).await?,
    })
}

async fn usernames(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>, AppError> {
    let ids: HashSet<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(user::Entity::find()
        .select_only()
        .columns([user::Column::Id, user::Column::Username])
        .filter(user::Column::Id.is_in(ids))
        .into_tuple::<(i64, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

/// The latest "no reply needed" decisions, so other staff see what was set aside and why.
async fn recent_no_reply(db: &DatabaseConnection) -> Result<Vec<NoReplyDecision>, AppError> {
    let events = topic_event::Entity::find()
        .filter(topic_event::Column::Kind.eq("no_reply_needed"))
        .order_by_desc(topic_event::Column::CreatedAt)
        .limit(10)
        .all(db)
        .await?;
    let topics =
        crate::server::records::topics::topic_titles(db, events.iter().map(|e| e.topic_id)).await?;
    let names = usernames(db, events.iter().filter_map(|e| e.actor_id)).await?;
    Ok(events
        .into_iter()
        .filter_map(|e| {
            let (slug, title) = topics.get(&e.topic_id)?.clone();
            Some(NoReplyDecision {
                topic_id: e.topic_id,
                topic_slug: slug,
                topic_title: title,
                actor: e
                    .actor_id
                    .and_then(|id| names.get(&id).cloned())
                    .unwrap_or_default(),
                reason: e.note,
                created_at: e.created_at,
            })
        })
        .collect())
}

/// The value at `fraction` (0.5, 0.9) of sorted `values`, by the nearest-rank method: the
/// smallest value with at least that share of the values at or below it.
pub fn percentile(sorted: &[i64], fraction: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn percent(part: u32, whole: u32) -> Option<u32> {
    (whole > 0).then(|| ((part as f64 / whole as f64) * 100.0).round() as u32)
}

/// Counts for one category (or all) over one window, before they become a row.
#[derive(Default, Clone)]
struct Tally {
    durations: Vec<i64>,
    topics: u32,
    within: u32,
    due: u32,
    resolved: u32,
    confirmed: u32,
    waiting: u32,
    oldest: Option<DateTimeUtc>,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.durations.extend_from_slice(&other.durations);
        self.topics += other.topics;
        self.within += other.within;
        self.due += other.due;
        self.resolved += other.resolved;
        self.confirmed += other.confirmed;
        self.waiting += other.waiting;
        self.oldest = match (self.oldest, other.oldest) {
            (Some(a), Some(b)) => Some(std::cmp::min(a, b)),
            (a, b) => a.or(b),
        };
    }

    fn row(mut self, category: Option<&category::Model>) -> MetricsRow {
        self.durations.sort_unstable();
        MetricsRow {
            category: category.map(crate::server::records::categories::category_ref),
            target_minutes: category.map(|c| c.response_target_minutes),
            topics: self.topics,
            answered: self.durations.len() as u32,
            median_minutes: percentile(&self.durations, 0.5),
            p90_minutes: percentile(&self.durations, 0.9),
            within_target_percent: percent(self.within, self.due),
            waiting: self.waiting,
            oldest_waiting_since: self.oldest,
            resolved: self.resolved,
            confirmed_percent: percent(self.confirmed, self.resolved),
        }
    }
}

/// Response figures for the last `windows` days (e.g. [7, 30]), per category and overall, as of
/// `now`. Topics started by staff and the blog's comment topics are not counted.
pub async fn figures(
    db: &DatabaseConnection,
    windows: &[u32],
    now: DateTimeUtc,
) -> Result<Vec<MetricsWindow>, AppError> {
    let categories = forum_categories(db).await?;
    let ids: Vec<i64> = categories.iter().map(|c| c.id).collect();
    let longest = windows.iter().copied().max().unwrap_or(30);
    let since = now - Duration::days(longest as i64);
    // Only the columns the figures need, for the topics of the longest window (index on
    // created_at); the shorter windows are subsets of it.
    let started: Vec<(i64, DateTimeUtc, Option<DateTimeUtc>)> = topic::Entity::find()
        .select_only()
        .columns([
            topic::Column::CategoryId,
            topic::Column::CreatedAt,
            topic::Column::FirstStaffReplyAt,
        ])
        .filter(topic::Column::CreatedAt.gte(since))
        .filter(topic::Column::StartedByStaff.eq(false))
        .filter(topic::Column::CategoryId.is_in(ids.clone()))
        // Listed topics, and held ones (their customer waits all the same); not topics whose
        // opening post a moderator removed (spam is nobody's unanswered question).
        .filter(
            sea_orm::Condition::any()
                .add(topic::Column::Visible.eq(true))
                .add(topic::Column::AwaitingStaffSince.is_not_null()),
        )
        .into_tuple()
        .all(db)
        .await?;
    let resolved: Vec<(i64, DateTimeUtc, bool)> = topic::Entity::find()
        .select_only()
        .column(topic::Column::CategoryId)
        .column(topic::Column::ResolvedAt)
        .column_as(
            Expr::col(topic::Column::ResolutionConfirmedAt).is_not_null(),
            "confirmed",
        )
        .filter(topic::Column::ResolvedAt.gte(since))
        .filter(topic::Column::Status.eq(TopicStatus::Resolved.as_str()))
        .filter(topic::Column::CategoryId.is_in(ids.clone()))
        .into_tuple()
        .all(db)
        .await?;
    let waiting: Vec<(i64, i64, Option<DateTimeUtc>)> = topic::Entity::find()
        .select_only()
        .column(topic::Column::CategoryId)
        .column_as(Expr::col(topic::Column::Id).count(), "waiting")
        .column_as(Expr::col(topic::Column::AwaitingStaffSince).min(), "oldest")
        .filter(topic::Column::AwaitingStaffSince.is_not_null())
        .filter(topic::Column::CategoryId.is_in(ids))
        .group_by(topic::Column::CategoryId)
        .into_tuple()
        .all(db)
        .await?;

    let mut out = Vec::with_capacity(windows.len());
    for &days in windows {
        let from = now - Duration::days(days as i64);
        let mut tallies: HashMap<i64, Tally> = HashMap::new();
        let targets: HashMap<i64, Duration> = categories
            .iter()
            .map(|c| (c.id, Duration::minutes(c.response_target_minutes as i64)))
            .collect();
        for &(category_id, created, first_reply) in started.iter().filter(|r| r.1 >= from) {
            let tally = tallies.entry(category_id).or_default();
            let target = targets[&category_id];
            tally.topics += 1;
            match first_reply {
                Some(at) => {
                    let took = at - created;
                    tally.durations.push(took.num_minutes());
                    tally.due += 1;
                    if took <= target {
                        tally.within += 1;
                    }
                }
                // Still unanswered: it counts against the target once the target has passed.
                None if now - created > target => tally.due += 1,
                None => {}
            }
        }
        for &(category_id, _, confirmed) in resolved.iter().filter(|r| r.1 >= from) {
            let tally = tallies.entry(category_id).or_default();
            tally.resolved += 1;
            tally.confirmed += u32::from(confirmed);
        }
        for &(category_id, count, oldest) in &waiting {
            let tally = tallies.entry(category_id).or_default();
            tally.waiting = count as u32;
            tally.oldest = oldest;
        }
        let mut overall = Tally::default();
        let rows = categories
            .iter()
            .map(|c| {
                let tally = tallies.remove(&c.id).unwrap_or_default();
                overall.add(&tally);
                tally.row(Some(c))
            })
            .collect();
        out.push(MetricsWindow {
            days,
            overall: overall.row(None),
            categories: rows,
        });
    }
    Ok(out)
}

/// /staff/metrics: the last 7 and 30 days.
pub async fn metrics(
    db: &DatabaseConnection,
    viewer: &user::Model,
) -> Result<StaffMetrics, AppError> {
    require_role(Some(viewer.role()), Role::Staff)?;
    Ok(StaffMetrics {
        windows: figures(db, &[7, 30], Utc::now()).await?,
        accountability_public: settings::accountability_public(db).await?,
        viewer_is_admin: viewer.role() == Role::Admin,
    })
}

/// The public /accountability page's figures: the last 30 days, when an admin has not
/// switched it off.
pub async fn accountability(db: &DatabaseConnection) -> Result<MetricsWindow, AppError> {
    if !settings::accountability_public(db).await? {
        return Err(AppError::NotFound("This page is switched off.".into()));
    }
    figures(db, &[30], Utc::now())
        .await?
        .pop()
        .ok_or(AppError::Internal)
}

pub const QUEUE_PAGE_SIZE: u64 = 50;
