//! Counts and durations are written by `format::count` and `format::duration` alone: this reads
//! the source as text and refuses the hand-made forms that once said "1 topics", "2 attempt(s)"
//! or "4 m". Plain std, like the layers test.
use std::{fs, path::Path};

/// Nouns the site counts. A format string with a placeholder right before one of them
/// ("{n} replies") builds a count by hand.
const NOUNS: &[&str] = &[
    "topic", "topics", "reply", "replies", "post", "posts", "vote", "votes", "member", "members",
    "people", "person", "answer", "answers", "flag", "flags", "file", "files", "day", "days",
    "hour", "hours", "minute", "minutes", "week", "weeks", "comment", "comments", "idea", "ideas",
    "item", "items", "attempt", "attempts", "page", "pages", "second", "seconds", "browser",
    "browsers", "article", "articles", "user", "users",
];

/// Ways of choosing a plural by hand.
const HAND_MADE: &[&str] = &["{ \"\" } else { \"s\" }", "1 => \"1 ", "1 => Some(\"1 "];

/// Lines that name a noun after a placeholder without counting: file kinds (".{} files").
const NOT_COUNTS: &[(&str, &str)] = &[("uploads/intake.rs", "{} files")];

/// The text inside the line's string literals (a `'"'` char literal is skipped).
fn literals(line: &str) -> String {
    let line = line.replace("'\"'", "");
    let (mut out, mut inside, mut escaped) = (String::new(), false, false);
    for c in line.chars() {
        match c {
            '"' if !escaped => {
                inside = !inside;
                out.push('\n');
            }
            _ if inside => out.push(c),
            _ => {}
        }
        escaped = inside && c == '\\' && !escaped;
    }
    out
}

/// "browser(s)": a plural left to the reader.
fn either_form(line: &str) -> bool {
    line.match_indices("(s)")
        .any(|(at, _)| line[..at].chars().last().is_some_and(char::is_alphabetic))
}

/// Files that may: the helpers themselves, and test support (fixtures, not pages).
const EXEMPT: &[&str] = &[
    "format.rs",
    "testing.rs",
    "properties.rs",
    "lifecycle_properties.rs",
    "loop_tests.rs",
    "search_tests.rs",
    "ideas_tests.rs",
    "tests.rs",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The lines a reader sees: up to the file's tests, without comments.
fn shown_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .take_while(|(_, l)| !l.trim_start().starts_with("#[cfg(test)]"))
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
}

/// "{n} replies", "{} topics", "{count} posts." inside a string literal.
fn hand_count(line: &str) -> Option<&'static str> {
    NOUNS.iter().copied().find(|noun| {
        line.match_indices(&format!("}} {noun}")).any(|(at, m)| {
            let after = line[at + m.len()..].chars().next();
            // The placeholder closes a format argument, the noun ends a word.
            line[..at]
                .rfind('{')
                .is_some_and(|open| !line[open..at].contains(' '))
                && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    })
}

#[test]
fn counts_go_through_one_helper() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut found = Vec::new();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy();
        if EXEMPT.contains(&name.as_ref())
            || path.components().any(|c| c.as_os_str() == "fuzz_cases")
        {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        for (i, line) in shown_lines(&text) {
            let rel = path.strip_prefix(&root).unwrap().display();
            if let Some(pattern) = HAND_MADE.iter().find(|p| line.contains(**p)) {
                found.push(format!("{rel}:{}: {pattern:?} in {}", i + 1, line.trim()));
            }
            let text = literals(line);
            if either_form(&text) {
                found.push(format!("{rel}:{}: \"(s)\" in {}", i + 1, line.trim()));
            }
            let allowed = NOT_COUNTS
                .iter()
                .any(|(file, text)| path.ends_with(file) && line.contains(text));
            if !allowed && let Some(noun) = hand_count(&text) {
                found.push(format!(
                    "{rel}:{}: a count of {noun} by hand: {}",
                    i + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "use crate::format::count(n, one, many) for these:\n{}",
        found.join("\n")
    );
}

#[test]
fn durations_go_through_one_helper() {
    // The only duration formatter: model::short_duration is a re-export of it.
    let model =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/model.rs")).unwrap();
    assert!(model.contains("pub use crate::format::duration as short_duration;"));
    assert!(!model.contains("fn short_duration"));
}

#[test]
fn the_checks_catch_what_they_are_for() {
    assert!(hand_count(&literals(r#"n => format!("{n} replies"),"#)).is_some());
    assert!(hand_count(&literals(r#"format!("{} topics · {}", a, b)"#)).is_some());
    assert!(
        hand_count(&literals(
            r#"format!("{} found", count(n, "topic", "topics"))"#
        ))
        .is_none()
    );
    assert!(hand_count(&literals(r#"let s = topics(n); // {n} topics"#)).is_none());
    assert!(either_form(&literals(r#"format!("on {} browser(s)", n)"#)));
    assert!(!either_form(&literals("Some(s) => s.validate(value),")));
}
