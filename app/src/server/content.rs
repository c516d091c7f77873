//! The one content pipeline for every piece of user text: Markdown to HTML (with @mentions
//! linked), then ammonia with a single allow-list. Runs once, at write time; pages render only
//! the stored clean HTML.
use std::{borrow::Cow, collections::HashSet, sync::OnceLock};

use ammonia::{Builder, UrlRelative};

pub use super::uploads::proxy::ExternalImages;
use super::uploads::proxy::{OtherSitesImages, is_own_image};
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
            // Markup drawing text out of its written order (`bdo`) or hiding part of it (ruby's
            // `rp`), which a watched word could hide behind; its text stays, as plain text.
            .rm_tags(["bdo", "ruby", "rb", "rp", "rt", "rtc"])
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
                // Images only from this site: its uploads and its image proxy, which Markdown
                // images from other sites were pointed at (`ExternalImages`). Anything else (a
                // raw <img> from another site, data:, other paths) loses its source, so no
                // reader's browser calls another site for a post.
                ("img", "src") => is_own_image(value).then(|| value.into()),
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

/// Markdown to clean HTML, with no mentions linked and images from other sites as links.
pub fn render(source: &str) -> String {
    render_with_mentions(source, &|_| false, &ExternalImages::Linked)
}

/// Work on a body (rendering it, judging it by the watched words) on the blocking pool, a few
/// at a time. Even bounded, a long body costs milliseconds of CPU: off the async workers, the
/// requests around it (and /healthz) keep being answered meanwhile.
pub async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, crate::error::AppError> {
    fn slots() -> &'static std::sync::Arc<tokio::sync::Semaphore> {
        static SLOTS: OnceLock<std::sync::Arc<tokio::sync::Semaphore>> = OnceLock::new();
        SLOTS.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            std::sync::Arc::new(tokio::sync::Semaphore::new((cores / 2).max(1)))
        })
    }
    let fail = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "work on a body failed");
        crate::error::AppError::Internal
    };
    let slot = slots()
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| fail(&e))?;
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        work()
    })
    .await
    .map_err(|e| fail(&e))
}

/// Markdown to clean HTML; `@name` becomes a link to /u/name when `is_member(name)`.
///
/// Costs time linear in the length of `source`: nesting deeper than `MAX_NESTING` is shown as
/// text, tables are bounded (`defuse_source`), and markup the HTML parser would do more than
/// linear work on (`html_is_bounded`) makes the whole body plain text. bench/markdown.sh times
/// the worst bodies we know (testing::worst_markdown_bodies).
pub fn render_with_mentions(
    source: &str,
    is_member: &dyn Fn(&str) -> bool,
    images: &ExternalImages,
) -> String {
    let source = strip_direction_overrides(source);
    let defused = defuse_source(&source);
    let mut raw = String::with_capacity(source.len() * 3 / 2);
    let mut plain_text_depth = 0usize; // >0 inside code blocks and links: no mentions there
    let mut events = Vec::new();
    let mut other_sites = OtherSitesImages::new(images);
    let parsed = Parser::new_ext(&defused, markdown_options());
    for event in TextMergeStream::new(CapNesting::new(parsed)) {
        match &event {
            Event::Start(Tag::CodeBlock(_) | Tag::Link { .. } | Tag::Image { .. }) => {
                plain_text_depth += 1
            }
            Event::End(TagEnd::CodeBlock | TagEnd::Link | TagEnd::Image) => {
                plain_text_depth = plain_text_depth.saturating_sub(1)
            }
            _ => {}
        }
        match other_sites.rewrite(event) {
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
    if !html_is_bounded(&raw) {
        return plain_text_html(&source);
    }
    // Last, on the clean HTML: every picture gets words (image_alt.rs says why there).
    // Direction overrides written as references (`&#x202E;`) are characters now: out too.
    let clean = clean_to_fixed_point(&raw, &source);
    super::image_alt::fill_missing_alt(&strip_direction_overrides(&clean)).into_owned()
}

/// Blocks and inline spans (quotes, lists and their items, emphasis, links) nested deeper than
/// this are shown as their Markdown text in the innermost one kept. The HTML parser checks the
/// open elements for each tag it reads, so depth multiplies its work; no real post nests a
/// quote in 32 others.
pub const MAX_NESTING: usize = 32;

/// Elements nested in the HTML, Markdown's and raw HTML's together: beyond it the body is shown
/// as plain text (raw HTML deeper than this is an attack on the parser, not a post).
pub const MAX_HTML_DEPTH: usize = 2 * MAX_NESTING;

/// Attributes on one raw HTML tag: the parser checks each new one against all before it, so a
/// tag with thousands costs quadratic time. Beyond this the body is shown as plain text.
pub const MAX_ATTRIBUTES: usize = 32;

/// Columns of one table, and cells in all of them together. The Markdown parser fills every
/// short row up to the header's width, so a wide header over many one-character rows would
/// turn a 50,000-character body into millions of cells. A table beyond either limit is shown
/// as the text it was written as.
pub const MAX_TABLE_COLUMNS: usize = 64;
pub const MAX_TABLE_CELLS: usize = 10_000;

/// Passes Markdown events through with at most `MAX_NESTING` nesting tags open: a deeper one is
/// replaced by its Markdown marker as text (its content is kept; an item ends with a line break).
struct CapNesting<I> {
    events: I,
    depth: usize,
}

impl<I> CapNesting<I> {
    fn new(events: I) -> Self {
        CapNesting { events, depth: 0 }
    }
}

/// The tags that can hold themselves, and the text they were written with.
fn nesting_marker(tag: &TagEnd) -> Option<(&'static str, &'static str)> {
    Some(match tag {
        TagEnd::BlockQuote(_) => ("> ", ""),
        TagEnd::List(_) => ("", ""),
        TagEnd::Item => ("- ", "\n"),
        TagEnd::Emphasis => ("*", "*"),
        TagEnd::Strong => ("**", "**"),
        TagEnd::Strikethrough => ("~~", "~~"),
        TagEnd::Link | TagEnd::Image => ("", ""),
        _ => return None,
    })
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for CapNesting<I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            let event = self.events.next()?;
            let (opens, tag_end) = match &event {
                Event::Start(tag) => (true, tag.to_end()),
                Event::End(tag) => (false, *tag),
                _ => return Some(event),
            };
            let Some((start_text, end_text)) = nesting_marker(&tag_end) else {
                return Some(event);
            };
            let kept = if opens {
                self.depth += 1;
                self.depth <= MAX_NESTING
            } else {
                self.depth -= 1;
                self.depth < MAX_NESTING
            };
            if kept {
                return Some(event);
            }
            let text = if opens { start_text } else { end_text };
            if !text.is_empty() {
                return Some(Event::Text(CowStr::Borrowed(text)));
            }
        }
    }
}

/// Makes the Markdown that would cost the parser more than linear time read as text: a line
/// that opens more than `MAX_NESTING` quotes or list items gets a backslash before the next
/// marker, and a table beyond `MAX_TABLE_COLUMNS` or `MAX_TABLE_CELLS` one in its delimiter row
/// (so it is not a table). Lines in code fences at the start of a line are left alone; inside a
/// quoted or listed fence such a line would show its backslash, which no real post writes.
fn defuse_source(source: &str) -> Cow<'_, str> {
    let lines: Vec<&str> = source.split_inclusive('\n').collect();
    // For each line, the index of the next blank line (or the end): the rows a table can have.
    let mut next_blank = vec![lines.len(); lines.len() + 1];
    for i in (0..lines.len()).rev() {
        next_blank[i] = if container_content(lines[i]).trim().is_empty() {
            i
        } else {
            next_blank[i + 1]
        };
    }
    let mut out: Option<String> = None;
    let mut fence: Option<(u8, usize)> = None;
    let mut cells = 0usize;
    let mut done = 0usize; // bytes of `source` already handled
    for (i, line) in lines.iter().enumerate() {
        let start = done;
        done += line.len();
        if let Some(run) = fence_run(line) {
            match fence {
                None => fence = Some(run),
                Some((c, n)) if run.0 == c && run.1 >= n => fence = None,
                Some(_) => {}
            }
            continue;
        }
        if fence.is_some() {
            continue;
        }
        let escape_at = deep_marker(line).or_else(|| {
            let columns = delimiter_row_columns(line)?;
            let rows = next_blank[i + 1] - i;
            let table = columns * (rows + 1);
            if columns > MAX_TABLE_COLUMNS || cells + table > MAX_TABLE_CELLS {
                line.find('-')
            } else {
                cells += table;
                None
            }
        });
        if let Some(at) = escape_at {
            let out = out.get_or_insert_with(|| String::with_capacity(source.len() + 64));
            if out.is_empty() {
                out.push_str(&source[..start]);
            }
            out.push_str(&line[..at]);
            out.push('\\');
            out.push_str(&line[at..]);
        } else if let Some(out) = out.as_mut() {
            out.push_str(line);
        }
    }
    match out {
        Some(out) => Cow::Owned(out),
        None => Cow::Borrowed(source),
    }
}

/// A line without the quote markers and indentation in front of it.
fn container_content(line: &str) -> &str {
    line.trim_start_matches(['>', ' ', '\t'])
}

/// The character and length of a code fence (```` ``` ```` or `~~~`) the line starts with.
fn fence_run(line: &str) -> Option<(u8, usize)> {
    let trimmed = line.trim_start_matches(' ');
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let c = *trimmed.as_bytes().first()?;
    let n = trimmed.bytes().take_while(|&b| b == c).count();
    (matches!(c, b'`' | b'~') && n >= 3).then_some((c, n))
}

/// Where the marker that would open nesting level `MAX_NESTING + 1` is on this line, if any:
/// quotes (`>`) and list items (`-`, `*`, `+`, `1.`, `1)`) opened one after another.
fn deep_marker(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    // `- - - -` is a thematic break, not lists.
    let t = line.trim();
    if t.len() >= 3
        && matches!(t.as_bytes()[0], b'-' | b'*' | b'_')
        && t.bytes()
            .all(|c| c == t.as_bytes()[0] || c == b' ' || c == b'\t')
    {
        return None;
    }
    let is_space = |i: usize| matches!(b.get(i), Some(b' ' | b'\t'));
    let mut i = 0;
    let mut opened = 0;
    loop {
        while is_space(i) {
            i += 1;
        }
        let marker = match b.get(i)? {
            b'>' => i,
            b'-' | b'*' | b'+' if is_space(i + 1) => i,
            _ => {
                let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                let punct = i + digits;
                if !(1..=9).contains(&digits)
                    || !matches!(b.get(punct), Some(b'.' | b')'))
                    || !is_space(punct + 1)
                {
                    return None;
                }
                punct
            }
        };
        opened += 1;
        if opened > MAX_NESTING {
            return Some(marker);
        }
        i = marker + 1;
    }
}

/// The number of columns, if the line (after any quote markers) is a table's delimiter row.
fn delimiter_row_columns(line: &str) -> Option<usize> {
    let row = container_content(line).trim_end();
    let is_delimiter = row.contains('|')
        && row.contains('-')
        && row
            .bytes()
            .all(|c| matches!(c, b'|' | b'-' | b':' | b' ' | b'\t'));
    is_delimiter.then(|| row.split('|').filter(|cell| cell.contains('-')).count())
}

fn is_one_of(name: &[u8], names: &[&str]) -> bool {
    names
        .iter()
        .any(|n| n.as_bytes().eq_ignore_ascii_case(name))
}

fn is_void_element(name: &[u8]) -> bool {
    is_one_of(
        name,
        &[
            "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img",
            "input", "keygen", "link", "meta", "param", "source", "track", "wbr",
        ],
    )
}

/// Elements no end tag closes past (the HTML parser's scope boundaries).
fn is_scope_boundary(name: &[u8]) -> bool {
    is_one_of(
        name,
        &[
            "applet", "caption", "html", "table", "td", "th", "marquee", "object", "template",
        ],
    )
}

/// Elements an end tag of another name does not close past (the HTML parser's "special" and
/// scope-boundary elements, the ones that matter here).
fn stops_end_tags(name: &[u8]) -> bool {
    is_scope_boundary(name)
        || is_one_of(
            name,
            &[
                "address",
                "article",
                "aside",
                "blockquote",
                "button",
                "center",
                "dd",
                "details",
                "dir",
                "div",
                "dl",
                "dt",
                "fieldset",
                "figure",
                "footer",
                "form",
                "h1",
                "h2",
                "h3",
                "h4",
                "h5",
                "h6",
                "header",
                "li",
                "main",
                "menu",
                "nav",
                "ol",
                "p",
                "pre",
                "section",
                "select",
                "summary",
                "tbody",
                "tfoot",
                "thead",
                "tr",
                "ul",
            ],
        )
}

/// Elements the HTML parser reopens after they were closed by another element's end.
fn is_formatting_element(name: &[u8]) -> bool {
    is_one_of(
        name,
        &[
            "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong",
            "tt", "u",
        ],
    )
}

/// A tag starting at `b[i]` (its name's first byte): its name, how many attributes it has, and
/// where it ends, read the way the HTML tokenizer reads it (quoted values may hold `>`; a value
/// or a `/` can run straight into the next attribute).
fn scan_tag(b: &[u8], mut i: usize) -> (&[u8], usize, usize) {
    let name_start = i;
    while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0c | b'/' | b'>') {
        i += 1;
    }
    let name = &b[name_start..i];
    let mut attributes = 0;
    loop {
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0c | b'/') {
            i += 1;
        }
        match b.get(i) {
            None => return (name, attributes, i),
            Some(b'>') => return (name, attributes, i + 1),
            Some(_) => {}
        }
        attributes += 1;
        i += 1; // a name's first character may be anything, `=` included
        while i < b.len()
            && !matches!(
                b[i],
                b' ' | b'\t' | b'\n' | b'\r' | 0x0c | b'/' | b'>' | b'='
            )
        {
            i += 1;
        }
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0c) {
            i += 1;
        }
        if b.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0c) {
            i += 1;
        }
        match b.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                i = b[i + 1..]
                    .iter()
                    .position(|&c| c == q)
                    .map_or(b.len(), |p| i + 1 + p + 1);
            }
            _ => {
                while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0c | b'>') {
                    i += 1;
                }
            }
        }
    }
}

/// Whether the HTML parser reads `html` in about linear time: no tag with more than
/// `MAX_ATTRIBUTES` attributes, and no more than `MAX_HTML_DEPTH` elements open at once. A model
/// of the parser that errs towards more depth: an end tag closes back to its element unless an
/// element that stops it is in between (as in the parser); elements the parser closes by
/// itself stay open here; a formatting element closed by another's end tag still counts, as the
/// parser reopens it in what follows. Comments and script text are read as markup too: more
/// tags, never fewer.
fn html_is_bounded(html: &str) -> bool {
    let b = html.as_bytes();
    let mut open: Vec<&[u8]> = Vec::new();
    let mut reopened = 0usize; // formatting elements closed by another end tag
    let mut i = 0;
    while let Some(lt) = b[i..].iter().position(|&c| c == b'<') {
        i += lt + 1;
        let closing = b.get(i) == Some(&b'/');
        let name_at = if closing { i + 1 } else { i };
        if !b.get(name_at).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        let (name, attributes, end) = scan_tag(b, name_at);
        i = end;
        if attributes > MAX_ATTRIBUTES {
            return false;
        }
        if !closing {
            if !is_void_element(name) {
                open.push(name);
            }
        } else if let Some(at) = open.iter().rposition(|n| n.eq_ignore_ascii_case(name)) {
            let between = &open[at + 1..];
            let stopped = between.iter().any(|n| is_scope_boundary(n))
                || (!stops_end_tags(name) && between.iter().any(|n| stops_end_tags(n)));
            if !stopped {
                reopened += open[at + 1..]
                    .iter()
                    .filter(|n| is_formatting_element(n))
                    .count();
                open.truncate(at);
            }
        }
        // `reopened` never goes down: an end tag takes an entry off html5ever's list of active
        // formatting elements only when the names match, and `</i>` after `<p><b x=1></p>`
        // removes nothing, so counting it down let 2,400 such `b`s pass and each new one
        // rebuild all the earlier ones (quadratic). Over-counting only sends a strange body to
        // plain text.
        if open.len() + reopened > MAX_HTML_DEPTH {
            return false;
        }
    }
    true
}

/// The deepest nesting of elements in HTML as ammonia writes it (well-formed, double-quoted
/// attribute values).
fn html_depth(html: &str) -> usize {
    let b = html.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while let Some(lt) = b[i..].iter().position(|&c| c == b'<') {
        i += lt + 1;
        if b.get(i) == Some(&b'/') {
            depth = depth.saturating_sub(1);
            continue;
        }
        let (name, _, end) = scan_tag(b, i);
        i = end;
        if !is_void_element(name) {
            depth += 1;
            deepest = deepest.max(depth);
        }
    }
    deepest
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
    // The tree builder can nest deeper than the markup reads (formatting elements it reopens):
    // nothing that deep is parsed again, or stored.
    if html_depth(&html) > MAX_HTML_DEPTH {
        return plain_text_html(source);
    }
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
/// another order than it is written: only useful for disguising links, names and titles here.
pub fn strip_direction_overrides(source: &str) -> Cow<'_, str> {
    let is_override = |c: char| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    if source.chars().any(is_override) {
        Cow::Owned(source.chars().filter(|c| !is_override(*c)).collect())
    } else {
        Cow::Borrowed(source)
    }
}

/// A title as one line of text, as it shows: no direction overrides, a line break or tab sent
/// through the API is a space (Unicode's line and paragraph separators too: not control
/// characters, but a forced line break wherever text is laid out, UAX #14), and
/// other control characters (an ESC, a C1 control) and the noncharacters U+FFFE and U+FFFF,
/// which feeds cannot carry, are dropped.
pub fn one_line(text: &str) -> String {
    strip_direction_overrides(text)
        .chars()
        .filter_map(|c| match c {
            '\r' | '\n' | '\t' | '\u{2028}' | '\u{2029}' => Some(' '),
            '\u{FFFE}' | '\u{FFFF}' => None,
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
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
    while let Some(start) = url_start(rest) {
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
            // A link event, so its address is written as every Markdown link's is.
            let url = CowStr::from(url.to_string());
            out.push(Event::Start(Tag::Link {
                link_type: pulldown_cmark::LinkType::Autolink,
                dest_url: url.clone(),
                title: CowStr::from(""),
                id: CowStr::from(""),
            }));
            out.push(Event::Text(url));
            out.push(Event::End(TagEnd::Link));
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

/// Where the first `http://` or `https://` in `s` starts. One scan for "http": looking for each
/// prefix through the whole rest at every URL would make a text of many links quadratic.
fn url_start(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = s[from..].find("http") {
        let at = from + found;
        let after = &s[at + 4..];
        if after.starts_with("://") || after.starts_with("s://") {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Markup that draws text out of its order or hides part of it is not kept (its text is),
    /// nor is a direction override written as a reference.
    #[test]
    fn text_is_drawn_in_the_order_it_is_written() {
        assert_eq!(
            render("<bdo dir=\"rtl\">nrad</bdo> <ruby>da<rp>(</rp><rt>x</rt></ruby> &#x202E;krej"),
            "<p>nrad da(x krej</p>\n"
        );
    }

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
        // From another site: a link (Linked), or this site's proxy (Proxied); never the
        // other site's address as a source.
        let linked = render("![i](https://example.com/i.png)");
        assert!(
            linked.contains(
                r#"<a href="https://example.com/i.png" rel="nofollow ugc noopener">i</a>"#
            ) && !linked.contains("<img"),
            "{linked}"
        );
        let key = [7u8; 32];
        let proxied = render_with_mentions(
            "![i](https://example.com/i.png) <img src=\"https://example.com/raw.png\">",
            &|_| false,
            &ExternalImages::Proxied(key),
        );
        let expected = crate::server::uploads::proxy::url_for(&key, "https://example.com/i.png");
        assert!(
            proxied.contains(&format!(r#"<img src="{expected}" alt="i">"#)),
            "{proxied}"
        );
        assert!(!proxied.contains("example.com/raw.png"), "{proxied}");
        assert!(render("![s](/uploads/12/shot.png)").contains(r#"src="/uploads/12/shot.png""#));
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

    /// The bodies that cost today's pipeline minutes render to bounded, settled HTML that keeps
    /// their text (bench/markdown.sh times them in release).
    #[test]
    fn the_worst_bodies_render_bounded_and_settled() {
        for (name, body) in crate::server::testing::worst_markdown_bodies() {
            assert!(body.chars().count() <= MAX_BODY_CHARS, "{name} is too long");
            let html = render(&body);
            assert_eq!(clean_html(&html), html, "{name} is not a fixed point");
            let depth = html_depth(&html);
            assert!(depth <= MAX_HTML_DEPTH, "{name} nests {depth} deep");
            assert!(
                html.len() <= 12 * MAX_BODY_CHARS,
                "{name} grew to {} bytes",
                html.len()
            );
            let tail: String = body
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if tail.chars().all(|c| c.is_ascii_alphabetic()) {
                assert!(html.contains(&tail), "{name} lost its text");
            }
        }
    }

    #[test]
    fn nesting_beyond_the_limit_is_text() {
        let deep = format!("{}deep", ">".repeat(MAX_BODY_CHARS - 4));
        let html = render(&deep);
        assert_eq!(
            html.matches("<blockquote>").count(),
            MAX_NESTING,
            "{}",
            &html[..400]
        );
        assert!(html.contains("&gt;&gt;&gt;deep"), "the rest is text");
        // Exactly at the limit nothing changes; one more and the innermost is text.
        let at_limit = format!("{}x", "> ".repeat(MAX_NESTING));
        assert_eq!(
            render(&at_limit).matches("<blockquote>").count(),
            MAX_NESTING
        );
        let beyond = format!("{}x", "> ".repeat(MAX_NESTING + 1));
        let html = render(&beyond);
        assert_eq!(html.matches("<blockquote>").count(), MAX_NESTING);
        assert!(html.contains("<p>&gt; x</p>"), "{html}");
        // Lists nested by indentation, past what one line can open: deeper items are text.
        let lists: String = (0..40)
            .map(|i| format!("{}- item{i}\n", "  ".repeat(i)))
            .collect();
        let html = render(&lists);
        assert_eq!(html.matches("<li>").count(), MAX_NESTING / 2, "{html}");
        assert!(html.contains("item39"), "{html}");
        // Emphasis nested inside emphasis.
        let emphasis = format!("{}x{}", "*a _b ".repeat(40), " b_ a*".repeat(40));
        assert!(render(&emphasis).matches("<em>").count() <= MAX_NESTING);
    }

    #[test]
    fn tables_are_bounded_and_ordinary_ones_still_render() {
        let ordinary = "| a | b | c |\n|---|:-:|--:|\n| 1 | 2 | 3 |\n| 4 | 5 |\n";
        let html = render(ordinary);
        assert_eq!(
            html.matches("<td").count(),
            6,
            "short rows are filled: {html}"
        );
        let wide = format!(
            "{}\n{}\nb\n",
            "a|".repeat(MAX_TABLE_COLUMNS + 1),
            "-|".repeat(MAX_TABLE_COLUMNS + 1)
        );
        let html = render(&wide);
        assert!(!html.contains("<table>"), "too wide: text");
        assert!(html.contains("-|-|"), "shown as written: {html}");
        let long: String = format!(
            "{}\n{}\n{}",
            "a|".repeat(50),
            "-|".repeat(50),
            "b\n".repeat(400)
        );
        assert!(!render(&long).contains("<table>"), "too many cells: text");
        let fenced = format!("```\n{}\n```\n", "-|".repeat(100));
        assert!(
            render(&fenced).contains(&"-|".repeat(100)),
            "code is left alone"
        );
    }

    #[test]
    fn raw_html_too_deep_or_with_too_many_attributes_is_plain_text() {
        let nested = format!("{}x", "<div>".repeat(MAX_HTML_DEPTH + 1));
        assert_eq!(render(&nested), plain_text_html(&nested));
        let shallow = format!("{}x{}", "<div>".repeat(10), "</div>".repeat(10));
        assert_eq!(render(&shallow).matches("<div>").count(), 10);
        let attributes: String = (0..=MAX_ATTRIBUTES).map(|i| format!(" a{i}")).collect();
        let many = format!("<b{attributes}>x</b>");
        assert_eq!(render(&many), plain_text_html(&many));
        let quoted = "<b title=\"<b a b c d e f g h i j k l m n o p q r s t u v w x y z A B C D E F G\">x</b>";
        assert!(
            render(quoted).contains("<b title="),
            "a quoted value is one attribute"
        );
        // Formatting elements the parser would reopen in every later paragraph.
        let reopened: String = (0..200).map(|i| format!("<b title={i}>x\n\n")).collect();
        assert!(html_depth(&render(&reopened)) <= MAX_HTML_DEPTH);
        // Unmatched formatting end tags do not take reopened elements off the parser's list
        // (found by review: this body rebuilt millions of elements).
        let unmatched: String = (0..2400).map(|k| format!("<p><b x={k}></p></i>")).collect();
        assert_eq!(render(&unmatched), plain_text_html(&unmatched));
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
            &ExternalImages::Linked,
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
}
