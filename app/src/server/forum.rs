//! Forum rules: categories, topics, replies, edits with revisions, and the read models of the
//! category, topic and member pages.
use super::posting::{CATEGORY_ARCHIVED, check_takes_posts};
use super::records::{
    articles::article_for_topic,
    categories::{CATEGORY_MISSING, category_ref},
    topics::topic_titles,
};
use std::collections::{HashMap, HashSet};

use chrono::{Duration, Utc};
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::{
    blog, content,
    db::begin_write,
    entity::{category, post, topic, user},
    forms, moderation, posting, records, staff, visibility,
};
use crate::{
    error::AppError,
    model::{
        ActivityPost, CategoryPage, CategoryRef, CategorySummary, EditablePost, PAGE_SIZE,
        PostState, PostView, TopicListItem, TopicPage, UserProfile,
    },
};

pub const MAX_TITLE_CHARS: usize = 200;
/// The same member posting the same text in the same topic within this window is a double
/// submit, whatever the form token says (two tabs, a retried request).
pub const DUPLICATE_WINDOW_SECS: i64 = 30;

pub const TITLE_EMPTY: &str = "Give your topic a title.";
pub use super::visibility::{POST_MISSING, TOPIC_MISSING};
pub const NOT_YOUR_POST: &str = "You can only edit your own posts.";
pub const REPLY_SENT_TWICE: &str = "This reply was already posted.";
pub const TOPIC_SENT_TWICE: &str = "This topic was already posted.";
pub const SAME_REPLY_AGAIN: &str = "You just posted that same reply; it is above.";

pub fn validate_title(title: &str) -> Result<String, AppError> {
    let title = title.trim();
    if title.is_empty() {
        return Err(AppError::invalid("title", TITLE_EMPTY));
    }
    let n = title.chars().count();
    if n > MAX_TITLE_CHARS {
        return Err(AppError::invalid(
            "title",
            format!("Titles can be at most {MAX_TITLE_CHARS} characters; this one has {n}."),
        ));
    }
    Ok(title.to_string())
}

pub struct NewCategory<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub colour: &'a str,
}

pub async fn create_category(
    db: &DatabaseConnection,
    input: NewCategory<'_>,
) -> Result<category::Model, AppError> {
    let position = category::Entity::find().count(db).await? as i32;
    Ok(category::ActiveModel {
        slug: Set(input.slug.into()),
        name: Set(input.name.into()),
        description: Set(input.description.into()),
        colour: Set(input.colour.into()),
        position: Set(position),
        kind: Set("forum".into()),
        response_target_minutes: Set(24 * 60),
        topic_count: Set(0),
        post_count: Set(0),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Lower-case ASCII words joined by dashes, for readable URLs; "topic" if nothing is left.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for word in title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if slug.len() + word.len() + 1 > 80 {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    if slug.is_empty() {
        "topic".into()
    } else {
        slug
    }
}

/// Starts a topic with its first post, in one transaction.
pub async fn start_topic(
    db: &DatabaseConnection,
    author: &user::Model,
    category_slug: &str,
    title: &str,
    body: &str,
    form_token: Option<&str>,
) -> Result<(topic::Model, post::Model), AppError> {
    let category = category::Entity::find()
        .filter(category::Column::Slug.eq(category_slug))
        .filter(category::Column::Kind.ne("blog_comments"))
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid("category", CATEGORY_MISSING))?;
    if category.archived {
        return Err(AppError::invalid("category", CATEGORY_ARCHIVED));
    }
    if !category.customers_may_start && !author.role().is_staff() {
        return Err(AppError::invalid(
            "category",
            format!("Only staff start topics in {}.", category.name),
        ));
    }
    let title = validate_title(title)?;
    posting::validate_body(body)?;
    if let Some(token) = form_token {
        forms::check_unused(db, token, TOPIC_SENT_TWICE).await?;
    }
    posting::check_may_post(db, author, true).await?;
    let prepared = posting::prepare(db, body).await?;

    let txn = begin_write(db).await?;
    if let Some(token) = form_token {
        forms::consume(&txn, token, TOPIC_SENT_TWICE).await?;
    }
    let slug = slugify(&title);
    let new = posting::NewTopic {
        category_id: category.id,
        title,
        slug,
    };
    let started = posting::start_topic(&txn, author, new, &prepared).await?;
    txn.commit().await?;
    Ok(started)
}

/// Adds a reply to an open topic.
pub async fn reply(
    db: &DatabaseConnection,
    author: &user::Model,
    topic_id: i64,
    body: &str,
    form_token: Option<&str>,
) -> Result<post::Model, AppError> {
    let topic = visibility::topic(db, topic_id, Some(author)).await?;
    check_takes_posts(db, &topic).await?;
    posting::validate_body(body)?;
    if let Some(token) = form_token {
        forms::check_unused(db, token, REPLY_SENT_TWICE).await?;
    }
    posting::check_may_post(db, author, false).await?;
    let prepared = posting::prepare(db, body).await?;

    let txn = begin_write(db).await?;
    if let Some(token) = form_token {
        forms::consume(&txn, token, REPLY_SENT_TWICE).await?;
    }
    let recent_same = post::Entity::find()
        .filter(post::Column::TopicId.eq(topic_id))
        .filter(post::Column::AuthorId.eq(author.id))
        .filter(post::Column::Source.eq(body))
        .filter(post::Column::CreatedAt.gt(Utc::now() - Duration::seconds(DUPLICATE_WINDOW_SECS)))
        .one(&txn)
        .await?;
    if recent_same.is_some() {
        return Err(AppError::invalid("form", SAME_REPLY_AGAIN));
    }
    // Re-read under the write lock: it may have been locked (or unpublished) since.
    let topic = visibility::topic(&txn, topic_id, Some(author)).await?;
    check_takes_posts(&txn, &topic).await?;
    let created = posting::reply(&txn, author, &topic, &prepared).await?;
    txn.commit().await?;
    Ok(created)
}

/// The author edits their post: the old text is kept as a revision, the post shows "edited".
pub async fn edit_post(
    db: &DatabaseConnection,
    editor: &user::Model,
    post_id: i64,
    body: &str,
) -> Result<post::Model, AppError> {
    own_post(db, editor, post_id).await?;
    write_edit(db, editor, post_id, body).await
}

/// Saves new text for a post through the lifecycle (the author's edit, or a moderator's, who
/// logs it in the same transaction through `then`).
pub async fn write_edit(
    db: &DatabaseConnection,
    editor: &user::Model,
    post_id: i64,
    body: &str,
) -> Result<post::Model, AppError> {
    posting::validate_body(body)?;
    let prepared = posting::prepare(db, body).await?;
    let txn = begin_write(db).await?;
    let existing = post::Entity::find_by_id(post_id)
        .one(&txn)
        .await?
        .filter(|p| p.state() != PostState::Deleted)
        .ok_or_else(|| AppError::NotFound(POST_MISSING.into()))?;
    let updated = posting::edit(&txn, editor, &existing, &prepared).await?;
    txn.commit().await?;
    Ok(updated)
}

/// A post the editor may read and change: not deleted; "not found" for one they may not read,
/// so that the answer for someone else's hidden post is the answer for no post.
async fn editable(
    db: &DatabaseConnection,
    editor: &user::Model,
    post_id: i64,
) -> Result<(post::Model, topic::Model), AppError> {
    let (p, t) = visibility::post(db, post_id, Some(editor)).await?;
    if p.state() == PostState::Deleted {
        return Err(AppError::NotFound(POST_MISSING.into()));
    }
    Ok((p, t))
}

async fn own_post(
    db: &DatabaseConnection,
    editor: &user::Model,
    post_id: i64,
) -> Result<post::Model, AppError> {
    let (found, _) = editable(db, editor, post_id).await?;
    if found.author_id != editor.id {
        return Err(AppError::Forbidden(NOT_YOUR_POST.into()));
    }
    Ok(found)
}

/// A post's source, for its author's edit form.
pub async fn editable_post(
    db: &DatabaseConnection,
    editor: &user::Model,
    post_id: i64,
) -> Result<EditablePost, AppError> {
    // Authors edit their own posts; moderators anyone's (their edit is logged and the author told).
    let (p, t) = editable(db, editor, post_id).await?;
    if p.author_id != editor.id {
        if editor.role() < crate::model::Role::Moderator {
            return Err(AppError::Forbidden(NOT_YOUR_POST.into()));
        }
        crate::server::auth::check_may_act_on_author(db, editor, p.author_id).await?;
    }
    Ok(EditablePost {
        moderating: p.author_id != editor.id,
        id: p.id,
        topic_id: t.id,
        topic_slug: t.slug,
        topic_title: t.title,
        number: p.post_number,
        source: p.source,
    })
}

/// A post quoted as Markdown, to start a reply with: only a public post, in a topic the viewer
/// may see.
pub async fn quote(
    db: &DatabaseConnection,
    post_id: i64,
    viewer: Option<&user::Model>,
) -> Result<String, AppError> {
    let (p, _) = visibility::post(db, post_id, viewer).await?;
    if p.state() != PostState::Visible {
        return Err(AppError::NotFound(POST_MISSING.into()));
    }
    let author = user::Entity::find_by_id(p.author_id).one(db).await?;
    let name = author
        .map(|a| a.username)
        .unwrap_or_else(|| "someone".into());
    let quoted: String = p.source.lines().map(|l| format!("> {l}\n")).collect();
    Ok(format!("@{name} wrote:\n{quoted}\n"))
}

/// Where a post is: its topic's URL at the right page, anchored at the post.
pub async fn post_url(db: &DatabaseConnection, p: &post::Model) -> Result<String, AppError> {
    records::posts::url(db, p).await
}

/// The two names pages show for an author.
struct Names {
    username: String,
    display_name: String,
}

/// Authors' names by id, in one query that reads only those two columns (a page of 30 posts
/// must not drag 30 password hashes and e-mail addresses out of the database).
async fn author_names(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, Names>, AppError> {
    let ids: HashSet<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String, String)> = user::Entity::find()
        .select_only()
        .columns([
            user::Column::Id,
            user::Column::Username,
            user::Column::DisplayName,
        ])
        .filter(user::Column::Id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, username, display_name)| {
            (
                id,
                Names {
                    username,
                    display_name,
                },
            )
        })
        .collect())
}

fn list_items(topics: Vec<topic::Model>, authors: &HashMap<i64, Names>) -> Vec<TopicListItem> {
    topics
        .into_iter()
        .map(|t| TopicListItem {
            author: authors
                .get(&t.author_id)
                .map(|u| u.username.clone())
                .unwrap_or_default(),
            reply_count: std::cmp::max(t.post_count - 1, 0),
            id: t.id,
            slug: t.slug,
            title: t.title,
            status: t.status,
            pinned: t.pinned,
            locked: t.locked,
            staff_reply_minutes: t
                .first_staff_reply_at
                .map(|at| (at - t.created_at).num_minutes()),
            awaiting_staff_since: t.awaiting_staff_since,
            answered: t.official_answer_post_id.is_some(),
            resolution_confirmed: t.resolution_confirmed_at.is_some(),
            created_at: t.created_at,
            last_posted_at: t.last_posted_at,
        })
        .collect()
}

/// The home page's category list, in the admins' order, with each one's latest topic.
pub async fn list_categories(db: &DatabaseConnection) -> Result<Vec<CategorySummary>, AppError> {
    let categories = category::Entity::find()
        .filter(category::Column::Kind.ne("blog_comments"))
        .order_by_asc(category::Column::Position)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(categories.len());
    for c in categories {
        let latest = topic::Entity::find()
            .filter(topic::Column::CategoryId.eq(c.id))
            .filter(topic::Column::Visible.eq(true))
            .order_by_desc(topic::Column::LastPostedAt)
            .one(db)
            .await?;
        out.push(CategorySummary {
            id: c.id,
            slug: c.slug,
            name: c.name,
            description: c.description,
            colour: c.colour,
            topic_count: c.topic_count,
            post_count: c.post_count,
            last_posted_at: c.last_posted_at,
            latest_topic_title: latest.map(|t| t.title),
        });
    }
    Ok(out)
}

/// The forum categories a member may start a topic in, for the new-topic form: not archived
/// ones, and for customers not the staff-only ones.
pub async fn postable_categories(
    db: &DatabaseConnection,
    staff: bool,
) -> Result<Vec<CategoryRef>, AppError> {
    let mut q = category::Entity::find()
        .filter(category::Column::Kind.ne("blog_comments"))
        .filter(category::Column::Archived.eq(false));
    if !staff {
        q = q.filter(category::Column::CustomersMayStart.eq(true));
    }
    Ok(q.order_by_asc(category::Column::Position)
        .all(db)
        .await?
        .iter()
        .map(category_ref)
        .collect())
}

/// A category's topics, most recent activity first (pinned ones on top), 30 a page.
pub async fn category_page(
    db: &DatabaseConnection,
    slug: &str,
    page: u64,
    status: Option<&str>,
) -> Result<CategoryPage, AppError> {
    let Some(c) = category::Entity::find()
        .filter(category::Column::Slug.eq(slug))
        .filter(category::Column::Kind.ne("blog_comments"))
        .one(db)
        .await?
    else {
        // A renamed category's old address leads to the new one.
        return match super::admin::renamed_to(db, slug).await? {
            Some(now) => Ok(CategoryPage {
                category: CategoryRef {
                    id: 0,
                    slug: now.clone(),
                    name: String::new(),
                    colour: String::new(),
                },
                description: String::new(),
                topics: Vec::new(),
                page: 1,
                page_count: 1,
                status: None,
                moved_to: Some(format!("/c/{now}")),
            }),
            None => Err(AppError::NotFound("There is no such category.".into())),
        };
    };
    let status = match status.filter(|s| !s.is_empty()) {
        Some(s) => Some(
            crate::model::TopicStatus::parse(s)
                .ok_or_else(|| AppError::invalid("status", staff::STATUS_UNKNOWN))?,
        ),
        None => None,
    };
    let mut listed = topic::Entity::find()
        .filter(topic::Column::CategoryId.eq(c.id))
        .filter(topic::Column::Visible.eq(true));
    let total = match status {
        Some(s) => {
            listed = listed.filter(topic::Column::Status.eq(s.as_str()));
            listed.clone().count(db).await?
        }
        // The stored counter saves a count on every unfiltered page.
        None => c.topic_count.clamp(0, i32::MAX) as u64,
    };
    let paged = super::paging::page(page, total, PAGE_SIZE)?;
    let (page, pages) = (paged.number, paged.count);
    let topics = listed
        .order_by_desc(topic::Column::Pinned)
        .order_by_desc(topic::Column::LastPostedAt)
        .order_by_desc(topic::Column::Id)
        .offset(paged.offset())
        .limit(PAGE_SIZE)
        .all(db)
        .await?;
    let authors = author_names(db, topics.iter().map(|t| t.author_id)).await?;
    Ok(CategoryPage {
        category: category_ref(&c),
        description: c.description,
        topics: list_items(topics, &authors),
        page,
        page_count: pages,
        status: status.map(|s| s.as_str().to_string()),
        moved_to: None,
    })
}

/// One page of a topic's visible posts, 30 to a page, in order.
pub struct PostsPage {
    pub posts: Vec<PostView>,
    pub page: u64,
    pub page_count: u64,
    /// The topic author's username (read with the posts' authors, in the same query).
    pub topic_author: String,
}

/// Page `page` of `t`'s posts; not found past the last page. The topic page and an article's
/// comments both read posts through this. Everyone sees a hidden post's place ("hidden by a
/// moderator"); its author and moderators see its text and the reason; a post waiting for
/// approval shows to its author and staff only; deleted ones to moderators only.
pub async fn posts_page(
    db: &DatabaseConnection,
    t: &topic::Model,
    page: u64,
    viewer: Option<&user::Model>,
) -> Result<PostsPage, AppError> {
    let moderator = viewer.is_some_and(|u| u.role() >= crate::model::Role::Moderator);
    let viewer_is_staff = viewer.is_some_and(|u| u.role().is_staff());
    let viewer_id = viewer.map(|u| u.id);
    let paged = super::paging::page(page, t.post_count.clamp(0, i32::MAX) as u64, PAGE_SIZE)?;
    let (page, pages) = (paged.number, paged.count);
    let first_number = ((page - 1) * PAGE_SIZE + 1) as i32;
    let last_number = (page * PAGE_SIZE) as i32;
    // Only what the page shows: not the Markdown source, which can double the bytes read.
    type Row = (
        i64,
        i32,
        i64,
        String,
        DateTimeUtc,
        Option<DateTimeUtc>,
        bool,
        Option<String>,
        String,
        Option<String>,
        Option<i64>,
    );
    let shown = if moderator {
        sea_orm::Condition::all()
    } else {
        let mut any = sea_orm::Condition::any().add(
            post::Column::State.is_in([PostState::Visible.as_str(), PostState::Hidden.as_str()]),
        );
        if viewer_is_staff {
            any = any.add(post::Column::State.eq(PostState::Pending.as_str()));
        } else if let Some(id) = viewer_id {
            any = any.add(
                sea_orm::Condition::all()
                    .add(post::Column::State.eq(PostState::Pending.as_str()))
                    .add(post::Column::AuthorId.eq(id)),
            );
        }
        any
    };
    let rows: Vec<Row> = post::Entity::find()
        .select_only()
        .columns([
            post::Column::Id,
            post::Column::PostNumber,
            post::Column::AuthorId,
            post::Column::Html,
            post::Column::CreatedAt,
            post::Column::EditedAt,
            post::Column::IsStaffReply,
            post::Column::StaffTitle,
            post::Column::State,
            post::Column::ModerationReason,
            post::Column::ModeratorEditBy,
        ])
        .filter(post::Column::TopicId.eq(t.id))
        .filter(post::Column::PostNumber.between(first_number, last_number))
        .filter(shown)
        .order_by_asc(post::Column::PostNumber)
        .into_tuple()
        .all(db)
        .await?;
    let authors = author_names(db, rows.iter().map(|r| r.2).chain([t.author_id])).await?;
    let flagged: HashSet<i64> = match viewer_id {
        Some(id) if !rows.is_empty() => super::entity::flag::Entity::find()
            .select_only()
            .column(super::entity::flag::Column::PostId)
            .filter(super::entity::flag::Column::FlaggerId.eq(id))
            .filter(super::entity::flag::Column::State.eq("open"))
            .filter(super::entity::flag::Column::PostId.is_in(rows.iter().map(|r| r.0)))
            .into_tuple::<i64>()
            .all(db)
            .await?
            .into_iter()
            .collect(),
        _ => HashSet::new(),
    };
    let posts = rows
        .into_iter()
        .map(
            |(
                id,
                number,
                author_id,
                html,
                created_at,
                edited_at,
                is_staff_reply,
                staff_title,
                state,
                reason,
                moderator_edit_by,
            )| {
                let author = authors.get(&author_id);
                let state = PostState::parse(&state);
                // Staff read a held post to answer it once approved; a hidden one's text is
                // for its author and moderators.
                let insider = moderator
                    || viewer_id == Some(author_id)
                    || (state == PostState::Pending && viewer_is_staff);
                PostView {
                    id,
                    number,
                    author_username: author.map(|a| a.username.clone()).unwrap_or_default(),
                    author_display_name: author.map(|a| a.display_name.clone()).unwrap_or_default(),
                    // Others see only that a post was hidden, not what it said.
                    html: if state == PostState::Visible || insider {
                        html
                    } else {
                        String::new()
                    },
                    created_at,
                    edited_at,
                    edited_by_moderator: moderator_edit_by.is_some(),
                    is_staff_reply,
                    staff_title,
                    editable: viewer_id == Some(author_id),
                    moderation_reason: reason.filter(|_| insider),
                    flagged_by_viewer: flagged.contains(&id),
                    state,
                }
            },
        )
        .collect();
    Ok(PostsPage {
        posts,
        page,
        page_count: pages,
        topic_author: authors
            .get(&t.author_id)
            .map(|a| a.username.clone())
            .unwrap_or_default(),
    })
}

/// One page of a topic: 30 posts in order, by post number. An article's comment topic is shown
/// on the article's page: this says where (`article_path`), or "not found" when the viewer may
/// not see the article.
pub async fn topic_page(
    db: &DatabaseConnection,
    topic_id: i64,
    page: u64,
    viewer: Option<&user::Model>,
) -> Result<TopicPage, AppError> {
    let t = visibility::topic(db, topic_id, viewer).await?;
    let c = category::Entity::find_by_id(t.category_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(TOPIC_MISSING.into()))?;
    let article_path = crate::server::records::articles::article_for_topic(db, t.id)
        .await?
        .map(|a| crate::server::records::articles::url_of(&a));
    let p = posts_page(db, &t, page, viewer).await?;
    let held = post::Entity::find()
        .filter(post::Column::TopicId.eq(t.id))
        .filter(post::Column::PostNumber.eq(1))
        .filter(post::Column::State.eq(PostState::Pending.as_str()))
        .count(db)
        .await?
        > 0;
    let summary = match p.posts.first().filter(|post| post.number == 1) {
        Some(first) => content::excerpt(&first.html, 200),
        None => String::new(),
    };
    let viewer_is_staff = viewer.is_some_and(|u| u.role().is_staff());
    let official_answer = match t.official_answer_post_id {
        Some(id) => match p.posts.iter().find(|post| post.id == id) {
            Some(on_this_page) => Some(on_this_page.clone()),
            None => one_post_view(db, id, viewer.map(|u| u.id)).await?,
        },
        None => None,
    };
    let events = staff::events(db, t.id, viewer_is_staff).await?;
    let asks_viewer_to_confirm =
        viewer.is_some_and(|u| u.id == t.author_id) && staff::waits_for_confirmation(&t);
    Ok(TopicPage {
        id: t.id,
        slug: t.slug,
        title: t.title,
        category: category_ref(&c),
        author_username: p.topic_author,
        status: t.status,
        locked: t.locked,
        created_at: t.created_at,
        post_count: t.post_count,
        pinned: t.pinned,
        posts: p.posts,
        page: p.page,
        page_count: p.page_count,
        summary,
        article_path,
        official_answer,
        staff_reply_minutes: t
            .first_staff_reply_at
            .map(|at| (at - t.created_at).num_minutes()),
        awaiting_staff_since: t.awaiting_staff_since,
        held,
        resolution_confirmed_at: t.resolution_confirmed_at,
        events,
        viewer_is_staff,
        viewer_is_moderator: viewer.is_some_and(|u| u.role() >= crate::model::Role::Moderator),
        move_targets: if viewer.is_some_and(|u| u.role() >= crate::model::Role::Moderator) {
            postable_categories(db, true).await?
        } else {
            Vec::new()
        },
        asks_viewer_to_confirm,
    })
}

/// One visible post as a page shows it (the official answer, when it is on another page).
async fn one_post_view(
    db: &DatabaseConnection,
    post_id: i64,
    viewer: Option<i64>,
) -> Result<Option<PostView>, AppError> {
    let Some(p) = post::Entity::find_by_id(post_id)
        .one(db)
        .await?
        .filter(|p| p.state() == PostState::Visible)
    else {
        return Ok(None);
    };
    let names = author_names(db, [p.author_id]).await?;
    let author = names.get(&p.author_id);
    Ok(Some(PostView {
        id: p.id,
        number: p.post_number,
        author_username: author.map(|a| a.username.clone()).unwrap_or_default(),
        author_display_name: author.map(|a| a.display_name.clone()).unwrap_or_default(),
        html: p.html,
        created_at: p.created_at,
        edited_at: p.edited_at,
        edited_by_moderator: p.moderator_edit_by.is_some(),
        is_staff_reply: p.is_staff_reply,
        staff_title: p.staff_title,
        editable: viewer == Some(p.author_id),
        state: PostState::parse(&p.state),
        moderation_reason: None,
        flagged_by_viewer: false,
    }))
}

/// A member's public page: who they are and what they wrote lately.
pub async fn user_profile(
    db: &DatabaseConnection,
    username: &str,
) -> Result<UserProfile, AppError> {
    let u = user::Entity::find()
        .filter(user::Column::UsernameKey.eq(username.to_lowercase()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no member by that name.".into()))?;
    // What a visitor may see, whoever asks: the page is the same for everyone. Forum topics
    // only: an article's comment topic is the article, not a topic they started.
    let now = Utc::now();
    let forum_topics = || {
        topic::Entity::find()
            .filter(topic::Column::AuthorId.eq(u.id))
            .filter(topic::Column::Id.in_subquery(visibility::public_topic_ids(now)))
            .filter(
                topic::Column::CategoryId.not_in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(category::Column::Id)
                        .from(category::Entity)
                        .and_where(category::Column::Kind.eq("blog_comments"))
                        .to_owned(),
                ),
            )
    };
    let topics = forum_topics()
        .order_by_desc(topic::Column::CreatedAt)
        .limit(10)
        .all(db)
        .await?;
    let topic_count = forum_topics().count(db).await?;
    let posts = post::Entity::find()
        .filter(post::Column::AuthorId.eq(u.id))
        .filter(visibility::public_posts(now))
        .order_by_desc(post::Column::CreatedAt)
        .limit(10)
        .all(db)
        .await?;
    let post_count = post::Entity::find()
        .filter(post::Column::AuthorId.eq(u.id))
        .filter(visibility::public_posts(now))
        .count(db)
        .await?;
    let topic_ids: HashSet<i64> = posts.iter().map(|p| p.topic_id).collect();
    let titles: HashMap<i64, topic::Model> = topic::Entity::find()
        .filter(topic::Column::Id.is_in(topic_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let authors = HashMap::from([(
        u.id,
        Names {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
        },
    )]);
    Ok(UserProfile {
        id: u.id,
        suspended: u.suspended_until.is_some_and(|until| until > Utc::now()),
        viewer_is_moderator: false,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: u.role(),
        staff_title: u.staff_title.clone(),
        joined_at: u.created_at,
        topic_count,
        post_count,
        topics: list_items(topics, &authors),
        posts: posts
            .into_iter()
            .filter_map(|p| {
                let t = titles.get(&p.topic_id)?;
                Some(ActivityPost {
                    topic_id: t.id,
                    topic_slug: t.slug.clone(),
                    topic_title: t.title.clone(),
                    number: p.post_number,
                    excerpt: content::excerpt(&p.html, 160),
                    created_at: p.created_at,
                })
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::posting::TOPIC_LOCKED;
    use crate::server::entity::post_revision;
    use crate::server::posting::BODY_EMPTY;
    use crate::server::{auth::random_token, testing::World};

    async fn counts(db: &DatabaseConnection) -> (u64, u64, u64) {
        (
            topic::Entity::find().count(db).await.unwrap(),
            post::Entity::find().count(db).await.unwrap(),
            post_revision::Entity::find().count(db).await.unwrap(),
        )
    }

    fn invalid(field: &str, message: &str) -> AppError {
        AppError::invalid(field, message)
    }

    #[tokio::test]
    async fn a_topic_and_its_replies_are_numbered_and_counted() {
        let w = World::new().await;
        let (t, first) = start_topic(
            &w.db,
            &w.customer,
            "questions",
            "  How do I export?  ",
            "Where is **export**?",
            Some(&random_token()),
        )
        .await
        .unwrap();
        assert_eq!(
            (t.title.as_str(), t.slug.as_str(), first.post_number),
            ("How do I export?", "how-do-i-export", 1)
        );
        assert_eq!(first.html, "<p>Where is <strong>export</strong>?</p>\n");
        let second = reply(&w.db, &w.other, t.id, "Settings, then Export.", None)
            .await
            .unwrap();
        assert_eq!(second.post_number, 2);
        let t = topic::Entity::find_by_id(t.id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(t.post_count, 2);
        let c = category::Entity::find_by_id(t.category_id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((c.topic_count, c.post_count), (1, 2));
        assert!(c.last_posted_at.is_some());
    }

    #[tokio::test]
    async fn each_bad_topic_gets_its_message_and_writes_nothing() {
        let w = World::new().await;
        let long_title = "t".repeat(201);
        let long_body = "b".repeat(50_001);
        let cases = [
            ("questions", "", "body", invalid("title", TITLE_EMPTY)),
            ("questions", "   \t ", "body", invalid("title", TITLE_EMPTY)),
            (
                "questions",
                long_title.as_str(),
                "body",
                invalid(
                    "title",
                    "Titles can be at most 200 characters; this one has 201.",
                ),
            ),
            ("questions", "Title", "", invalid("body", BODY_EMPTY)),
            ("questions", "Title", " \n\t ", invalid("body", BODY_EMPTY)),
            (
                "questions",
                "Title",
                long_body.as_str(),
                invalid(
                    "body",
                    "Posts can be at most 50,000 characters; this one has 50,001.",
                ),
            ),
            (
                "no-such-category",
                "Title",
                "body",
                invalid("category", CATEGORY_MISSING),
            ),
        ];
        for (category, title, body, expected) in cases {
            let got = start_topic(
                &w.db,
                &w.customer,
                category,
                title,
                body,
                Some(&random_token()),
            )
            .await
            .unwrap_err();
            assert_eq!(got, expected, "{category} {title:.20} {body:.20}");
        }
        assert_eq!(counts(&w.db).await, (0, 0, 0));
        // Exactly at the limits is fine.
        start_topic(
            &w.db,
            &w.customer,
            "questions",
            &"t".repeat(200),
            &"b".repeat(50_000),
            None,
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_topic_form_sent_twice_posts_once() {
        let w = World::new().await;
        let token = random_token();
        start_topic(
            &w.db,
            &w.customer,
            "questions",
            "Once",
            "only once",
            Some(&token),
        )
        .await
        .unwrap();
        let again = start_topic(
            &w.db,
            &w.customer,
            "questions",
            "Once",
            "only once",
            Some(&token),
        )
        .await
        .unwrap_err();
        assert_eq!(again, invalid("form", TOPIC_SENT_TWICE));
        assert_eq!(counts(&w.db).await, (1, 1, 0));
    }

    #[tokio::test]
    async fn bad_replies_are_refused_and_write_nothing() {
        let w = World::new().await;
        let (t, _) = start_topic(&w.db, &w.customer, "questions", "Topic", "first", None)
            .await
            .unwrap();
        assert_eq!(
            reply(&w.db, &w.other, t.id, "  ", None).await.unwrap_err(),
            invalid("body", BODY_EMPTY)
        );
        assert_eq!(
            reply(&w.db, &w.other, 999, "hello", None)
                .await
                .unwrap_err(),
            AppError::NotFound(TOPIC_MISSING.into())
        );

        // The same form twice, and the same text twice from another form: stored once.
        let token = random_token();
        reply(&w.db, &w.other, t.id, "me too", Some(&token))
            .await
            .unwrap();
        assert_eq!(
            reply(&w.db, &w.other, t.id, "me too", Some(&token))
                .await
                .unwrap_err(),
            invalid("form", REPLY_SENT_TWICE)
        );
        assert_eq!(
            reply(&w.db, &w.other, t.id, "me too", Some(&random_token()))
                .await
                .unwrap_err(),
            invalid("form", SAME_REPLY_AGAIN)
        );
        // Someone else saying the same is not a duplicate.
        reply(&w.db, &w.customer, t.id, "me too", None)
            .await
            .unwrap();

        let mut locked: topic::ActiveModel = topic::Entity::find_by_id(t.id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap()
            .into();
        locked.locked = Set(true);
        locked.update(&w.db).await.unwrap();
        assert_eq!(
            reply(&w.db, &w.other, t.id, "let me in", None)
                .await
                .unwrap_err(),
            invalid("form", TOPIC_LOCKED)
        );
        assert_eq!(counts(&w.db).await, (1, 3, 0));
    }

    #[tokio::test]
    async fn edits_keep_revisions_and_only_the_author_may_edit() {
        let w = World::new().await;
        let (_, first) = start_topic(
            &w.db,
            &w.customer,
            "questions",
            "Topic",
            "first version",
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            edit_post(&w.db, &w.other, first.id, "vandalised")
                .await
                .unwrap_err(),
            AppError::Forbidden(NOT_YOUR_POST.into())
        );
        assert_eq!(
            edit_post(&w.db, &w.customer, first.id, " ")
                .await
                .unwrap_err(),
            invalid("body", BODY_EMPTY)
        );
        assert_eq!(counts(&w.db).await, (1, 1, 0));

        let unchanged = edit_post(&w.db, &w.customer, first.id, "first version")
            .await
            .unwrap();
        assert!(unchanged.edited_at.is_none(), "a no-op edit writes nothing");
        let edited = edit_post(&w.db, &w.customer, first.id, "second *version*")
            .await
            .unwrap();
        assert!(edited.edited_at.is_some());
        assert_eq!(edited.html, "<p>second <em>version</em></p>\n");
        let revisions = post_revision::Entity::find().all(&w.db).await.unwrap();
        assert_eq!(revisions.len(), 1);
        assert_eq!(
            (revisions[0].old_source.as_str(), revisions[0].editor_id),
            ("first version", w.customer.id)
        );
    }

    #[tokio::test]
    async fn topic_pages_hold_thirty_posts_each() {
        let w = World::new().await;
        // 65 posts in a moment: beyond the posting rate limit, which is not what this tests.
        crate::server::settings::put(&w.db, crate::server::settings::POSTS_PER_10_MIN.0, "0")
            .await
            .unwrap();
        let (t, _) = start_topic(&w.db, &w.customer, "questions", "Long one", "post 1", None)
            .await
            .unwrap();
        for i in 2..=65 {
            reply(
                &w.db,
                if i % 2 == 0 { &w.other } else { &w.customer },
                t.id,
                &format!("post {i}"),
                None,
            )
            .await
            .unwrap();
        }
        let p1 = topic_page(&w.db, t.id, 1, Some(&w.customer)).await.unwrap();
        assert_eq!(
            (p1.page_count, p1.posts.len(), p1.posts[0].number),
            (3, 30, 1)
        );
        assert_eq!(p1.summary, "post 1");
        assert!(p1.posts[0].editable && !p1.posts[1].editable);
        let p2 = topic_page(&w.db, t.id, 2, None).await.unwrap();
        assert_eq!(
            (
                p2.posts.first().unwrap().number,
                p2.posts.last().unwrap().number
            ),
            (31, 60)
        );
        assert_eq!(
            topic_page(&w.db, t.id, 3, None).await.unwrap().posts.len(),
            5
        );
        assert!(matches!(
            topic_page(&w.db, t.id, 4, None).await,
            Err(AppError::NotFound(_))
        ));

        let last = post::Entity::find()
            .filter(post::Column::PostNumber.eq(65))
            .one(&w.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            post_url(&w.db, &last).await.unwrap(),
            format!("/t/{}/long-one?page=3#post-65", t.id)
        );
    }

    #[tokio::test]
    async fn category_pages_list_by_latest_activity() {
        let w = World::new().await;
        let (older, _) = start_topic(&w.db, &w.customer, "questions", "Older", "a", None)
            .await
            .unwrap();
        start_topic(&w.db, &w.customer, "questions", "Newer", "b", None)
            .await
            .unwrap();
        reply(&w.db, &w.other, older.id, "bump", None)
            .await
            .unwrap();
        let page = category_page(&w.db, "questions", 1, None).await.unwrap();
        let titles: Vec<_> = page
            .topics
            .iter()
            .map(|t| (t.title.as_str(), t.reply_count))
            .collect();
        assert_eq!(titles, vec![("Older", 1), ("Newer", 0)]);
        assert!(matches!(
            category_page(&w.db, "nope", 1, None).await,
            Err(AppError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn mentions_link_members_and_quotes_name_the_author() {
        let w = World::new().await;
        let (_, first) = start_topic(
            &w.db,
            &w.customer,
            "questions",
            "Hi",
            "thanks @User2 and @ghost",
            None,
        )
        .await
        .unwrap();
        assert!(
            first.html.contains(r#"<a class="mention" href="/u/User2""#),
            "{}",
            first.html
        );
        assert!(first.html.contains("@ghost") && !first.html.contains("/u/ghost"));
        assert_eq!(
            quote(&w.db, first.id, None).await.unwrap(),
            "@user1 wrote:\n> thanks @User2 and @ghost\n\n"
        );
    }

    #[tokio::test]
    async fn member_pages_show_recent_activity() {
        let w = World::new().await;
        let (t, _) = start_topic(&w.db, &w.customer, "questions", "Mine", "my topic", None)
            .await
            .unwrap();
        reply(&w.db, &w.other, t.id, "a reply by bob", None)
            .await
            .unwrap();
        let bob = user_profile(&w.db, "USER2").await.unwrap();
        assert_eq!((bob.topic_count, bob.post_count), (0, 1));
        assert_eq!(bob.posts[0].excerpt, "a reply by bob");
        assert!(matches!(
            user_profile(&w.db, "nobody").await,
            Err(AppError::NotFound(_))
        ));
    }
}
