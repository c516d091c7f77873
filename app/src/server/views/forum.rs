//! The forum's pages as they read: categories, a category's topics, a topic's posts, a member's page, a post to edit, quote or flag. Reads only.
use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::server::records::categories::category_ref;
use crate::server::records::users::{Author, authors};
use crate::server::visibility::NOT_YOUR_POST;
use crate::server::visibility::POST_MISSING;
use crate::server::visibility::TOPIC_MISSING;
use crate::server::visibility::editable;
use crate::server::{
    content,
    entity::{category, post, topic, user, vote},
    visibility,
};
use crate::{
    error::AppError,
    model::{
        ActivityPost, CategoryPage, CategoryRef, CategorySummary, EditablePost, FlagTarget,
        IdeaSort, IdeaVotes, IdeasList, PAGE_SIZE, PostState, PostView, TopicListItem, TopicPage,
        UserProfile,
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

/// A post as its flag page shows it, to `viewer`: who wrote it, the start of its text, where it
/// is, and whether this member may flag it. A post the viewer may not read is "not found", as
/// for no post at all (before being asked to log in, so a visitor learns nothing either).
pub async fn flag_target(
    db: &DatabaseConnection,
    viewer: Option<&user::Model>,
    post_id: i64,
) -> Result<FlagTarget, AppError> {
    use crate::server::entity::flag;
    use crate::server::moderation::{
        FLAG_NOT_PUBLIC, FLAG_OWN_POST, FLAG_REMOVED_POST, FLAG_TWICE,
    };
    let (p, t) = visibility::post(db, post_id, viewer).await?;
    let Some(viewer) = viewer else {
        return Err(AppError::SignInRequired(FLAG_SIGNED_OUT.into()));
    };
    let state = p.state();
    let refusal = match state {
        PostState::Visible if p.author_id == viewer.id => Some(FLAG_OWN_POST),
        PostState::Visible => None,
        PostState::Deleted => Some(FLAG_REMOVED_POST),
        PostState::Pending | PostState::Hidden => Some(FLAG_NOT_PUBLIC),
    };
    let flagged_by_viewer = flag::Entity::find()
        .filter(flag::Column::PostId.eq(p.id))
        .filter(flag::Column::FlaggerId.eq(viewer.id))
        .filter(flag::Column::State.eq("open"))
        .count(db)
        .await?
        > 0;
    let author = user::Entity::find_by_id(p.author_id).one(db).await?;
    let url = crate::server::records::posts::url(db, &p).await?;
    Ok(FlagTarget {
        post_id: p.id,
        number: p.post_number,
        author_username: author
            .as_ref()
            .map(|a| a.username.clone())
            .unwrap_or_default(),
        author_display_name: author.map(|a| a.display_name).unwrap_or_default(),
        topic_title: t.title,
        url,
        // Only a public post's text: a hidden one's is for its author and moderators.
        excerpt: if state == PostState::Visible {
            content::excerpt(&p.html, 280)
        } else {
            String::new()
        },
        flagged_by_viewer,
        refusal: refusal
            .or(flagged_by_viewer.then_some(FLAG_TWICE))
            .map(String::from),
    })
}

pub const FLAG_SIGNED_OUT: &str = "Log in to flag a post for the moderators.";

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

pub(super) fn list_items(
    topics: Vec<topic::Model>,
    authors: &HashMap<i64, Author>,
    mut votes: HashMap<i64, IdeaVotes>,
) -> Vec<TopicListItem> {
    topics
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
                answered: t.official_answer_post_id.is_some(),
                resolution_confirmed: t.resolution_confirmed_at.is_some(),
                created_at: t.created_at,
                last_posted_at: t.last_posted_at,
            }
        })
        .collect()
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
        topics: list_items(topics, &authors, votes),
        page,
        page_count: pages,
        status: status.map(|s| s.as_str().to_string()),
        moved_to: None,
        watching: None,
        ideas,
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

/// A stored post as a page shows it, before deciding what a reader may see of it.
#[derive(Clone)]
struct PostRow {
    id: i64,
    number: i32,
    author_id: i64,
    html: String,
    created_at: DateTimeUtc,
    edited_at: Option<DateTimeUtc>,
    is_staff_reply: bool,
    staff_title: Option<String>,
    state: PostState,
    moderation_reason: Option<String>,
    moderator_edit_by: Option<i64>,
}

/// Page `page` of a topic's posts as stored, in every state, with their authors: the same for
/// every reader, so it can be read once and kept (`TopicData`); `for_reader` decides what each
/// reader sees of it.
#[derive(Clone)]
pub struct PostRows {
    page: u64,
    page_count: u64,
    rows: Vec<PostRow>,
    authors: HashMap<i64, Author>,
    topic_author: String,
}

impl PostRows {
    /// Not found past the last page.
    pub async fn load(
        db: &DatabaseConnection,
        t: &topic::Model,
        page: u64,
    ) -> Result<Self, AppError> {
        // Posts sit on pages by their number (so a post's address never moves), and numbers
        // count held, hidden and deleted posts too: the pages run to the last number, not the
        // visible count.
        let paged = crate::server::paging::page(
            page,
            t.last_post_number.clamp(0, i32::MAX) as u64,
            PAGE_SIZE,
        )?;
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
            .order_by_asc(post::Column::PostNumber)
            .into_tuple()
            .all(db)
            .await?;
        let authors = authors(db, rows.iter().map(|r| r.2).chain([t.author_id])).await?;
        let rows = rows
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
                    moderation_reason,
                    moderator_edit_by,
                )| PostRow {
                    id,
                    number,
                    author_id,
                    html,
                    created_at,
                    edited_at,
                    is_staff_reply,
                    staff_title,
                    state: PostState::parse(&state),
                    moderation_reason,
                    moderator_edit_by,
                },
            )
            .collect();
        Ok(PostRows {
            page,
            page_count: pages,
            rows,
            topic_author: authors
                .get(&t.author_id)
                .map(|a| a.username.clone())
                .unwrap_or_default(),
            authors,
        })
    }

    /// The ids of the posts on the page, in every state.
    fn ids(&self) -> Vec<i64> {
        self.rows.iter().map(|r| r.id).collect()
    }

    /// The page as `viewer` sees it (`flagged`: the posts they have an open flag on). Everyone
    /// sees a hidden post's place ("hidden by a moderator"); its author and moderators see its
    /// text and the reason; a post waiting for approval shows to its author and staff only;
    /// deleted ones to moderators only.
    pub fn for_reader(&self, viewer: Option<&user::Model>, flagged: &HashSet<i64>) -> PostsPage {
        let moderator = viewer.is_some_and(|u| u.role() >= crate::model::Role::Moderator);
        let viewer_is_staff = viewer.is_some_and(|u| u.role().is_staff());
        let viewer_id = viewer.map(|u| u.id);
        let shown = |r: &PostRow| match r.state {
            PostState::Visible | PostState::Hidden => true,
            PostState::Pending => moderator || viewer_is_staff || viewer_id == Some(r.author_id),
            PostState::Deleted => moderator,
        };
        let posts = self
            .rows
            .iter()
            .filter(|r| shown(r))
            .map(|r| {
                let author = self.authors.get(&r.author_id);
                // Staff read a held post to answer it once approved; a hidden one's text is
                // for its author and moderators.
                let insider = moderator
                    || viewer_id == Some(r.author_id)
                    || (r.state == PostState::Pending && viewer_is_staff);
                PostView {
                    id: r.id,
                    number: r.number,
                    author_username: author.map(|a| a.username.clone()).unwrap_or_default(),
                    author_display_name: author.map(|a| a.display_name.clone()).unwrap_or_default(),
                    author_avatar: author.and_then(|a| a.avatar),
                    // Others see only that a post was hidden, not what it said.
                    html: if r.state == PostState::Visible || insider {
                        r.html.clone()
                    } else {
                        String::new()
                    },
                    created_at: r.created_at,
                    edited_at: r.edited_at,
                    edited_by_moderator: r.moderator_edit_by.is_some(),
                    is_staff_reply: r.is_staff_reply,
                    staff_title: r.staff_title.clone(),
                    editable: viewer_id == Some(r.author_id),
                    moderation_reason: r.moderation_reason.clone().filter(|_| insider),
                    flagged_by_viewer: flagged.contains(&r.id),
                    state: r.state,
                }
            })
            .collect();
        PostsPage {
            posts,
            page: self.page,
            page_count: self.page_count,
            topic_author: self.topic_author.clone(),
        }
    }
}

/// Page `page` of `t`'s posts as `viewer` sees them; not found past the last page. An article's
/// comments read posts through this; the topic page through `TopicData`.
pub async fn posts_page(
    db: &DatabaseConnection,
    t: &topic::Model,
    page: u64,
    viewer: Option<&user::Model>,
) -> Result<PostsPage, AppError> {
    let rows = PostRows::load(db, t, page).await?;
    let marks = ReaderMarks::read(db, viewer, t.id, &rows.ids()).await?;
    Ok(rows.for_reader(viewer, &marks.flagged))
}

/// What one reader's own rows say about a topic page: the posts on it they have an open flag
/// on, their follow level for the topic, and the last post number they had read. One query,
/// since a member's page asks it on every view.
#[derive(Default)]
pub struct ReaderMarks {
    pub flagged: HashSet<i64>,
    pub follow: crate::server::notify::following::Level,
    pub last_read: Option<i32>,
}

impl ReaderMarks {
    pub async fn read(
        db: &DatabaseConnection,
        viewer: Option<&user::Model>,
        topic_id: i64,
        post_ids: &[i64],
    ) -> Result<Self, AppError> {
        use crate::server::db::{numbered, placeholders};
        use crate::server::notify::following::Level;
        use sea_orm::ConnectionTrait;
        let Some(viewer) = viewer else {
            return Ok(ReaderMarks::default());
        };
        let mut sql = String::from(
            "SELECT 'follow', CAST(NULL AS BIGINT), level FROM topic_follows
              WHERE user_id = $1 AND topic_id = $2
             UNION ALL
             SELECT 'read', CAST(last_read_post_number AS BIGINT), CAST(NULL AS TEXT)
               FROM topic_reads WHERE user_id = $1 AND topic_id = $2",
        );
        if !post_ids.is_empty() {
            sql.push_str(&format!(
                " UNION ALL
                 SELECT 'flag', post_id, CAST(NULL AS TEXT) FROM flags
                  WHERE flagger_id = $1 AND state = 'open' AND post_id IN ({})",
                placeholders(3, post_ids.len())
            ));
        }
        let mut values: Vec<sea_orm::Value> = vec![viewer.id.into(), topic_id.into()];
        values.extend(post_ids.iter().map(|&id| id.into()));
        let rows = db
            .query_all_raw(numbered(db.get_database_backend(), &sql, values))
            .await?;
        let mut marks = ReaderMarks::default();
        for row in rows {
            let kind: String = row.try_get_by_index(0)?;
            match kind.as_str() {
                "flag" => {
                    marks.flagged.insert(row.try_get_by_index(1)?);
                }
                "read" => {
                    let number: i64 = row.try_get_by_index(1)?;
                    marks.last_read = i32::try_from(number).ok();
                }
                _ => {
                    let level: String = row.try_get_by_index(2)?;
                    marks.follow = Level::parse_stored(&level);
                }
            }
        }
        Ok(marks)
    }
}

/// Who sees what of a topic page beyond their own posts: its staff-only history is for staff,
/// and the categories to move it to for moderators. `TopicData` is kept per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Readers {
    Everyone,
    Staff,
    Moderators,
}

impl Readers {
    pub fn of(viewer: Option<&user::Model>) -> Self {
        match viewer.map(|u| u.role()) {
            Some(role) if role >= crate::model::Role::Moderator => Readers::Moderators,
            Some(role) if role.is_staff() => Readers::Staff,
            _ => Readers::Everyone,
        }
    }
}

/// What a page of a topic shows that is the same for every reader of one kind (`Readers`): the
/// topic, its article and category, the page's posts in every state with their authors, the
/// official answer when it is on another page, the history. Kept per page version
/// (AppState::topic_pages), so a member's page asks the database only for the reader's own
/// rows; `page_for` decides, per reader, whether they may see it and what of it.
#[derive(Clone)]
pub struct TopicData {
    topic: topic::Model,
    article: Option<crate::server::entity::article::Model>,
    category: category::Model,
    /// An unlisted topic's opening post waits for approval (always false for a listed topic,
    /// whose opening post is public).
    opening_held: bool,
    /// Past the last page: the "no such page" error, told only to a reader who may see the
    /// topic.
    posts: Result<PostRows, AppError>,
    /// The official answer when it is public and on another page, with its author's id.
    official_elsewhere: Option<(i64, PostView)>,
    events: Vec<crate::model::TopicEventView>,
    move_targets: Vec<CategoryRef>,
    readers: Readers,
}

impl TopicData {
    pub async fn load(
        db: &DatabaseConnection,
        topic_id: i64,
        page: u64,
        readers: Readers,
    ) -> Result<Self, AppError> {
        let missing = || AppError::NotFound(TOPIC_MISSING.into());
        let t = topic::Entity::find_by_id(topic_id)
            .one(db)
            .await?
            .ok_or_else(missing)?;
        let article = visibility::article_of(db, t.id).await?;
        let c = category::Entity::find_by_id(t.category_id)
            .one(db)
            .await?
            .ok_or_else(missing)?;
        let opening_held = !t.visible && visibility::opening_held(db, t.id).await?;
        let posts = match PostRows::load(db, &t, page).await {
            Err(AppError::NotFound(message)) => Err(AppError::NotFound(message)),
            other => Ok(other?),
        };
        let official_elsewhere = match (t.official_answer_post_id, &posts) {
            (Some(id), Ok(p)) if p.rows.iter().any(|r| r.id == id) => None,
            (Some(id), _) => public_post_view(db, id).await?,
            (None, _) => None,
        };
        let events =
            crate::server::views::staff::events(db, t.id, readers != Readers::Everyone).await?;
        let move_targets = if readers == Readers::Moderators {
            postable_categories(db, true).await?
        } else {
            Vec::new()
        };
        Ok(TopicData {
            topic: t,
            article,
            category: c,
            opening_held,
            posts,
            official_elsewhere,
            events,
            move_targets,
            readers,
        })
    }

    /// The page as `viewer` sees it ("not found" when they may not see the topic), and the last
    /// post number they had read before it. `viewer` must be of the kind this was loaded for.
    pub async fn page_for(
        &self,
        db: &DatabaseConnection,
        viewer: Option<&user::Model>,
    ) -> Result<(TopicPage, Option<i32>), AppError> {
        debug_assert_eq!(Readers::of(viewer), self.readers);
        let t = &self.topic;
        if !visibility::can_see_loaded_topic(t, self.article.as_ref(), self.opening_held, viewer) {
            return Err(AppError::NotFound(TOPIC_MISSING.into()));
        }
        let rows = self.posts.as_ref().map_err(Clone::clone)?;
        let marks = ReaderMarks::read(db, viewer, t.id, &rows.ids()).await?;
        let p = rows.for_reader(viewer, &marks.flagged);
        let summary = match p.posts.first().filter(|post| post.number == 1) {
            Some(first) => content::excerpt(&first.html, 200),
            None => String::new(),
        };
        let viewer_id = viewer.map(|u| u.id);
        let official_answer = match t.official_answer_post_id {
            // Only while it is public: a hidden answer answers nobody.
            Some(id) => match p.posts.iter().find(|post| post.id == id) {
                Some(on_this_page) => {
                    Some(on_this_page.clone()).filter(|a| a.state == PostState::Visible)
                }
                None => self
                    .official_elsewhere
                    .clone()
                    .map(|(author_id, mut answer)| {
                        answer.editable = viewer_id == Some(author_id);
                        answer
                    }),
            },
            None => None,
        };
        let asks_viewer_to_confirm = viewer_id == Some(t.author_id)
            && crate::server::records::topics::waits_for_confirmation(t);
        let votes = crate::server::views::votes::idea_votes(
            db,
            &self.category,
            std::slice::from_ref(t),
            viewer,
        )
        .await?
        .remove(&t.id);
        let c = &self.category;
        let page = TopicPage {
            votes,
            id: t.id,
            slug: t.slug.clone(),
            title: t.title.clone(),
            category: category_ref(c),
            category_archived: c.archived,
            author_username: p.topic_author,
            status: t.status.clone(),
            locked: t.locked,
            created_at: t.created_at,
            post_count: t.post_count,
            pinned: t.pinned,
            posts: p.posts,
            page: p.page,
            page_count: p.page_count,
            summary,
            article_path: self
                .article
                .as_ref()
                .map(crate::server::records::articles::url_of),
            official_answer,
            staff_reply_minutes: t
                .first_staff_reply_at
                .map(|at| (at - t.created_at).num_minutes()),
            awaiting_staff_since: t.awaiting_staff_since,
            held: self.opening_held,
            resolution_confirmed_at: t.resolution_confirmed_at,
            events: self.events.clone(),
            viewer_is_staff: self.readers != Readers::Everyone,
            viewer_is_moderator: self.readers == Readers::Moderators,
            move_targets: self.move_targets.clone(),
            asks_viewer_to_confirm,
            follow_level: viewer.map(|_| marks.follow.as_str().to_string()),
            structured_data: None,
        };
        Ok((page, marks.last_read))
    }
}

/// One page of a topic as `viewer` sees it: 30 posts in order, by post number. An article's
/// comment topic is shown on the article's page: this says where (`article_path`), or "not
/// found" when the viewer may not see the article. Read afresh; the topic page keeps the shared
/// part (`TopicData`).
pub async fn topic_page(
    db: &DatabaseConnection,
    topic_id: i64,
    page: u64,
    viewer: Option<&user::Model>,
) -> Result<TopicPage, AppError> {
    let data = TopicData::load(db, topic_id, page, Readers::of(viewer)).await?;
    Ok(data.page_for(db, viewer).await?.0)
}

/// A public post as a stranger sees it, with its author's id (the official answer, when it is
/// on another page).
async fn public_post_view(
    db: &DatabaseConnection,
    post_id: i64,
) -> Result<Option<(i64, PostView)>, AppError> {
    let Some(p) = post::Entity::find_by_id(post_id)
        .one(db)
        .await?
        .filter(|p| p.state() == PostState::Visible)
    else {
        return Ok(None);
    };
    let names = authors(db, [p.author_id]).await?;
    let author = names.get(&p.author_id);
    Ok(Some((
        p.author_id,
        PostView {
            id: p.id,
            number: p.post_number,
            author_username: author.map(|a| a.username.clone()).unwrap_or_default(),
            author_display_name: author.map(|a| a.display_name.clone()).unwrap_or_default(),
            author_avatar: author.and_then(|a| a.avatar),
            html: p.html,
            created_at: p.created_at,
            edited_at: p.edited_at,
            edited_by_moderator: p.moderator_edit_by.is_some(),
            is_staff_reply: p.is_staff_reply,
            staff_title: p.staff_title,
            editable: false,
            state: PostState::Visible,
            moderation_reason: None,
            flagged_by_viewer: false,
        },
    )))
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
        topics: list_items(topics, &authors, HashMap::new()),
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
