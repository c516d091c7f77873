//! How busy SQLite's one writer is, for /metrics: the writers waiting for the turn now, and the
//! time the turn has been held in all (`db::WriterTurn` tells it when it is taken and ends).

/// How many of this process's SQLite writers are waiting for their turn now (for /metrics):
/// above a handful for long, writes arrive faster than the one writer finishes them.
pub fn writers_waiting() -> usize {
    WRITERS_WAITING.load(std::sync::atomic::Ordering::Relaxed)
}

static WRITERS_WAITING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Counts one writer in `WRITERS_WAITING` until it has its turn or gives up waiting (dropped).
pub(super) struct WaitingWriter;

impl WaitingWriter {
    pub(super) fn count() -> WaitingWriter {
        WRITERS_WAITING.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        WaitingWriter
    }
}

impl Drop for WaitingWriter {
    fn drop(&mut self) {
        WRITERS_WAITING.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// How long, in all, this process's SQLite writers have held the turn to write (for
/// /metrics), the turn held now included: a write stuck in its turn shows as busy, not idle.
/// Its rate is the share of the time the one writer is busy: near 1, every write waits for the
/// writes before it, and adding requests only lengthens the queue (`writers_waiting`); run 32
/// in docs/benchmarks.md found the reply benchmark there. Never less than it was when read
/// before (both parts are read together).
pub fn writer_busy_seconds() -> f64 {
    let busy = busy_time();
    let now = busy
        .held_since
        .map(|since| since.elapsed())
        .unwrap_or_default();
    (busy.ended + now).as_secs_f64()
}

/// The writers' busy time: the turns ended, and when the one held now was taken.
struct BusyTime {
    ended: std::time::Duration,
    held_since: Option<std::time::Instant>,
}

static BUSY_TIME: std::sync::Mutex<BusyTime> = std::sync::Mutex::new(BusyTime {
    ended: std::time::Duration::ZERO,
    held_since: None,
});

/// Held for a few instructions; a panic while held leaves nothing half-written to fear.
fn busy_time() -> std::sync::MutexGuard<'static, BusyTime> {
    BUSY_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The turn was taken now: the time to give `ended` when it ends.
pub(super) fn taken() -> std::time::Instant {
    let now = std::time::Instant::now();
    busy_time().held_since = Some(now);
    now
}

/// The turn taken at `since` ended.
pub(super) fn ended(since: std::time::Instant) {
    let mut busy = busy_time();
    busy.ended += since.elapsed();
    busy.held_since = None;
}
