//! Members by id, authors as pages name them, whether a moderator may act on one, and whether a
//! member may still write; spending their reset links.
use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::error::AppError;
use crate::server::entity::user;

pub async fn member(conn: &impl ConnectionTrait, id: i64) -> Result<user::Model, AppError> {
    user::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(MEMBER_MISSING.into()))
}

/// The member `id`, their row locked until the transaction ends (a no-op `UPDATE` on
/// PostgreSQL; on SQLite the write transaction holds the database's lock): what suspends,
/// removes or deletes a member takes it first, and a post being admitted shares it
/// (`posting::admission::admit`), so neither misses the other.
pub async fn locked(conn: &impl ConnectionTrait, id: i64) -> Result<user::Model, AppError> {
    use sea_orm::sea_query::Expr;
    if conn.get_database_backend() != sea_orm::DbBackend::Sqlite {
        user::Entity::update_many()
            .col_expr(user::Column::Id, Expr::col(user::Column::Id))
            .filter(user::Column::Id.eq(id))
            .exec(conn)
            .await?;
    }
    member(conn, id).await
}

/// Refused: the member's account was deleted while what they sent was on its way.
pub const ACCOUNT_GONE: &str = "This account was deleted.";

/// Member `id` as the database has them now, for a write of theirs: refused when suspended or
/// deleted since their request read them (a write in flight was otherwise written after the
/// suspension or the deletion, its sweep included). On PostgreSQL their row is shared until the
/// commit, so a suspension or deletion (which locks it first, `locked`) waits for the write or is
/// seen by it: call it before the write takes its other locks. On SQLite the writers' turn
/// already orders them.
pub async fn still_writing(conn: &impl ConnectionTrait, id: i64) -> Result<user::Model, AppError> {
    let mut find = user::Entity::find_by_id(id);
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        find = find.lock_shared();
    }
    let member = find
        .one(conn)
        .await?
        .ok_or_else(|| AppError::Forbidden(ACCOUNT_GONE.into()))?;
    may_still_write(&member)?;
    Ok(member)
}

/// Refuses a member, as just read, who is suspended or whose account was deleted.
pub fn may_still_write(member: &user::Model) -> Result<(), AppError> {
    if is_deleted(member) {
        return Err(AppError::Forbidden(ACCOUNT_GONE.into()));
    }
    crate::server::auth::check_not_suspended(member)
}

pub const MEMBER_MISSING: &str = "There is no such member.";

/// An account an admin deleted (admin::delete_account): renamed `deleted-…`, with no password
/// (sign-up refuses names of that shape, so no living member looks like one).
pub fn is_deleted(u: &user::Model) -> bool {
    u.username.starts_with(crate::server::names::DELETED_PREFIX) && u.password_hash == "!"
}

/// An author as pages show them: both names, and their avatar (an upload; None: initials).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Author {
    pub username: String,
    pub display_name: String,
    pub avatar: Option<i64>,
}

/// Authors by id, in one query that reads only what pages show (a page of 30 posts must not
/// drag 30 password hashes and e-mail addresses out of the database).
pub async fn authors(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, Author>, AppError> {
    let ids: HashSet<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String, String, Option<i64>)> = user::Entity::find()
        .select_only()
        .columns([
            user::Column::Id,
            user::Column::Username,
            user::Column::DisplayName,
            user::Column::AvatarUploadId,
        ])
        .filter(user::Column::Id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, username, display_name, avatar)| {
            let author = Author {
                username,
                display_name,
                avatar,
            };
            (id, author)
        })
        .collect())
}

/// `auth::check_may_act_on` for the author of a post the moderator acts on.
pub async fn check_may_act_on_author(
    conn: &impl ConnectionTrait,
    moderator: &user::Model,
    author_id: i64,
) -> Result<(), AppError> {
    let author = user::Entity::find_by_id(author_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(crate::server::visibility::POST_MISSING.into()))?;
    crate::server::auth::check_may_act_on(moderator, &author)
}

/// Spends every reset link member `user_id` has out: when the password changes, when the
/// address the links went to is no longer theirs, when the account is deleted (a link asked for
/// before would have given it a password again).
pub async fn void_reset_links(conn: &impl ConnectionTrait, user_id: i64) -> Result<(), AppError> {
    crate::server::entity::password_reset::Entity::delete_many()
        .filter(crate::server::entity::password_reset::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}
