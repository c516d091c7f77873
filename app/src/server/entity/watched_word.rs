use sea_orm::entity::prelude::*;

/// A word or phrase admins watch for, and what happens to a post that has it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "watched_words")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub word: String,
    /// block | hold | flag | censor
    pub action: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
