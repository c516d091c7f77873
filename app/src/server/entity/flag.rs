use sea_orm::entity::prelude::*;

/// A member's flag on a post, with its reason and how much it counts.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "flags")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub post_id: i64,
    pub flagger_id: i64,
    /// spam | rude | off_topic | illegal | other
    pub reason: String,
    pub note: String,
    /// Hundredths: 100 is one ordinary flag.
    pub weight: i32,
    /// open | upheld | dismissed
    pub state: String,
    pub created_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
