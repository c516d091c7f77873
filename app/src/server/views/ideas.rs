//! Ideas as the public and staff read them: the roadmap (ideas the team took up, by status),
//! staff's list of ideas by votes with its CSV, and the votes a burst review holds. Reads only;
//! the counts are the ones `records::votes::recount` keeps on each topic, so the roadmap never
//! adds votes up.
use std::collections::HashMap;

use chrono::{Duration, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Value,
    prelude::DateTimeUtc,
    sea_query::{Expr, ExprTrait},
};

use crate::server::{
    auth::require_role,
    db::numbered,
    entity::{category, topic, user, vote},
    records::categories::category_ref,
    settings,
};
use crate::{
    error::AppError,
    model::{
        BURST_VOTES_SHOWN, BurstView, CategoryRef, HeldVoteView, ROADMAP_COLUMN_CAP, Roadmap,
        RoadmapColumn, RoadmapIdea, Role, StaffIdeaRow, StaffIdeas, TREND_WEEKS, TopicStatus,
    },
};

pub const ROADMAP_OFF: &str = "This page is switched off.";
pub const STATUS_UNKNOWN: &str = "Choose a status from the list.";
pub const CATEGORY_UNKNOWN: &str = "Choose an ideas category from the list.";
pub const BAD_DATE: &str = "Give the date as YYYY-MM-DD, such as 2025-03-31.";
pub const DATES_REVERSED: &str = "The end of the period comes before its start.";

/// The roadmap's columns: (stored status, heading).
const COLUMNS: [(TopicStatus, &str); 3] = [
    (TopicStatus::Planned, "Planned"),
    (TopicStatus::InProgress, "In progress"),
    (TopicStatus::Resolved, "Done"),
];

/// How many ideas /staff/ideas shows a page.
pub const STAFF_IDEAS_PAGE_SIZE: u64 = 50;

/// The ideas categories, in the admins' order.
async fn ideas_categories(db: &impl ConnectionTrait) -> Result<Vec<category::Model>, AppError> {
    Ok(category::Entity::find()
        .filter(category::Column::Kind.eq("ideas"))
        .order_by_asc(category::Column::Position)
        .all(db)
        .await?)
}

/// /roadmap: planned, in progress and done ideas, most votes first in each column. Switched off
/// by the admins, it is "not found", except to staff, who may preview it.
pub async fn roadmap(
    db: &DatabaseConnection,
    viewer: Option<&user::Model>,
) -> Result<Roadmap, AppError> {
    let public = settings::flag(db, settings::ROADMAP_PUBLIC).await?;
    let staff = viewer.is_some_and(|u| u.role().is_staff());
    if !public && !staff {
        return Err(AppError::NotFound(ROADMAP_OFF.into()));
    }
    let categories = ideas_categories(db).await?;
    let by_id: HashMap<i64, &category::Model> = categories.iter().map(|c| (c.id, c)).collect();
    let ids: Vec<i64> = categories.iter().map(|c| c.id).collect();
    // Ideas a visitor may see: listed (`visible`, as visibility::public_forum_topics; an ideas
    // category holds no article comments) and not merged into another.
    let listed = || {
        topic::Entity::find()
            .filter(topic::Column::CategoryId.is_in(ids.clone()))
            .filter(topic::Column::Visible.eq(true))
            .filter(topic::Column::MergedIntoId.is_null())
    };
    let statuses = COLUMNS.map(|(s, _)| s.as_str());
    // How many of each status, and in which categories, for the "and N more" links.
    let counts: Vec<(String, i64, i64)> = listed()
        .select_only()
        .column(topic::Column::Status)
        .column(topic::Column::CategoryId)
        .column_as(Expr::col(topic::Column::Id).count(), "n")
        .filter(topic::Column::Status.is_in(statuses))
        .group_by(topic::Column::Status)
        .group_by(topic::Column::CategoryId)
        .into_tuple()
        .all(db)
        .await?;
    let mut columns = Vec::with_capacity(COLUMNS.len());
    for (status, heading) in COLUMNS {
        let rows = listed()
            .filter(topic::Column::Status.eq(status.as_str()))
            .order_by_desc(topic::Column::VoteCount)
            .order_by_desc(topic::Column::StatusChangedAt)
            .order_by_desc(topic::Column::Id)
            .limit(ROADMAP_COLUMN_CAP as u64)
            .all(db)
            .await?;
        let of_status = counts.iter().filter(|(s, _, _)| s == status.as_str());
        let total: i64 = of_status.clone().map(|(_, _, n)| n).sum();
        columns.push(RoadmapColumn {
            status: status.as_str().into(),
            heading: heading.into(),
            more: (total as u64).saturating_sub(rows.len() as u64),
            more_in: categories
                .iter()
                .filter(|c| of_status.clone().any(|(_, id, _)| *id == c.id))
                .map(category_ref)
                .collect(),
            ideas: rows
                .into_iter()
                .filter_map(|t| {
                    Some(RoadmapIdea {
                        category: category_ref(by_id.get(&t.category_id)?),
                        topic_id: t.id,
                        slug: t.slug,
                        title: t.title,
                        votes: t.vote_count,
                        status_changed_at: t.status_changed_at,
                    })
                })
                .collect(),
        });
    }
    Ok(Roadmap {
        columns,
        preview: !public,
    })
}

/// /staff/ideas's filters, as typed into its form (a GET: the query string).
#[derive(Clone, Debug, Default)]
pub struct IdeasFilter {
    /// An ideas category's slug.
    pub category: Option<String>,
    pub status: Option<String>,
    /// Count only verified votes (the public count), not pending ones too.
    pub verified_only: bool,
    /// YYYY-MM-DD, inclusive: count only the votes cast in these days.
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The filter checked: what the queries use.
struct Checked {
    categories: Vec<category::Model>,
    category_id: Option<i64>,
    status: Option<TopicStatus>,
    verified_only: bool,
    /// [from, until) when a period is given; either end may be open.
    from: Option<DateTimeUtc>,
    until: Option<DateTimeUtc>,
}

impl Checked {
    fn period(&self) -> bool {
        self.from.is_some() || self.until.is_some()
    }

    /// The vote states that count: counted, and pending too unless "verified only".
    fn states(&self) -> &'static str {
        if self.verified_only {
            "('counted')"
        } else {
            "('counted', 'pending')"
        }
    }
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A strict YYYY-MM-DD (four-digit years: chrono also reads "+10000", which SQLite compares
/// wrong as text).
fn day(field: &str, v: &Option<String>) -> Result<Option<NaiveDate>, AppError> {
    let Some(s) = given(v) else {
        return Ok(None);
    };
    let shaped = s.len() == 10
        && s.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            _ => c.is_ascii_digit(),
        });
    shaped
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
        .map(Some)
        .ok_or_else(|| AppError::invalid(field, BAD_DATE))
}

async fn check(db: &DatabaseConnection, f: &IdeasFilter) -> Result<Checked, AppError> {
    let categories = ideas_categories(db).await?;
    let category_id = match given(&f.category) {
        None => None,
        Some(slug) => Some(
            categories
                .iter()
                .find(|c| c.slug == slug)
                .ok_or_else(|| AppError::invalid("category", CATEGORY_UNKNOWN))?
                .id,
        ),
    };
    let status = match given(&f.status) {
        None => None,
        Some(s) => {
            Some(TopicStatus::parse(s).ok_or_else(|| AppError::invalid("status", STATUS_UNKNOWN))?)
        }
    };
    let start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let from = day("from", &f.from)?.and_then(start);
    // The day after the last one.
    let until = day("to", &f.to)?
        .and_then(|d| d.succ_opt())
        .filter(|d| chrono::Datelike::year(d) <= 9999)
        .and_then(start);
    if let (Some(from), Some(until)) = (from, until)
        && from >= until
    {
        return Err(AppError::invalid("to", DATES_REVERSED));
    }
    Ok(Checked {
        categories,
        category_id,
        status,
        verified_only: f.verified_only,
        from,
        until,
    })
}

/// The ideas the filter picks, most votes first: a page of them (offset, limit), or all (`page`
/// None, the CSV); voters and trend are filled in by `voters_and_trend`.
async fn list(
    db: &DatabaseConnection,
    c: &Checked,
    page: Option<(u64, u64)>,
) -> Result<Vec<StaffIdeaRow>, AppError> {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = Vec::new();
    let mut bind = |v: Value| {
        values.push(v);
        format!("${}", values.len())
    };
    let (join, key) = if c.period() {
        let mut period = String::new();
        if let Some(from) = c.from {
            period.push_str(&format!(" AND created_at >= {}", bind(from.into())));
        }
        if let Some(until) = c.until {
            period.push_str(&format!(" AND created_at < {}", bind(until.into())));
        }
        (
            format!(
                "LEFT JOIN (SELECT topic_id, COUNT(*) AS n FROM votes WHERE state IN {}{period} \
                 GROUP BY topic_id) p ON p.topic_id = t.id",
                c.states()
            ),
            "COALESCE(p.n, 0)",
        )
    } else if c.verified_only {
        // As BIGINT, like the period's COUNT(*): PostgreSQL keeps the columns' INT4 otherwise.
        (String::new(), "CAST(t.vote_count AS BIGINT)")
    } else {
        (
            String::new(),
            "CAST(t.vote_count + t.pending_vote_count AS BIGINT)",
        )
    };
    let mut filter = format!(
        "t.category_id IN (SELECT id FROM categories WHERE kind = 'ideas') \
         AND t.visible = {} AND t.merged_into_id IS NULL",
        bind(true.into())
    );
    if let Some(id) = c.category_id {
        filter.push_str(&format!(" AND t.category_id = {}", bind(id.into())));
    }
    if let Some(s) = c.status {
        filter.push_str(&format!(" AND t.status = {}", bind(s.as_str().into())));
    }
    let mut sql = format!(
        "SELECT t.id, t.slug, t.title, t.category_id, t.status, t.vote_count, \
         t.pending_vote_count, {key} AS votes FROM topics t {join} WHERE {filter} \
         ORDER BY votes DESC, t.id DESC"
    );
    if let Some((offset, limit)) = page {
        sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
    }
    let by_id: HashMap<i64, CategoryRef> = c
        .categories
        .iter()
        .map(|cat| (cat.id, category_ref(cat)))
        .collect();
    let rows = db.query_all_raw(numbered(backend, &sql, values)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let category_id: i64 = row.try_get("", "category_id")?;
        let Some(category) = by_id.get(&category_id).cloned() else {
            continue;
        };
        out.push(StaffIdeaRow {
            topic_id: row.try_get("", "id")?,
            slug: row.try_get("", "slug")?,
            title: row.try_get("", "title")?,
            category,
            status: row.try_get("", "status")?,
            votes: row.try_get::<i64>("", "votes")?,
            verified: row.try_get::<i32>("", "vote_count")? as i64,
            pending: row.try_get::<i32>("", "pending_vote_count")? as i64,
            customer_voters: 0,
            staff_voters: 0,
            trend: vec![0; TREND_WEEKS],
        });
    }
    Ok(out)
}

/// How many ideas the filter picks.
async fn count(db: &DatabaseConnection, c: &Checked) -> Result<u64, AppError> {
    let mut q = topic::Entity::find()
        .filter(topic::Column::CategoryId.is_in(c.categories.iter().map(|c| c.id)))
        .filter(topic::Column::Visible.eq(true))
        .filter(topic::Column::MergedIntoId.is_null());
    if let Some(id) = c.category_id {
        q = q.filter(topic::Column::CategoryId.eq(id));
    }
    if let Some(s) = c.status {
        q = q.filter(topic::Column::Status.eq(s.as_str()));
    }
    Ok(sea_orm::PaginatorTrait::count(q, db).await?)
}

/// Fills in, for these rows, who their voters are (customers or staff; the votes the row
/// counts) and their weekly counted votes over the 12 weeks to `now`: one grouped query each,
/// in chunks of ids.
async fn voters_and_trend(
    db: &DatabaseConnection,
    c: &Checked,
    rows: &mut [StaffIdeaRow],
    now: DateTimeUtc,
) -> Result<(), AppError> {
    let backend = db.get_database_backend();
    let trend_start = trend_start(now);
    let mut voters: HashMap<i64, (i64, i64)> = HashMap::new();
    let mut weeks: HashMap<(i64, i64), i64> = HashMap::new();
    for chunk in rows.chunks(500) {
        let ids: Vec<Value> = chunk.iter().map(|r| r.topic_id.into()).collect();
        let n = ids.len();
        // Voters: by role, of the votes the list counts.
        let mut values = ids.clone();
        let mut period = String::new();
        if let Some(from) = c.from {
            values.push(from.into());
            period.push_str(&format!(" AND v.created_at >= ${}", values.len()));
        }
        if let Some(until) = c.until {
            values.push(until.into());
            period.push_str(&format!(" AND v.created_at < ${}", values.len()));
        }
        let sql = format!(
            "SELECT v.topic_id, u.role, COUNT(*) AS n FROM votes v JOIN users u ON u.id = v.user_id \
             WHERE v.topic_id IN ({}) AND v.state IN {}{period} GROUP BY v.topic_id, u.role",
            crate::server::db::placeholders(1, n),
            c.states()
        );
        for row in db.query_all_raw(numbered(backend, &sql, values)).await? {
            let topic_id: i64 = row.try_get("", "topic_id")?;
            let role: String = row.try_get("", "role")?;
            let count: i64 = row.try_get("", "n")?;
            let entry = voters.entry(topic_id).or_default();
            if Role::parse(&role).is_some_and(|r| r.is_staff()) {
                entry.1 += count;
            } else {
                entry.0 += count;
            }
        }
        // The trend: counted votes by week since the trend's start.
        let mut values = ids;
        values.push(trend_start.into());
        let start = format!("${}", values.len());
        values.push(now.into());
        let end = format!("${}", values.len());
        let week = match backend {
            DbBackend::Postgres => {
                format!(
                    "CAST(FLOOR(EXTRACT(EPOCH FROM (created_at - {start})) / 604800) AS BIGINT)"
                )
            }
            _ => format!("CAST((julianday(created_at) - julianday({start})) / 7 AS INTEGER)"),
        };
        let sql = format!(
            "SELECT topic_id, {week} AS week, COUNT(*) AS n FROM votes \
             WHERE topic_id IN ({}) AND state = 'counted' AND created_at >= {start} \
             AND created_at < {end} GROUP BY topic_id, week",
            crate::server::db::placeholders(1, n)
        );
        for row in db.query_all_raw(numbered(backend, &sql, values)).await? {
            let topic_id: i64 = row.try_get("", "topic_id")?;
            let week: i64 = row.try_get("", "week")?;
            weeks.insert((topic_id, week), row.try_get("", "n")?);
        }
    }
    for r in rows.iter_mut() {
        let (customers, staff) = voters.get(&r.topic_id).copied().unwrap_or_default();
        r.customer_voters = customers;
        r.staff_voters = staff;
        for (i, slot) in r.trend.iter_mut().enumerate() {
            *slot = weeks.get(&(r.topic_id, i as i64)).copied().unwrap_or(0) as u32;
        }
    }
    Ok(())
}

/// The first moment of the trend: 12 weeks before `now`.
pub fn trend_start(now: DateTimeUtc) -> DateTimeUtc {
    now - Duration::weeks(TREND_WEEKS as i64)
}

/// /staff/ideas: ideas by votes, with their voters and trend, `STAFF_IDEAS_PAGE_SIZE` a page.
pub async fn staff_ideas(
    db: &DatabaseConnection,
    viewer: &user::Model,
    filter: IdeasFilter,
    page: u64,
) -> Result<StaffIdeas, AppError> {
    staff_ideas_at(db, viewer, filter, page, Utc::now()).await
}

/// `staff_ideas` as seen at `now` (tests place votes in weeks).
pub async fn staff_ideas_at(
    db: &DatabaseConnection,
    viewer: &user::Model,
    filter: IdeasFilter,
    page: u64,
    now: DateTimeUtc,
) -> Result<StaffIdeas, AppError> {
    require_role(Some(viewer.role()), Role::Staff)?;
    let c = check(db, &filter).await?;
    let total = count(db, &c).await?;
    let paged = crate::server::paging::page(page, total, STAFF_IDEAS_PAGE_SIZE)?;
    let mut ideas = list(db, &c, Some((paged.offset(), STAFF_IDEAS_PAGE_SIZE))).await?;
    voters_and_trend(db, &c, &mut ideas, now).await?;
    Ok(StaffIdeas {
        ideas,
        total,
        page: paged.number,
        page_count: paged.count,
        categories: c.categories.iter().map(category_ref).collect(),
        category: given(&filter.category).map(str::to_string),
        status: c.status.map(|s| s.as_str().to_string()),
        verified_only: c.verified_only,
        from: given(&filter.from).map(str::to_string),
        to: given(&filter.to).map(str::to_string),
        trend_start: trend_start(now),
    })
}

/// /staff/ideas.csv: every idea the filter picks (not one page), one line each. `site` is the
/// site's public address, for the links.
pub async fn staff_ideas_csv(
    db: &DatabaseConnection,
    viewer: &user::Model,
    filter: IdeasFilter,
    site: &str,
) -> Result<String, AppError> {
    require_role(Some(viewer.role()), Role::Staff)?;
    let c = check(db, &filter).await?;
    let mut rows = list(db, &c, None).await?;
    voters_and_trend(db, &c, &mut rows, Utc::now()).await?;
    let votes_heading = match (given(&filter.from), given(&filter.to)) {
        (None, None) => "Votes".to_string(),
        (from, to) => format!(
            "Votes {} to {}",
            from.unwrap_or("the start"),
            to.unwrap_or("today")
        ),
    };
    let mut out = String::new();
    let line = |out: &mut String, cells: &[&str]| {
        let cells: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    };
    line(
        &mut out,
        &[
            "Idea",
            "Link",
            "Category",
            "Status",
            &votes_heading,
            "Verified votes",
            "Pending votes",
            "Customer voters",
            "Staff voters",
            "Counted votes by week (last 12 weeks, oldest first)",
        ],
    );
    let site = site.trim_end_matches('/');
    for r in &rows {
        let trend: Vec<String> = r.trend.iter().map(u32::to_string).collect();
        line(
            &mut out,
            &[
                &r.title,
                &format!("{site}/t/{}/{}", r.topic_id, r.slug),
                &r.category.name,
                &TopicStatus::label_of(&r.status),
                &r.votes.to_string(),
                &r.verified.to_string(),
                &r.pending.to_string(),
                &r.customer_voters.to_string(),
                &r.staff_voters.to_string(),
                &trend.join(" "),
            ],
        );
    }
    Ok(out)
}

/// One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled.
/// A cell a spreadsheet would read as a formula (starting with = + - @, a tab or a carriage
/// return) gets a leading apostrophe first, so an idea titled `=HYPERLINK(...)` stays text.
pub fn csv_cell(text: &str) -> String {
    let mut cell = String::with_capacity(text.len() + 2);
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        cell.push('\'');
    }
    cell.push_str(text);
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

/// The votes the burst reviews `item_ids` hold, latest first (at most `BURST_VOTES_SHOWN` each),
/// with their voters; the client address only when `with_addresses` (admins).
pub async fn burst_votes(
    db: &DatabaseConnection,
    item_ids: &[i64],
    with_addresses: bool,
) -> Result<HashMap<i64, BurstView>, AppError> {
    if item_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let votes = vote::Entity::find()
        .filter(vote::Column::ReviewItemId.is_in(item_ids.iter().copied()))
        .order_by_desc(vote::Column::CreatedAt)
        .order_by_desc(vote::Column::Id)
        .all(db)
        .await?;
    let voters: HashMap<i64, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(votes.iter().map(|v| v.user_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let mut out: HashMap<i64, BurstView> = item_ids
        .iter()
        .map(|id| {
            (
                *id,
                BurstView {
                    votes: Vec::new(),
                    total: 0,
                },
            )
        })
        .collect();
    for v in votes {
        let (Some(item), Some(u)) = (v.review_item_id, voters.get(&v.user_id)) else {
            continue;
        };
        let Some(view) = out.get_mut(&item) else {
            continue;
        };
        view.total += 1;
        if view.votes.len() as u64 >= BURST_VOTES_SHOWN {
            continue;
        }
        view.votes.push(HeldVoteView {
            voter: u.username.clone(),
            joined_at: u.created_at,
            email_confirmed: u.email_confirmed_at.is_some(),
            voted_at: v.created_at,
            state: v.state,
            address: with_addresses.then_some(v.client_address),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

    use super::*;
    use crate::server::{
        entity::{review_item, topic, user, vote},
        forum, ideas,
        testing::{World, insert_user},
        views::moderation::{ReviewFilter, review_queue},
    };

    /// The World's "ideas" category made an ideas category.
    async fn ideas_world() -> World {
        let w = World::new().await;
        category::Entity::update_many()
            .col_expr(category::Column::Kind, Expr::value("ideas"))
            .filter(category::Column::Slug.eq("ideas"))
            .exec(&w.db)
            .await
            .unwrap();
        w
    }

    /// An idea by the world's customer, with `status` set `days_ago` days ago (none for open).
    async fn idea(w: &World, title: &str, status: &str, days_ago: i64) -> topic::Model {
        idea_in(w, "ideas", title, status, days_ago).await
    }

    async fn idea_in(
        w: &World,
        slug: &str,
        title: &str,
        status: &str,
        days_ago: i64,
    ) -> topic::Model {
        let (t, _) = forum::start_topic(&w.db, &w.customer, slug, title, "Please.", None)
            .await
            .unwrap();
        let mut row: topic::ActiveModel = t.into();
        row.status = Set(status.into());
        row.status_changed_at =
            Set((status != "open").then(|| Utc::now() - Duration::days(days_ago)));
        row.update(&w.db).await.unwrap()
    }

    /// A customer with a year-old, confirmed account (their votes count at once), id `id`.
    async fn voter(w: &World, id: i64) -> user::Model {
        voter_since(w, id, Utc::now() - Duration::days(365), true).await
    }

    async fn voter_since(
        w: &World,
        id: i64,
        joined: DateTime<Utc>,
        confirmed: bool,
    ) -> user::Model {
        let mut row: user::ActiveModel = insert_user(&w.db, id).await.into();
        row.created_at = Set(joined);
        if !confirmed {
            row.email_confirmed_at = Set(None);
        }
        row.update(&w.db).await.unwrap()
    }

    /// `n` votes on `t` from new voters numbered from `first`, now.
    async fn votes(w: &World, t: &topic::Model, first: i64, n: i64) {
        for id in first..first + n {
            let v = voter(w, id).await;
            ideas::vote(&w.db, &v, t.id, None).await.unwrap();
        }
    }

    fn titles(c: &RoadmapColumn) -> Vec<&str> {
        c.ideas.iter().map(|i| i.title.as_str()).collect()
    }

    #[tokio::test]
    async fn the_roadmap_groups_public_ideas_by_status_most_votes_first() {
        let w = ideas_world().await;
        let few = idea(&w, "Planned with one vote", "planned", 3).await;
        let many = idea(&w, "Planned with three votes", "planned", 9).await;
        let none = idea(&w, "Planned with no votes", "planned", 1).await;
        let doing = idea(&w, "Being built", "in_progress", 2).await;
        let done = idea(&w, "Shipped", "resolved", 5).await;
        idea(&w, "Still open", "open", 0).await;
        idea(&w, "Turned down", "declined", 1).await;
        // Not ideas, merged, or not public: never on the roadmap.
        idea_in(&w, "questions", "A planned question", "planned", 1).await;
        let merged = idea(&w, "Merged away", "planned", 1).await;
        let mut row: topic::ActiveModel = merged.into();
        row.merged_into_id = Set(Some(many.id));
        row.update(&w.db).await.unwrap();
        let hidden = idea(&w, "Not listed", "planned", 1).await;
        let mut row: topic::ActiveModel = hidden.into();
        row.visible = Set(false);
        row.update(&w.db).await.unwrap();
        votes(&w, &many, 100, 3).await;
        votes(&w, &few, 110, 1).await;
        votes(&w, &doing, 120, 2).await;

        let r = roadmap(&w.db, None).await.unwrap();
        assert!(!r.preview);
        let headings: Vec<&str> = r.columns.iter().map(|c| c.heading.as_str()).collect();
        assert_eq!(headings, ["Planned", "In progress", "Done"]);
        assert_eq!(
            titles(&r.columns[0]),
            [
                "Planned with three votes",
                "Planned with one vote",
                "Planned with no votes"
            ]
        );
        assert_eq!(titles(&r.columns[1]), ["Being built"]);
        assert_eq!(titles(&r.columns[2]), ["Shipped"]);
        let first = &r.columns[0].ideas[0];
        assert_eq!((first.votes, first.category.slug.as_str()), (3, "ideas"));
        assert_eq!(r.columns[1].ideas[0].votes, 2);
        // The date of the last status change, as stored.
        let stored = topic::Entity::find_by_id(done.id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap()
            .status_changed_at;
        assert!(stored.is_some());
        assert_eq!(r.columns[2].ideas[0].status_changed_at, stored);
        assert!(r.columns.iter().all(|c| c.more == 0));
        let _ = none;
    }

    #[tokio::test]
    async fn the_roadmap_is_not_found_when_switched_off_except_for_staff() {
        let w = ideas_world().await;
        idea(&w, "Planned", "planned", 1).await;
        settings::put(&w.db, settings::ROADMAP_PUBLIC, "false")
            .await
            .unwrap();
        for viewer in [None, Some(&w.customer)] {
            match roadmap(&w.db, viewer).await {
                Err(AppError::NotFound(m)) => assert_eq!(m, ROADMAP_OFF),
                other => panic!("{other:?}"),
            }
        }
        for staff in [&w.staff, &w.moderator, &w.admin] {
            let r = roadmap(&w.db, Some(staff)).await.unwrap();
            assert!(r.preview);
            assert_eq!(titles(&r.columns[0]), ["Planned"]);
        }
        settings::put(&w.db, settings::ROADMAP_PUBLIC, "true")
            .await
            .unwrap();
        assert!(!roadmap(&w.db, None).await.unwrap().preview);
    }

    #[tokio::test]
    async fn columns_are_capped_with_the_rest_linked_and_the_csv_has_every_row() {
        let w = ideas_world().await;
        let extra = 2;
        for i in 0..ROADMAP_COLUMN_CAP + extra {
            idea(&w, &format!("Planned idea {i}"), "planned", 1).await;
        }
        let r = roadmap(&w.db, None).await.unwrap();
        assert_eq!(r.columns[0].ideas.len(), ROADMAP_COLUMN_CAP);
        assert_eq!(r.columns[0].more, extra as u64);
        let linked: Vec<&str> = r.columns[0]
            .more_in
            .iter()
            .map(|c| c.slug.as_str())
            .collect();
        assert_eq!(linked, ["ideas"]);

        let all = IdeasFilter::default();
        let first = staff_ideas(&w.db, &w.staff, all.clone(), 1).await.unwrap();
        assert_eq!(
            (first.ideas.len() as u64, first.total, first.page_count),
            (
                STAFF_IDEAS_PAGE_SIZE,
                (ROADMAP_COLUMN_CAP + extra) as u64,
                2
            )
        );
        let second = staff_ideas(&w.db, &w.staff, all.clone(), 2).await.unwrap();
        assert_eq!(second.ideas.len(), ROADMAP_COLUMN_CAP + extra - 50);
        let csv = staff_ideas_csv(&w.db, &w.staff, all, "https://x.example/")
            .await
            .unwrap();
        assert_eq!(csv.lines().count(), 1 + ROADMAP_COLUMN_CAP + extra);
        assert!(csv.contains("https://x.example/t/"), "{csv}");
    }

    #[tokio::test]
    async fn staff_ideas_is_for_staff_and_filters_by_category_status_and_verified_votes() {
        let w = ideas_world().await;
        for who in [&w.customer, &w.other] {
            assert!(matches!(
                staff_ideas(&w.db, who, IdeasFilter::default(), 1).await,
                Err(AppError::Forbidden(_))
            ));
            assert!(matches!(
                staff_ideas_csv(&w.db, who, IdeasFilter::default(), "").await,
                Err(AppError::Forbidden(_))
            ));
        }
        let verified = idea(&w, "Three verified", "planned", 1).await;
        let waiting = idea(&w, "Two verified, two pending", "open", 1).await;
        idea_in(&w, "questions", "Not an idea", "open", 1).await;
        votes(&w, &verified, 100, 3).await;
        votes(&w, &waiting, 110, 2).await;
        // Unconfirmed addresses: their votes wait.
        for id in [120, 121] {
            let v = voter_since(&w, id, Utc::now() - Duration::days(365), false).await;
            let s = ideas::vote(&w.db, &v, waiting.id, None).await.unwrap();
            assert!(s.pending);
        }
        let names = |s: &StaffIdeas| -> Vec<(String, i64, i64, i64)> {
            s.ideas
                .iter()
                .map(|r| (r.title.clone(), r.votes, r.verified, r.pending))
                .collect()
        };
        let all = staff_ideas(&w.db, &w.staff, IdeasFilter::default(), 1)
            .await
            .unwrap();
        assert_eq!(
            names(&all),
            [
                ("Two verified, two pending".into(), 4, 2, 2),
                ("Three verified".into(), 3, 3, 0)
            ]
        );
        let only_verified = IdeasFilter {
            verified_only: true,
            ..Default::default()
        };
        let v = staff_ideas(&w.db, &w.staff, only_verified, 1)
            .await
            .unwrap();
        assert_eq!(
            names(&v),
            [
                ("Three verified".into(), 3, 3, 0),
                ("Two verified, two pending".into(), 2, 2, 2)
            ]
        );
        let planned = IdeasFilter {
            status: Some("planned".into()),
            category: Some("ideas".into()),
            ..Default::default()
        };
        let p = staff_ideas(&w.db, &w.staff, planned, 1).await.unwrap();
        assert_eq!(names(&p), [("Three verified".into(), 3, 3, 0)]);
        assert_eq!(p.categories.len(), 1, "only ideas categories to filter by");

        // Bad filters: a clear message on the field, and nothing read wrong or written.
        let before = vote::Entity::find().count(&w.db).await.unwrap();
        for (filter, field, message) in [
            (
                IdeasFilter {
                    status: Some("shipped".into()),
                    ..Default::default()
                },
                "status",
                STATUS_UNKNOWN,
            ),
            (
                IdeasFilter {
                    category: Some("questions".into()),
                    ..Default::default()
                },
                "category",
                CATEGORY_UNKNOWN,
            ),
            (
                IdeasFilter {
                    from: Some("2025-13-01".into()),
                    ..Default::default()
                },
                "from",
                BAD_DATE,
            ),
            (
                IdeasFilter {
                    to: Some("+10000-01-01".into()),
                    ..Default::default()
                },
                "to",
                BAD_DATE,
            ),
            (
                IdeasFilter {
                    from: Some("2025-03-02".into()),
                    to: Some("2025-03-01".into()),
                    ..Default::default()
                },
                "to",
                DATES_REVERSED,
            ),
        ] {
            let got = staff_ideas(&w.db, &w.staff, filter.clone(), 1).await;
            assert_eq!(
                got.err().and_then(|e| e.for_field(field)).as_deref(),
                Some(message),
                "{filter:?}"
            );
            let got = staff_ideas_csv(&w.db, &w.staff, filter, "").await;
            assert_eq!(
                got.err().and_then(|e| e.for_field(field)).as_deref(),
                Some(message)
            );
        }
        assert_eq!(vote::Entity::find().count(&w.db).await.unwrap(), before);
    }

    #[tokio::test]
    async fn a_period_counts_only_the_votes_cast_in_it_and_voters_split_customers_and_staff() {
        let w = ideas_world().await;
        let old = idea(&w, "Popular long ago", "open", 1).await;
        let recent = idea(&w, "Popular lately", "open", 1).await;
        let now = Utc::now();
        let at = |days: i64| now - Duration::days(days);
        // Five votes 40 days ago on the old one; two in the last week on the recent one, one of
        // them staff's.
        for id in 100..105 {
            let v = voter(&w, id).await;
            ideas::vote_at(&w.db, &v, old.id, None, at(40))
                .await
                .unwrap();
        }
        let v = voter(&w, 110).await;
        ideas::vote_at(&w.db, &v, recent.id, None, at(3))
            .await
            .unwrap();
        ideas::vote_at(&w.db, &w.staff, recent.id, None, at(2))
            .await
            .unwrap();
        let day = |d: DateTime<Utc>| Some(d.format("%Y-%m-%d").to_string());
        let lately = IdeasFilter {
            from: day(at(10)),
            to: day(now),
            ..Default::default()
        };
        let s = staff_ideas(&w.db, &w.admin, lately, 1).await.unwrap();
        let rows: Vec<(&str, i64, i64, i64)> = s
            .ideas
            .iter()
            .map(|r| (r.title.as_str(), r.votes, r.customer_voters, r.staff_voters))
            .collect();
        assert_eq!(
            rows,
            [("Popular lately", 2, 1, 1), ("Popular long ago", 0, 0, 0)]
        );
        // Without a period, all votes: the old one leads.
        let s = staff_ideas(&w.db, &w.staff, IdeasFilter::default(), 1)
            .await
            .unwrap();
        assert_eq!(
            (
                s.ideas[0].title.as_str(),
                s.ideas[0].votes,
                s.ideas[0].customer_voters
            ),
            ("Popular long ago", 5, 5)
        );
        // A period that ends before the recent votes: only the old ones.
        let back_then = IdeasFilter {
            to: day(at(30)),
            ..Default::default()
        };
        let s = staff_ideas(&w.db, &w.staff, back_then, 1).await.unwrap();
        assert_eq!(
            (
                s.ideas[0].title.as_str(),
                s.ideas[0].votes,
                s.ideas[1].votes
            ),
            ("Popular long ago", 5, 0)
        );
    }

    #[tokio::test]
    async fn the_trend_counts_counted_votes_by_week_over_twelve_weeks() {
        let w = ideas_world().await;
        let t = idea(&w, "Trending", "open", 1).await;
        let now = Utc::now();
        // Days ago of each vote: week 11 is the last 7 days, week 0 began 84 days ago; 90 days
        // ago is before the trend.
        for (id, days) in [(100, 1), (101, 2), (102, 8), (103, 80), (104, 90)] {
            let v = voter(&w, id).await;
            ideas::vote_at(&w.db, &v, t.id, None, now - Duration::days(days))
                .await
                .unwrap();
        }
        // A pending vote is not in the trend.
        let v = voter_since(&w, 105, now - Duration::days(365), false).await;
        ideas::vote_at(&w.db, &v, t.id, None, now - Duration::days(1))
            .await
            .unwrap();
        let s = staff_ideas_at(&w.db, &w.staff, IdeasFilter::default(), 1, now)
            .await
            .unwrap();
        assert_eq!(s.ideas[0].trend, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(s.trend_start, now - Duration::weeks(12));
        assert_eq!(
            crate::components::sparkline::sparkline_label(&s.ideas[0].trend),
            "12 weeks: 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2"
        );
    }

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a, b"), "\"a, b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("\rx"), "\"'\rx\"");
        assert_eq!(
            csv_cell("=HYPERLINK(\"http://evil.example\",\"x\")"),
            "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\""
        );
        assert_eq!(csv_cell("a=b"), "a=b");
    }

    #[tokio::test]
    async fn a_hostile_title_is_text_in_the_csv() {
        let w = ideas_world().await;
        idea(
            &w,
            "=HYPERLINK(\"http://evil.example\",\"Click\")",
            "open",
            1,
        )
        .await;
        let csv = staff_ideas_csv(&w.db, &w.staff, IdeasFilter::default(), "https://x.example")
            .await
            .unwrap();
        let line = csv.lines().nth(1).unwrap();
        assert!(
            line.starts_with("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"Click\"\")\","),
            "{line}"
        );
    }

    /// `n` votes on `t` within a minute from accounts created a minute apart, from one range.
    async fn burst(w: &World, t: &topic::Model, n: i64) {
        let now = Utc::now();
        for i in 0..n {
            let v = voter_since(
                w,
                200 + i,
                now - Duration::days(30) + Duration::minutes(i),
                true,
            )
            .await;
            let client = format!("203.0.113.{}", 10 + i).parse().ok();
            ideas::vote_at(&w.db, &v, t.id, client, now + Duration::seconds(i))
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn a_burst_review_lists_its_votes_with_addresses_for_admins_only() {
        let w = ideas_world().await;
        let t = idea(&w, "Target of a click farm", "open", 1).await;
        let limit = settings::number(&w.db, settings::VOTE_BURST_VOTES)
            .await
            .unwrap();
        burst(&w, &t, limit + 2).await;
        let item = review_item::Entity::find()
            .filter(review_item::Column::Kind.eq("vote_burst"))
            .one(&w.db)
            .await
            .unwrap()
            .expect("the burst opened a review");
        let filter = ReviewFilter {
            kind: Some("vote_burst".into()),
            ..Default::default()
        };
        let q = review_queue(&w.db, &w.moderator, filter.clone(), 1, &Default::default())
            .await
            .unwrap();
        assert_eq!(q.items.len(), 1);
        let row = &q.items[0];
        assert_eq!(
            (row.id, row.topic_title.as_str()),
            (item.id, "Target of a click farm")
        );
        let b = row.burst.as_ref().expect("a burst's votes");
        // Every vote from the (limit + 1)th on is caught, with the ones before it.
        assert_eq!(
            (b.total, b.votes.len() as u64),
            ((limit + 2) as u64, (limit + 2) as u64)
        );
        assert!(
            b.votes.iter().all(|v| v.address.is_none()),
            "no addresses for moderators"
        );
        assert!(
            b.votes
                .iter()
                .all(|v| v.email_confirmed && v.state == "pending")
        );
        assert!(
            b.votes[0].voted_at >= b.votes[b.votes.len() - 1].voted_at,
            "latest first"
        );
        let q = review_queue(&w.db, &w.admin, filter, 1, &Default::default())
            .await
            .unwrap();
        let b = q.items[0].burst.as_ref().unwrap();
        assert!(
            b.votes.iter().all(|v| v
                .address
                .as_deref()
                .is_some_and(|a| a.starts_with("203.0.113."))),
            "{b:?}"
        );
        // Other kinds carry no burst.
        let all = review_queue(
            &w.db,
            &w.admin,
            ReviewFilter::default(),
            1,
            &Default::default(),
        )
        .await
        .unwrap();
        assert!(
            all.items
                .iter()
                .all(|i| (i.kind == "vote_burst") == i.burst.is_some())
        );
    }
}
