//! tower-sessions' SessionStore on the same sea-orm connection as everything else, so sessions
//! survive restarts and there is one database stack (tower-sessions-sqlx-store targets an older
//! tower-sessions and would bring a second sqlx).
use async_trait::async_trait;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set, sea_query::OnConflict,
};
use time::OffsetDateTime;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store::{Error, ExpiredDeletion, Result},
};

use super::{entity::session, state::USER_ID_KEY};

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
    Ok(session::ActiveModel {
        id: Set(record.id.to_string()),
        user_id: Set(record.data.get(USER_ID_KEY).and_then(|v| v.as_i64())),
        data: Set(serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?),
        expires_at: Set(record.expiry_date.unix_timestamp()),
    })
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // Ids are 128 random bits; a collision is astronomically unlikely, but never overwrite.
        loop {
            let insert = session::Entity::insert(row(record)?)
                .exec_without_returning(&self.db)
                .await;
            match insert {
                Ok(_) => return Ok(()),
                Err(e) if super::db::is_unique_violation(&e) => record.id = Id::default(),
                Err(e) => return Err(backend(e)),
            }
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        session::Entity::insert(row(record)?)
            .on_conflict(
                OnConflict::column(session::Column::Id)
                    .update_columns([
                        session::Column::UserId,
                        session::Column::Data,
                        session::Column::ExpiresAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let found = session::Entity::find_by_id(id.to_string())
            .filter(session::Column::ExpiresAt.gt(now))
            .one(&self.db)
            .await
            .map_err(backend)?;
        let Some(found) = found else { return Ok(None) };
        let data = serde_json::from_str(&found.data).map_err(|e| Error::Decode(e.to_string()))?;
        let expiry_date = OffsetDateTime::from_unix_timestamp(found.expires_at)
            .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

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
        let loaded = store.load(&rec.id).await.unwrap().expect("stored");
        assert_eq!(loaded.data, rec.data);

        rec.data.insert("k".into(), serde_json::json!("v"));
        store.save(&rec).await.unwrap();
        assert_eq!(store.load(&rec.id).await.unwrap().unwrap().data["k"], "v");

        store.delete(&rec.id).await.unwrap();
        assert!(store.load(&rec.id).await.unwrap().is_none());
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
