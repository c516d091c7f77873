//! What a reader typed, read as data: words, "quoted phrases" and CJK runs, and the engine's
//! query built from those pieces alone. No character the reader types reaches an engine as
//! syntax: every word is letters and digits only, quoted by us (FTS5) or passed as a bound
//! value to a function that reads plain text (PostgreSQL), so quotes, stars, brackets, `NEAR`,
//! `OR`, `col:` and lone operators are only ever words or nothing.
use sea_orm::{DbBackend, Value};

use crate::server::search_index::{cjk_piece, cjk_runs, is_cjk};

/// The longest query read; the rest is ignored (and said so).
pub const MAX_QUERY_CHARS: usize = 200;
/// The most terms one query uses.
pub const MAX_TERMS: usize = 8;
/// Longer "words" are not words (a pasted hash or a line of one letter).
const MAX_WORD_CHARS: usize = 40;
/// The last word is also read as the start of a longer one from this length on.
const MIN_PREFIX_CHARS: usize = 3;

/// Words too common to narrow anything: left out unless a query has nothing else (PostgreSQL's
/// English configuration drops them itself; SQLite's tokenizer would not).
const STOP_WORDS: &[&str] = &[
    "a", "about", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for",
    "from", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my", "no",
    "not", "of", "on", "or", "so", "than", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "we", "what", "when", "where", "which", "who", "why", "will",
    "with", "you", "your",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Term {
    /// A word; `prefix`: also any word it begins (the last word, while typing).
    Word { text: String, prefix: bool },
    /// Words that must appear in this order.
    Phrase(Vec<String>),
    /// A run of Chinese, Japanese or Korean letters: its two-character pieces in order.
    Cjk { run: String, pieces: Vec<String> },
    /// A prefix word on SQLite, read as the word itself or any of the index's words it begins
    /// (`search::expand_prefixes`), each written as the tokenizer reads it back; `prefix`: a
    /// word could not be, so the typed word is also read as a prefix.
    AnyOf {
        text: String,
        words: Vec<String>,
        prefix: bool,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub terms: Vec<Term>,
    /// Part of the query was not used (too long, too many words).
    pub cut: bool,
    /// Every word was too common to narrow anything ("the", "how do I"): nothing to search for.
    pub too_common: bool,
}

impl Parsed {
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The CJK runs, to mark in snippets (the engines match them by pieces, so do not).
    pub fn cjk_runs(&self) -> Vec<String> {
        self.terms
            .iter()
            .filter_map(|t| match t {
                Term::Cjk { run, .. } => Some(run.clone()),
                _ => None,
            })
            .collect()
    }
}

/// Reads a query: "quoted" parts are phrases, the rest words; CJK runs of two or more letters
/// are terms of their own. Lower-cased, deduplicated, stop words dropped (unless nothing else
/// is left), at most `MAX_TERMS`.
pub fn parse(input: &str) -> Parsed {
    use unicode_normalization::UnicodeNormalization;
    let mut cut = input.chars().count() > MAX_QUERY_CHARS;
    // Composed, as the index is: "é" typed as e + a combining accent is "é".
    let input: String = input.nfc().take(MAX_QUERY_CHARS).collect();
    // The last word is being typed when nothing (no space, no closing quote) follows it.
    let typing_last = input.chars().last().is_some_and(char::is_alphanumeric);
    let mut terms: Vec<Term> = Vec::new();
    let segments: Vec<&str> = input.split('"').collect();
    let last_segment = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        let quoted = i % 2 == 1;
        let (words, runs) = split(segment);
        for run in runs {
            let pieces: Vec<String> = run.windows(2).map(|p| cjk_piece(p[0], p[1])).collect();
            if !pieces.is_empty() {
                terms.push(Term::Cjk {
                    run: run.iter().collect(),
                    pieces,
                });
            }
        }
        if quoted && words.len() > 1 {
            terms.push(Term::Phrase(words));
            continue;
        }
        let count = words.len();
        for (j, text) in words.into_iter().enumerate() {
            let prefix = !quoted
                && typing_last
                && i == last_segment
                && j + 1 == count
                && text.chars().count() >= MIN_PREFIX_CHARS;
            terms.push(Term::Word { text, prefix });
        }
    }
    // Stop words go. A query of nothing else searches for nothing: every post holds them, so
    // it would only cost (and tell nothing).
    let is_stop =
        |t: &Term| matches!(t, Term::Word { text, .. } if STOP_WORDS.contains(&text.as_str()));
    let too_common = !terms.is_empty() && terms.iter().all(is_stop);
    terms.retain(|t| !is_stop(t));
    let mut unique: Vec<Term> = Vec::new();
    for t in terms {
        if !unique.contains(&t) {
            unique.push(t);
        }
    }
    if unique.len() > MAX_TERMS {
        unique.truncate(MAX_TERMS);
        cut = true;
    }
    Parsed {
        terms: unique,
        cut,
        too_common,
    }
}

/// The lower-cased words (letters and digits, CJK aside) and the CJK runs of some text.
fn split(text: &str) -> (Vec<String>, Vec<Vec<char>>) {
    let words = text
        .split(|c: char| !c.is_alphanumeric() || is_cjk(c))
        .filter(|w| !w.is_empty() && w.chars().count() <= MAX_WORD_CHARS)
        .map(str::to_lowercase)
        .collect();
    let runs = cjk_runs(text)
        .into_iter()
        .filter(|r| r.len() >= 2)
        .collect();
    (words, runs)
}

/// How the terms combine: every one must match, or any one (the fallback when none matched
/// all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    All,
    Any,
}

/// Which part of a row a term may match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Within {
    Everything,
    /// Titles only: similar topics.
    Titles,
}

/// The terms as an FTS5 query expression: each word and phrase in double quotes (a word holds
/// no quote: it is letters and digits), a star after a prefix, CJK pieces as a phrase in the
/// `cjk` column.
pub fn fts5_expression(terms: &[Term], combine: Combine, within: Within) -> String {
    let operator = match combine {
        Combine::All => " AND ",
        Combine::Any => " OR ",
    };
    let mut latin = Vec::new();
    let mut cjk = Vec::new();
    for t in terms {
        match t {
            Term::Word { text, prefix } => {
                latin.push(format!("\"{text}\"{}", if *prefix { "*" } else { "" }))
            }
            Term::Phrase(words) => latin.push(format!("\"{}\"", words.join(" "))),
            Term::Cjk { pieces, .. } => cjk.push(format!("cjk : \"{}\"", pieces.join(" "))),
            Term::AnyOf {
                text,
                words,
                prefix,
            } => {
                let mut any = vec![format!("\"{text}\"{}", if *prefix { "*" } else { "" })];
                // The index's words are letters and digits; a quote is doubled all the same.
                any.extend(
                    words
                        .iter()
                        .map(|w| format!("\"{}\"", w.replace('"', "\"\""))),
                );
                latin.push(format!("({})", any.join(" OR ")));
            }
        }
    }
    let mut parts = Vec::new();
    if !latin.is_empty() {
        parts.push(match within {
            Within::Everything => latin.join(operator),
            // The pieces have their own column: titles' words only.
            Within::Titles => format!("title : ({})", latin.join(operator)),
        });
    }
    parts.extend(cjk);
    parts.join(operator)
}

/// The terms as a PostgreSQL `tsquery` expression whose texts are bound values from `$first`
/// on: `to_tsquery` reads a word (letters and digits, with `:*` added for a prefix), and
/// `phraseto_tsquery` reads a phrase or the CJK pieces as plain text, so no value is syntax.
/// (Titles alone have their own vector there, so no weight is asked for.)
pub fn tsquery_expression(terms: &[Term], combine: Combine, first: usize) -> (String, Vec<Value>) {
    let mut values = Vec::new();
    let mut parts = Vec::new();
    for t in terms {
        let n = first + values.len();
        match t {
            Term::Word { text, prefix } => {
                parts.push(format!("to_tsquery('backyard', ${n})"));
                let star = if *prefix { ":*" } else { "" };
                values.push(Value::from(format!("{text}{star}")));
            }
            Term::Phrase(words) => {
                parts.push(format!("phraseto_tsquery('backyard', ${n})"));
                values.push(Value::from(words.join(" ")));
            }
            Term::Cjk { pieces, .. } => {
                parts.push(format!("phraseto_tsquery('simple', ${n})"));
                values.push(Value::from(pieces.join(" ")));
            }
            // Not made for PostgreSQL (its prefix is read from the index as it goes): the word
            // as a prefix, as typed.
            Term::AnyOf { text, .. } => {
                parts.push(format!("to_tsquery('backyard', ${n})"));
                values.push(Value::from(format!("{text}:*")));
            }
        }
    }
    let joined = parts.join(match combine {
        Combine::All => " && ",
        Combine::Any => " || ",
    });
    (format!("({joined})"), values)
}

/// The engine's expression for `terms` on `backend`, with its bound values from `$first` on
/// (none for SQLite: the expression is itself the one value).
pub fn expression(
    backend: DbBackend,
    terms: &[Term],
    combine: Combine,
    within: Within,
    first: usize,
) -> (String, Vec<Value>) {
    match backend {
        DbBackend::Postgres => tsquery_expression(terms, combine, first),
        _ => (
            format!("${first}"),
            vec![Value::from(fts5_expression(terms, combine, within))],
        ),
    }
}

/// How SQLite's snippet query names the ids it marks. With a prefix word left as one (the
/// similar topics' titles), FTS5 given the ids builds the prefix's whole list of matches again
/// for each id (a word in 60,000 posts took 50 ms), so the ids are hidden from it (`+rowid`):
/// the matches are read once and only the ids' rows marked. Without one (a search's prefix is
/// read as the words it begins), a lookup per id is faster.
pub fn marking_ids(terms: &[Term]) -> &'static str {
    if terms.iter().any(|t| {
        matches!(
            t,
            Term::Word { prefix: true, .. } | Term::AnyOf { prefix: true, .. }
        )
    }) {
        "+rowid"
    } else {
        "rowid"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, prefix: bool) -> Term {
        Term::Word {
            text: text.into(),
            prefix,
        }
    }

    #[test]
    fn words_phrases_and_the_last_word_being_typed() {
        let p = parse("Export CSV \"takes a long time\" repo");
        assert_eq!(
            p.terms,
            vec![
                word("export", false),
                word("csv", false),
                Term::Phrase(vec![
                    "takes".into(),
                    "a".into(),
                    "long".into(),
                    "time".into()
                ]),
                word("repo", true),
            ]
        );
        // A space after the last word: it is complete.
        assert_eq!(parse("export ").terms, vec![word("export", false)]);
        // Too short to be read as a beginning.
        assert_eq!(parse("ex").terms, vec![word("ex", false)]);
    }

    #[test]
    fn syntax_is_only_ever_words_or_nothing() {
        for q in [
            "NEAR(a b)",
            "a OR b",
            "title:foo",
            "-foo",
            "foo*",
            "(",
            ")",
            "\"",
            "*",
            "^",
            "AND",
            "col : x",
            "{title}: x",
            "a\"b\"c\"",
            "\\",
            "'",
            ";--",
            "&|!<->",
            ":*",
        ] {
            let p = parse(q);
            for t in &p.terms {
                let texts: Vec<&String> = match t {
                    Term::Word { text, .. } => vec![text],
                    Term::Phrase(words) => words.iter().collect(),
                    Term::Cjk { pieces, .. } => pieces.iter().collect(),
                    Term::AnyOf { .. } => unreachable!("parse makes no AnyOf"),
                };
                for text in texts {
                    assert!(
                        text.chars().all(char::is_alphanumeric),
                        "{q:?} gave {text:?}"
                    );
                }
            }
        }
        assert!(parse("*** ((( ))) ---").is_empty());
        assert!(parse("").is_empty());
    }

    #[test]
    fn stop_words_go_and_a_query_of_only_them_searches_nothing() {
        assert_eq!(parse("how do I export").terms, vec![word("export", true)]);
        let common = parse("the or ");
        assert!(common.is_empty() && common.too_common);
        assert!(!parse("*").too_common);
    }

    #[test]
    fn long_queries_are_cut_and_said_so() {
        let long = "word ".repeat(300);
        let p = parse(&long);
        assert!(p.cut);
        assert_eq!(p.terms, vec![word("word", false)]);
        let many = (0..20)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let p = parse(&many);
        assert!(p.cut);
        assert_eq!(p.terms.len(), MAX_TERMS);
    }

    #[test]
    fn decomposed_accents_are_read_composed() {
        assert_eq!(
            parse("re\u{301}sume\u{301} ").terms,
            vec![word("résumé", false)]
        );
    }

    #[test]
    fn cjk_runs_become_pieces() {
        let p = parse("東京都 export");
        assert_eq!(p.cjk_runs(), vec!["東京都".to_string()]);
        match &p.terms[0] {
            Term::Cjk { pieces, .. } => assert_eq!(pieces.len(), 2),
            other => panic!("{other:?}"),
        }
        // One letter alone cannot be found by pieces of two.
        assert!(parse("東").is_empty());
    }

    #[test]
    fn a_prefix_read_as_words_is_the_word_or_any_of_them() {
        let any = Term::AnyOf {
            text: "expo".into(),
            words: vec!["export".into(), "expose".into()],
            prefix: false,
        };
        assert_eq!(
            fts5_expression(
                &[word("csv", false), any.clone()],
                Combine::All,
                Within::Everything
            ),
            "\"csv\" AND (\"expo\" OR \"export\" OR \"expose\")"
        );
        assert_eq!(marking_ids(&[any]), "rowid");
        let also = Term::AnyOf {
            text: "expo".into(),
            words: vec![],
            prefix: true,
        };
        assert_eq!(
            fts5_expression(
                std::slice::from_ref(&also),
                Combine::All,
                Within::Everything
            ),
            "(\"expo\"*)"
        );
        assert_eq!(marking_ids(&[also]), "+rowid");
    }

    #[test]
    fn expressions_quote_every_word() {
        let p = parse("export \"long time\" rep");
        assert_eq!(
            fts5_expression(&p.terms, Combine::All, Within::Everything),
            "\"export\" AND \"long time\" AND \"rep\"*"
        );
        assert_eq!(
            fts5_expression(&p.terms, Combine::Any, Within::Titles),
            "title : (\"export\" OR \"long time\" OR \"rep\"*)"
        );
        let (sql, values) = tsquery_expression(&p.terms, Combine::All, 3);
        assert_eq!(
            sql,
            "(to_tsquery('backyard', $3) && phraseto_tsquery('backyard', $4) && to_tsquery('backyard', $5))"
        );
        assert_eq!(
            values,
            vec![
                Value::from("export".to_string()),
                Value::from("long time".to_string()),
                Value::from("rep:*".to_string())
            ]
        );
    }
}
