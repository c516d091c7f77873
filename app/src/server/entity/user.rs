use sea_orm::entity::prelude::*;

use crate::model::{Role, SessionUser};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub username: String,
    /// `username` lower-cased: the unique key, so names collide case-insensitively.
    pub username_key: String,
    pub email: String,
    pub email_key: String,
    pub display_name: String,
    /// The member's bio as typed (Markdown) and as the content pipeline made it.
    pub bio_source: String,
    pub bio_html: String,
    pub password_hash: String,
    pub role: String,
    pub staff_title: Option<String>,
    pub trust_level: i16,
    pub suspended_until: Option<DateTimeUtc>,
    pub suspension_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub last_seen_at: Option<DateTimeUtc>,
    /// Signed up while sign-ups need an admin's approval, and not approved yet.
    pub awaiting_approval: bool,
    /// Raised whenever all of the member's sessions end; a session stamped with an older
    /// value is refused on load (session_store).
    pub session_generation: i64,
    /// When the member proved the address is theirs; no notification e-mail goes out before.
    pub email_confirmed_at: Option<DateTimeUtc>,
    /// The address bounced; no e-mail goes out until the member confirms it again.
    pub email_bouncing_since: Option<DateTimeUtc>,
    /// An IANA zone name (the daily digest goes out at 07:00 there); None: the site's.
    pub time_zone: Option<String>,
    pub follow_on_start: bool,
    pub follow_on_reply: bool,
    pub last_digest_at: Option<DateTimeUtc>,
    /// Voting on an idea follows it.
    pub follow_on_vote: bool,
    /// A moderator rejected this account's votes in a burst review: its votes wait for review.
    pub votes_flagged_at: Option<DateTimeUtc>,
    /// The member's avatar (an upload of purpose "avatar"); None: initials are drawn.
    pub avatar_upload_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

#[async_trait::async_trait]
impl ActiveModelBehavior for ActiveModel {
    /// New accounts start at session generation 0, with no bio, and follow what they start or reply to. Set here rather than left to the column's
    /// default: on SQLite an insert's RETURNING answers NULL for that column (it was added by a
    /// later migration), and the insert would fail to read back its own row.
    async fn before_save<C>(mut self, _db: &C, insert: bool) -> Result<Self, DbErr>
    where
        C: ConnectionTrait,
    {
        if insert && self.session_generation.is_not_set() {
            self.session_generation = sea_orm::Set(0);
        }
        if insert && self.bio_source.is_not_set() {
            self.bio_source = sea_orm::Set(String::new());
        }
        if insert && self.bio_html.is_not_set() {
            self.bio_html = sea_orm::Set(String::new());
        }
        if insert && self.follow_on_start.is_not_set() {
            self.follow_on_start = sea_orm::Set(true);
        }
        if insert && self.follow_on_reply.is_not_set() {
            self.follow_on_reply = sea_orm::Set(true);
        }
        if insert && self.follow_on_vote.is_not_set() {
            self.follow_on_vote = sea_orm::Set(true);
        }
        Ok(self)
    }
}

impl Model {
    pub fn role(&self) -> Role {
        // An unknown value can only come from a hand-edited row: treat it as the least power.
        Role::parse(&self.role).unwrap_or(Role::Customer)
    }

    pub fn to_session_user(&self) -> SessionUser {
        SessionUser {
            id: self.id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role(),
            staff_title: self.staff_title.clone(),
            avatar_upload_id: self.avatar_upload_id,
            unread_notifications: 0,
            open_review_items: 0,
            time_zone: self.time_zone.clone(),
        }
    }
}
