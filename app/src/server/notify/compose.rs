//! Notification e-mails: plain text and HTML from the same sanitised HTML the site shows, with
//! absolute links, the staff badge, a link to the exact post, why the member got it, and a
//! one-click unsubscribe for that kind (RFC 8058). Subjects and names go into headers through
//! lettre's builder (mail.rs), which encodes them, so they can never add a header.
use std::sync::RwLock;

use sea_orm::ConnectionTrait;

use super::preferences::MailKind;
use crate::{
    error::AppError,
    server::{entity::user, mail, settings, signing},
};

/// What the e-mails need from outside the database: where the site is, and where replies go.
#[derive(Clone, Debug)]
pub struct Outside {
    /// BACKYARD_PUBLIC_URL, without a trailing slash.
    pub public_url: String,
    /// BACKYARD_REPLY_ADDRESS (`reply@example.com`): replies go to `reply+TOKEN@example.com`.
    pub reply_address: Option<String>,
}

static OUTSIDE: RwLock<Option<Outside>> = RwLock::new(None);

/// Set once at start by the server (tests set their own).
pub fn configure(outside: Outside) {
    *OUTSIDE.write().unwrap_or_else(|e| e.into_inner()) = Some(outside);
}

pub fn outside() -> Outside {
    OUTSIDE
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or(Outside {
            public_url: "http://localhost:3000".into(),
            reply_address: None,
        })
}

/// `reply+TOKEN@domain` for this member and topic, when reply by e-mail is configured.
pub async fn reply_to(
    conn: &impl ConnectionTrait,
    user_id: i64,
    topic_id: i64,
) -> Result<Option<String>, AppError> {
    let Some(address) = outside().reply_address else {
        return Ok(None);
    };
    let Some((local, domain)) = address.split_once('@') else {
        return Ok(None);
    };
    let token = signing::reply_token(conn, user_id, topic_id).await?;
    Ok(Some(format!("{local}+{token}@{domain}")))
}

pub async fn unsubscribe_url(
    conn: &impl ConnectionTrait,
    user_id: i64,
    kind: MailKind,
) -> Result<String, AppError> {
    let token = signing::unsubscribe_token(conn, user_id, kind.as_str()).await?;
    Ok(format!("{}/unsubscribe/{token}", outside().public_url))
}

/// One notification e-mail's content, before it is addressed.
pub struct Letter {
    pub subject: String,
    /// A sentence: who did what ("Ada Lovelace (Support, staff) answered your topic").
    pub headline: String,
    /// The post's sanitised HTML as the site shows it, if the notice is about a post.
    pub post_html: Option<String>,
    /// Site-relative link to the exact post.
    pub link: String,
    /// Why the member got it ("You started this topic.").
    pub why: String,
    pub kind: MailKind,
    pub topic_id: Option<i64>,
}

/// Queues `letter` to `to` in the caller's transaction.
pub async fn send(
    conn: &impl ConnectionTrait,
    to: &user::Model,
    letter: &Letter,
) -> Result<(), AppError> {
    send_all(conn, std::slice::from_ref(to), letter).await
}

/// Queues `letter` to each member (the site's name read once for all of them).
pub async fn send_all(
    conn: &impl ConnectionTrait,
    members: &[user::Model],
    letter: &Letter,
) -> Result<(), AppError> {
    let site = settings::text(conn, settings::SITE_NAME).await?;
    let base = outside().public_url;
    for to in members {
        queue_one(conn, to, letter, &site, &base).await?;
    }
    Ok(())
}

async fn queue_one(
    conn: &impl ConnectionTrait,
    to: &user::Model,
    letter: &Letter,
    site: &str,
    base: &str,
) -> Result<(), AppError> {
    let unsubscribe = unsubscribe_url(conn, to.id, letter.kind).await?;
    let reply_to = match letter.topic_id {
        Some(topic_id) => reply_to(conn, to.id, topic_id).await?,
        None => None,
    };
    let url = format!("{base}{}", letter.link);
    let post_html = letter.post_html.as_deref().map(|h| absolute_links(h, base));
    let mut text = format!("{}\n\n", letter.headline);
    if let Some(html) = &post_html {
        // A post with a censored word shows it masked, but a link's address keeps the word:
        // the text part then leaves addresses out (the HTML part's links still lead there).
        text.push_str(&readable_text(html, !html.contains('■')));
        text.push_str("\n\n");
    }
    text.push_str(&format!("Open it: {url}\n"));
    if reply_to.is_some() {
        text.push_str("Or reply to this e-mail to answer on the site.\n");
    }
    text.push_str(&format!(
        "\n-- \n{why} You get these from {site} ({label}, immediately).\n\
         Stop these e-mails: {unsubscribe}\nChoose what you get: {base}/account\n",
        why = letter.why,
        label = letter.kind.label(),
    ));
    let esc = escape;
    let mut html = format!(
        "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;line-height:1.5;\
         max-width:40em\"><p><strong>{}</strong></p>",
        esc(&letter.headline)
    );
    if let Some(post) = &post_html {
        html.push_str(&format!(
            "<div style=\"border-left:3px solid #ccc;padding-left:1em\">{post}</div>"
        ));
    }
    html.push_str(&format!(
        "<p><a href=\"{}\">Open it on {}</a>{}</p><hr><p style=\"color:#555;font-size:0.9em\">\
         {} You get these from {} ({}, immediately).<br><a href=\"{}\">Stop these e-mails</a> · \
         <a href=\"{}/account\">Choose what you get</a></p></body></html>",
        esc(&url),
        esc(site),
        if reply_to.is_some() {
            " or reply to this e-mail."
        } else {
            ""
        },
        esc(&letter.why),
        esc(site),
        esc(letter.kind.label()),
        esc(&unsubscribe),
        esc(base),
    ));
    mail::queue(
        conn,
        mail::Outgoing {
            to: to.email.clone(),
            subject: format!("[{site}] {}", letter.subject),
            text,
            html: Some(html),
            user_id: Some(to.id),
            kind: "notification",
            reply_to,
            list_unsubscribe: one_click(unsubscribe),
        },
    )
    .await
}

/// The unsubscribe link as a `List-Unsubscribe` header: RFC 8058's one click is for https links
/// only (a site on plain http keeps the link in the text).
pub fn one_click(url: String) -> Option<String> {
    mail::one_click_url(&url).then_some(url)
}

/// The staff badge as the e-mail shows it beside a name.
pub fn staff_badge(title: Option<&str>) -> String {
    match title {
        Some(t) if !t.is_empty() => format!(" ({t}, staff)"),
        _ => " (staff)".into(),
    }
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Site-relative links and images in sanitised HTML made absolute, for a mail client.
pub fn absolute_links(html: &str, base: &str) -> String {
    html.replace("href=\"/", &format!("href=\"{base}/"))
        .replace("src=\"/", &format!("src=\"{base}/"))
}

/// Readable text from sanitised HTML: paragraphs and line breaks kept, links as "text <url>",
/// tags dropped, entities decoded.
pub fn html_to_text(html: &str) -> String {
    readable_text(html, true)
}

/// `html_to_text`, with links' addresses after their text or without them.
fn readable_text(html: &str, addresses: bool) -> String {
    let mut out = String::new();
    let mut rest = html;
    let mut href: Option<String> = None;
    while let Some(start) = rest.find('<') {
        out.push_str(&decode(&rest[..start]));
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start + 1..start + end];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let closing = tag.starts_with('/');
        match (name.as_str(), closing) {
            ("br", _) => out.push('\n'),
            (
                "p" | "div" | "blockquote" | "pre" | "ul" | "ol" | "h1" | "h2" | "h3" | "h4"
                | "table" | "tr",
                true,
            ) => out.push_str("\n\n"),
            ("li", false) => out.push_str("\n- "),
            ("a", false) => {
                href = tag
                    .split("href=\"")
                    .nth(1)
                    .and_then(|h| h.split('"').next())
                    .map(decode);
            }
            ("a", true) => {
                if let Some(h) = href.take().filter(|_| addresses) {
                    out.push_str(&format!(" <{h}>"));
                }
            }
            _ => {}
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(&decode(rest));
    // At most one blank line in a row.
    let mut text = String::new();
    let mut blank = 0;
    for line in out.lines() {
        let line = line.trim_end();
        blank = if line.is_empty() { blank + 1 } else { 0 };
        if blank <= 1 {
            text.push_str(line);
            text.push('\n');
        }
    }
    text.trim().to_string()
}

fn decode(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_readable_text_with_links() {
        let html = "<p>Hi &amp; <strong>welcome</strong></p><p>See <a href=\"https://x.example/a?b=1&amp;c=2\" rel=\"nofollow\">the guide</a>.</p><ul><li>one</li><li>two</li></ul><pre><code>&lt;script&gt;</code></pre>";
        assert_eq!(
            html_to_text(html),
            "Hi & welcome\n\nSee the guide <https://x.example/a?b=1&c=2>.\n\n- one\n- two\n\n<script>"
        );
    }

    #[test]
    fn a_censored_posts_text_leaves_addresses_out() {
        let html = "<p>■■■■ at <a href=\"https://x.example/darn\">the shop</a></p>";
        assert_eq!(readable_text(html, false), "■■■■ at the shop");
    }

    #[test]
    fn relative_links_become_absolute() {
        assert_eq!(
            absolute_links(
                "<a href=\"/u/ada\">@ada</a><img src=\"/x.png\">",
                "https://f.example"
            ),
            "<a href=\"https://f.example/u/ada\">@ada</a><img src=\"https://f.example/x.png\">"
        );
    }
}
