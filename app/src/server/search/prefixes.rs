//! A prefix word (the last word, when nothing follows it) read, on SQLite, as the words of the
//! index it begins: see `expand_prefixes`.
use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

use super::query::{Parsed, Term};
use crate::{error::AppError, server::db::numbered};

/// The most words of the index one prefix word stands for: the commonest it begins.
const MAX_PREFIX_WORDS: u64 = 32;

/// Words whose reading by the tokenizer is kept (`READ_BACK`): about 100 bytes each.
const MAX_READ_BACK: usize = 4096;

/// Each word tried (`ENDINGS`) and how the tokenizer reads it back, if as one word.
static READ_BACK: std::sync::LazyLock<std::sync::Mutex<HashMap<String, Option<String>>>> =
    std::sync::LazyLock::new(Default::default);

/// What is tried after an index word so that the tokenizer reads it back as itself. The
/// index's words are stems, and a query's words are stemmed again: Porter's stemmer takes
/// "releas" (the stem of "release") on to "relea", and "exceed" (of "exceeded") to "excee",
/// which match nothing. "releas" + "e" and "exceed" + "ed" come back as they were.
const ENDINGS: [&str; 3] = ["", "e", "ed"];

/// On SQLite, each prefix word (the last word, when nothing follows it) as the word itself or
/// any of the index's words it begins (`Term::AnyOf`). FTS5 reads a prefix by merging the
/// lists of every word it begins, all of them, before a single row is taken, twice a search
/// (ranking, then marking): "time" as typed, in 135,000 of a million posts, took 150 ms, where
/// words in an OR are read as they go and stop at the newest `MAX_CANDIDATES`. The words come
/// from the index's vocabulary (fts5vocab, made per connection in `temp`), looked up by the
/// prefix lower-cased and without accents as the tokenizer stores words, each written so the
/// tokenizer reads it back as itself (`ENDINGS`, checked by the tokenizer itself); the word
/// itself is also read as typed, so its stem is never lost, and if an index word cannot be
/// written so, the typed word is read as a prefix by FTS5 as before. PostgreSQL reads a prefix
/// from its index as it goes: left as it is.
pub async fn expand_prefixes(db: &DatabaseConnection, parsed: Parsed) -> Result<Parsed, AppError> {
    use sea_orm::TransactionTrait;
    use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};
    let is_prefix = |t: &Term| matches!(t, Term::Word { prefix: true, .. });
    let backend = db.get_database_backend();
    if backend != DbBackend::Sqlite || !parsed.terms.iter().any(is_prefix) {
        return Ok(parsed);
    }
    // One connection for every statement: the tables in `temp` are the connection's own.
    let txn = db.begin().await?;
    for sql in [
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab
         USING fts5vocab(main, search_index, row)",
        // The index's tokenizer, to read words as a query's words are read.
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_stems
         USING fts5(word, tokenize = 'porter unicode61 remove_diacritics 2')",
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_stems_read
         USING fts5vocab(temp, search_stems, instance)",
    ] {
        txn.execute_unprepared(sql).await?;
    }
    let mut found: Vec<(String, Vec<String>)> = Vec::new();
    let mut terms = Vec::with_capacity(parsed.terms.len());
    for term in parsed.terms {
        let Term::Word { text, prefix: true } = term else {
            terms.push(term);
            continue;
        };
        let start: String = text.nfd().filter(|c| !is_combining_mark(*c)).collect();
        // Every word that begins with `start` sorts before `start` with its last letter's
        // successor (the vocabulary is in byte order, which is UTF-8's letter order).
        let mut end = start.clone();
        let last = end.pop().unwrap_or('\0');
        end.push(char::from_u32(last as u32 + 1).unwrap_or(char::MAX));
        // The vocabulary counts every post holding each word it lists, to order them: the
        // word itself, when it is one of the index's, is left out of that (at a million posts
        // "add", in 128,763 of them, took 3.7 ms to count, where the words after it took
        // nothing), and tried below through the tokenizer, which writes it so that it is read
        // back as itself ("releas" is read as "relea", so it is written "release"). fts5vocab
        // reads `term > x` as `term >= x` (and counts x): the words after `start` begin with it
        // and go on with a letter or digit, and "0" is the least of those (the tokenizer's
        // words hold no other ASCII).
        let after = format!("{start}0");
        let mut words = vec![start.clone()];
        for row in txn
            .query_all_raw(numbered(
                backend,
                &format!(
                    "SELECT term FROM temp.search_vocab WHERE term >= $1 AND term < $2
                      ORDER BY doc DESC, term LIMIT {MAX_PREFIX_WORDS}"
                ),
                vec![after.into(), end.into()],
            ))
            .await?
        {
            words.push(row.try_get::<String>("", "term")?);
        }
        // Filled in below, once every word has been read back.
        terms.push(Term::AnyOf {
            text: text.clone(),
            words: Vec::new(),
            prefix: false,
        });
        found.push((text, words));
    }
    // Each word with each ending, numbered `word * ENDINGS.len() + ending`, read back.
    let tries: Vec<String> = found
        .iter()
        .flat_map(|(_, words)| words)
        .flat_map(|w| ENDINGS.iter().map(move |e| format!("{w}{e}")))
        .collect();
    // How the tokenizer reads a word never changes: each is asked of it once (three statements
    // on the connection's own tables), then kept.
    let mut read_back: Vec<Option<String>> = Vec::with_capacity(tries.len());
    let mut unknown: Vec<(usize, String)> = Vec::new();
    {
        let kept = READ_BACK.lock().unwrap_or_else(|e| e.into_inner());
        for (i, word) in tries.into_iter().enumerate() {
            match kept.get(&word) {
                Some(read) => read_back.push(read.clone()),
                None => {
                    read_back.push(None);
                    unknown.push((i, word));
                }
            }
        }
    }
    if !unknown.is_empty() {
        let rows: Vec<String> = (0..unknown.len())
            .map(|k| format!("({}, ${})", k, k + 1))
            .collect();
        txn.execute_raw(numbered(
            backend,
            &format!(
                "INSERT INTO temp.search_stems (rowid, word) VALUES {}",
                rows.join(", ")
            ),
            unknown.iter().map(|(_, w)| w.clone().into()).collect(),
        ))
        .await?;
        for row in txn
            .query_all_raw(numbered(
                backend,
                "SELECT doc, term FROM temp.search_stems_read",
                vec![],
            ))
            .await?
        {
            let doc = row.try_get::<i64>("", "doc")?;
            if let Some((i, _)) = unknown.get(doc as usize) {
                read_back[*i] = Some(row.try_get::<String>("", "term")?);
            }
        }
        txn.execute_unprepared("DELETE FROM temp.search_stems")
            .await?;
        let mut kept = READ_BACK.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() + unknown.len() > MAX_READ_BACK {
            kept.clear();
        }
        for (i, word) in unknown {
            kept.insert(word, read_back[i].clone());
        }
    }
    let mut next = 0;
    let mut filled = found.into_iter();
    for term in terms.iter_mut() {
        let Term::AnyOf {
            words: out, prefix, ..
        } = term
        else {
            continue;
        };
        let Some((_, words)) = filled.next() else {
            break;
        };
        for (i, w) in words.into_iter().enumerate() {
            let written = ENDINGS.iter().enumerate().find_map(|(k, e)| {
                (read_back[next + k].as_deref() == Some(w.as_str())).then_some(e)
            });
            next += ENDINGS.len();
            match written {
                // The typed word itself (first), not read back: it may be no word of the index.
                // Read back, it is kept even when it is the typed word as it stands: the word
                // then counts twice, so that a post holding it ranks above one holding only a
                // longer word it begins ("payment" above "PaymentDeclined"), and the typed
                // word without its accents is a word of its own where the tokenizer keeps them
                // ("ещё" and "еще", "καφέ" and "καφε").
                None if i == 0 => {}
                Some(e) => out.push(format!("{w}{e}")),
                None => *prefix = true,
            }
        }
    }
    txn.commit().await?;
    Ok(Parsed { terms, ..parsed })
}
