//! What each member wants by e-mail, per kind: immediately, in the daily digest, or never. A
//! row exists only where a member chose something else than the default.
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect, QueryTrait, sea_query::OnConflict,
};

use crate::{
    error::AppError,
    server::{
        batch::Batch,
        entity::{mail_preference, user},
    },
};

/// The kinds of e-mail a member chooses for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MailKind {
    /// Staff answers, status changes, official answers and "did this solve it?" on my topics.
    Answers,
    /// Replies in topics I started or follow, and changes to topics I follow.
    Replies,
    /// New topics in categories I watch.
    NewTopics,
    /// Someone mentions or quotes me.
    Mentions,
}

impl MailKind {
    pub const ALL: [MailKind; 4] = [
        MailKind::Answers,
        MailKind::Replies,
        MailKind::NewTopics,
        MailKind::Mentions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Answers => "answers",
            MailKind::Replies => "replies",
            MailKind::NewTopics => "new_topics",
            MailKind::Mentions => "mentions",
        }
    }

    pub fn parse(s: &str) -> Option<MailKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How preferences, e-mails and the unsubscribe page name it.
    pub fn label(self) -> &'static str {
        match self {
            MailKind::Answers => "answers and status changes on my topics and ideas I voted for",
            MailKind::Replies => "replies in topics I follow",
            MailKind::NewTopics => "new topics in categories I watch",
            MailKind::Mentions => "mentions and quotes of me",
        }
    }

    /// The fast answer must reach the person who asked: answers, status changes and mentions
    /// go out at once; the rest waits for the daily digest.
    pub fn default_mode(self) -> Mode {
        match self {
            MailKind::Answers | MailKind::Mentions => Mode::Immediately,
            MailKind::Replies | MailKind::NewTopics => Mode::Digest,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Immediately,
    Digest,
    Never,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Immediately, Mode::Digest, Mode::Never];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Immediately => "immediately",
            Mode::Digest => "digest",
            Mode::Never => "never",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Mode::Immediately => "Immediately",
            Mode::Digest => "In the daily digest",
            Mode::Never => "Never",
        }
    }
}

pub const KIND_UNKNOWN: &str = "That is not a kind of e-mail Backyard sends.";
pub const MODE_UNKNOWN: &str = "Choose immediately, daily digest or never.";

/// The member's mode for every kind, defaults filled in.
pub async fn modes(
    conn: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Vec<(MailKind, Mode)>, AppError> {
    let chosen = mail_preference::Entity::find()
        .filter(mail_preference::Column::UserId.eq(user_id))
        .all(conn)
        .await?;
    Ok(MailKind::ALL
        .into_iter()
        .map(|kind| {
            let mode = chosen
                .iter()
                .find(|row| row.kind == kind.as_str())
                .and_then(|row| Mode::parse(&row.mode))
                .unwrap_or(kind.default_mode());
            (kind, mode)
        })
        .collect())
}

pub async fn mode(
    conn: &impl ConnectionTrait,
    user_id: i64,
    kind: MailKind,
) -> Result<Mode, AppError> {
    mode_after(conn, user_id, kind, Batch::default()).await
}

/// `mode`, read after the writes held in `later` (sent with it).
pub async fn mode_after(
    conn: &impl ConnectionTrait,
    user_id: i64,
    kind: MailKind,
    later: Batch,
) -> Result<Mode, AppError> {
    let read = mail_preference::Entity::find_by_id((user_id, kind.as_str().to_string()))
        .limit(1)
        .build(conn.get_database_backend());
    let chosen = match later.then_one(conn, read).await? {
        Some(row) => Some(mail_preference::Model::from_query_result(&row, "")?),
        None => None,
    };
    Ok(chosen
        .and_then(|row| Mode::parse(&row.mode))
        .unwrap_or(kind.default_mode()))
}

/// Sets one kind's mode (the default is stored like any other choice: it stays if the default
/// changes later, as the member saw it).
pub async fn set_mode(
    conn: &impl ConnectionTrait,
    user_id: i64,
    kind: MailKind,
    mode: Mode,
) -> Result<(), AppError> {
    mail_preference::Entity::insert(mail_preference::ActiveModel {
        user_id: Set(user_id),
        kind: Set(kind.as_str().into()),
        mode: Set(mode.as_str().into()),
    })
    .on_conflict(
        OnConflict::columns([
            mail_preference::Column::UserId,
            mail_preference::Column::Kind,
        ])
        .update_column(mail_preference::Column::Mode)
        .to_owned(),
    )
    .exec(conn)
    .await?;
    Ok(())
}

/// Mail may go to the member's address: they confirmed it and it does not bounce.
pub fn mailable(u: &user::Model) -> bool {
    u.email_confirmed_at.is_some() && u.email_bouncing_since.is_none()
}
