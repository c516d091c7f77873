//! The e-mailed links' tokens (password resets, address confirmations): their shape, what
//! is stored of them, and spending every reset link. Below both kinds of link, so neither
//! imports the other.
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use crate::{error::AppError, server::entity::password_reset};

/// What is stored of a link's token: its SHA-256, hex.
pub(super) fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `token` has the shape of a link token (`auth::random_token`): 64 hex characters.
/// Anything else is refused before it is hashed or looked up.
pub(super) fn is_link_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Spends every reset link member `user_id` has out: when the password changes, when the
/// address the links went to is no longer theirs, when the account is deleted (a link asked for
/// before would have given it a password again).
pub async fn void_reset_links(conn: &impl ConnectionTrait, user_id: i64) -> Result<(), AppError> {
    password_reset::Entity::delete_many()
        .filter(password_reset::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}
