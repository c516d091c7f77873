//! Outgoing e-mail (password-reset links): written to an outbox table in the same transaction as
//! what it announces, then delivered by `deliver_pending`, which the server runs every few
//! seconds. Delivery pipes each message to a sendmail-compatible program (BACKYARD_SENDMAIL,
//! e.g. `/usr/sbin/sendmail`, which every mail server and relay such as msmtp provides); with
//! none set, a development machine, the message is written to the log instead. The recipient
//! is always the one address given on sendmail's command line, never read from the headers.
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait, Func},
};

use super::entity::email;
use crate::error::AppError;

/// Characters that make an address into several, or into something else than an address: list
/// separators, display names, quoted or commented parts, header syntax. None belongs in an
/// address a person types for themselves.
const NOT_IN_AN_ADDRESS: &[char] = &[',', ';', '<', '>', '"', '(', ')', '[', ']', '\\', ':'];

/// Why `address` is not one plain address (`local@domain`), or None when it is. `Some(true)`:
/// it holds separators, spaces, quotes or control characters (it could name several
/// recipients); `Some(false)`: it is not shaped like an address at all.
pub fn address_problem(address: &str) -> Option<bool> {
    if address
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || NOT_IN_AN_ADDRESS.contains(&c))
    {
        return Some(true);
    }
    let Some((local, domain)) = address.split_once('@') else {
        return Some(false);
    };
    let atom = |c: char| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    let local_ok = !local.is_empty()
        && !local.starts_with(['.', '-'])
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| atom(c) || c == '.');
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let domain_ok = domain.contains('.') && domain.split('.').all(label_ok);
    (!local_ok || !domain_ok).then_some(false)
}

/// The form of an address that counts mail to it, whatever case it was typed in.
pub fn address_key(address: &str) -> String {
    address.trim().to_lowercase()
}

/// How many messages with `subject` were queued for the address with key `address_key` since
/// `since`. Count inside the write transaction, after `db::lock_key(format!("mail:{key}"))`.
pub async fn sent_since(
    conn: &impl ConnectionTrait,
    address_key: &str,
    subject: &str,
    since: DateTime<Utc>,
) -> Result<u64, AppError> {
    Ok(email::Entity::find()
        .filter(Expr::expr(Func::lower(Expr::col(email::Column::ToAddress))).eq(address_key))
        .filter(email::Column::Subject.eq(subject))
        .filter(email::Column::CreatedAt.gt(since))
        .count(conn)
        .await?)
}

/// One message for the outbox. `text` is the plain part; `html`, when given, the HTML part of a
/// multipart/alternative message built from the same content.
#[derive(Clone, Debug, Default)]
pub struct Outgoing {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    /// The member it is for (None: an address not tied to an account yet).
    pub user_id: Option<i64>,
    /// reset | confirm | notice | notification | digest
    pub kind: &'static str,
    /// Where a reply goes (reply by e-mail), one plain address.
    pub reply_to: Option<String>,
    /// The https one-click unsubscribe address (RFC 8058).
    pub list_unsubscribe: Option<String>,
}

/// Queues a plain-text message to one plain address; anything else is refused (an internal
/// error: every address was validated when it was stored).
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<(), AppError> {
    queue(
        conn,
        Outgoing {
            to: to.into(),
            subject: subject.into(),
            text: body.into(),
            kind: "notice",
            ..Default::default()
        },
    )
    .await
}

/// Queues one message in the caller's transaction; the worker sends it after the commit.
pub async fn queue(conn: &impl ConnectionTrait, message: Outgoing) -> Result<(), AppError> {
    let one_address = |a: &str| address_problem(a).is_none();
    if !one_address(&message.to) || message.reply_to.as_deref().is_some_and(|r| !one_address(r)) {
        tracing::error!(
            to = message.to,
            "refused to queue mail to something that is not one address"
        );
        return Err(AppError::Internal);
    }
    let now = Utc::now();
    email::ActiveModel {
        to_address: Set(message.to),
        subject: Set(message.subject),
        body: Set(message.text),
        created_at: Set(now),
        sent_at: Set(None),
        user_id: Set(message.user_id),
        kind: Set(message.kind.into()),
        html_body: Set(message.html),
        reply_to: Set(message.reply_to),
        list_unsubscribe: Set(message.list_unsubscribe),
        status: Set("queued".into()),
        attempts: Set(0),
        next_attempt_at: Set(Some(now)),
        claimed_until: Set(None),
        last_error: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Sends what is waiting, oldest first. A message that fails stays for the next round.
pub async fn deliver_pending(
    db: &DatabaseConnection,
    sendmail: Option<&str>,
    from: &str,
) -> Result<(), AppError> {
    let waiting = email::Entity::find()
        .filter(email::Column::SentAt.is_null())
        .order_by_asc(email::Column::Id)
        .limit(50)
        .all(db)
        .await?;
    for message in waiting {
        // Rows queued before addresses were checked this strictly are dropped, not retried.
        let delivered = match sendmail {
            _ if address_problem(&message.to_address).is_some() => {
                tracing::error!(to = %message.to_address, "dropped mail to something that is not one address");
                true
            }
            Some(program) => send_with(program, from, &message).await,
            None => {
                tracing::info!(
                    to = %message.to_address,
                    subject = %message.subject,
                    "e-mail (no BACKYARD_SENDMAIL set, so logged instead of sent):\n{}",
                    message.body
                );
                true
            }
        };
        if delivered {
            let mut row: email::ActiveModel = message.into();
            row.sent_at = Set(Some(Utc::now()));
            row.update(db).await?;
        }
    }
    Ok(())
}

async fn send_with(program: &str, from: &str, message: &email::Model) -> bool {
    use tokio::io::AsyncWriteExt;
    // Header values come from our own templates and validated addresses; strip line breaks anyway
    // so nothing can add a header.
    let clean = |s: &str| s.replace(['\r', '\n'], " ");
    let text = format!(
        "From: {}\r\nTo: {}\r\nSubject: {}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}",
        clean(from),
        clean(&message.to_address),
        clean(&message.subject),
        message.body
    );
    // The envelope recipient is the one argument after `--` (so it cannot be read as an option);
    // without -t, sendmail takes no recipients from the To, Cc or Bcc headers.
    let child = tokio::process::Command::new(program)
        .args(["-i", "--", message.to_address.as_str()])
        .stdin(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, program, "cannot run the sendmail program");
            return false;
        }
    };
    if let Some(mut stdin) = child.stdin.take()
        && stdin.write_all(text.as_bytes()).await.is_err()
    {
        return false;
    }
    match child.wait().await {
        Ok(status) if status.success() => true,
        other => {
            tracing::error!(?other, "sendmail refused a message; will retry");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::testing::test_db;

    #[tokio::test]
    async fn mail_is_piped_to_sendmail_once_and_header_injection_is_flattened() {
        let db = test_db().await;
        let dir = std::env::temp_dir().join(format!("backyard-mail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("sent.txt");
        let program = dir.join("sendmail");
        std::fs::write(&program, format!("#!/bin/sh\ncat >> {}\n", out.display())).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();

        enqueue(
            &db,
            "ada@example.com",
            "Reset\r\nBcc: evil@example.com",
            "the link",
        )
        .await
        .unwrap();
        let program = program.to_str().unwrap().to_string();
        deliver_pending(&db, Some(&program), "Backyard <noreply@example.com>")
            .await
            .unwrap();
        deliver_pending(&db, Some(&program), "Backyard <noreply@example.com>")
            .await
            .unwrap();
        let sent = std::fs::read_to_string(&out).unwrap();
        assert_eq!(sent.matches("To: ada@example.com").count(), 1, "sent once");
        assert!(
            sent.contains("Subject: Reset  Bcc: evil@example.com\r\n"),
            "{sent}"
        );
        assert!(!sent.contains("\r\nBcc:"));
        let row = email::Entity::find().one(&db).await.unwrap().unwrap();
        assert!(row.sent_at.is_some());
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A fake sendmail that records its arguments and what it read, in a directory of its own.
    fn recording_sendmail(name: &str) -> (std::path::PathBuf, String) {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("backyard-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let program = dir.join("sendmail");
        std::fs::write(
            &program,
            format!(
                "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> {d}/argv; done\n\
                 echo --- >> {d}/argv\ncat >> {d}/stdin\n",
                d = dir.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        (dir, program.to_str().unwrap().to_string())
    }

    #[tokio::test]
    async fn the_envelope_names_the_one_recipient_and_never_reads_the_headers() {
        let db = test_db().await;
        let (dir, program) = recording_sendmail("envelope");
        enqueue(&db, "ada@example.com", "Hello", "the body")
            .await
            .unwrap();
        // A row from before addresses were checked strictly: dropped, never sent to both.
        email::ActiveModel {
            to_address: Set("attacker@evil.example,root".into()),
            subject: Set("Reset your password".into()),
            body: Set("the link".into()),
            created_at: Set(Utc::now()),
            sent_at: Set(None),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        deliver_pending(&db, Some(&program), "Backyard <noreply@example.com>")
            .await
            .unwrap();
        let argv = std::fs::read_to_string(dir.join("argv")).unwrap();
        assert_eq!(
            argv, "-i\n--\nada@example.com\n---\n",
            "one call, one recipient"
        );
        let stdin = std::fs::read_to_string(dir.join("stdin")).unwrap();
        assert!(
            stdin.starts_with("From: Backyard <noreply@example.com>\r\nTo: ada@example.com\r\n")
        );
        assert!(!stdin.contains("attacker"));
        assert!(
            email::Entity::find()
                .filter(email::Column::SentAt.is_null())
                .all(&db)
                .await
                .unwrap()
                .is_empty(),
            "the bad row is not retried forever"
        );
        // Nothing but one plain address is queued at all.
        for bad in [
            "a@example.com,root",
            "A <a@example.com>",
            "a@example.com\nBcc: b@example.com",
        ] {
            assert_eq!(
                enqueue(&db, bad, "Hello", "body").await,
                Err(AppError::Internal),
                "{bad}"
            );
        }
        assert_eq!(email::Entity::find().all(&db).await.unwrap().len(), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
