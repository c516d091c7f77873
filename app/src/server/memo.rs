//! A value worked out from the database that many requests need and few writes change (the
//! site's name, brand and switches on every page: a dozen queries), kept while the page version
//! (server::page_version) is the one it was worked out under. Every write that may change a
//! page bumps that version, in this process or, on PostgreSQL, in any process; a bounded age
//! covers a write that forgot to.
use std::{
    collections::HashMap,
    hash::Hash,
    sync::Mutex,
    time::{Duration, Instant},
};

use sea_orm::DatabaseConnection;

use crate::error::AppError;

/// At most this old, whatever the version says: the page cache's own bound.
const MAX_AGE: Duration = Duration::from_secs(10);

pub struct Memo<T> {
    slot: Mutex<Option<(u64, Instant, T)>>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo {
            slot: Mutex::new(None),
        }
    }
}

impl<T: Clone> Memo<T> {
    /// The kept value when it is current, else `load`'s, kept. The version is read before
    /// loading, so a write that lands while loading leaves the value under the older version,
    /// and the next request loads again.
    pub async fn get_or_load<F, Fut>(&self, db: &DatabaseConnection, load: F) -> Result<T, AppError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, AppError>>,
    {
        let version = super::page_version::current(db).await?;
        self.at_version(version, load).await
    }

    async fn at_version<F, Fut>(&self, version: u64, load: F) -> Result<T, AppError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, AppError>>,
    {
        if let Some((at, stored, value)) = self.slot.lock().unwrap().as_ref()
            && *at == version
            && stored.elapsed() < MAX_AGE
        {
            return Ok(value.clone());
        }
        let value = load().await?;
        *self.slot.lock().unwrap() = Some((version, Instant::now(), value.clone()));
        Ok(value)
    }
}

/// Memos by key, for values many requests share but not all (a topic page's posts, per page
/// and kind of reader). At most `capacity` values: when full, the stale ones go, and if none
/// is stale, all of them (a burst of distinct keys costs loads, never unbounded memory).
pub struct MemoMap<K, T> {
    capacity: usize,
    slots: Mutex<HashMap<K, (u64, Instant, T)>>,
}

impl<K: Eq + Hash, T: Clone> MemoMap<K, T> {
    pub fn new(capacity: usize) -> Self {
        MemoMap {
            capacity,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// `Memo::get_or_load` for the value under `key`.
    pub async fn get_or_load<F, Fut>(
        &self,
        db: &DatabaseConnection,
        key: K,
        load: F,
    ) -> Result<T, AppError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, AppError>>,
    {
        let version = super::page_version::current(db).await?;
        self.at_version(version, key, load).await
    }

    async fn at_version<F, Fut>(&self, version: u64, key: K, load: F) -> Result<T, AppError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, AppError>>,
    {
        if let Some((at, stored, value)) = self.slots.lock().unwrap().get(&key)
            && *at == version
            && stored.elapsed() < MAX_AGE
        {
            return Ok(value.clone());
        }
        let value = load().await?;
        let mut slots = self.slots.lock().unwrap();
        if slots.len() >= self.capacity && !slots.contains_key(&key) {
            slots.retain(|_, (at, stored, _)| *at == version && stored.elapsed() < MAX_AGE);
            if slots.len() >= self.capacity {
                slots.clear();
            }
        }
        slots.insert(key, (version, Instant::now(), value.clone()));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::testing::test_db;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn a_value_is_kept_while_its_version_is_current() {
        let memo = Memo::<u32>::default();
        let loads = AtomicU32::new(0);
        let load = || async { Ok(loads.fetch_add(1, Ordering::SeqCst) + 1) };
        assert_eq!(memo.at_version(7, load).await.unwrap(), 1);
        assert_eq!(memo.at_version(7, load).await.unwrap(), 1);
        assert_eq!(memo.at_version(8, load).await.unwrap(), 2);
        assert_eq!(memo.at_version(8, load).await.unwrap(), 2);
        // A refused load keeps nothing.
        let refused = memo.at_version(9, || async { Err(AppError::Internal) });
        assert!(refused.await.is_err());
        assert_eq!(memo.at_version(9, load).await.unwrap(), 3);
    }

    #[tokio::test]
    async fn a_write_makes_the_next_reader_load_again() {
        let db = test_db().await;
        let memo = Memo::<u32>::default();
        let loads = AtomicU32::new(0);
        let load = || async { Ok(loads.fetch_add(1, Ordering::SeqCst) + 1) };
        let before = memo.get_or_load(&db, load).await.unwrap();
        crate::server::page_version::changed(&db).await;
        assert!(memo.get_or_load(&db, load).await.unwrap() > before);
    }

    #[tokio::test]
    async fn a_map_keeps_each_key_under_its_version_and_stays_bounded() {
        let map = MemoMap::<u32, u32>::new(2);
        let loads = AtomicU32::new(0);
        let load = || async { Ok(loads.fetch_add(1, Ordering::SeqCst) + 1) };
        assert_eq!(map.at_version(1, 10, load).await.unwrap(), 1);
        assert_eq!(map.at_version(1, 20, load).await.unwrap(), 2);
        assert_eq!(map.at_version(1, 10, load).await.unwrap(), 1);
        assert_eq!(map.at_version(1, 20, load).await.unwrap(), 2);
        // Full with current values: a third key empties it.
        assert_eq!(map.at_version(1, 30, load).await.unwrap(), 3);
        assert_eq!(map.slots.lock().unwrap().len(), 1);
        assert_eq!(map.at_version(1, 10, load).await.unwrap(), 4);
        // A new version loads again, and the stale values make room first.
        assert_eq!(map.at_version(2, 10, load).await.unwrap(), 5);
        assert_eq!(map.at_version(2, 20, load).await.unwrap(), 6);
        assert_eq!(map.slots.lock().unwrap().len(), 2);
        let refused = map.at_version(2, 40, || async { Err(AppError::Internal) });
        assert!(refused.await.is_err());
        assert_eq!(map.at_version(2, 20, load).await.unwrap(), 6);
    }
}
