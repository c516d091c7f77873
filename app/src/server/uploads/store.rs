//! The store the site keeps files in, chosen by BACKYARD_UPLOADS (see config.rs): the database
//! (the default: one machine needs nothing more, and several app servers on one PostgreSQL share
//! it), a directory, or S3-compatible object storage. All three behind media's `Store`.
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use media::store::{Store, StoreError};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set};

use crate::server::{config::UploadStore, entity::file_blob};

/// Files kept in the `file_blobs` table.
pub struct DbStore {
    db: DatabaseConnection,
}

impl DbStore {
    pub fn new(db: DatabaseConnection) -> Self {
        DbStore { db }
    }
}

fn db_error(e: sea_orm::DbErr) -> StoreError {
    StoreError::Backend {
        store: "database",
        message: e.to_string(),
    }
}

#[async_trait]
impl Store for DbStore {
    async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StoreError> {
        if !media::store::valid_key(key) {
            return Err(StoreError::InvalidKey(key.to_string()));
        }
        // Keys are content hashes: a second put of a key is the same bytes, so it is left be.
        file_blob::Entity::insert(file_blob::ActiveModel {
            key: Set(key.to_string()),
            data: Set(bytes.to_vec()),
        })
        .on_conflict_do_nothing_on([file_blob::Column::Key])
        .exec(&self.db)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        let row = file_blob::Entity::find_by_id(key.to_string())
            .one(&self.db)
            .await
            .map_err(db_error)?;
        Ok(row.map(|r| Bytes::from(r.data)))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        file_blob::Entity::delete_many()
            .filter(file_blob::Column::Key.eq(key))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn keys(&self) -> Result<Vec<String>, StoreError> {
        file_blob::Entity::find()
            .select_only()
            .column(file_blob::Column::Key)
            .into_tuple::<String>()
            .all(&self.db)
            .await
            .map_err(db_error)
    }

    fn kind(&self) -> &'static str {
        "database"
    }
}

/// The store `choice` names, over `db` when it is the database.
pub fn open(choice: &UploadStore, db: &DatabaseConnection) -> Result<Arc<dyn Store>, String> {
    Ok(match choice {
        UploadStore::Database => Arc::new(DbStore::new(db.clone())),
        UploadStore::Directory(path) => Arc::new(
            media::store::DirStore::new(path.into())
                .map_err(|e| format!("uploads directory {path}: {e}"))?,
        ),
        UploadStore::S3(config) => {
            media::store::install_crypto();
            Arc::new(
                media::store::S3Store::new(config).map_err(|e| format!("S3 uploads store: {e}"))?,
            )
        }
    })
}
