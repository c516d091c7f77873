use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "categories")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub position: i32,
    pub colour: String,
    /// forum | ideas | blog_comments
    pub kind: String,
    pub response_target_minutes: i32,
    pub topic_count: i32,
    pub post_count: i32,
    pub last_posted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// False: only staff start topics here (announcements, say).
    pub customers_may_start: bool,
    /// Read-only and hidden from the start-topic form.
    pub archived: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
