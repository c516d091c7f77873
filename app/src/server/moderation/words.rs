//! Watched words and the moderation settings admins change.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};

use crate::server::{
    auth::require_role,
    db::begin_write,
    entity::{user, watched_word},
    settings,
    watched_words::WordAction,
};
use crate::{error::AppError, model::Role};

/// Admins save the moderation numbers (bounds in `settings::ALL`) and the public log switch.
pub async fn save_settings(
    db: &DatabaseConnection,
    actor: &user::Model,
    values: &[(&str, &str)],
    log_public: bool,
) -> Result<(), AppError> {
    let mut values = values.to_vec();
    values.push((
        settings::MODERATION_LOG_PUBLIC,
        if log_public { "true" } else { "false" },
    ));
    let txn = begin_write(db).await?;
    settings::change_all(&txn, settings::ChangedBy::Admin(actor), &values).await?;
    txn.commit().await?;
    Ok(())
}

pub const WORD_EMPTY: &str = "Give a word or phrase to watch for.";

pub const WORD_PUNCTUATION: &str =
    "Watch for a word with letters, digits or symbols in it: punctuation alone is in most posts.";

pub const WORD_TAKEN: &str = "That word is already watched; remove it first to change its action.";

/// Admins add a watched word (`*` at either end for "and more letters").
pub async fn add_watched_word(
    db: &DatabaseConnection,
    actor: &user::Model,
    word: &str,
    action: &str,
) -> Result<(), AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    // Composed (NFC), so "año" is one entry however it was typed.
    let word: String =
        unicode_normalization::UnicodeNormalization::nfc(word.trim().to_lowercase().as_str())
            .collect();
    if crate::server::invisible::is_blank(word.trim_matches('*'))
        || crate::server::watched_words::watches_nothing(&word)
    {
        return Err(AppError::invalid("word", WORD_EMPTY));
    }
    if crate::server::watched_words::only_punctuation(&word) {
        return Err(AppError::invalid("word", WORD_PUNCTUATION));
    }
    if word.chars().count() > 100 {
        return Err(AppError::invalid(
            "word",
            "Watched words can be at most 100 characters.",
        ));
    }
    let action = WordAction::parse(action)
        .ok_or_else(|| AppError::invalid("action", "Choose block, hold, flag or censor."))?;
    let exists = watched_word::Entity::find()
        .filter(watched_word::Column::Word.eq(word.as_str()))
        .count(db)
        .await?;
    if exists > 0 {
        return Err(AppError::invalid("word", WORD_TAKEN));
    }
    watched_word::ActiveModel {
        word: Set(word),
        action: Set(action.as_str().into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn remove_watched_word(
    db: &DatabaseConnection,
    actor: &user::Model,
    id: i64,
) -> Result<(), AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    watched_word::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}
