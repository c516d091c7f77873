//! How long notifications are kept. Every reply, mention and status change leaves a row per
//! member told, and nothing else ever removed them: on a busy site the table grew without end,
//! and a member's `/notifications` sorts all of their rows to show the latest. Read ones go half
//! a year after their last event, unread ones after a year: a member away that long is not
//! helped by a bell counting thousands. The digest looks back a week at most, so it misses
//! nothing that goes.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::error::AppError;
use crate::server::{db::begin_private_write, entity::notification};

/// A read notification is kept this long after its last event.
pub const READ_KEPT_DAYS: i64 = 183;
/// An unread one, this long.
pub const UNREAD_KEPT_DAYS: i64 = 365;

/// Rows removed per turn to write: a site's first prune (years of them) never holds SQLite's
/// one writer for long, and the other writers go on between its turns.
const CHUNK: u64 = 500;

/// Removes the notifications past keeping (see the module); returns how many. Walks the table
/// once in id order: each step's `CHUNK` due ids are found with a read (beside the writers, on
/// SQLite too) and removed in a short write of their own.
pub async fn prune_old(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, AppError> {
    prune_old_in_steps(db, now, CHUNK).await
}

async fn prune_old_in_steps(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    chunk: u64,
) -> Result<u64, AppError> {
    use notification::Column as C;
    // An unread notification's last event is `updated_at` (a collapsed one's newest reply);
    // rows from before that column have only `created_at`.
    let past = |days: i64| {
        let cutoff = now - Duration::days(days);
        Condition::any().add(C::UpdatedAt.lt(cutoff)).add(
            Condition::all()
                .add(C::UpdatedAt.is_null())
                .add(C::CreatedAt.lt(cutoff)),
        )
    };
    let due = Condition::any()
        .add(
            Condition::all()
                .add(C::ReadAt.is_not_null())
                .add(past(READ_KEPT_DAYS)),
        )
        .add(
            Condition::all()
                .add(C::ReadAt.is_null())
                .add(past(UNREAD_KEPT_DAYS)),
        );
    let mut after = 0i64;
    let mut removed = 0u64;
    loop {
        let ids: Vec<i64> = notification::Entity::find()
            .select_only()
            .column(C::Id)
            .filter(C::Id.gt(after))
            .filter(due.clone())
            .order_by_asc(C::Id)
            .limit(chunk)
            .into_tuple()
            .all(db)
            .await?;
        let Some(&last) = ids.last() else {
            return Ok(removed);
        };
        after = last;
        // Checked again as they are removed: one may have been collapsed into since.
        let txn = begin_private_write(db).await?;
        let res = notification::Entity::delete_many()
            .filter(C::Id.is_in(ids))
            .filter(due.clone())
            .exec(&txn)
            .await?;
        txn.commit().await?;
        removed += res.rows_affected;
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveModelTrait, PaginatorTrait, Set};

    use super::*;
    use crate::server::testing::{PostgresTestDb, insert_user, test_db};

    /// A notification for `user` whose last event was `age_days` ago, read `read` or not, made
    /// before `updated_at` was kept when `legacy`.
    async fn aged(
        db: &DatabaseConnection,
        user: i64,
        age_days: i64,
        read: bool,
        legacy: bool,
    ) -> i64 {
        let at = Utc::now() - Duration::days(age_days);
        notification::ActiveModel {
            user_id: Set(user),
            kind: Set("reply".into()),
            message: Set(format!("{age_days} days, read {read}")),
            link: Set("/".into()),
            // Created long before: only the last event counts.
            created_at: Set(if legacy { at } else { at - Duration::days(400) }),
            read_at: Set(read.then_some(at)),
            count: Set(1),
            staff: Set(false),
            mail_kind: Set(String::new()),
            updated_at: Set((!legacy).then_some(at)),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap()
        .id
    }

    async fn left(db: &DatabaseConnection) -> Vec<String> {
        let mut left: Vec<String> = notification::Entity::find()
            .order_by_asc(notification::Column::Id)
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|n| format!("{}: {}", n.user_id, n.message))
            .collect();
        left.sort();
        left
    }

    async fn keeps_what_is_recent_and_unread(db: &DatabaseConnection) {
        insert_user(db, 1).await;
        insert_user(db, 2).await;
        for user in [1, 2] {
            for (age, read, legacy) in [
                (0, true, false),
                (182, true, false),
                (184, true, false),
                (184, true, true),
                (184, false, false),
                (364, false, true),
                (366, false, false),
                (366, false, true),
                (900, true, false),
            ] {
                aged(db, user, age, read, legacy).await;
            }
        }
        assert_eq!(notification::Entity::find().count(db).await.unwrap(), 18);
        // Steps of 4: the 10 due rows take three, the last a short one.
        assert_eq!(prune_old_in_steps(db, Utc::now(), 4).await.unwrap(), 10);
        let kept = [
            "0 days, read true",
            "182 days, read true",
            "184 days, read false",
            "364 days, read false",
        ];
        let mut expected: Vec<String> = [1, 2]
            .iter()
            .flat_map(|u| kept.iter().map(move |k| format!("{u}: {k}")))
            .collect();
        expected.sort();
        assert_eq!(left(db).await, expected);
        // Nothing more is due: a second prune removes nothing.
        assert_eq!(prune_old(db, Utc::now()).await.unwrap(), 0);
        assert_eq!(left(db).await, expected);
    }

    /// Read notifications go half a year after their last event, unread ones after a year,
    /// rows from before `updated_at` by their `created_at`; the rest stay, whoever's they are.
    #[tokio::test]
    async fn read_notifications_go_after_half_a_year_and_unread_ones_after_a_year() {
        keeps_what_is_recent_and_unread(&test_db().await).await;
    }

    #[tokio::test]
    async fn the_same_on_postgres() {
        let Some(pg) = PostgresTestDb::create().await else {
            return;
        };
        keeps_what_is_recent_and_unread(&pg.db).await;
        pg.drop().await;
    }
}
