//! The home page as it reads: the admins' introduction, the response promise's headline, the
//! latest topics across categories and the categories, with what is new to a signed-in member.
//! What every reader sees alike is read once per page version and kept (`HomePages`, held by
//! AppState); per request only a member's own markers are read. A fixed number of queries
//! whatever the page's length; nothing here writes.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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
use crate::server::{
    content,
    memo::{Memo, MemoMap},
    settings, visibility,
};

/// Latest topics shown on a page of the home page.
pub const LATEST_PAGE_SIZE: u64 = 20;

/// Home pages as every reader sees them (no markers), by page number, kept per page version.
pub type HomePages = MemoMap<u64, Arc<HomeView>>;

/// How much of the home page is kept, by `weight`: a page is a few KB (its 20 topics, the
/// categories and the introduction), so every page a forum's readers page through.
pub const HOME_PAGES_BYTES: usize = 1024 * 1024;

/// An empty set of kept home pages.
pub fn home_pages() -> HomePages {
    HomePages::new(HOME_PAGES_BYTES, |view| weight(view))
}

/// About what a kept page holds: its text, and a little for each entry's other fields.
fn weight(view: &HomeView) -> usize {
    let topics: usize = view
        .latest
        .iter()
        .map(|l| {
            let t = &l.topic;
            256 + t.slug.len()
                + t.title.len()
                + t.author.len()
                + t.author_display_name.len()
                + l.category.slug.len()
                + l.category.name.len()
                + l.last_poster.as_ref().map_or(0, String::len)
        })
        .sum();
    let categories: usize = view
        .categories
        .iter()
        .map(|c| 128 + c.slug.len() + c.name.len() + c.description.len())
        .sum();
    256 + view.intro_html.len() + topics + categories
}

/// The home page's page `page` (of its latest topics) as `viewer` sees it: what every reader
/// sees, from `kept` when current, with a member's markers added. A visitor's page is the same
/// for every visitor (the page cache serves it): the markers are a member's only.
///
/// `headline` keeps the response headline per server between writes: it reads every topic of
/// the last 60 days (8,200 at a million posts, 70 to 150 ms a render).
pub async fn home(
    db: &DatabaseConnection,
    viewer: Option<&user::Model>,
    page: u64,
    kept: &HomePages,
    headline_kept: &Memo<Option<ResponseHeadline>>,
) -> Result<HomeView, AppError> {
    let now = Utc::now();
    let everyones = kept
        .get_or_load(db, page, || async {
            everyones_home(db, page, headline_kept, now)
                .await
                .map(Arc::new)
        })
        .await?;
    let mut view = HomeView::clone(&everyones);
    if let Some(member) = viewer {
        let ids: Vec<i64> = view.latest.iter().map(|l| l.topic.id).collect();
        let since = reads::horizon(db, member, now).await?;
        let unread = reads::unread_by_topic(db, member, since, &ids).await?;
        for latest in &mut view.latest {
            latest.unread = unread.get(&latest.topic.id).copied();
        }
        view.new_in_category = reads::unread_by_category(db, member, since)
            .await?
            .into_iter()
            .collect();
        view.signed_in = true;
    }
    Ok(view)
}

/// Page `page` of the home page as a visitor sees it.
async fn everyones_home(
    db: &DatabaseConnection,
    page: u64,
    headline_kept: &Memo<Option<ResponseHeadline>>,
    now: DateTimeUtc,
) -> Result<HomeView, AppError> {
    let categories = super::forum::category_summaries(db).await?;
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
    let items = super::forum::list_items(db, topics, &names, HashMap::new()).await?;
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
                unread: None,
                category: refs.get(&category_id)?.clone(),
                last_poster,
                topic: item,
            })
        })
        .collect();
    Ok(HomeView {
        intro_html: intro_html(db).await?,
        headline: headline_kept.get_or_load(db, || headline(db, now)).await?,
        latest,
        page: paged.number,
        page_count: paged.count,
        categories,
        new_in_category: Vec::new(),
        signed_in: false,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Unread;
    use crate::server::forum;
    use crate::server::testing::World;

    #[tokio::test]
    async fn latest_topics_across_categories_with_markers_for_members_only() {
        let w = World::builder()
            .members_aged(chrono::Duration::days(1))
            .build()
            .await;
        let (older, _) = forum::start_topic(
            &w.db,
            &w.other,
            "questions",
            "Older question",
            "Body.",
            None,
        )
        .await
        .unwrap();
        let (idea, _) = forum::start_topic(&w.db, &w.other, "ideas", "An idea", "Body.", None)
            .await
            .unwrap();
        // A staff reply brings the older topic back to the top, with its last poster.
        forum::reply(&w.db, &w.staff, older.id, "Answered.", None)
            .await
            .unwrap();

        // One set of kept pages for every reader below, as a server has: a member's markers
        // are their own, and a write shows on the next page.
        let kept = home_pages();
        let visitor = home(&w.db, None, 1, &kept, &Memo::default()).await.unwrap();
        let titles: Vec<&str> = visitor
            .latest
            .iter()
            .map(|l| l.topic.title.as_str())
            .collect();
        assert_eq!(titles, ["Older question", "An idea"]);
        assert_eq!(visitor.latest[0].category.slug, "questions");
        assert_eq!(visitor.latest[1].category.slug, "ideas");
        assert_eq!(visitor.latest[0].last_poster.as_deref(), Some("user3"));
        assert_eq!(
            visitor.latest[1].last_poster, None,
            "no replies, no last poster"
        );
        assert!(visitor.latest[0].topic.staff_reply_minutes.is_some());
        assert!(visitor.latest.iter().all(|l| l.unread.is_none()));
        assert!(visitor.new_in_category.is_empty() && !visitor.signed_in);
        assert_eq!(visitor.categories.len(), 2);
        assert!(visitor.headline.is_some());

        let member = home(&w.db, Some(&w.customer), 1, &kept, &Memo::default())
            .await
            .unwrap();
        let unread: Vec<Option<Unread>> = member.latest.iter().map(|l| l.unread).collect();
        assert_eq!(unread, [Some(Unread::New), Some(Unread::New)]);
        let mut new_in = member.new_in_category.clone();
        new_in.sort();
        assert_eq!(new_in, [(older.category_id, 1), (idea.category_id, 1)]);
        // Replying goes back to the topic's page, which marks it read (as the API does here):
        // the staff member then has only the idea to read.
        reads::mark_read(&w.db, w.staff.id, older.id, 2)
            .await
            .unwrap();
        let staff = home(&w.db, Some(&w.staff), 1, &kept, &Memo::default())
            .await
            .unwrap();
        let unread: Vec<Option<Unread>> = staff.latest.iter().map(|l| l.unread).collect();
        assert_eq!(unread, [None, Some(Unread::New)]);
        // The members' markers stay theirs: the kept page a visitor gets has none.
        let again = home(&w.db, None, 1, &kept, &Memo::default()).await.unwrap();
        assert_eq!(again, visitor);
        // A new topic is on the next page anyone loads, kept or not.
        forum::start_topic(&w.db, &w.other, "ideas", "Newest idea", "Body.", None)
            .await
            .unwrap();
        let after = home(&w.db, Some(&w.customer), 1, &kept, &Memo::default())
            .await
            .unwrap();
        assert_eq!(after.latest[0].topic.title, "Newest idea");
        assert_eq!(after.latest[0].unread, Some(Unread::New));
        assert_eq!(after.latest.len(), 3);

        assert_eq!(
            home(&w.db, None, 2, &kept, &Memo::default())
                .await
                .unwrap_err(),
            AppError::NotFound("There is no page 2; this has 1 page.".into())
        );
    }

    #[tokio::test]
    async fn the_introduction_is_rendered_from_its_current_source() {
        let w = World::new().await;
        assert_eq!(
            intro_html(&w.db).await.unwrap(),
            format!("<p>{}</p>\n", settings::HOME_INTRO.1)
        );
        settings::put(
            &w.db,
            settings::HOME_INTRO.0,
            "**Hello** <script>x()</script>",
        )
        .await
        .unwrap();
        let html = intro_html(&w.db).await.unwrap();
        assert!(
            html.contains("<strong>Hello</strong>") && !html.contains("<script"),
            "{html}"
        );
        settings::put(&w.db, settings::HOME_INTRO.0, "Changed.")
            .await
            .unwrap();
        assert_eq!(intro_html(&w.db).await.unwrap(), "<p>Changed.</p>\n");
        settings::put(&w.db, settings::HOME_INTRO.0, "")
            .await
            .unwrap();
        assert_eq!(intro_html(&w.db).await.unwrap(), "");
    }
}
