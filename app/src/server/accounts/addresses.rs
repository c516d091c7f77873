//! Confirmed addresses. Sign-up sends a link to the address given; until it is opened no
//! notification e-mail goes there (notify::preferences::mailable), while on-site notifications
//! and password resets work as before (a reset is how someone gets back in). A member changes
//! their address from /account: a link goes to the new address, a notice to the old one, and
//! the change is made only when the link is used. Links are single-use tokens of which only the
//! SHA-256 is stored (email_tokens), valid 48 hours, made and checked as reset links are.
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, sea_query::Expr,
};

use super::link_tokens::{is_link_token, token_hash};
use crate::{
    error::AppError,
    server::{
        auth::random_token,
        db::{begin_private_write, begin_write, is_unique_violation, lock_key},
        entity::{email_token, user},
        mail,
        notify::compose::outside,
    },
};

/// How long a confirmation link works.
pub const CONFIRM_VALID_HOURS: i64 = 48;
/// Confirmation links per account, and confirmation e-mails per address, in an hour: as for
/// reset links, no one can flood an inbox through the form.
pub const CONFIRMATIONS_PER_HOUR: u64 = 3;
pub const CONFIRM_SUBJECT: &str = "Confirm your e-mail address";
pub const CHANGE_NOTICE_SUBJECT: &str = "Your e-mail address is being changed";

pub use crate::messages::CONFIRM_LINK_BAD;
pub const ALREADY_CONFIRMED: &str = "Your address is already confirmed.";
pub const SAME_ADDRESS: &str = "That is already your address. Enter the new one.";
pub const ADDRESS_IN_USE: &str =
    "Another account already uses that e-mail address. Use another address.";
pub const TOO_MANY_CONFIRMATIONS: &str = "Three confirmation e-mails were sent in the last hour. Check your inbox (and spam folder), or try again in an hour.";

/// Makes a link for `address` and stores its hash; returns the link. In the caller's
/// transaction, which must hold `lock_confirmations` when the limit matters.
pub(super) async fn new_link(
    conn: &impl ConnectionTrait,
    user_id: i64,
    address: &str,
) -> Result<String, AppError> {
    let token = random_token();
    let now = Utc::now();
    email_token::ActiveModel {
        user_id: Set(user_id),
        address: Set(address.to_string()),
        token_hash: Set(token_hash(&token)),
        created_at: Set(now),
        expires_at: Set(now + Duration::hours(CONFIRM_VALID_HOURS)),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(format!("{}/confirm-email/{token}", outside().public_url))
}

/// Queues the confirmation e-mail with a fresh link, in the caller's transaction.
pub(super) async fn queue_confirmation(
    conn: &impl ConnectionTrait,
    member: &user::Model,
    address: &str,
) -> Result<(), AppError> {
    let link = new_link(conn, member.id, address).await?;
    let text = format!(
        "Hello {name},\n\nConfirm that this is the e-mail address of the account \"{username}\" \
         by opening this link within 48 hours:\n\n{link}\n\nUntil then, no notification e-mails \
         are sent here. If you didn't ask for this, ignore this e-mail: nothing changes.\n",
        name = member.display_name,
        username = member.username,
    );
    mail::queue(
        conn,
        mail::Outgoing {
            to: address.to_string(),
            subject: CONFIRM_SUBJECT.into(),
            text,
            user_id: Some(member.id),
            kind: "confirm",
            ..Default::default()
        },
    )
    .await
}

/// Takes the locks that count confirmations to this account and this address, then counts
/// them: refused when either had its hourly share. Inside a write transaction.
async fn check_confirmation_limit(
    conn: &impl ConnectionTrait,
    user_id: i64,
    address: &str,
) -> Result<(), AppError> {
    let key = mail::address_key(address);
    let mut locks = [format!("confirm:{user_id}"), format!("mail:{key}")];
    locks.sort();
    for lock in &locks {
        lock_key(conn, lock).await?;
    }
    let hour_ago = Utc::now() - Duration::hours(1);
    let links = email_token::Entity::find()
        .filter(email_token::Column::UserId.eq(user_id))
        .filter(email_token::Column::CreatedAt.gt(hour_ago))
        .count(conn)
        .await?;
    if links >= CONFIRMATIONS_PER_HOUR
        || mail::sent_since(conn, &key, CONFIRM_SUBJECT, hour_ago).await? >= CONFIRMATIONS_PER_HOUR
    {
        return Err(AppError::TooMany(TOO_MANY_CONFIRMATIONS.into()));
    }
    Ok(())
}

async fn find_member(conn: &impl ConnectionTrait, user_id: i64) -> Result<user::Model, AppError> {
    user::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("No such account.".into()))
}

/// "Resend confirmation" on /account: a new link to the member's current address.
pub async fn resend_confirmation(db: &DatabaseConnection, user_id: i64) -> Result<(), AppError> {
    let txn = begin_private_write(db).await?;
    let member = find_member(&txn, user_id).await?;
    if member.email_confirmed_at.is_some() && member.email_bouncing_since.is_none() {
        return Err(AppError::invalid("form", ALREADY_CONFIRMED));
    }
    check_confirmation_limit(&txn, user_id, &member.email).await?;
    queue_confirmation(&txn, &member, &member.email).await?;
    txn.commit().await?;
    Ok(())
}

/// Whether another account has `address` (its own, or given at sign-up as a shared one).
async fn used_by_another(
    conn: &impl ConnectionTrait,
    user_id: i64,
    address: &str,
) -> Result<bool, AppError> {
    Ok(super::login_candidates(conn, &mail::address_key(address))
        .await?
        .iter()
        .any(|account| account.id != user_id))
}

/// A member asks to change their address: a link to the new address, a notice to the old one.
/// The address changes only when the link is used (`confirm`).
pub async fn request_change(
    db: &DatabaseConnection,
    user_id: i64,
    new_address: &str,
) -> Result<(), AppError> {
    let address = &crate::server::email_address::as_given(new_address);
    super::validate_own_email(address)?;
    let txn = begin_private_write(db).await?;
    let member = find_member(&txn, user_id).await?;
    if mail::address_key(address) == mail::address_key(&member.email) {
        return Err(AppError::invalid("email", SAME_ADDRESS));
    }
    if used_by_another(&txn, user_id, address).await? {
        return Err(AppError::invalid("email", ADDRESS_IN_USE));
    }
    check_confirmation_limit(&txn, user_id, address).await?;
    queue_confirmation(&txn, &member, address).await?;
    let notice = format!(
        "Hello {name},\n\nSomeone signed in to the account \"{username}\" asked to change its \
         e-mail address to {address}. Nothing changes unless that address confirms within 48 \
         hours; until then, e-mail keeps coming here.\n\nIf this wasn't you, log in, change your \
         password, and keep or restore your address on your account page: {base}/account\n",
        name = member.display_name,
        username = member.username,
        base = outside().public_url,
    );
    mail::queue(
        &txn,
        mail::Outgoing {
            to: member.email.clone(),
            subject: CHANGE_NOTICE_SUBJECT.into(),
            text: notice,
            user_id: Some(member.id),
            kind: "notice",
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The unused, unexpired link a token is for; None for any other token, of any shape.
pub async fn confirmation_link(
    conn: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<email_token::Model>, AppError> {
    if !is_link_token(token) {
        return Ok(None);
    }
    Ok(email_token::Entity::find()
        .filter(email_token::Column::TokenHash.eq(token_hash(token)))
        .filter(email_token::Column::UsedAt.is_null())
        .filter(email_token::Column::ExpiresAt.gt(Utc::now()))
        .one(conn)
        .await?)
}

/// Uses a confirmation link: the account's address becomes the link's, confirmed, and any
/// bounce is forgotten (the member just proved mail arrives). The link is spent; so are the
/// account's other open links when the address changed (they were for an address it no longer
/// has, or another change the member superseded), its reset links too.
pub async fn confirm(db: &DatabaseConnection, token: &str) -> Result<user::Model, AppError> {
    let bad = || AppError::invalid("form", CONFIRM_LINK_BAD);
    let txn = begin_write(db).await?;
    let link = confirmation_link(&txn, token).await?.ok_or_else(bad)?;
    let member = find_member(&txn, link.user_id).await?;
    let changes = mail::address_key(&link.address) != mail::address_key(&member.email);
    if changes && used_by_another(&txn, member.id, &link.address).await? {
        return Err(AppError::invalid("form", ADDRESS_IN_USE));
    }
    let now = Utc::now();
    let mut row: user::ActiveModel = member.clone().into();
    if changes {
        row.email = Set(link.address.clone());
        row.email_key = Set(mail::address_key(&link.address));
    }
    row.email_confirmed_at = Set(Some(now));
    row.email_bouncing_since = Set(None);
    let updated = match row.update(&txn).await {
        Ok(updated) => updated,
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::invalid("form", ADDRESS_IN_USE));
        }
        Err(e) => return Err(e.into()),
    };
    let mut spent = email_token::Entity::update_many()
        .col_expr(email_token::Column::UsedAt, Expr::value(now))
        .filter(email_token::Column::UserId.eq(member.id))
        .filter(email_token::Column::UsedAt.is_null());
    if !changes {
        spent = spent.filter(email_token::Column::Id.eq(link.id));
    }
    spent.exec(&txn).await?;
    if changes {
        // Reset links went to the old address, which may be in someone else's hands now.
        crate::server::records::users::void_reset_links(&txn, member.id).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

/// The address a member asked to change to and has not confirmed yet (the newest open link for
/// another address than theirs), for /account.
pub async fn pending_change(
    conn: &impl ConnectionTrait,
    member: &user::Model,
) -> Result<Option<String>, AppError> {
    let open = email_token::Entity::find()
        .filter(email_token::Column::UserId.eq(member.id))
        .filter(email_token::Column::UsedAt.is_null())
        .filter(email_token::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(email_token::Column::Id)
        .all(conn)
        .await?;
    let current = mail::address_key(&member.email);
    Ok(open
        .into_iter()
        .map(|link| link.address)
        .find(|address| mail::address_key(address) != current))
}

/// Forgets links that expired over a day ago.
pub async fn purge_old(db: &DatabaseConnection) -> Result<(), AppError> {
    email_token::Entity::delete_many()
        .filter(email_token::Column::ExpiresAt.lt(Utc::now() - Duration::days(1)))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{
        accounts::{NewAccount, create_admin, sign_up},
        entity::email,
        testing::World,
    };

    fn account(username: &str, address: &str) -> NewAccount {
        NewAccount {
            username: username.into(),
            email: address.into(),
            password: "a long enough password".into(),
            form_token: Some(random_token()),
        }
    }

    async fn mails(db: &DatabaseConnection) -> Vec<email::Model> {
        email::Entity::find().all(db).await.unwrap()
    }

    /// The token in the last e-mail to `to` with a confirmation link.
    async fn link_token(db: &DatabaseConnection, to: &str) -> String {
        let mail = mails(db)
            .await
            .into_iter()
            .rev()
            .find(|m| m.to_address == to && m.body.contains("/confirm-email/"))
            .unwrap_or_else(|| panic!("no confirmation link to {to}"));
        let start = mail.body.find("/confirm-email/").unwrap() + "/confirm-email/".len();
        mail.body[start..start + 64].to_string()
    }

    async fn reload(db: &DatabaseConnection, id: i64) -> user::Model {
        user::Entity::find_by_id(id).one(db).await.unwrap().unwrap()
    }

    async fn snapshot(
        db: &DatabaseConnection,
    ) -> (Vec<user::Model>, Vec<email_token::Model>, Vec<email::Model>) {
        (
            user::Entity::find().all(db).await.unwrap(),
            email_token::Entity::find().all(db).await.unwrap(),
            mails(db).await,
        )
    }

    #[tokio::test]
    async fn sign_up_sends_one_link_that_confirms_once() {
        let w = World::new().await;
        let ada = sign_up(&w.db, account("ada", "ada@example.com"))
            .await
            .unwrap();
        assert!(ada.email_confirmed_at.is_none());
        assert!(!crate::server::notify::preferences::mailable(&ada));
        let sent = mails(&w.db).await;
        assert_eq!(sent.len(), 1);
        assert_eq!(
            (sent[0].subject.as_str(), sent[0].kind.as_str()),
            (CONFIRM_SUBJECT, "confirm")
        );
        let token = link_token(&w.db, "ada@example.com").await;
        // Only the hash is stored.
        assert!(
            email_token::Entity::find()
                .all(&w.db)
                .await
                .unwrap()
                .iter()
                .all(|t| t.token_hash != token && t.token_hash == token_hash(&token))
        );
        let confirmed = confirm(&w.db, &token).await.unwrap();
        assert!(confirmed.email_confirmed_at.is_some());
        assert!(crate::server::notify::preferences::mailable(&confirmed));
        let before = snapshot(&w.db).await;
        assert_eq!(
            confirm(&w.db, &token).await.unwrap_err(),
            AppError::invalid("form", CONFIRM_LINK_BAD)
        );
        assert_eq!(snapshot(&w.db).await, before);
    }

    #[tokio::test]
    async fn operators_accounts_are_confirmed() {
        let w = World::new().await;
        let root = create_admin(
            &w.db,
            "root",
            "root@example.com",
            "a long enough password",
            None,
        )
        .await
        .unwrap();
        assert!(root.email_confirmed_at.is_some());
        assert!(mails(&w.db).await.is_empty());
    }

    #[tokio::test]
    async fn confirming_clears_a_bounce_and_resending_is_limited() {
        let w = World::new().await;
        let me = w.customer.id;
        assert_eq!(
            resend_confirmation(&w.db, me).await.unwrap_err(),
            AppError::invalid("form", ALREADY_CONFIRMED)
        );
        let mut row: user::ActiveModel = w.customer.clone().into();
        row.email_bouncing_since = Set(Some(Utc::now()));
        row.update(&w.db).await.unwrap();
        for _ in 0..CONFIRMATIONS_PER_HOUR {
            resend_confirmation(&w.db, me).await.unwrap();
        }
        let before = snapshot(&w.db).await;
        assert_eq!(
            resend_confirmation(&w.db, me).await.unwrap_err(),
            AppError::TooMany(TOO_MANY_CONFIRMATIONS.into())
        );
        assert_eq!(snapshot(&w.db).await, before);
        let token = link_token(&w.db, &w.customer.email).await;
        let confirmed = confirm(&w.db, &token).await.unwrap();
        assert_eq!(confirmed.email_bouncing_since, None);
        assert_eq!(confirmed.email, w.customer.email);
    }

    #[tokio::test]
    async fn a_change_mails_both_addresses_and_takes_effect_only_when_confirmed() {
        let w = World::new().await;
        let me = w.customer.clone();
        request_change(&w.db, me.id, " New@Example.com ")
            .await
            .unwrap();
        let sent = mails(&w.db).await;
        assert_eq!(sent.len(), 2);
        assert!(
            sent.iter()
                .any(|m| m.to_address == "New@Example.com" && m.subject == CONFIRM_SUBJECT)
        );
        assert!(sent.iter().any(|m| m.to_address == me.email
            && m.subject == CHANGE_NOTICE_SUBJECT
            && m.body.contains("New@Example.com")));
        assert_eq!(reload(&w.db, me.id).await.email, me.email);
        assert_eq!(
            pending_change(&w.db, &me).await.unwrap().as_deref(),
            Some("New@Example.com")
        );
        let token = link_token(&w.db, "New@Example.com").await;
        confirm(&w.db, &token).await.unwrap();
        let changed = reload(&w.db, me.id).await;
        assert_eq!(
            (changed.email.as_str(), changed.email_key.as_str()),
            ("New@Example.com", "new@example.com")
        );
        assert!(changed.email_confirmed_at.is_some());
        assert_eq!(pending_change(&w.db, &changed).await.unwrap(), None);
    }

    #[tokio::test]
    async fn each_bad_change_or_link_gets_its_message_and_writes_nothing() {
        let w = World::new().await;
        let me = w.customer.clone();
        let before = snapshot(&w.db).await;
        let cases = [
            (
                me.email.to_uppercase(),
                AppError::invalid("email", SAME_ADDRESS),
            ),
            (
                w.other.email.clone(),
                AppError::invalid("email", ADDRESS_IN_USE),
            ),
            (
                "not-an-address".into(),
                AppError::invalid(
                    "email",
                    "That doesn't look like an e-mail address (like name@example.com).",
                ),
            ),
            (
                "a@example.com, b@example.com".into(),
                AppError::invalid("email", crate::server::accounts::EMAIL_ONE_ADDRESS),
            ),
            (
                "admin@demo.backyard.invalid".into(),
                AppError::invalid("email", crate::server::accounts::EMAIL_NEVER_DELIVERED),
            ),
        ];
        for (address, expected) in cases {
            assert_eq!(
                request_change(&w.db, me.id, &address).await.unwrap_err(),
                expected,
                "{address}"
            );
        }
        let bad = AppError::invalid("form", CONFIRM_LINK_BAD);
        for token in ["", "abc", &"g".repeat(64), &"a".repeat(64), &"a".repeat(65)] {
            assert_eq!(confirm(&w.db, token).await.unwrap_err(), bad, "{token}");
        }
        assert_eq!(snapshot(&w.db).await, before);
    }

    #[tokio::test]
    async fn an_expired_link_or_one_to_an_address_taken_since_changes_nothing() {
        let w = World::new().await;
        let me = w.customer.clone();
        request_change(&w.db, me.id, "late@example.com")
            .await
            .unwrap();
        let late = link_token(&w.db, "late@example.com").await;
        email_token::Entity::update_many()
            .col_expr(
                email_token::Column::ExpiresAt,
                Expr::value(Utc::now() - Duration::minutes(1)),
            )
            .exec(&w.db)
            .await
            .unwrap();
        request_change(&w.db, me.id, "taken@example.com")
            .await
            .unwrap();
        let taken = link_token(&w.db, "taken@example.com").await;
        // Someone else took the address while the link was on its way.
        let mut other: user::ActiveModel = w.other.clone().into();
        other.email = Set("taken@example.com".into());
        other.email_key = Set("taken@example.com".into());
        other.update(&w.db).await.unwrap();
        let before = snapshot(&w.db).await;
        assert_eq!(
            confirm(&w.db, &late).await.unwrap_err(),
            AppError::invalid("form", CONFIRM_LINK_BAD)
        );
        assert_eq!(
            confirm(&w.db, &taken).await.unwrap_err(),
            AppError::invalid("form", ADDRESS_IN_USE)
        );
        assert_eq!(snapshot(&w.db).await, before);
    }

    #[tokio::test]
    async fn a_sign_up_with_an_address_in_use_confirms_through_the_owners_one_notice() {
        let w = World::new().await;
        let first = sign_up(&w.db, account("first", "same@example.com"))
            .await
            .unwrap();
        let token = link_token(&w.db, "same@example.com").await;
        confirm(&w.db, &token).await.unwrap();
        let second = sign_up(&w.db, account("second", "same@example.com"))
            .await
            .unwrap();
        let notice = mails(&w.db).await.pop().unwrap();
        assert!(notice.body.contains("\"second\""));
        let token = link_token(&w.db, "same@example.com").await;
        let confirmed = confirm(&w.db, &token).await.unwrap();
        assert_eq!(confirmed.id, second.id);
        assert_ne!(confirmed.email_key, first.email_key);
    }
}
