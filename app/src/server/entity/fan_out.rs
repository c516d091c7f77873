use sea_orm::entity::prelude::*;

/// What a post or a topic change still owes its followers and watchers: written in the change's
/// transaction, fanned out by the worker.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fan_outs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// reply | new_topic | status | answer | confirm
    pub kind: String,
    pub topic_id: i64,
    pub post_id: Option<i64>,
    pub actor_id: i64,
    pub message: String,
    pub created_at: DateTimeUtc,
    pub done_at: Option<DateTimeUtc>,
    /// Rounds of the worker in which spreading it failed (it gives up at `fan_out::MOST_ATTEMPTS`).
    pub attempts: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
