//! Reusable view pieces.
pub mod article;
pub mod article_form;
pub mod avatar;
pub mod category_colours;
pub mod chart;
pub mod composer;
pub mod figures;
pub mod follow;
pub mod form;
pub mod header;
pub mod page;
pub mod pager;
pub mod post;
pub mod sparkline;
pub mod staff;
pub mod theme;
pub mod time;
pub mod vote;

/// Text for the two places Leptos 0.8 writes a string into the page as it is: the head's
/// `<title>` (leptos_meta) and a `<textarea>`'s content (tachys declares textarea's children
/// raw, like a script's). There `</title>` or `</textarea>` in a member's text ended the element
/// and the rest became markup. Browsers read both as RCDATA, so entities come back as the text.
/// Escaped on the server only: in the browser the same string becomes DOM text (the document's
/// title, a text node being hydrated), where escaping would show the entities.
pub fn escape_rcdata(text: String) -> String {
    #[cfg(feature = "ssr")]
    let text = crate::server::views::feeds::xml_escape(&text);
    text
}
