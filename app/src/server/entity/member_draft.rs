use sea_orm::entity::prelude::*;

/// A signed-in member's draft in one composer, kept on the server so it follows them to
/// another browser (app/src/server/drafts.rs).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "member_drafts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    /// `reply:12`, `topic`, `edit:40`, `article:0`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub draft_key: String,
    /// The draft's fields as JSON.
    pub content: String,
    pub byte_size: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
