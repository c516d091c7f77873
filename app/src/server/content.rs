//! The one content pipeline for every piece of user text: Markdown to HTML, then ammonia with a
//! single allow-list. Runs once, at write time; pages render only the stored clean HTML.
use std::{collections::HashSet, sync::OnceLock};

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{Options, Parser, html};

fn cleaner() -> &'static Builder<'static> {
    static CLEANER: OnceLock<Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let mut b = Builder::default();
        // ammonia's defaults already drop scripts, styles, iframes, forms and event handlers;
        // this narrows URLs to web and mail links and marks every link as user content.
        b.url_schemes(HashSet::from(["http", "https", "mailto"]))
            .url_relative(UrlRelative::PassThrough)
            .link_rel(Some("nofollow ugc noopener"))
            .add_generic_attributes(["title"])
            .rm_tag_attributes("img", ["srcset"])
            // Fenced code keeps its language (class="language-rust") for highlighting; no
            // other class survives, so user text cannot borrow the site's own styles.
            .add_tag_attributes("code", ["class"])
            .attribute_filter(|element, attribute, value| {
                if element == "code" && attribute == "class" {
                    let lang = value.strip_prefix("language-")?;
                    let plain = lang
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '#'));
                    return plain.then(|| value.into());
                }
                Some(value.into())
            });
        b
    })
}

/// Markdown (CommonMark plus tables, strikethrough and autolinks) to clean HTML.
pub fn render(source: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let mut raw = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(source, options));
    cleaner().clean(&raw).to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_renders() {
        assert_eq!(
            render("**hi** ~~no~~"),
            "<p><strong>hi</strong> <del>no</del></p>\n"
        );
        assert!(render("| a |\n|---|\n| b |").contains("<table>"));
        assert!(render("```rust\nfn x() {}\n```").contains("<pre><code class=\"language-rust\">"));
    }

    #[test]
    fn dangerous_html_is_removed() {
        let out = render(
            "<script>alert(1)</script><img src=x onerror=alert(1)><iframe src=//e></iframe><form><input></form><b style=\"color:red\">x</b>",
        );
        for bad in ["<script", "onerror", "<iframe", "<form", "<input", "style="] {
            assert!(!out.contains(bad), "{bad} survived in {out}");
        }
    }

    #[test]
    fn links_are_marked_and_bad_schemes_dropped() {
        let out = render("[a](https://example.com) [b](javascript:alert(1)) [c](data:text/html,x)");
        assert!(
            out.contains(r#"<a href="https://example.com" rel="nofollow ugc noopener">a</a>"#),
            "{out}"
        );
        assert!(
            !out.contains("javascript:") && !out.contains("data:"),
            "{out}"
        );
    }
}
