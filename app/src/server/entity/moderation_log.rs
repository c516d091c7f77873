use sea_orm::entity::prelude::*;

/// One moderator action: who, what, on which post, topic or member, why and when.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "moderation_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub actor_id: i64,
    pub action: String,
    pub post_id: Option<i64>,
    pub topic_id: Option<i64>,
    pub user_id: Option<i64>,
    pub reason: String,
    /// Listed on the public /moderation page.
    pub public: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
