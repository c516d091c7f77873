//! Sign-in abuse: throttling failed log-ins, refusing common passwords, password changes and
//! resets (which end the member's other sessions), and re-hashing old password hashes.
use std::{collections::HashSet, net::IpAddr, sync::OnceLock};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use sha2::{Digest, Sha256};

use super::{
    accounts,
    auth::{hash_password, needs_rehash, random_token, verify_password},
    db::begin_write,
    entity::{login_failure, password_reset, session, user},
    mail,
};
use crate::error::AppError;

// ---------------------------------------------------------------------------------------------
// Throttling

/// Failed log-ins counted over this window.
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
/// Failures for one typed name or address (account or not: the same for both, so the limit
/// reveals nothing) before it is refused for the rest of the window.
pub const FAILURES_PER_ACCOUNT: u64 = 10;
/// Failures from one address, whatever names it tries.
pub const FAILURES_PER_IP: u64 = 30;

/// Refuses a log-in attempt, before any password work, when the name or the address has failed
/// too often in the window; the message says when to try again.
pub async fn check_throttle(
    db: &DatabaseConnection,
    login_key: &str,
    ip: Option<IpAddr>,
) -> Result<(), AppError> {
    let since = Utc::now() - Duration::minutes(THROTTLE_WINDOW_MINUTES);
    let by_key = login_failure::Entity::find()
        .filter(login_failure::Column::LoginKey.eq(login_key))
        .filter(login_failure::Column::FailedAt.gt(since));
    if by_key.clone().count(db).await? >= FAILURES_PER_ACCOUNT {
        let oldest = oldest_counted(db, by_key, FAILURES_PER_ACCOUNT).await?;
        return Err(throttled("for this account", oldest));
    }
    if let Some(ip) = ip {
        let by_ip = login_failure::Entity::find()
            .filter(login_failure::Column::Ip.eq(ip.to_string()))
            .filter(login_failure::Column::FailedAt.gt(since));
        if by_ip.clone().count(db).await? >= FAILURES_PER_IP {
            let oldest = oldest_counted(db, by_ip, FAILURES_PER_IP).await?;
            return Err(throttled("from your network", oldest));
        }
    }
    Ok(())
}

/// The failure whose leaving the window lifts the limit: the `limit`-th newest.
async fn oldest_counted(
    db: &DatabaseConnection,
    query: sea_orm::Select<login_failure::Entity>,
    limit: u64,
) -> Result<DateTime<Utc>, AppError> {
    let row = query
        .order_by_desc(login_failure::Column::FailedAt)
        .offset(limit - 1)
        .one(db)
        .await?;
    Ok(row.map_or_else(Utc::now, |r| r.failed_at))
}

fn throttled(scope: &str, oldest: DateTime<Utc>) -> AppError {
    let free_at = oldest + Duration::minutes(THROTTLE_WINDOW_MINUTES);
    let minutes = ((free_at - Utc::now()).num_seconds() + 59)
        .div_euclid(60)
        .max(1);
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    AppError::TooMany(format!(
        "Too many failed log-ins {scope}. Try again in {minutes} {unit}."
    ))
}

pub async fn record_failure(
    db: &DatabaseConnection,
    login_key: &str,
    ip: Option<IpAddr>,
) -> Result<(), AppError> {
    login_failure::ActiveModel {
        login_key: Set(login_key.chars().take(254).collect()),
        ip: Set(ip.map(|i| i.to_string())),
        failed_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// After a successful log-in the name's failures are forgotten (the address's are not).
pub async fn clear_failures(db: &DatabaseConnection, login_key: &str) -> Result<(), AppError> {
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::LoginKey.eq(login_key))
        .exec(db)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Common passwords

fn common_passwords() -> &'static HashSet<String> {
    static LIST: OnceLock<HashSet<String>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("common_passwords.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(str::to_lowercase)
            .collect()
    })
}

pub const COMMON_PASSWORD: &str = "That password is one of the most common ones, which attackers try first. Choose another: a few unrelated words make a strong one.";

/// True for a password on the list, or a listed one with digits or punctuation tacked on
/// ("password2024!"), or one character repeated.
pub fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    let list = common_passwords();
    if list.contains(&lower) {
        return true;
    }
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    if stem.chars().count() >= 4 && list.contains(stem) {
        return true;
    }
    let mut chars = lower.chars();
    let first = chars.next();
    first.is_some() && chars.all(|c| Some(c) == first)
}

/// The checks every new password gets: length, then the common list.
pub fn validate_new_password(password: &str) -> Result<(), AppError> {
    accounts::validate_password(password)?;
    if is_common(password) {
        return Err(AppError::invalid("password", COMMON_PASSWORD));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Sessions

/// Ends every session of a member (password change or reset, suspension, "log out
/// everywhere", deletion). The caller starts a fresh one for the browser that asked, where it
/// should. Deleting the rows is not enough on its own: a request of one of those sessions may
/// still be running and hold a copy, so the account's session generation moves on too, and the
/// store refuses any session stamped with an older one.
pub async fn end_sessions(conn: &impl ConnectionTrait, user_id: i64) -> Result<u64, AppError> {
    user::Entity::update_many()
        .col_expr(
            user::Column::SessionGeneration,
            sea_orm::ExprTrait::add(
                sea_orm::sea_query::Expr::col(user::Column::SessionGeneration),
                1,
            ),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(conn)
        .await?;
    let res = session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// The member's current session generation: what a session signing in now is stamped with.
pub async fn session_generation(conn: &impl ConnectionTrait, user_id: i64) -> Result<i64, AppError> {
    user::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .map(|u| u.session_generation)
        .ok_or_else(|| AppError::NotFound("No such account.".into()))
}

// ---------------------------------------------------------------------------------------------
// Changing and resetting passwords

pub const WRONG_CURRENT_PASSWORD: &str = "Your current password isn't right.";

/// A signed-in member changes their password, proving they know the current one. Every session
/// of theirs ends; the caller signs this browser in again.
pub async fn change_password(
    db: &DatabaseConnection,
    user_id: i64,
    current: &str,
    new: &str,
) -> Result<(), AppError> {
    let found = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("No such account.".into()))?;
    if current.len() > accounts::PASSWORD_MAX_BYTES
        || !verify_password(current.to_string(), Some(found.password_hash.clone())).await?
    {
        return Err(AppError::invalid(
            "current_password",
            WRONG_CURRENT_PASSWORD,
        ));
    }
    validate_new_password(new)?;
    set_password(db, user_id, new).await
}

async fn set_password(db: &DatabaseConnection, user_id: i64, new: &str) -> Result<(), AppError> {
    let hash = hash_password(new.to_string()).await?;
    let txn = begin_write(db).await?;
    user::ActiveModel {
        id: Set(user_id),
        password_hash: Set(hash),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    end_sessions(&txn, user_id).await?;
    // Any reset link still out there is void once the password changed.
    password_reset::Entity::delete_many()
        .filter(password_reset::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

pub const RESETS_PER_HOUR: u64 = 3;
/// How long a reset link works.
pub const RESET_VALID_MINUTES: i64 = 60;
pub use crate::api::auth::{RESET_LINK_BAD, RESET_SENT};

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Someone asks for a reset link for `login` (a username or an address). When it is an account,
/// a single-use token is made (only its hash stored) and e-mailed; either way nothing tells the
/// asker which happened: the caller shows RESET_SENT and runs this after answering (see
/// api::auth), so even the time taken says nothing.
pub async fn request_reset(
    db: &DatabaseConnection,
    public_url: &str,
    login: &str,
) -> Result<(), AppError> {
    let key = login.trim().to_lowercase();
    if key.is_empty() || key.len() > accounts::EMAIL_MAX_CHARS {
        return Ok(());
    }
    // An address may be given by more than one account (see accounts::create_account): each
    // gets its own link, all to that address.
    let accounts = if key.contains('@') {
        accounts::login_candidates(db, &key).await?
    } else {
        user::Entity::find()
            .filter(user::Column::UsernameKey.eq(key))
            .all(db)
            .await?
    };
    for account in accounts {
        send_reset_link(db, public_url, &account).await?;
    }
    Ok(())
}

async fn send_reset_link(
    db: &DatabaseConnection,
    public_url: &str,
    account: &user::Model,
) -> Result<(), AppError> {
    // No one can flood a member's inbox: three links an hour at most.
    let recent = password_reset::Entity::find()
        .filter(password_reset::Column::UserId.eq(account.id))
        .filter(password_reset::Column::CreatedAt.gt(Utc::now() - Duration::hours(1)))
        .count(db)
        .await?;
    if recent >= RESETS_PER_HOUR {
        return Ok(());
    }
    let token = random_token();
    let now = Utc::now();
    let txn = begin_write(db).await?;
    password_reset::ActiveModel {
        token_hash: Set(token_hash(&token)),
        user_id: Set(account.id),
        created_at: Set(now),
        expires_at: Set(now + Duration::minutes(RESET_VALID_MINUTES)),
        used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let body = format!(
        "Hello {name},\n\nSomeone (we hope you) asked to reset the password of the account \
         \"{username}\". Choose a new one here within the hour:\n\n{public_url}/reset/{token}\n\n\
         The link works once. If you didn't ask, ignore this e-mail: your password stays as it is.\n",
        name = account.display_name,
        username = account.username,
    );
    mail::enqueue(&txn, &account.email, "Reset your password", &body).await?;
    txn.commit().await?;
    Ok(())
}

/// The account a reset token is for, if it is unused and unexpired.
pub async fn reset_account(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<password_reset::Model>, AppError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    Ok(password_reset::Entity::find_by_id(token_hash(token))
        .filter(password_reset::Column::UsedAt.is_null())
        .filter(password_reset::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?)
}

/// Sets a new password through a reset link: the link is spent, every session ends, and the
/// account is returned so the caller can sign this browser in.
pub async fn complete_reset(
    db: &DatabaseConnection,
    token: &str,
    new: &str,
) -> Result<user::Model, AppError> {
    let Some(reset) = reset_account(db, token).await? else {
        return Err(AppError::invalid("form", RESET_LINK_BAD));
    };
    validate_new_password(new)?;
    // Spend the link first, under the write lock: two uses at once cannot both pass.
    let txn = begin_write(db).await?;
    let spent = password_reset::Entity::update_many()
        .col_expr(
            password_reset::Column::UsedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(password_reset::Column::TokenHash.eq(reset.token_hash.clone()))
        .filter(password_reset::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        return Err(AppError::invalid("form", RESET_LINK_BAD));
    }
    txn.commit().await?;
    set_password(db, reset.user_id, new).await?;
    user::Entity::find_by_id(reset.user_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("No such account.".into()))
}

/// After a successful log-in: a hash made with older (cheaper) parameters than today's is
/// replaced by one made now, while the password is at hand.
pub async fn rehash_if_old(
    db: &DatabaseConnection,
    account: &user::Model,
    password: &str,
) -> Result<(), AppError> {
    if !needs_rehash(&account.password_hash) {
        return Ok(());
    }
    let hash = hash_password(password.to_string()).await?;
    user::ActiveModel {
        id: Set(account.id),
        password_hash: Set(hash),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Forgets what no longer matters: failures outside any window, spent or expired links.
pub async fn purge_old(db: &DatabaseConnection) -> Result<(), AppError> {
    let day_ago = Utc::now() - Duration::days(1);
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::FailedAt.lt(day_ago))
        .exec(db)
        .await?;
    password_reset::Entity::delete_many()
        .filter(password_reset::Column::ExpiresAt.lt(day_ago))
        .exec(db)
        .await?;
    Ok(())
}
