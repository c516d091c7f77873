//! Sign-in abuse: throttling failed log-ins, refusing common passwords, password changes and
//! resets (which end the member's other sessions), and re-hashing old password hashes.
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::link_tokens::{is_link_token, token_hash};
use crate::error::AppError;
use crate::server::{
    accounts,
    auth::{hash_password, needs_rehash, random_token, verify_password},
    db::{begin_private_write, lock_key},
    entity::{login_failure, password_reset, user},
    mail,
};

// ---------------------------------------------------------------------------------------------
// Throttling

/// Failed log-ins counted over this window.
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
/// Failures for one typed name or address (account or not: the same for both, so the limit
/// reveals nothing) before it is refused for the rest of the window.
pub const FAILURES_PER_ACCOUNT: u64 = 10;
/// Failures from one address, whatever names it tries.
pub const FAILURES_PER_IP: u64 = 30;

/// What a log-in attempt counts against: each account the typed name or address reaches (so a
/// username and every spelling of its address share one budget), or, when it reaches none, the
/// typed text itself (so an unknown name is limited the same way and the limit reveals nothing).
pub fn attempt_keys(typed_key: &str, accounts: &[user::Model]) -> Vec<String> {
    let mut keys: Vec<String> = if accounts.is_empty() {
        vec![format!(
            "name:{}",
            typed_key.chars().take(240).collect::<String>()
        )]
    } else {
        accounts
            .iter()
            .map(|a| format!("account:{}", a.id))
            .collect()
    };
    keys.sort();
    keys.dedup();
    keys
}

/// Counts a log-in attempt before any password work, atomically: in one write transaction, with
/// its keys locked, it refuses the attempt when a key or the address has failed too often in the
/// window (the message says when to try again), and otherwise records it as a failure, which
/// `clear_failures` takes back if the password turns out right. So however many attempts arrive
/// at once, at most the limit of them reach the password check.
pub async fn admit_attempt(
    db: &DatabaseConnection,
    keys: &[String],
    ip: Option<IpAddr>,
) -> Result<Vec<i64>, AppError> {
    let since = Utc::now() - Duration::minutes(THROTTLE_WINDOW_MINUTES);
    let txn = begin_private_write(db).await?;
    let ip_key = ip.map(|ip| ip.to_string());
    let mut locks: Vec<String> = keys.iter().map(|k| format!("login:{k}")).collect();
    if let Some(ip) = &ip_key {
        locks.push(format!("login-ip:{ip}"));
    }
    locks.sort();
    for lock in &locks {
        lock_key(&txn, lock).await?;
    }
    for key in keys {
        let by_key = login_failure::Entity::find()
            .filter(login_failure::Column::LoginKey.eq(key.as_str()))
            .filter(login_failure::Column::FailedAt.gt(since));
        if by_key.clone().count(&txn).await? >= FAILURES_PER_ACCOUNT {
            let oldest = oldest_counted(&txn, by_key, FAILURES_PER_ACCOUNT).await?;
            return Err(throttled("for this account", oldest));
        }
    }
    if let Some(ip) = &ip_key {
        let by_ip = login_failure::Entity::find()
            .filter(login_failure::Column::Ip.eq(ip.as_str()))
            .filter(login_failure::Column::FailedAt.gt(since));
        if by_ip.clone().count(&txn).await? >= FAILURES_PER_IP {
            let oldest = oldest_counted(&txn, by_ip, FAILURES_PER_IP).await?;
            return Err(throttled("from your network", oldest));
        }
    }
    // One row per key; only the first carries the address, so the address counts the attempt
    // once however many accounts it reached.
    let mut recorded = Vec::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        let row = login_failure::ActiveModel {
            login_key: Set(key.clone()),
            ip: Set(ip_key.clone().filter(|_| i == 0)),
            failed_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        recorded.push(row.id);
    }
    txn.commit().await?;
    Ok(recorded)
}

/// Takes back exactly the rows `admit_attempt` recorded for an attempt whose password was never
/// checked (the hashing queue was full). Only these rows: forgetting the account's other
/// failures would let a flood that fills the queue reset the limit.
pub async fn take_back_attempt(db: &DatabaseConnection, recorded: &[i64]) -> Result<(), AppError> {
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::Id.is_in(recorded.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// The failure whose leaving the window lifts the limit: the `limit`-th newest.
async fn oldest_counted(
    conn: &impl ConnectionTrait,
    query: sea_orm::Select<login_failure::Entity>,
    limit: u64,
) -> Result<DateTime<Utc>, AppError> {
    let row = query
        .order_by_desc(login_failure::Column::FailedAt)
        .offset(limit - 1)
        .one(conn)
        .await?;
    Ok(row.map_or_else(Utc::now, |r| r.failed_at))
}

fn throttled(scope: &str, oldest: DateTime<Utc>) -> AppError {
    let free_at = oldest + Duration::minutes(THROTTLE_WINDOW_MINUTES);
    let minutes = ((free_at - Utc::now()).num_seconds() + 59)
        .div_euclid(60)
        .max(1);
    AppError::TooMany(format!(
        "Too many failed log-ins {scope}. Try again in {}.",
        crate::format::count(minutes, "minute", "minutes")
    ))
}

/// After a successful log-in the keys' failures are forgotten, the attempt's own included (the
/// address's failures under other keys are not).
pub async fn clear_failures(db: &DatabaseConnection, keys: &[String]) -> Result<(), AppError> {
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::LoginKey.is_in(keys.iter().map(String::as_str)))
        .exec(db)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Common passwords

pub const COMMON_PASSWORD: &str = "That password is one of the most common ones, which attackers try first. Choose another: a few unrelated words make a strong one.";
pub const CONTEXT_PASSWORD: &str = "Your password can't contain your username, your e-mail address, the site's name or a published demo password: attackers try those first.";

/// Fewer guesses than this (zxcvbn's estimate) and a password falls to an online attack that
/// gets past the log-in throttle: zxcvbn's "safely unguessable" score 3.
const MIN_GUESS_SCORE: u8 = 3;
/// zxcvbn's work grows fast with length; past this many characters a password is judged by its
/// start (a long password whose start is strong is strong).
const JUDGED_CHARS: usize = 100;
/// Context words shorter than this are left to zxcvbn's estimate (which knows them as user
/// inputs) rather than refused wherever they occur: "sam" is inside too many words.
const CONTEXT_WORD_MIN_CHARS: usize = 4;

/// The checks every new password gets: its length; then the words an attacker who knows whose
/// account it is tries first (the username, the e-mail address and its parts, the site's name,
/// "backyard", the demo passwords the README publishes); then zxcvbn's estimate, whose lists
/// hold the 30,000 most common passwords with their l33t spellings, names and words.
pub async fn validate_new_password(
    conn: &impl ConnectionTrait,
    password: &str,
    username: &str,
    email: &str,
) -> Result<(), AppError> {
    accounts::validate_password(password)?;
    let site_name = crate::server::settings::text(conn, crate::server::settings::SITE_NAME).await?;
    let squash = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let local_part = email.split('@').next().unwrap_or_default();
    let mut context: Vec<&str> = vec![username, local_part, &site_name, "backyard"];
    context.extend(local_part.split(|c: char| !c.is_alphanumeric()));
    context.extend(super::DEMO_LOGINS.iter().map(|(_, password, _)| *password));
    let squashed = squash(password);
    if context
        .iter()
        .map(|word| squash(word))
        .any(|word| word.chars().count() >= CONTEXT_WORD_MIN_CHARS && squashed.contains(&word))
    {
        return Err(AppError::invalid("password", CONTEXT_PASSWORD));
    }
    let judged: String = password.chars().take(JUDGED_CHARS).collect();
    if u8::from(zxcvbn::zxcvbn(&judged, &context).score()) < MIN_GUESS_SCORE {
        return Err(AppError::invalid("password", COMMON_PASSWORD));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Sessions

// ---------------------------------------------------------------------------------------------
// Changing and resetting passwords

pub const WRONG_CURRENT_PASSWORD: &str = "Your current password isn't right.";

/// A signed-in member changes their password, proving they know the current one. Every session
/// of theirs ends; the caller signs this browser in again. A wrong current password counts as a
/// failed log-in of the account, so a session left open is no way round the log-in's limit.
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
    let keys = attempt_keys("", std::slice::from_ref(&found));
    admit_attempt(db, &keys, None).await?;
    if current.len() > accounts::PASSWORD_MAX_BYTES
        || !verify_password(current.to_string(), Some(found.password_hash.clone())).await?
    {
        return Err(AppError::invalid(
            "current_password",
            WRONG_CURRENT_PASSWORD,
        ));
    }
    clear_failures(db, &keys).await?;
    validate_new_password(db, new, &found.username, &found.email).await?;
    set_password(db, user_id, new).await
}

async fn set_password(db: &DatabaseConnection, user_id: i64, new: &str) -> Result<(), AppError> {
    let hash = hash_password(new.to_string()).await?;
    let txn = begin_private_write(db).await?;
    // Never on an account deleted meanwhile (a reset link spent just before the deletion).
    let live = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .filter(|u| !crate::server::records::users::is_deleted(u))
        .ok_or_else(|| AppError::invalid("form", RESET_LINK_BAD))?;
    let mut row: user::ActiveModel = live.into();
    row.password_hash = Set(hash);
    row.update(&txn).await?;
    crate::server::session_store::end_sessions(&txn, user_id).await?;
    // Any reset link still out there is void once the password changed.
    crate::server::records::users::void_reset_links(&txn, user_id).await?;
    txn.commit().await?;
    Ok(())
}

pub const RESETS_PER_HOUR: u64 = 3;
/// How long a reset link works.
pub const RESET_VALID_MINUTES: i64 = 60;
pub use crate::messages::{RESET_LINK_BAD, RESET_SENT};

/// Someone asks for a reset link for `login` (a username or an address). When it is an account,
/// a single-use token is made (only its hash stored) and e-mailed; either way nothing tells the
/// asker which happened: the caller shows RESET_SENT and runs this after answering (see
/// api::auth), so even the time taken says nothing.
pub async fn request_reset(
    db: &DatabaseConnection,
    public_url: &str,
    login: &str,
) -> Result<(), AppError> {
    let key = accounts::login_key(login.trim());
    if key.is_empty() || key.chars().count() > accounts::EMAIL_MAX_CHARS {
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

/// The subject of reset e-mails, which the per-address limit counts.
const RESET_SUBJECT: &str = "Reset your password";

async fn send_reset_link(
    db: &DatabaseConnection,
    public_url: &str,
    account: &user::Model,
) -> Result<(), AppError> {
    let token = random_token();
    let now = Utc::now();
    let hour_ago = now - Duration::hours(1);
    let txn = begin_private_write(db).await?;
    // No one can flood a member's inbox: three links an hour at most, per account and per
    // address (an address may belong to several accounts), counted under the lock so parallel
    // requests cannot all pass the count.
    let address = mail::address_key(&account.email);
    for key in [format!("mail:{address}"), format!("resets:{}", account.id)] {
        lock_key(&txn, &key).await?;
    }
    let recent = password_reset::Entity::find()
        .filter(password_reset::Column::UserId.eq(account.id))
        .filter(password_reset::Column::CreatedAt.gt(hour_ago))
        .count(&txn)
        .await?;
    if recent >= RESETS_PER_HOUR
        || mail::sent_since(&txn, &address, RESET_SUBJECT, hour_ago).await? >= RESETS_PER_HOUR
    {
        return Ok(());
    }
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
    mail::enqueue(&txn, &account.email, RESET_SUBJECT, &body).await?;
    txn.commit().await?;
    Ok(())
}

/// The account a reset token is for, if it is unused and unexpired.
pub async fn reset_account(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<password_reset::Model>, AppError> {
    if !is_link_token(token) {
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
    let account = user::Entity::find_by_id(reset.user_id)
        .one(db)
        .await?
        .filter(|a| !crate::server::records::users::is_deleted(a))
        .ok_or_else(|| AppError::invalid("form", RESET_LINK_BAD))?;
    validate_new_password(db, new, &account.username, &account.email).await?;
    // Spend the link first, under the write lock: two uses at once cannot both pass.
    let txn = begin_private_write(db).await?;
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
    // Only over the hash that was checked: if the password changed while this log-in was
    // hashing, writing the old password's new hash would undo the change.
    user::Entity::update_many()
        .col_expr(
            user::Column::PasswordHash,
            sea_orm::sea_query::Expr::value(hash),
        )
        .filter(user::Column::Id.eq(account.id))
        .filter(user::Column::PasswordHash.eq(account.password_hash.as_str()))
        .exec(db)
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
    super::addresses::purge_old(db).await
}
