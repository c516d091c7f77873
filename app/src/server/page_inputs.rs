//! What a signed-in member's topic page reads, loaded before the page is rendered (by
//! `api::page_inputs`, with the same server functions the page calls). The router keeps
//! rendered member pages by these inputs (server/src/page_cache.rs, `member_layer`): members
//! whose inputs are the same get the same page, so the second of them is served without a render,
//! with their own name and form token put in. On a miss the render is handed the inputs
//! (`prefetched`), so what it shows is exactly what its key says, even if a write lands
//! meanwhile.
use std::sync::Arc;

use leptos::prelude::use_context;
use serde::Serialize;
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
#[derive(Serialize)]
struct ShownReader<'a> {
    role: &'a crate::model::Role,
    unread_notifications: u64,
    open_review_items: u64,
    time_zone: &'a Option<String>,
}

#[derive(Serialize)]
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
    /// settings) and for this address.
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
        // serde_json writes a token at a time: gathered first, the hash sees large blocks.
        let mut hash = std::io::BufWriter::with_capacity(16 * 1024, HashWriter(Sha256::new()));
        serde_json::to_writer(&mut hash, &key).expect("page inputs serialise");
        let hash = hash
            .into_inner()
            .unwrap_or_else(|_| unreachable!("hashing cannot fail"));
        hash.0.finalize().into()
    }
}

struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
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
