use sea_orm::entity::prelude::*;

/// A category's earlier address, redirected to its current one.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "category_slugs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub old_slug: String,
    pub category_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
