use sea_orm::entity::prelude::*;

/// One staff action or customer confirmation in a topic's history.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "topic_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub topic_id: i64,
    pub actor_id: Option<i64>,
    /// status | answer | unanswer | no_reply_needed | confirmed | reopened
    pub kind: String,
    /// The new status, or the answer's post number.
    pub detail: String,
    pub note: String,
    /// Seen by staff only (a "no reply needed" reason).
    pub staff_only: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
