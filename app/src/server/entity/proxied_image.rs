use sea_orm::entity::prelude::*;

/// An image from another site, fetched once for the image proxy.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "proxied_images")]
pub struct Model {
    /// SHA-256 of `url`, in hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub url_hash: String,
    pub url: String,
    pub file_hash: Option<String>,
    /// Why the last fetch failed; "" after a success.
    pub error: String,
    pub fetched_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
