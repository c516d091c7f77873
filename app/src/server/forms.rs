//! One-shot form tokens: every rendered form that writes carries a fresh token, and the write
//! consumes it in the same transaction. A form sent twice (a double click, a resubmitted page)
//! is then stored once and the second send gets a clear message.
use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::{db::is_unique_violation, entity::form_submission};
use crate::error::AppError;

/// Records `token` as used. Fails with `already_sent` if it was used before.
pub async fn consume(conn: &impl ConnectionTrait, token: &str, already_sent: &str) -> Result<(), AppError> {
    if token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AppError::invalid(
            "form",
            "This form is out of date. Reload the page and try again.",
        ));
    }
    if form_submission::Entity::find_by_id(token.to_string()).one(conn).await?.is_some() {
        return Err(AppError::invalid("form", already_sent));
    }
    let row = form_submission::ActiveModel {
        token: Set(token.to_string()),
        created_at: Set(Utc::now()),
    };
    match form_submission::Entity::insert(row).exec_without_returning(conn).await {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(AppError::invalid("form", already_sent)),
        Err(e) => Err(e.into()),
    }
}

/// Forgets tokens older than a day: no form stays open that long.
pub async fn purge_old(conn: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let cutoff = Utc::now() - Duration::days(1);
    let res = form_submission::Entity::delete_many()
        .filter(form_submission::Column::CreatedAt.lt(cutoff))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}
