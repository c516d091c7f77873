//! tower-sessions' SessionStore on the same sea-orm connection as everything else, so sessions
//! survive restarts and there is one database stack (tower-sessions-sqlx-store targets an older
//! tower-sessions and would bring a second sqlx).
use async_trait::async_trait;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
};

use crate::error::AppError;
use time::OffsetDateTime;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store::{Error, ExpiredDeletion, Result},
};

use super::db::begin_private_write;
use super::entity::{session, user};

/// The session key holding the signed-in member's id.
pub const USER_ID_KEY: &str = "user_id";
/// The session key holding the account's session generation when this session signed in: a
/// session from an older generation was ended and never loads (`load`).
pub const GENERATION_KEY: &str = "session_generation";

/// The account a session's load read with it (the load joins the account, to check its session
/// generation), handed to the request that loaded the session so that it does not read the
/// member again (state::member_of): on a member's page that is one query of four. Each load
/// files its account under a number of its own and writes that number into the loaded session
/// (LOADED_KEY, never stored: `row` leaves it out), so a request can only take the account its
/// own load read, never another request's. Entries nobody takes go when the map is full.
static LOADED: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<u64, user::Model>>> =
    std::sync::LazyLock::new(Default::default);
static LOADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
const LOADED_MAX: usize = 4096;
/// The session key holding the number of this request's load (see LOADED).
const LOADED_KEY: &str = "loaded_account";

fn file_loaded(account: user::Model) -> u64 {
    let number = LOADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut map = LOADED.lock().unwrap();
    if map.len() >= LOADED_MAX {
        map.clear();
    }
    map.insert(number, account);
    number
}

/// The account this request's load of `session` read, if it is member `user_id`'s; taken, so
/// asked once.
pub async fn take_loaded_account(
    session: &tower_sessions::Session,
    user_id: i64,
) -> Option<user::Model> {
    let number: u64 = session.get(LOADED_KEY).await.ok().flatten()?;
    let account = LOADED.lock().unwrap().remove(&number)?;
    (account.id == user_id).then_some(account)
}

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: DatabaseConnection,
}

impl DbSessionStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn backend(e: DbErr) -> Error {
    Error::Backend(e.to_string())
}

fn row(record: &Record) -> Result<session::ActiveModel> {
    // The number of the load that read this copy is this request's alone.
    let data: std::collections::HashMap<&String, &serde_json::Value> = record
        .data
        .iter()
        .filter(|(key, _)| key.as_str() != LOADED_KEY)
        .collect();
    Ok(session::ActiveModel {
        id: Set(record.id.to_string()),
        user_id: Set(record.data.get(USER_ID_KEY).and_then(|v| v.as_i64())),
        data: Set(serde_json::to_string(&data).map_err(|e| Error::Encode(e.to_string()))?),
        expires_at: Set(record.expiry_date.unix_timestamp()),
    })
}

#[async_trait]
impl SessionStore for DbSessionStore {
    /// Creating and saving write in the writers' turn (`db::begin_private_write`: a session
    /// changes no page anyone else sees). Beside the turn, a write on SQLite waits for the
    /// writers' open group on the busy handler, asleep 1 to 100 ms at a time, and under a steady
    /// stream of replies it may find no gap between two groups for the whole busy timeout and
    /// fail: a log-in, or a visitor's kept draft, with it. Both run in the session layer, after
    /// the request's handler has ended its own writes (the turn is not re-entrant).
    async fn create(&self, record: &mut Record) -> Result<()> {
        // Ids are 128 random bits; a collision is astronomically unlikely, but never overwrite.
        loop {
            let new = row(record)?;
            let txn = begin_private_write(&self.db).await.map_err(backend)?;
            let insert = session::Entity::insert(new)
                .exec_without_returning(&txn)
                .await;
            match insert {
                Ok(_) => return txn.commit().await.map_err(backend),
                // Dropping the transaction undoes the failed insert.
                Err(e) if super::db::is_unique_violation(&e) => record.id = Id::default(),
                Err(e) => return Err(backend(e)),
            }
        }
    }

    /// Updates the row if it is still there, and never inserts: a row that is gone was ended
    /// (log out, password change, "log out everywhere", suspension, deletion) while a request
    /// holding a copy ran, and that request must not bring it back when it finishes. The
    /// browser then holds an id that loads nothing, so it is signed out. Only `create` inserts.
    async fn save(&self, record: &Record) -> Result<()> {
        let changed = row(record)?;
        let txn = begin_private_write(&self.db).await.map_err(backend)?;
        let updated = session::Entity::update_many()
            .set(changed)
            .filter(session::Column::Id.eq(record.id.to_string()))
            .exec(&txn)
            .await
            .map_err(backend)?;
        txn.commit().await.map_err(backend)?;
        if updated.rows_affected == 0 {
            tracing::info!("a session ended while one of its requests ran; not saved again");
        }
        Ok(())
    }

    /// Loads a live session. A member's session also has to carry the account's current
    /// session generation: one stamped before their sessions were last ended is deleted and
    /// treated as absent, whatever put its row back.
    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let found = session::Entity::find_by_id(id.to_string())
            .filter(session::Column::ExpiresAt.gt(now))
            .find_also_related(user::Entity)
            .one(&self.db)
            .await
            .map_err(backend)?;
        let Some((found, account)) = found else {
            return Ok(None);
        };
        let mut data: std::collections::HashMap<String, serde_json::Value> =
            serde_json::from_str(&found.data).map_err(|e| Error::Decode(e.to_string()))?;
        let user_id = data.get(USER_ID_KEY).and_then(|v| v.as_i64());
        let account = account.filter(|a| Some(a.id) == user_id);
        if let Some(user_id) = user_id {
            // Sessions from before generations existed carry none: generation 0, as accounts
            // start.
            let stamped = data
                .get(GENERATION_KEY)
                .and_then(|v| v.as_i64())
                .unwrap_or(0);
            let current = account
                .as_ref()
                .filter(|a| a.id == user_id)
                .map(|a| a.session_generation);
            if current != Some(stamped) {
                tracing::warn!("refused a session that was ended earlier");
                self.delete(id).await?;
                return Ok(None);
            }
        }
        let expiry_date = OffsetDateTime::from_unix_timestamp(found.expires_at)
            .map_err(|e| Error::Decode(e.to_string()))?;
        if let Some(account) = account {
            data.insert(LOADED_KEY.into(), file_loaded(account).into());
        }
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    /// Straight on the pool: a handler may end a session (log-out, a log-in's new id) and a load
    /// may refuse one while the request holds the writers' turn, which is not re-entrant.
    async fn delete(&self, id: &Id) -> Result<()> {
        session::Entity::delete_by_id(id.to_string())
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> Result<()> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        session::Entity::delete_many()
            .filter(session::Column::ExpiresAt.lte(now))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// Ends every session of a member (password change or reset, suspension, "log out
/// everywhere", deletion). The caller starts a fresh one for the browser that asked, where it
/// should. Deleting the rows is not enough on its own: a request of one of those sessions may
/// still be running and hold a copy, so the account's session generation moves on too, and the
/// store refuses any session stamped with an older one.
pub async fn end_sessions(
    conn: &impl ConnectionTrait,
    user_id: i64,
) -> std::result::Result<u64, AppError> {
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
pub async fn session_generation(
    conn: &impl ConnectionTrait,
    user_id: i64,
) -> std::result::Result<i64, AppError> {
    user::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .map(|u| u.session_generation)
        .ok_or_else(|| AppError::NotFound("No such account.".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::testing::test_db;
    use time::Duration;

    fn record(expiry: OffsetDateTime) -> Record {
        let mut data = std::collections::HashMap::new();
        data.insert(USER_ID_KEY.to_string(), serde_json::json!(7));
        Record {
            id: Id::default(),
            data,
            expiry_date: expiry,
        }
    }

    #[tokio::test]
    async fn saves_loads_updates_and_deletes() {
        let db = test_db().await;
        crate::server::testing::insert_user(&db, 7).await;
        let store = DbSessionStore::new(db);
        let mut rec = record(OffsetDateTime::now_utc() + Duration::hours(1));
        store.create(&mut rec).await.unwrap();
        let mut loaded = store.load(&rec.id).await.unwrap().expect("stored");
        // The load files the account it read under a number of its own, for this request.
        let number = loaded.data.remove(LOADED_KEY).expect("the load's number");
        assert_eq!(loaded.data, rec.data);
        let filed = LOADED.lock().unwrap().remove(&number.as_u64().unwrap());
        assert_eq!(filed.map(|a| a.id), Some(7));
        // A loaded copy saved again never stores that number.
        loaded.data.insert(LOADED_KEY.into(), number);
        store.save(&loaded).await.unwrap();
        let stored = session::Entity::find_by_id(rec.id.to_string())
            .one(&store.db)
            .await
            .unwrap()
            .unwrap();
        assert!(!stored.data.contains(LOADED_KEY), "{}", stored.data);

        rec.data.insert("k".into(), serde_json::json!("v"));
        store.save(&rec).await.unwrap();
        assert_eq!(store.load(&rec.id).await.unwrap().unwrap().data["k"], "v");

        store.delete(&rec.id).await.unwrap();
        assert!(store.load(&rec.id).await.unwrap().is_none());
    }

    /// Two requests on one session: each takes the account its own load read, never the
    /// other's, whatever order they load and take in (a request that began after a role change
    /// must not be answered with a copy read before it).
    #[tokio::test]
    async fn each_request_takes_the_account_its_own_load_read() {
        use sea_orm::{ActiveModelTrait, Set};
        use std::sync::Arc;
        let db = test_db().await;
        let member = crate::server::testing::insert_user(&db, 7).await;
        let store = Arc::new(DbSessionStore::new(db.clone()));
        let mut rec = member_record(7, member.session_generation);
        store.create(&mut rec).await.unwrap();
        let before = tower_sessions::Session::new(Some(rec.id), store.clone(), None);
        let _: Option<i64> = before.get(USER_ID_KEY).await.unwrap();
        let mut promoted: user::ActiveModel = member.into();
        promoted.role = Set("staff".into());
        promoted.update(&db).await.unwrap();
        let after = tower_sessions::Session::new(Some(rec.id), store.clone(), None);
        let _: Option<i64> = after.get(USER_ID_KEY).await.unwrap();
        let taken = take_loaded_account(&after, 7)
            .await
            .expect("its own load's account");
        assert_eq!(taken.role, "staff");
        assert!(take_loaded_account(&after, 7).await.is_none(), "taken once");
        let taken = take_loaded_account(&before, 7)
            .await
            .expect("its own load's account");
        assert_eq!(taken.role, "customer");
        // Only for the member the session is signed in as.
        let again = tower_sessions::Session::new(Some(rec.id), store, None);
        let _: Option<i64> = again.get(USER_ID_KEY).await.unwrap();
        assert!(take_loaded_account(&again, 8).await.is_none());
    }

    fn member_record(user_id: i64, generation: i64) -> Record {
        let mut rec = record(OffsetDateTime::now_utc() + Duration::hours(1));
        rec.data
            .insert(USER_ID_KEY.to_string(), serde_json::json!(user_id));
        rec.data
            .insert(GENERATION_KEY.to_string(), serde_json::json!(generation));
        rec
    }

    /// A session is written in the writers' turn, queued after the writer ahead of it (counted
    /// among the waiting writers), not beside it polling SQLite's lock.
    #[tokio::test]
    async fn sessions_are_written_in_the_writers_turn() {
        use crate::server::db::{begin_write, writers_waiting};
        use std::sync::Arc;
        let db = test_db().await;
        let member = crate::server::testing::insert_user(&db, 7).await;
        let store = Arc::new(DbSessionStore::new(db.clone()));
        let ahead = begin_write(&db).await.unwrap();
        let waiting_before = writers_waiting();
        let creating = tokio::spawn({
            let store = store.clone();
            async move {
                let mut rec = member_record(7, member.session_generation);
                store.create(&mut rec).await.map(|_| rec.id)
            }
        });
        let queued = async {
            while writers_waiting() <= waiting_before {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(5), queued)
            .await
            .expect("the session's write waits for the writers' turn");
        assert_eq!(
            rows(&db).await,
            0,
            "nothing is written before the writer ahead"
        );
        ahead.commit().await.unwrap();
        let id = creating.await.unwrap().unwrap();
        assert!(store.load(&id).await.unwrap().is_some());
        assert_eq!(rows(&db).await, 1);
    }

    async fn rows(db: &DatabaseConnection) -> u64 {
        use sea_orm::PaginatorTrait;
        session::Entity::find().count(db).await.unwrap()
    }

    /// A request loaded the session, then the member's sessions ended (password change), then
    /// the request finished and saved its copy: the session stays ended.
    #[tokio::test]
    async fn a_save_after_the_sessions_ended_does_not_bring_the_row_back() {
        let db = test_db().await;
        crate::server::testing::insert_user(&db, 7).await;
        let store = DbSessionStore::new(db.clone());
        let mut rec = member_record(7, 0);
        store.create(&mut rec).await.unwrap();
        let mut in_flight = store.load(&rec.id).await.unwrap().expect("loaded");
        crate::server::session_store::end_sessions(&db, 7)
            .await
            .unwrap();
        in_flight
            .data
            .insert("draft:topic".into(), serde_json::json!("typed"));
        store.save(&in_flight).await.unwrap();
        assert!(store.load(&rec.id).await.unwrap().is_none());
        assert_eq!(rows(&db).await, 0, "no row was re-inserted");
    }

    /// The other order: the save lands first, then the sessions end.
    #[tokio::test]
    async fn a_save_before_the_sessions_end_is_ended_with_them() {
        let db = test_db().await;
        crate::server::testing::insert_user(&db, 7).await;
        let store = DbSessionStore::new(db.clone());
        let mut rec = member_record(7, 0);
        store.create(&mut rec).await.unwrap();
        rec.data.insert("k".into(), serde_json::json!("v"));
        store.save(&rec).await.unwrap();
        crate::server::session_store::end_sessions(&db, 7)
            .await
            .unwrap();
        assert!(store.load(&rec.id).await.unwrap().is_none());
        assert_eq!(rows(&db).await, 0);
    }

    /// A copy of the old row put back (a backup restored, a replica, a stale write from a path
    /// that does insert) does not sign anyone in: the account's generation moved on.
    #[tokio::test]
    async fn a_copy_of_an_ended_session_row_never_loads_again() {
        let db = test_db().await;
        crate::server::testing::insert_user(&db, 7).await;
        let store = DbSessionStore::new(db.clone());
        let mut rec = member_record(7, 0);
        store.create(&mut rec).await.unwrap();
        let copy = session::Entity::find_by_id(rec.id.to_string())
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        crate::server::session_store::end_sessions(&db, 7)
            .await
            .unwrap();
        session::Entity::insert(session::ActiveModel::from(copy))
            .exec_without_returning(&db)
            .await
            .unwrap();
        assert!(store.load(&rec.id).await.unwrap().is_none());
        assert_eq!(rows(&db).await, 0, "the stale copy is removed when met");
    }

    /// A request that loaded the old session and then made a new id for it (`cycle_id`: delete,
    /// then `create`) carries the old generation into the new row, which is refused.
    #[tokio::test]
    async fn a_session_created_from_data_of_before_the_end_is_refused() {
        let db = test_db().await;
        crate::server::testing::insert_user(&db, 7).await;
        let store = DbSessionStore::new(db.clone());
        let mut rec = member_record(7, 0);
        store.create(&mut rec).await.unwrap();
        crate::server::session_store::end_sessions(&db, 7)
            .await
            .unwrap();
        let mut cycled = rec.clone();
        cycled.id = Id::default();
        store.create(&mut cycled).await.unwrap();
        assert!(store.load(&cycled.id).await.unwrap().is_none());
    }

    /// Signing in again after the end stamps the new generation and works; ending again ends
    /// it; another member's sessions are untouched throughout.
    #[tokio::test]
    async fn a_fresh_sign_in_after_the_end_works_until_the_next_end() {
        let db = test_db().await;
        crate::server::testing::insert_user(&db, 7).await;
        crate::server::testing::insert_user(&db, 8).await;
        let store = DbSessionStore::new(db.clone());
        let mut other = member_record(8, 0);
        store.create(&mut other).await.unwrap();
        crate::server::session_store::end_sessions(&db, 7)
            .await
            .unwrap();
        let generation = crate::server::session_store::session_generation(&db, 7)
            .await
            .unwrap();
        assert_eq!(generation, 1);
        let mut fresh = member_record(7, generation);
        store.create(&mut fresh).await.unwrap();
        assert!(store.load(&fresh.id).await.unwrap().is_some());
        crate::server::session_store::end_sessions(&db, 7)
            .await
            .unwrap();
        assert!(store.load(&fresh.id).await.unwrap().is_none());
        assert!(store.load(&other.id).await.unwrap().is_some());
    }

    /// A visitor's session that was removed (expired and purged, or logged out) is not
    /// re-inserted by a request that had it loaded either.
    #[tokio::test]
    async fn an_anonymous_session_deleted_in_flight_stays_deleted() {
        let db = test_db().await;
        let store = DbSessionStore::new(db.clone());
        let mut rec = Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: OffsetDateTime::now_utc() + Duration::hours(1),
        };
        rec.data.insert("k".into(), serde_json::json!(1));
        store.create(&mut rec).await.unwrap();
        store.delete(&rec.id).await.unwrap();
        store.save(&rec).await.unwrap();
        assert_eq!(rows(&db).await, 0);
    }

    #[tokio::test]
    async fn expired_sessions_do_not_load_and_are_purged() {
        let db = test_db().await;
        crate::server::testing::insert_user(&db, 7).await;
        let store = DbSessionStore::new(db.clone());
        let mut old = record(OffsetDateTime::now_utc() - Duration::minutes(1));
        store.create(&mut old).await.unwrap();
        assert!(store.load(&old.id).await.unwrap().is_none());
        store.delete_expired().await.unwrap();
        use sea_orm::PaginatorTrait;
        assert_eq!(session::Entity::find().count(&db).await.unwrap(), 0);
    }
}
