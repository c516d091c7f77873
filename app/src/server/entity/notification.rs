use sea_orm::entity::prelude::*;

/// Something the site tells a member: an answer, a reply, a mention, a moderator's decision.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    pub message: String,
    pub link: String,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
    pub topic_id: Option<i64>,
    pub post_id: Option<i64>,
    /// How many events this unread notification stands for ("5 new replies in ...").
    pub count: i32,
    /// About a staff member's answer: shown with the staff badge.
    pub staff: bool,
    /// The e-mail preference it falls under (`notify::MailKind`), or "" for none.
    pub mail_kind: String,
    pub updated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
