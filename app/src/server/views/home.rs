//! The home page as it reads: the admins' introduction, the response promise's headline, the
//! latest topics across categories and the categories, with what is new to a signed-in member.
//! A fixed number of queries whatever the page's length; nothing here writes.
use std::collections::HashMap;
use std::sync::Mutex;

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, prelude::DateTimeUtc,
};

use crate::error::AppError;
use crate::model::{HomeView, LatestTopic, PostState, ResponseHeadline};
use crate::server::db::{numbered, placeholders};
use crate::server::entity::{topic, user};
use crate::server::records::{reads, users::authors};
use crate::server::{content, settings, visibility};

/// Latest topics shown on a page of the home page.
pub const LATEST_PAGE_SIZE: u64 = 20;

/// The home page's page `page` (of its latest topics) as `viewer` sees it. A visitor's page is
/// the same for every visitor (the page cache serves it): the markers are a member's only.
pub async fn home(
    db: &DatabaseConnection,
    viewer: Option<&user::Model>,
    page: u64,
) -> Result<HomeView, AppError> {
    let now = Utc::now();
    let categories = super::forum::list_categories(db).await?;
    // The categories' stored counters count their listed topics: no count query for the pager.
    let total: u64 = categories.iter().map(|c| c.topic_count.max(0) as u64).sum();
    let paged = crate::server::paging::page(page, total, LATEST_PAGE_SIZE)?;
    let topics = topic::Entity::find()
        .filter(visibility::public_forum_topics())
        .filter(
            topic::Column::CategoryId.is_in(categories.iter().map(|c| c.id).collect::<Vec<_>>()),
        )
        .order_by_desc(topic::Column::LastPostedAt)
        .order_by_desc(topic::Column::Id)
        .offset(paged.offset())
        .limit(LATEST_PAGE_SIZE)
        .all(db)
        .await?;
    let last_posters = last_posters(db, &topics).await?;
    let names = authors(
        db,
        topics
            .iter()
            .map(|t| t.author_id)
            .chain(last_posters.values().copied()),
    )
    .await?;
    let unread = match viewer {
        Some(member) => {
            let ids: Vec<i64> = topics.iter().map(|t| t.id).collect();
            reads::unread_by_topic(db, member, &ids, now).await?
        }
        None => HashMap::new(),
    };
    let new_in_category = match viewer {
        Some(member) => reads::unread_by_category(db, member, now)
            .await?
            .into_iter()
            .collect(),
        None => Vec::new(),
    };
    let refs: HashMap<i64, crate::model::CategoryRef> = categories
        .iter()
        .map(|c| {
            let place = crate::model::CategoryRef {
                id: c.id,
                slug: c.slug.clone(),
                name: c.name.clone(),
                colour: c.colour.clone(),
            };
            (c.id, place)
        })
        .collect();
    let places: Vec<(i64, i64)> = topics.iter().map(|t| (t.id, t.category_id)).collect();
    let items = super::forum::list_items(topics, &names, HashMap::new());
    let latest = items
        .into_iter()
        .zip(places)
        .filter_map(|(item, (id, category_id))| {
            let last_poster = last_posters
                .get(&id)
                .filter(|_| item.reply_count > 0)
                .and_then(|author| names.get(author))
                .map(|a| a.username.clone());
            Some(LatestTopic {
                unread: unread.get(&id).copied(),
                category: refs.get(&category_id)?.clone(),
                last_poster,
                topic: item,
            })
        })
        .collect();
    Ok(HomeView {
        intro_html: intro_html(db).await?,
        headline: headline(db, now).await?,
        latest,
        page: paged.number,
        page_count: paged.count,
        categories,
        new_in_category,
        signed_in: viewer.is_some(),
    })
}

/// The author of each topic's last visible post, in one query.
async fn last_posters(
    db: &DatabaseConnection,
    topics: &[topic::Model],
) -> Result<HashMap<i64, i64>, AppError> {
    if topics.is_empty() {
        return Ok(HashMap::new());
    }
    // Each topic's highest visible post number, read from the (topic, number) index.
    let sql = format!(
        "SELECT p.topic_id, p.author_id FROM posts p
          WHERE p.topic_id IN ({})
            AND p.state = $1
            AND p.post_number = (SELECT MAX(q.post_number) FROM posts q
                                  WHERE q.topic_id = p.topic_id AND q.state = $1)",
        placeholders(2, topics.len())
    );
    let mut values: Vec<sea_orm::Value> = vec![PostState::Visible.as_str().into()];
    values.extend(topics.iter().map(|t| t.id.into()));
    let mut out = HashMap::new();
    for row in db
        .query_all_raw(numbered(db.get_database_backend(), &sql, values))
        .await?
    {
        out.insert(
            row.try_get::<i64>("", "topic_id")?,
            row.try_get::<i64>("", "author_id")?,
        );
    }
    Ok(out)
}

/// The response promise in one line: the /accountability page's own figures (the same window,
/// the same function), so the headline and the page it links to never disagree. None while an
/// admin has that page switched off.
pub async fn headline(
    db: &DatabaseConnection,
    now: DateTimeUtc,
) -> Result<Option<ResponseHeadline>, AppError> {
    if !settings::accountability_public(db).await? {
        return Ok(None);
    }
    const DAYS: u32 = 30;
    let window = super::staff::figures(db, &[DAYS], now)
        .await?
        .pop()
        .ok_or(AppError::Internal)?;
    Ok(Some(ResponseHeadline {
        days: DAYS,
        median_minutes: window.overall.median_minutes,
        within_target_percent: window.overall.within_target_percent,
    }))
}

/// The `home_intro` setting as clean HTML, through the one content pipeline. Kept rendered for
/// the source it was made from: an admin's change (or `backyard set`) shows on the next page,
/// and a restart renders it with the pipeline as it is then.
pub async fn intro_html(conn: &impl ConnectionTrait) -> Result<String, AppError> {
    static RENDERED: Mutex<Option<(String, String)>> = Mutex::new(None);
    let source = settings::text(conn, settings::HOME_INTRO).await?;
    if source.trim().is_empty() {
        return Ok(String::new());
    }
    if let Some((kept, html)) = RENDERED.lock().unwrap().as_ref()
        && *kept == source
    {
        return Ok(html.clone());
    }
    // At most a few thousand characters (the setting's bound): microseconds to render.
    let html = content::render(&source);
    *RENDERED.lock().unwrap() = Some((source, html.clone()));
    Ok(html)
}

/// The `home_intro` setting's Markdown, for the admins' form.
pub async fn intro_source(
    db: &DatabaseConnection,
    viewer: &user::Model,
) -> Result<String, AppError> {
    crate::server::auth::require_role(Some(viewer.role()), crate::model::Role::Admin)?;
    settings::text(db, settings::HOME_INTRO).await
}
