//! Figures the operator's `/metrics` page reads from the database when it is scraped (the HTTP
//! side, server/src/metrics.rs, counts requests itself): how busy the connection pool is and
//! how far the e-mail outbox and the notification worker are behind. Each is an indexed lookup or a read of the pool's own
//! counters, cheap enough to run every few seconds on a busy site.
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::{email, fan_out};
use crate::error::AppError;

/// The database connection pool at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolFigures {
    /// Connections lent to a query or transaction now.
    pub in_use: u32,
    /// Connections open and free.
    pub idle: u32,
    /// The most the pool opens (db::connect); a request that finds all of them in use waits.
    pub max: u32,
}

/// The pool's figures (sqlx keeps them as atomics: no query, no lock).
pub fn pool(db: &DatabaseConnection) -> Option<PoolFigures> {
    let (size, idle, max) = match db.get_database_backend() {
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        _ => return None,
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
    Some(PoolFigures {
        // The two counters are read one after the other: never let a race show a negative.
        in_use: size - idle,
        idle,
        max,
    })
}

/// The e-mail outbox at one moment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutboxFigures {
    /// Messages not yet sent nor given up (due now or waiting for a retry).
    pub queued: u64,
    /// How long the longest-waiting due message has been due, in seconds (0 when none is due).
    /// Growing: the mail worker is not keeping up, or the mail server refuses it.
    pub oldest_due_seconds: f64,
}

/// Counts the queued messages and finds the oldest due one, on the (status, next_attempt_at)
/// index: the count walks only the queued rows, the oldest is the first of them.
pub async fn outbox(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<OutboxFigures, AppError> {
    let queued = email::Entity::find()
        .filter(email::Column::Status.eq("queued"))
        .count(conn)
        .await?;
    let first_due: Option<Option<DateTime<Utc>>> = email::Entity::find()
        .select_only()
        .column(email::Column::NextAttemptAt)
        .filter(email::Column::Status.eq("queued"))
        .filter(email::Column::NextAttemptAt.lte(now))
        .order_by_asc(email::Column::NextAttemptAt)
        .into_tuple()
        .one(conn)
        .await?;
    // Rows from before retries existed have no next attempt: due since they were written.
    let unscheduled: Option<DateTime<Utc>> = email::Entity::find()
        .select_only()
        .column(email::Column::CreatedAt)
        .filter(email::Column::Status.eq("queued"))
        .filter(email::Column::NextAttemptAt.is_null())
        .order_by_asc(email::Column::CreatedAt)
        .into_tuple()
        .one(conn)
        .await?;
    let oldest = [first_due.flatten(), unscheduled]
        .into_iter()
        .flatten()
        .min();
    Ok(OutboxFigures {
        queued,
        oldest_due_seconds: oldest.map_or(0.0, |at| {
            (now - at).num_milliseconds().max(0) as f64 / 1000.0
        }),
    })
}

/// The notification worker's queue at one moment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FanOutFigures {
    /// Posts and changes whose followers and watchers are still to be told.
    pub waiting: u64,
    /// How long the oldest of them has waited, in seconds (0 when none waits). Growing: the
    /// worker is not keeping up with the posts, or its rounds fail.
    pub oldest_seconds: f64,
}

/// Counts the waiting fan-outs (the worker keeps the table short) and ages the first written.
pub async fn fan_outs(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<FanOutFigures, AppError> {
    let waiting = fan_out::Entity::find().count(conn).await?;
    let first: Option<DateTime<Utc>> = fan_out::Entity::find()
        .select_only()
        .column(fan_out::Column::CreatedAt)
        .order_by_asc(fan_out::Column::Id)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(FanOutFigures {
        waiting,
        oldest_seconds: first.map_or(0.0, |at| {
            (now - at).num_milliseconds().max(0) as f64 / 1000.0
        }),
    })
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, TransactionTrait};

    use super::*;
    use crate::server::{mail, testing::test_db};

    #[tokio::test]
    async fn the_outbox_counts_queued_mail_and_ages_the_oldest_due() {
        let db = test_db().await;
        let now = Utc::now();
        assert_eq!(
            outbox(&db, now).await.unwrap(),
            OutboxFigures {
                queued: 0,
                oldest_due_seconds: 0.0
            }
        );
        for to in [
            "a@example.com",
            "b@example.com",
            "c@example.com",
            "d@example.com",
        ] {
            mail::enqueue(&db, to, "Hello", "Body").await.unwrap();
        }
        let rows = email::Entity::find().all(&db).await.unwrap();
        let set = |row: &email::Model, status: &str, next: Option<chrono::DateTime<Utc>>| {
            let mut row: email::ActiveModel = row.clone().into();
            row.status = Set(status.into());
            row.next_attempt_at = Set(next);
            row
        };
        // Due 90 s ago, waiting for a retry in an hour, sent, given up.
        set(&rows[0], "queued", Some(now - Duration::seconds(90)))
            .update(&db)
            .await
            .unwrap();
        set(&rows[1], "queued", Some(now + Duration::hours(1)))
            .update(&db)
            .await
            .unwrap();
        set(&rows[2], "sent", Some(now - Duration::hours(5)))
            .update(&db)
            .await
            .unwrap();
        set(&rows[3], "failed", Some(now - Duration::hours(5)))
            .update(&db)
            .await
            .unwrap();
        let figures = outbox(&db, now).await.unwrap();
        assert_eq!(figures.queued, 2);
        assert_eq!(figures.oldest_due_seconds, 90.0);

        // Nothing due (only the retry in an hour): no age.
        email::Entity::delete_by_id(rows[0].id)
            .exec(&db)
            .await
            .unwrap();
        let figures = outbox(&db, now).await.unwrap();
        assert_eq!((figures.queued, figures.oldest_due_seconds), (1, 0.0));
    }

    #[tokio::test]
    async fn the_notification_queue_is_counted_and_its_oldest_aged() {
        let db = test_db().await;
        let now = Utc::now();
        let none = FanOutFigures {
            waiting: 0,
            oldest_seconds: 0.0,
        };
        assert_eq!(fan_outs(&db, now).await.unwrap(), none);
        for (kind, age) in [("reply", 40), ("reply", 5)] {
            fan_out::ActiveModel {
                kind: Set(kind.into()),
                topic_id: Set(1),
                post_id: Set(None),
                actor_id: Set(1),
                message: Set(String::new()),
                created_at: Set(now - Duration::seconds(age)),
                done_at: Set(None),
                ..Default::default()
            }
            .insert(&db)
            .await
            .unwrap();
        }
        let figures = fan_outs(&db, now).await.unwrap();
        assert_eq!((figures.waiting, figures.oldest_seconds), (2, 40.0));
        crate::server::notify::fan_out_due(&db, 10).await.unwrap();
        assert_eq!(fan_outs(&db, now).await.unwrap(), none);
    }

    #[tokio::test]
    async fn the_pool_shows_a_connection_in_use_while_a_transaction_holds_it() {
        let db = test_db().await;
        // sqlx gives connections back to the pool on tasks of their own: wait for them.
        let settled = |in_use: u32| {
            let db = db.clone();
            async move {
                let mut figures = pool(&db).unwrap();
                for _ in 0..400 {
                    if figures.in_use == in_use {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    figures = pool(&db).unwrap();
                }
                figures
            }
        };
        let before = settled(0).await;
        assert_eq!(before.in_use, 0, "{before:?}");
        assert!(before.idle >= 1 && before.idle <= before.max, "{before:?}");
        let txn = db.begin().await.unwrap();
        let during = pool(&db).unwrap();
        assert_eq!(during.in_use, 1, "{during:?}");
        txn.rollback().await.unwrap();
        assert_eq!(settled(0).await.in_use, 0);
    }

    #[tokio::test]
    async fn writers_waiting_for_their_turn_are_counted() {
        let db = test_db().await;
        let held = crate::server::db::writer_turn(&db).await;
        let waiter = tokio::spawn({
            let db = db.clone();
            async move { crate::server::db::begin_write(&db).await.map(|_| ()) }
        });
        // The waiter is queued behind `held` (other tests may queue too: at least one).
        let mut seen = 0;
        for _ in 0..200 {
            seen = crate::server::db::writers_waiting();
            if seen >= 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(seen >= 1);
        drop(held);
        waiter.await.unwrap().unwrap();
    }

    /// The writer's busy time grows by at least as long as a turn was held (other tests' turns
    /// may add to it too), and already while it is held: a stuck write shows as busy.
    #[tokio::test]
    async fn the_time_a_writer_holds_the_turn_is_counted() {
        let db = test_db().await;
        let busy = crate::server::db::writer_busy_seconds;
        let before = busy();
        let held = crate::server::db::writer_turn(&db).await;
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        let during = busy();
        assert!(during - before >= 0.06, "{before} -> {during}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        drop(held);
        let after = busy();
        assert!(after - before >= 0.08, "{before} -> {during} -> {after}");
    }
}
