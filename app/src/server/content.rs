//! The one content pipeline for every piece of user text: Markdown to HTML (with @mentions
//! linked), then ammonia with a single allow-list. Runs once, at write time; pages render only
//! the stored clean HTML.
use std::{borrow::Cow, collections::HashSet, sync::OnceLock};

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, TextMergeStream, html};

/// Longest accepted body, in characters.
pub const MAX_BODY_CHARS: usize = 50_000;

fn cleaner() -> &'static Builder<'static> {
    static CLEANER: OnceLock<Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let mut b = Builder::default();
        // ammonia's defaults already drop scripts, styles, iframes, forms, event handlers and
        // inline styles; this narrows URLs to web and mail links and marks links as user content.
        b.url_schemes(HashSet::from(["http", "https", "mailto"]))
            .url_relative(UrlRelative::PassThrough)
            .link_rel(Some("nofollow ugc noopener"))
            .add_generic_attributes(["title"])
            .rm_tag_attributes("img", ["srcset"])
            .add_tag_attributes("code", ["class"])
            .add_tag_attributes("a", ["class"])
            .attribute_filter(|element, attribute, value| match (element, attribute) {
                // Fenced code keeps its language (class="language-rust") for highlighting.
                ("code", "class") => {
                    let lang = value.strip_prefix("language-")?;
                    let plain = lang
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '#'));
                    plain.then(|| value.into())
                }
                // The only class a link may carry is the one the pipeline gives mentions, so
                // user text cannot borrow the site's own styles.
                ("a", "class") => (value == "mention").then(|| value.into()),
                // Images only from the web: no relative or data: sources.
                ("img", "src") => {
                    let lower = value.to_ascii_lowercase();
                    (lower.starts_with("https://") || lower.starts_with("http://"))
                        .then(|| value.into())
                }
                _ => Some(value.into()),
            });
        b
    })
}

fn markdown_options() -> Options {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options
}

/// HTML through the allow-list alone: what every stored body has been through.
pub fn clean_html(html: &str) -> String {
    cleaner().clean(html).to_string()
}

/// Markdown to clean HTML, with no mentions linked.
pub fn render(source: &str) -> String {
    render_with_mentions(source, &|_| false)
}

/// Markdown to clean HTML; `@name` becomes a link to /u/name when `is_member(name)`.
pub fn render_with_mentions(source: &str, is_member: &dyn Fn(&str) -> bool) -> String {
    let source = strip_direction_overrides(source);
    let mut raw = String::with_capacity(source.len() * 3 / 2);
    let mut plain_text_depth = 0usize; // >0 inside code blocks and links: no mentions there
    let mut events = Vec::new();
    for event in TextMergeStream::new(Parser::new_ext(&source, markdown_options())) {
        match &event {
            Event::Start(Tag::CodeBlock(_) | Tag::Link { .. } | Tag::Image { .. }) => {
                plain_text_depth += 1
            }
            Event::End(TagEnd::CodeBlock | TagEnd::Link | TagEnd::Image) => {
                plain_text_depth = plain_text_depth.saturating_sub(1)
            }
            _ => {}
        }
        match event {
            Event::Text(text) if plain_text_depth == 0 && text.contains('@') => {
                link_mentions(&text, is_member, &mut events)
            }
            // Bare URLs become links (autolinks); pulldown-cmark only links <https://…>.
            Event::Text(text) if plain_text_depth == 0 && text.contains("://") => {
                link_urls(text, &mut events)
            }
            other => events.push(other),
        }
    }
    html::push_html(&mut raw, events.into_iter());
    clean_to_fixed_point(&raw, &source)
}

/// Cleaning passes tried before the markup is given up on; everyday posts need two.
const MAX_CLEAN_PASSES: usize = 4;

/// What is stored must be a fixed point of the sanitiser (cleaning it again changes nothing), or
/// a browser could read it differently from what was checked. One pass is not always enough: the
/// HTML parser repairs misnested tags into trees that serialise to markup which parses into
/// another shape (an unclosed <object> left a <p> within a <p>; nested links inside lists inside
/// struck text did too; both found by the fuzz target). So clean until nothing changes, and if
/// that does not settle within a few passes, store the source as escaped plain text.
fn clean_to_fixed_point(raw: &str, source: &str) -> String {
    let mut html = cleaner().clean(raw).to_string();
    for _ in 1..MAX_CLEAN_PASSES {
        let again = cleaner().clean(&html).to_string();
        if again == html {
            return html;
        }
        html = again;
    }
    plain_text_html(source)
}

/// The source as one paragraph of text, escaped: nothing in it can be read as markup, and the
/// characters the HTML parser would change (NUL, carriage returns) are changed first.
pub fn plain_text_html(source: &str) -> String {
    let mut html = String::with_capacity(source.len() + 16);
    html.push_str("<p>");
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '\0' => html.push('\u{FFFD}'),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => html.push('\n'),
            c => html.push(c),
        }
    }
    html.push_str("</p>\n");
    cleaner().clean(&html).to_string()
}

/// Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) make text display in
/// another order than it is written: only useful for disguising links and names here.
fn strip_direction_overrides(source: &str) -> Cow<'_, str> {
    let is_override = |c: char| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    if source.chars().any(is_override) {
        Cow::Owned(source.chars().filter(|c| !is_override(*c)).collect())
    } else {
        Cow::Borrowed(source)
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// The `@name` candidates in `source` (lower-cased, deduplicated), for one look-up of which exist.
pub fn mention_candidates(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = source;
    let mut prev: Option<char> = None;
    while let Some(at) = rest.find('@') {
        let before = rest[..at]
            .chars()
            .last()
            .or(if at == 0 { prev } else { None });
        let after = &rest[at + 1..];
        let name: String = after.chars().take_while(|c| is_name_char(*c)).collect();
        let name = name.trim_end_matches(['.', '-']).to_string();
        if before.is_none_or(|c| !is_name_char(c)) && (2..=32).contains(&name.len()) {
            let key = name.to_lowercase();
            if !found.contains(&key) {
                found.push(key);
            }
        }
        prev = Some('@');
        rest = after;
    }
    found
}

fn link_mentions<'a>(text: &str, is_member: &dyn Fn(&str) -> bool, out: &mut Vec<Event<'a>>) {
    let mut plain = String::new();
    let mut chars = text.char_indices().peekable();
    let mut prev: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        if c == '@' && prev.is_none_or(|p| !is_name_char(p)) {
            let name: String = text[i + 1..]
                .chars()
                .take_while(|c| is_name_char(*c))
                .collect();
            let name = name.trim_end_matches(['.', '-']);
            if (2..=32).contains(&name.len()) && is_member(&name.to_lowercase()) {
                if !plain.is_empty() {
                    out.push(Event::Text(CowStr::from(std::mem::take(&mut plain))));
                }
                out.push(Event::InlineHtml(CowStr::from(format!(
                    r#"<a class="mention" href="/u/{name}">@{name}</a>"#
                ))));
                for _ in 0..name.len() {
                    chars.next();
                }
                prev = name.chars().last();
                continue;
            }
        }
        plain.push(c);
        prev = Some(c);
    }
    if !plain.is_empty() {
        out.push(Event::Text(CowStr::from(plain)));
    }
}

/// Turns bare http(s) URLs in text into links (the GFM "autolink literal").
fn link_urls<'a>(text: CowStr<'a>, out: &mut Vec<Event<'a>>) {
    let mut rest: &str = &text;
    let mut plain = String::new();
    while let Some(start) = ["https://", "http://"]
        .iter()
        .filter_map(|p| rest.find(p))
        .min()
    {
        let end = rest[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .map_or(rest.len(), |e| start + e);
        // Trailing punctuation belongs to the sentence, not the URL.
        let url = rest[start..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'']);
        plain.push_str(&rest[..start]);
        if url.len() > "https://".len() {
            if !plain.is_empty() {
                out.push(Event::Text(CowStr::from(std::mem::take(&mut plain))));
            }
            let escaped = escape_attr(url);
            out.push(Event::InlineHtml(CowStr::from(format!(
                r#"<a href="{escaped}">{escaped}</a>"#
            ))));
        } else {
            plain.push_str(url);
        }
        rest = &rest[start + url.len()..];
    }
    plain.push_str(rest);
    if !plain.is_empty() {
        out.push(Event::Text(CowStr::from(plain)));
    }
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The first `max` characters of the text of `html`, for excerpts and meta descriptions.
pub fn excerpt(html: &str, max: usize) -> String {
    let mut text = String::with_capacity(max + 1);
    let mut in_tag = false;
    let mut last_space = true;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                if !last_space {
                    text.push(' ');
                    last_space = true;
                }
            }
            _ if in_tag => {}
            c if c.is_whitespace() => {
                if !last_space {
                    text.push(' ');
                    last_space = true;
                }
            }
            c => {
                text.push(c);
                last_space = false;
            }
        }
        if text.chars().count() > max {
            break;
        }
    }
    let text = decode_entities(text.trim());
    if text.chars().count() > max {
        let cut: String = text.chars().take(max).collect();
        format!("{}…", cut.trim_end())
    } else {
        text
    }
}

fn decode_entities(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders() {
        assert_eq!(
            render("**hi** ~~no~~"),
            "<p><strong>hi</strong> <del>no</del></p>\n"
        );
        assert!(render("| a |\n|---|\n| b |").contains("<table>"));
        assert!(render("```rust\nfn x() {}\n```").contains("<pre><code class=\"language-rust\">"));
        let auto = render("see https://example.com/a?b=1. and <https://example.org>");
        assert!(
            auto.contains(r#"<a href="https://example.com/a?b=1" rel="nofollow ugc noopener">"#),
            "{auto}"
        );
        assert!(
            auto.contains(r#"<a href="https://example.org" rel="nofollow ugc noopener">"#),
            "{auto}"
        );
    }

    #[test]
    fn script_and_event_handlers_are_removed_from_raw_html_and_markdown() {
        let out = render(
            "<script>alert(1)</script><img src=x onerror=alert(1)><iframe src=//e></iframe>\
             <form><input></form><b style=\"color:red\" onclick=\"x()\">x</b><object data=x></object>\
             <svg onload=alert(1)></svg><a href=\"javascript:alert(1)\">j</a>\
             <math><mtext><table><mglyph><style><img src=x onerror=alert(2)></math>\
             <svg><foreignObject><p>in svg</p></foreignObject><use href=\"#x\"/></svg>",
        );
        for bad in [
            "<script",
            "onerror",
            "<iframe",
            "<form",
            "<input",
            "style=",
            "onclick",
            "<object",
            "onload",
            "<svg",
            "<math",
            "<mglyph",
            "<foreignobject",
            "<use",
            "javascript:",
        ] {
            assert!(
                !out.to_ascii_lowercase().contains(bad),
                "{bad} survived in {out}"
            );
        }
    }

    #[test]
    fn bad_link_and_image_urls_are_dropped() {
        for src in [
            "[a](javascript:alert(1))",
            "[a](JaVaScRiPt:alert(1))",
            "[a]( javascript:alert(1))",
            "[a](data:text/html,<script>alert(1)</script>)",
            "[a](vbscript:msgbox)",
            "<a href=\"&#106;avascript:alert(1)\">x</a>",
            "![i](javascript:alert(1))",
            "![i](data:image/png;base64,AAAA)",
        ] {
            let out = render(src).to_lowercase();
            assert!(
                !out.contains("javascript:")
                    && !out.contains("data:")
                    && !out.contains("vbscript:"),
                "{src} -> {out}"
            );
        }
        assert!(
            render("![i](/relative.png)").contains("<img alt=\"i\">"),
            "relative image loses its src"
        );
        assert!(
            render("![i](https://example.com/i.png)")
                .contains(r#"src="https://example.com/i.png""#)
        );
        let link = render("[a](https://example.com)");
        assert!(
            link.contains(r#"<a href="https://example.com" rel="nofollow ugc noopener">a</a>"#),
            "{link}"
        );
    }

    #[test]
    fn unclosed_and_deeply_nested_input_stays_well_formed() {
        let out = render("<div><b><i>unclosed <a href=\"https://x.com\">link");
        assert_eq!(
            out.matches("<b>").count(),
            out.matches("</b>").count(),
            "{out}"
        );
        let quotes = format!("{}deep", "> ".repeat(5_000));
        assert!(render(&quotes).contains("deep"));
        let lists: String = (0..2_000)
            .map(|i| format!("{}- item\n", "  ".repeat(i)))
            .collect();
        assert!(render(&lists).contains("item"));
    }

    #[test]
    fn a_maximum_length_body_renders() {
        let body = "word ".repeat(MAX_BODY_CHARS / 5);
        assert_eq!(body.chars().count(), MAX_BODY_CHARS);
        assert!(render(&body).starts_with("<p>word"));
    }

    #[test]
    fn nul_zero_width_and_direction_overrides() {
        let out = render("a\0b");
        assert!(
            !out.contains('\0') && out.contains('a') && out.contains('b'),
            "NUL is dropped: {out:?}"
        );
        let out = render("[x](java\u{200B}script:alert(1)) he\u{200B}llo");
        assert!(!out.to_lowercase().contains("javascript:"), "{out}");
        assert!(
            out.contains("he\u{200B}llo"),
            "zero-width space in text is kept"
        );
        let out = render("file\u{202E}gnp.exe and \u{2066}x\u{2069}");
        assert!(
            !out.contains('\u{202E}') && !out.contains('\u{2066}') && !out.contains('\u{2069}'),
            "{out:?}"
        );
        assert!(out.contains("filegnp.exe"));
    }

    #[test]
    fn mentions_link_known_members_only_and_not_in_code_or_links() {
        let known = |name: &str| name == "ada" || name == "bob.smith";
        let out = render_with_mentions(
            "hi @Ada and @nobody, mail x@ada.com, `@ada` [@ada](https://x.com) @bob.smith.",
            &known,
        );
        assert!(
            out.contains(
                r#"<a class="mention" href="/u/Ada" rel="nofollow ugc noopener">@Ada</a>"#
            ),
            "{out}"
        );
        assert!(out.contains(r#"<a class="mention" href="/u/bob.smith" rel="nofollow ugc noopener">@bob.smith</a>."#), "{out}");
        assert!(out.contains("@nobody"));
        assert_eq!(out.matches("class=\"mention\"").count(), 2, "{out}");
        assert!(
            !render("<a class=\"mention button\" href=\"/x\">x</a>").contains("class="),
            "no borrowed classes"
        );
        assert_eq!(
            mention_candidates("@Ada, @ada x@y.com @b @bob.smith."),
            vec!["ada", "bob.smith"]
        );
    }

    #[test]
    fn excerpts_are_plain_text() {
        assert_eq!(
            excerpt("<p>Hello <b>world</b> &amp; more</p>", 100),
            "Hello world & more"
        );
        assert_eq!(excerpt("<p>abcdefghij</p>", 5), "abcde…");
    }
}
