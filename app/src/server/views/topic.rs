//! A topic's page as it reads: its posts, 30 a page, as each reader may see them. What is the
//! same for every reader of one kind (`TopicData`) is read once per page version and kept
//! (`TopicPages`, held by AppState); per request only the reader's own rows are read
//! (`ReaderMarks`). An article's comments read their posts here too (`posts_page`). Reads only.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sea_orm::prelude::DateTimeUtc;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::forum::postable_categories;
use crate::server::memo::MemoMap;
use crate::server::records::categories::category_ref;
use crate::server::records::users::{Author, authors};
use crate::server::state::AppState;
use crate::server::visibility::TOPIC_MISSING;
use crate::server::{
    entity::{category, post, topic, user},
    html_text, visibility,
};
use crate::{
    error::AppError,
    model::{CategoryRef, PAGE_SIZE, PostState, PostView, TopicPage},
};

/// Kept topic page data, by topic, page and kind of reader.
pub type TopicPages = MemoMap<(i64, u64, Readers), Arc<TopicData>>;

/// How much topic page data is kept, by `TopicData::bytes`: pages of posts of a few hundred
/// bytes to a few KB each, so hundreds of pages; a page of 30 posts of 50,000 characters
/// (a quarter of a MB each, as HTML) is read afresh every time instead.
pub const TOPIC_PAGES_BYTES: usize = 16 * 1024 * 1024;

/// An empty set of kept topic pages.
pub fn topic_pages() -> TopicPages {
    TopicPages::new(TOPIC_PAGES_BYTES, |data| data.bytes())
}

/// The kept pages AppState holds for views (the platform knows nothing of views, so it holds
/// them untyped; server::app_state puts a `TopicPages` there).
pub fn kept_pages(state: &AppState) -> Result<&TopicPages, AppError> {
    state.topic_pages.downcast_ref().ok_or_else(|| {
        tracing::error!("AppState::topic_pages holds no TopicPages");
        AppError::Internal
    })
}

/// Page `page` of topic `topic_id` as `viewer` sees it, from `kept` when current, and the last
/// post number they had read before it.
pub async fn kept_topic_page(
    db: &DatabaseConnection,
    kept: &TopicPages,
    topic_id: i64,
    page: u64,
    viewer: Option<&user::Model>,
) -> Result<(TopicPage, Option<i32>), AppError> {
    let readers = Readers::of(viewer);
    let data = kept
        .get_or_load(db, (topic_id, page, readers), || async {
            Ok(Arc::new(
                TopicData::load(db, topic_id, page, readers).await?,
            ))
        })
        .await?;
    data.page_for(db, viewer).await
}

/// One page of a topic's visible posts, 30 to a page, in order.
pub struct PostsPage {
    pub posts: Vec<PostView>,
    pub page: u64,
    pub page_count: u64,
    /// The topic author's username (read with the posts' authors, in the same query).
    pub topic_author: String,
}

/// A stored post as a page shows it, before deciding what a reader may see of it: the columns
/// it reads, by name (not the Markdown source, which can double the bytes read).
#[derive(Clone, sea_orm::FromQueryResult)]
struct PostRow {
    id: i64,
    post_number: i32,
    author_id: i64,
    html: String,
    created_at: DateTimeUtc,
    edited_at: Option<DateTimeUtc>,
    is_staff_reply: bool,
    staff_title: Option<String>,
    state: String,
    moderation_reason: Option<String>,
    moderator_edit_by: Option<i64>,
}

impl PostRow {
    fn state(&self) -> PostState {
        PostState::parse(&self.state)
    }
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
        let rows: Vec<PostRow> = post::Entity::find()
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
            .into_model()
            .all(db)
            .await?;
        let authors = authors(db, rows.iter().map(|r| r.author_id).chain([t.author_id])).await?;
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
        let shown = |r: &PostRow| match r.state() {
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
                let state = r.state();
                // Staff read a held post to answer it once approved; a hidden one's text is
                // for its author and moderators.
                let insider = moderator
                    || viewer_id == Some(r.author_id)
                    || (state == PostState::Pending && viewer_is_staff);
                PostView {
                    id: r.id,
                    number: r.post_number,
                    author_username: author.map(|a| a.username.clone()).unwrap_or_default(),
                    author_display_name: author.map(|a| a.display_name.clone()).unwrap_or_default(),
                    author_avatar: author.and_then(|a| a.avatar),
                    // Others see only that a post was hidden, not what it said.
                    html: if state == PostState::Visible || insider {
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
                    state,
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
/// (`TopicPages`), so a member's page asks the database only for the reader's own
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
    /// About how much memory it holds: the posts' HTML and a little for the rest.
    fn bytes(&self) -> usize {
        let posts = self.posts.as_ref().map_or(0, |p| {
            p.rows.iter().map(|r| r.html.len() + 256).sum::<usize>()
        });
        let answer = self
            .official_elsewhere
            .as_ref()
            .map_or(0, |(_, a)| a.html.len());
        1024 + posts + answer
    }

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
            Some(first) => html_text::excerpt(&first.html, 200),
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
        // Not where the answer is refused (an archived category).
        let asks_viewer_to_confirm = !self.category.archived
            && viewer.is_some_and(|v| {
                v.id == t.author_id
                    && crate::server::records::topics::asks_author_to_confirm(t, v.role())
            });
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
