use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub topic_id: i64,
    pub author_id: i64,
    pub post_number: i32,
    /// What the author typed (Markdown).
    pub source: String,
    /// `source` through the content pipeline: the only HTML pages render.
    pub html: String,
    pub state: String,
    pub is_staff_reply: bool,
    pub staff_title: Option<String>,
    pub created_at: DateTimeUtc,
    pub edited_at: Option<DateTimeUtc>,
    /// Why a moderator hid or removed it, or why it is held: shown to its author.
    pub moderation_reason: Option<String>,
    /// The moderator or admin who last edited it when it was not theirs: the post then says
    /// "edited by a moderator". Kept when the author edits again, as their words may remain.
    pub moderator_edit_by: Option<i64>,
    /// When it first became public: its creation, or its approval if it was held. Kept when it
    /// is hidden or deleted and comes back, so a restored staff reply keeps its place on the
    /// response clock.
    pub published_at: Option<DateTimeUtc>,
}

impl Model {
    pub fn state(&self) -> crate::model::PostState {
        crate::model::PostState::parse(&self.state)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
