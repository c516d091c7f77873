use sea_orm::entity::prelude::*;

/// A member's choice for one kind of e-mail, where it differs from the default.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_preferences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    /// answers | replies | new_topics | mentions
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    /// immediately | digest | never
    pub mode: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
