//! What a signed-in member's topic page reads, loaded before the page is rendered (by
//! `api::page_inputs`, with the same server functions the page calls). The router keeps
//! rendered member pages by these inputs (server/src/page_cache.rs, `member_layer`): members
//! whose inputs are the same get the same page, so the second of them is served without a render,
//! with their own name and form token put in. On a miss the render is handed the inputs
//! (`prefetched`), so what it shows is exactly what its key says, even if a write lands
//! meanwhile.
use std::{
    hash::{Hash, Hasher},
    sync::Arc,
};

use leptos::prelude::use_context;
use sha2::{Digest, Sha256};

use crate::model::{ComposerStart, Draft, SessionUser, SiteInfo, TopicPage};

#[derive(Clone, Debug)]
pub struct TopicPageInputs {
    pub id: i64,
    pub page: u64,
    pub user: SessionUser,
    pub site: SiteInfo,
    pub topic: TopicPage,
    pub composer: ComposerStart,
}

/// The reader as the page shows them, apart from their name (a hole, see the router): their
/// role's links and counts in the header, and the zone the page's times are written in. Not
/// their id, display name, avatar or title, which no part of a topic page shows; a test
/// (server/tests/it/member_pages_http.rs) gives members who differ in those one kept page and
/// checks it is exactly each one's own render.
#[derive(Hash)]
struct ShownReader<'a> {
    role: &'a crate::model::Role,
    unread_notifications: u64,
    open_review_items: u64,
    time_zone: &'a Option<String>,
}

#[derive(Hash)]
struct Key<'a> {
    version: u64,
    path_and_query: &'a str,
    reader: ShownReader<'a>,
    site: &'a SiteInfo,
    topic: &'a TopicPage,
    draft: &'a Draft,
}

impl TopicPageInputs {
    /// The kept page's key: a SHA-256 of everything the render reads but the reader's name and
    /// form token, under page version `version` (the rest of what a page shows: the theme, the
    /// settings) and for this address. Fed by the types' derived `Hash`, whose bytes tell apart
    /// any two different values (strings end in a byte UTF-8 never has, lists and options
    /// start with their length or variant), without writing the posts' HTML out as JSON first.
    pub fn key(&self, version: u64, path_and_query: &str) -> [u8; 32] {
        let key = Key {
            version,
            path_and_query,
            reader: ShownReader {
                role: &self.user.role,
                unread_notifications: self.user.unread_notifications,
                open_review_items: self.user.open_review_items,
                time_zone: &self.user.time_zone,
            },
            site: &self.site,
            topic: &self.topic,
            draft: &self.composer.draft,
        };
        let mut hasher = Sha256Hasher::default();
        key.hash(&mut hasher);
        hasher.finish_256()
    }
}

/// `Hash` into SHA-256. `Hash` writes a value a field at a time (an integer, a string's
/// bytes): gathered first, the hash sees whole blocks.
struct Sha256Hasher {
    hash: Sha256,
    pending: Vec<u8>,
}

const PENDING: usize = 16 * 1024;

impl Default for Sha256Hasher {
    fn default() -> Self {
        Sha256Hasher {
            hash: Sha256::new(),
            pending: Vec::with_capacity(PENDING),
        }
    }
}

impl Sha256Hasher {
    fn finish_256(mut self) -> [u8; 32] {
        self.hash.update(&self.pending);
        self.hash.finalize().into()
    }
}

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        if self.pending.len() + bytes.len() > PENDING {
            self.hash.update(&self.pending);
            self.pending.clear();
        }
        if bytes.len() > PENDING {
            self.hash.update(bytes);
        } else {
            self.pending.extend_from_slice(bytes);
        }
    }

    /// Not a 64-bit hash: the key is `finish_256`'s.
    fn finish(&self) -> u64 {
        unreachable!("page keys are 256 bits: finish_256")
    }
}

/// The inputs the router loaded for this render, if it did: from the request being rendered
/// itself, never from a context another request could have provided.
pub fn prefetched() -> Option<Arc<TopicPageInputs>> {
    use_context::<axum::http::request::Parts>()?
        .extensions
        .get::<Arc<TopicPageInputs>>()
        .cloned()
}
