//! The staff response as staff and the public read it: the awaiting-staff queue, a topic's history, the response figures. Reads only.
use std::collections::{HashMap, HashSet};

use chrono::{Duration, Utc};
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait},
};

use crate::server::{
    auth::require_role,
    entity::{category, post, topic, topic_event, user},
    excerpt_lines::excerpt_lines,
    memo::Memo,
    settings,
};
use crate::{
    error::AppError,
    model::{
        Accountability, MetricsRow, MetricsWeek, MetricsWindow, NoReplyDecision, PostState,
        QueueItem, Role, StaffMetrics, StaffQueue, TopicStatus,
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
    waiting_kept: &Memo<WaitingCounts>,
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
        .filter(topic::Column::CategoryId.is_in(ids.clone()));
    let all_ids = categories.iter().map(|c| c.id).collect();
    let counts = waiting_kept
        .get_or_load(db, || waiting_rows(db, all_ids))
        .await?;
    let total = counts
        .iter()
        .filter(|(category, _, _)| ids.contains(category))
        .map(|&(_, n, _)| u64::try_from(n).unwrap_or(0))
        .sum();
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
    let moderator = viewer.role() >= Role::Moderator;
    let items = topics
        .into_iter()
        .filter_map(|t| {
            let c = by_id.get(&t.category_id)?;
            let since = t.awaiting_staff_since?;
            let target = Duration::minutes(c.response_target_minutes as i64);
            let opening = firsts.get(&t.id);
            let state = opening.map(|(_, state)| PostState::parse(state));
            // Waiting while members' flags hid it (`posting::settle`): a hidden topic is for
            // moderators, so other staff see that it waits, not what it says.
            let under_review = state == Some(PostState::Hidden);
            let withheld = under_review && !moderator;
            let shown = |text: String| if withheld { String::new() } else { text };
            Some(QueueItem {
                category: crate::server::records::categories::category_ref(c),
                author: shown(names.get(&t.author_id).cloned().unwrap_or_default()),
                created_at: t.created_at,
                awaiting_since: since,
                reopened: since > t.created_at,
                held: state == Some(PostState::Pending),
                under_review,
                withheld,
                target_minutes: c.response_target_minutes,
                past_target: now - since > target,
                excerpt: shown(
                    opening
                        .map(|(html, _)| excerpt_lines(html, 200))
                        .unwrap_or_default(),
                ),
                id: if withheld { 0 } else { t.id },
                slug: shown(t.slug),
                title: shown(t.title),
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
        recent_no_reply: recent_no_reply(db, viewer).await?,
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
async fn recent_no_reply(
    db: &DatabaseConnection,
    viewer: &user::Model,
) -> Result<Vec<NoReplyDecision>, AppError> {
    // More than are shown, so that topics hidden since leave room for older ones.
    let events = topic_event::Entity::find()
        .filter(topic_event::Column::Kind.eq("no_reply_needed"))
        .order_by_desc(topic_event::Column::CreatedAt)
        .limit(3 * RECENT_NO_REPLY as u64)
        .all(db)
        .await?;
    let mut topics: HashMap<i64, topic::Model> = topic::Entity::find()
        .filter(topic::Column::Id.is_in(events.iter().map(|e| e.topic_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    // Only what the viewer may see: a topic set aside may since have been hidden or removed,
    // and its title is then for moderators (`visibility`). Asked of unlisted topics only.
    let mut unseen = Vec::new();
    for t in topics.values().filter(|t| !t.visible) {
        if !crate::server::visibility::can_see_topic(db, t, Some(viewer)).await? {
            unseen.push(t.id);
        }
    }
    for id in unseen {
        topics.remove(&id);
    }
    let names = usernames(db, events.iter().filter_map(|e| e.actor_id)).await?;
    Ok(events
        .into_iter()
        .filter_map(|e| {
            let t = topics.get(&e.topic_id)?;
            let (slug, title) = (t.slug.clone(), t.title.clone());
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
        .take(RECENT_NO_REPLY)
        .collect())
}

/// How many "no reply needed" decisions the queue shows.
const RECENT_NO_REPLY: usize = 10;

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

/// The rows every response figure is counted from, read once per page by `figure_rows`.
#[derive(Clone, Debug, Default)]
pub struct FigureRows {
    /// Topics customers started: (category, started at, first staff reply at).
    pub started: Vec<(i64, DateTimeUtc, Option<DateTimeUtc>)>,
    /// Topics resolved: (category, resolved at, confirmed by the customer).
    pub resolved: Vec<(i64, DateTimeUtc, bool)>,
    /// Topics waiting for staff now: (category, how many, since when the oldest has waited).
    pub waiting: Vec<(i64, i64, Option<DateTimeUtc>)>,
}

/// The figure rows of topics started (or resolved) since `since`. Topics started by staff and
/// the blog's comment topics are not counted.
async fn figure_rows(
    db: &DatabaseConnection,
    categories: &[category::Model],
    since: DateTimeUtc,
) -> Result<FigureRows, AppError> {
    let ids: Vec<i64> = categories.iter().map(|c| c.id).collect();
    // Only the columns the figures need (index on created_at); every window is a subset.
    let started = topic::Entity::find()
        .select_only()
        .columns([
            topic::Column::CategoryId,
            topic::Column::CreatedAt,
            topic::Column::FirstStaffReplyAt,
        ])
        .filter(topic::Column::CreatedAt.gte(since))
        .filter(topic::Column::StartedByStaff.eq(false))
        .filter(topic::Column::CategoryId.is_in(ids.clone()))
        .filter(counted())
        .into_tuple()
        .all(db)
        .await?;
    let resolved = topic::Entity::find()
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
        // Customers' topics, as above: a staff member resolving and confirming topics of their
        // own would otherwise move the public figure at will.
        .filter(topic::Column::StartedByStaff.eq(false))
        .filter(counted())
        .into_tuple()
        .all(db)
        .await?;
    Ok(FigureRows {
        started,
        resolved,
        waiting: waiting_rows(db, ids).await?,
    })
}

/// The topics the figures count: listed ones, held ones (their customer waits all the same) and
/// ones members' flags hid until a moderator decides (`posting::under_review_sql`: else three
/// flags would take a complaint, answered late or not at all, out of the figures); not topics
/// whose opening post a moderator removed or hid (spam is nobody's unanswered question).
fn counted() -> sea_orm::Condition {
    sea_orm::Condition::any()
        .add(topic::Column::Visible.eq(true))
        .add(topic::Column::AwaitingStaffSince.is_not_null())
        .add(Expr::cust(crate::server::posting::under_review_sql(
            "topics.id",
        )))
}

/// Topics waiting for staff now, per category of `ids`: (category, how many, since when the
/// oldest has waited). One pass over the awaiting index: at a million posts, 30,000 entries.
async fn waiting_rows(
    db: &DatabaseConnection,
    ids: Vec<i64>,
) -> Result<Vec<(i64, i64, Option<DateTimeUtc>)>, AppError> {
    Ok(topic::Entity::find()
        .select_only()
        .column(topic::Column::CategoryId)
        .column_as(Expr::col(topic::Column::Id).count(), "waiting")
        .column_as(Expr::col(topic::Column::AwaitingStaffSince).min(), "oldest")
        .filter(topic::Column::AwaitingStaffSince.is_not_null())
        .filter(topic::Column::CategoryId.is_in(ids))
        .group_by(topic::Column::CategoryId)
        .into_tuple()
        .all(db)
        .await?)
}

/// The queue's count of waiting topics per category, kept while the page version holds
/// (AppState::waiting): every staff member's every queue page counted them all again, 6 of the
/// page's 10 ms at a million posts.
pub type WaitingCounts = Vec<(i64, i64, Option<DateTimeUtc>)>;

/// The one function every response figure comes from: the rows of topics started (and
/// resolutions made) in `from..to`, counted per category and overall, as of `now`. A topic not
/// yet answered counts against its target once the target has passed `now`. "Waiting now" is
/// a count of the present, so only a period that ends `now` has it.
pub fn count_period(
    rows: &FigureRows,
    categories: &[category::Model],
    from: DateTimeUtc,
    to: DateTimeUtc,
    now: DateTimeUtc,
) -> (MetricsRow, Vec<MetricsRow>) {
    let within = |at: DateTimeUtc| at >= from && at < to;
    let mut tallies: HashMap<i64, Tally> = HashMap::new();
    let targets: HashMap<i64, Duration> = categories
        .iter()
        .map(|c| (c.id, Duration::minutes(c.response_target_minutes as i64)))
        .collect();
    for &(category_id, created, first_reply) in rows.started.iter().filter(|r| within(r.1)) {
        let Some(&target) = targets.get(&category_id) else {
            continue;
        };
        let tally = tallies.entry(category_id).or_default();
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
    for &(category_id, _, confirmed) in rows.resolved.iter().filter(|r| within(r.1)) {
        let tally = tallies.entry(category_id).or_default();
        tally.resolved += 1;
        tally.confirmed += u32::from(confirmed);
    }
    if to >= now {
        for &(category_id, count, oldest) in &rows.waiting {
            let tally = tallies.entry(category_id).or_default();
            tally.waiting = count as u32;
            tally.oldest = oldest;
        }
    }
    let mut overall = Tally::default();
    let per_category = categories
        .iter()
        .map(|c| {
            let tally = tallies.remove(&c.id).unwrap_or_default();
            overall.add(&tally);
            tally.row(Some(c))
        })
        .collect();
    (overall.row(None), per_category)
}

/// The weeks the trend chart shows: twelve 7-day periods, the last ending `now` (so the last
/// week is the "last 7 days"), oldest first, each counted by `count_period`.
pub fn weekly_series(
    rows: &FigureRows,
    categories: &[category::Model],
    now: DateTimeUtc,
) -> Vec<MetricsWeek> {
    (0..TREND_WEEKS)
        .rev()
        .map(|ago| {
            let to = now - Duration::weeks(ago);
            let from = to - Duration::weeks(1);
            MetricsWeek {
                starts: from,
                figures: count_period(rows, categories, from, to, now).0,
            }
        })
        .collect()
}

/// How many weeks the trend chart shows.
pub const TREND_WEEKS: i64 = 12;

/// Response figures for the last `windows` days (e.g. [7, 30]), per category and overall, as of
/// `now`, each with the same figures for the period of the same length before it.
pub async fn figures(
    db: &DatabaseConnection,
    windows: &[u32],
    now: DateTimeUtc,
) -> Result<Vec<MetricsWindow>, AppError> {
    Ok(figures_and_trend(db, windows, now, false).await?.0)
}

/// `figures`, and when asked the 12-week trend, from one read of the rows.
async fn figures_and_trend(
    db: &DatabaseConnection,
    windows: &[u32],
    now: DateTimeUtc,
    trend: bool,
) -> Result<(Vec<MetricsWindow>, Vec<MetricsWeek>), AppError> {
    let categories = forum_categories(db).await?;
    let longest = windows.iter().copied().max().unwrap_or(30) as i64;
    // Back far enough for the period before the longest window, and for the trend's weeks.
    let mut since = now - Duration::days(2 * longest);
    if trend {
        since = std::cmp::min(since, now - Duration::weeks(TREND_WEEKS));
    }
    let rows = figure_rows(db, &categories, since).await?;
    let windows = windows
        .iter()
        .map(|&days| {
            let length = Duration::days(days as i64);
            let (overall, categories_rows) =
                count_period(&rows, &categories, now - length, now, now);
            let previous =
                count_period(&rows, &categories, now - length - length, now - length, now).0;
            MetricsWindow {
                days,
                overall,
                categories: categories_rows,
                previous,
            }
        })
        .collect();
    let weeks = if trend {
        weekly_series(&rows, &categories, now)
    } else {
        Vec::new()
    };
    Ok((windows, weeks))
}

/// /staff/metrics: the last 7 and 30 days (each with the period before) and the 12-week trend.
pub async fn metrics(
    db: &DatabaseConnection,
    viewer: &user::Model,
) -> Result<StaffMetrics, AppError> {
    require_role(Some(viewer.role()), Role::Staff)?;
    let (windows, weeks) = figures_and_trend(db, &[7, 30], Utc::now(), true).await?;
    Ok(StaffMetrics {
        windows,
        weeks,
        accountability_public: settings::accountability_public(db).await?,
        viewer_is_admin: viewer.role() == Role::Admin,
    })
}

/// The public /accountability page's figures: the last 30 days (with the 30 before) and the
/// 12-week trend, when an admin has not switched it off.
pub async fn accountability(db: &DatabaseConnection) -> Result<Accountability, AppError> {
    if !settings::accountability_public(db).await? {
        return Err(AppError::NotFound("This page is switched off.".into()));
    }
    let (mut windows, weeks) = figures_and_trend(db, &[30], Utc::now(), true).await?;
    Ok(Accountability {
        window: windows.pop().ok_or(AppError::Internal)?,
        weeks,
    })
}

pub const QUEUE_PAGE_SIZE: u64 = 50;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn category(id: i64, target_minutes: i32) -> category::Model {
        category::Model {
            id,
            slug: format!("c{id}"),
            name: format!("Category {id}"),
            description: String::new(),
            position: id as i32,
            colour: "blue".into(),
            kind: "forum".into(),
            response_target_minutes: target_minutes,
            topic_count: 0,
            post_count: 0,
            last_posted_at: None,
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            customers_may_start: true,
            archived: false,
        }
    }

    fn now() -> DateTimeUtc {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
    }

    /// A topic customers started `ago` before `now`, answered by staff after `took` minutes.
    fn started(
        category: i64,
        ago: Duration,
        took: Option<i64>,
    ) -> (i64, DateTimeUtc, Option<DateTimeUtc>) {
        let at = now() - ago;
        (category, at, took.map(|m| at + Duration::minutes(m)))
    }

    /// Two categories (targets 1 h and 24 h), this month and the month before, worked out by
    /// hand.
    fn rows() -> FigureRows {
        let mut started_rows = Vec::new();
        // This month, category 1: answered after 10, 30, 50, 90 and 200 minutes; one waiting
        // for 2 hours (past its 1 h target) and one for 10 minutes (not yet due).
        for took in [10, 30, 50, 90, 200] {
            started_rows.push(started(1, Duration::days(2), Some(took)));
        }
        started_rows.push(started(1, Duration::hours(2), None));
        started_rows.push(started(1, Duration::minutes(10), None));
        // Category 2: answered after 300 minutes (within 24 h).
        started_rows.push(started(2, Duration::days(3), Some(300)));
        // The month before: category 1 answered after 40 and 100 minutes.
        started_rows.push(started(1, Duration::days(40), Some(40)));
        started_rows.push(started(1, Duration::days(45), Some(100)));
        // Older than both: counted nowhere.
        started_rows.push(started(1, Duration::days(61), Some(1)));
        FigureRows {
            started: started_rows,
            resolved: vec![
                (2, now() - Duration::days(1), true),
                (2, now() - Duration::days(2), false),
                (1, now() - Duration::days(5), true),
                (1, now() - Duration::days(35), false),
                (1, now() - Duration::days(36), true),
            ],
            waiting: vec![(1, 2, Some(now() - Duration::hours(2)))],
        }
    }

    #[test]
    fn a_period_is_counted_from_its_rows() {
        let categories = [category(1, 60), category(2, 24 * 60)];
        let (all, per) = count_period(
            &rows(),
            &categories,
            now() - Duration::days(30),
            now(),
            now(),
        );
        let first = &per[0];
        assert_eq!((first.topics, first.answered), (7, 5));
        // Sorted 10 30 50 90 200: nearest rank ceil(0.5*5)=3 -> 50; ceil(0.9*5)=5 -> 200.
        assert_eq!(
            (first.median_minutes, first.p90_minutes),
            (Some(50), Some(200))
        );
        // Within 60 m: 10, 30, 50 of the 6 due (5 answered + the one past target) = 50%.
        assert_eq!(first.within_target_percent, Some(50));
        assert_eq!((first.resolved, first.confirmed_percent), (1, Some(100)));
        assert_eq!(first.waiting, 2);
        assert_eq!(first.target_minutes, Some(60));
        // All: 10 30 50 90 200 300 -> median rank 3 = 50, p90 rank 6 = 300; within 3 + 1 of
        // 7 due = 57%; resolved 3, confirmed 2 = 67%.
        assert_eq!((all.topics, all.answered), (8, 6));
        assert_eq!((all.median_minutes, all.p90_minutes), (Some(50), Some(300)));
        assert_eq!(all.within_target_percent, Some(57));
        assert_eq!((all.resolved, all.confirmed_percent), (3, Some(67)));
        assert_eq!((all.waiting, all.category.clone()), (2, None));
    }

    #[test]
    fn the_period_before_and_an_empty_period() {
        let categories = [category(1, 60), category(2, 24 * 60)];
        let month = Duration::days(30);
        let (before, per) = count_period(
            &rows(),
            &categories,
            now() - month - month,
            now() - month,
            now(),
        );
        // 40 and 100 minutes: median rank 1 = 40, p90 rank 2 = 100; one of two within 1 h.
        assert_eq!((before.topics, before.answered), (2, 2));
        assert_eq!(
            (before.median_minutes, before.p90_minutes),
            (Some(40), Some(100))
        );
        assert_eq!(before.within_target_percent, Some(50));
        assert_eq!((before.resolved, before.confirmed_percent), (2, Some(50)));
        assert_eq!(before.waiting, 0, "waiting is a count of the present");
        assert_eq!(
            per[1],
            MetricsRow {
                category: per[1].category.clone(),
                target_minutes: Some(24 * 60),
                ..MetricsRow::default()
            }
        );

        // A period with no topics at all has no figures, not zeros.
        let (empty, _) = count_period(
            &rows(),
            &categories,
            now() - Duration::days(100),
            now() - Duration::days(90),
            now(),
        );
        assert_eq!(empty, MetricsRow::default());
        let (none, per) = count_period(
            &FigureRows::default(),
            &categories,
            now() - month,
            now(),
            now(),
        );
        assert_eq!(none.median_minutes, None);
        assert_eq!(none.within_target_percent, None);
        assert_eq!(none.confirmed_percent, None);
        assert_eq!(per.len(), 2);
    }

    #[test]
    fn twelve_weeks_oldest_first_with_empty_weeks() {
        let categories = [category(1, 60)];
        let rows = FigureRows {
            started: vec![
                // This week (the last 7 days): 20 and 40 minutes.
                started(1, Duration::days(1), Some(20)),
                started(1, Duration::days(6), Some(40)),
                // Exactly 7 days ago: the start of this week, not the end of the one before.
                started(1, Duration::weeks(1), Some(5)),
                // Week 3 of 12 (9 to 10 weeks ago): still unanswered, long past its target.
                started(1, Duration::weeks(9) + Duration::days(3), None),
                // Twelve weeks and a day ago: before the chart.
                started(1, Duration::weeks(12) + Duration::days(1), Some(1)),
            ],
            resolved: vec![],
            waiting: vec![(1, 1, Some(now() - Duration::weeks(9)))],
        };
        let weeks = weekly_series(&rows, &categories, now());
        assert_eq!(weeks.len(), 12);
        assert_eq!(weeks[0].starts, now() - Duration::weeks(12));
        assert_eq!(weeks[11].starts, now() - Duration::weeks(1));
        let last = &weeks[11].figures;
        assert_eq!((last.topics, last.answered), (3, 3));
        assert_eq!(
            (last.median_minutes, last.p90_minutes),
            (Some(20), Some(40))
        );
        assert_eq!(last.within_target_percent, Some(100));
        assert_eq!(last.waiting, 1, "the last week ends now");
        let third = &weeks[2].figures;
        assert_eq!(
            (third.topics, third.answered, third.median_minutes),
            (1, 0, None)
        );
        assert_eq!(third.within_target_percent, Some(0));
        assert_eq!(third.waiting, 0);
        for (i, week) in weeks.iter().enumerate() {
            if i != 2 && i != 11 {
                assert_eq!(week.figures, MetricsRow::default(), "week {i}");
            }
        }
    }
}
