//! A prefix word (the last word, when nothing follows it) read, on SQLite, as the words of the
//! index it begins: see `expand_prefixes`.
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

use super::query::{Parsed, Term};
use crate::{error::AppError, server::db::numbered};

/// The most words of the index one prefix word stands for: the commonest it begins.
const MAX_PREFIX_WORDS: u64 = 32;

/// On SQLite, each prefix word (the last word, when nothing follows it) as the word itself or
/// any of the index's words it begins (`Term::AnyOf`). FTS5 reads a prefix by merging the
/// lists of every word it begins, all of them, before a single row is taken, twice a search
/// (ranking, then marking): "time" as typed, in 135,000 of a million posts, took 150 ms, where
/// words in an OR are read as they go and stop at the newest `MAX_CANDIDATES`. The words come
/// from the index's vocabulary (fts5vocab, made per connection in `temp`), looked up by the
/// prefix lower-cased and without accents as the tokenizer stores words; the word itself is
/// also read as typed, so its stem (the tokenizer's own reading) is never lost. PostgreSQL
/// reads a prefix from its index as it goes: left as it is.
pub async fn expand_prefixes(db: &DatabaseConnection, parsed: Parsed) -> Result<Parsed, AppError> {
    use sea_orm::TransactionTrait;
    use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};
    let is_prefix = |t: &Term| matches!(t, Term::Word { prefix: true, .. });
    let backend = db.get_database_backend();
    if backend != DbBackend::Sqlite || !parsed.terms.iter().any(is_prefix) {
        return Ok(parsed);
    }
    // One connection for both statements: the vocabulary table is the connection's own.
    let txn = db.begin().await?;
    txn.execute_unprepared(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab
         USING fts5vocab(main, search_index, row)",
    )
    .await?;
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
        let words = txn
            .query_all_raw(numbered(
                backend,
                &format!(
                    "SELECT term FROM temp.search_vocab WHERE term >= $1 AND term < $2
                      ORDER BY doc DESC, term LIMIT {MAX_PREFIX_WORDS}"
                ),
                vec![start.into(), end.into()],
            ))
            .await?
            .iter()
            .map(|row| row.try_get::<String>("", "term"))
            .collect::<Result<Vec<_>, _>>()?;
        terms.push(Term::AnyOf { text, words });
    }
    txn.commit().await?;
    Ok(Parsed { terms, ..parsed })
}
