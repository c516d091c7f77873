//! Search: /search over topics, posts and published articles, and the similar topics shown while
//! a new one is written. The engine is the database's own (search_index holds the rows); this
//! module reads what was typed (query.rs), ranks, keeps one result per topic with its best
//! post, applies the filters, and shows each result with its marked snippet (snippets.rs).
//!
//! Only what a visitor may read is ever found: a visible post in a listed forum topic or in a
//! public article's comments, or a public article, the same rules as `visibility`, applied in
//! the query from the rows themselves (so a topic hidden a moment ago, or an article whose time
//! has not come, is out whatever its rows in the index say).
//!
//! Ranking: the engine's relevance (a title counts several times a body), then a small boost for
//! a staff reply (x1.25), the official answer (x1.5), and recent activity (up to x1.3, halving
//! over a month). Only the newest matches are ranked (`MAX_CANDIDATES`), so a search costs
//! about the same in a small forum and a large one.
mod prefixes;
pub mod query;
mod similar;
mod snippets;

pub use prefixes::expand_prefixes;
pub use similar::similar;
pub use snippets::parts;

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, Value,
};

use self::query::{Combine, Parsed, Term, Within};
use self::snippets::{marked, plain};
use crate::{
    error::AppError,
    model::{
        CategoryRef, SEARCH_PAGE_SIZE, SearchHit, SearchRequest, SearchResults, TopicStatus,
        article_url, topic_url,
    },
    server::{
        db::numbered,
        entity::{article, category, post, topic, user},
        paging,
        records::{posts, users},
        search_index::{article_doc, without_reserved},
    },
};

/// The last page read; a server function's page past it is past the end, named as asked.
const MAX_PAGE: u64 = 100_000;
/// How many similar topics a composer shows.
pub const SIMILAR_LIMIT: u64 = 5;
/// How many of the newest matching posts are ranked, grouped and filtered (and as many
/// articles). Ranking every match made a search's cost follow its matches: a word in 135,000 of
/// a million posts took 236 ms to rank, and its newest 1,000 take 4 ms. Older matches of so
/// common a word are reached by adding a word, or by the author and date filters. (300 hid
/// matches behind hidden ones.)
pub const MAX_CANDIDATES: u64 = 1000;
/// The same with a filter, which may leave most of them out.
pub const MAX_FILTERED_CANDIDATES: u64 = 10_000;
/// Searches running at once in this process: half of SQLite's connections at most (four), so
/// the site keeps answering while many run; two keep both cores busy.
const CONCURRENT_SEARCHES: usize = 2;
static SEARCHES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CONCURRENT_SEARCHES);

pub const NO_SUCH_CATEGORY: &str = "There is no category with that name.";
pub const NO_SUCH_STATUS: &str = "That is not a topic status.";
pub const NO_SUCH_MEMBER: &str = "There is no member with that username.";
pub const BAD_DATE: &str = "Write the date as YYYY-MM-DD.";
pub const DATES_REVERSED: &str = "The first date is after the last.";

/// The filters, read and checked.
#[derive(Default)]
struct Filters {
    category_id: Option<i64>,
    status: Option<String>,
    staff: bool,
    author_id: Option<i64>,
    from: Option<chrono::DateTime<Utc>>,
    /// The first moment after the last day.
    until: Option<chrono::DateTime<Utc>>,
    newest: bool,
}

impl Filters {
    /// Filters that only forum topics have: articles are left out when one is set.
    fn forum_only(&self) -> bool {
        self.category_id.is_some() || self.status.is_some() || self.staff
    }

    /// Any filter that leaves matches out.
    fn filtered(&self) -> bool {
        self.forum_only() || self.author_id.is_some() || self.from.is_some() || self.until.is_some()
    }
}

/// The /search page for `request`.
pub async fn search(
    db: &DatabaseConnection,
    request: SearchRequest,
) -> Result<SearchResults, AppError> {
    let categories = forum_categories(db).await?;
    let mut request = request;
    // Shown back in the title and the box: no direction overrides (they disguise text).
    request.q = request
        .q
        .chars()
        .filter(|c| !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect();
    let asked = request.page.max(1);
    request.page = asked.min(MAX_PAGE);
    let parsed = query::parse(&request.q);
    let mut page = SearchResults {
        cut: parsed.cut,
        too_common: parsed.too_common,
        page: request.page.max(1),
        page_count: 1,
        categories,
        ..Default::default()
    };
    let filters = read_filters(db, &request, &page.categories, &mut page.filter_errors).await?;
    page.request = request;
    if parsed.is_empty() || !page.filter_errors.is_empty() {
        return Ok(page);
    }
    let offset = (page.page - 1) * SEARCH_PAGE_SIZE;
    let _turn = SEARCHES.acquire().await.map_err(|_| AppError::Internal)?;
    let parsed = expand_prefixes(db, parsed).await?;
    let mut combine = Combine::All;
    let mut found = find_page(db, &parsed.terms, combine, &filters, offset).await?;
    if found.total == 0 && parsed.terms.len() > 1 {
        // Nothing has every word: the topics with some of them, on every page of the fallback.
        combine = Combine::Any;
        found = find_page(db, &parsed.terms, combine, &filters, offset).await?;
        page.any_words = found.total > 0;
    }
    // Past the end: not found, saying how many pages there are.
    paging::page(asked, found.total, SEARCH_PAGE_SIZE)?;
    page.total = found.total;
    page.capped = found.capped;
    page.page_count = paging::page_count(found.total, SEARCH_PAGE_SIZE);
    page.hits = hits(db, &parsed, combine, &found.rows).await?;
    Ok(page)
}

async fn forum_categories(db: &DatabaseConnection) -> Result<Vec<CategoryRef>, AppError> {
    Ok(category::Entity::find()
        .filter(category::Column::Kind.ne("blog_comments"))
        .order_by_asc(category::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|c| CategoryRef {
            id: c.id,
            slug: c.slug,
            name: c.name,
            colour: c.colour,
        })
        .collect())
}

async fn read_filters(
    db: &DatabaseConnection,
    request: &SearchRequest,
    categories: &[CategoryRef],
    errors: &mut Vec<(String, String)>,
) -> Result<Filters, AppError> {
    let mut f = Filters {
        staff: request.staff,
        newest: request.sort.as_deref() == Some("newest"),
        ..Default::default()
    };
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let mut error = |field: &str, message: &str| errors.push((field.into(), message.into()));
    if let Some(slug) = given(&request.category) {
        match categories.iter().find(|c| c.slug == slug) {
            Some(c) => f.category_id = Some(c.id),
            None => error("category", NO_SUCH_CATEGORY),
        }
    }
    if let Some(status) = given(&request.status) {
        match TopicStatus::parse(&status) {
            Some(s) => f.status = Some(s.as_str().to_string()),
            None => error("status", NO_SUCH_STATUS),
        }
    }
    if let Some(name) = given(&request.author) {
        let name = name.trim_start_matches('@').to_lowercase();
        // No username holds a control character (or NUL, which PostgreSQL refuses outright).
        let found = if name.chars().any(char::is_control) || name.chars().count() > 64 {
            None
        } else {
            user::Entity::find()
                .filter(user::Column::UsernameKey.eq(name))
                .one(db)
                .await?
        };
        match found {
            Some(u) => f.author_id = Some(u.id),
            None => error("author", NO_SUCH_MEMBER),
        }
    }
    let day = |v: &Option<String>| -> Result<Option<NaiveDate>, ()> {
        match given(v) {
            None => Ok(None),
            // Four-digit years only: chrono reads "+10000" and "-5000" too, which neither
            // engine compares or stores as a date should be.
            Some(s)
                if s.len() == 10
                    && s.char_indices().all(|(i, c)| match i {
                        4 | 7 => c == '-',
                        _ => c.is_ascii_digit(),
                    }) =>
            {
                NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| ())
            }
            Some(_) => Err(()),
        }
    };
    let start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    match day(&request.from) {
        Ok(d) => f.from = d.and_then(start),
        Err(()) => error("from", BAD_DATE),
    }
    match day(&request.to) {
        // The day after the last one; none after 9999-12-31 (a five-digit year compares wrong
        // as text on SQLite, and nothing is written then anyway).
        Ok(d) => {
            f.until = d
                .and_then(|d| d.succ_opt())
                .filter(|d| chrono::Datelike::year(d) <= 9999)
                .and_then(start)
        }
        Err(()) => error("to", BAD_DATE),
    }
    if let (Some(from), Some(until)) = (f.from, f.until)
        && from >= until
    {
        error("to", DATES_REVERSED);
    }
    Ok(f)
}

struct Found {
    /// The doc id of each result on the page, best first.
    rows: Vec<i64>,
    /// Topics found in all.
    total: u64,
    /// More posts matched than are ranked (`MAX_CANDIDATES`): the older ones were left out.
    capped: bool,
}

/// `find`, with the total known even for a page past the end (whose query returns no rows to
/// count with).
async fn find_page(
    db: &DatabaseConnection,
    terms: &[Term],
    combine: Combine,
    f: &Filters,
    offset: u64,
) -> Result<Found, AppError> {
    let found = find(db, terms, combine, f, offset).await?;
    if found.rows.is_empty() && offset > 0 {
        let first = find(db, terms, combine, f, 0).await?;
        return Ok(Found {
            rows: Vec::new(),
            ..first
        });
    }
    Ok(found)
}

/// One page of results: the best document of each topic, ranked.
async fn find(
    db: &DatabaseConnection,
    terms: &[Term],
    combine: Combine,
    f: &Filters,
    offset: u64,
) -> Result<Found, AppError> {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = vec![
        Utc::now().into(),
        (SEARCH_PAGE_SIZE as i64).into(),
        (offset as i64).into(),
    ];
    let mut bind = |v: Value| {
        values.push(v);
        format!("${}", values.len())
    };
    let mut post_filters = String::new();
    let mut article_filters = String::new();
    if f.forum_only() {
        article_filters.push_str(" AND 1 = 0");
    }
    if let Some(id) = f.category_id {
        post_filters.push_str(&format!(" AND t.category_id = {}", bind(id.into())));
    }
    if let Some(status) = &f.status {
        post_filters.push_str(&format!(" AND t.status = {}", bind(status.clone().into())));
    }
    if f.forum_only() {
        // An article's comments have no status and no staff clock: forum topics only.
        post_filters.push_str(" AND a.id IS NULL");
    }
    if f.staff {
        post_filters.push_str(" AND (t.first_staff_reply_at IS NOT NULL OR t.started_by_staff)");
    }
    if let Some(id) = f.author_id {
        let n = bind(id.into());
        post_filters.push_str(&format!(" AND p.author_id = {n}"));
        article_filters.push_str(&format!(" AND a.author_id = {n}"));
    }
    if let Some(from) = f.from {
        let n = bind(from.into());
        post_filters.push_str(&format!(" AND p.created_at >= {n}"));
        article_filters.push_str(&format!(" AND a.published_at >= {n}"));
    }
    if let Some(until) = f.until {
        let n = bind(until.into());
        post_filters.push_str(&format!(" AND p.created_at < {n}"));
        article_filters.push_str(&format!(" AND a.published_at < {n}"));
    }
    // A filter narrows what is ranked after the engine's cut: it gets more to choose from.
    let cap = if f.filtered() {
        MAX_FILTERED_CANDIDATES
    } else {
        MAX_CANDIDATES
    };
    let (expression, query_values) = query::expression(
        backend,
        terms,
        combine,
        Within::Everything,
        values.len() + 1,
    );
    values.extend(query_values);
    let (hits, age) = match backend {
        DbBackend::Postgres => (
            format!(
                // Ranked outside the cut, so whichever plan takes the newest (the primary
                // key backwards for a common word, the word's index for a rare one), ts_rank
                // reads only the rows taken.
                "SELECT doc_id, ts_rank(document, query) AS rel FROM (
                   SELECT s.doc_id, s.document, q.query
                     FROM search_index s, (SELECT {expression} AS query) q
                    WHERE s.document @@ q.query AND s.doc_id > 0
                    ORDER BY s.doc_id DESC LIMIT {cap}) newest_posts
                 UNION ALL
                 SELECT doc_id, ts_rank(document, query) AS rel FROM (
                   SELECT s.doc_id, s.document, q.query
                     FROM search_index s, (SELECT {expression} AS query) q
                    WHERE s.document @@ q.query AND s.doc_id < 0
                    ORDER BY s.doc_id LIMIT {cap}) newest_articles"
            ),
            (|col: &str| format!("(EXTRACT(EPOCH FROM ($1 - {col})) / 86400.0)"))
                as fn(&str) -> String,
        ),
        _ => (
            format!(
                // In the index's own order, so bm25 is worked out for the rows taken only.
                "SELECT * FROM (
                   SELECT rowid AS doc_id, -backyard_bm25(search_index, 8.0, 1.0, 1.0) AS rel
                     FROM search_index WHERE search_index MATCH {expression} AND rowid > 0
                    ORDER BY rowid DESC LIMIT {cap})
                 UNION ALL
                 SELECT * FROM (
                   SELECT rowid AS doc_id, -backyard_bm25(search_index, 8.0, 1.0, 1.0) AS rel
                     FROM search_index WHERE search_index MATCH {expression} AND rowid < 0
                    ORDER BY rowid LIMIT {cap})"
            ),
            (|col: &str| format!("(julianday($1) - julianday({col}))")) as fn(&str) -> String,
        ),
    };
    let recency = |col: &str| format!("(1.0 + 0.3 / (1.0 + ABS({}) / 30.0))", age(col));
    let order = if f.newest {
        "written_at DESC, doc_id DESC"
    } else {
        "score DESC, doc_id DESC"
    };
    let sql = format!(
        // MATERIALIZED: the engine's work once. SQLite 3.51 otherwise wrote the matches' query
        // into each of the three places that read them ("time": 44 ms, materialized 18 ms).
        "WITH hits AS MATERIALIZED ({hits}),
         candidates AS (
           SELECT h.doc_id, COALESCE(t.merged_into_id, p.topic_id) AS topic_id,
                  p.created_at AS written_at,
                  h.rel * (1.0 + CASE WHEN p.is_staff_reply THEN 0.25 ELSE 0.0 END
                               + CASE WHEN t.official_answer_post_id = p.id THEN 0.5 ELSE 0.0 END)
                        * {topic_recency} AS score
             FROM hits h
             JOIN posts p ON p.id = h.doc_id
             JOIN topics t ON t.id = p.topic_id
             LEFT JOIN articles a ON a.topic_id = t.id
            WHERE p.state = 'visible'
              AND ((a.id IS NULL AND t.visible)
                   OR (a.id IS NOT NULL AND a.status = 'published' AND a.published_at <= $1))
              {post_filters}
           UNION ALL
           SELECT h.doc_id, a.topic_id, a.published_at AS written_at,
                  h.rel * {article_recency} AS score
             FROM hits h
             JOIN articles a ON a.id = -h.doc_id
            WHERE h.doc_id < 0 AND a.status = 'published' AND a.published_at <= $1
              {article_filters}
         ),
         best AS (
           SELECT doc_id, topic_id, written_at, score,
                  ROW_NUMBER() OVER (PARTITION BY topic_id ORDER BY {order}) AS n
             FROM candidates
         )
         SELECT doc_id, COUNT(*) OVER () AS total,
                (SELECT COUNT(*) FROM hits WHERE doc_id > 0) AS matched
           FROM best WHERE n = 1
          ORDER BY {order} LIMIT $2 OFFSET $3",
        topic_recency = recency("t.last_posted_at"),
        article_recency = recency("a.published_at"),
    );
    let rows = db.query_all_raw(numbered(backend, &sql, values)).await?;
    let mut found = Found {
        rows: Vec::with_capacity(rows.len()),
        total: 0,
        capped: false,
    };
    for row in rows {
        found.rows.push(row.try_get::<i64>("", "doc_id")?);
        found.total = row.try_get::<i64>("", "total")?.max(0) as u64;
        found.capped = row.try_get::<i64>("", "matched")? >= cap as i64;
    }
    Ok(found)
}

/// The results of a page: what each found document is, where it is, and its snippet.
async fn hits(
    db: &DatabaseConnection,
    parsed: &Parsed,
    combine: Combine,
    doc_ids: &[i64],
) -> Result<Vec<SearchHit>, AppError> {
    if doc_ids.is_empty() {
        return Ok(Vec::new());
    }
    let texts = marked(db, &parsed.terms, combine, doc_ids).await?;
    let cjk = parsed.cjk_runs();
    let post_ids: Vec<i64> = doc_ids.iter().copied().filter(|id| *id > 0).collect();
    let article_ids: Vec<i64> = doc_ids.iter().filter(|id| **id < 0).map(|id| -id).collect();
    let found_posts: HashMap<i64, post::Model> = post::Entity::find()
        .filter(post::Column::Id.is_in(post_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let topic_ids: Vec<i64> = found_posts.values().map(|p| p.topic_id).collect();
    let mut topics: HashMap<i64, topic::Model> = topic::Entity::find()
        .filter(topic::Column::Id.is_in(topic_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    // A merged duplicate's match is shown as its original (one hop: a merge points every
    // duplicate at the end of the chain), when everyone may see that.
    let originals: Vec<i64> = topics.values().filter_map(|t| t.merged_into_id).collect();
    if !originals.is_empty() {
        for t in topic::Entity::find()
            .filter(topic::Column::Id.is_in(originals))
            .all(db)
            .await?
        {
            topics.insert(t.id, t);
        }
    }
    let articles: Vec<article::Model> = article::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(article::Column::Id.is_in(article_ids))
                .add(article::Column::TopicId.is_in(topic_ids)),
        )
        .all(db)
        .await?;
    let article_of_topic: HashMap<i64, &article::Model> =
        articles.iter().map(|a| (a.topic_id, a)).collect();
    let category_ids: Vec<i64> = topics.values().map(|t| t.category_id).collect();
    let categories: HashMap<i64, category::Model> = category::Entity::find()
        .filter(category::Column::Id.is_in(category_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let author_ids: Vec<i64> = found_posts
        .values()
        .map(|p| p.author_id)
        .chain(articles.iter().map(|a| a.author_id))
        .collect();
    let authors = users::authors(db, author_ids).await?;
    let by = |id| {
        let a = authors.get(&id).cloned().unwrap_or_default();
        (a.username, a.display_name, a.avatar)
    };

    let mut out = Vec::with_capacity(doc_ids.len());
    for id in doc_ids {
        let (marked_title, snippet) = texts.get(id).cloned().unwrap_or_default();
        let snippet = parts(&snippet, &cjk);
        if *id < 0 {
            let Some(a) = articles.iter().find(|a| article_doc(a.id) == *id) else {
                continue;
            };
            let (author, author_display_name, author_avatar) = by(a.author_id);
            out.push(SearchHit {
                title: parts(&marked_title, &cjk),
                url: article_url(&a.slug, 1),
                snippet,
                is_article: true,
                category: None,
                status: None,
                resolution_confirmed: false,
                staff_answered: false,
                official_answer: false,
                staff_title: None,
                by_staff: true,
                author,
                author_display_name,
                author_avatar,
                written_at: a.published_at.unwrap_or(a.created_at),
                reply_count: 0,
                merged_from: None,
            });
            continue;
        }
        let Some(p) = found_posts.get(id) else {
            continue;
        };
        let Some(found_in) = topics.get(&p.topic_id) else {
            continue;
        };
        if let Some(original) = found_in
            .merged_into_id
            .and_then(|id| topics.get(&id))
            .filter(|o| o.visible)
        {
            let (author, author_display_name, author_avatar) = by(p.author_id);
            out.push(SearchHit {
                title: vec![plain(&original.title)],
                url: topic_url(original.id, &original.slug, 1),
                snippet,
                is_article: false,
                category: categories.get(&original.category_id).map(|c| CategoryRef {
                    id: c.id,
                    slug: c.slug.clone(),
                    name: c.name.clone(),
                    colour: c.colour.clone(),
                }),
                status: Some(original.status.clone()),
                resolution_confirmed: original.resolution_confirmed_at.is_some(),
                staff_answered: original.first_staff_reply_at.is_some(),
                official_answer: false,
                staff_title: p.staff_title.clone().filter(|_| p.is_staff_reply),
                by_staff: p.is_staff_reply,
                author,
                author_display_name,
                author_avatar,
                written_at: p.published_at.unwrap_or(p.created_at),
                reply_count: (original.post_count - 1).max(0),
                merged_from: Some(found_in.title.clone()),
            });
            continue;
        }
        let t = found_in;
        let article = article_of_topic.get(&t.id).copied();
        let title = match article {
            Some(a) => vec![plain(&a.title)],
            // Typed text, not the engine's: it may hold the marker characters itself.
            None if marked_title.is_empty() => parts(&without_reserved(&t.title), &cjk),
            None => parts(&marked_title, &cjk),
        };
        let (author, author_display_name, author_avatar) = by(p.author_id);
        out.push(SearchHit {
            title,
            url: posts::url_in(p, t, article),
            snippet,
            is_article: article.is_some(),
            category: article
                .is_none()
                .then(|| categories.get(&t.category_id))
                .flatten()
                .map(|c| CategoryRef {
                    id: c.id,
                    slug: c.slug.clone(),
                    name: c.name.clone(),
                    colour: c.colour.clone(),
                }),
            status: article.is_none().then(|| t.status.clone()),
            resolution_confirmed: t.resolution_confirmed_at.is_some(),
            staff_answered: t.first_staff_reply_at.is_some(),
            official_answer: t.official_answer_post_id == Some(p.id),
            staff_title: p.staff_title.clone().filter(|_| p.is_staff_reply),
            by_staff: p.is_staff_reply,
            author,
            author_display_name,
            author_avatar,
            written_at: p.published_at.unwrap_or(p.created_at),
            reply_count: (t.post_count - 1).max(0),
            merged_from: None,
        });
    }
    Ok(out)
}
