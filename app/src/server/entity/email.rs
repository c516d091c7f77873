use sea_orm::entity::prelude::*;

/// An e-mail in the outbox: queued, sent (with `sent_at`) or failed (with `last_error`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub to_address: String,
    /// The address's key (`mail::address_key`), by which mail to an address is counted.
    pub to_key: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    pub user_id: Option<i64>,
    /// reset | confirm | notice | notification | digest
    pub kind: String,
    pub html_body: Option<String>,
    pub reply_to: Option<String>,
    /// The https one-click unsubscribe address (RFC 8058), for notification mail.
    pub list_unsubscribe: Option<String>,
    /// queued | sent | failed
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTimeUtc>,
    /// A worker's claim: others leave the message alone until then.
    pub claimed_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
