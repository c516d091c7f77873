//! The types that cross the wire to the browser. Never a database entity: only what a page may
//! show. (No e-mail addresses or password hashes here.)
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a member may do. Ordered: each role can do everything the ones before it can.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Staff,
    Moderator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Customer, Role::Staff, Role::Moderator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Staff => "staff",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Customer => "Member",
            Role::Staff => "Staff",
            Role::Moderator => "Moderator",
            Role::Admin => "Admin",
        }
    }

    /// Staff, moderators and admins speak for the company: their posts carry the staff badge.
    pub fn is_staff(self) -> bool {
        self >= Role::Staff
    }
}

/// The signed-in member, as the page header and permission-aware views need them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub staff_title: Option<String>,
    /// Their avatar (an upload); None: initials are drawn.
    pub avatar_upload_id: Option<i64>,
    /// For the header: unread notifications, and for moderators the open review items.
    pub unread_notifications: u64,
    pub open_review_items: u64,
    /// "Your time zone" (an IANA name): pages write exact times in it, the digest goes at 07:00
    /// in it. None: automatic, the browser's zone with JavaScript (public/forms.js), else the
    /// site's. Carried here because every page loads this once: no time costs a query.
    pub time_zone: Option<String>,
}

/// A forum category as listed on the home page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategorySummary {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub colour: String,
    pub topic_count: i32,
    pub post_count: i32,
    pub last_posted_at: Option<DateTime<Utc>>,
    pub latest_topic_title: Option<String>,
}

/// Topics, posts and listings are shown 30 to a page.
pub const PAGE_SIZE: u64 = 30;

/// Where a link to a category points and how it is labelled.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CategoryRef {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub colour: String,
}

/// A topic as a row in a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicListItem {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// The author's username.
    pub author: String,
    pub author_display_name: String,
    pub author_avatar: Option<i64>,
    pub reply_count: i32,
    pub status: String,
    pub pinned: bool,
    pub locked: bool,
    pub created_at: DateTime<Utc>,
    pub last_posted_at: DateTime<Utc>,
    /// Minutes from the topic's start to the first staff reply.
    pub staff_reply_minutes: Option<i64>,
    /// Set while it waits for staff.
    pub awaiting_staff_since: Option<DateTime<Utc>>,
    /// Staff marked an official answer.
    pub answered: bool,
    pub resolution_confirmed: bool,
    /// Its votes, when it is an idea.
    pub votes: Option<IdeaVotes>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryPage {
    pub category: CategoryRef,
    pub description: String,
    pub topics: Vec<TopicListItem>,
    pub page: u64,
    pub page_count: u64,
    /// The status filter, when one is chosen.
    pub status: Option<String>,
    /// The category was renamed: its address now (the page answers with a redirect).
    pub moved_to: Option<String>,
    /// Whether the signed-in viewer watches it for new topics; None for visitors.
    pub watching: Option<bool>,
    /// Set for a category of ideas: its sort and filter.
    pub ideas: Option<IdeasList>,
    /// Read-only: no "New topic", and its topics take no replies.
    pub archived: bool,
}

/// One post as the topic page shows it. `html` is the stored, already-clean HTML.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PostView {
    pub id: i64,
    pub number: i32,
    pub author_username: String,
    pub author_display_name: String,
    /// The author's avatar (an upload); None: their initials are drawn.
    pub author_avatar: Option<i64>,
    pub html: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    /// A moderator (or admin) edited it, though it was not theirs: the post says so, so their
    /// words never stand as the author's alone.
    pub edited_by_moderator: bool,
    pub is_staff_reply: bool,
    pub staff_title: Option<String>,
    /// The viewer wrote it, so the page offers "Edit".
    pub editable: bool,
    pub state: PostState,
    /// Why it is hidden or held; only for its author and moderators.
    pub moderation_reason: Option<String>,
    /// The viewer has an open flag on it.
    pub flagged_by_viewer: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TopicPage {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub category: CategoryRef,
    /// Its category is archived: read-only, no reply box.
    pub category_archived: bool,
    pub author_username: String,
    pub status: String,
    pub locked: bool,
    pub created_at: DateTime<Utc>,
    pub post_count: i32,
    pub pinned: bool,
    pub posts: Vec<PostView>,
    pub page: u64,
    pub page_count: u64,
    /// Plain text from the first post, for the meta description.
    pub summary: String,
    /// Set when this is an article's comment topic: the article's address, where it is shown.
    pub article_path: Option<String>,
    /// The post staff marked as the official answer, shown under the first post.
    pub official_answer: Option<PostView>,
    pub staff_reply_minutes: Option<i64>,
    pub awaiting_staff_since: Option<DateTime<Utc>>,
    /// Its opening post waits for a moderator's approval: not public yet.
    pub held: bool,
    pub resolution_confirmed_at: Option<DateTime<Utc>>,
    /// Staff actions and confirmations, oldest first (staff-only ones for staff viewers only).
    pub events: Vec<TopicEventView>,
    pub viewer_is_staff: bool,
    pub viewer_is_moderator: bool,
    /// Forum categories a moderator may move the topic to.
    pub move_targets: Vec<CategoryRef>,
    /// The viewer started this topic, staff marked it resolved, and it waits for their answer.
    pub asks_viewer_to_confirm: bool,
    /// The signed-in viewer's level for this topic ("following", "normal" or "muted"); None
    /// for visitors.
    pub follow_level: Option<String>,
    /// JSON-LD for search engines (server::views::structured_data), when the page has any.
    pub structured_data: Option<String>,
    /// Its votes, when it is an idea.
    pub votes: Option<IdeaVotes>,
}

impl TopicPage {
    pub fn url(&self) -> String {
        topic_url(self.id, &self.slug, self.page)
    }
}

/// `/t/{id}/{slug}`, with `?page=N` past the first page.
pub fn topic_url(id: i64, slug: &str, page: u64) -> String {
    if page > 1 {
        format!("/t/{id}/{slug}?page={page}")
    } else {
        format!("/t/{id}/{slug}")
    }
}

/// Where post number `number` of a topic is: the right page, anchored at the post.
pub fn post_url(topic_id: i64, slug: &str, number: i32) -> String {
    let page = (number.max(1) as u64 - 1) / PAGE_SIZE + 1;
    format!("{}#post-{number}", topic_url(topic_id, slug, page))
}

/// A post in a member's recent activity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityPost {
    pub topic_id: i64,
    pub topic_slug: String,
    pub topic_title: String,
    pub number: i32,
    pub excerpt: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProfile {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub avatar_upload_id: Option<i64>,
    pub role: Role,
    pub staff_title: Option<String>,
    /// The member's bio as the content pipeline made it (empty: none).
    pub bio_html: String,
    /// For staff: the answers they gave.
    pub staff_answers: Option<StaffAnswers>,
    pub joined_at: DateTime<Utc>,
    pub topic_count: u64,
    pub post_count: u64,
    pub topics: Vec<TopicListItem>,
    pub posts: Vec<ActivityPost>,
    /// For moderators: whether the member is suspended now, and that the viewer moderates.
    pub suspended: bool,
    pub viewer_is_moderator: bool,
    /// For admins only: the files the member has uploaded and still has.
    pub uploads_used: Option<UploadsUsed>,
    /// The account was deleted: the page says so and offers nothing to do.
    #[serde(default)]
    pub deleted: bool,
}

/// The profile section of /account as stored: the display name and the bio as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileForm {
    pub display_name: String,
    pub bio: String,
}

/// A staff member's answers as the public sees them: visible staff replies, and how many of
/// them are a topic's official answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffAnswers {
    pub replies: u64,
    pub official: u64,
}

/// What a member's uploads take: how many files, and their size as people read it ("12 MB").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadsUsed {
    pub files: u64,
    pub size: String,
}

/// What /account says after the avatar form (`?avatar=CODE`). Only known codes have a
/// message: the URL is not a place for free text.
pub fn avatar_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "saved" => "Your new avatar is saved. It shows beside your posts from now on.",
        "removed" => "Your avatar is removed. Your initials show in its place.",
        _ => return None,
    })
}

/// Text a member was writing and has not posted yet, kept in their session across a log-in, a
/// no-JavaScript preview or a refused post.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Draft {
    pub title: String,
    pub body: String,
    pub category: String,
    /// Set when the draft came back from the "Preview" button.
    pub preview_html: Option<String>,
}

/// What the composer needs to start: the draft to restore and a fresh one-shot token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComposerStart {
    pub draft: Draft,
    pub form_token: String,
}

/// A post's source for the edit form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditablePost {
    pub id: i64,
    /// A moderator is editing someone else's post (the form asks for a reason).
    pub moderating: bool,
    pub topic_id: i64,
    pub topic_slug: String,
    pub topic_title: String,
    pub number: i32,
    pub source: String,
}

/// A post as the flag page (/p/{id}/flag) shows it: which post, and whether this member may
/// flag it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagTarget {
    pub post_id: i64,
    pub number: i32,
    pub author_username: String,
    pub author_display_name: String,
    pub topic_title: String,
    /// The post's address: its topic (or article) at the right page, anchored at it.
    pub url: String,
    /// The start of its text, plain; empty for a post that is not public.
    pub excerpt: String,
    /// The member has an open flag on it already.
    pub flagged_by_viewer: bool,
    /// Why this member can't flag it (their own post, or not public), when they can't.
    pub refusal: Option<String>,
}

/// Site-wide facts pages need: the public address (canonical URLs), the site's name, and the
/// version of the category colours' stylesheet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SiteInfo {
    pub name: String,
    pub tagline: String,
    pub public_url: String,
    /// The theme stylesheet's version (server::theme): accent colour and category colours.
    pub theme_version: String,
    /// The light accent, for the browser's own chrome (`theme-color`).
    pub theme_colour: String,
    /// Where the brand's images are shown from (an upload, or the image proxy), when set.
    pub logo_light: Option<String>,
    pub logo_dark: Option<String>,
    pub favicon: Option<String>,
    /// The admin switched search engine indexing off: every page says `noindex`.
    pub noindex: bool,
    /// The roadmap is public (admins can turn it off): the footer links it.
    pub roadmap: bool,
    /// The accountability page is public (admins can turn it off): the footer links it.
    pub accountability: bool,
    /// The site's time zone (an IANA name): exact times for visitors and members on
    /// "automatic" when the server writes them (the browser rewrites them with JavaScript).
    pub time_zone: String,
}

/// Where an article stands. Scheduled articles go public at their time without anyone acting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArticleState {
    Draft,
    Scheduled,
    Published,
}

impl ArticleState {
    pub fn label(self) -> &'static str {
        match self {
            ArticleState::Draft => "Draft",
            ArticleState::Scheduled => "Scheduled",
            ArticleState::Published => "Published",
        }
    }
}

/// Articles are listed 10 to a page.
pub const ARTICLES_PER_PAGE: u64 = 10;

/// `/blog/{slug}`, with `?page=N` (of comments) past the first page.
pub fn article_url(slug: &str, page: u64) -> String {
    if page > 1 {
        format!("/blog/{slug}?page={page}")
    } else {
        format!("/blog/{slug}")
    }
}

/// An article as a list shows it (and the head of its own page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleSummary {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// The author's summary, or the start of the text when they gave none.
    pub summary: String,
    pub cover_image_url: Option<String>,
    pub tags: Vec<String>,
    pub author_username: String,
    pub author_display_name: String,
    pub author_staff_title: Option<String>,
    pub state: ArticleState,
    /// When it went public, or will (scheduled); None for drafts.
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub comment_count: i32,
}

/// /blog: published articles, newest first; plus, for staff, the drafts and scheduled articles
/// they may see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlogIndex {
    pub articles: Vec<ArticleSummary>,
    pub page: u64,
    pub page_count: u64,
    pub tag: Option<String>,
    pub unpublished: Vec<ArticleSummary>,
    pub can_write: bool,
}

/// /blog/{slug}: the article, a page of its comments, and the comment box.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticlePage {
    pub article: ArticleSummary,
    /// The stored, already-clean HTML of the text.
    pub html: String,
    pub topic_id: i64,
    pub comments_open: bool,
    pub can_edit: bool,
    pub comments: Vec<PostView>,
    pub page: u64,
    pub page_count: u64,
    /// The comment box's start; None while the article is not public.
    pub composer: Option<ComposerStart>,
    /// JSON-LD for search engines (server::views::structured_data), when the page has any.
    pub structured_data: Option<String>,
}

/// The article editor's fields, as stored or as last typed (kept in the session across a
/// no-JavaScript preview or a refused save).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleDraft {
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub body: String,
    pub cover_image_url: String,
    /// Comma-separated.
    pub tags: String,
    pub comments_open: bool,
    /// draft | now | schedule
    pub publish: String,
    /// `YYYY-MM-DDTHH:MM`, as a datetime-local field holds it, in UTC.
    pub publish_at: String,
    pub preview_html: Option<String>,
}

/// What the editor starts with: 0 for a new article, the fields, and a one-shot token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleEditorStart {
    pub article_id: i64,
    /// The address the article has now (empty for a new one).
    pub current_slug: String,
    pub state: Option<ArticleState>,
    pub draft: ArticleDraft,
    pub form_token: String,
}

/// What the article page says after a save (`?saved=CODE`). Only known codes have a message:
/// the URL is not a place for free text.
pub fn saved_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "draft" => {
            "Draft saved. This is its real address; only you and admins can see it until it is published."
        }
        "published" => "Published. The article is on the blog and in the feed.",
        "scheduled" => {
            "Scheduled. Only you and admins can see it until its time; then it publishes by itself."
        }
        "published-now" => "The time you chose has passed, so the article was published now.",
        "updated" => "Saved.",
        _ => return None,
    })
}

/// Where a post stands. The only place its states are named, with the moves between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PostState {
    /// Public.
    Visible,
    /// Held for a moderator's approval (a watched word, or a new member's first posts).
    Pending,
    /// Taken out of view by a moderator or by members' flags; its place shows "hidden".
    Hidden,
    /// Removed; only moderators see it, and may restore it.
    Deleted,
}

impl PostState {
    pub const ALL: [PostState; 4] = [
        PostState::Visible,
        PostState::Pending,
        PostState::Hidden,
        PostState::Deleted,
    ];

    /// Every change of state a post may make (staying as it is is always allowed). A held post
    /// is approved or rejected; a public one is hidden or deleted and may come back; a deleted
    /// one comes back public (restore), never straight into hiding.
    pub const MOVES: [(PostState, PostState); 7] = [
        (PostState::Pending, PostState::Visible),
        (PostState::Pending, PostState::Deleted),
        (PostState::Visible, PostState::Hidden),
        (PostState::Visible, PostState::Deleted),
        (PostState::Hidden, PostState::Visible),
        (PostState::Hidden, PostState::Deleted),
        (PostState::Deleted, PostState::Visible),
    ];

    pub fn may_become(self, to: PostState) -> bool {
        self == to || Self::MOVES.contains(&(self, to))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PostState::Visible => "visible",
            PostState::Pending => "pending",
            PostState::Hidden => "hidden",
            PostState::Deleted => "deleted",
        }
    }

    /// How a page names it.
    pub fn label(self) -> &'static str {
        match self {
            PostState::Visible => "public",
            PostState::Pending => "waiting for approval",
            PostState::Hidden => "hidden",
            PostState::Deleted => "deleted",
        }
    }

    /// A stored state; anything unknown is treated as removed, so it is never shown.
    pub fn parse(s: &str) -> PostState {
        PostState::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .unwrap_or(PostState::Deleted)
    }
}

/// Where a topic stands, as staff set it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TopicStatus {
    Open,
    Acknowledged,
    Planned,
    InProgress,
    Resolved,
    Declined,
    Closed,
}

impl TopicStatus {
    pub const ALL: [TopicStatus; 7] = [
        TopicStatus::Open,
        TopicStatus::Acknowledged,
        TopicStatus::Planned,
        TopicStatus::InProgress,
        TopicStatus::Resolved,
        TopicStatus::Declined,
        TopicStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TopicStatus::Open => "open",
            TopicStatus::Acknowledged => "acknowledged",
            TopicStatus::Planned => "planned",
            TopicStatus::InProgress => "in_progress",
            TopicStatus::Resolved => "resolved",
            TopicStatus::Declined => "declined",
            TopicStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<TopicStatus> {
        TopicStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            TopicStatus::Open => "Open",
            TopicStatus::Acknowledged => "Acknowledged",
            TopicStatus::Planned => "Planned",
            TopicStatus::InProgress => "In progress",
            TopicStatus::Resolved => "Resolved",
            TopicStatus::Declined => "Declined",
            TopicStatus::Closed => "Closed",
        }
    }

    /// The label for a stored value (an unknown one shows as itself).
    pub fn label_of(stored: &str) -> String {
        TopicStatus::parse(stored)
            .map(|s| s.label().to_string())
            .unwrap_or_else(|| stored.to_string())
    }
}

/// An idea's votes as one viewer sees them (lists and the topic page).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IdeaVotes {
    pub topic_id: i64,
    /// The public count: verified votes only.
    pub count: i32,
    /// Votes waiting (new accounts, bursts): for staff only, None for everyone else.
    pub pending_count: Option<i32>,
    /// Whether the signed-in viewer voted for it; None for visitors.
    pub voted: Option<bool>,
    /// Why the viewer's own vote waits, in words, while it does.
    pub waiting: Option<String>,
    /// Voting is open: not closed, declined, resolved, locked, merged or archived.
    pub open: bool,
    /// A merged duplicate: the original it was merged into.
    pub merged_into: Option<MergedInto>,
}

/// The original idea a duplicate was merged into, as a link.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MergedInto {
    pub id: i64,
    pub slug: String,
    pub title: String,
}

/// What the vote server function answers: the viewer's vote and the public count now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteStanding {
    pub voted: bool,
    pub pending: bool,
    pub count: i32,
    /// Why the vote waits, in words, while it does.
    pub waiting: Option<String>,
}

/// How an ideas list is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdeaSort {
    Votes,
    /// Counted votes in the last 7 days.
    Trending,
    Newest,
    /// Latest post first, as forum categories are.
    Active,
}

impl IdeaSort {
    pub const ALL: [IdeaSort; 4] = [
        IdeaSort::Votes,
        IdeaSort::Trending,
        IdeaSort::Newest,
        IdeaSort::Active,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdeaSort::Votes => "votes",
            IdeaSort::Trending => "trending",
            IdeaSort::Newest => "newest",
            IdeaSort::Active => "active",
        }
    }

    pub fn parse(s: &str) -> Option<IdeaSort> {
        IdeaSort::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            IdeaSort::Votes => "Most votes",
            IdeaSort::Trending => "Trending",
            IdeaSort::Newest => "Newest",
            IdeaSort::Active => "Recently active",
        }
    }
}

/// An ideas category's list choices, as the page shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdeasList {
    pub sort: IdeaSort,
    /// Only the ideas the viewer voted for.
    pub mine: bool,
    /// The viewer is signed in (the "my votes" filter is offered).
    pub signed_in: bool,
}

/// How long staff took, or how long a topic has waited: the one duration formatter, in
/// format.rs ("4 min", "2 h 10 min", "1 day 3 h"); named here for the pages that import it.
pub use crate::format::duration as short_duration;

/// One entry of a topic's history: a staff action or the customer's confirmation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TopicEventView {
    pub actor: String,
    /// status | answer | unanswer | no_reply_needed | confirmed | reopened | category_archived
    pub kind: String,
    pub detail: String,
    pub note: String,
    pub staff_only: bool,
    pub created_at: DateTime<Utc>,
}

impl TopicEventView {
    /// "sam set the status to Planned", in words.
    pub fn sentence(&self) -> String {
        let who = if self.actor.is_empty() {
            "Someone"
        } else {
            &self.actor
        };
        match self.kind.as_str() {
            "status" => format!(
                "{who} set the status to {}",
                TopicStatus::label_of(&self.detail)
            ),
            "answer" => format!("{who} marked post #{} as the official answer", self.detail),
            "unanswer" => format!("{who} removed the official answer"),
            "no_reply_needed" => format!("{who} marked this as needing no staff reply"),
            "confirmed" => format!("{who} confirmed this is resolved"),
            "reopened" => format!("{who} reopened this for staff"),
            "merged" => format!("{who} merged this idea into another one"),
            // Without an actor: a moderator's action in the archived category would have
            // started a wait (`posting::settle`).
            "category_archived" if self.actor.is_empty() => format!(
                "The category {} is archived, so this does not wait for staff",
                self.detail
            ),
            "category_archived" => format!(
                "{who} archived the category {}, so this no longer waits for staff",
                self.detail
            ),
            "category_restored" => format!("{who} restored the category {}", self.detail),
            "moved_out_of_archive" => format!(
                "{who} moved this out of the archived category {}",
                self.detail
            ),
            other => format!("{who}: {other}"),
        }
    }
}

/// A topic waiting for staff, as the queue lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueItem {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub category: CategoryRef,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub awaiting_since: DateTime<Utc>,
    /// It had been answered or resolved, and came back.
    pub reopened: bool,
    /// Its opening post waits for a moderator's approval: a moderator approves and answers it
    /// in one step from the topic page.
    pub held: bool,
    /// Its opening post was hidden by members' flags and waits for a moderator's decision.
    pub under_review: bool,
    /// Its title, text, author and id are withheld: hidden, they are for moderators (the viewer
    /// is staff).
    pub withheld: bool,
    pub target_minutes: i32,
    pub past_target: bool,
    /// The first lines of the opening post.
    pub excerpt: String,
}

/// A "no reply needed" decision, with the reason other staff see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoReplyDecision {
    pub topic_id: i64,
    pub topic_slug: String,
    pub topic_title: String,
    pub actor: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// /staff/queue: topics waiting for staff, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffQueue {
    pub items: Vec<QueueItem>,
    pub total: u64,
    pub page: u64,
    pub page_count: u64,
    pub categories: Vec<CategoryRef>,
    /// The category filter, when one is chosen.
    pub category: Option<String>,
    pub recent_no_reply: Vec<NoReplyDecision>,
}

/// Response figures for one category (or all of them) over a window.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsRow {
    /// None for the "All categories" row.
    pub category: Option<CategoryRef>,
    pub target_minutes: Option<i32>,
    /// Topics started by customers in the window.
    pub topics: u32,
    /// Of those, answered by staff.
    pub answered: u32,
    pub median_minutes: Option<i64>,
    pub p90_minutes: Option<i64>,
    /// Answered within target, as a share of those answered or already past their target.
    pub within_target_percent: Option<u32>,
    /// Waiting for staff now, and since when the oldest has waited.
    pub waiting: u32,
    pub oldest_waiting_since: Option<DateTime<Utc>>,
    /// Resolved in the window, and the share of those confirmed by the customer.
    pub resolved: u32,
    pub confirmed_percent: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsWindow {
    pub days: u32,
    pub overall: MetricsRow,
    pub categories: Vec<MetricsRow>,
    /// All categories over the `days` before this window, for "change from the period before"
    /// (its `waiting` is 0: waiting is a count of the present).
    pub previous: MetricsRow,
}

/// One week of the response trend: all categories, over the 7 days from `starts`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsWeek {
    pub starts: DateTime<Utc>,
    pub figures: MetricsRow,
}

/// /accountability: the last 30 days and the 12 weeks' trend, oldest week first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accountability {
    pub window: MetricsWindow,
    pub weeks: Vec<MetricsWeek>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMetrics {
    pub windows: Vec<MetricsWindow>,
    /// The 12 weeks' trend, oldest first.
    pub weeks: Vec<MetricsWeek>,
    /// Whether the public /accountability page is on.
    pub accountability_public: bool,
    pub viewer_is_admin: bool,
}

/// A notification as the member's list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationView {
    pub id: i64,
    pub kind: String,
    pub message: String,
    pub link: String,
    pub created_at: DateTime<Utc>,
    pub unread: bool,
    /// About a staff member's answer: shown with the staff badge.
    pub staff: bool,
    /// How many events it stands for ("5 new replies in ...").
    pub count: i32,
}

/// Why a member flags a post.
pub const FLAG_REASONS: [(&str, &str); 5] = [
    ("spam", "Spam"),
    ("rude", "Rude or abusive"),
    ("off_topic", "Off-topic"),
    ("illegal", "Illegal"),
    ("other", "Something else"),
];

pub fn flag_reason_label(reason: &str) -> &str {
    FLAG_REASONS
        .iter()
        .find(|(key, _)| *key == reason)
        .map(|(_, label)| *label)
        .unwrap_or(reason)
}

/// One flag, as a moderator sees it in the review queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagView {
    pub flagger: String,
    pub reason: String,
    pub note: String,
    pub state: String,
    pub weight: i32,
    pub created_at: DateTime<Utc>,
}

/// A post waiting for a moderator, with everything needed to decide.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItemView {
    pub id: i64,
    /// flagged | held_new | held_words | edited
    pub kind: String,
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub post_id: i64,
    pub post_number: i32,
    pub post_state: PostState,
    pub topic_id: i64,
    pub topic_slug: String,
    pub topic_title: String,
    pub category: CategoryRef,
    /// The post when it entered the queue, and now.
    pub snapshot_html: String,
    pub current_html: String,
    pub flags: Vec<FlagView>,
    pub author_id: i64,
    pub author: String,
    pub author_role: Role,
    pub author_joined_at: DateTime<Utc>,
    pub author_post_count: u64,
    /// Earlier moderator actions on the author or their posts.
    pub author_moderation_count: u64,
    /// A burst of votes (kind vote_burst): the votes it holds.
    pub burst: Option<BurstView>,
    /// The files the post uses (screenshots, logs), for the moderator to look at.
    pub files: Vec<Uploaded>,
    /// The viewer's own post: they may hide or delete it, nothing else.
    pub own: bool,
    /// Why the viewer may take no action on the post (a moderator, on an admin's or another
    /// moderator's): said instead of actions that would all be refused.
    pub not_yours: Option<String>,
}

/// The most review items one bulk action takes (a page of the queue holds fewer), and so the
/// most its `done` code may say.
pub const MOST_SELECTED: usize = 200;

/// /admin/review: the one review queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewQueue {
    pub items: Vec<ReviewItemView>,
    pub total: u64,
    pub page: u64,
    pub page_count: u64,
    pub categories: Vec<CategoryRef>,
    pub kind: Option<String>,
    pub reason: Option<String>,
    pub category: Option<String>,
    pub state: String,
}

/// One line of the moderation log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntryView {
    /// Empty on the public page.
    pub actor: String,
    pub action: String,
    pub reason: String,
    pub topic_id: Option<i64>,
    pub topic_slug: String,
    pub topic_title: String,
    pub post_number: Option<i32>,
    /// Empty on the public page.
    pub member: String,
    pub created_at: DateTime<Utc>,
}

/// The moderation log, or its public part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerationLogPage {
    pub entries: Vec<LogEntryView>,
    pub page: u64,
    pub page_count: u64,
}

/// A moderator action, in words ("hid a post").
pub fn action_label(action: &str) -> &str {
    match action {
        "approve" => "approved a post",
        "dismiss" => "dismissed the flags on a post",
        "hide" => "hid a post",
        "keep_hidden" => "kept a hidden post hidden",
        "delete" => "deleted a post",
        "restore" => "restored a post",
        "edit" => "edited a post",
        "lock" => "locked a topic",
        "unlock" => "unlocked a topic",
        "pin" => "pinned a topic",
        "unpin" => "unpinned a topic",
        "move" => "moved a topic",
        "suspend" => "suspended a member",
        "unsuspend" => "lifted a suspension",
        "remove_spammer" => "removed a spammer",
        "auto_hide" => "hid a post after members' flags",
        "role" => "changed a member's role",
        "settings" => "changed the site settings",
        "approve_signup" => "approved a sign-up",
        "log_out_everywhere" => "logged a member out everywhere",
        "delete_account" => "deleted an account",
        "category_create" => "created a category",
        "category_edit" => "edited a category",
        "category_reorder" => "reordered the categories",
        "category_archive" => "archived a category",
        "category_unarchive" => "brought back a category",
        "mail_retry" => "sent a failed e-mail again",
        other => other,
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchedWordView {
    pub id: i64,
    pub word: String,
    /// block | hold | flag | censor
    pub action: String,
}

/// /admin/moderation: what admins set for moderation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerationSettings {
    pub flag_threshold: i64,
    pub new_member_hold: i64,
    pub posts_per_10_min: i64,
    pub topics_per_hour: i64,
    pub flags_per_hour: i64,
    pub log_public: bool,
    pub watched: Vec<WatchedWordView>,
}

/// A category as the admin panel edits it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminCategory {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub colour: String,
    pub target_hours: String,
    pub customers_may_start: bool,
    pub archived: bool,
    pub topic_count: i32,
    /// forum | ideas
    pub kind: String,
}

/// A member as the admin panel lists them. The e-mail is for admins only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUserRow {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub role: Role,
    pub staff_title: Option<String>,
    pub joined_at: DateTime<Utc>,
    pub suspended: bool,
}

/// /admin/users/{id}.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUserDetail {
    pub row: AdminUserRow,
    pub suspension_reason: Option<String>,
    pub posts: u64,
    pub flags_raised: u64,
    pub flags_received: u64,
    /// Open sessions (signed-in browsers).
    pub sessions: u64,
    /// Moderator actions about them: action, reason, when.
    pub history: Vec<(String, String, DateTime<Utc>)>,
    pub viewer_is_admin: bool,
}

/// /admin: what needs attention now, and the last 30 days' activity, day by day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    pub open_review_items: u64,
    pub awaiting_staff: u64,
    pub past_target: u64,
    pub median_minutes_7d: Option<i64>,
    /// The first of the 30 days (UTC) the two series count.
    pub first_day: chrono::NaiveDate,
    pub new_members: Vec<u32>,
    pub new_posts: Vec<u32>,
    pub viewer_is_admin: bool,
}

/// /admin/settings: the site's texts and switches, and the sign-ups waiting for approval.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSettings {
    pub site_name: String,
    pub tagline: String,
    pub welcome_message: String,
    /// open | closed | approval
    pub signup_mode: String,
    pub accountability_public: bool,
    pub moderation_log_public: bool,
    /// "Let search engines index this site".
    pub search_engines_index: bool,
    pub roadmap_public: bool,
    pub votes: VoteThresholds,
    pub uploads: UploadSettings,
    pub brand: BrandSettings,
    pub awaiting_approval: Vec<AdminUserRow>,
}

/// The brand settings of /admin/settings, as stored (bounds in `server::settings`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrandSettings {
    /// `#rrggbb`.
    pub accent_colour: String,
    /// Each an upload's path, an https address, or empty.
    pub logo_light: String,
    pub logo_dark: String,
    pub favicon: String,
}

/// The upload settings of /admin/settings, as stored (bounds in `server::settings`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSettings {
    pub max_file_mb: i64,
    pub daily_mb: i64,
    /// Extensions of the files taken besides images, e.g. "pdf txt log zip".
    pub file_types: String,
    pub image_max_px: i64,
    /// keep | refuse
    pub animated_gifs: String,
    /// allow | hold | off
    pub new_members: String,
    /// proxy | link
    pub external_images: String,
}

/// One kind of notification e-mail on /account, and how the member gets it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailChoice {
    /// answers | replies | new_topics | mentions
    pub kind: String,
    pub label: String,
    /// immediately | digest | never
    pub mode: String,
}

/// /account's Notifications section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSettings {
    pub choices: Vec<MailChoice>,
    pub follow_on_start: bool,
    pub follow_on_reply: bool,
    pub follow_on_vote: bool,
    /// The member's own zone; None: the site's.
    pub time_zone: Option<String>,
    pub site_time_zone: String,
    /// Every zone name the member may choose.
    pub zones: Vec<String>,
}

/// /unsubscribe/{token}: whose e-mails of which kind the link stops.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsubscribeView {
    pub display_name: String,
    pub kind_label: String,
    /// That kind is already set to never.
    pub stopped: bool,
}

/// /account's E-mail address section: the member's own address, shown to them alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountEmail {
    pub email: String,
    /// Confirmed and not bouncing: notification e-mails go there.
    pub confirmed: bool,
    /// A change asked for and not confirmed yet.
    pub pending: Option<String>,
}

/// /admin/mail: the outbox, newest first, one page of one status (or all).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailOutbox {
    /// How mail leaves ("SMTP mail.example.com:587, STARTTLS"), or None: nothing sends it.
    pub delivery: Option<String>,
    /// queued | sent | failed, or "" for all.
    pub status: String,
    pub queued: u64,
    pub sent: u64,
    pub failed: u64,
    pub messages: Vec<OutboxMessage>,
    pub page: u64,
    pub page_count: u64,
}

/// One message in the outbox, as admins see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub to: String,
    pub subject: String,
    /// reset | confirm | notice | notification | digest
    pub kind: String,
    /// queued | sent | failed
    pub status: String,
    pub attempts: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    pub next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_error: Option<String>,
    /// The plain-text part, shown only while no mail server is configured (so an operator can
    /// see what would have gone out).
    pub text: Option<String>,
}

/// Search results come 20 a page.
pub const SEARCH_PAGE_SIZE: u64 = 20;

/// A piece of a title or snippet from search: `hit` when it is one of the words searched for
/// (shown marked). Plain text: a page shows it as text, so the mark is the only markup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextPart {
    pub text: String,
    pub hit: bool,
}

/// What /search was asked: the query and its filters, as they arrived (a form shows them again).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRequest {
    pub q: String,
    /// A category's slug.
    pub category: Option<String>,
    pub status: Option<String>,
    /// Only topics staff answered.
    pub staff: bool,
    /// A member's username: only their posts.
    pub author: Option<String>,
    /// Written on or after / on or before (YYYY-MM-DD, the site's calendar in UTC).
    pub from: Option<String>,
    pub to: Option<String>,
    /// "relevance" (default) or "newest".
    pub sort: Option<String>,
    pub page: u64,
}

/// One topic (or article) found: its best matching post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub title: Vec<TextPart>,
    /// The exact post (or the article).
    pub url: String,
    pub snippet: Vec<TextPart>,
    pub is_article: bool,
    pub category: Option<CategoryRef>,
    pub status: Option<String>,
    pub resolution_confirmed: bool,
    /// Staff replied in the topic.
    pub staff_answered: bool,
    /// The matching post is the topic's official answer.
    pub official_answer: bool,
    /// The matching post is a staff member's, with their title.
    pub staff_title: Option<String>,
    pub by_staff: bool,
    /// The author's username, display name and avatar.
    pub author: String,
    pub author_display_name: String,
    pub author_avatar: Option<i64>,
    pub written_at: DateTime<Utc>,
    pub reply_count: i32,
    /// The match was in this duplicate, merged into the idea shown.
    pub merged_from: Option<String>,
}

/// The /search page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResults {
    pub request: SearchRequest,
    pub hits: Vec<SearchHit>,
    /// Topics found (each shown once).
    pub total: u64,
    pub page: u64,
    pub page_count: u64,
    /// Nothing matched every word: these match some of them.
    pub any_words: bool,
    /// Part of the query was too long to use.
    pub cut: bool,
    /// Every word was too common to search for.
    pub too_common: bool,
    /// More posts matched than are ranked: the best are shown.
    pub capped: bool,
    /// A filter that could not be read, with why; the search ran without it.
    pub filter_errors: Vec<(String, String)>,
    /// For the filter form.
    pub categories: Vec<CategoryRef>,
}

/// An existing topic like the one being written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimilarTopic {
    pub title: String,
    pub url: String,
    pub status: String,
    pub resolution_confirmed: bool,
    pub staff_answered: bool,
    pub reply_count: i32,
}

/// /roadmap: ideas the team has taken up, by where they stand.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roadmap {
    /// Planned, in progress, done: in that order.
    pub columns: Vec<RoadmapColumn>,
    /// The admins switched the public page off and a staff member is looking at it.
    pub preview: bool,
}

/// One status's column of the roadmap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoadmapColumn {
    /// planned | in_progress | resolved
    pub status: String,
    /// "Planned", "In progress", "Done".
    pub heading: String,
    /// Most votes first, at most `ROADMAP_COLUMN_CAP`.
    pub ideas: Vec<RoadmapIdea>,
    /// Ideas of this status past the cap.
    pub more: u64,
    /// The ideas categories whose lists (filtered by this status) hold the rest.
    pub more_in: Vec<CategoryRef>,
}

/// One idea on the roadmap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoadmapIdea {
    pub topic_id: i64,
    pub slug: String,
    pub title: String,
    pub category: CategoryRef,
    /// Verified votes (the public count).
    pub votes: i32,
    /// When staff last set its status.
    pub status_changed_at: Option<DateTime<Utc>>,
}

/// /staff/ideas: ideas by votes, for staff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffIdeas {
    pub ideas: Vec<StaffIdeaRow>,
    pub total: u64,
    pub page: u64,
    pub page_count: u64,
    /// The ideas categories, for the filter.
    pub categories: Vec<CategoryRef>,
    /// The filter as understood (echoed into the form and the CSV link).
    pub category: Option<String>,
    pub status: Option<String>,
    pub verified_only: bool,
    /// YYYY-MM-DD, inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    /// The first day of the trend's first week (the trend covers 12 weeks up to today).
    pub trend_start: DateTime<Utc>,
}

/// One idea on /staff/ideas (and one line of its CSV).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffIdeaRow {
    pub topic_id: i64,
    pub slug: String,
    pub title: String,
    pub category: CategoryRef,
    pub status: String,
    /// What the list is sorted by: counted votes, or counted and pending ones unless "verified
    /// votes only"; within the period when one is given.
    pub votes: i64,
    /// Verified votes (the public count) and pending ones now, whatever the filter.
    pub verified: i64,
    pub pending: i64,
    /// Who the voters counted in `votes` are.
    pub customer_voters: i64,
    pub staff_voters: i64,
    /// Counted votes cast in each of the last 12 weeks, oldest first.
    pub trend: Vec<u32>,
}

/// The votes a burst review holds, for moderators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BurstView {
    /// The latest first, at most `BURST_VOTES_SHOWN`.
    pub votes: Vec<HeldVoteView>,
    /// How many votes the review holds (or held, once decided and accepted).
    pub total: u64,
}

/// One vote held in a burst review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldVoteView {
    pub voter: String,
    pub joined_at: DateTime<Utc>,
    pub email_confirmed: bool,
    pub voted_at: DateTime<Utc>,
    /// counted | pending
    pub state: String,
    /// The client address the vote came from: for admins only (None for moderators).
    pub address: Option<String>,
}

/// The vote thresholds of the site settings (their bounds are in `server::settings`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteThresholds {
    pub min_account_hours: i64,
    pub burst_votes: i64,
    pub burst_window_minutes: i64,
    pub burst_signup_minutes: i64,
}

/// How many ideas each roadmap column shows.
pub const ROADMAP_COLUMN_CAP: usize = 50;
/// How many of a burst's votes the review shows.
pub const BURST_VOTES_SHOWN: u64 = 200;
/// How many weeks an idea's trend covers.
pub const TREND_WEEKS: usize = 12;

/// A checkbox's value in a query string: ticked boxes send "on"; a link may say 1 or true.
/// Anything else (0, false, empty) is not ticked.
pub fn ticked(value: &str) -> bool {
    matches!(value, "on" | "1" | "true")
}

/// An uploaded file as its uploader's composer gets it back: where it is, and the Markdown that
/// shows it (an image) or links it (any other file, with its name and size).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub markdown: String,
    pub is_image: bool,
    /// Bytes as uploaded.
    pub size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
}

/// What POST /uploads answers: the files kept, and why the first refused one was refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadAnswer {
    pub uploaded: Vec<Uploaded>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

// --- Confirmations (issue 19: forms that behave) ---

/// A destructive action, asked about before it is done: what it does in words, and the form
/// that does it (the same server function and fields, with `confirmed`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub title: String,
    pub details: Vec<String>,
    /// The server function's URL the "yes" form posts to.
    pub endpoint: String,
    /// The fields it posts, as they were chosen.
    pub fields: Vec<(String, String)>,
    pub button: String,
}

// --- Home page (issue 19: a home page that shows life) ---

/// What is new in a topic to the member looking: a topic they never opened ("New"), or how many
/// posts they have not read ("3 new"). Visitors are never told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unread {
    New,
    Posts(u32),
}

/// A row of the home page's latest topics: the topic as a category lists it, where it is, who
/// wrote last, and what is new in it to the viewer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatestTopic {
    pub topic: TopicListItem,
    pub category: CategoryRef,
    /// The last visible post's author, when someone replied.
    pub last_poster: Option<String>,
    pub unread: Option<Unread>,
}

/// The response promise's headline figures (the /accountability page's last 30 days).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseHeadline {
    pub days: u32,
    pub median_minutes: Option<i64>,
    pub within_target_percent: Option<u32>,
}

/// /?page=N: the admins' introduction, the response headline, the latest topics across
/// categories and the categories, with the signed-in member's "new" markers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeView {
    /// The `home_intro` setting, rendered through the content pipeline (clean HTML).
    pub intro_html: String,
    /// None when the accountability page is switched off.
    pub headline: Option<ResponseHeadline>,
    pub latest: Vec<LatestTopic>,
    pub page: u64,
    pub page_count: u64,
    pub categories: Vec<CategorySummary>,
    /// For a signed-in member: how many topics in each category (by id) hold something new.
    pub new_in_category: Vec<(i64, u32)>,
    pub signed_in: bool,
}
