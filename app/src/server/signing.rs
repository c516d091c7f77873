//! Signed tokens for links and addresses that work without signing in: one-click unsubscribe
//! (per member and kind) and reply by e-mail (per member and topic). HMAC-SHA-256 under a key
//! the site generates on first start and keeps in the database (`auth::server_secret`), so every app server
//! on one database signs alike and a restored backup keeps its links working.
//!
//! Tokens are lower-case hex and digits: they survive mail systems that fold the case of an
//! address's local part.
use sea_orm::ConnectionTrait;

use super::auth::{hmac_sha256, server_secret, to_hex};
use crate::error::AppError;

/// Hex characters of the signature kept in a token: 128 bits.
const SIGNATURE_CHARS: usize = 32;

fn signature(key: &[u8], purpose: &str, payload: &str) -> String {
    let message = format!("{purpose}\0{payload}");
    to_hex(&hmac_sha256(key, message.as_bytes()))[..SIGNATURE_CHARS].to_string()
}

async fn key(conn: &impl ConnectionTrait) -> Result<[u8; 32], AppError> {
    server_secret(conn, "token-signing").await
}

/// Makes sure the key exists (the server calls it on start).
pub async fn ensure_key(conn: &impl ConnectionTrait) -> Result<(), AppError> {
    key(conn).await.map(|_| ())
}

/// `payload-signature`, for `purpose` (different purposes never accept each other's tokens).
pub async fn sign(
    conn: &impl ConnectionTrait,
    purpose: &str,
    payload: &str,
) -> Result<String, AppError> {
    Ok(format!(
        "{payload}-{}",
        signature(&key(conn).await?, purpose, payload)
    ))
}

/// The payload of a token signed for `purpose`, or None for a forged, altered or malformed one.
pub async fn verify(
    conn: &impl ConnectionTrait,
    purpose: &str,
    token: &str,
) -> Result<Option<String>, AppError> {
    let Some((payload, given)) = token.rsplit_once('-') else {
        return Ok(None);
    };
    if given.len() != SIGNATURE_CHARS || payload.is_empty() || token.len() > 200 {
        return Ok(None);
    }
    let expected = signature(&key(conn).await?, purpose, payload);
    // Constant time: a timing difference must not tell how much of a guess was right.
    let same = expected
        .bytes()
        .zip(given.bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0;
    Ok(same.then(|| payload.to_string()))
}

const UNSUBSCRIBE: &str = "unsubscribe";
const REPLY: &str = "reply";

/// The token of a one-click unsubscribe link: this member, this kind of e-mail.
pub async fn unsubscribe_token(
    conn: &impl ConnectionTrait,
    user_id: i64,
    kind: &str,
) -> Result<String, AppError> {
    sign(conn, UNSUBSCRIBE, &format!("{user_id}.{kind}")).await
}

/// The member and kind an unsubscribe token was made for.
pub async fn read_unsubscribe_token(
    conn: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<(i64, String)>, AppError> {
    Ok(verify(conn, UNSUBSCRIBE, token).await?.and_then(|payload| {
        let (user, kind) = payload.split_once('.')?;
        Some((user.parse().ok()?, kind.to_string()))
    }))
}

/// The token in a notification's Reply-To (`reply+TOKEN@domain`): this member, this topic.
pub async fn reply_token(
    conn: &impl ConnectionTrait,
    user_id: i64,
    topic_id: i64,
) -> Result<String, AppError> {
    sign(conn, REPLY, &format!("{user_id}.{topic_id}")).await
}

/// The member and topic a reply token was made for.
pub async fn read_reply_token(
    conn: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<(i64, i64)>, AppError> {
    Ok(verify(conn, REPLY, &token.to_ascii_lowercase())
        .await?
        .and_then(|payload| {
            let (user, topic) = payload.split_once('.')?;
            Some((user.parse().ok()?, topic.parse().ok()?))
        }))
}

const MESSAGE_ID: &str = "message-id";

/// The key `message_id_token` signs with, read once for a batch of messages.
pub async fn message_id_key(conn: &impl ConnectionTrait) -> Result<[u8; 32], AppError> {
    key(conn).await
}

/// What follows `backyard.` in the Message-ID of outbox message `id`, made at `time` (Unix
/// seconds): both, signed. A bounce counts only when it carries one back, and the outbox's
/// numbers and times alone were guessable: anyone who asked the site to mail themselves just
/// before and after it mailed a member could forge that member's bounce.
pub fn message_id_token(key: &[u8; 32], id: i64, time: i64) -> String {
    let payload = format!("{id}.{time}");
    format!("{payload}-{}", signature(key, MESSAGE_ID, &payload))
}

/// The outbox message and time a Message-ID's token was made for.
pub async fn read_message_id_token(
    conn: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<(i64, i64)>, AppError> {
    Ok(verify(conn, MESSAGE_ID, &token.to_ascii_lowercase())
        .await?
        .and_then(|payload| {
            let (id, time) = payload.split_once('.')?;
            Some((id.parse().ok()?, time.parse().ok()?))
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::testing::test_db;

    #[tokio::test]
    async fn a_token_verifies_for_its_purpose_only_and_not_when_altered() {
        let db = test_db().await;
        let token = sign(&db, "unsubscribe", "7-replies").await.unwrap();
        assert_eq!(
            verify(&db, "unsubscribe", &token).await.unwrap().as_deref(),
            Some("7-replies")
        );
        assert_eq!(verify(&db, "reply", &token).await.unwrap(), None);
        let altered = token.replacen("7-", "8-", 1);
        assert_eq!(verify(&db, "unsubscribe", &altered).await.unwrap(), None);
        for bad in ["", "-", "7-replies", "7-replies-zz", &format!("{token}0")] {
            assert_eq!(
                verify(&db, "unsubscribe", bad).await.unwrap(),
                None,
                "{bad}"
            );
        }
        // Another site (another key) does not accept it.
        let other = test_db().await;
        assert_eq!(verify(&other, "unsubscribe", &token).await.unwrap(), None);
    }
}
