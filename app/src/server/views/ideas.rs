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
        BURST_VOTES_SHOWN, BurstView, CategoryRef, HeldVoteView, ROADMAP_COLUMN_CAP, Role,
        Roadmap, RoadmapColumn, RoadmapIdea, StaffIdeaRow, StaffIdeas, TREND_WEEKS, TopicStatus,
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

/// `$first, $first+1, ...` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
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
        (String::new(), "t.vote_count")
    } else {
        (String::new(), "t.vote_count + t.pending_vote_count")
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
            placeholders(1, n),
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
                format!("CAST(FLOOR(EXTRACT(EPOCH FROM (created_at - {start})) / 604800) AS BIGINT)")
            }
            _ => format!("CAST((julianday(created_at) - julianday({start})) / 7 AS INTEGER)"),
        };
        let sql = format!(
            "SELECT topic_id, {week} AS week, COUNT(*) AS n FROM votes \
             WHERE topic_id IN ({}) AND state = 'counted' AND created_at >= {start} \
             AND created_at < {end} GROUP BY topic_id, week",
            placeholders(1, n)
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
mod tests;
