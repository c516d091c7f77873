//! Blog rules: articles written by staff (draft, scheduled, published); the pages read through
//! `views::blog`. Comments are not built here: every article
//! owns a forum topic in the hidden blog-comments category, and its comments are that topic's
//! posts, with the forum's pipeline, edits, revisions and staff badges.
use std::collections::HashSet;

use chrono::{NaiveDateTime, Utc};
use migrations::BLOG_COMMENTS_SLUG;
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QuerySelect, Set, sea_query::Expr,
};

use super::records::articles::state_of;
use super::{
    content::MAX_BODY_CHARS,
    db::begin_write,
    entity::{article, article_tag, category, topic, user},
    forms, posting, search_index, uploads, visibility,
};
use crate::server::records::articles::may_edit;
use crate::server::records::articles::may_write;
use crate::{
    error::AppError,
    model::{ArticleDraft, ArticleState},
};

pub const MAX_SUMMARY_CHARS: usize = 300;
pub const MAX_SLUG_CHARS: usize = 80;
pub const MAX_TAGS: usize = 5;
pub const MAX_TAG_CHARS: usize = 30;
pub const MAX_COVER_URL_CHARS: usize = 500;
/// Addresses under /blog/ that are pages of their own.
const RESERVED_SLUGS: [&str; 3] = ["new", "feed", "tag"];

pub use super::visibility::ARTICLE_MISSING;
pub const TITLE_EMPTY: &str = "Give the article a title.";
pub const BODY_EMPTY: &str = "Write the article before saving it.";
pub const SLUG_FORMAT: &str =
    "Use lower-case letters, digits and dashes for the address, like spring-update.";
pub const SLUG_RESERVED: &str = "That address belongs to the blog itself; choose another.";
pub const SLUG_LOCKED: &str =
    "A published article keeps its address: links to it would break. Unpublish it first.";
pub const COVER_INVALID: &str = "The cover image must be a web address starting with https:// or http://, or an image uploaded here (/uploads/…).";
pub const SCHEDULE_MISSING: &str = "Choose the date and time to publish at.";
pub const SCHEDULE_INVALID: &str =
    "Give the publishing time as a date and time, like 2026-12-01 09:00.";
pub const PUBLISH_CHOICE_INVALID: &str = "Choose draft, publish now or schedule.";
pub const ARTICLE_SENT_TWICE: &str = "This article was already saved.";

/// When to publish, as the editor asks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Publish {
    Draft,
    Now,
    At(DateTimeUtc),
}

/// What a save did, for the message the author sees next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saved {
    Draft,
    Published,
    Scheduled,
    /// Scheduled for a time that had passed: published now instead.
    PublishedNow,
    Updated,
}

impl Saved {
    /// The code the article page's `?saved=` carries.
    pub fn code(self) -> &'static str {
        match self {
            Saved::Draft => "draft",
            Saved::Published => "published",
            Saved::Scheduled => "scheduled",
            Saved::PublishedNow => "published-now",
            Saved::Updated => "updated",
        }
    }
}

/// The editor's fields, as a rule takes them.
#[derive(Clone, Debug)]
pub struct ArticleInput {
    pub title: String,
    /// Empty: made from the title (new articles) or kept (existing ones).
    pub slug: String,
    pub summary: String,
    pub body: String,
    pub cover_image_url: String,
    pub tags: String,
    pub comments_open: bool,
    pub publish: Publish,
}

impl ArticleInput {
    /// From the editor's fields; `publish_at` is a datetime-local value in UTC (the form says so).
    pub fn from_draft(draft: &ArticleDraft) -> Result<Self, AppError> {
        Ok(ArticleInput {
            title: draft.title.clone(),
            slug: draft.slug.clone(),
            summary: draft.summary.clone(),
            body: draft.body.clone(),
            cover_image_url: draft.cover_image_url.clone(),
            tags: draft.tags.clone(),
            comments_open: draft.comments_open,
            publish: parse_publish(&draft.publish, &draft.publish_at)?,
        })
    }
}

pub fn parse_publish(choice: &str, at: &str) -> Result<Publish, AppError> {
    match choice {
        "draft" => Ok(Publish::Draft),
        "now" => Ok(Publish::Now),
        "schedule" => {
            let at = at.trim();
            if at.is_empty() {
                return Err(AppError::invalid("publish_at", SCHEDULE_MISSING));
            }
            ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(at, f).ok())
                .map(|utc| Publish::At(utc.and_utc()))
                .ok_or_else(|| AppError::invalid("publish_at", SCHEDULE_INVALID))
        }
        _ => Err(AppError::invalid("publish", PUBLISH_CHOICE_INVALID)),
    }
}

/// The input, checked and tidied; the slug is checked for shape here and for clashes later.
struct Checked {
    title: String,
    slug: Option<String>,
    summary: String,
    cover_image_url: Option<String>,
    tags: Vec<String>,
}

/// An article address as typed: None when left empty (made from the title), else the
/// lower-cased address if it is letters, digits and single inner dashes and not reserved.
pub fn check_slug(typed: &str) -> Result<Option<String>, AppError> {
    let slug = typed.trim().to_ascii_lowercase();
    if slug.is_empty() {
        return Ok(None);
    }
    let shaped = slug.len() <= MAX_SLUG_CHARS
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--");
    if !shaped {
        return Err(AppError::invalid("slug", SLUG_FORMAT));
    }
    if RESERVED_SLUGS.contains(&slug.as_str()) {
        return Err(AppError::invalid("slug", SLUG_RESERVED));
    }
    Ok(Some(slug))
}

fn check(input: &ArticleInput) -> Result<Checked, AppError> {
    let title = super::content::one_line(&input.title);
    let title = title.trim();
    if super::invisible::is_blank(title) {
        return Err(AppError::invalid("title", TITLE_EMPTY));
    }
    let n = title.chars().count();
    if n > crate::server::records::topics::MAX_TITLE_CHARS {
        return Err(AppError::invalid(
            "title",
            format!(
                "Titles can be at most {} characters; this one has {n}.",
                crate::server::records::topics::MAX_TITLE_CHARS
            ),
        ));
    }
    if super::invisible::is_blank(&input.body) {
        return Err(AppError::invalid("body", BODY_EMPTY));
    }
    let n = input.body.chars().count();
    if n > MAX_BODY_CHARS {
        return Err(AppError::invalid(
            "body",
            format!("Articles can be at most 50,000 characters; this one has {n}."),
        ));
    }
    let slug = check_slug(&input.slug)?;
    let summary = super::content::one_line(&input.summary);
    let summary = summary.trim();
    let n = summary.chars().count();
    if n > MAX_SUMMARY_CHARS {
        return Err(AppError::invalid(
            "summary",
            format!("Summaries can be at most {MAX_SUMMARY_CHARS} characters; this one has {n}."),
        ));
    }
    let cover = input.cover_image_url.trim();
    let cover_image_url = if cover.is_empty() {
        None
    } else {
        let lower = cover.to_ascii_lowercase();
        // A web address, or an image uploaded here.
        let web = (lower.starts_with("https://")
            || lower.starts_with("http://")
            || (cover.starts_with("/uploads/") && !cover.contains("..")))
            && cover.len() <= MAX_COVER_URL_CHARS
            && !cover
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>'));
        if !web {
            return Err(AppError::invalid("cover_image_url", COVER_INVALID));
        }
        Some(cover.to_string())
    };
    Ok(Checked {
        title: title.to_string(),
        slug,
        summary: summary.to_string(),
        cover_image_url,
        tags: parse_tags(&input.tags)?,
    })
}

/// "Product, Release notes" → ["product", "release-notes"]: lower-case, dashes for spaces,
/// deduplicated, at most five.
pub fn parse_tags(text: &str) -> Result<Vec<String>, AppError> {
    let mut tags: Vec<String> = Vec::new();
    for raw in text.split(',') {
        let tag = raw
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-")
            .to_lowercase();
        if tag.is_empty() {
            continue;
        }
        // ASCII only: a tag is a path segment (/blog/tag/…) and should read the same in any URL.
        let ok = tag.len() <= MAX_TAG_CHARS
            && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return Err(AppError::invalid(
                "tags",
                format!(
                    "Tags use the letters a to z, digits and dashes, up to {MAX_TAG_CHARS} characters; \"{}\" does not.",
                    raw.trim()
                ),
            ));
        }
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(AppError::invalid(
            "tags",
            format!(
                "An article can have at most {MAX_TAGS} tags; this one has {}.",
                tags.len()
            ),
        ));
    }
    Ok(tags)
}

/// The first of `wanted`, `wanted-2`, `wanted-3`… that no other article has.
async fn free_slug(
    conn: &impl ConnectionTrait,
    wanted: &str,
    except: Option<i64>,
) -> Result<String, AppError> {
    let mut query = article::Entity::find()
        .select_only()
        .column(article::Column::Slug)
        .filter(
            Condition::any()
                .add(article::Column::Slug.eq(wanted))
                .add(article::Column::Slug.starts_with(format!("{wanted}-"))),
        );
    if let Some(id) = except {
        query = query.filter(article::Column::Id.ne(id));
    }
    let taken: HashSet<String> = query.into_tuple().all(conn).await?.into_iter().collect();
    Ok(crate::server::slug_text::first_free(wanted, &taken))
}

/// The slug to store: the one asked for (refused with a free suggestion when taken), or one
/// made from the title.
async fn choose_slug(
    conn: &impl ConnectionTrait,
    asked: Option<&str>,
    title: &str,
    except: Option<i64>,
) -> Result<String, AppError> {
    match asked {
        Some(slug) => {
            let free = free_slug(conn, slug, except).await?;
            if free == slug {
                Ok(free)
            } else {
                Err(AppError::invalid(
                    "slug",
                    format!("/blog/{slug} is taken by another article. Try {free}."),
                ))
            }
        }
        None => {
            let base = match crate::server::records::topics::slugify(title) {
                s if s == "topic" => "article".to_string(),
                s => s,
            };
            let base = if RESERVED_SLUGS.contains(&base.as_str()) {
                format!("{base}-article")
            } else {
                base
            };
            free_slug(conn, &base, except).await
        }
    }
}

/// Status and publishing time after a save, and what to tell the author.
fn publication(
    publish: Publish,
    existing: Option<&article::Model>,
    now: DateTimeUtc,
) -> (&'static str, Option<DateTimeUtc>, Saved) {
    let was_public = existing.is_some_and(|a| state_of(a, now) == ArticleState::Published);
    let kept = existing.and_then(|a| a.published_at).filter(|_| was_public);
    match publish {
        Publish::Draft => ("draft", None, Saved::Draft),
        Publish::Now if was_public => ("published", kept, Saved::Updated),
        Publish::Now => ("published", Some(now), Saved::Published),
        Publish::At(at) if at > now => ("published", Some(at), Saved::Scheduled),
        Publish::At(_) if was_public => ("published", kept, Saved::Updated),
        Publish::At(_) => ("published", Some(now), Saved::PublishedNow),
    }
}

async fn blog_category(conn: &impl ConnectionTrait) -> Result<category::Model, AppError> {
    category::Entity::find()
        .filter(category::Column::Slug.eq(BLOG_COMMENTS_SLUG))
        .one(conn)
        .await?
        .ok_or_else(|| {
            tracing::error!("the blog-comments category is missing");
            AppError::Internal
        })
}

async fn replace_tags(
    conn: &impl ConnectionTrait,
    article_id: i64,
    tags: &[String],
) -> Result<(), AppError> {
    article_tag::Entity::delete_many()
        .filter(article_tag::Column::ArticleId.eq(article_id))
        .exec(conn)
        .await?;
    if !tags.is_empty() {
        article_tag::Entity::insert_many(tags.iter().map(|t| article_tag::ActiveModel {
            article_id: Set(article_id),
            tag: Set(t.clone()),
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// Writes a new article and its comment topic, in one transaction.
pub async fn create_article(
    db: &DatabaseConnection,
    author: &user::Model,
    input: &ArticleInput,
    form_token: Option<&str>,
) -> Result<(article::Model, Saved), AppError> {
    may_write(author)?;
    let checked = check(input)?;
    if let Some(token) = form_token {
        forms::check_unused(db, token, ARTICLE_SENT_TWICE).await?;
    }
    let html = posting::render(db, &input.body).await?;
    if posting::shows_nothing(&html) {
        return Err(AppError::invalid("body", BODY_EMPTY));
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    if let Some(token) = form_token {
        forms::consume(&txn, token, ARTICLE_SENT_TWICE).await?;
    }
    let slug = choose_slug(&txn, checked.slug.as_deref(), &checked.title, None).await?;
    let (status, published_at, saved) = publication(input.publish, None, now);
    let category = blog_category(&txn).await?;
    // Comments off is the forum's lock: one mechanism for "takes no new posts".
    let comments = posting::open_topic(
        &txn,
        category.id,
        author,
        checked.title.clone(),
        slug.clone(),
        !input.comments_open,
    )
    .await?;
    let created = article::ActiveModel {
        author_id: Set(author.id),
        topic_id: Set(comments.id),
        slug: Set(slug),
        title: Set(checked.title),
        summary: Set(checked.summary),
        source: Set(input.body.clone()),
        html: Set(html),
        cover_image_url: Set(checked.cover_image_url),
        status: Set(status.into()),
        published_at: Set(published_at),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    replace_tags(&txn, created.id, &checked.tags).await?;
    uploads::attach(
        &txn,
        uploads::User::Article(created.id),
        author.id,
        &created.source,
    )
    .await?;
    search_index::sync_article(&txn, &created).await?;
    // Now an article's: listed with it.
    posting::settle(&txn, comments.id).await?;
    txn.commit().await?;
    Ok((created, saved))
}

/// Saves an edit of an article: its text, its address (until published), tags, comments on or
/// off, and when it is public.
pub async fn update_article(
    db: &DatabaseConnection,
    editor: &user::Model,
    article_id: i64,
    input: &ArticleInput,
) -> Result<(article::Model, Saved), AppError> {
    may_write(editor)?;
    let existing = visibility::article(db, article_id, Some(editor)).await?;
    may_edit(editor, &existing)?;
    let checked = check(input)?;
    let now = Utc::now();
    let slug = match checked.slug.as_deref() {
        Some(asked) if asked != existing.slug => {
            if state_of(&existing, now) == ArticleState::Published {
                return Err(AppError::invalid("slug", SLUG_LOCKED));
            }
            Some(asked)
        }
        _ => None,
    };
    let html = if input.body == existing.source {
        existing.html.clone()
    } else {
        posting::render(db, &input.body).await?
    };
    if posting::shows_nothing(&html) {
        return Err(AppError::invalid("body", BODY_EMPTY));
    }
    let txn = begin_write(db).await?;
    let slug = match slug {
        Some(asked) => choose_slug(&txn, Some(asked), &checked.title, Some(existing.id)).await?,
        None => existing.slug.clone(),
    };
    let (status, published_at, saved) = publication(input.publish, Some(&existing), now);
    topic::Entity::update_many()
        .col_expr(topic::Column::Title, Expr::value(checked.title.clone()))
        .col_expr(topic::Column::Slug, Expr::value(slug.clone()))
        .col_expr(topic::Column::Locked, Expr::value(!input.comments_open))
        .filter(topic::Column::Id.eq(existing.topic_id))
        .exec(&txn)
        .await?;
    let mut row: article::ActiveModel = existing.into();
    row.slug = Set(slug);
    row.title = Set(checked.title);
    row.summary = Set(checked.summary);
    row.source = Set(input.body.clone());
    row.html = Set(html);
    row.cover_image_url = Set(checked.cover_image_url);
    row.status = Set(status.into());
    row.published_at = Set(published_at);
    row.updated_at = Set(now);
    let updated = row.update(&txn).await?;
    replace_tags(&txn, updated.id, &checked.tags).await?;
    // The author's uploads, whichever admin edits.
    uploads::attach(
        &txn,
        uploads::User::Article(updated.id),
        updated.author_id,
        &updated.source,
    )
    .await?;
    search_index::sync_article(&txn, &updated).await?;
    txn.commit().await?;
    Ok((updated, saved))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::forum;
    use crate::server::posting::{COMMENTS_CLOSED, NOT_PUBLISHED};
    use crate::server::records::articles::NOT_YOUR_ARTICLE;
    use crate::server::records::articles::STAFF_ONLY;
    use crate::server::views::blog::blog_index;
    use crate::server::views::blog::latest_public;
    use crate::server::views::blog::public_addresses;
    use crate::server::views::blog::tags_by_article;
    use crate::server::views::blog::viewable_by_slug;
    use crate::server::{auth::random_token, entity::post, testing::World};
    use chrono::Duration;
    use sea_orm::PaginatorTrait;

    fn input(title: &str, publish: Publish) -> ArticleInput {
        ArticleInput {
            title: title.into(),
            slug: String::new(),
            summary: String::new(),
            body: "Hello **customers**.".into(),
            cover_image_url: String::new(),
            tags: "News, release notes".into(),
            comments_open: true,
            publish,
        }
    }

    async fn counts(db: &DatabaseConnection) -> (u64, u64, u64) {
        (
            article::Entity::find().count(db).await.unwrap(),
            topic::Entity::find().count(db).await.unwrap(),
            article_tag::Entity::find().count(db).await.unwrap(),
        )
    }

    fn invalid(field: &str, message: &str) -> AppError {
        AppError::invalid(field, message)
    }

    /// An article's title is one line of text, as a topic's is: controls, noncharacters and
    /// direction overrides are dropped, a line break or tab is a space.
    #[tokio::test]
    async fn an_article_title_is_one_line_of_text() {
        let w = World::new().await;
        let typed = "Release\u{1b}[31m notes\u{FFFE}\u{85}\u{202E}\tfor\nMay\u{FFFF}";
        let (article, _) = create_article(&w.db, &w.staff, &input(typed, Publish::Now), None)
            .await
            .unwrap();
        assert_eq!(article.title, "Release[31m notes for May");
        let (article, _) = create_article(
            &w.db,
            &w.staff,
            &input("Line\u{2028}and\u{2029}paragraph", Publish::Now),
            None,
        )
        .await
        .unwrap();
        assert_eq!(article.title, "Line and paragraph");
        let summary = ArticleInput {
            summary: "A\u{7}bell\u{FFFF} and\u{b}more".into(),
            ..input("Summary", Publish::Now)
        };
        let (article, _) = create_article(&w.db, &w.staff, &summary, None)
            .await
            .unwrap();
        assert_eq!(article.summary, "Abell andmore");
    }

    #[tokio::test]
    async fn states_follow_the_publishing_choice_and_time() {
        let w = World::new().await;
        let now = Utc::now();
        let (draft, saved) =
            create_article(&w.db, &w.staff, &input("A draft", Publish::Draft), None)
                .await
                .unwrap();
        assert_eq!(
            (state_of(&draft, now), saved),
            (ArticleState::Draft, Saved::Draft)
        );
        assert_eq!(draft.slug, "a-draft");
        assert_eq!(draft.html, "<p>Hello <strong>customers</strong>.</p>\n");

        let later = now + Duration::hours(2);
        let (scheduled, saved) =
            create_article(&w.db, &w.staff, &input("Soon", Publish::At(later)), None)
                .await
                .unwrap();
        assert_eq!(saved, Saved::Scheduled);
        assert_eq!(state_of(&scheduled, now), ArticleState::Scheduled);
        // Nobody has to act: once the time has come, it is published.
        assert_eq!(
            state_of(&scheduled, later + Duration::seconds(1)),
            ArticleState::Published
        );

        let past = now - Duration::hours(1);
        let (late, saved) =
            create_article(&w.db, &w.staff, &input("Late", Publish::At(past)), None)
                .await
                .unwrap();
        assert_eq!(saved, Saved::PublishedNow);
        assert!(
            late.published_at.unwrap() >= now,
            "published now, not back-dated"
        );

        let (live, saved) = create_article(&w.db, &w.staff, &input("Live", Publish::Now), None)
            .await
            .unwrap();
        assert_eq!(
            (state_of(&live, Utc::now()), saved),
            (ArticleState::Published, Saved::Published)
        );
        let tags = tags_by_article(&w.db, [live.id]).await.unwrap();
        assert_eq!(tags[&live.id], vec!["news", "release-notes"]);

        // Editing a published article keeps its date; unpublishing makes it a draft again.
        let (edited, saved) =
            update_article(&w.db, &w.staff, live.id, &input("Live!", Publish::Now))
                .await
                .unwrap();
        assert_eq!(
            (saved, edited.published_at),
            (Saved::Updated, live.published_at)
        );
        let (back, saved) =
            update_article(&w.db, &w.staff, live.id, &input("Live!", Publish::Draft))
                .await
                .unwrap();
        assert_eq!(
            (state_of(&back, Utc::now()), saved),
            (ArticleState::Draft, Saved::Draft)
        );
        // The comment topic follows the title.
        let t = topic::Entity::find_by_id(back.topic_id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(t.title, "Live!");
    }

    #[tokio::test]
    async fn only_staff_write_and_only_the_author_or_an_admin_edits() {
        let w = World::new().await;
        assert_eq!(
            create_article(&w.db, &w.customer, &input("Mine", Publish::Now), None)
                .await
                .unwrap_err(),
            AppError::Forbidden(STAFF_ONLY.into())
        );
        assert_eq!(counts(&w.db).await, (0, 0, 0));

        let (a, _) = create_article(&w.db, &w.staff, &input("Ours", Publish::Now), None)
            .await
            .unwrap();
        for (who, expected) in [
            (&w.customer, AppError::Forbidden(STAFF_ONLY.into())),
            (&w.moderator, AppError::Forbidden(NOT_YOUR_ARTICLE.into())),
        ] {
            assert_eq!(
                update_article(&w.db, who, a.id, &input("Defaced", Publish::Now))
                    .await
                    .unwrap_err(),
                expected
            );
        }
        let unchanged = article::Entity::find_by_id(a.id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(unchanged.title, "Ours");
        update_article(
            &w.db,
            &w.admin,
            a.id,
            &input("Fixed by an admin", Publish::Now),
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn drafts_and_scheduled_articles_are_seen_by_their_author_and_admins_only() {
        let w = World::new().await;
        create_article(&w.db, &w.staff, &input("Public one", Publish::Now), None)
            .await
            .unwrap();
        let (draft, _) = create_article(
            &w.db,
            &w.staff,
            &input("Secret draft", Publish::Draft),
            None,
        )
        .await
        .unwrap();
        let (scheduled, _) = create_article(
            &w.db,
            &w.staff,
            &input("Secret plan", Publish::At(Utc::now() + Duration::days(1))),
            None,
        )
        .await
        .unwrap();

        for viewer in [None, Some(&w.customer), Some(&w.moderator)] {
            let index = blog_index(&w.db, 1, None, viewer).await.unwrap();
            let titles: Vec<_> = index
                .articles
                .iter()
                .chain(&index.unpublished)
                .map(|a| a.title.as_str())
                .collect();
            assert_eq!(
                titles,
                vec!["Public one"],
                "{:?}",
                viewer.map(|u| &u.username)
            );
            for hidden in [&draft, &scheduled] {
                assert_eq!(
                    viewable_by_slug(&w.db, &hidden.slug, viewer)
                        .await
                        .unwrap_err(),
                    AppError::NotFound(ARTICLE_MISSING.into())
                );
            }
        }
        for insider in [&w.staff, &w.admin] {
            let index = blog_index(&w.db, 1, None, Some(insider)).await.unwrap();
            assert_eq!(
                index.articles.len(),
                1,
                "drafts never mix into the public list"
            );
            assert_eq!(index.unpublished.len(), 2);
            viewable_by_slug(&w.db, &draft.slug, Some(insider))
                .await
                .unwrap();
        }
        let feed: Vec<_> = latest_public(&w.db, 20)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.title)
            .collect();
        assert_eq!(feed, vec!["Public one"]);
        let addresses = public_addresses(&w.db).await.unwrap();
        assert_eq!(addresses.len(), 1);
        assert_eq!(addresses[0].0, "public-one");
    }

    #[tokio::test]
    async fn bad_articles_get_their_message_and_write_nothing() {
        let w = World::new().await;
        create_article(&w.db, &w.staff, &input("Taken", Publish::Now), None)
            .await
            .unwrap();
        let before = counts(&w.db).await;
        let with = |f: &dyn Fn(&mut ArticleInput)| {
            let mut i = input("Fine title", Publish::Now);
            f(&mut i);
            i
        };
        let cases = [
            (
                with(&|i| i.title = "  ".into()),
                invalid("title", TITLE_EMPTY),
            ),
            (
                with(&|i| i.body = " \n ".into()),
                invalid("body", BODY_EMPTY),
            ),
            (
                with(&|i| i.title = "\u{200B}".into()),
                invalid("title", TITLE_EMPTY),
            ),
            (
                with(&|i| i.body = "\u{2060}\u{FEFF}".into()),
                invalid("body", BODY_EMPTY),
            ),
            (
                with(&|i| i.slug = "taken".into()),
                invalid(
                    "slug",
                    "/blog/taken is taken by another article. Try taken-2.",
                ),
            ),
            (
                with(&|i| i.slug = "../etc".into()),
                invalid("slug", SLUG_FORMAT),
            ),
            (
                with(&|i| i.slug = "new".into()),
                invalid("slug", SLUG_RESERVED),
            ),
            (
                with(&|i| i.cover_image_url = "javascript:alert(1)".into()),
                invalid("cover_image_url", COVER_INVALID),
            ),
            (
                with(&|i| i.tags = "a, b, c, d, e, f".into()),
                invalid(
                    "tags",
                    "An article can have at most 5 tags; this one has 6.",
                ),
            ),
            (
                with(&|i| i.summary = "s".repeat(301)),
                invalid(
                    "summary",
                    "Summaries can be at most 300 characters; this one has 301.",
                ),
            ),
        ];
        for (bad, expected) in cases {
            assert_eq!(
                create_article(&w.db, &w.staff, &bad, Some(&random_token()))
                    .await
                    .unwrap_err(),
                expected
            );
        }
        assert_eq!(counts(&w.db).await, before);
        // A title that makes a taken slug gets the next free one instead of an error.
        let (a, _) = create_article(&w.db, &w.staff, &input("Taken", Publish::Now), None)
            .await
            .unwrap();
        assert_eq!(a.slug, "taken-2");
        // A published article keeps its address.
        let mut moved = input("Taken", Publish::Now);
        moved.slug = "elsewhere".into();
        assert_eq!(
            update_article(&w.db, &w.staff, a.id, &moved)
                .await
                .unwrap_err(),
            invalid("slug", SLUG_LOCKED)
        );
    }

    #[test]
    fn publishing_times_parse_as_utc() {
        assert_eq!(parse_publish("draft", "").unwrap(), Publish::Draft);
        assert_eq!(
            parse_publish("schedule", "").unwrap_err(),
            invalid("publish_at", SCHEDULE_MISSING)
        );
        assert_eq!(
            parse_publish("schedule", "tomorrow").unwrap_err(),
            invalid("publish_at", SCHEDULE_INVALID)
        );
        assert_eq!(
            parse_publish("sometime", "").unwrap_err(),
            invalid("publish", PUBLISH_CHOICE_INVALID)
        );
        let Publish::At(at) = parse_publish("schedule", "2026-12-01T09:00").unwrap() else {
            panic!("a time")
        };
        assert_eq!(at.to_rfc3339(), "2026-12-01T09:00:00+00:00");
    }

    /// An article's first comment is a reply (its notices say so): its writer follows the
    /// comments by their preference for replying, not for starting a topic; a forum topic's
    /// opening post by the one for starting.
    #[tokio::test]
    async fn an_articles_first_comment_follows_by_the_reply_preference() {
        use crate::server::entity::{topic_follow, user};
        use sea_orm::{ActiveModelTrait, Set};
        let w = World::new().await;
        let prefer = |u: &user::Model, start: bool, reply: bool| {
            let mut row: user::ActiveModel = u.clone().into();
            row.follow_on_start = Set(start);
            row.follow_on_reply = Set(reply);
            row
        };
        let starts_only = prefer(&w.customer, true, false)
            .update(&w.db)
            .await
            .unwrap();
        let replies_only = prefer(&w.other, false, true).update(&w.db).await.unwrap();
        let follows = |user_id: i64, topic_id: i64| {
            let db = w.db.clone();
            async move {
                topic_follow::Entity::find_by_id((user_id, topic_id))
                    .one(&db)
                    .await
                    .unwrap()
                    .is_some()
            }
        };
        for (first, second) in [(&starts_only, &replies_only), (&replies_only, &starts_only)] {
            let (a, _) = create_article(&w.db, &w.staff, &input("News", Publish::Now), None)
                .await
                .unwrap();
            let comment = forum::reply(&w.db, first, a.topic_id, "First!", None)
                .await
                .unwrap();
            assert_eq!(comment.post_number, 1);
            forum::reply(&w.db, second, a.topic_id, "Second.", None)
                .await
                .unwrap();
            assert!(follows(replies_only.id, a.topic_id).await);
            assert!(!follows(starts_only.id, a.topic_id).await);
        }
        for (author, following) in [(&starts_only, true), (&replies_only, false)] {
            let (t, _) = forum::start_topic(&w.db, author, "questions", "Mine", "Hi.", None)
                .await
                .unwrap();
            assert_eq!(follows(author.id, t.id).await, following);
        }
    }

    #[tokio::test]
    async fn comments_need_a_published_article_with_comments_on() {
        // No forum categories: the comments' own category must not be listed as one.
        let w = World::builder().without_categories().build().await;
        let (draft, _) = create_article(&w.db, &w.staff, &input("Draft", Publish::Draft), None)
            .await
            .unwrap();
        let mut closed = input("Closed", Publish::Now);
        closed.comments_open = false;
        let (closed, _) = create_article(&w.db, &w.staff, &closed, None)
            .await
            .unwrap();
        let (open, _) = create_article(&w.db, &w.staff, &input("Open", Publish::Now), None)
            .await
            .unwrap();
        // A draft is not there for a customer; its author is told why it takes no comments.
        for (who, a, expected) in [
            (
                &w.customer,
                &draft,
                AppError::NotFound(crate::server::visibility::TOPIC_MISSING.into()),
            ),
            (&w.staff, &draft, invalid("form", NOT_PUBLISHED)),
            (&w.customer, &closed, invalid("form", COMMENTS_CLOSED)),
        ] {
            assert_eq!(
                forum::reply(&w.db, who, a.topic_id, "Nice!", None)
                    .await
                    .unwrap_err(),
                expected
            );
        }
        assert_eq!(post::Entity::find().count(&w.db).await.unwrap(), 0);

        let comment = forum::reply(&w.db, &w.customer, open.topic_id, "Nice!", None)
            .await
            .unwrap();
        let staff = forum::reply(&w.db, &w.staff, open.topic_id, "Thanks!", None)
            .await
            .unwrap();
        assert_eq!((comment.post_number, comment.is_staff_reply), (1, false));
        assert!(staff.is_staff_reply);
        assert_eq!(
            forum::post_url(&w.db, &staff).await.unwrap(),
            "/blog/open#post-2"
        );
        // Turning comments off keeps the existing ones readable.
        let mut off = input("Open", Publish::Now);
        off.comments_open = false;
        update_article(&w.db, &w.staff, open.id, &off)
            .await
            .unwrap();
        let t = topic::Entity::find_by_id(open.topic_id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        let page = crate::server::views::topic::topic_page(&w.db, t.id, 1, None)
            .await
            .unwrap();
        assert_eq!(page.posts.len(), 2);
        assert_eq!(page.article_path.as_deref(), Some("/blog/open"));
        // The forum never lists the blog's comment topics, and a draft's topic is not found.
        assert!(
            crate::server::views::forum::list_categories(&w.db)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            crate::server::views::topic::topic_page(&w.db, draft.topic_id, 1, None).await,
            Err(AppError::NotFound(_))
        ));
    }
}
