//! The blog as it reads: the index, an article with its comments, a draft for its editor, the feed's and sitemap's articles. Reads only.
use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Query,
};

use crate::server::records::articles::may_edit;
use crate::server::records::articles::may_write;
use crate::server::records::articles::state_of;
use crate::server::visibility::ARTICLE_MISSING;
use crate::server::{
    entity::{article, article_tag, topic, user},
    html_text, visibility,
};
use crate::{
    error::AppError,
    model::{
        ARTICLES_PER_PAGE, ArticleDraft, ArticlePage, ArticleState, ArticleSummary, BlogIndex, Role,
    },
};

/// An article by its address, if `viewer` may see it; "not found" otherwise, so a draft's
/// address tells nobody else that it exists.
pub async fn viewable_by_slug(
    db: &DatabaseConnection,
    slug: &str,
    viewer: Option<&user::Model>,
) -> Result<article::Model, AppError> {
    article::Entity::find()
        .filter(article::Column::Slug.eq(slug))
        .one(db)
        .await?
        .filter(|a| visibility::can_see_article(a, viewer, Utc::now()))
        .ok_or_else(|| AppError::NotFound(ARTICLE_MISSING.into()))
}

/// /blog/{slug}: the article and a page of its comments, for a viewer who may see it. The
/// comment box is the caller's to add (it lives in the member's session).
pub async fn article_page(
    db: &DatabaseConnection,
    slug: &str,
    page: u64,
    viewer: Option<&user::Model>,
) -> Result<ArticlePage, AppError> {
    let a = viewable_by_slug(db, slug, viewer).await?;
    let comments_topic = topic::Entity::find_by_id(a.topic_id)
        .one(db)
        .await?
        .ok_or(AppError::Internal)?;
    let comments =
        crate::server::views::topic::posts_page(db, &comments_topic, page, viewer).await?;
    let can_edit = viewer.is_some_and(|u| may_edit(u, &a).is_ok());
    let article = summaries(db, vec![a.clone()])
        .await?
        .pop()
        .ok_or(AppError::Internal)?;
    Ok(ArticlePage {
        article,
        html: a.html,
        topic_id: a.topic_id,
        comments_open: !comments_topic.locked,
        can_edit,
        comments: comments.posts,
        page: comments.page,
        page_count: comments.page_count,
        composer: None,
        structured_data: None,
    })
}

/// The article at `slug` for its editor: the author or an admin.
pub async fn editable_by_slug(
    db: &DatabaseConnection,
    editor: &user::Model,
    slug: &str,
) -> Result<article::Model, AppError> {
    may_write(editor)?;
    let a = viewable_by_slug(db, slug, Some(editor)).await?;
    may_edit(editor, &a)?;
    Ok(a)
}

/// The editor's fields for a stored article.
pub async fn draft_of(
    db: &DatabaseConnection,
    a: &article::Model,
) -> Result<ArticleDraft, AppError> {
    let tags = tags_by_article(db, [a.id])
        .await?
        .remove(&a.id)
        .unwrap_or_default();
    let locked = topic::Entity::find_by_id(a.topic_id)
        .one(db)
        .await?
        .is_some_and(|t| t.locked);
    let state = state_of(a, Utc::now());
    Ok(ArticleDraft {
        title: a.title.clone(),
        slug: a.slug.clone(),
        summary: a.summary.clone(),
        body: a.source.clone(),
        cover_image_url: a.cover_image_url.clone().unwrap_or_default(),
        tags: tags.join(", "),
        comments_open: !locked,
        publish: match state {
            ArticleState::Draft => "draft",
            ArticleState::Scheduled => "schedule",
            ArticleState::Published => "now",
        }
        .into(),
        publish_at: match state {
            ArticleState::Scheduled => a
                .published_at
                .map(|at| at.format("%Y-%m-%dT%H:%M").to_string())
                .unwrap_or_default(),
            _ => String::new(),
        },
        preview_html: None,
    })
}

pub async fn tags_by_article(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, Vec<String>>, AppError> {
    let ids: Vec<i64> = ids.into_iter().collect();
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for t in article_tag::Entity::find()
        .filter(article_tag::Column::ArticleId.is_in(ids))
        .order_by_asc(article_tag::Column::Tag)
        .all(conn)
        .await?
    {
        out.entry(t.article_id).or_default().push(t.tag);
    }
    Ok(out)
}

/// Articles as lists show them: authors, tags and comment counts in one query each.
pub async fn summaries(
    conn: &impl ConnectionTrait,
    articles: Vec<article::Model>,
) -> Result<Vec<ArticleSummary>, AppError> {
    if articles.is_empty() {
        return Ok(Vec::new());
    }
    let author_ids: HashSet<i64> = articles.iter().map(|a| a.author_id).collect();
    type AuthorRow = (i64, String, String, Option<String>);
    let authors: HashMap<i64, AuthorRow> = user::Entity::find()
        .select_only()
        .columns([
            user::Column::Id,
            user::Column::Username,
            user::Column::DisplayName,
            user::Column::StaffTitle,
        ])
        .filter(user::Column::Id.is_in(author_ids))
        .into_tuple::<AuthorRow>()
        .all(conn)
        .await?
        .into_iter()
        .map(|row| (row.0, row))
        .collect();
    let mut tags = tags_by_article(conn, articles.iter().map(|a| a.id)).await?;
    let counts: HashMap<i64, i32> = topic::Entity::find()
        .select_only()
        .columns([topic::Column::Id, topic::Column::PostCount])
        .filter(topic::Column::Id.is_in(articles.iter().map(|a| a.topic_id)))
        .into_tuple::<(i64, i32)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let now = Utc::now();
    // Covers from other sites are shown through the image proxy, like images in posts.
    let images = crate::server::uploads::proxy::external_images(conn).await?;
    Ok(articles
        .into_iter()
        .map(|a| {
            let author = authors.get(&a.author_id);
            ArticleSummary {
                state: state_of(&a, now),
                summary: if a.summary.is_empty() {
                    html_text::excerpt(&a.html, 240)
                } else {
                    a.summary.clone()
                },
                tags: tags.remove(&a.id).unwrap_or_default(),
                author_username: author.map(|r| r.1.clone()).unwrap_or_default(),
                author_display_name: author.map(|r| r.2.clone()).unwrap_or_default(),
                author_staff_title: author.and_then(|r| r.3.clone()),
                comment_count: counts.get(&a.topic_id).copied().unwrap_or(0),
                id: a.id,
                slug: a.slug,
                title: a.title,
                cover_image_url: crate::server::uploads::proxy::shown_src(
                    &images,
                    a.cover_image_url,
                ),
                published_at: a.published_at,
                updated_at: a.updated_at,
            }
        })
        .collect())
}

/// /blog: published articles newest first, 10 a page, optionally one tag's; on the first page
/// of the whole blog, staff also get the drafts and scheduled articles they may see.
pub async fn blog_index(
    db: &DatabaseConnection,
    page: u64,
    tag: Option<&str>,
    viewer: Option<&user::Model>,
) -> Result<BlogIndex, AppError> {
    let now = Utc::now();
    let tag = tag
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase);
    let mut listed = article::Entity::find().filter(visibility::public_articles(now));
    if let Some(tag) = &tag {
        listed = listed.filter(
            article::Column::Id.in_subquery(
                Query::select()
                    .column(article_tag::Column::ArticleId)
                    .from(article_tag::Entity)
                    .and_where(article_tag::Column::Tag.eq(tag.as_str()))
                    .to_owned(),
            ),
        );
    }
    let total = listed.clone().count(db).await?;
    let paged = crate::server::paging::page(page, total, ARTICLES_PER_PAGE)?;
    let (page, page_count) = (paged.number, paged.count);
    let articles = listed
        .order_by_desc(article::Column::PublishedAt)
        .order_by_desc(article::Column::Id)
        .offset(paged.offset())
        .limit(ARTICLES_PER_PAGE)
        .all(db)
        .await?;
    let can_write = viewer.is_some_and(|u| u.role().is_staff());
    let unpublished = match viewer {
        Some(u) if can_write && page == 1 && tag.is_none() => {
            let mut q = article::Entity::find().filter(visibility::public_articles(now).not());
            if u.role() != Role::Admin {
                q = q.filter(article::Column::AuthorId.eq(u.id));
            }
            q.order_by_desc(article::Column::UpdatedAt)
                .limit(50)
                .all(db)
                .await?
        }
        _ => Vec::new(),
    };
    Ok(BlogIndex {
        articles: summaries(db, articles).await?,
        page,
        page_count,
        tag,
        unpublished: summaries(db, unpublished).await?,
        can_write,
    })
}

/// The newest public articles, for the feed.
pub async fn latest_public(
    db: &DatabaseConnection,
    limit: u64,
) -> Result<Vec<article::Model>, AppError> {
    Ok(article::Entity::find()
        .filter(visibility::public_articles(Utc::now()))
        .order_by_desc(article::Column::PublishedAt)
        .order_by_desc(article::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Every public article's address and last change (its edit, or its publication when that
/// came later, as for a scheduled article), newest first, for the sitemap.
pub async fn public_addresses(
    db: &DatabaseConnection,
) -> Result<Vec<(String, DateTimeUtc)>, AppError> {
    let rows: Vec<(String, DateTimeUtc, Option<DateTimeUtc>)> = article::Entity::find()
        .select_only()
        .columns([
            article::Column::Slug,
            article::Column::UpdatedAt,
            article::Column::PublishedAt,
        ])
        .filter(visibility::public_articles(Utc::now()))
        .order_by_desc(article::Column::PublishedAt)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(slug, updated, published)| (slug, published.map_or(updated, |p| p.max(updated))))
        .collect())
}
