//! Unposted text kept in the member's session, so nothing typed is lost to a log-in, a
//! no-JavaScript preview or a refused post. Sessions exist for signed-out visitors too.
//! Composers keep a `Draft`; the article editor keeps an `ArticleDraft`.
//!
//! Sessions are stored rows, and anyone can start one, so what drafts may hold is bounded: a
//! draft's body is kept up to the posting limit (a longer one is refused for posting anyway,
//! with its length, and the writer gets back what can be posted), at most `MAX_DRAFTS` drafts (the oldest goes when
//! another starts), and all of them together at most `MAX_DRAFT_BYTES`. A draft that does not
//! fit is refused with a message saying so; the rest of the session (who is signed in) is
//! never touched to make room.
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use tower_sessions::Session;

use super::content::MAX_BODY_CHARS;
use crate::{
    error::AppError,
    model::{ArticleDraft, Draft},
};

/// At most this many drafts per session; keeping one more drops the least recently kept.
pub const MAX_DRAFTS: usize = 20;
/// What all of a session's drafts may take together, as stored (JSON): the session row stays
/// under 256 KB with room for the sign-in itself.
pub const MAX_DRAFT_BYTES: usize = 250 * 1024;

pub const DRAFTS_FULL: &str = "Your unsent drafts fill all the room this browser has for them, so this one can't be kept. Post or discard another draft (or shorten this one) and try again.";

/// The session key listing the kept drafts, least recently kept first, with their sizes.
const INDEX_KEY: &str = "drafts";

#[derive(Default, Serialize, Deserialize)]
struct Index(Vec<(String, usize)>);

/// What a draft's length limit applies to: the text the writer typed.
pub trait DraftText: Clone {
    fn body_mut(&mut self) -> &mut String;
}

impl DraftText for Draft {
    fn body_mut(&mut self) -> &mut String {
        &mut self.body
    }
}

impl DraftText for ArticleDraft {
    fn body_mut(&mut self) -> &mut String {
        &mut self.body
    }
}

fn fail(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "draft read/write failed");
    AppError::Internal
}

pub fn reply_key(topic_id: i64) -> String {
    format!("draft:reply:{topic_id}")
}
pub const NEW_TOPIC_KEY: &str = "draft:topic";
pub fn edit_key(post_id: i64) -> String {
    format!("draft:edit:{post_id}")
}
/// The article editor's draft; 0 for a new article.
pub fn article_key(article_id: i64) -> String {
    format!("draft:article:{article_id}")
}

/// Keeps `draft` under `key` (its body cut at the posting limit), or refuses it (an `Invalid`
/// error about the body) when the session's drafts have no room left for it.
pub async fn save<T: Serialize + DraftText>(
    session: &Session,
    key: &str,
    draft: &T,
) -> Result<(), AppError> {
    let mut draft = draft.clone();
    if let Some((cut, _)) = draft.body_mut().char_indices().nth(MAX_BODY_CHARS) {
        draft.body_mut().truncate(cut);
    }
    let value = serde_json::to_value(&draft).map_err(|e| {
        tracing::error!(error = %e, "draft encoding failed");
        AppError::Internal
    })?;
    let size = value.to_string().len() + key.len();
    let mut index: Index = session
        .get(INDEX_KEY)
        .await
        .map_err(fail)?
        .unwrap_or_default();
    index.0.retain(|(k, _)| k != key);
    let mut dropped = Vec::new();
    while index.0.len() >= MAX_DRAFTS {
        dropped.push(index.0.remove(0).0);
    }
    let kept: usize = index.0.iter().map(|(_, s)| s).sum();
    if kept + size > MAX_DRAFT_BYTES {
        return Err(AppError::invalid("body", DRAFTS_FULL));
    }
    for old in dropped {
        session.remove_value(&old).await.map_err(fail)?;
    }
    index.0.push((key.to_string(), size));
    session.insert_value(key, value).await.map_err(fail)?;
    session.insert(INDEX_KEY, &index).await.map_err(fail)
}

pub async fn load<T: DeserializeOwned>(
    session: &Session,
    key: &str,
) -> Result<Option<T>, AppError> {
    session.get(key).await.map_err(fail)
}

pub async fn clear(session: &Session, key: &str) -> Result<(), AppError> {
    session.remove_value(key).await.map_err(fail)?;
    let index: Option<Index> = session.get(INDEX_KEY).await.map_err(fail)?;
    if let Some(mut index) = index {
        index.0.retain(|(k, _)| k != key);
        session.insert(INDEX_KEY, &index).await.map_err(fail)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::server::{session_store::DbSessionStore, state::USER_ID_KEY, testing::test_db};

    async fn session() -> Session {
        Session::new(None, Arc::new(DbSessionStore::new(test_db().await)), None)
    }

    async fn session_and_store() -> (Session, Arc<DbSessionStore>) {
        let db = test_db().await;
        crate::server::testing::insert_user(&db, 7).await;
        let store = Arc::new(DbSessionStore::new(db));
        (Session::new(None, store.clone(), None), store)
    }

    fn draft(body: String) -> Draft {
        Draft {
            body,
            ..Default::default()
        }
    }

    async fn stored_bytes(session: &Session, store: &DbSessionStore) -> usize {
        session.save().await.unwrap();
        let id = session.id().unwrap();
        let rec = tower_sessions::SessionStore::load(store, &id).await;
        serde_json::to_string(&rec.unwrap().unwrap().data)
            .unwrap()
            .len()
    }

    #[tokio::test]
    async fn a_draft_is_kept_up_to_the_posting_limit_and_no_further() {
        let s = session().await;
        save(&s, NEW_TOPIC_KEY, &draft("a".repeat(MAX_BODY_CHARS)))
            .await
            .unwrap();
        save(&s, &reply_key(1), &draft("é".repeat(MAX_BODY_CHARS * 3)))
            .await
            .unwrap();
        let kept: Draft = load(&s, &reply_key(1)).await.unwrap().unwrap();
        assert_eq!(kept.body, "é".repeat(MAX_BODY_CHARS));
        let whole: Draft = load(&s, NEW_TOPIC_KEY).await.unwrap().unwrap();
        assert_eq!(whole.body.len(), MAX_BODY_CHARS);
    }

    #[tokio::test]
    async fn the_twenty_first_draft_drops_the_least_recently_kept() {
        let s = session().await;
        for topic in 1..=MAX_DRAFTS as i64 {
            save(&s, &reply_key(topic), &draft(format!("reply {topic}")))
                .await
                .unwrap();
        }
        // Keeping draft 1 again makes it the most recent: 2 is now the oldest.
        save(&s, &reply_key(1), &draft("reply 1, again".into()))
            .await
            .unwrap();
        save(&s, &reply_key(99), &draft("one more".into()))
            .await
            .unwrap();
        assert_eq!(load::<Draft>(&s, &reply_key(2)).await.unwrap(), None);
        for topic in [1, 3, 20, 99] {
            assert!(
                load::<Draft>(&s, &reply_key(topic))
                    .await
                    .unwrap()
                    .is_some(),
                "{topic}"
            );
        }
        clear(&s, &reply_key(99)).await.unwrap();
        save(&s, &reply_key(100), &draft("room again".into()))
            .await
            .unwrap();
        assert!(load::<Draft>(&s, &reply_key(3)).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn drafts_beyond_the_session_budget_are_refused_and_the_sign_in_stays() {
        let (s, store) = session_and_store().await;
        s.insert(USER_ID_KEY, 7).await.unwrap();
        let big = || draft("x".repeat(45_000));
        let mut kept = 0;
        let err = loop {
            match save(&s, &reply_key(kept), &big()).await {
                Ok(()) => kept += 1,
                Err(e) => break e,
            }
        };
        assert_eq!(err, AppError::invalid("body", DRAFTS_FULL));
        assert_eq!(kept, 5, "five of 45 KB fit in 250 KB, the sixth does not");
        assert_eq!(load::<Draft>(&s, &reply_key(kept)).await.unwrap(), None);
        assert_eq!(s.get::<i64>(USER_ID_KEY).await.unwrap(), Some(7));
        // A small draft still fits, and replacing a kept draft with a shorter one works.
        save(&s, &reply_key(0), &draft("short now".into()))
            .await
            .unwrap();
        save(&s, &reply_key(50), &big()).await.unwrap();
        assert!(stored_bytes(&s, &store).await <= 256 * 1024);
    }
}
