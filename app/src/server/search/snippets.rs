//! What search shows of each result: its title and snippet as the engine marked them, as
//! parts (hits and the text between), with no half of what reads as one character at a cut.
use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Value};

use super::query::{self, Combine, Term, Within};
use crate::{
    error::AppError,
    model::TextPart,
    server::{
        db::numbered,
        html_text::whole_graphemes,
        search_index::{GREATER_THAN, HIT_END, HIT_START, LESS_THAN},
    },
};

/// The engine's marked title and snippet of each document, by doc id.
pub(super) async fn marked(
    db: &DatabaseConnection,
    terms: &[Term],
    combine: Combine,
    doc_ids: &[i64],
) -> Result<HashMap<i64, (String, String)>, AppError> {
    let backend = db.get_database_backend();
    let ids = doc_ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let start = HIT_START.to_string();
    let end = HIT_END.to_string();
    let (sql, mut values) = match backend {
        DbBackend::Postgres => {
            let (expression, values) =
                query::expression(backend, terms, combine, Within::Everything, 3);
            (
                format!(
                    "SELECT s.doc_id, ts_headline('backyard', s.title, q.query, $1) AS title,
                            ts_headline('backyard', s.body, q.query, $2) AS snippet, s.body
                       FROM search_index s, (SELECT {expression} AS query) q
                      WHERE s.doc_id IN ({ids})"
                ),
                values,
            )
        }
        _ => {
            let (expression, values) =
                query::expression(backend, terms, combine, Within::Everything, 3);
            (
                format!(
                    "SELECT rowid AS doc_id, highlight(search_index, 0, $1, $2) AS title,
                            snippet(search_index, 1, $1, $2, '…', 32) AS snippet, body
                       FROM search_index
                      WHERE search_index MATCH {expression} AND {} IN ({ids})",
                    query::marking_ids(terms)
                ),
                values,
            )
        }
    };
    let front: Vec<Value> = match backend {
        DbBackend::Postgres => vec![
            format!("HighlightAll=true, StartSel={start}, StopSel={end}").into(),
            format!(
                "MaxWords=32, MinWords=16, ShortWord=2, MaxFragments=2, \
                 FragmentDelimiter=\" … \", StartSel={start}, StopSel={end}"
            )
            .into(),
        ],
        _ => vec![start.into(), end.into()],
    };
    values.splice(0..0, front);
    let rows = db.query_all_raw(numbered(backend, &sql, values)).await?;
    let mut out = HashMap::new();
    for row in rows {
        let snippet = row.try_get::<String>("", "snippet")?;
        let body = row.try_get::<String>("", "body")?;
        out.insert(
            row.try_get::<i64>("", "doc_id")?,
            (
                row.try_get::<String>("", "title")?,
                whole_at_cuts(snippet, &body),
            ),
        );
    }
    Ok(out)
}

/// A snippet the engine cut short ("…" at either end) without half of what reads as one
/// character at a cut. The engine cuts between words, and its tokenizer ends a word at a mark
/// it does not read as a letter (a Devanagari vowel sign, a keycap, a combining arrow) and
/// starts one at a skin tone, so a cut there left a letter without the mark that belongs to it,
/// or a mark without its letter; that part is left out, as `html_text::excerpt` does. `body`
/// is the text the engine cut (the index's own copy).
fn whole_at_cuts(snippet: String, body: &str) -> String {
    let cut_before = snippet.starts_with('…');
    let cut_after = snippet.ends_with('…') && snippet.chars().count() > 1;
    if !cut_before && !cut_after {
        return snippet;
    }
    let mut inner = snippet.as_str();
    if cut_before {
        inner = &inner['…'.len_utf8()..];
    }
    if cut_after {
        inner = &inner[..inner.len() - '…'.len_utf8()];
    }
    let is_marker = |c: char| matches!(c, HIT_START | HIT_END);
    let shown: String = inner.chars().filter(|c| !is_marker(*c)).collect();
    // Where the snippet is in the body: at its start when the engine began there, else where
    // its whole text (about 32 words) is found first.
    let Some(at) = (if body.starts_with(&shown) {
        Some(0)
    } else {
        body.find(&shown)
    }) else {
        return snippet;
    };
    let drop_end = match body[at + shown.len()..].chars().next() {
        Some(next) if cut_after => {
            shown.chars().count() - whole_graphemes(&shown, next).chars().count()
        }
        _ => 0,
    };
    let drop_start = match body[..at].chars().next_back() {
        Some(before) if cut_before => continued_start(&shown, before),
        _ => 0,
    };
    if drop_start == 0 && drop_end == 0 {
        return snippet;
    }
    // Markers stay where they are (a mark left empty shows nothing): only text is dropped.
    let mut chars: Vec<Option<char>> = inner.chars().map(Some).collect();
    let mut dropping = drop_start;
    for c in chars.iter_mut() {
        if dropping == 0 {
            break;
        }
        if c.is_some_and(|c| !is_marker(c)) {
            *c = None;
            dropping -= 1;
        }
    }
    dropping = drop_end;
    for c in chars.iter_mut().rev() {
        if dropping == 0 {
            break;
        }
        if c.is_some_and(|c| !is_marker(c)) {
            *c = None;
            dropping -= 1;
        }
    }
    let kept: String = chars.into_iter().flatten().collect();
    let mut out = String::with_capacity(kept.len() + 6);
    if cut_before {
        out.push('…');
    }
    out.push_str(kept.trim());
    if cut_after {
        out.push('…');
    }
    out
}

/// How many characters `text` starts with that continue `before`, the character just ahead of
/// it (a skin tone after its hand): its first grapheme when the two read as one.
fn continued_start(text: &str, before: char) -> usize {
    use unicode_segmentation::UnicodeSegmentation;
    let Some(first) = text.graphemes(true).next() else {
        return 0;
    };
    let mut joined = String::with_capacity(first.len() + before.len_utf8());
    joined.push(before);
    joined.push_str(first);
    if joined.graphemes(true).nth(1).is_none() {
        first.chars().count()
    } else {
        0
    }
}

pub(super) fn plain(text: &str) -> TextPart {
    TextPart {
        text: text.to_string(),
        hit: false,
    }
}

/// Text the engine marked, as parts: marked runs are hits; then the CJK runs searched for are
/// marked too (the engine matched them by pieces, which it cannot mark).
pub fn parts(marked: &str, cjk_runs: &[String]) -> Vec<TextPart> {
    let mut out: Vec<TextPart> = Vec::new();
    let mut hit = false;
    let mut current = String::new();
    let flush = |out: &mut Vec<TextPart>, current: &mut String, hit: bool| {
        if !current.is_empty() {
            out.push(TextPart {
                text: std::mem::take(current),
                hit,
            });
        }
    };
    for c in marked.chars() {
        match c {
            HIT_START => {
                flush(&mut out, &mut current, hit);
                hit = true;
            }
            HIT_END => {
                flush(&mut out, &mut current, hit);
                hit = false;
            }
            LESS_THAN => current.push('<'),
            GREATER_THAN => current.push('>'),
            c => current.push(c),
        }
    }
    flush(&mut out, &mut current, hit);
    if cjk_runs.is_empty() {
        return out;
    }
    out.into_iter()
        .flat_map(|part| {
            if part.hit {
                vec![part]
            } else {
                mark_runs(&part.text, cjk_runs)
            }
        })
        .collect()
}

/// `text` split where any of `runs` occurs, those occurrences marked.
fn mark_runs(text: &str, runs: &[String]) -> Vec<TextPart> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let next = runs
            .iter()
            .filter_map(|r| rest.find(r.as_str()).map(|at| (at, r.len())))
            .min();
        let Some((at, len)) = next else { break };
        if at > 0 {
            out.push(plain(&rest[..at]));
        }
        out.push(TextPart {
            text: rest[at..at + len].to_string(),
            hit: true,
        });
        rest = &rest[at + len..];
    }
    if !rest.is_empty() {
        out.push(plain(rest));
    }
    out
}
