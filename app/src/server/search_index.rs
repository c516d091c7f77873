//! The full-text index's rows (table `search_index`, see the search migration): what goes in,
//! written in the caller's transaction so a post is findable the moment it is public and gone
//! the moment it is not.
//!
//! - One row per visible post, `doc_id` = the post's id: the body as plain text made from the
//!   stored clean HTML, and the topic's title on the opening post only (so a title match is one
//!   row per topic, and a reply matches on its own words).
//! - One row per published article (scheduled ones too: the query keeps them out until their
//!   time), `doc_id` = minus the article's id.
//! - `cjk`: the Chinese, Japanese and Korean runs of title and body as overlapping two-character
//!   pieces, each written as an ASCII token (`q20013q22269`), so any two or more consecutive
//!   characters are found the same way on SQLite and PostgreSQL, in any server locale.
//!
//! Which topics and articles a reader may see is decided again by the query (search/), from the
//! same rows `visibility` reads: a topic whose opening post is held or deleted keeps its
//! replies' rows, and they stay out of results with it.
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, Value,
};

use crate::{
    error::AppError,
    model::PostState,
    server::{
        batch::Batch,
        db::{begin_write, numbered},
        entity::{article, post, topic},
        records::posts,
    },
};

/// Marks the start and end of a matched word in titles and snippets the engine returns. Private
/// use characters: `text_of` removes them from indexed text, so only the engine writes them.
pub const HIT_START: char = '\u{E000}';
pub const HIT_END: char = '\u{E001}';
/// `<` and `>` as PostgreSQL's copy of the text holds them: its parser reads `<...>` as a tag
/// and would drop the words inside (a post about `<script>` could not be found by "script").
/// Read back by search's snippets; removed from indexed text like the markers.
pub const LESS_THAN: char = '\u{E002}';
pub const GREATER_THAN: char = '\u{E003}';

/// The characters only the index writes.
fn is_reserved(c: char) -> bool {
    matches!(c, HIT_START | HIT_END | LESS_THAN | GREATER_THAN)
}

/// `text` without the characters only the index writes: for typed text shown beside what the
/// engine marked (a title read from its topic, not from the index).
pub fn without_reserved(text: &str) -> String {
    text.chars().filter(|c| !is_reserved(*c)).collect()
}

/// A row of the index.
struct Doc {
    id: DocId,
    title: String,
    body: String,
}

/// Which document a row is.
#[derive(Clone, Copy)]
enum DocId {
    Id(i64),
    /// The post numbered last in topic `0`: one written in the same round trip, whose id is
    /// not known yet (`records::posts::last_numbered_where`).
    LastIn(i64),
}

/// The doc id of an article (posts use their own id).
pub fn article_doc(article_id: i64) -> i64 {
    -article_id
}

/// Puts a post in the index as it is now: in when it is visible, out otherwise. Called by
/// posting after every write, edit and change of state.
pub async fn sync_post(txn: &impl ConnectionTrait, p: &post::Model) -> Result<(), AppError> {
    remove(txn, p.id).await?;
    let mut later = Batch::default();
    add_post(txn, p, &mut later).await?;
    Ok(later.run(txn).await?)
}

/// Puts a visible post being written in the same round trip (the last numbered in topic
/// `topic_id`, `posting::write`) in the index: its row is held in `later`. `title` is its
/// topic's for an opening post, else empty.
pub fn add_numbered_post(
    backend: DbBackend,
    topic_id: i64,
    title: String,
    html: &str,
    later: &mut Batch,
) {
    later.extend(insert_statement(
        backend,
        &[Doc {
            id: DocId::LastIn(topic_id),
            title,
            body: text_of(html),
        }],
    ));
}

/// Puts a post that has no row yet in the index, if it is visible: its row is written with the
/// caller's next read (`later`).
async fn add_post(
    txn: &impl ConnectionTrait,
    p: &post::Model,
    later: &mut Batch,
) -> Result<(), AppError> {
    if p.state() != PostState::Visible {
        return Ok(());
    }
    let title = if p.post_number == 1 {
        opening_title(txn, p.topic_id).await?
    } else {
        String::new()
    };
    later.extend(insert_statement(
        txn.get_database_backend(),
        &[Doc {
            id: DocId::Id(p.id),
            title,
            body: text_of(&p.html),
        }],
    ));
    Ok(())
}

/// The topic's title, for its opening post's row; none for an article's comments (the article
/// has its own row).
async fn opening_title(txn: &impl ConnectionTrait, topic_id: i64) -> Result<String, AppError> {
    let is_article = article::Entity::find()
        .filter(article::Column::TopicId.eq(topic_id))
        .select_only()
        .column(article::Column::Id)
        .into_tuple::<i64>()
        .one(txn)
        .await?
        .is_some();
    if is_article {
        return Ok(String::new());
    }
    Ok(topic::Entity::find_by_id(topic_id)
        .select_only()
        .column(topic::Column::Title)
        .into_tuple::<String>()
        .one(txn)
        .await?
        .unwrap_or_default())
}

/// Puts an article in the index as it is now: in once published (the query waits for a
/// scheduled one's time), out as a draft.
pub async fn sync_article(txn: &impl ConnectionTrait, a: &article::Model) -> Result<(), AppError> {
    let id = article_doc(a.id);
    remove(txn, id).await?;
    if a.status != "published" {
        return Ok(());
    }
    insert(
        txn,
        &[Doc {
            id: DocId::Id(id),
            title: a.title.clone(),
            body: text_of(&a.html),
        }],
    )
    .await
}

async fn remove(txn: &impl ConnectionTrait, doc_id: i64) -> Result<(), AppError> {
    let backend = txn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "DELETE FROM search_index WHERE doc_id = $1",
        _ => "DELETE FROM search_index WHERE rowid = $1",
    };
    txn.execute_raw(numbered(backend, sql, vec![doc_id.into()]))
        .await?;
    Ok(())
}

async fn insert(txn: &impl ConnectionTrait, docs: &[Doc]) -> Result<(), AppError> {
    if let Some(statement) = insert_statement(txn.get_database_backend(), docs) {
        txn.execute_raw(statement).await?;
    }
    Ok(())
}

/// The statement that puts `docs` in the index; none for no docs.
fn insert_statement(backend: DbBackend, docs: &[Doc]) -> Option<Statement> {
    if docs.is_empty() {
        return None;
    }
    let postgres = backend == DbBackend::Postgres;
    let mut sql = String::from(if postgres {
        "INSERT INTO search_index (doc_id, title, body, cjk, document, title_document) VALUES "
    } else {
        "INSERT INTO search_index (rowid, title, body, cjk) VALUES "
    });
    // PostgreSQL also takes the title's own pieces, for its title vector.
    let width = if postgres { 5 } else { 4 };
    let mut values: Vec<Value> = Vec::with_capacity(docs.len() * width);
    for (i, doc) in docs.iter().enumerate() {
        let n = i * width;
        if i > 0 {
            sql.push(',');
        }
        let (id, id_value) = match doc.id {
            DocId::Id(id) => (format!("${}", n + 1), id),
            DocId::LastIn(topic) => (
                format!(
                    "(SELECT p.id FROM posts p WHERE {})",
                    posts::last_numbered_where(&format!("${}", n + 1))
                ),
                topic,
            ),
        };
        if postgres {
            // The title weighs most (A); the body is plain (D); the pieces take no stemming.
            sql.push_str(&format!(
                "({id}, ${b}, ${c}, ${d}, setweight(to_tsvector('backyard', ${b}), 'A') \
                 || to_tsvector('backyard', ${c}) || to_tsvector('simple', ${d}), \
                 CASE WHEN ${b} = '' THEN NULL \
                 ELSE to_tsvector('backyard', ${b}) || to_tsvector('simple', ${e}) END)",
                b = n + 2,
                c = n + 3,
                d = n + 4,
                e = n + 5
            ));
        } else {
            sql.push_str(&format!("({id}, ${}, ${}, ${})", n + 2, n + 3, n + 4));
        }
        // A title is typed text: the markers come out of it too.
        let title = without_reserved(&doc.title);
        let pieces = cjk_pieces(&format!("{title}\n{}", doc.body));
        let title_pieces = cjk_pieces(&title);
        let (title, body) = if postgres {
            (no_tags(&title), no_tags(&doc.body))
        } else {
            (title, doc.body.clone())
        };
        values.extend([id_value.into(), title.into(), body.into(), pieces.into()]);
        if postgres {
            values.push(title_pieces.into());
        }
    }
    if backend == DbBackend::Postgres {
        // A post written while the index is rebuilt may have its row already (SQLite's writers
        // take turns; PostgreSQL's do not).
        sql.push_str(
            " ON CONFLICT (doc_id) DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body, \
             cjk = EXCLUDED.cjk, document = EXCLUDED.document, \
             title_document = EXCLUDED.title_document",
        );
    }
    Some(numbered(backend, &sql, values))
}

/// Text with `<` and `>` replaced for PostgreSQL's parser (see `LESS_THAN`).
fn no_tags(text: &str) -> String {
    text.replace('<', &LESS_THAN.to_string())
        .replace('>', &GREATER_THAN.to_string())
}

/// Posts read and written per statement when rebuilding (4 or 5 values a row: SQLite allows
/// 32,766, PostgreSQL 65,535).
const REBUILD_BATCH: u64 = 1000;

/// Rewrites the index from the posts and articles, a batch of posts per transaction, so a live
/// site keeps posting meanwhile (a write in between leaves its post's row right either way: its
/// own transaction writes the row after or before the batch's). Run by the operator (`backyard
/// search-reindex`) and after a bulk load (the benchmark seed). Returns the rows written.
pub async fn rebuild(db: &DatabaseConnection) -> Result<u64, AppError> {
    let mut written = 0u64;
    let mut after = 0i64;
    loop {
        let txn = begin_write(db).await?;
        let batch = index_posts_after(&txn, after).await?;
        txn.commit().await?;
        let Some((last, count)) = batch else { break };
        after = last;
        written += count;
    }
    let txn = begin_write(db).await?;
    written += index_articles(&txn).await?;
    mark_built(&txn).await?;
    txn.commit().await?;
    merge_segments(db).await?;
    Ok(written)
}

/// SQLite: merges the index written in many batches into one b-tree, a step per transaction so
/// writers keep their turns. Every search looks each term (and each snippet's document) up in
/// every segment: a million posts indexed in batches left 21, and the snippets of one page cost
/// twice what they cost on one. PostgreSQL's index has no segments.
async fn merge_segments(db: &DatabaseConnection) -> Result<(), AppError> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    async fn total_changes(txn: &impl ConnectionTrait) -> Result<i64, AppError> {
        let sql = numbered(DbBackend::Sqlite, "SELECT total_changes() AS n", vec![]);
        let row = txn.query_one_raw(sql).await?;
        Ok(row
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0))
    }
    loop {
        let txn = begin_write(db).await?;
        let before = total_changes(&txn).await?;
        // A negative page count: segments of every level are merged, as 'optimize' does.
        let merge = "INSERT INTO search_index (search_index, rank) VALUES ('merge', -500)";
        txn.execute_raw(numbered(DbBackend::Sqlite, merge, vec![]))
            .await?;
        let changed = total_changes(&txn).await? - before;
        txn.commit().await?;
        // Fewer than two changes: nothing was left to merge (FTS5's documented test).
        if changed < 2 {
            return Ok(());
        }
    }
}

/// Builds the index on the first start of a database (after the upgrade that added search),
/// once: in one transaction under a lock, so of several servers starting together one builds
/// and the others find it built. Otherwise one read of one row, so a start does no work that
/// grows with the data. Returns the rows written when it built.
pub async fn ensure_built(db: &DatabaseConnection) -> Result<Option<u64>, AppError> {
    if is_built(db).await? {
        return Ok(None);
    }
    let txn = begin_write(db).await?;
    crate::server::db::lock_key(&txn, "search-index-build").await?;
    if is_built(&txn).await? {
        return Ok(None);
    }
    let written = build_in(&txn).await?;
    txn.commit().await?;
    merge_segments(db).await?;
    Ok(Some(written))
}

/// Writes every post's and article's row and notes the index built, in the caller's
/// transaction: for `ensure_built`, and for `backyard migrate-data`, which fills a new
/// PostgreSQL database in one transaction (an FTS5 index cannot be copied into PostgreSQL's).
/// Returns the rows written.
pub async fn build_in(txn: &impl ConnectionTrait) -> Result<u64, AppError> {
    let mut written = 0u64;
    let mut after = 0i64;
    while let Some((last, count)) = index_posts_after(txn, after).await? {
        after = last;
        written += count;
    }
    written += index_articles(txn).await?;
    mark_built(txn).await?;
    Ok(written)
}

async fn is_built(conn: &impl ConnectionTrait) -> Result<bool, AppError> {
    let backend = conn.get_database_backend();
    Ok(!conn
        .query_all_raw(numbered(
            backend,
            "SELECT id FROM search_index_state",
            vec![],
        ))
        .await?
        .is_empty())
}

async fn mark_built(txn: &impl ConnectionTrait) -> Result<(), AppError> {
    let backend = txn.get_database_backend();
    txn.execute_raw(numbered(backend, "DELETE FROM search_index_state", vec![]))
        .await?;
    txn.execute_raw(numbered(
        backend,
        "INSERT INTO search_index_state (id, built_at) VALUES (1, $1)",
        vec![chrono::Utc::now().into()],
    ))
    .await?;
    Ok(())
}

/// Rewrites the rows of the next `REBUILD_BATCH` posts after id `after` (visible ones in, the
/// rest out). None when no post is left; else the last id and the rows written.
async fn index_posts_after(
    txn: &impl ConnectionTrait,
    after: i64,
) -> Result<Option<(i64, u64)>, AppError> {
    let batch: Vec<(i64, i64, i32, String, String)> = post::Entity::find()
        .filter(post::Column::Id.gt(after))
        .order_by_asc(post::Column::Id)
        .limit(REBUILD_BATCH)
        .select_only()
        .columns([
            post::Column::Id,
            post::Column::TopicId,
            post::Column::PostNumber,
            post::Column::State,
            post::Column::Html,
        ])
        .into_tuple()
        .all(txn)
        .await?;
    let Some(last) = batch.last().map(|p| p.0) else {
        // Rows of posts that are no more (none are ever removed, but an index is only right
        // when it holds nothing else).
        remove_range(txn, after, i64::MAX).await?;
        return Ok(None);
    };
    let visible: Vec<(i64, i64, i32, String)> = batch
        .into_iter()
        .filter(|(.., state, _)| state == PostState::Visible.as_str())
        .map(|(id, topic_id, number, _, html)| (id, topic_id, number, html))
        .collect();
    let opening_topics: Vec<i64> = visible
        .iter()
        .filter(|(_, _, number, _)| *number == 1)
        .map(|(_, topic_id, _, _)| *topic_id)
        .collect();
    let article_topics: std::collections::HashSet<i64> = article::Entity::find()
        .filter(article::Column::TopicId.is_in(opening_topics.clone()))
        .select_only()
        .column(article::Column::TopicId)
        .into_tuple::<i64>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    let titles: std::collections::HashMap<i64, String> = topic::Entity::find()
        .filter(topic::Column::Id.is_in(opening_topics))
        .select_only()
        .columns([topic::Column::Id, topic::Column::Title])
        .into_tuple::<(i64, String)>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    let docs: Vec<Doc> = visible
        .into_iter()
        .map(|(id, topic_id, number, html)| Doc {
            id: DocId::Id(id),
            title: if number == 1 && !article_topics.contains(&topic_id) {
                titles.get(&topic_id).cloned().unwrap_or_default()
            } else {
                String::new()
            },
            body: text_of(&html),
        })
        .collect();
    remove_range(txn, after, last).await?;
    let count = docs.len() as u64;
    insert(txn, &docs).await?;
    Ok(Some((last, count)))
}

/// Every article's row again: published ones in, drafts out.
async fn index_articles(txn: &impl ConnectionTrait) -> Result<u64, AppError> {
    remove_range(txn, i64::MIN, -1).await?;
    let published = article::Entity::find()
        .filter(article::Column::Status.eq("published"))
        .all(txn)
        .await?;
    for a in &published {
        sync_article(txn, a).await?;
    }
    Ok(published.len() as u64)
}

/// Removes the rows with `after < doc id <= last`.
async fn remove_range(txn: &impl ConnectionTrait, after: i64, last: i64) -> Result<(), AppError> {
    let backend = txn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "DELETE FROM search_index WHERE doc_id > $1 AND doc_id <= $2",
        _ => "DELETE FROM search_index WHERE rowid > $1 AND rowid <= $2",
    };
    txn.execute_raw(numbered(backend, sql, vec![after.into(), last.into()]))
        .await?;
    Ok(())
}

/// The text of clean HTML, for the index and its snippets: tags become spaces, the entities the
/// sanitiser writes are read back, runs of white space become one, and the hit markers are
/// dropped so that only the engine can write them.
pub fn text_of(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    let mut space = true;
    let mut push = |text: &mut String, c: char| {
        if c.is_whitespace() {
            if !space {
                text.push(' ');
                space = true;
            }
        } else if !is_reserved(c) {
            text.push(c);
            space = false;
        }
    };
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let end = rest.find('>').map_or(rest.len(), |i| i + 1);
                rest = &rest[end..];
                push(&mut text, ' ');
            }
            '&' => {
                let (decoded, used) = crate::server::html_text::entity(rest);
                push(&mut text, decoded);
                rest = &rest[used..];
            }
            c => {
                push(&mut text, c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    use unicode_normalization::UnicodeNormalization;
    // Composed, as queries are read.
    text.trim_end().nfc().collect()
}

/// Chinese, Japanese and Korean letters: written without spaces between words, so searched by
/// pieces of two.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF     // Hiragana, Katakana
        | 0x31F0..=0x31FF   // Katakana extensions
        | 0x3400..=0x4DBF   // CJK extension A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xF900..=0xFAFF   // CJK compatibility ideographs
        | 0xFF66..=0xFF9F   // Half-width Katakana
        | 0x1100..=0x11FF   // Hangul Jamo
        | 0x3130..=0x318F   // Hangul compatibility Jamo
        | 0xAC00..=0xD7AF   // Hangul syllables
        | 0x20000..=0x2FA1F // CJK extensions B to F, compatibility supplement
    )
}

/// One two-character piece as an ASCII token: letters and digits only, ending in a digit, so
/// neither engine's tokenizer splits it and no stemmer changes it.
pub fn cjk_piece(a: char, b: char) -> String {
    format!("q{}q{}", a as u32, b as u32)
}

/// Every run of CJK letters in `text` as its overlapping two-character pieces, space separated
/// ("東京都" → the pieces of "東京" and "京都").
pub fn cjk_pieces(text: &str) -> String {
    let mut out = String::new();
    for run in cjk_runs(text) {
        for pair in run.windows(2) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&cjk_piece(pair[0], pair[1]));
        }
    }
    out
}

/// The runs of consecutive CJK letters in `text`.
pub fn cjk_runs(text: &str) -> Vec<Vec<char>> {
    let mut runs = Vec::new();
    let mut run = Vec::new();
    for c in text.chars() {
        if is_cjk(c) {
            run.push(c);
        } else if !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_of_reads_clean_html_as_plain_text() {
        assert_eq!(
            text_of(
                "<p>Caf&eacute; &amp; <strong>bar</strong>&lt;b&gt;</p>\n<p>next&#39;s &#x41;</p>"
            ),
            "Caf&eacute; & bar <b> next's A"
        );
        assert_eq!(text_of("a\u{E000}b\u{E001}c & d"), "abc & d");
        assert_eq!(text_of("<p>one</p><p>two</p>"), "one two");
    }

    #[test]
    fn cjk_text_becomes_overlapping_pieces() {
        assert_eq!(
            cjk_pieces("東京都 and 한국"),
            format!(
                "{} {} {}",
                cjk_piece('東', '京'),
                cjk_piece('京', '都'),
                cjk_piece('한', '국')
            )
        );
        assert_eq!(cjk_pieces("plain latin text"), "");
        assert_eq!(cjk_pieces("単"), "");
    }
}
