use sea_orm::entity::prelude::*;

/// One member's upload of a file: theirs until a post uses it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "uploads")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub file_hash: String,
    /// The checked name the member's browser gave it.
    pub name: String,
    /// Bytes received (what the daily allowance counts).
    pub received_size: i64,
    /// post | avatar
    pub purpose: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
