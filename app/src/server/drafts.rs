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
//!
//! A signed-in member's drafts are also kept on the server per member (`member_drafts`), so they
//! follow the member to another browser or device: a no-JavaScript "Preview" copies the session
//! draft there (a refused post does not: a refusal writes nothing but the session), a posted
//! one is forgotten there too, and public/forms.js saves what is typed there as well
//! (api::drafts) and offers it back when the composer opens elsewhere. Bounded the same way: `MAX_DRAFTS` per member (the least recently
//! kept goes), `MAX_DRAFT_BYTES` together; a draft over the posting limits is refused.
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use tower_sessions::Session;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::content::MAX_BODY_CHARS;
use super::entity::{member_draft, user};
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
    /// What the member's server draft keeps of it: the text they typed.
    fn member_fields(&self) -> MemberDraft;
    /// Kept by a no-JavaScript "Preview": the one session draft copied to the member's server
    /// drafts (a refused post writes nothing but the session).
    fn previewed(&self) -> bool;
}

impl DraftText for Draft {
    fn body_mut(&mut self) -> &mut String {
        &mut self.body
    }
    fn previewed(&self) -> bool {
        self.preview_html.is_some()
    }
    fn member_fields(&self) -> MemberDraft {
        MemberDraft {
            title: self.title.clone(),
            summary: String::new(),
            body: self.body.clone(),
        }
    }
}

impl DraftText for ArticleDraft {
    fn body_mut(&mut self) -> &mut String {
        &mut self.body
    }
    fn previewed(&self) -> bool {
        self.preview_html.is_some()
    }
    fn member_fields(&self) -> MemberDraft {
        MemberDraft {
            title: self.title.clone(),
            summary: self.summary.clone(),
            body: self.body.clone(),
        }
    }
}

/// Copies a session draft to the member's server drafts (or forgets it there), when a member who
/// may write is signed in on this session. Best effort: the session draft is what the previewed
/// form comes back with; a member draft that does not fit is only logged.
async fn mirror(session: &Session, key: &str, fields: Option<MemberDraft>) {
    let Some(state) = leptos::prelude::use_context::<super::state::AppState>() else {
        return; // Outside a request (unit tests).
    };
    let Some(member_key) = key.strip_prefix("draft:") else {
        return;
    };
    let Ok(Some(user_id)) = session.get::<i64>(super::state::USER_ID_KEY).await else {
        return;
    };
    let result = match fields {
        Some(fields) => match may_keep(&state.db, user_id).await {
            Ok(true) => keep_for_member(&state.db, user_id, member_key, &fields).await,
            Ok(false) => Ok(()),
            Err(e) => Err(e),
        },
        None => forget_for_member(&state.db, user_id, member_key).await,
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "member draft not mirrored");
    }
}

/// Suspended members keep nothing on the server.
async fn may_keep(db: &DatabaseConnection, user_id: i64) -> Result<bool, AppError> {
    Ok(user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .is_some_and(|member| super::auth::check_not_suspended(&member).is_ok()))
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
    session.insert(INDEX_KEY, &index).await.map_err(fail)?;
    if draft.previewed() {
        mirror(session, key, Some(draft.member_fields())).await;
    }
    Ok(())
}

pub async fn load<T: DeserializeOwned>(
    session: &Session,
    key: &str,
) -> Result<Option<T>, AppError> {
    session.get(key).await.map_err(fail)
}

pub async fn clear(session: &Session, key: &str) -> Result<(), AppError> {
    // Only what is there is removed: any removal or insert marks the session changed, and a
    // changed session is written to disk after the request (one more fsync'd commit for every
    // reply, though most replies never had a draft kept).
    if session.get_value(key).await.map_err(fail)?.is_some() {
        session.remove_value(key).await.map_err(fail)?;
    }
    let index: Option<Index> = session.get(INDEX_KEY).await.map_err(fail)?;
    if let Some(mut index) = index {
        let before = index.0.len();
        index.0.retain(|(k, _)| k != key);
        if index.0.len() != before {
            session.insert(INDEX_KEY, &index).await.map_err(fail)?;
        }
    }
    mirror(session, key, None).await;
    Ok(())
}

/// A member's draft as kept on the server: the text fields of one composer (no title or
/// summary where the composer has none).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberDraft {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub body: String,
}

impl MemberDraft {
    fn is_blank(&self) -> bool {
        [&self.title, &self.summary, &self.body]
            .iter()
            .all(|text| crate::server::invisible::is_blank(text))
    }
}

pub const MEMBER_KEY_UNKNOWN: &str = "This draft is for a form the site does not have.";
pub const MEMBER_DRAFTS_FULL: &str = "Your unsent drafts fill all the room the site keeps for them, so this one is kept in this browser only. Post or discard another draft to make room.";
/// The longest title a composer takes (the title field's maxlength).
pub const MAX_DRAFT_TITLE_CHARS: usize = 300;
/// An article summary's limit (blog::MAX_SUMMARY_CHARS; blog sits above this module).
pub const MAX_DRAFT_SUMMARY_CHARS: usize = 300;

/// Whether `key` names a composer: `topic`, `reply:N`, `edit:N` or `article:N` (0 for a new
/// article), like the session drafts' keys without their `draft:` prefix.
pub fn member_key_valid(key: &str) -> bool {
    let number = |n: &str| !n.is_empty() && n.len() <= 18 && n.bytes().all(|b| b.is_ascii_digit());
    match key.split_once(':') {
        None => key == "topic",
        Some(("reply" | "edit" | "article", n)) => number(n),
        Some(_) => false,
    }
}

/// Checks a member draft against the posting limits: every problem is refused, nothing is cut.
fn check_member_draft(key: &str, draft: &MemberDraft) -> Result<(), AppError> {
    if !member_key_valid(key) {
        return Err(AppError::invalid("key", MEMBER_KEY_UNKNOWN));
    }
    let count = |s: &str| s.chars().count();
    let too_long = |field: &str, what: &str, n: usize, max: usize| {
        AppError::invalid(
            field,
            format!(
                "{what} can be at most {}; this one has {}.",
                crate::format::count(max as i64, "character", "characters"),
                n
            ),
        )
    };
    if count(&draft.title) > MAX_DRAFT_TITLE_CHARS {
        return Err(too_long(
            "title",
            "A title",
            count(&draft.title),
            MAX_DRAFT_TITLE_CHARS,
        ));
    }
    if count(&draft.summary) > MAX_DRAFT_SUMMARY_CHARS {
        return Err(too_long(
            "summary",
            "A summary",
            count(&draft.summary),
            MAX_DRAFT_SUMMARY_CHARS,
        ));
    }
    if count(&draft.body) > MAX_BODY_CHARS {
        return Err(too_long(
            "body",
            "A post",
            count(&draft.body),
            MAX_BODY_CHARS,
        ));
    }
    Ok(())
}

/// Keeps `draft` as the member's draft under `key` (replacing the one there), or forgets it when
/// it is blank. Refused, writing nothing, when the key or a field is wrong, or when the
/// member's drafts have no room left for it. The caller checks the member may write.
pub async fn keep_for_member(
    db: &DatabaseConnection,
    user_id: i64,
    key: &str,
    draft: &MemberDraft,
) -> Result<(), AppError> {
    check_member_draft(key, draft)?;
    if draft.is_blank() {
        return forget_for_member(db, user_id, key).await;
    }
    let content = serde_json::to_string(draft).map_err(|e| {
        tracing::error!(error = %e, "draft encoding failed");
        AppError::Internal
    })?;
    let size = content.len() + key.len();
    // The write lock up front (BEGIN IMMEDIATE on SQLite): a plain BEGIN that reads then writes
    // fails with "database is locked" when another write lands in between.
    let txn = super::db::begin_private_write(db).await?;
    let mut others = member_draft::Entity::find()
        .filter(member_draft::Column::UserId.eq(user_id))
        .filter(member_draft::Column::DraftKey.ne(key))
        .order_by_asc(member_draft::Column::UpdatedAt)
        .all(&txn)
        .await?;
    let mut dropped = Vec::new();
    while others.len() >= MAX_DRAFTS {
        dropped.push(others.remove(0).draft_key);
    }
    let kept: usize = others.iter().map(|d| d.byte_size.max(0) as usize).sum();
    if kept + size > MAX_DRAFT_BYTES {
        return Err(AppError::invalid("body", MEMBER_DRAFTS_FULL));
    }
    member_draft::Entity::delete_many()
        .filter(member_draft::Column::UserId.eq(user_id))
        .filter(member_draft::Column::DraftKey.is_in(dropped.into_iter().chain([key.to_string()])))
        .exec(&txn)
        .await?;
    member_draft::ActiveModel {
        user_id: Set(user_id),
        draft_key: Set(key.to_string()),
        content: Set(content),
        byte_size: Set(size as i32),
        updated_at: Set(chrono::Utc::now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The member's draft under `key` and when it was kept; only ever theirs.
pub async fn member_draft(
    db: &DatabaseConnection,
    user_id: i64,
    key: &str,
) -> Result<Option<(MemberDraft, chrono::DateTime<chrono::Utc>)>, AppError> {
    if !member_key_valid(key) {
        return Err(AppError::invalid("key", MEMBER_KEY_UNKNOWN));
    }
    let row = member_draft::Entity::find_by_id((user_id, key.to_string()))
        .one(db)
        .await?;
    Ok(row.and_then(|row| {
        let draft = serde_json::from_str(&row.content).ok()?;
        Some((draft, row.updated_at))
    }))
}

pub async fn forget_for_member(
    db: &DatabaseConnection,
    user_id: i64,
    key: &str,
) -> Result<(), AppError> {
    // Every posted reply forgets its draft, and most never had one kept: a read asks first. A
    // DELETE takes SQLite's write lock even when it matches nothing, and taken beside the
    // writers' turn (`db::begin_write`) it waited for their open group on the busy handler,
    // asleep 1 to 100 ms at a time.
    let kept = member_draft::Entity::find_by_id((user_id, key.to_string()))
        .one(db)
        .await?
        .is_some();
    if !kept {
        return Ok(());
    }
    let txn = super::db::begin_private_write(db).await?;
    member_draft::Entity::delete_by_id((user_id, key.to_string()))
        .exec(&txn)
        .await?;
    txn.commit().await?;
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

    /// Posting forgets the member's kept draft, and most posts had none: forgetting none writes
    /// nothing, so it never waits for SQLite's write lock (held here by a writer in its turn).
    /// A kept one is forgotten in the writers' turn, after the writer before it.
    #[tokio::test]
    async fn forgetting_a_draft_never_kept_waits_for_no_writer() {
        use sea_orm::PaginatorTrait;
        let db = test_db().await;
        crate::server::testing::insert_user(&db, 7).await;
        let key = "reply:1";
        let busy = super::super::db::begin_write(&db).await.unwrap();
        let forgot = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            forget_for_member(&db, 7, key),
        )
        .await;
        assert!(matches!(forgot, Ok(Ok(()))), "{forgot:?}");
        busy.commit().await.unwrap();

        let kept = MemberDraft {
            body: "Half a reply".into(),
            ..Default::default()
        };
        keep_for_member(&db, 7, key, &kept).await.unwrap();
        let busy = super::super::db::begin_write(&db).await.unwrap();
        let forgetting = tokio::spawn({
            let db = db.clone();
            async move { forget_for_member(&db, 7, key).await }
        });
        busy.commit().await.unwrap();
        forgetting.await.unwrap().unwrap();
        assert_eq!(member_draft::Entity::find().count(&db).await.unwrap(), 0);
    }
}
