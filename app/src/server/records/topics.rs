//! What a topic row is: its title's bounds and slug, its status words, whether it waits for its
//! author's confirmation, and titles by id for lists.
use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::error::AppError;
use crate::model::{Role, TopicStatus};
use crate::server::entity::topic;

/// Topics' slugs and titles by id, for lists that link to them (one query).
pub(crate) async fn topic_titles(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, (String, String)>, AppError> {
    Ok(topic::Entity::find()
        .select_only()
        .columns([topic::Column::Id, topic::Column::Slug, topic::Column::Title])
        .filter(topic::Column::Id.is_in(ids))
        .into_tuple::<(i64, String, String)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(id, slug, title)| (id, (slug, title)))
        .collect())
}

/// Resolved by staff, not yet answered by its author.
pub fn waits_for_confirmation(t: &topic::Model) -> bool {
    t.status == TopicStatus::Resolved.as_str() && t.resolution_confirmed_at.is_none()
}

/// Whether the topic's author, in `author_role` now, is asked "did this solve it?". Only a
/// customer is: the answer is the customer's word on staff's work, and the response figures count
/// it. A customer since made staff would otherwise confirm their own topics at will; as staff
/// they set its status themselves.
pub fn asks_author_to_confirm(t: &topic::Model, author_role: Role) -> bool {
    waits_for_confirmation(t) && !author_role.is_staff()
}

/// Lower-case ASCII words joined by dashes, for readable URLs; "topic" if nothing is left. The
/// words are `slug_text`'s: accents dropped from Latin letters, other scripts ending a word, and
/// characters that show nothing splitting no word (a watched word held in a title must not show
/// in its address as two, posting::admission).
pub fn slugify(title: &str) -> String {
    slug_of(crate::server::slug_text::ascii_words(title), 80)
}

/// Slug words joined by dashes, as many as fit in `max` characters (a first word longer than
/// that cut to fit); "topic" if none.
pub fn slug_of<W: AsRef<str>>(words: impl IntoIterator<Item = W>, max: usize) -> String {
    let mut slug = String::new();
    for word in words {
        let word = word.as_ref();
        if slug.is_empty() {
            // ASCII: any byte is a character's end.
            slug.push_str(&word[..word.len().min(max)]);
            continue;
        }
        if slug.len() + word.len() + 1 > max {
            break;
        }
        slug.push('-');
        slug.push_str(word);
    }
    if slug.is_empty() {
        "topic".into()
    } else {
        slug
    }
}

pub const MAX_TITLE_CHARS: usize = 200;

pub const STATUS_UNKNOWN: &str = "That status doesn't exist. Choose open, acknowledged, planned, in progress, resolved, declined or closed.";

/// The topic `id` read for a change, its row locked until the transaction ends (see `lock`).
pub async fn locked(
    txn: &impl sea_orm::ConnectionTrait,
    id: i64,
) -> Result<Option<crate::server::entity::topic::Model>, crate::error::AppError> {
    use crate::server::entity::topic;
    use sea_orm::EntityTrait;
    lock(txn, id).await?;
    Ok(topic::Entity::find_by_id(id).one(txn).await?)
}

/// Locks the topic `id`'s row until the transaction ends, so two writers changing one topic at
/// once (two replies, two moderators) act one after the other, the second seeing the first's
/// change. A no-op `UPDATE` on PostgreSQL; nothing on SQLite, where every write transaction holds
/// the database's write lock from its start (see `posts::locked`).
pub async fn lock(
    txn: &impl sea_orm::ConnectionTrait,
    id: i64,
) -> Result<(), crate::error::AppError> {
    use crate::server::entity::topic;
    use sea_orm::{ColumnTrait, DbBackend, EntityTrait, QueryFilter, sea_query::Expr};
    if txn.get_database_backend() != DbBackend::Sqlite {
        topic::Entity::update_many()
            .col_expr(
                topic::Column::LastPostNumber,
                Expr::col(topic::Column::LastPostNumber),
            )
            .filter(topic::Column::Id.eq(id))
            .exec(txn)
            .await?;
    }
    Ok(())
}
