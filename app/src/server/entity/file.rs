use sea_orm::entity::prelude::*;

/// A file kept once per content hash (SHA-256 of the bytes as uploaded or fetched).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub hash: String,
    /// What the kept copy is: png | jpeg | gif | webp | pdf | zip | text.
    pub kind: String,
    pub byte_size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub animated: bool,
    pub has_webp: bool,
    pub has_thumb: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
