use sea_orm::entity::prelude::*;

/// One member's vote on one idea.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "votes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub topic_id: i64,
    pub user_id: i64,
    pub created_at: DateTimeUtc,
    /// counted | pending
    pub state: String,
    /// Why a pending vote waits: new_account | unconfirmed | flagged | burst ("" when counted).
    pub held_reason: String,
    /// The burst review that holds it.
    pub review_item_id: Option<i64>,
    /// Shown to admins only.
    pub client_address: String,
    /// The address's range (/24, /48): what a burst from one place is grouped by.
    pub client_range: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
