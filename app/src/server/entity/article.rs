use sea_orm::entity::prelude::*;

/// A blog article. Its comments are the posts of topic `topic_id`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "articles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub author_id: i64,
    pub topic_id: i64,
    pub slug: String,
    pub title: String,
    /// Plain text, for lists and the feed; empty means "use the start of the body".
    pub summary: String,
    /// What the author typed (Markdown).
    pub source: String,
    /// `source` through the content pipeline: the only HTML pages and the feed show.
    pub html: String,
    pub cover_image_url: Option<String>,
    /// draft | published
    pub status: String,
    /// When it goes (or went) public; in the future while scheduled.
    pub published_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
