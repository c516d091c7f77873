//! Outgoing e-mail: written to an outbox table in the same transaction as what it announces
//! (`queue`), then delivered by the worker the server runs (`deliver_due`, in delivery.rs) over
//! SMTP (BACKYARD_SMTP_URL) or through a sendmail-compatible program (BACKYARD_SENDMAIL). With
//! neither set, mail stays queued and admins read it at /admin/mail. The envelope recipient is
//! always the row's one address, never read from the headers.
mod delivery;

pub use delivery::*;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};

use super::entity::email;
use crate::error::AppError;

pub use super::email_address::{address_key, address_problem};

/// How many messages with `subject` were queued for the address with key `address_key` since
/// `since`. Count inside the write transaction, after `db::lock_key(format!("mail:{key}"))`.
pub async fn sent_since(
    conn: &impl ConnectionTrait,
    address_key: &str,
    subject: &str,
    since: DateTime<Utc>,
) -> Result<u64, AppError> {
    Ok(email::Entity::find()
        .filter(email::Column::ToKey.eq(address_key))
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

/// How mail leaves, in words for the admins' outbox page; None when nothing sends it.
pub fn delivery_description(config: &crate::server::config::Config) -> Option<String> {
    use crate::server::config::SmtpSecurity;
    if let Some(smtp) = &config.smtp {
        let security = match smtp.security {
            SmtpSecurity::StartTls => "STARTTLS",
            SmtpSecurity::ImplicitTls => "TLS",
            SmtpSecurity::Plain => "unencrypted, localhost",
        };
        return Some(format!("SMTP {}:{}, {security}", smtp.host, smtp.port));
    }
    config
        .sendmail
        .as_ref()
        .map(|program| format!("the sendmail program {program}"))
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
    if !one_address(&message.to)
        || message.reply_to.as_deref().is_some_and(|r| !one_address(r))
        || message
            .list_unsubscribe
            .as_deref()
            .is_some_and(|u| !one_click_url(u))
    {
        tracing::error!(
            to = message.to,
            "refused to queue mail to something that is not one address, or with a bad unsubscribe link"
        );
        return Err(AppError::Internal);
    }
    let now = Utc::now();
    email::ActiveModel {
        to_key: Set(address_key(&message.to)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{
        config::Config,
        stopping::Stopping,
        testing::{fake_sendmail, test_db},
    };

    /// A fake sendmail that records its arguments and what it read, in a directory of its own.
    fn recording_sendmail(name: &str) -> (std::path::PathBuf, Transport) {
        let (dir, program) = fake_sendmail(name, |d| {
            format!(
                "for a in \"$@\"; do printf '%s\\n' \"$a\" >> {d}/argv; done\n\
                 echo --- >> {d}/argv\ncat >> {d}/stdin\n",
                d = d.display()
            )
        });
        let config = Config::from_lookup(|k| match k {
            "BACKYARD_SENDMAIL" => Some(program.clone()),
            "BACKYARD_MAIL_FROM" => Some("Backyard <noreply@example.com>".into()),
            _ => None,
        })
        .unwrap();
        (dir, Transport::from_config(&config).unwrap().unwrap())
    }

    /// A notification's subject is the site's name and a topic title of up to 200 characters:
    /// the outbox keeps it whole on both engines (PostgreSQL's column held 200 and refused it,
    /// and the notification that queued it failed every second, stopping the queue).
    #[tokio::test]
    async fn a_subject_longer_than_a_title_is_queued_whole() {
        let title = "é".repeat(160) + &"<b>x</b>".repeat(5);
        let subject = format!("[Backyard] {title}");
        assert!(subject.chars().count() > 200);
        let sqlite = test_db().await;
        let pg = crate::server::testing::PostgresTestDb::create().await;
        let mut dbs = vec![sqlite];
        if let Some(pg) = &pg {
            dbs.push(pg.db.clone());
        }
        for db in &dbs {
            enqueue(db, "ada@example.com", &subject, "the link")
                .await
                .unwrap();
            let row = email::Entity::find().one(db).await.unwrap().unwrap();
            assert_eq!(row.subject, subject);
        }
        if let Some(pg) = pg {
            pg.drop().await;
        }
    }

    #[tokio::test]
    async fn sendmail_gets_one_message_once_with_the_subject_encoded_not_split() {
        let db = test_db().await;
        let (dir, transport) = recording_sendmail("sendmail-once");
        enqueue(
            &db,
            "ada@example.com",
            "Reset\r\nBcc: evil@example.com",
            "the link",
        )
        .await
        .unwrap();
        assert_eq!(
            deliver_due(&db, &transport, Utc::now(), &Stopping::never()).await,
            Ok(1)
        );
        assert_eq!(
            deliver_due(&db, &transport, Utc::now(), &Stopping::never()).await,
            Ok(0)
        );
        let sent = std::fs::read_to_string(dir.join("stdin")).unwrap();
        assert_eq!(sent.matches("To: ada@example.com").count(), 1, "sent once");
        assert!(!sent.contains("\r\nBcc:"), "{sent}");
        assert!(
            sent.contains("\r\nSubject: =?utf-8?b?UmVzZXQNCkJjYzo=?= evil@example.com\r\n"),
            "the line break stays inside an encoded word: {sent}"
        );
        let row = email::Entity::find().one(&db).await.unwrap().unwrap();
        assert_eq!((row.status.as_str(), row.attempts), ("sent", 1));
        assert!(row.sent_at.is_some());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn the_envelope_names_the_one_recipient_and_never_reads_the_headers() {
        let db = test_db().await;
        let (dir, transport) = recording_sendmail("envelope");
        enqueue(&db, "ada@example.com", "Hello", "the body")
            .await
            .unwrap();
        // A row from before addresses were checked strictly: failed with the reason, never sent.
        email::ActiveModel {
            to_address: Set("attacker@evil.example,root".into()),
            subject: Set("Reset your password".into()),
            body: Set("the link".into()),
            created_at: Set(Utc::now()),
            sent_at: Set(None),
            status: Set("queued".into()),
            next_attempt_at: Set(Some(Utc::now())),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        deliver_due(&db, &transport, Utc::now(), &Stopping::never())
            .await
            .unwrap();
        let argv = std::fs::read_to_string(dir.join("argv")).unwrap();
        assert_eq!(
            argv, "-i\n--\nada@example.com\n---\n",
            "one call, one recipient"
        );
        let stdin = std::fs::read_to_string(dir.join("stdin")).unwrap();
        assert!(stdin.contains("From: Backyard <noreply@example.com>\r\n"));
        assert!(stdin.contains("\r\nTo: ada@example.com\r\n"));
        assert!(!stdin.contains("attacker"));
        let bad = email::Entity::find()
            .filter(email::Column::ToAddress.contains("attacker"))
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(bad.status, "failed", "the bad row is not retried forever");
        assert!(bad.last_error.unwrap().contains("recipient"));
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
        for link in [
            "http://x.example/u",
            "https://x.example/u>\r\nBcc: a@b.example",
        ] {
            let refused = queue(
                &db,
                Outgoing {
                    to: "ada@example.com".into(),
                    list_unsubscribe: Some(link.into()),
                    kind: "notification",
                    ..Default::default()
                },
            )
            .await;
            assert_eq!(refused, Err(AppError::Internal), "{link}");
        }
        assert_eq!(email::Entity::find().all(&db).await.unwrap().len(), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn retries_back_off_from_30_seconds_to_4_hours_and_stop_after_3_days() {
        let secs = |n| retry_delay(n).map(|d| d.as_secs());
        assert_eq!((secs(1), secs(2), secs(3)), (Some(30), Some(60), Some(120)));
        assert_eq!(secs(12), Some(4 * 3600));
        let attempts = (1..100).take_while(|n| retry_delay(*n).is_some()).count() as i32;
        let waited: u64 = (1..=attempts).map(|n| secs(n).unwrap()).sum();
        assert!(
            (3 * 24 * 3600..3 * 24 * 3600 + 4 * 3600).contains(&waited),
            "{attempts} attempts over {waited} s"
        );
    }
}
