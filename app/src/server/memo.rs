//! A value worked out from the database that many requests need and few writes change (the
//! site's name, brand and switches on every page: a dozen queries), kept while the page version
//! (server::page_version) is the one it was worked out under. Every write that may change a
//! page bumps that version, in this process or, on PostgreSQL, in any process; a bounded age
//! covers a write that forgot to.
//!
//! One load at a time per value: requests that miss while a load runs wait for it and take
//! its value. Without that, every request arriving after a write loaded the value again side
//! by side: the home page's response headline reads 8,200 topics at a million posts, and 32
//! members opening the home page together held 32 copies at once (docs/benchmarks.md, run 8).
use std::{
    collections::HashMap,
    hash::{BuildHasher, Hash, RandomState},
    sync::Mutex,
    time::{Duration, Instant},
};

use sea_orm::DatabaseConnection;

use crate::error::AppError;

/// At most this old, whatever the version says: the page cache's own bound.
const MAX_AGE: Duration = Duration::from_secs(10);

pub struct Memo<T> {
    slot: Mutex<Option<(u64, Instant, T)>>,
    /// Held while loading (see the module's note).
    loading: tokio::sync::Mutex<()>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo {
            slot: Mutex::new(None),
            loading: tokio::sync::Mutex::new(()),
        }
    }
}

/// A kept value is current for a reader who read `version` if it was loaded under that version
/// or a later one (a load that read a later version saw every write the reader's counts), and
/// is young enough.
fn current<T: Clone>(kept: Option<&(u64, Instant, T)>, version: u64) -> Option<T> {
    kept.filter(|(at, stored, _)| *at >= version && stored.elapsed() < MAX_AGE)
        .map(|(_, _, value)| value.clone())
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
        if let Some(value) = current(self.slot.lock().unwrap().as_ref(), version) {
            return Ok(value);
        }
        let _loading = self.loading.lock().await;
        if let Some(value) = current(self.slot.lock().unwrap().as_ref(), version) {
            return Ok(value);
        }
        let value = load().await?;
        let mut slot = self.slot.lock().unwrap();
        // Never over a value loaded under a later version.
        if slot.as_ref().is_none_or(|(at, _, _)| *at <= version) {
            *slot = Some((version, Instant::now(), value.clone()));
        }
        Ok(value)
    }
}

/// Memos by key, for values many requests share but not all (a topic page's posts, per page
/// and kind of reader), at most `max_bytes` of them by `weigh`. When full, the stale ones go,
/// and if none is stale, all of them: a burst of distinct keys costs loads, never unbounded
/// memory. A value over a quarter of the bound is handed out but not kept.
pub struct MemoMap<K, T> {
    max_bytes: usize,
    weigh: fn(&T) -> usize,
    slots: Mutex<Slots<K, T>>,
    /// Loads take turns by key: a key's turn is one of these, picked by its hash, so two keys
    /// rarely share one and the locks stay a fixed few however many keys there are.
    loading: [tokio::sync::Mutex<()>; LOADING_TURNS],
    turn_of: RandomState,
}

const LOADING_TURNS: usize = 64;

struct Slots<K, T> {
    map: HashMap<K, (u64, Instant, T)>,
    bytes: usize,
    /// Keys whose value was too large to keep, by the version it was loaded under: waiting for
    /// another's load of one gains nothing (it is not kept), so their loads skip the turns
    /// while that version is current. Emptied when it reaches `UNKEPT_MAX`.
    unkept: HashMap<K, u64>,
}

const UNKEPT_MAX: usize = 1024;

impl<K: Eq + Hash, T: Clone> MemoMap<K, T> {
    pub fn new(max_bytes: usize, weigh: fn(&T) -> usize) -> Self {
        MemoMap {
            max_bytes,
            weigh,
            slots: Mutex::new(Slots {
                map: HashMap::new(),
                bytes: 0,
                unkept: HashMap::new(),
            }),
            loading: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
            turn_of: RandomState::new(),
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
        let unkept = {
            let slots = self.slots.lock().unwrap();
            if let Some(value) = current(slots.map.get(&key), version) {
                return Ok(value);
            }
            slots.unkept.get(&key).is_some_and(|at| *at >= version)
        };
        let turn = self.turn_of.hash_one(&key) as usize % LOADING_TURNS;
        let _loading = if unkept {
            None
        } else {
            Some(self.loading[turn].lock().await)
        };
        if let Some(value) = current(self.slots.lock().unwrap().map.get(&key), version) {
            return Ok(value);
        }
        let value = load().await?;
        let size = (self.weigh)(&value);
        if size.saturating_mul(4) > self.max_bytes {
            let mut slots = self.slots.lock().unwrap();
            if slots.unkept.len() >= UNKEPT_MAX {
                slots.unkept.clear();
            }
            slots.unkept.insert(key, version);
            return Ok(value);
        }
        let weigh = self.weigh;
        let mut slots = self.slots.lock().unwrap();
        if slots.map.get(&key).is_some_and(|(at, _, _)| *at > version) {
            return Ok(value);
        }
        if let Some((_, _, old)) = slots.map.remove(&key) {
            slots.bytes -= weigh(&old);
        }
        if slots.bytes + size > self.max_bytes {
            slots
                .map
                .retain(|_, (at, stored, _)| *at >= version && stored.elapsed() < MAX_AGE);
            slots.bytes = slots.map.values().map(|(_, _, v)| weigh(v)).sum();
            if slots.bytes + size > self.max_bytes {
                slots.map.clear();
                slots.bytes = 0;
            }
        }
        slots.bytes += size;
        slots
            .map
            .insert(key, (version, Instant::now(), value.clone()));
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

    /// What four loads at once gave.
    fn loaded(got: (R, R, R, R)) -> [u32; 4] {
        [got.0, got.1, got.2, got.3].map(|v| v.unwrap())
    }
    type R = Result<u32, AppError>;

    /// Readers who miss together wait for one load and share it; one who read an older
    /// version takes a value loaded under a newer one, and never puts an older one back.
    #[tokio::test]
    async fn readers_who_miss_together_share_one_load() {
        let memo = Memo::<u32>::default();
        let map = MemoMap::<u32, u32>::new(1024, |_| 4);
        let loads = AtomicU32::new(0);
        let slow = || async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(loads.fetch_add(1, Ordering::SeqCst) + 1)
        };
        let got = tokio::join!(
            memo.at_version(1, slow),
            memo.at_version(1, slow),
            memo.at_version(1, slow),
            memo.at_version(1, slow),
        );
        assert_eq!(loaded(got), [1; 4]);
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        let got = tokio::join!(
            map.at_version(1, 7, slow),
            map.at_version(1, 7, slow),
            map.at_version(1, 7, slow),
            map.at_version(1, 7, slow),
        );
        assert_eq!(loaded(got), [2; 4]);
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        // Newer, then a reader of the older version: it gets the newer value, kept.
        assert_eq!(memo.at_version(3, slow).await.unwrap(), 3);
        assert_eq!(memo.at_version(2, slow).await.unwrap(), 3);
        assert_eq!(map.at_version(3, 7, slow).await.unwrap(), 4);
        assert_eq!(map.at_version(2, 7, slow).await.unwrap(), 4);
        assert_eq!(loads.load(Ordering::SeqCst), 4);
        // A failed load leaves the next waiter to load.
        let failing = memo.at_version(4, || async { Err(AppError::Internal) });
        let after = memo.at_version(4, slow);
        let (failed, loaded) = tokio::join!(failing, after);
        assert!(failed.is_err());
        assert_eq!(loaded.unwrap(), 5);
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
        // Room for four values of 4 bytes.
        let map = MemoMap::<u32, u32>::new(16, |_| 4);
        let loads = AtomicU32::new(0);
        let load = || async { Ok(loads.fetch_add(1, Ordering::SeqCst) + 1) };
        for key in 1..=4 {
            assert_eq!(map.at_version(1, key, load).await.unwrap(), key);
        }
        for key in 1..=4 {
            assert_eq!(map.at_version(1, key, load).await.unwrap(), key, "kept");
        }
        // Full with current values: a fifth key empties it.
        assert_eq!(map.at_version(1, 5, load).await.unwrap(), 5);
        assert_eq!(map.slots.lock().unwrap().map.len(), 1);
        assert_eq!(map.at_version(1, 1, load).await.unwrap(), 6);
        // A new version loads again, and stale values make room first.
        assert_eq!(map.at_version(2, 1, load).await.unwrap(), 7);
        for key in 2..=4 {
            map.at_version(2, key, load).await.unwrap();
        }
        let slots = map.slots.lock().unwrap();
        assert_eq!((slots.map.len(), slots.bytes), (4, 16));
        drop(slots);
        let refused = map.at_version(2, 40, || async { Err(AppError::Internal) });
        assert!(refused.await.is_err());
        assert_eq!(map.at_version(2, 1, load).await.unwrap(), 7);
        // A value over a quarter of the room is given but not kept.
        let big = MemoMap::<u32, u32>::new(16, |v| *v as usize);
        assert_eq!(big.at_version(1, 1, || async { Ok(5) }).await.unwrap(), 5);
        assert!(big.slots.lock().unwrap().map.is_empty());
        // Then its loads at that version run side by side: waiting would gain nothing. (The
        // turn is held here, so a load that waited for it would never end.)
        let turn = big.turn_of.hash_one(1u32) as usize % LOADING_TURNS;
        let held = big.loading[turn].lock().await;
        let beside = big.at_version(1, 1, || async { Ok(6) });
        let beside = tokio::time::timeout(Duration::from_secs(5), beside).await;
        assert_eq!(beside.expect("loads beside the turn").unwrap(), 6);
        drop(held);
    }
}
