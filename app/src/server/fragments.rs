//! Rendered HTML that is the same for many readers, kept so it is rendered once per change
//! rather than once per request: a page of posts with their clean HTML, authors, badges and
//! controls is most of a signed-in member's topic page and most of its rendering time.
//!
//! A fragment is keyed by a hash of everything it was rendered from (the rows as the page read
//! them, and who may do what to them), never by a version someone must remember to bump: a
//! reply, an edit, a hidden post or a renamed author changes what the page reads, hence the key,
//! in this process and in every other process on the same database. Stale entries are never
//! served; they age out of the bounded store. The hash is keyed per process (std's RandomState),
//! so a post's author cannot aim text at another page's key.
//!
//! What depends on the moment or the reader's zone (relative times) is not in the stored HTML:
//! a fragment is a list of pieces, HTML and times, stitched for each request. Writing its times
//! was a tenth of a member's topic page's instructions (30 of them, each a zone looked up and
//! two dates written), so a fragment keeps its last stitch: readers in the same zone within the
//! same second get the same bytes.
use std::{
    collections::HashMap,
    hash::{BuildHasher, Hash, RandomState},
    sync::{Arc, LazyLock, Mutex},
};

use chrono::{DateTime, Utc};

/// What all fragments together may hold, their kept stitches included. A 30-post page is about
/// 30 to 50 KB, twice that with its stitch.
const MAX_BYTES: usize = 8 * 1024 * 1024;

/// One piece of a fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Html(String),
    /// A relative time, written for the reader and the moment when stitched.
    Time(DateTime<Utc>),
}

/// Rendered HTML with the times left open.
#[derive(Debug, Default)]
pub struct Fragment {
    pub pieces: Vec<Piece>,
    /// The last stitch, by the key its caller gave (`stitch_kept`).
    last: Mutex<Option<(u64, Arc<str>)>>,
}

impl Fragment {
    /// The pieces' bytes.
    fn len(&self) -> usize {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Html(s) => s.len(),
                Piece::Time(_) => 32,
            })
            .sum()
    }

    /// What it takes of the store's budget: the pieces and room for the stitch it keeps, which
    /// is about as long (counted from the start, so the budget holds whenever it is made).
    fn size(&self) -> usize {
        2 * self.len()
    }

    /// Splits rendered HTML at the time markers `marker` wrote (see [`TimeMarker`]).
    pub fn parse(html: &str, marker: &TimeMarker) -> Fragment {
        let mut pieces = Vec::new();
        let mut rest = html;
        while let Some(at) = rest.find(marker.start.as_str()) {
            let after = &rest[at + marker.start.len()..];
            let Some(end) = after.find(MARKER_END) else {
                break;
            };
            let Some(time) = after[..end]
                .parse::<i64>()
                .ok()
                .map(DateTime::from_timestamp_nanos)
            else {
                break;
            };
            if at > 0 {
                pieces.push(Piece::Html(rest[..at].to_string()));
            }
            pieces.push(Piece::Time(time));
            rest = &after[end + MARKER_END.len()..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Html(rest.to_string()));
        }
        Fragment {
            pieces,
            last: Mutex::default(),
        }
    }

    /// The fragment as one reader gets it, `time` writing each time.
    pub fn stitch(&self, mut time: impl FnMut(DateTime<Utc>, &mut String)) -> String {
        let mut out = String::with_capacity(self.len() + 256);
        for piece in &self.pieces {
            match piece {
                Piece::Html(s) => out.push_str(s),
                Piece::Time(at) => time(*at, &mut out),
            }
        }
        out
    }

    /// `stitch`, kept for the next call with the same `key`: the caller's key names everything
    /// `time` writes from (the reader's zone, the moment to the second).
    pub fn stitch_kept(&self, key: u64, time: impl FnMut(DateTime<Utc>, &mut String)) -> Arc<str> {
        if let Some((at, html)) = self.last.lock().unwrap().as_ref()
            && *at == key
        {
            return html.clone();
        }
        let html: Arc<str> = self.stitch(time).into();
        *self.last.lock().unwrap() = Some((key, html.clone()));
        html
    }
}

const MARKER_END: &str = "\u{2}";

/// Stands in for a time while a fragment renders: a control character, a secret of this
/// process and the time's nanoseconds. Post text cannot forge it (it never learns the secret;
/// the markers never leave the process), so only the renderer's times are stitched.
#[derive(Debug, Clone)]
pub struct TimeMarker {
    start: String,
}

impl TimeMarker {
    pub fn new() -> TimeMarker {
        static SECRET: LazyLock<String> =
            LazyLock::new(|| format!("\u{1}{:016x}:", RandomState::new().hash_one(0u8)));
        TimeMarker {
            start: SECRET.clone(),
        }
    }

    pub fn mark(&self, at: DateTime<Utc>) -> String {
        let nanos = at.timestamp_nanos_opt().unwrap_or_default();
        format!("{}{nanos}{MARKER_END}", self.start)
    }
}

impl Default for TimeMarker {
    fn default() -> Self {
        Self::new()
    }
}

struct Store {
    entries: HashMap<u64, (u64, Arc<Fragment>)>,
    bytes: usize,
    /// Uses so far: an entry's last use, for evicting the least recently used.
    clock: u64,
}

static STORE: LazyLock<Mutex<Store>> = LazyLock::new(|| {
    Mutex::new(Store {
        entries: HashMap::new(),
        bytes: 0,
        clock: 0,
    })
});
static KEYS: LazyLock<RandomState> = LazyLock::new(RandomState::new);

/// The key of what a fragment is rendered from.
pub fn key(inputs: &impl Hash) -> u64 {
    KEYS.hash_one(inputs)
}

pub fn get(key: u64) -> Option<Arc<Fragment>> {
    let mut store = STORE.lock().unwrap();
    store.clock += 1;
    let now = store.clock;
    store.entries.get_mut(&key).map(|(used, f)| {
        *used = now;
        f.clone()
    })
}

/// Keeps `fragment`; the least recently used go when the store is full.
pub fn put(key: u64, fragment: Fragment) -> Arc<Fragment> {
    let fragment = Arc::new(fragment);
    let size = fragment.size();
    if size > MAX_BYTES / 8 {
        return fragment;
    }
    let mut store = STORE.lock().unwrap();
    store.clock += 1;
    let now = store.clock;
    if let Some((_, old)) = store.entries.insert(key, (now, fragment.clone())) {
        store.bytes -= old.size();
    }
    store.bytes += size;
    while store.bytes > MAX_BYTES {
        let Some(oldest) = store
            .entries
            .iter()
            .min_by_key(|(_, (used, _))| *used)
            .map(|(k, _)| *k)
        else {
            break;
        };
        if let Some((_, gone)) = store.entries.remove(&oldest) {
            store.bytes -= gone.size();
        }
    }
    fragment
}

/// Bytes held now (for /metrics and tests).
pub fn held_bytes() -> usize {
    STORE.lock().unwrap().bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_cut_out_and_stitched_back_and_forged_markers_stay_text() {
        let marker = TimeMarker::new();
        let at = DateTime::from_timestamp_nanos(1_700_000_000_123_456_789);
        let forged = "\u{1}0000000000000000:5\u{2}";
        let html = format!("<p>{forged}</p><time>{}</time><b>x</b>", marker.mark(at));
        let f = Fragment::parse(&html, &marker);
        assert_eq!(
            f.pieces,
            vec![
                Piece::Html(format!("<p>{forged}</p><time>")),
                Piece::Time(at),
                Piece::Html("</time><b>x</b>".into()),
            ]
        );
        let out = f.stitch(|t, out| out.push_str(&t.timestamp().to_string()));
        assert_eq!(
            out,
            format!("<p>{forged}</p><time>1700000000</time><b>x</b>")
        );
    }

    #[test]
    fn a_stitch_is_kept_for_its_key_only() {
        let marker = TimeMarker::new();
        let at = DateTime::from_timestamp_nanos(1_700_000_000_000_000_000);
        let f = Fragment::parse(&format!("<p>{}</p>", marker.mark(at)), &marker);
        let mut calls = 0;
        let mut stitch = |key: u64, text: &str| {
            f.stitch_kept(key, |_, out| {
                calls += 1;
                out.push_str(text)
            })
        };
        assert_eq!(&*stitch(1, "a"), "<p>a</p>");
        // Same key: the kept bytes, times not written again.
        assert_eq!(&*stitch(1, "b"), "<p>a</p>");
        // Another key (another zone, or the next second): written afresh, and kept instead.
        assert_eq!(&*stitch(2, "c"), "<p>c</p>");
        assert_eq!(&*stitch(1, "d"), "<p>d</p>");
        assert_eq!(calls, 3);
    }

    #[test]
    fn the_store_stays_within_its_budget_dropping_the_least_recently_used() {
        let big = || Fragment {
            pieces: vec![Piece::Html("x".repeat(MAX_BYTES / 20))],
            ..Default::default()
        };
        let first = key(&("budget test", 0));
        put(first, big());
        for i in 1..20 {
            put(key(&("budget test", i)), big());
            // The first stays in use, so it is never the least recently used.
            assert!(get(first).is_some());
        }
        assert!(held_bytes() <= MAX_BYTES);
        assert!(get(key(&("budget test", 1))).is_none());
        // Each counts its kept stitch: with it made, what the store holds is still in budget.
        let html_bytes: usize = STORE
            .lock()
            .unwrap()
            .entries
            .values()
            .map(|(_, f)| f.len() + f.stitch_kept(0, |_, _| ()).len())
            .sum();
        assert!(html_bytes <= MAX_BYTES, "{html_bytes}");
    }
}
