//! The server's dependency rule and its file-size rule, checked by reading the source as text.
//!
//! Layers of `app/src/server`, from top to bottom:
//!
//!   top (demo) > features and views > posting > notices > records > platform
//!
//! Notices (who is told what when a post or topic changes) sit below posting, which calls them
//! in its transaction, and above the records they read.
//!
//! 1. An import points to the same layer or down. Features and views do not import each other,
//!    and a feature does not import a sibling feature; the files inside one feature directory
//!    (moderation/flags.rs, moderation/actions.rs) may import each other.
//! 2. Nothing in the server imports `crate::api`, `crate::components`, `crate::pages` or
//!    `crate::app`: the server sits below them.
//! 3. A rule file has at most `MAX_RULE_LINES` lines before its `#[cfg(test)] mod tests` block.
//!
//! Test code may use anything: `#[cfg(test)]` items and the test-support modules are not checked,
//! but code outside them may not import a test-support module.
//!
//! Plain std and text on purpose: the test runs with and without the `ssr` feature and needs no
//! parser crate. The lexer skips comments, strings and char literals, so a path in a doc comment
//! or a URL is never taken for an import.
use std::{
    collections::BTreeSet,
    fmt, fs,
    path::{Path, PathBuf},
};

/// Where every top-level entry of app/src/server (a file `name.rs` or a directory `name/`) sits.
/// An entry missing from this table is platform: new code starts at the bottom and is moved up
/// on purpose.
const LAYOUT: &[(&str, Class)] = &[
    ("demo", Class::Top),
    ("forum", Class::Feature),
    ("blog", Class::Feature),
    ("staff", Class::Feature),
    ("moderation", Class::Feature),
    ("admin", Class::Feature),
    ("accounts", Class::Feature),
    ("rerender", Class::Feature),
    ("inbound_mail", Class::Feature),
    ("subscriptions", Class::Feature),
    ("search", Class::Feature),
    ("ideas", Class::Feature),
    ("views", Class::Views),
    ("posting", Class::Posting),
    ("notify", Class::Notices),
    ("records", Class::Records),
    ("search_index", Class::Records),
    ("testing", Class::TestSupport),
    ("lifecycle_properties", Class::TestSupport),
    ("loop_tests", Class::TestSupport),
    ("properties", Class::TestSupport),
    ("search_tests", Class::TestSupport),
    ("ideas_tests", Class::TestSupport),
];

/// The longest a rule file may grow, its tests not counted.
const MAX_RULE_LINES: usize = 800;
/// Files shorter than this are not rule files (module lists, small helpers).
const MIN_RULE_LINES: usize = 60;
/// Directories whose files are generated-looking row definitions, not rules.
const NOT_RULES: &[&str] = &["entity"];
/// Top-level modules of the crate the server may not import.
const ABOVE_SERVER: &[&str] = &["api", "components", "pages", "app"];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    Platform,
    Records,
    Notices,
    Posting,
    Feature,
    Views,
    Top,
    TestSupport,
}

impl Class {
    fn of(entry: &str) -> Class {
        LAYOUT
            .iter()
            .find(|(name, _)| *name == entry)
            .map_or(Class::Platform, |(_, class)| *class)
    }

    fn rank(self) -> u8 {
        match self {
            Class::Platform => 0,
            Class::Records => 1,
            Class::Notices => 2,
            Class::Posting => 3,
            Class::Feature | Class::Views => 4,
            Class::Top => 5,
            // Never a source that is checked; as a target it is refused separately.
            Class::TestSupport => 6,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Class::Platform => "platform",
            Class::Records => "records",
            Class::Notices => "notices",
            Class::Posting => "posting",
            Class::Feature => "feature",
            Class::Views => "views",
            Class::Top => "top",
            Class::TestSupport => "test support",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer: identifiers, `::` and single punctuation, with their line; comments, strings, char
// literals and numbers produce nothing.

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    PathSep,
    Punct(char),
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: usize,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

fn lex(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // Advances over chars[from..to], counting the newlines passed.
    let skip = |from: usize, to: usize, line: &mut usize| {
        *line += chars[from..to.min(chars.len())]
            .iter()
            .filter(|c| **c == '\n')
            .count();
        to
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            // Block comments nest in Rust.
            let mut depth = 0;
            let mut j = i;
            while j < chars.len() {
                if chars[j] == '/' && chars.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 2;
                } else if chars[j] == '*' && chars.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            i = skip(i, j, &mut line);
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            i = skip(i, j + 1, &mut line);
        } else if let Some(end) = raw_string_end(&chars, i) {
            i = skip(i, end, &mut line);
        } else if c == '\'' {
            // A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a, 'static).
            if next == Some('\\') {
                let mut j = i + 2;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_ascii_digit() {
            while i < chars.len() && (is_ident_char(chars[i]) || chars[i] == '.') {
                // Stop at a range (`0..n`) or a method on a number (`1.max(x)` is rare enough).
                if chars[i] == '.' && chars.get(i + 1).is_none_or(|d| !d.is_ascii_digit()) {
                    break;
                }
                i += 1;
            }
        } else if is_ident_start(c) {
            let start = i;
            while i < chars.len() && is_ident_char(chars[i]) {
                i += 1;
            }
            let mut word: String = chars[start..i].iter().collect();
            // A raw identifier: r#type.
            if word == "r"
                && chars.get(i) == Some(&'#')
                && chars.get(i + 1).is_some_and(|d| is_ident_start(*d))
            {
                let s = i + 1;
                i = s;
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                word = chars[s..i].iter().collect();
            } else if (word == "b" || word == "c") && chars.get(i) == Some(&'"') {
                // A byte or C string: the string itself is skipped on the next turn.
                continue;
            } else if word == "b" && chars.get(i) == Some(&'\'') {
                // A byte literal b'x' or b'\n'.
                let mut j = i + 1;
                while j < chars.len() && chars[j] != '\'' {
                    j += if chars[j] == '\\' { 2 } else { 1 };
                }
                i = j + 1;
                continue;
            }
            tokens.push(Token {
                tok: Tok::Ident(word),
                line,
            });
        } else if c == ':' && next == Some(':') {
            tokens.push(Token {
                tok: Tok::PathSep,
                line,
            });
            i += 2;
        } else {
            tokens.push(Token {
                tok: Tok::Punct(c),
                line,
            });
            i += 1;
        }
    }
    tokens
}

/// If a raw string (r"..", r#".."#, br#".."#, cr".." ) starts at `i`, the index just past it.
fn raw_string_end(chars: &[char], i: usize) -> Option<usize> {
    if i > 0 && is_ident_char(chars[i - 1]) {
        return None;
    }
    let mut j = i;
    if matches!(chars.get(j), Some('b') | Some('c')) {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    if chars.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < chars.len() {
        if chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(chars.len())
}

// ---------------------------------------------------------------------------------------------
// Test code: `#[cfg(test)]` and the item it applies to.

fn ident_is(tokens: &[Token], i: usize, word: &str) -> bool {
    matches!(tokens.get(i), Some(Token { tok: Tok::Ident(w), .. }) if w == word)
}

fn punct_is(tokens: &[Token], i: usize, c: char) -> bool {
    matches!(tokens.get(i), Some(Token { tok: Tok::Punct(p), .. }) if *p == c)
}

/// The length of the attribute `#[cfg(test)]` if it starts at `i`.
fn cfg_test_at(tokens: &[Token], i: usize) -> Option<usize> {
    let shape = punct_is(tokens, i, '#')
        && punct_is(tokens, i + 1, '[')
        && ident_is(tokens, i + 2, "cfg")
        && punct_is(tokens, i + 3, '(')
        && ident_is(tokens, i + 4, "test")
        && punct_is(tokens, i + 5, ')')
        && punct_is(tokens, i + 6, ']');
    shape.then_some(7)
}

/// Index just past the attributes starting at `i` (`#[...]`, brackets balanced).
fn skip_attributes(tokens: &[Token], mut i: usize) -> usize {
    while punct_is(tokens, i, '#') && punct_is(tokens, i + 1, '[') {
        let mut depth = 0;
        i += 1;
        while i < tokens.len() {
            if punct_is(tokens, i, '[') {
                depth += 1;
            } else if punct_is(tokens, i, ']') {
                depth -= 1;
                if depth == 0 {
                    i += 1;
                    break;
                }
            }
            i += 1;
        }
    }
    i
}

/// Index just past the item starting at `i`: up to a `;` or `,` outside brackets, or the `}`
/// closing its first block; never past a `}` that closes something the item is inside.
fn skip_item(tokens: &[Token], mut i: usize) -> usize {
    let mut depth: i32 = 0;
    while i < tokens.len() {
        match &tokens[i].tok {
            Tok::Punct('{') | Tok::Punct('(') | Tok::Punct('[') => depth += 1,
            Tok::Punct('}') | Tok::Punct(')') | Tok::Punct(']') => {
                depth -= 1;
                if depth < 0 {
                    return i;
                }
                if depth == 0 && tokens[i].tok == Tok::Punct('}') {
                    return i + 1;
                }
            }
            Tok::Punct(';') | Tok::Punct(',') if depth == 0 => return i + 1,
            _ => {}
        }
        i += 1;
    }
    i
}

/// Whether the item after the `#[cfg(test)]` at `i` is `mod tests`.
fn is_test_module(tokens: &[Token], i: usize, attr_len: usize) -> bool {
    let mut j = skip_attributes(tokens, i + attr_len);
    if ident_is(tokens, j, "pub") {
        j += 1;
        if punct_is(tokens, j, '(') {
            while j < tokens.len() && !punct_is(tokens, j, ')') {
                j += 1;
            }
            j += 1;
        }
    }
    ident_is(tokens, j, "mod") && ident_is(tokens, j + 1, "tests")
}

/// The tokens that are not test code.
fn without_test_code(tokens: &[Token]) -> Vec<Token> {
    let mut kept = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if let Some(len) = cfg_test_at(tokens, i) {
            let item = skip_attributes(tokens, i + len);
            i = skip_item(tokens, item);
        } else {
            kept.push(tokens[i].clone());
            i += 1;
        }
    }
    kept
}

/// The lines of the file before its `#[cfg(test)] mod tests` (all of them if it has none).
fn rule_lines(source: &str) -> usize {
    let tokens = lex(source);
    (0..tokens.len())
        .find_map(|i| {
            cfg_test_at(&tokens, i)
                .filter(|len| is_test_module(&tokens, i, *len))
                .map(|_| tokens[i].line - 1)
        })
        .unwrap_or_else(|| source.lines().count())
}

// ---------------------------------------------------------------------------------------------
// Imports: every path of a `use` tree, and every path in code that starts at `crate`, `super`
// or `self` (`super::blog::article_for_topic(`, `crate::server::staff::queue(`).

/// One segment of a path as written, with the line it is on.
#[derive(Clone, Debug)]
struct Seg {
    name: String,
    line: usize,
}

/// A path as written in one file.
#[derive(Clone, Debug)]
struct WrittenPath {
    segs: Vec<Seg>,
}

impl WrittenPath {
    fn text(&self) -> String {
        self.segs
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join("::")
    }
}

fn ident_at(tokens: &[Token], i: usize) -> Option<&str> {
    match tokens.get(i) {
        Some(Token {
            tok: Tok::Ident(w), ..
        }) => Some(w),
        _ => None,
    }
}

/// Parses the use tree starting at `i` under `prefix`; pushes its leaves; returns the index
/// after it.
fn parse_use_tree(
    tokens: &[Token],
    mut i: usize,
    prefix: Vec<Seg>,
    out: &mut Vec<WrittenPath>,
) -> usize {
    let mut path = prefix;
    loop {
        if punct_is(tokens, i, '{') {
            i += 1;
            while i < tokens.len() && !punct_is(tokens, i, '}') {
                if punct_is(tokens, i, ',') {
                    i += 1;
                    continue;
                }
                let before = i;
                i = parse_use_tree(tokens, i, path.clone(), out);
                if i == before {
                    // Not a use tree after all (a macro's odd input): do not loop forever.
                    i += 1;
                }
            }
            return i + 1;
        }
        if punct_is(tokens, i, '*') {
            out.push(WrittenPath { segs: path });
            return i + 1;
        }
        let Some(word) = ident_at(tokens, i) else {
            // `use ::std::x` (a leading `::`) or the end of something unexpected.
            if tokens.get(i).is_some_and(|t| t.tok == Tok::PathSep) && path.is_empty() {
                i += 1;
                continue;
            }
            if !path.is_empty() {
                out.push(WrittenPath { segs: path });
            }
            return i;
        };
        // `forum::{self, NewCategory}`: `self` is the prefix itself.
        if word != "self" || path.is_empty() {
            path.push(Seg {
                name: word.to_string(),
                line: tokens[i].line,
            });
        }
        i += 1;
        if tokens.get(i).is_some_and(|t| t.tok == Tok::PathSep) {
            i += 1;
            continue;
        }
        if ident_is(tokens, i, "as") {
            i += 2;
        }
        out.push(WrittenPath { segs: path });
        return i;
    }
}

/// Every path a file's non-test code names.
fn written_paths(tokens: &[Token]) -> Vec<WrittenPath> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let after_sep = i > 0 && tokens[i - 1].tok == Tok::PathSep;
        // `$crate` in a macro is the crate the macro is used in: not a path of this file.
        let after_dollar = i > 0 && punct_is(tokens, i - 1, '$');
        match ident_at(tokens, i) {
            Some("use") if !after_sep => {
                i = parse_use_tree(tokens, i + 1, Vec::new(), &mut out);
            }
            Some(start @ ("crate" | "super" | "self"))
                if !after_sep
                    && !after_dollar
                    && tokens.get(i + 1).is_some_and(|t| t.tok == Tok::PathSep) =>
            {
                let mut segs = vec![Seg {
                    name: start.to_string(),
                    line: tokens[i].line,
                }];
                i += 1;
                while tokens.get(i).is_some_and(|t| t.tok == Tok::PathSep) {
                    let Some(word) = ident_at(tokens, i + 1) else {
                        break;
                    };
                    segs.push(Seg {
                        name: word.to_string(),
                        line: tokens[i + 1].line,
                    });
                    i += 2;
                }
                out.push(WrittenPath { segs });
            }
            _ => i += 1,
        }
    }
    out
}

/// A path resolved from the crate root; each segment keeps the line it was written on (segments
/// that came from the file's own module path take the line of the path's first word).
type Resolved = Vec<(String, usize)>;

/// Resolves `crate::`, `super::` and `self::` against the file's module (`["server", "moderation",
/// "flags"]` for server/moderation/flags.rs). Paths starting anywhere else (std, other crates, a
/// name already imported) are not resolved: the `use` that brought the name in is checked itself.
fn resolve(module: &[String], path: &WrittenPath) -> Option<Resolved> {
    let first = path.segs.first()?;
    let mut resolved: Resolved = match first.name.as_str() {
        "crate" => Vec::new(),
        "super" | "self" => module.iter().map(|m| (m.clone(), first.line)).collect(),
        _ => return None,
    };
    let mut rest = &path.segs[..];
    if first.name == "crate" {
        rest = &rest[1..];
    } else {
        while let Some(seg) = rest.first() {
            match seg.name.as_str() {
                "super" => {
                    resolved.pop()?;
                }
                "self" => {}
                _ => break,
            }
            rest = &rest[1..];
        }
    }
    resolved.extend(rest.iter().map(|s| (s.name.clone(), s.line)));
    Some(resolved)
}

/// An import of one top-level server entry, or of a crate module above the server.
#[derive(Clone, Debug)]
struct Import {
    /// The server entry (`staff`, `moderation`) or crate module (`api`) imported.
    target: String,
    /// Whether `target` is a crate module above the server rather than a server entry.
    above_server: bool,
    line: usize,
    written: String,
}

fn imports(module: &[String], source: &str) -> Vec<Import> {
    let tokens = without_test_code(&lex(source));
    let mut found = Vec::new();
    for path in written_paths(&tokens) {
        let Some(resolved) = resolve(module, &path) else {
            continue;
        };
        let (target, line, above_server) = match resolved.as_slice() {
            [(server, _), (entry, line), ..] if server == "server" => (entry, *line, false),
            [(top, line), ..] if ABOVE_SERVER.contains(&top.as_str()) => (top, *line, true),
            // `super::*` from a feature's file, `self::` inside the file, `crate::model`: no
            // server entry named here.
            _ => continue,
        };
        found.push(Import {
            target: target.clone(),
            above_server,
            line,
            written: path.text(),
        });
    }
    found
}

// ---------------------------------------------------------------------------------------------
// The tree.

/// A .rs file under app/src/server.
struct SourceFile {
    /// As shown in messages: app/src/server/moderation/flags.rs.
    shown: String,
    /// Its module from the crate root: ["server", "moderation", "flags"].
    module: Vec<String>,
    /// The top-level server entry it belongs to ("moderation"); "" for server/mod.rs.
    entry: String,
    /// Whether it is under a directory whose files are not rule files (entity/).
    in_not_rules: bool,
    source: String,
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rs_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

fn server_files() -> Vec<SourceFile> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rs_files(&src.join("server"), &mut paths);
    paths
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(&src).expect("under src");
            let parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
                .collect();
            let mut module = parts.clone();
            if module.last().is_some_and(|m| m == "mod") {
                module.pop();
            }
            SourceFile {
                shown: format!("app/src/{}", relative.to_string_lossy().replace('\\', "/")),
                entry: module.get(1).cloned().unwrap_or_default(),
                in_not_rules: parts.len() > 2 && NOT_RULES.contains(&parts[1].as_str()),
                module,
                source: fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("reading {}: {e}", path.display())),
            }
        })
        .collect()
}

struct Violation {
    shown: String,
    line: usize,
    what: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} {}", self.shown, self.line, self.what)
    }
}

/// Why the import breaks the rule, or None if it keeps it.
fn broken_rule(from_entry: &str, import: &Import) -> Option<String> {
    let from = Class::of(from_entry);
    if import.above_server {
        return Some("server -> above the server".to_string());
    }
    if import.target == from_entry {
        return None;
    }
    let to = Class::of(&import.target);
    let why = if to == Class::TestSupport {
        format!("{} -> test support", from.name())
    } else if to.rank() > from.rank() {
        format!("{} -> {}, upwards", from.name(), to.name())
    } else if from == Class::Feature && to == Class::Feature {
        "feature -> sibling feature".to_string()
    } else if to.rank() == from.rank() && from != to && from.rank() == Class::Feature.rank() {
        format!("{} -> {}", from.name(), to.name())
    } else {
        return None;
    };
    Some(why)
}

fn import_violations(files: &[SourceFile]) -> Vec<Violation> {
    let mut seen = BTreeSet::new();
    let mut found = Vec::new();
    for file in files {
        if Class::of(&file.entry) == Class::TestSupport {
            continue;
        }
        for import in imports(&file.module, &file.source) {
            let Some(why) = broken_rule(&file.entry, &import) else {
                continue;
            };
            // One line naming the same entry twice (`staff::a(staff::b())`) is one violation.
            if !seen.insert((file.shown.clone(), import.line, import.target.clone())) {
                continue;
            }
            found.push(Violation {
                shown: file.shown.clone(),
                line: import.line,
                what: format!(
                    "imports `{}` as `{}` ({why})",
                    import.target, import.written
                ),
            });
        }
    }
    found
}

fn length_violations(files: &[SourceFile]) -> Vec<Violation> {
    files
        .iter()
        .filter(|f| !f.in_not_rules && Class::of(&f.entry) != Class::TestSupport)
        .filter(|f| f.source.lines().count() >= MIN_RULE_LINES)
        .filter_map(|f| {
            let lines = rule_lines(&f.source);
            (lines > MAX_RULE_LINES).then(|| Violation {
                shown: f.shown.clone(),
                line: MAX_RULE_LINES + 1,
                what: format!(
                    "has {lines} lines before its tests, over {MAX_RULE_LINES} (rule file too long: split it)"
                ),
            })
        })
        .collect()
}

fn report(title: &str, violations: &[Violation]) {
    if violations.is_empty() {
        return;
    }
    let list: Vec<String> = violations.iter().map(|v| format!("  {v}")).collect();
    panic!(
        "{title} ({} found):\n{}\n",
        violations.len(),
        list.join("\n")
    );
}

#[test]
fn server_imports_point_down() {
    report(
        "the server's dependency rule is broken: top (demo) > features and views > posting > \
         records > platform, features do not import each other, nothing imports api, \
         components, pages or app",
        &import_violations(&server_files()),
    );
}

#[test]
fn rule_files_stay_short() {
    report(
        "rule files over the size limit",
        &length_violations(&server_files()),
    );
}

/// The checker must not pass by reading nothing: it finds the server's files and many imports
/// between them.
#[test]
fn checker_reads_the_tree() {
    let files = server_files();
    assert!(
        files.len() >= 30,
        "only {} files found under app/src/server",
        files.len()
    );
    let between: usize = files
        .iter()
        .map(|f| {
            imports(&f.module, &f.source)
                .iter()
                .filter(|i| !i.above_server && i.target != f.entry)
                .count()
        })
        .sum();
    assert!(
        between >= 100,
        "only {between} imports between server modules found"
    );
}

// ---------------------------------------------------------------------------------------------
// The parser itself.

fn module(path: &str) -> Vec<String> {
    path.split("::").map(str::to_string).collect()
}

fn targets(module_path: &str, source: &str) -> Vec<(String, usize)> {
    imports(&module(module_path), source)
        .into_iter()
        .map(|i| (i.target, i.line))
        .collect()
}

#[test]
fn grouped_use_over_several_lines() {
    let source = "\
use std::collections::HashMap;
use super::{
    blog, content,
    db::begin_write,
    entity::{category, post},
    forum::{self, NewCategory},
};
use crate::{error::AppError, server::{staff::queue, records}, api::safe_next};
";
    assert_eq!(
        targets("server::moderation", source),
        [
            ("blog".into(), 3),
            ("content".into(), 3),
            ("db".into(), 4),
            ("entity".into(), 5),
            ("entity".into(), 5),
            ("forum".into(), 6),
            ("forum".into(), 6),
            ("staff".into(), 8),
            ("records".into(), 8),
            ("api".into(), 8),
        ]
    );
}

#[test]
fn inline_paths_in_code() {
    let source = "\
fn f() {
    let a = super::blog::article_for_topic(x);
    crate::server::staff::queue(&db).await?;
    let r = crate::model::Role::Moderator; // crate::server::admin::x in a comment
    let s = \"super::forum::in_a_string\";
    let u = r#\"crate::server::demo::raw\"#;
    let c = '\"'; let l: &'static str = \"\";
    self.forum.go(); Self::new();
}
";
    assert_eq!(
        targets("server::forum", source),
        [("blog".into(), 2), ("staff".into(), 3)]
    );
}

#[test]
fn super_resolves_from_the_files_module() {
    let source = "\
use super::{actions, super::forum};
use super::super::staff::queue;
fn f() { super::super::records::posts::get(); super::flags::open(); }
";
    // In moderation/flags.rs, `super` is moderation and `super::super` is the server.
    let found = targets("server::moderation::flags", source);
    assert_eq!(
        found,
        [
            ("moderation".into(), 1),
            ("forum".into(), 1),
            ("staff".into(), 2),
            ("records".into(), 3),
            ("moderation".into(), 3),
        ]
    );
    // In moderation/mod.rs, `super` is the server.
    assert_eq!(
        targets("server::moderation", "use super::forum;"),
        [("forum".into(), 1)]
    );
    // From server/mod.rs, `super` is the crate.
    assert_eq!(targets("server", "use super::api::x;"), [("api".into(), 1)]);
}

#[test]
fn test_code_is_skipped() {
    let source = "\
use super::records;
#[cfg(test)]
use super::testing::World;
#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::staff;
    fn f() { super::super::forum::x(); }
}
";
    assert_eq!(targets("server::blog", source), [("records".into(), 1)]);
    assert_eq!(rule_lines(source), 3);
    assert_eq!(rule_lines("fn a() {}\nfn b() {}\n"), 2);
}

#[test]
fn rules_between_layers() {
    let import = |target: &str| Import {
        target: target.into(),
        above_server: false,
        line: 1,
        written: String::new(),
    };
    assert_eq!(
        broken_rule("forum", &import("staff")).as_deref(),
        Some("feature -> sibling feature")
    );
    assert_eq!(
        broken_rule("forum", &import("views")).as_deref(),
        Some("feature -> views")
    );
    assert_eq!(
        broken_rule("views", &import("forum")).as_deref(),
        Some("views -> feature")
    );
    assert_eq!(
        broken_rule("posting", &import("forum")).as_deref(),
        Some("posting -> feature, upwards")
    );
    assert_eq!(
        broken_rule("content", &import("records")).as_deref(),
        Some("platform -> records, upwards")
    );
    assert_eq!(
        broken_rule("forum", &import("testing")).as_deref(),
        Some("feature -> test support")
    );
    assert_eq!(broken_rule("moderation", &import("moderation")), None);
    assert_eq!(broken_rule("forum", &import("posting")), None);
    assert_eq!(broken_rule("views", &import("records")), None);
    assert_eq!(broken_rule("demo", &import("forum")), None);
    assert_eq!(broken_rule("content", &import("mail")), None);
    assert_eq!(broken_rule("some_new_file", &import("db")), None);
}
