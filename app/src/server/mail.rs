//! Outgoing e-mail (password-reset links): written to an outbox table in the same transaction as
//! what it announces, then delivered by `deliver_pending`, which the server runs every few
//! seconds. Delivery pipes each message to a sendmail-compatible program (BACKYARD_SENDMAIL,
//! e.g. `/usr/sbin/sendmail`, which every mail server and relay such as msmtp provides); with
//! none set, a development machine, the message is written to the log instead.
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::entity::email;
use crate::error::AppError;

pub async fn enqueue(
    conn: &impl ConnectionTrait,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<(), AppError> {
    email::ActiveModel {
        to_address: Set(to.to_string()),
        subject: Set(subject.to_string()),
        body: Set(body.to_string()),
        created_at: Set(Utc::now()),
        sent_at: Set(None),
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
        let delivered = match sendmail {
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
    let child = tokio::process::Command::new(program)
        .args(["-t", "-i"])
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
}
