//! The forum's pages as they read: categories, a category's topics, a member's page, a post to edit or quote (a topic's page: views::topic). Reads only.
use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::server::records::categories::category_ref;
use crate::server::records::users::{Author, authors};
use crate::server::visibility::NOT_YOUR_POST;
use crate::server::visibility::POST_MISSING;
use crate::server::visibility::editable;
use crate::server::{
    entity::{category, post, topic, user, vote},
    html_text, visibility,
};
use crate::{
    error::AppError,
    model::{
        ActivityPost, CategoryPage, CategoryRef, CategorySummary, EditablePost, IdeaSort,
        IdeaVotes, IdeasList, PAGE_SIZE, PostState, TopicListItem, UserProfile,
    },
};

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
        crate::server::records::users::check_may_act_on_author(db, editor, p.author_id).await?;
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
    // A post with censored words in it is quoted as the text it shows, masks and all: its
    // source holds the words (in Markdown the masks could not follow, "da**rn**"), and masking
    // the source would change where its links lead.
    let watched = crate::server::posting::watched_list(db).await?;
    let censored = p.html.contains('■')
        || !crate::server::watched_words::assess(&p.source, &watched)
            .1
            .is_empty();
    let text = if censored {
        let shown = crate::server::html_text::shown_text(&p.html);
        let lines = shown
            .text
            .replace(crate::server::html_text::BLOCK_EDGE, "\n");
        let lines: Vec<&str> = lines.lines().map(str::trim).collect();
        // One blank line between blocks at most.
        lines
            .iter()
            .enumerate()
            .filter(|(i, l)| !l.is_empty() || (*i > 0 && !lines[i - 1].is_empty()))
            .map(|(_, l)| *l)
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
            .to_string()
    } else {
        p.source.clone()
    };
    let quoted: String = text.lines().map(|l| format!("> {l}\n")).collect();
    Ok(format!("@{name} wrote:\n{quoted}\n"))
}

/// Topics as lists show them. "Answered" only while the official answer is public, as the topic
/// page shows it: a hidden or deleted answer answers nobody (and is back if it is restored).
pub(super) async fn list_items(
    db: &DatabaseConnection,
    topics: Vec<topic::Model>,
    authors: &HashMap<i64, Author>,
    mut votes: HashMap<i64, IdeaVotes>,
) -> Result<Vec<TopicListItem>, AppError> {
    let answer_ids: Vec<i64> = topics
        .iter()
        .filter_map(|t| t.official_answer_post_id)
        .collect();
    let public_answers: HashSet<i64> = if answer_ids.is_empty() {
        HashSet::new()
    } else {
        post::Entity::find()
            .select_only()
            .column(post::Column::Id)
            .filter(post::Column::Id.is_in(answer_ids))
            .filter(post::Column::State.eq(PostState::Visible.as_str()))
            .into_tuple::<i64>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    Ok(topics
        .into_iter()
        .map(|t| {
            let author = authors.get(&t.author_id);
            TopicListItem {
                votes: votes.remove(&t.id),
                author: author.map(|u| u.username.clone()).unwrap_or_default(),
                author_display_name: author.map(|u| u.display_name.clone()).unwrap_or_default(),
                author_avatar: author.and_then(|u| u.avatar),
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
                answered: t
                    .official_answer_post_id
                    .is_some_and(|a| public_answers.contains(&a)),
                resolution_confirmed: t.resolution_confirmed_at.is_some(),
                created_at: t.created_at,
                last_posted_at: t.last_posted_at,
            }
        })
        .collect())
}

/// The forum categories in the admins' order, with their counters, in one query (the home page
/// lists its latest topics beside them, so it needs no latest title per category).
pub async fn category_summaries(db: &DatabaseConnection) -> Result<Vec<CategorySummary>, AppError> {
    Ok(category::Entity::find()
        .filter(category::Column::Kind.ne("blog_comments"))
        .order_by_asc(category::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|c| CategorySummary {
            id: c.id,
            slug: c.slug,
            name: c.name,
            description: c.description,
            colour: c.colour,
            topic_count: c.topic_count,
            post_count: c.post_count,
            last_posted_at: c.last_posted_at,
            latest_topic_title: None,
        })
        .collect())
}

/// The category list with each one's latest topic.
pub async fn list_categories(db: &DatabaseConnection) -> Result<Vec<CategorySummary>, AppError> {
    let mut out = category_summaries(db).await?;
    for c in &mut out {
        let latest = topic::Entity::find()
            .filter(topic::Column::CategoryId.eq(c.id))
            .filter(topic::Column::Visible.eq(true))
            .order_by_desc(topic::Column::LastPostedAt)
            .one(db)
            .await?;
        c.latest_topic_title = latest.map(|t| t.title);
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

/// A category's topics, most recent activity first (pinned ones on top), 30 a page, as a
/// visitor sees them.
pub async fn category_page(
    db: &DatabaseConnection,
    slug: &str,
    page: u64,
    status: Option<&str>,
) -> Result<CategoryPage, AppError> {
    category_page_for(db, slug, page, status, ListChoice::default(), None).await
}

pub const SORT_UNKNOWN: &str = "Sort ideas by most votes, trending, newest or recently active.";

/// How a category's list is asked for, beyond its page and status: an ideas category's sort
/// (`votes`, `trending`, `newest`, `active`; empty: most votes) and "only the ideas I voted
/// for". A forum category ignores both.
#[derive(Clone, Debug, Default)]
pub struct ListChoice {
    pub sort: Option<String>,
    pub mine: bool,
}

/// How far back "trending" counts votes.
const TRENDING_DAYS: i64 = 7;

/// A category's topics as `viewer` sees them. A forum category lists the latest activity
/// first (pinned ones on top); an ideas category its chosen sort, each idea with its votes.
/// One query for the list, one for its authors and one for the viewer's votes, whatever the
/// page's length.
pub async fn category_page_for(
    db: &DatabaseConnection,
    slug: &str,
    page: u64,
    status: Option<&str>,
    choice: ListChoice,
    viewer: Option<&user::Model>,
) -> Result<CategoryPage, AppError> {
    let Some(c) = category::Entity::find()
        .filter(category::Column::Slug.eq(slug))
        .filter(category::Column::Kind.ne("blog_comments"))
        .one(db)
        .await?
    else {
        // A renamed category's old address leads to the new one.
        return match crate::server::records::categories::renamed_to(db, slug).await? {
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
                watching: None,
                ideas: None,
                archived: false,
            }),
            None => Err(AppError::NotFound("There is no such category.".into())),
        };
    };
    let status = match status.filter(|s| !s.is_empty()) {
        Some(s) => Some(crate::model::TopicStatus::parse(s).ok_or_else(|| {
            AppError::invalid("status", crate::server::records::topics::STATUS_UNKNOWN)
        })?),
        None => None,
    };
    let ideas = crate::server::records::votes::is_ideas(&c).then(|| -> Result<_, AppError> {
        let sort = match choice.sort.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => IdeaSort::parse(s).ok_or_else(|| AppError::invalid("sort", SORT_UNKNOWN))?,
            None => IdeaSort::Votes,
        };
        Ok(IdeasList {
            sort,
            // "My votes" is a signed-in member's filter; a visitor's link shows every idea.
            mine: choice.mine && viewer.is_some(),
            signed_in: viewer.is_some(),
        })
    });
    let ideas = ideas.transpose()?;
    let mut listed = topic::Entity::find()
        .filter(topic::Column::CategoryId.eq(c.id))
        .filter(topic::Column::Visible.eq(true));
    if let Some(s) = status {
        listed = listed.filter(topic::Column::Status.eq(s.as_str()));
    }
    if let (Some(IdeasList { mine: true, .. }), Some(v)) = (&ideas, viewer) {
        listed = listed.filter(
            topic::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(vote::Column::TopicId)
                    .from(vote::Entity)
                    .and_where(vote::Column::UserId.eq(v.id))
                    .and_where(vote::Column::State.ne(crate::server::records::votes::MERGED))
                    .to_owned(),
            ),
        );
    }
    let filtered = status.is_some() || ideas.as_ref().is_some_and(|i| i.mine);
    let total = if filtered {
        listed.clone().count(db).await?
    } else {
        // The stored counter saves a count on every unfiltered page.
        c.topic_count.clamp(0, i32::MAX) as u64
    };
    let paged = crate::server::paging::page(page, total, PAGE_SIZE)?;
    let (page, pages) = (paged.number, paged.count);
    let listed = match ideas.as_ref().map(|i| i.sort) {
        None | Some(IdeaSort::Active) => listed
            .order_by_desc(topic::Column::Pinned)
            .order_by_desc(topic::Column::LastPostedAt),
        // Ranked by votes alone: a pinned idea does not outrank more popular ones.
        Some(IdeaSort::Votes) => listed.order_by_desc(topic::Column::VoteCount),
        Some(IdeaSort::Trending) => {
            let since = Utc::now() - chrono::Duration::days(TRENDING_DAYS);
            // Each idea's counted votes of the week, read from the votes' (topic, state, time)
            // index: a short range per idea.
            // The value's placeholder as each engine writes it: sea-query passes a custom
            // expression's text through as it is.
            let placeholder = match db.get_database_backend() {
                sea_orm::DbBackend::Postgres => "$1",
                _ => "?",
            };
            listed
                .order_by(
                    sea_orm::sea_query::Expr::cust_with_values(
                        format!(
                            "(SELECT COUNT(*) FROM votes tv WHERE tv.topic_id = topics.id \
                             AND tv.state = 'counted' AND tv.created_at >= {placeholder})"
                        ),
                        [since],
                    ),
                    sea_orm::Order::Desc,
                )
                .order_by_desc(topic::Column::VoteCount)
        }
        Some(IdeaSort::Newest) => listed.order_by_desc(topic::Column::CreatedAt),
    };
    let topics = listed
        .order_by_desc(topic::Column::Id)
        .offset(paged.offset())
        .limit(PAGE_SIZE)
        .all(db)
        .await?;
    let authors = authors(db, topics.iter().map(|t| t.author_id)).await?;
    let votes = crate::server::views::votes::idea_votes(db, &c, &topics, viewer).await?;
    Ok(CategoryPage {
        category: category_ref(&c),
        archived: c.archived,
        description: c.description,
        topics: list_items(db, topics, &authors, votes).await?,
        page,
        page_count: pages,
        status: status.map(|s| s.as_str().to_string()),
        moved_to: None,
        watching: None,
        ideas,
    })
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
    // For staff: the answers they gave, as the public sees them (visible staff replies, and
    // those of them that are a topic's official answer).
    let staff_answers = if u.role().is_staff() {
        let staff_replies = || {
            post::Entity::find()
                .filter(post::Column::AuthorId.eq(u.id))
                .filter(post::Column::IsStaffReply.eq(true))
                .filter(visibility::public_posts(now))
        };
        let replies = staff_replies().count(db).await?;
        let official = staff_replies()
            .filter(
                post::Column::Id.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(topic::Column::OfficialAnswerPostId)
                        .from(topic::Entity)
                        .and_where(topic::Column::OfficialAnswerPostId.is_not_null())
                        .to_owned(),
                ),
            )
            .count(db)
            .await?;
        Some(crate::model::StaffAnswers { replies, official })
    } else {
        None
    };
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
        Author {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            avatar: u.avatar_upload_id,
        },
    )]);
    Ok(UserProfile {
        id: u.id,
        suspended: u.suspended_until.is_some_and(|until| until > Utc::now()),
        viewer_is_moderator: false,
        uploads_used: None,
        deleted: crate::server::records::users::is_deleted(&u),
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        avatar_upload_id: u.avatar_upload_id,
        role: u.role(),
        staff_title: u.staff_title.clone(),
        bio_html: u.bio_html.clone(),
        staff_answers,
        joined_at: u.created_at,
        topic_count,
        post_count,
        topics: list_items(db, topics, &authors, HashMap::new()).await?,
        posts: posts
            .into_iter()
            .filter_map(|p| {
                let t = titles.get(&p.topic_id)?;
                Some(ActivityPost {
                    topic_id: t.id,
                    topic_slug: t.slug.clone(),
                    topic_title: t.title.clone(),
                    number: p.post_number,
                    excerpt: html_text::excerpt(&p.html, 160),
                    created_at: p.created_at,
                })
            })
            .collect(),
    })
}
