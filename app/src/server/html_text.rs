//! Clean HTML (the content pipeline's output) read as text: the entities it holds, where its
//! tags end, and the text it shows a reader, for judging and masking watched words where they
//! show (`posting::censor_html`), quoting a post as it shows, and the search index.

/// Text clean HTML (the pipeline's output) shows a reader, for judging and masking watched words
/// where they show (`posting::censor_html`). Inline elements (emphasis, code, links) join the
/// text either side, as a reader sees "da<strong>rn</strong>" as one word; white space and a
/// line break read as a space; a block, an image or a table cell (`WORD_ENDS`) is a `BLOCK_EDGE`.
pub struct ShownText {
    pub text: String,
    /// For each character of `text`, by its byte offset there, the bytes of the HTML that write
    /// it (none for what a tag stands for: a line break or a `BLOCK_EDGE`).
    pub at: Vec<(usize, std::ops::Range<usize>)>,
}

impl ShownText {
    fn push(&mut self, c: char, bytes: std::ops::Range<usize>) {
        self.at.push((self.text.len(), bytes));
        self.text.push(c);
    }
}

/// Where a block, an image or a table cell begins or ends in `ShownText`: not white space, so
/// neither a word nor a phrase runs across it ("buy" ending one list item and "now" beginning
/// the next is not "buy now"). A private-use character, which means nothing as text.
pub const BLOCK_EDGE: char = '\u{E004}';

/// Elements that end a word: blocks, images, table cells, and `q` (drawn in quotation marks).
/// Every other element the allow-list keeps (emphasis, code, links, `wbr`, `bdi`, `time`, ...)
/// is drawn inline, within the word around it.
const WORD_ENDS: &[&str] = &[
    "address",
    "area",
    "article",
    "aside",
    "blockquote",
    "caption",
    "center",
    "col",
    "colgroup",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "img",
    "li",
    "map",
    "nav",
    "ol",
    "p",
    "pre",
    "q",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// The text `html` shows.
pub fn shown_text(html: &str) -> ShownText {
    let bytes = html.as_bytes();
    let mut shown = ShownText {
        text: String::with_capacity(html.len()),
        at: Vec::with_capacity(html.len()),
    };
    let mut i = 0;
    while i < html.len() {
        match bytes[i] {
            b'<' => {
                let end = tag_end(bytes, i);
                let name = tag_name(&html[i..end]);
                if name == "br" {
                    // A line break within a paragraph: white space, which a phrase spans.
                    shown.push(' ', i..i);
                } else if WORD_ENDS.contains(&name.as_str()) {
                    shown.push(BLOCK_EDGE, i..i);
                }
                // An image's words and a title are shown too (instead of the image, as a
                // tooltip, to a screen reader), each apart from the text around it, in the order
                // they are written, as `at` is.
                for (from, to) in attribute_values(html, i, end, &["alt", "title"]) {
                    shown.push(BLOCK_EDGE, from..from);
                    let mut j = from;
                    while j < to {
                        let (c, used) = match bytes[j] {
                            b'&' => entity(&html[j..to]),
                            _ => {
                                let c = html[j..].chars().next().unwrap_or(' ');
                                (c, c.len_utf8())
                            }
                        };
                        shown.push(c, j..j + used);
                        j += used;
                    }
                    shown.push(BLOCK_EDGE, to..to);
                }
                i = end;
            }
            b'&' => {
                let (c, used) = entity(&html[i..]);
                shown.push(c, i..i + used);
                i += used;
            }
            _ => {
                let c = html[i..].chars().next().unwrap_or(' ');
                // White space in HTML is drawn as one space, line breaks in it too: blocks and
                // their edges, not the text's own line breaks, part paragraphs.
                let shown_as = if c.is_ascii_whitespace() { ' ' } else { c };
                shown.push(shown_as, i..i + c.len_utf8());
                i += c.len_utf8();
            }
        }
    }
    shown
}

/// Where the tag starting at `bytes[at]` ends: after its `>`, skipping a value quoted after `=`.
/// Where the values of the attributes `names` are in the tag `html[at..end]`, in the order
/// they are written, read attribute by attribute: a name inside another attribute's value (" title=\""
/// inside an alt) is no attribute. The sanitiser writes every value in double quotes, with a
/// quote in it as `&quot;`.
fn attribute_values(html: &str, at: usize, end: usize, names: &[&str]) -> Vec<(usize, usize)> {
    let bytes = html.as_bytes();
    let ends_name = |b: u8| b.is_ascii_whitespace() || matches!(b, b'=' | b'/' | b'>');
    let mut values = Vec::new();
    // Past the tag's own name.
    let mut j = at + 1;
    while j < end && !ends_name(bytes[j]) {
        j += 1;
    }
    while j < end {
        if ends_name(bytes[j]) && bytes[j] != b'=' {
            j += 1;
            continue;
        }
        let name_from = j;
        while j < end && !ends_name(bytes[j]) {
            j += 1;
        }
        let name = &html[name_from..j];
        if j >= end || bytes[j] != b'=' {
            continue;
        }
        j += 1;
        let (from, to) = match bytes.get(j) {
            Some(&quote @ (b'"' | b'\'')) => {
                let from = j + 1;
                let to = html[from..end]
                    .find(quote as char)
                    .map_or(end, |e| from + e);
                j = to + 1;
                (from, to)
            }
            _ => {
                let from = j;
                while j < end && !bytes[j].is_ascii_whitespace() && bytes[j] != b'>' {
                    j += 1;
                }
                (from, j)
            }
        };
        if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            values.push((from, to));
        }
    }
    values
}

/// The name of the tag `tag` (`<p class=..>`, `</p>`), lower-case.
fn tag_name(tag: &str) -> String {
    tag[1..]
        .trim_start_matches('/')
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn tag_end(bytes: &[u8], at: usize) -> usize {
    let mut quote: Option<u8> = None;
    let mut after_equals = false;
    for (i, &b) in bytes.iter().enumerate().skip(at + 1) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => continue,
            None if b == b'>' => return i + 1,
            None if after_equals && matches!(b, b'"' | b'\'') => {
                quote = Some(b);
                continue;
            }
            None => {}
        }
        if b == b'=' {
            after_equals = true;
        } else if !b.is_ascii_whitespace() {
            after_equals = false;
        }
    }
    bytes.len()
}

/// The character an entity at the start of `s` stands for, and its length; a lone `&` is itself.
pub fn entity(s: &str) -> (char, usize) {
    let Some(end) = s.get(..12).unwrap_or(s).find(';') else {
        return ('&', 1);
    };
    let name = &s[1..end];
    let c = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => name
            .strip_prefix("#x")
            .or_else(|| name.strip_prefix("#X"))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
            .and_then(char::from_u32),
    };
    match c {
        Some(c) => (c, end + 1),
        None => ('&', 1),
    }
}

/// The first `max` characters of the text of `html`, for excerpts and meta descriptions, with
/// "…" where text was left out. Entities are read as the characters they stand for, and counted
/// so: counting `&amp;` as five cut excerpts short, and inside an entity ("&am…").
pub fn excerpt(html: &str, max: usize) -> String {
    let mut text = String::with_capacity(max + 1);
    // Characters in `text` so far: counted as they go in, not by walking `text` again for each
    // one (that was quadratic, and 11% of a topic page's instructions with its JSON-LD).
    let mut chars = 0;
    let mut last_space = true;
    let mut left_out = false;
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        let mut len = c.len_utf8();
        let shown = match c {
            // A block, an image or a line break parts the text around it; emphasis, code and
            // links are drawn within it ("**Note**:" reads "Note:", not "Note :").
            '<' => {
                let at = html.len() - rest.len();
                len = tag_end(html.as_bytes(), at) - at;
                let name = tag_name(&rest[..len]);
                (name == "br" || WORD_ENDS.contains(&name.as_str())).then_some(' ')
            }
            '&' => {
                let (decoded, n) = entity(rest);
                len = n;
                Some(decoded)
            }
            c => Some(c),
        };
        rest = &rest[len..];
        // A control character or a noncharacter shows nothing, and has no place in a meta tag.
        let Some(c) = shown
            .filter(|c| !(c.is_control() && !c.is_whitespace()))
            .filter(|c| !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
        else {
            continue;
        };
        if c.is_whitespace() {
            if !last_space {
                text.push(' ');
                chars += 1;
                last_space = true;
            }
            continue;
        }
        if chars >= max {
            left_out = true;
            let whole = whole_graphemes(&text, c).len();
            text.truncate(whole);
            break;
        }
        text.push(c);
        chars += 1;
        last_space = false;
    }
    let text = text.trim_end();
    if left_out {
        format!("{}…", text.trim_end())
    } else {
        text.to_string()
    }
}

/// `kept` without its last grapheme when `next`, the first character left out, would have
/// continued it: a cut never leaves half of what a reader sees as one character (a flag's first
/// letter, a family without its children, a thumb without its skin tone, a letter without its
/// accent).
pub fn whole_graphemes(kept: &str, next: char) -> &str {
    use unicode_segmentation::UnicodeSegmentation;
    let Some((start, last)) = kept.grapheme_indices(true).next_back() else {
        return kept;
    };
    let mut joined = String::with_capacity(last.len() + next.len_utf8());
    joined.push_str(last);
    joined.push(next);
    if joined.graphemes(true).nth(1).is_none() {
        &kept[..start]
    } else {
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inline elements join a word, other tags end one; an image's words and a title are shown
    /// apart; entities are read; each character knows the bytes that write it.
    #[test]
    fn the_shown_text_of_html_reads_as_a_reader_sees_it() {
        let html = "<p>da<strong>rn</strong> <a href=\"/darn\" title=\"T&amp;C\">x</a></p>\n\
                    <p>dar</p><p>n &lt;3<br>ok<img alt=\"a cat\" src=\"/u/1.png\"></p>\
                    <p>da<q>rn</q></p>";
        let shown = shown_text(html);
        let edges = |s: &str| s.replace('¦', &BLOCK_EDGE.to_string());
        assert_eq!(
            shown.text,
            edges("¦darn ¦T&C¦x¦ ¦dar¦¦n <3 ok¦¦a cat¦¦¦da¦rn¦¦")
        );
        // An attribute's name written inside another's value is part of that value, never an
        // attribute of its own (censoring "title" rewrote the real attribute's name).
        let tricky = "<p><img alt=\"a title=\" title=\"x y\" src=\"/u.png\"></p>";
        assert_eq!(shown_text(tricky).text, edges("¦¦¦a title=¦¦x y¦¦"));
        for (offset, bytes) in &shown.at {
            let c = shown.text[*offset..].chars().next().unwrap();
            let written = &html[bytes.clone()];
            assert!(
                written.is_empty()
                    || written == c.to_string()
                    || written.starts_with('&')
                    || (c == ' ' && written.trim().is_empty()),
                "{c:?} from {written:?}"
            );
        }
    }

    #[test]
    fn excerpts_are_plain_text() {
        assert_eq!(
            excerpt("<p>Hello <b>world</b> &amp; more</p>", 100),
            "Hello world & more"
        );
        assert_eq!(excerpt("<p>abcdefghij</p>", 5), "abcde…");
        // Entities count as the one character each stands for, and are never cut in half
        // (an outside tester's "AAAA &am…", "Price:&nbsp;100" and short "R&D" excerpts).
        assert_eq!(
            excerpt("<p>Price:&nbsp;100&#160;EUR</p>", 100),
            "Price: 100 EUR"
        );
        assert_eq!(excerpt("<p>R&amp;D R&amp;D R&amp;D</p>", 7), "R&D R&D…");
        assert_eq!(excerpt("<p>AAAA &amp; B</p>", 6), "AAAA &…");
        assert_eq!(excerpt("<p>Tom &amp; Jerry</p>", 11), "Tom & Jerry");
        assert_eq!(excerpt("<p>abc de</p>", 4), "abc…");
        assert_eq!(excerpt("<p>abc</p><p>de</p>", 5), "abc d…");
        assert_eq!(excerpt("<p>abc</p>  <p> </p>", 3), "abc");
        assert_eq!(excerpt("<p>x</p>", 0), "…");
        // Never half of what reads as one character: a flag, a family, a skin tone, an accent
        // written as a character of its own.
        assert_eq!(excerpt("<p>ab\u{1F1EB}\u{1F1F7}</p>", 3), "ab…");
        assert_eq!(
            excerpt("<p>ab\u{1F1EB}\u{1F1F7}\u{1F1E9}\u{1F1EA}</p>", 5),
            "ab\u{1F1EB}\u{1F1F7}…"
        );
        assert_eq!(
            excerpt(
                "<p>Us: \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467} ok</p>",
                7
            ),
            "Us:…"
        );
        assert_eq!(excerpt("<p>ok \u{1F44D}\u{1F3FD}</p>", 4), "ok…");
        assert_eq!(excerpt("<p>cafe\u{301} au lait</p>", 4), "caf…");
        assert_eq!(excerpt("<p>cafe\u{301} au lait</p>", 5), "cafe\u{301}…");
        assert_eq!(
            excerpt("<p>Body \u{1b}[31m \u{FFFF}\u{FFFE}\u{7} end</p>", 100),
            "Body [31m end"
        );
        // Inline elements are drawn within the text around them, blocks and breaks part it.
        assert_eq!(
            excerpt(
                "<p><strong>Note</strong>: call <code>foo()</code>, see <a href=\"/d\">the docs</a>. Un<em>believ</em>able.</p><ul><li>one</li><li>two<br>three</li></ul>",
                200
            ),
            "Note: call foo(), see the docs. Unbelievable. one two three"
        );
    }

    proptest::proptest! {
        /// An excerpt of escaped text is that text with its white space runs as one space, cut
        /// at `max` characters with "…" exactly when something was left out.
        #[test]
        fn an_excerpt_is_the_text_cut_at_max_characters(
            words in proptest::collection::vec("[a-c&<>\"'é\u{a0}]{1,6}", 0..12),
            max in 0usize..40,
        ) {
            let text = words.join(" ");
            // As the sanitiser writes text out.
            let escaped = text
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', "&#39;")
                .replace('\u{a0}', "&nbsp;");
            let html = format!("<p>{escaped}</p>");
            let shown: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let got = excerpt(&html, max);
            if shown.chars().count() <= max {
                proptest::prop_assert_eq!(got, shown);
            } else {
                let kept = got.strip_suffix('…').expect("cut text ends with …");
                proptest::prop_assert!(kept.chars().count() <= max);
                proptest::prop_assert!(shown.starts_with(kept), "{kept:?} of {shown:?}");
            }
        }
    }
}
