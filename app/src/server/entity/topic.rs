use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "topics")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub category_id: i64,
    pub author_id: i64,
    pub title: String,
    pub slug: String,
    pub status: String,
    pub pinned: bool,
    pub locked: bool,
    /// Visible posts (the opening post and public replies); derived by `posting::settle`.
    pub post_count: i32,
    /// The number the latest post took, held or not: new posts number on from it.
    pub last_post_number: i32,
    pub created_at: DateTimeUtc,
    pub last_posted_at: DateTimeUtc,
    pub first_staff_reply_at: Option<DateTimeUtc>,
    pub official_answer_post_id: Option<i64>,
    /// Set while the topic waits for a staff answer: new and unanswered, or reopened; derived
    /// by `posting::settle`, like `first_staff_reply_at`.
    pub awaiting_staff_since: Option<DateTimeUtc>,
    pub started_by_staff: bool,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolution_confirmed_at: Option<DateTimeUtc>,
    /// Listed: false while its opening post waits for approval, or after it was deleted.
    pub visible: bool,
    /// Verified votes (an idea's public count); derived by `records::votes::recount`.
    pub vote_count: i32,
    /// Votes held for a new, unconfirmed or flagged account or a burst: shown to staff only.
    pub pending_vote_count: i32,
    /// A duplicate idea points at the idea it was merged into.
    pub merged_into_id: Option<i64>,
    /// When staff last set the status (the roadmap's date).
    pub status_changed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

#[async_trait::async_trait]
impl ActiveModelBehavior for ActiveModel {
    /// New topics start with no votes. Set here rather than left to the column's default: on
    /// SQLite an insert's RETURNING answers NULL for a column a later migration added.
    async fn before_save<C>(mut self, _db: &C, insert: bool) -> Result<Self, DbErr>
    where
        C: ConnectionTrait,
    {
        if insert && self.vote_count.is_not_set() {
            self.vote_count = sea_orm::Set(0);
        }
        if insert && self.pending_vote_count.is_not_set() {
            self.pending_vote_count = sea_orm::Set(0);
        }
        Ok(self)
    }
}
