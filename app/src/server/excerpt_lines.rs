//! A short excerpt of a post that keeps its shape: paragraphs, list items and line breaks stay
//! on lines of their own (shown with `white-space: pre-line`), where `html_text::excerpt` runs
//! everything into one line for meta descriptions. The staff queue reads a customer's question
//! at a glance, and "1. it crashes 2. on save" must not read as one sentence.
use crate::server::html_text::whole_graphemes;

/// Elements that start and end a line of their own.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "table",
    "hr",
    "br",
    "details",
    "summary",
    "figure",
];

/// The text of clean `html` (the content pipeline's output), one line per block, list items
/// marked "• ", at most `max` characters ("…" when cut).
pub fn excerpt_lines(html: &str, max: usize) -> String {
    let mut text = String::with_capacity(max.min(html.len()) + 8);
    let mut rest = html;
    while !rest.is_empty() {
        match rest.find('<') {
            Some(0) => {
                let (name, closing, len) = tag(rest);
                if BLOCKS.contains(&name.as_str()) {
                    text.push('\n');
                    if name == "li" && !closing {
                        text.push_str("• ");
                    }
                } else if name == "td" || name == "th" {
                    // A row's cells stay on its line, apart ("Plan Pro", not "PlanPro").
                    text.push(' ');
                }
                rest = &rest[len..];
            }
            Some(at) => {
                push_text(&mut text, &rest[..at]);
                rest = &rest[at..];
            }
            None => {
                push_text(&mut text, rest);
                rest = "";
            }
        }
        // Enough read: the cut below needs only a little more than `max`.
        if text.len() > 4 * max + 64 {
            break;
        }
    }
    let lines: Vec<String> = decode(&text)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty() && l != "•")
        .collect();
    let joined = lines.join("\n");
    if joined.chars().count() > max {
        let cut: String = joined.chars().take(max).collect();
        let next = joined.chars().nth(max).unwrap_or(' ');
        format!("{}…", whole_graphemes(&cut, next).trim_end())
    } else {
        joined
    }
}

/// Text between tags, its whitespace (newlines too) collapsed as HTML shows it.
fn push_text(out: &mut String, s: &str) {
    for c in s.chars() {
        out.push(if c.is_whitespace() { ' ' } else { c });
    }
}

/// The lower-case name of the tag at the start of `s`, whether it closes, and its length.
/// Quoted attribute values may hold '>' (the serializer leaves it as is), so quotes are
/// followed; a comment is skipped whole.
fn tag(s: &str) -> (String, bool, usize) {
    if s.starts_with("<!--") {
        let len = s.find("-->").map_or(s.len(), |e| e + 3);
        return (String::new(), false, len);
    }
    let body = &s[1..];
    let closing = body.starts_with('/');
    let name: String = body
        .trim_start_matches('/')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return (name, closing, i + 1),
            _ => {}
        }
    }
    (name, closing, s.len())
}

fn decode(s: &str) -> String {
    s.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::excerpt_lines;

    #[test]
    fn blocks_keep_their_lines() {
        let html = "<p>It crashes:</p>\n<ol>\n<li>open the app</li>\n<li>press <b>save</b></li>\n</ol>\n<p>Any idea?<br>Thanks &amp; bye</p>";
        assert_eq!(
            excerpt_lines(html, 200),
            "It crashes:\n• open the app\n• press save\nAny idea?\nThanks & bye"
        );
    }

    #[test]
    fn inline_markup_and_source_newlines_do_not_break_lines() {
        assert_eq!(
            excerpt_lines("<p>one\ntwo <a href=\"/x?a>b\">three</a></p>", 200),
            "one two three"
        );
    }

    #[test]
    fn a_table_reads_a_row_a_line_with_its_cells_apart() {
        assert_eq!(
            excerpt_lines(
                "<table><thead><tr><th>Plan</th><th>Price</th></tr></thead>\
                 <tbody><tr><td>Pro</td><td><b>9</b> EUR</td></tr></tbody></table>",
                200
            ),
            "Plan Price\nPro 9 EUR"
        );
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(excerpt_lines("<p>abcdefghij</p><p>k</p>", 5), "abcde…");
        assert_eq!(excerpt_lines("<p>abc</p><p>defgh</p>", 6), "abc\nde…");
        // Not inside what reads as one character.
        assert_eq!(excerpt_lines("<p>abcd\u{1F1EB}\u{1F1F7}</p>", 5), "abcd…");
        assert_eq!(excerpt_lines("<p>ab \u{1F44D}\u{1F3FD}</p>", 4), "ab…");
    }
}
