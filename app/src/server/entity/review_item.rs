use sea_orm::entity::prelude::*;

/// A post waiting for a moderator: flagged, held for approval, or back after an edit.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "review_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub post_id: i64,
    /// flagged | held_new | held_words | edited
    pub kind: String,
    /// open | resolved | rejected
    pub state: String,
    /// The post as it was when it entered the queue.
    pub snapshot_html: String,
    pub category_id: i64,
    pub created_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolved_by: Option<i64>,
    pub resolution: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
