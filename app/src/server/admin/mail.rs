//! Admins send a failed e-mail again (after fixing what made the server refuse it).
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QuerySelect, Set,
    sea_query::LockType,
};

use crate::server::{auth::require_role, db::begin_write, entity::email, entity::user};
use crate::{error::AppError, model::Role};

pub const MAIL_MISSING: &str = "There is no such e-mail in the outbox.";
pub const MAIL_NOT_FAILED: &str =
    "Only a failed e-mail can be sent again; this one is queued or already sent.";

/// Puts a failed message back in the queue, due now, with a fresh 3 days of retries; the
/// worker sends it on its next round. Logged (the message's number, never its address).
pub async fn retry_mail(
    db: &DatabaseConnection,
    actor: &user::Model,
    message_id: i64,
) -> Result<(), AppError> {
    require_role(Some(actor.role()), Role::Admin)?;
    let txn = begin_write(db).await?;
    let mut find = email::Entity::find_by_id(message_id);
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        // Two admins pressing at once: one retries, the other is told it is not failed.
        find = find.lock(LockType::Update);
    }
    let row = find
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(MAIL_MISSING.into()))?;
    if row.status != "failed" {
        return Err(AppError::invalid("id", MAIL_NOT_FAILED));
    }
    let reason = format!(
        "e-mail #{} ({}), which failed after {}",
        row.id,
        row.kind,
        crate::format::count(row.attempts as i64, "attempt", "attempts")
    );
    let mut retried: email::ActiveModel = row.into();
    retried.status = Set("queued".into());
    retried.attempts = Set(0);
    retried.next_attempt_at = Set(Some(Utc::now()));
    retried.claimed_until = Set(None);
    retried.update(&txn).await?;
    super::log(&txn, actor, "mail_retry", &reason).await?;
    txn.commit().await?;
    crate::server::mail::wake_worker();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{
        entity::moderation_log,
        mail::{deliver_due, enqueue},
        stopping::Stopping,
        testing::{SmtpTestOptions, SmtpTestServer, World, smtp_transport},
        views::admin::mail_outbox,
    };
    use sea_orm::PaginatorTrait;

    /// 550 first; the admin retries once the server takes it; it is sent, and the log says so.
    #[tokio::test]
    async fn a_failed_message_retried_by_an_admin_is_sent() {
        let Some(refusing) = SmtpTestServer::start(SmtpTestOptions {
            tls: true,
            auth: true,
            reject: true,
            ..Default::default()
        }) else {
            return;
        };
        let w = World::new().await;
        enqueue(&w.db, "ada@example.com", "Hello", "Body")
            .await
            .unwrap();
        let now = Utc::now();
        deliver_due(
            &w.db,
            &smtp_transport(&refusing.settings()),
            now,
            &Stopping::never(),
        )
        .await
        .unwrap();
        let failed = email::Entity::find().one(&w.db).await.unwrap().unwrap();
        assert_eq!(failed.status, "failed");

        // Refused for anyone but an admin, and for what is not failed; nothing written.
        for who in [&w.moderator, &w.staff, &w.customer] {
            assert!(matches!(
                retry_mail(&w.db, who, failed.id).await,
                Err(AppError::Forbidden(_))
            ));
        }
        assert_eq!(
            retry_mail(&w.db, &w.admin, failed.id + 100).await,
            Err(AppError::NotFound(MAIL_MISSING.into()))
        );
        assert_eq!(
            email::Entity::find().one(&w.db).await.unwrap().unwrap(),
            failed
        );
        assert_eq!(
            moderation_log::Entity::find().count(&w.db).await.unwrap(),
            0
        );

        retry_mail(&w.db, &w.admin, failed.id).await.unwrap();
        assert_eq!(
            retry_mail(&w.db, &w.admin, failed.id).await,
            Err(AppError::invalid("id", MAIL_NOT_FAILED)),
            "queued again already"
        );
        let accepting = SmtpTestServer::start(SmtpTestOptions {
            tls: true,
            auth: true,
            ..Default::default()
        })
        .unwrap();
        let sent = deliver_due(
            &w.db,
            &smtp_transport(&accepting.settings()),
            Utc::now(),
            &Stopping::never(),
        )
        .await
        .unwrap();
        assert_eq!((sent, accepting.messages().len()), (1, 1));
        let log = moderation_log::Entity::find().all(&w.db).await.unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(
            (log[0].action.as_str(), log[0].user_id),
            ("mail_retry", None)
        );
        assert!(log[0].reason.contains(&format!("#{}", failed.id)));
        assert!(!log[0].reason.contains("ada@"), "no address in the log");
        assert!(!log[0].public);
    }

    #[tokio::test]
    async fn the_outbox_page_is_for_admins_and_shows_the_text_only_without_a_mail_server() {
        let w = World::new().await;
        for n in 0..3 {
            enqueue(
                &w.db,
                "ada@example.com",
                &format!("Hello {n}"),
                "The <b>body</b>",
            )
            .await
            .unwrap();
        }
        w.db.execute_unprepared(
            "UPDATE email_outbox SET status = 'failed', last_error = '550 no' WHERE id = 2",
        )
        .await
        .unwrap();
        assert!(matches!(
            mail_outbox(&w.db, &w.moderator, "", 1, None).await,
            Err(AppError::Forbidden(_))
        ));
        let all = mail_outbox(&w.db, &w.admin, "", 1, None).await.unwrap();
        assert_eq!((all.queued, all.sent, all.failed), (2, 0, 1));
        let subjects: Vec<_> = all.messages.iter().map(|m| m.subject.as_str()).collect();
        assert_eq!(subjects, ["Hello 2", "Hello 1", "Hello 0"], "newest first");
        assert_eq!(all.messages[0].text.as_deref(), Some("The <b>body</b>"));
        let failed = mail_outbox(&w.db, &w.admin, "failed", 1, Some("SMTP x:587".into()))
            .await
            .unwrap();
        assert_eq!(failed.messages.len(), 1);
        assert_eq!(failed.messages[0].last_error.as_deref(), Some("550 no"));
        assert_eq!(failed.messages[0].text, None, "a server sends it: no text");
        assert!(matches!(
            mail_outbox(&w.db, &w.admin, "lost", 1, None).await,
            Err(AppError::Invalid { .. })
        ));
        assert!(matches!(
            mail_outbox(&w.db, &w.admin, "", 2, None).await,
            Err(AppError::NotFound(_))
        ));
    }
}
