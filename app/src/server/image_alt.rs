//! Every picture in a member's post has a text alternative (WCAG 1.1.1). The content pipeline
//! runs this last, over its clean HTML: an `<img>` without `alt`, or with an empty one (Markdown
//! `![](…)`, raw `<img src=…>`), gets "Image" and its file's name ("Image: login-screen.png").
//! The author's name is not known down here (bodies are rendered before and apart from who
//! posts them, and re-rendered by `backyard rerender`), and the post already says who wrote it.

use std::borrow::Cow;

/// `html` with a non-empty `alt` on every `<img>`. Reads the serializer's output shape: tags in
/// lower case, attribute values double-quoted with `"` escaped, so a plain scan is exact.
pub fn fill_missing_alt(html: &str) -> Cow<'_, str> {
    if !html.contains("<img") {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len() + 64);
    let mut rest = html;
    while let Some(at) = rest.find("<img") {
        let after = &rest[at + 4..];
        if !after.starts_with([' ', '>', '/']) {
            out.push_str(&rest[..at + 4]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..at]);
        let end = tag_end(&rest[at..]);
        out.push_str(&with_alt(&rest[at..at + end]));
        rest = &rest[at + end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Where the tag at the start of `s` ends (after its '>'), quotes followed.
fn tag_end(s: &str) -> usize {
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '>' if !quoted => return i + 1,
            _ => {}
        }
    }
    s.len()
}

/// One `<img …>` tag with its attributes read; a missing or blank alt replaced.
fn with_alt(tag: &str) -> String {
    let mut attrs: Vec<(&str, Option<&str>)> = Vec::new();
    let inner = tag[4..].trim_end_matches('>').trim_end_matches('/');
    let mut rest = inner;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let name_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let name = &rest[..name_end];
        rest = &rest[name_end..];
        if let Some(after) = rest.strip_prefix("=\"") {
            let close = after.find('"').unwrap_or(after.len());
            attrs.push((name, Some(&after[..close])));
            rest = after.get(close + 1..).unwrap_or("");
        } else {
            attrs.push((name, None));
            if name.is_empty() {
                // Not the serializer's shape: leave the tag as it was.
                return tag.to_string();
            }
        }
    }
    let has_alt = attrs
        .iter()
        .any(|(n, v)| *n == "alt" && v.is_some_and(|v| !v.trim().is_empty()));
    if has_alt {
        return tag.to_string();
    }
    let src = attrs
        .iter()
        .find(|(n, _)| *n == "src")
        .and_then(|(_, v)| *v);
    let alt = alt_for(src);
    let mut out = String::from("<img");
    for (name, value) in attrs.into_iter().filter(|(n, _)| *n != "alt") {
        out.push(' ');
        out.push_str(name);
        if let Some(v) = value {
            out.push_str("=\"");
            out.push_str(v);
            out.push('"');
        }
    }
    out.push_str(" alt=\"");
    out.push_str(&alt);
    out.push_str("\">");
    out
}

/// "Image: name.png" from the address's last segment when it reads as a file name, else
/// "Image". Only letters, digits, '-', '_' and '.' are kept: the text goes into an attribute.
fn alt_for(src: Option<&str>) -> String {
    let name = src
        .map(|s| s.split(['?', '#']).next().unwrap_or(""))
        .and_then(|s| s.rsplit('/').next())
        .filter(|n| {
            n.contains('.')
                && n.len() <= 80
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                && n.chars().any(|c| c.is_ascii_alphabetic())
        });
    match name {
        Some(n) => format!("Image: {n}"),
        None => "Image".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::fill_missing_alt;

    #[test]
    fn a_picture_without_words_gets_them() {
        assert_eq!(
            fill_missing_alt(r#"<p><img src="/uploads/3/login-screen.png" alt=""></p>"#),
            r#"<p><img src="/uploads/3/login-screen.png" alt="Image: login-screen.png"></p>"#
        );
        assert_eq!(
            fill_missing_alt(r#"<img src="/uploads/3/x.png">"#),
            r#"<img src="/uploads/3/x.png" alt="Image: x.png">"#
        );
        assert_eq!(
            fill_missing_alt(r#"<img src="/img-proxy/abc?u=%2F%2F" alt="  ">"#),
            r#"<img src="/img-proxy/abc?u=%2F%2F" alt="Image">"#
        );
        assert_eq!(fill_missing_alt("<img>"), r#"<img alt="Image">"#);
    }

    #[test]
    fn words_the_author_gave_stay() {
        let given =
            r#"<img src="/uploads/3/a.png" alt="The &quot;Save&quot; button > menu" title="x">"#;
        assert_eq!(fill_missing_alt(given), given);
        let text = "<p>&lt;img src=x&gt; is how you write it; <code>&lt;img&gt;</code></p>";
        assert_eq!(fill_missing_alt(text), text);
    }
}
